//! The embedded store: the engine's persistence port ([`crate::engine::store::Store`]) on
//! fjall, a log-structured key-value store in pure Rust.
//!
//! Why fjall: a write is in the OS's hands when it returns, so a process killed with SIGKILL
//! loses nothing written, without an fsync; an fsync (`persist`) is a separate, explicit step,
//! which is what a sync policy needs; and a group commit of small records is where it is
//! fastest (`benches/store`, figures in `benches/RESULTS.md`).
//!
//! Every commit is one frame appended to the store's own journal (`journal.rs`) with one write;
//! the tables (fjall's keyspaces) catch up from the overlay (`overlay.rs`) now and then, and
//! only with what is still there by then. Most messages a kept session holds are
//! acknowledged within milliseconds and never reach the tables; one removed within the
//! commit that put it is not even written to the journal. When the journal has grown to
//! [`JOURNAL_MAX`], the tables take everything, are made durable, and the journal starts
//! again empty. Opening the store replays the journal into the tables first. The same
//! guarantees as fjall's own journal, for a fraction of the work per message: with
//! persistent subscribers that keep up, writing every held message into fjall cost
//! 0.34–0.40× of the in-memory rate, the journal 0.6× (`benches/RESULTS.md`).
//!
//! The directory is opened by one process at a time (fjall locks it); it holds a format
//! marker, and a directory of another format, or one that cannot be read, is refused with an
//! error that names it and says what to do. Nothing is ever discarded silently.

pub mod inspect;
mod journal;
pub mod options;
mod overlay;
pub mod records;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use crate::engine::store::{
    Change, Restored, Store, StoreError, StoredDelivery, StoredSession, RESIDENT,
};
use journal::{Journal, FRAME_HEADER};
use overlay::{Client, Op, Overlay, Slot, Under, Value};

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

/// The journal's length past which the tables take everything and it starts again (a
/// rotation): what a restart replays at most.
pub const JOURNAL_MAX: u64 = 32 << 20;
/// The overlay's values past which the tables take them (without a rotation): what the
/// overlay may cost in memory.
const OVERLAY_MAX: usize = 4 << 20;

/// The keyspaces.
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
    journal: Journal,
    overlay: Overlay,
    /// The frame being written, and where a PUBLISH is encoded on its way into it (kept for
    /// their allocations).
    frame: Vec<u8>,
    scratch: BytesMut,
    /// The journal's length that makes a rotation ([`JOURNAL_MAX`]; smaller in tests).
    journal_max: u64,
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
            Some(f) if &*f != records::FORMAT_1 => {
                return Err(StoreError(format!(
                    "{shown}: a store of format {:?}; this tern reads {:?}: use the tern that \
                     wrote it, or move the directory aside to start afresh",
                    String::from_utf8_lossy(&f),
                    String::from_utf8_lossy(records::FORMAT),
                )))
            }
            // New, or of the format before the journal (which has none to replay).
            _ => {
                keyspaces[META as usize]
                    .insert("format", records::FORMAT)
                    .map_err(|e| StoreError(format!("{shown}: cannot write: {e}")))?;
                db.persist(PersistMode::SyncAll)
                    .map_err(|e| StoreError(format!("{shown}: cannot write: {e}")))?;
            }
        }
        let mut store = DiskStore {
            path: path.to_owned(),
            db,
            keyspaces,
            journal: Journal::open(path).map_err(StoreError)?,
            overlay: Overlay::default(),
            frame: Vec::new(),
            scratch: BytesMut::new(),
            journal_max: JOURNAL_MAX,
            sync,
            last_sync: Instant::now(),
            max_bytes: None,
            size: None,
        };
        store.replay()?;
        Ok(store)
    }

    /// Opens the journal and replays it into the tables: flushed as the overlay fills (the
    /// journal still holds it all, and a replay over tables that hold part of it is
    /// harmless), made durable, and the journal emptied.
    fn replay(&mut self) -> Result<(), StoreError> {
        let mut frames = self.journal.frames().map_err(StoreError)?;
        let mut count = 0;
        while let Some(frame) = frames.next_frame() {
            count += 1;
            self.overlay.apply_frame(frame).map_err(|e| {
                StoreError(format!(
                    "{}: commit {count} of the journal: {e}; the store cannot be opened: move \
                     the data directory aside to start afresh, keeping it for inspection",
                    self.journal_path(),
                ))
            })?;
            if self.overlay.bytes() >= OVERLAY_MAX {
                self.flush(None)?;
            }
        }
        let torn = self.journal.resume(frames).map_err(StoreError)?;
        if torn > 0 {
            tracing::warn!(
                "{}: the journal ends with {torn} bytes of a commit cut short (a crash while it \
                 was written; nothing of it had been acknowledged): left out",
                self.journal_path(),
            );
        }
        if count > 0 || torn > 0 {
            self.rotate(true)?;
        }
        Ok(())
    }

    fn journal_path(&self) -> String {
        self.path.join("tern.journal").display().to_string()
    }

    /// The store with a limit on its size on disk (journal and tables).
    pub fn with_max_bytes(mut self, max_bytes: Option<u64>) -> DiskStore {
        self.max_bytes = max_bytes;
        self
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError(with_advice(format!("{}: {what}: {e}", self.path.display())))
    }

    /// Applies a commit's changes to the overlay, where a message removed by the commit that
    /// put it vanishes.
    fn apply(&mut self, changes: Vec<Change>) {
        let o = &mut self.overlay;
        for change in changes {
            match change {
                Change::PutSession(r) => {
                    let client_id = r.client_id.clone();
                    o.put(
                        &client_id,
                        Under::Session,
                        Op::Value(Value::Session(r)),
                        false,
                    )
                }
                Change::DeleteSession(client_id) => o.clear(&client_id),
                Change::PutMessage {
                    client_id,
                    seq,
                    state,
                    delivery,
                    fresh,
                } => {
                    let value = Op::Value(Value::Held(state, delivery));
                    o.put(&client_id, Under::Message(seq), value, fresh)
                }
                Change::DeleteMessage { client_id, seq } => {
                    o.remove(&client_id, Under::Message(seq))
                }
                Change::PutInbound {
                    client_id,
                    packet_id,
                } => {
                    let value = Op::Value(Value::Inbound);
                    o.put(&client_id, Under::Inbound(packet_id), value, false)
                }
                Change::DeleteInbound {
                    client_id,
                    packet_id,
                } => o.remove(&client_id, Under::Inbound(packet_id)),
                Change::PutSubscription {
                    client_id,
                    filter,
                    subscription,
                } => {
                    let under = Under::Subscription(filter.as_str().into());
                    let value = Op::Value(Value::Subscription(filter, subscription));
                    o.put(&client_id, under, value, false)
                }
                Change::DeleteSubscription { client_id, filter } => {
                    o.remove(&client_id, Under::Subscription(filter.as_str().into()))
                }
                Change::PutRetained(stored) => {
                    let topic = stored.message.topic.as_byte_string().clone();
                    o.put_retained(&topic, Op::Value(Value::Retained(stored)))
                }
                Change::DeleteRetained(topic) => o.remove_retained(topic.as_byte_string()),
            }
        }
    }

    /// Writes what the overlay holds (of `client`, or all of it) into the tables, through
    /// the OS; the journal still holds it all.
    fn flush(&mut self, client: Option<&str>) -> Result<(), StoreError> {
        let (clients, retained) = match client {
            Some(client) => (
                self.overlay.take_client(client).into_iter().collect(),
                vec![],
            ),
            None => self.overlay.take_all(),
        };
        if clients.is_empty() && retained.is_empty() {
            return Ok(());
        }
        let mut batch = self.db.batch();
        for (client_id, client) in clients {
            self.flush_client(&mut batch, &client_id, client)?;
        }
        let keyspace = &self.keyspaces[RETAINED as usize];
        for (topic, slot) in retained {
            match bytes_of(slot.op) {
                Some(value) => batch.insert(keyspace, topic.as_bytes().as_ref(), value),
                None => batch.remove(keyspace, topic.as_bytes().as_ref()),
            }
        }
        batch.commit().map_err(|e| self.error("cannot write", e))
    }

    /// A session's part of a flush: the batch names no key twice (fjall gives all of a
    /// batch's writes one sequence number, so which of two would win is not defined).
    fn flush_client(
        &self,
        batch: &mut fjall::OwnedWriteBatch,
        client_id: &str,
        client: Client,
    ) -> Result<(), StoreError> {
        let mut writes = Vec::with_capacity(client.slots.len());
        for (under, Slot { op, fresh, .. }) in client.slots {
            let (ks, key) = match under {
                Under::Session => (SESSIONS, client_id.as_bytes().to_vec()),
                Under::Subscription(filter) => {
                    (SUBSCRIPTIONS, records::subscription_key(client_id, &filter))
                }
                Under::Message(seq) => (
                    MESSAGES,
                    records::numbered_key(client_id, &seq.to_be_bytes()),
                ),
                Under::Inbound(id) => {
                    (INBOUND, records::numbered_key(client_id, &id.to_be_bytes()))
                }
            };
            match bytes_of(op) {
                Some(value) => writes.push((ks, key, Some(value))),
                // Under a clear, the scan below removes what the tables hold.
                None if !fresh && !client.cleared => writes.push((ks, key, None)),
                None => {}
            }
        }
        if client.cleared {
            let put: HashSet<(u8, &[u8])> = writes
                .iter()
                .filter(|(_, _, v)| v.is_some())
                .map(|(ks, key, _)| (*ks, key.as_slice()))
                .collect();
            let prefix = records::session_prefix(client_id);
            for ks in UNDER_SESSION {
                let keyspace = &self.keyspaces[ks as usize];
                for kv in keyspace.prefix(&prefix) {
                    let key = kv.key().map_err(|e| self.error("reading", e))?;
                    if !put.contains(&(ks, &*key)) {
                        batch.remove(keyspace, key.to_vec());
                    }
                }
            }
            if !put.contains(&(SESSIONS, client_id.as_bytes())) {
                batch.remove(&self.keyspaces[SESSIONS as usize], client_id.as_bytes());
            }
        }
        for (ks, key, value) in writes {
            let keyspace = &self.keyspaces[ks as usize];
            match value {
                Some(value) => batch.insert(keyspace, key, value),
                None => batch.remove(keyspace, key),
            }
        }
        Ok(())
    }

    /// The tables take everything and are made durable (unless the policy leaves that to the
    /// OS); then the journal starts again, empty.
    fn rotate(&mut self, force_sync: bool) -> Result<(), StoreError> {
        self.flush(None)?;
        let sync = force_sync || self.sync != SyncPolicy::Os;
        if sync {
            self.db
                .persist(PersistMode::SyncAll)
                .map_err(|e| self.error("cannot sync", e))?;
        }
        let epoch = self.journal.epoch() + 1;
        self.journal.rotate(epoch, sync).map_err(StoreError)
    }
}

/// A store error, with what to do when it says the disk is full.
pub(crate) fn with_advice(message: String) -> String {
    // The OS's words for ENOSPC, as std and fjall pass them on.
    if !message.contains("No space left on device") {
        return message;
    }
    format!(
        "{message}: the disk is full. Nothing unwritten was acknowledged; free space on it, \
         then start the broker again (it resumes from what was written), and keep the store \
         below the disk's size with [storage] max_disk_bytes"
    )
}

/// What a key's value is in the tables; `None`: removed.
fn bytes_of(op: Op) -> Option<Vec<u8>> {
    match op {
        Op::Put(bytes) => Some(bytes),
        Op::Value(value) => {
            let mut out = Vec::new();
            encode(&value, &mut out, &mut BytesMut::new());
            Some(out)
        }
        Op::Remove => None,
    }
}

/// Appends a value's bytes to `out` (`scratch`: see [`records::write_message`]).
fn encode(value: &Value, out: &mut Vec<u8>, scratch: &mut BytesMut) {
    match value {
        Value::Session(r) => out.extend_from_slice(&records::session_value(r)),
        Value::Held(state, delivery) => records::write_delivery(out, scratch, *state, delivery),
        Value::Inbound => {}
        Value::Subscription(filter, subscription) => {
            out.extend_from_slice(&records::subscription_value(filter, subscription))
        }
        Value::Retained(stored) => {
            records::write_message(out, scratch, &stored.message, stored.expires_at)
        }
    }
}

/// A session being read back, and how many of its queued messages were read whole.
struct Loading {
    stored: StoredSession,
    queued_seen: usize,
}

impl Store for DiskStore {
    fn commit(&mut self, changes: Vec<Change>) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        self.apply(changes);
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        frame.resize(FRAME_HEADER, 0);
        let scratch = &mut self.scratch;
        self.overlay
            .write_frame(&mut frame, |value, out| encode(value, out, scratch));
        let written = frame.len() > FRAME_HEADER;
        let appended = match written {
            true => self.journal.append(&mut frame),
            false => Ok(()),
        };
        // Kept for its allocation, unless a burst made it large.
        if frame.capacity() <= 1 << 20 {
            self.frame = frame;
        }
        appended.map_err(StoreError)?;
        let sync = match self.sync {
            SyncPolicy::Always => written,
            SyncPolicy::Interval(every) => self.last_sync.elapsed() >= every,
            SyncPolicy::Os => false,
        };
        if sync {
            self.journal.sync().map_err(StoreError)?;
            self.last_sync = Instant::now();
        }
        if self.journal.len() >= self.journal_max {
            self.rotate(false)?;
        } else if self.overlay.bytes() >= OVERLAY_MAX {
            self.flush(None)?;
        }
        Ok(())
    }

    fn load_queued(
        &mut self,
        client_id: &str,
        from: u64,
        max: usize,
    ) -> Result<Vec<(u64, StoredDelivery)>, StoreError> {
        // The tables hold everything of the session first.
        if self.overlay.has(client_id) {
            self.flush(Some(client_id))?;
        }
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
        self.disk_bytes().is_some_and(|bytes| bytes > max)
    }

    /// The tables' files and the journal, measured at most once a second.
    fn disk_bytes(&mut self) -> Option<u64> {
        let stale = self.size.is_none_or(|(_, at)| at.elapsed() >= SIZE_CHECK);
        if stale {
            match self.db.disk_space() {
                Ok(bytes) => self.size = Some((bytes + self.journal.len(), Instant::now())),
                Err(e) => tracing::warn!("{}: cannot measure the store: {e}", self.path.display()),
            }
        }
        self.size.map(|(bytes, _)| bytes)
    }

    fn load(&mut self) -> Result<Restored, StoreError> {
        // The tables hold everything first (at a start, the overlay is empty anyway).
        self.flush(None)?;
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
