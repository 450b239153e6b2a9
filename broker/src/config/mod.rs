//! The broker's configuration, read from a TOML file.
//!
//! Every key has a default, so an empty file (or no file) is a working configuration, and a
//! partial file changes only what it names. An unknown key is an error, never ignored. Every
//! error names the offending key as a dotted path (`limits.max_packet_size`,
//! `listener[0].bind`), whether the file could not be deserialized (unknown key, wrong type) or
//! a value is outside its range ([`Config::validate`]).
//!
//! [`default_config_toml`] is a complete, commented configuration file holding every key with
//! its default value; tests check that it parses to [`Config::default`] and that it mentions
//! every key of [`Config`], so the documentation cannot drift from the code.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::codec::VARINT_MAX;

mod sections;
mod validate;

pub use sections::{Limits, Log, LogFormat, Mqtt, OfflineQueuePolicy};
// The sections that the lower floors consume are their own types: the configuration embeds
// them, so that a listener's or `[auth]`'s keys are spelled where they are used.
pub use crate::auth::options::{AclDefault, Auth, Jwt, JwtAlgorithm, MAX_FAILED_LOGIN_DELAY_MS};
pub use crate::server::grpc::options::Grpc;
pub use crate::server::http::options::Http;
pub use crate::server::options::{
    CertIdentity, ClientAuth, Listener, ProtocolVersion, ProxyProtocol, Tls, TlsVersion, Transport,
    DEFAULT_SOCKET_MODE,
};
pub use crate::store::options::{Storage, StorageMode, Sync as StorageSync};

/// The commented default configuration file, `broker/src/config/default-config.toml`.
const DEFAULT_CONFIG_TOML: &str = include_str!("default-config.toml");

/// A complete configuration file in which every key appears with its default value and a
/// comment explaining it (`tern default-config` prints it). Parsing it gives
/// [`Config::default`].
pub fn default_config_toml() -> &'static str {
    DEFAULT_CONFIG_TOML
}

/// Smallest accepted `limits.max_packet_size`.
pub const MIN_PACKET_SIZE: u32 = 16;
/// Largest accepted `limits.max_packet_size`: the largest Remaining Length plus the five bytes
/// of the largest fixed header.
pub const MAX_PACKET_SIZE: u32 = VARINT_MAX + 5;
/// Every server must accept client identifiers of 1 to 23 bytes [MQTT-3.1.3-5], so
/// `limits.max_client_id_len` cannot be lower.
pub const MIN_CLIENT_ID_LEN: u16 = 23;

/// The whole configuration of a broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The listeners, `[[listener]]` in the file. At least one is required. Default: one plain
    /// TCP listener on `0.0.0.0:1883`. `tern start --listen ADDR` replaces them all.
    #[serde(rename = "listener")]
    pub listeners: Vec<Listener>,
    /// `[limits]`: the ceilings on connections, packets, windows and queues.
    pub limits: Limits,
    /// `[mqtt]`: which optional MQTT features are available.
    pub mqtt: Mqtt,
    /// `[auth]`: authentication.
    pub auth: Auth,
    /// `[storage]`: whether and where state is kept across restarts.
    pub storage: Storage,
    /// `[http]`: health checks and Prometheus metrics over HTTP.
    pub http: Http,
    /// `[grpc]`: the gRPC publish/subscribe API.
    pub grpc: Grpc,
    /// `[log]`: logging.
    pub log: Log,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listeners: vec![Listener::default()],
            limits: Limits::default(),
            mqtt: Mqtt::default(),
            auth: Auth::default(),
            storage: Storage::default(),
            http: Http::default(),
            grpc: Grpc::default(),
            log: Log::default(),
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not TOML. No key can be named; the position can.
    #[error("TOML syntax error at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A key is unknown, has the wrong type, or a value is out of range.
    #[error("{key}: {message}")]
    Invalid {
        /// The dotted path of the key: `limits.max_packet_size`, `listener[0].bind`.
        key: String,
        message: String,
    },
}

impl ConfigError {
    /// The dotted path of the offending key, where there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }

    /// An error naming `key`, for the checks of a configuration made outside this module
    /// (the wiring's pre-flight).
    pub fn invalid(key: impl Into<String>, message: impl fmt::Display) -> ConfigError {
        ConfigError::Invalid {
            key: key.into(),
            message: message.to_string(),
        }
    }
}

impl Config {
    /// Parse and validate a configuration file's text.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let deserializer = toml::de::Deserializer::parse(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Syntax {
                line,
                column,
                message: e.message().trim_end().to_owned(),
            }
        })?;
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let key = e.path().to_string();
            // An error about the document as a whole has an empty path, shown as ".".
            let key = if key == "." {
                "(top level)".into()
            } else {
                key
            };
            ConfigError::invalid(key, e.inner().message().trim_end())
        })?;
        config.validate()?;
        // A file is for `tern start`: a broker that nothing can reach is a mistake there. A
        // configuration built in code may have no way in from outside (`crate::embed`: the
        // application's own clients connect in-process).
        if config.listeners.is_empty() && !config.grpc.enabled {
            return Err(ConfigError::invalid(
                "listener",
                "at least one [[listener]] is required (or [grpc] enabled)",
            ));
        }
        Ok(config)
    }

    /// Read, parse and validate the configuration file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml_str(&text)
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests;
