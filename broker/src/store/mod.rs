//! The embedded store: the engine's persistence port ([`crate::engine::store::Store`]) on
//! fjall, a log-structured key-value store in pure Rust.
//!
//! Why fjall: every commit is written to its journal through the OS before `commit` returns,
//! so a process killed with SIGKILL loses nothing it committed, without an fsync; an fsync
//! (`persist`) is a separate, explicit step, which is what a sync policy needs; and a group
//! commit of small records is where it is fastest (`benches/store`, figures in
//! `benches/RESULTS.md`).
//!
//! One commit per batch of changes, atomic across the keyspaces. A message that entered a
//! session and left it again within the batch (delivered and acknowledged before the store
//! got to it) is not written at all. Within a batch, changes are
//! folded per key first (the last one wins; a session's end removes its subscriptions, held
//! messages and inbound identifiers, both those already written and those of the same
//! batch), so the batch never names a key twice.
//!
//! The directory is opened by one process at a time (fjall locks it); it holds a format
//! marker, and a directory of another format, or one that cannot be read, is refused with an
//! error that names it and says what to do. Nothing is ever discarded silently.

pub mod inspect;
pub mod options;
pub mod records;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use crate::engine::store::{
    Change, Held, Restored, Store, StoreError, StoredDelivery, StoredSession, RESIDENT,
};

/// When commits are made durable against a power loss (every commit is durable against a
/// crash of the process: it is in the OS's hands when `commit` returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPolicy {
    /// fsync after every commit: nothing acknowledged is lost even on a power loss.
    Always,
    /// fsync at most this often, after a commit: a power loss loses at most this much.
    Interval(Duration),
    /// Never fsync: the OS writes back when it likes (typically within 30 s on Linux).
    Os,
}

/// How often the store's size is measured against its limit, at most.
const SIZE_CHECK: Duration = Duration::from_secs(1);

/// fjall's block cache.
const CACHE: u64 = 8 << 20;
/// One keyspace's memtable, at most, before it is flushed to a table.
const MEMTABLE: u64 = 8 << 20;

/// The keyspaces, by their number in a folded batch.
const META: u8 = 0;
const SESSIONS: u8 = 1;
const SUBSCRIPTIONS: u8 = 2;
const RETAINED: u8 = 3;
const MESSAGES: u8 = 4;
const INBOUND: u8 = 5;

/// The keyspaces whose keys start with a client identifier and 0x00: what a session's end
/// removes with it.
const UNDER_SESSION: [u8; 3] = [SUBSCRIPTIONS, MESSAGES, INBOUND];

/// The store in a directory.
pub struct DiskStore {
    path: PathBuf,
    db: Database,
    keyspaces: [Keyspace; 6],
    sync: SyncPolicy,
    last_sync: Instant,
    /// The most bytes on disk, if there is a limit, and the size last measured, when.
    max_bytes: Option<u64>,
    size: Option<(u64, Instant)>,
}

impl DiskStore {
    /// Opens the store in `path`, creating it if the directory is empty or absent.
    pub fn open(path: &Path, sync: SyncPolicy) -> Result<DiskStore, StoreError> {
        let shown = path.display();
        let fresh = match std::fs::read_dir(path) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => {
                return Err(StoreError(format!(
                    "{shown}: cannot read the data directory: {e}"
                )))
            }
        };
        if !fresh && !path.join("version").exists() && !path.join("keyspaces").exists() {
            return Err(StoreError(format!(
                "{shown}: the data directory holds files that are not a Tern store; \
                 give [storage] path an empty or new directory"
            )));
        }
        // Memory within bounds: the store holds little for long (messages come and go), so
        // small memtables and a small block cache do; fjall's defaults reach hundreds of MiB.
        let db = Database::builder(path).cache_size(CACHE).open();
        let db = db.map_err(|e| match e {
            fjall::Error::Locked => StoreError(format!(
                "{shown}: the data directory is in use by another process (a second broker?); \
                 stop it, or give this one another [storage] path"
            )),
            e => StoreError(format!(
                "{shown}: the store cannot be opened ({e}); it may be damaged or of another \
                 version: move it aside to start afresh, keeping it for inspection"
            )),
        })?;
        let open = |name: &str| {
            let options = || KeyspaceCreateOptions::default().max_memtable_size(MEMTABLE);
            db.keyspace(name, options)
                .map_err(|e| StoreError(format!("{shown}: keyspace {name}: {e}")))
        };
        let keyspaces = [
            open("meta")?,
            open("sessions")?,
            open("subscriptions")?,
            open("retained")?,
            open("messages")?,
            open("inbound")?,
        ];
        let format = keyspaces[META as usize]
            .get("format")
            .map_err(|e| StoreError(format!("{shown}: cannot read the format marker: {e}")))?;
        match format {
            Some(f) if &*f == records::FORMAT => {}
            Some(f) => {
                return Err(StoreError(format!(
                    "{shown}: a store of format {:?}; this tern reads {:?}: use the tern that \
                     wrote it, or move the directory aside to start afresh",
                    String::from_utf8_lossy(&f),
                    String::from_utf8_lossy(records::FORMAT),
                )))
            }
            None => {
                keyspaces[META as usize]
                    .insert("format", records::FORMAT)
                    .map_err(|e| StoreError(format!("{shown}: cannot write: {e}")))?;
                db.persist(PersistMode::SyncAll)
                    .map_err(|e| StoreError(format!("{shown}: cannot write: {e}")))?;
            }
        }
        Ok(DiskStore {
            path: path.to_owned(),
            db,
            keyspaces,
            sync,
            last_sync: Instant::now(),
            max_bytes: None,
            size: None,
        })
    }

    /// The store with a limit on its size on disk (journal and tables).
    pub fn with_max_bytes(mut self, max_bytes: Option<u64>) -> DiskStore {
        self.max_bytes = max_bytes;
        self
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError(format!("{}: {what}: {e}", self.path.display()))
    }

    /// Folds changes into one write or removal per key, in order. A held message's value is
    /// left to encode until it is known to be written (most are gone again within the batch
    /// when subscribers keep up).
    fn fold<'a>(&self, changes: &'a [Change]) -> Result<Folded<'a>, StoreError> {
        let mut folded = Folded::new();
        let put = |folded: &mut Folded<'a>, key, value| {
            folded.insert(
                key,
                Entry {
                    value,
                    fresh: false,
                },
            );
        };
        for change in changes {
            match change {
                Change::PutSession(r) => {
                    let key = (SESSIONS, r.client_id.as_bytes().to_vec());
                    put(&mut folded, key, Value::Bytes(records::session_value(r)));
                }
                Change::DeleteSession(client_id) => {
                    let key = (SESSIONS, client_id.as_bytes().to_vec());
                    put(&mut folded, key, Value::Remove);
                    let prefix = records::session_prefix(client_id);
                    for ks in UNDER_SESSION {
                        let mut keys: Vec<Vec<u8>> = folded
                            .range((ks, prefix.clone())..)
                            .take_while(|((k_ks, k), _)| *k_ks == ks && k.starts_with(&prefix))
                            .map(|((_, k), _)| k.clone())
                            .collect();
                        for kv in self.keyspaces[ks as usize].prefix(&prefix) {
                            let key = kv.key().map_err(|e| self.error("reading", e))?;
                            keys.push(key.to_vec());
                        }
                        for key in keys {
                            put(&mut folded, (ks, key), Value::Remove);
                        }
                    }
                }
                Change::PutMessage {
                    client_id,
                    seq,
                    state,
                    delivery,
                    fresh,
                } => {
                    let key = (
                        MESSAGES,
                        records::numbered_key(client_id, &seq.to_be_bytes()),
                    );
                    // Fresh if it entered its session within the batch, whatever came since.
                    let fresh = *fresh || folded.get(&key).is_some_and(|e| e.fresh);
                    let value = Value::Held(*state, delivery);
                    folded.insert(key, Entry { value, fresh });
                }
                Change::DeleteMessage { client_id, seq } => {
                    let key = (
                        MESSAGES,
                        records::numbered_key(client_id, &seq.to_be_bytes()),
                    );
                    if folded.get(&key).is_some_and(|e| e.fresh) {
                        // Came and went within the batch: never written, nothing to remove.
                        folded.remove(&key);
                    } else {
                        put(&mut folded, key, Value::Remove);
                    }
                }
                Change::PutInbound {
                    client_id,
                    packet_id,
                } => {
                    let key = records::numbered_key(client_id, &packet_id.to_be_bytes());
                    put(&mut folded, (INBOUND, key), Value::Bytes(Vec::new()));
                }
                Change::DeleteInbound {
                    client_id,
                    packet_id,
                } => {
                    let key = records::numbered_key(client_id, &packet_id.to_be_bytes());
                    put(&mut folded, (INBOUND, key), Value::Remove);
                }
                Change::PutSubscription {
                    client_id,
                    filter,
                    subscription,
                } => {
                    let key = records::subscription_key(client_id, filter.as_str());
                    let value = records::subscription_value(filter, subscription);
                    put(&mut folded, (SUBSCRIPTIONS, key), Value::Bytes(value));
                }
                Change::DeleteSubscription { client_id, filter } => {
                    let key = records::subscription_key(client_id, filter.as_str());
                    put(&mut folded, (SUBSCRIPTIONS, key), Value::Remove);
                }
                Change::PutRetained(stored) => {
                    let key = stored.message.topic.as_str().as_bytes().to_vec();
                    let value = Value::Bytes(records::message_value(stored));
                    put(&mut folded, (RETAINED, key), value);
                }
                Change::DeleteRetained(topic) => {
                    let key = topic.as_str().as_bytes().to_vec();
                    put(&mut folded, (RETAINED, key), Value::Remove);
                }
            }
        }
        Ok(folded)
    }
}

/// A session being read back, and how many of its queued messages were read whole.
struct Loading {
    stored: StoredSession,
    queued_seen: usize,
}

/// A batch folded per key.
type Folded<'a> = BTreeMap<(u8, Vec<u8>), Entry<'a>>;

/// What a folded batch does to a key, and whether the key is a message that entered its
/// session within the batch (and so was never written before).
struct Entry<'a> {
    value: Value<'a>,
    fresh: bool,
}

/// What a key becomes.
enum Value<'a> {
    Remove,
    Bytes(Vec<u8>),
    /// A held message, encoded only if it is written.
    Held(Held, &'a StoredDelivery),
}

impl Store for DiskStore {
    fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let folded = self.fold(changes)?;
        let mut batch = self.db.batch();
        for ((ks, key), entry) in folded {
            let keyspace = &self.keyspaces[ks as usize];
            match entry.value {
                Value::Bytes(value) => batch.insert(keyspace, key, value),
                Value::Held(state, delivery) => {
                    batch.insert(keyspace, key, records::delivery_value(state, delivery))
                }
                Value::Remove => batch.remove(keyspace, key),
            }
        }
        batch.commit().map_err(|e| self.error("cannot write", e))?;
        let sync = match self.sync {
            SyncPolicy::Always => true,
            SyncPolicy::Interval(every) => self.last_sync.elapsed() >= every,
            SyncPolicy::Os => false,
        };
        if sync {
            self.db
                .persist(PersistMode::SyncData)
                .map_err(|e| self.error("cannot sync", e))?;
            self.last_sync = Instant::now();
        }
        Ok(())
    }

    fn load_queued(
        &mut self,
        client_id: &str,
        from: u64,
        max: usize,
    ) -> Result<Vec<(u64, StoredDelivery)>, StoreError> {
        let prefix = records::session_prefix(client_id);
        let start = records::numbered_key(client_id, &from.to_be_bytes());
        let mut out = Vec::new();
        for kv in self.keyspaces[MESSAGES as usize].range(start..) {
            let (key, value) = kv.into_inner().map_err(|e| self.error("reading", e))?;
            if !key.starts_with(&prefix) || out.len() >= max {
                break;
            }
            if !records::is_queued(&value) {
                continue;
            }
            let seq = key[prefix.len()..]
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| self.error("a message", format!("{client_id:?}: a bad key")))?;
            let (_, delivery) = records::read_delivery(&value)
                .map_err(|e| self.error("a message", format!("{client_id:?}: {e}")))?;
            out.push((seq, delivery));
        }
        Ok(out)
    }

    /// Measured at most once a second: the size is the sum of the files' sizes.
    fn is_full(&mut self) -> bool {
        let Some(max) = self.max_bytes else {
            return false;
        };
        let stale = self.size.is_none_or(|(_, at)| at.elapsed() >= SIZE_CHECK);
        if stale {
            match self.db.disk_space() {
                Ok(bytes) => self.size = Some((bytes, Instant::now())),
                Err(e) => tracing::warn!("{}: cannot measure the store: {e}", self.path.display()),
            }
        }
        self.size.is_some_and(|(bytes, _)| bytes > max)
    }

    fn load(&mut self) -> Result<Restored, StoreError> {
        let mut sessions: BTreeMap<Vec<u8>, Loading> = BTreeMap::new();
        for kv in self.keyspaces[SESSIONS as usize].iter() {
            let (key, value) = kv.into_inner().map_err(|e| self.error("reading", e))?;
            let record =
                records::read_session(&key, &value).map_err(|e| self.error("a session", e))?;
            let stored = StoredSession {
                record,
                subscriptions: Vec::new(),
                messages: Vec::new(),
                spilled: Vec::new(),
                inbound: Vec::new(),
            };
            let queued_seen = 0;
            sessions.insert(
                key.to_vec(),
                Loading {
                    stored,
                    queued_seen,
                },
            );
        }
        for kv in self.keyspaces[SUBSCRIPTIONS as usize].iter() {
            let (key, value) = kv.into_inner().map_err(|e| self.error("reading", e))?;
            let (client_id, filter, subscription) = records::read_subscription(&key, &value)
                .map_err(|e| self.error("a subscription", e))?;
            match sessions.get_mut(client_id.as_bytes().as_ref()) {
                Some(s) => s.stored.subscriptions.push((filter, subscription)),
                None => {
                    return Err(self.error(
                        "a subscription",
                        format!("{client_id:?} has a subscription and no session"),
                    ))
                }
            }
        }
        // Keys in order: each session's messages come by number.
        for kv in self.keyspaces[MESSAGES as usize].iter() {
            let (key, value) = kv.into_inner().map_err(|e| self.error("reading", e))?;
            let (client_id, n) =
                records::split_key(&key).map_err(|e| self.error("a message", e))?;
            let seq = <[u8; 8]>::try_from(n)
                .map(u64::from_be_bytes)
                .map_err(|_| {
                    self.error(
                        "a message",
                        format!("{client_id:?}: a key of {} bytes", key.len()),
                    )
                })?;
            let session = sessions
                .get_mut(client_id.as_bytes().as_ref())
                .ok_or_else(|| {
                    self.error(
                        "a message",
                        format!("{client_id:?} holds a message and has no session"),
                    )
                })?;
            // Past the first queued messages, only the number and size: the rest stays on
            // disk until the client drains its queue.
            let queued = records::is_queued(&value);
            if queued && (session.queued_seen >= RESIDENT || !session.stored.spilled.is_empty()) {
                session.stored.spilled.push((seq, value.len()));
                continue;
            }
            session.queued_seen += usize::from(queued);
            let (state, delivery) = records::read_delivery(&value)
                .map_err(|e| self.error("a message", format!("{client_id:?}: {e}")))?;
            session.stored.messages.push((seq, state, delivery));
        }
        for kv in self.keyspaces[INBOUND as usize].iter() {
            let key = kv.key().map_err(|e| self.error("reading", e))?;
            let (client_id, n) =
                records::split_key(&key).map_err(|e| self.error("an inbound identifier", e))?;
            let id = <[u8; 2]>::try_from(n)
                .map(u16::from_be_bytes)
                .ok()
                .filter(|&id| id != 0)
                .ok_or_else(|| {
                    self.error("an inbound identifier", format!("{client_id:?}: {n:?}"))
                })?;
            let session = sessions
                .get_mut(client_id.as_bytes().as_ref())
                .ok_or_else(|| {
                    self.error(
                        "an inbound identifier",
                        format!("{client_id:?} has no session"),
                    )
                })?;
            session.stored.inbound.push(id);
        }
        let mut retained = Vec::new();
        for kv in self.keyspaces[RETAINED as usize].iter() {
            let (_, value) = kv.into_inner().map_err(|e| self.error("reading", e))?;
            retained.push(
                records::read_message(&value).map_err(|e| self.error("a retained message", e))?,
            );
        }
        Ok(Restored {
            sessions: sessions.into_values().map(|l| l.stored).collect(),
            retained,
        })
    }
}

#[cfg(test)]
mod tests;
