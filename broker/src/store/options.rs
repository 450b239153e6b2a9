//! `[storage]` as the configuration file spells it: where and how the broker keeps its state.
//! The configuration (`crate::config`) embeds this type; the wiring opens the store it names.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::SyncPolicy;

/// `[storage]`: whether sessions and retained messages outlive the process, where, and when
/// they are made durable against a power loss.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    /// `"disk"` (the default) or `"memory"` (nothing outlives the process). `"disk"`: sessions
    /// that outlive their connection, their subscriptions, the QoS 1/2 messages they hold,
    /// their inbound QoS 2 state and wills, and the retained messages are kept in `path`, and
    /// acknowledged only once written.
    pub mode: StorageMode,
    /// The data directory, relative to the working directory (default `tern-data`), created if
    /// absent. One broker at a time: a second one is refused.
    pub path: PathBuf,
    /// When writes are made durable against a power loss: `"always"` (an fsync in every
    /// commit), `"interval"` (the default: at most every `sync_interval_ms`), `"os"` (never:
    /// the OS writes back when it likes). Every commit survives a crash of the process
    /// (kill -9) whatever this says.
    pub sync: Sync,
    /// With `sync = "interval"`: the longest time, in milliseconds, between fsyncs (default
    /// 1000), the most a power loss can take.
    pub sync_interval_ms: u32,
    /// The most bytes the data directory may take (its journal and tables), 0 for no limit
    /// (the default). Over it, nothing new is kept until it is back under (the size is
    /// measured after commits, at most once a second): a CONNECT that would start a kept
    /// session gets CONNACK 0x97 Quota exceeded (3.x: 0x03), a message for an offline kept
    /// session is dropped as a full queue drops it, and a retained message for a new topic is
    /// not kept; each logged and counted. What is kept already goes on.
    pub max_disk_bytes: u64,
}

impl Default for Storage {
    fn default() -> Storage {
        Storage {
            mode: StorageMode::Disk,
            path: PathBuf::from("tern-data"),
            sync: Sync::Interval,
            sync_interval_ms: 1000,
            max_disk_bytes: 0,
        }
    }
}

impl Storage {
    /// The sync policy these keys describe.
    pub fn sync_policy(&self) -> SyncPolicy {
        match self.sync {
            Sync::Always => SyncPolicy::Always,
            Sync::Interval => {
                SyncPolicy::Interval(Duration::from_millis(u64::from(self.sync_interval_ms)))
            }
            Sync::Os => SyncPolicy::Os,
        }
    }
}

/// `storage.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageMode {
    Memory,
    #[default]
    Disk,
}

/// `storage.sync`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sync {
    Always,
    #[default]
    Interval,
    Os,
}
