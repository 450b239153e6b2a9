//! The overlay: what the journal (`journal.rs`) holds that the tables do not yet, key by key,
//! and the journal's record format.
//!
//! A commit applies its changes here, then writes what they did to the journal as one frame
//! ([`Overlay::write_frame`]). A message that is put and removed before it reaches the tables
//! never reaches them: removed within the batch that put it, it is not even written to the
//! journal; removed later, the journal gets its removal and the overlay forgets it. What is
//! left is flushed into the tables from time to time (`DiskStore::flush`), and the overlay is
//! empty again.
//!
//! Replaying a journal over tables that already hold some of it is harmless: every record is a
//! write of a key's whole value (or its removal, or the removal of everything under a
//! session), so a key ends as the journal's last record for it says, whatever the tables held
//! before. That is why the overlay can be flushed at any time without touching the journal,
//! and why a crash between a flush and the journal's rotation loses nothing.
//!
//! Records, one after another in a frame's payload:
//! - `0`, client: everything of that session is removed (its session record, subscriptions,
//!   messages, inbound identifiers);
//! - `1`, key, value (u32 length, bytes): the key's value;
//! - `2`, key: the key removed;
//!
//! where a key is a kind and its parts: `s` client (the session), `b` client filter (a
//! subscription), `m` client u64 (a held message), `i` client u16 (an inbound QoS 2 identifier),
//! `r` topic (a retained message); strings with a u16 length, numbers little-endian.

use std::collections::hash_map::Entry;
use std::hash::Hash;

use ahash::AHashMap;
use bytestring::ByteString;

use crate::codec::TopicFilter;
use crate::engine::store::{Held, SessionRecord, StoredDelivery, StoredMessage};
use crate::router::Subscription;

/// A key of a session's, after its client identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Under {
    /// The session's own record.
    Session,
    Subscription(ByteString),
    Message(u64),
    Inbound(u16),
}

/// What a key is to be.
#[derive(Debug)]
pub enum Op {
    /// The value a commit's change gave it, encoded when it is written (into the journal's
    /// frame directly, and again only if it is flushed).
    Value(Value),
    /// This value, encoded (read back from the journal).
    Put(Vec<u8>),
    Remove,
}

/// A value as the engine gave it.
#[derive(Debug)]
pub enum Value {
    Session(SessionRecord),
    Subscription(TopicFilter, Subscription),
    Held(Held, StoredDelivery),
    Inbound,
    Retained(StoredMessage),
}

impl Value {
    /// About what it costs in memory (its slot, the message it keeps alive): what the
    /// overlay's bound counts.
    fn size(&self) -> usize {
        match self {
            Value::Held(_, d) => {
                let m = &d.delivery.message;
                256 + m.topic.len() + m.payload.len()
            }
            Value::Retained(r) => 256 + r.message.topic.len() + r.message.payload.len(),
            _ => 128,
        }
    }
}

/// A key's state in the overlay.
#[derive(Debug)]
pub struct Slot {
    pub op: Op,
    /// The tables do not hold the key (a message numbered since the last flush): its removal
    /// need not reach them.
    pub fresh: bool,
    /// Changed by the commit under way, not yet written to the journal.
    dirty: bool,
    /// The journal holds a record of the key: its removal must be written there too.
    in_journal: bool,
}

/// A session's keys in the overlay.
#[derive(Debug, Default)]
pub struct Client {
    /// Everything of the session is to be removed from the tables before the slots apply.
    pub cleared: bool,
    clear_dirty: bool,
    pub slots: AHashMap<Under, Slot>,
}

/// What the journal holds that the tables do not.
#[derive(Default)]
pub struct Overlay {
    /// Sessions' keys, found by client identifier through `index`.
    clients: Vec<(ByteString, Client)>,
    index: AHashMap<ByteString, usize>,
    /// The session last looked up: a commit's changes come in runs of one session's.
    last: Option<usize>,
    retained: AHashMap<ByteString, Slot>,
    /// The keys the commit under way changed, in order, and the sessions it cleared.
    touched: Vec<Touched>,
    clears: Vec<usize>,
    /// The bytes of the values held.
    bytes: usize,
}

/// A key a commit changed: a session's (by its place in `clients`), or a retained topic.
enum Touched {
    Client(usize, Under),
    Retained(ByteString),
}

/// What is to be flushed: sessions' keys and retained messages.
pub type Drained = (Vec<(ByteString, Client)>, Vec<(ByteString, Slot)>);

impl Overlay {
    /// The bytes of the values held: what a flush would write, and what the overlay costs.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether it holds anything of `client`.
    pub fn has(&self, client: &str) -> bool {
        self.index.contains_key(client)
    }

    /// The place of `client`'s keys, made if need be.
    fn client(&mut self, client: &ByteString) -> usize {
        if let Some(i) = self.last.filter(|&i| self.clients[i].0 == *client) {
            return i;
        }
        let i = match self.index.get(client) {
            Some(&i) => i,
            None => {
                self.clients.push((client.clone(), Client::default()));
                self.index.insert(client.clone(), self.clients.len() - 1);
                self.clients.len() - 1
            }
        };
        self.last = Some(i);
        i
    }

    /// A key of `client`'s session set to `op`; `fresh`: the tables cannot hold it.
    pub fn put(&mut self, client: &ByteString, under: Under, op: Op, fresh: bool) {
        let i = self.client(client);
        let c = &mut self.clients[i].1;
        let fresh = fresh || c.cleared;
        self.bytes += size(&op);
        let (newly, freed) = put_in(&mut c.slots, under.clone(), op, fresh);
        self.bytes -= freed;
        if newly {
            self.touched.push(Touched::Client(i, under));
        }
    }

    /// A key of `client`'s session removed.
    pub fn remove(&mut self, client: &ByteString, under: Under) {
        let i = self.client(client);
        let c = &mut self.clients[i].1;
        let (newly, freed) = remove_in(&mut c.slots, under.clone(), c.cleared);
        self.bytes -= freed;
        if newly {
            self.touched.push(Touched::Client(i, under));
        }
    }

    /// Everything of `client`'s session removed.
    pub fn clear(&mut self, client: &ByteString) {
        let i = self.client(client);
        let c = &mut self.clients[i].1;
        self.bytes -= c.slots.values().map(|s| size(&s.op)).sum::<usize>();
        c.slots.clear();
        c.cleared = true;
        if !c.clear_dirty {
            c.clear_dirty = true;
            self.clears.push(i);
        }
    }

    /// The retained message of `topic` set.
    pub fn put_retained(&mut self, topic: &ByteString, op: Op) {
        self.bytes += size(&op);
        let (newly, freed) = put_in(&mut self.retained, topic.clone(), op, false);
        self.bytes -= freed;
        if newly {
            self.touched.push(Touched::Retained(topic.clone()));
        }
    }

    /// The retained message of `topic` removed.
    pub fn remove_retained(&mut self, topic: &ByteString) {
        let (newly, freed) = remove_in(&mut self.retained, topic.clone(), false);
        self.bytes -= freed;
        if newly {
            self.touched.push(Touched::Retained(topic.clone()));
        }
    }

    /// Writes what the commit under way did as the records of a frame, appended to `frame`;
    /// `encode` appends a value's bytes.
    pub fn write_frame(
        &mut self,
        frame: &mut Vec<u8>,
        mut encode: impl FnMut(&Value, &mut Vec<u8>),
    ) {
        // Clears first: whatever the commit put under a session after clearing it follows.
        for i in self.clears.drain(..) {
            let (name, c) = &mut self.clients[i];
            if std::mem::take(&mut c.clear_dirty) {
                frame.push(0);
                string(frame, name);
            }
        }
        let mut touched = std::mem::take(&mut self.touched);
        for t in touched.drain(..) {
            let (name, under, slots) = match &t {
                Touched::Client(i, under) => {
                    let (name, c) = &mut self.clients[*i];
                    (&*name, Some(under), &mut c.slots as &mut dyn Slots)
                }
                Touched::Retained(topic) => (topic, None, &mut self.retained as &mut dyn Slots),
            };
            let Some(slot) = slots.slot(under, name).filter(|s| s.dirty) else {
                continue;
            };
            slot.dirty = false;
            slot.in_journal = true;
            match &slot.op {
                Op::Value(value) => {
                    frame.push(1);
                    key(frame, name, under);
                    let at = frame.len();
                    frame.extend_from_slice(&[0; 4]);
                    encode(value, frame);
                    let len = (frame.len() - at - 4) as u32;
                    frame[at..at + 4].copy_from_slice(&len.to_le_bytes());
                }
                Op::Put(value) => put_record(frame, name, under, value),
                Op::Remove => {
                    frame.push(2);
                    key(frame, name, under);
                    // The tables never had it: once its removal is in the journal (which
                    // holds its value too), nothing is left to do.
                    if slot.fresh {
                        slots.forget(under, name);
                    }
                }
            }
        }
        self.touched = touched;
    }

    /// Applies the records of a frame read back from the journal.
    pub fn apply_frame(&mut self, mut payload: &[u8]) -> Result<(), String> {
        let r = &mut payload;
        while !r.is_empty() {
            let kind = take(r, 1)?[0];
            if kind == 0 {
                let client = read_string(r)?;
                self.clear(&client);
                continue;
            }
            let (name, under) = read_key(r)?;
            match (kind, under) {
                (1, under) => {
                    let len = u32::from_le_bytes(take(r, 4)?.try_into().expect("4 bytes"));
                    let value = take(r, len as usize)?.to_vec();
                    match under {
                        Some(under) => self.put(&name, under, Op::Put(value), false),
                        None => self.put_retained(&name, Op::Put(value)),
                    }
                }
                (2, Some(under)) => self.remove(&name, under),
                (2, None) => self.remove_retained(&name),
                (kind, _) => return Err(format!("a journal record of unknown kind {kind}")),
            }
        }
        // Nothing of this is to be written again.
        self.touched.clear();
        self.clears.clear();
        Ok(())
    }

    /// Takes what it holds of `client`, to be flushed.
    pub fn take_client(&mut self, client: &str) -> Option<(ByteString, Client)> {
        let i = self.index.remove(client)?;
        let (name, c) = self.clients.swap_remove(i);
        if let Some((moved, _)) = self.clients.get(i) {
            self.index.insert(moved.clone(), i);
        }
        self.last = None;
        self.bytes -= c.slots.values().map(|s| size(&s.op)).sum::<usize>();
        Some((name, c))
    }

    /// Takes everything it holds, to be flushed; it is empty after.
    pub fn take_all(&mut self) -> Drained {
        self.bytes = 0;
        self.last = None;
        self.index.clear();
        let clients = std::mem::take(&mut self.clients);
        let retained = self.retained.drain().collect();
        (clients, retained)
    }
}

/// A map of slots, by `Under` (a session's) or by topic (the retained messages').
trait Slots {
    fn slot(&mut self, under: Option<&Under>, topic: &ByteString) -> Option<&mut Slot>;
    fn forget(&mut self, under: Option<&Under>, topic: &ByteString);
}

impl Slots for AHashMap<Under, Slot> {
    fn slot(&mut self, under: Option<&Under>, _: &ByteString) -> Option<&mut Slot> {
        self.get_mut(under?)
    }
    fn forget(&mut self, under: Option<&Under>, _: &ByteString) {
        if let Some(under) = under {
            self.remove(under);
        }
    }
}

impl Slots for AHashMap<ByteString, Slot> {
    fn slot(&mut self, _: Option<&Under>, topic: &ByteString) -> Option<&mut Slot> {
        self.get_mut(topic)
    }
    fn forget(&mut self, _: Option<&Under>, topic: &ByteString) {
        self.remove(topic);
    }
}

/// The bytes of a value held.
fn size(op: &Op) -> usize {
    match op {
        Op::Put(v) => 128 + v.len(),
        Op::Value(v) => v.size(),
        Op::Remove => 0,
    }
}

/// Sets a slot; whether it became dirty with this, and the bytes of the value it replaced.
fn put_in<K: Hash + Eq>(
    slots: &mut AHashMap<K, Slot>,
    key: K,
    op: Op,
    fresh: bool,
) -> (bool, usize) {
    match slots.entry(key) {
        Entry::Occupied(mut e) => {
            let slot = e.get_mut();
            let freed = size(&slot.op);
            slot.op = op;
            (!std::mem::replace(&mut slot.dirty, true), freed)
        }
        Entry::Vacant(e) => {
            e.insert(Slot {
                op,
                fresh,
                dirty: true,
                in_journal: false,
            });
            (true, 0)
        }
    }
}

/// Removes a key through its slot; whether the slot became dirty, and the bytes freed.
/// `cleared`: the session is cleared, so the tables lose the key anyway.
fn remove_in<K: Hash + Eq>(slots: &mut AHashMap<K, Slot>, key: K, cleared: bool) -> (bool, usize) {
    match slots.entry(key) {
        Entry::Occupied(mut e) => {
            let slot = e.get_mut();
            let freed = size(&slot.op);
            if slot.fresh && !slot.in_journal {
                // Came and went within the commit: written nowhere.
                e.remove();
                return (false, freed);
            }
            slot.op = Op::Remove;
            (!std::mem::replace(&mut slot.dirty, true), freed)
        }
        Entry::Vacant(_) if cleared => (false, 0),
        Entry::Vacant(e) => {
            e.insert(Slot {
                op: Op::Remove,
                fresh: false,
                dirty: true,
                in_journal: false,
            });
            (true, 0)
        }
    }
}

fn put_record(frame: &mut Vec<u8>, name: &str, under: Option<&Under>, value: &[u8]) {
    frame.push(1);
    key(frame, name, under);
    frame.extend_from_slice(&(value.len() as u32).to_le_bytes());
    frame.extend_from_slice(value);
}

fn string(frame: &mut Vec<u8>, s: &str) {
    // Client identifiers, filters and topics are MQTT strings: at most 65,535 bytes.
    frame.extend_from_slice(&(s.len() as u16).to_le_bytes());
    frame.extend_from_slice(s.as_bytes());
}

fn key(frame: &mut Vec<u8>, name: &str, under: Option<&Under>) {
    match under {
        None => {
            frame.push(b'r');
            string(frame, name);
        }
        Some(Under::Session) => {
            frame.push(b's');
            string(frame, name);
        }
        Some(Under::Subscription(filter)) => {
            frame.push(b'b');
            string(frame, name);
            string(frame, filter);
        }
        Some(Under::Message(seq)) => {
            frame.push(b'm');
            string(frame, name);
            frame.extend_from_slice(&seq.to_le_bytes());
        }
        Some(Under::Inbound(id)) => {
            frame.push(b'i');
            string(frame, name);
            frame.extend_from_slice(&id.to_le_bytes());
        }
    }
}

fn take<'a>(r: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if r.len() < n {
        return Err("a journal record cut short".into());
    }
    let (head, rest) = r.split_at(n);
    *r = rest;
    Ok(head)
}

fn read_string(r: &mut &[u8]) -> Result<ByteString, String> {
    let len = u16::from_le_bytes(take(r, 2)?.try_into().expect("2 bytes"));
    let bytes = take(r, usize::from(len))?;
    let s = std::str::from_utf8(bytes).map_err(|_| "a journal record with a bad string")?;
    Ok(ByteString::from(s))
}

fn read_key(r: &mut &[u8]) -> Result<(ByteString, Option<Under>), String> {
    let kind = take(r, 1)?[0];
    let name = read_string(r)?;
    let under = match kind {
        b'r' => None,
        b's' => Some(Under::Session),
        b'b' => Some(Under::Subscription(read_string(r)?)),
        b'm' => Some(Under::Message(u64::from_le_bytes(
            take(r, 8)?.try_into().expect("8 bytes"),
        ))),
        b'i' => Some(Under::Inbound(u16::from_le_bytes(
            take(r, 2)?.try_into().expect("2 bytes"),
        ))),
        k => return Err(format!("a journal key of unknown kind {k}")),
    };
    Ok((name, under))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(o: &mut Overlay) -> Vec<u8> {
        let mut f = Vec::new();
        o.write_frame(&mut f, |_, _| unreachable!("the tests give encoded values"));
        f
    }

    fn c(s: &str) -> ByteString {
        ByteString::from(s)
    }

    fn put(v: &[u8]) -> Op {
        Op::Put(v.to_vec())
    }

    #[test]
    fn a_message_removed_in_the_commit_that_put_it_is_written_nowhere() {
        let mut o = Overlay::default();
        o.put(&c("a"), Under::Message(1), put(b"m1"), true);
        o.remove(&c("a"), Under::Message(1));
        assert!(frame(&mut o).is_empty());
        assert_eq!(o.bytes(), 0);
        let (clients, _) = o.take_all();
        assert!(clients.iter().all(|(_, c)| c.slots.is_empty()));
    }

    #[test]
    fn a_fresh_message_removed_later_leaves_its_removal_in_the_journal_and_nothing_to_flush() {
        let mut o = Overlay::default();
        o.put(&c("a"), Under::Message(1), put(b"m1"), true);
        let first = frame(&mut o);
        assert_eq!(first[0], 1);
        assert_eq!(o.bytes(), 128 + 2);
        o.remove(&c("a"), Under::Message(1));
        let second = frame(&mut o);
        assert_eq!(second[0], 2);
        assert_eq!(o.bytes(), 0);
        let (clients, _) = o.take_all();
        assert!(clients.iter().all(|(_, c)| c.slots.is_empty()));
        // Replayed, the two frames leave a removal (the tables may hold the key).
        let mut replayed = Overlay::default();
        replayed.apply_frame(&first).unwrap();
        replayed.apply_frame(&second).unwrap();
        let (clients, _) = replayed.take_all();
        let slot = &clients[0].1.slots[&Under::Message(1)];
        assert!(matches!(slot.op, Op::Remove));
    }

    #[test]
    fn a_clear_comes_first_in_its_frame_and_what_follows_it_survives_a_replay() {
        let mut o = Overlay::default();
        o.put(&c("a"), Under::Subscription(c("t/#")), put(b"sub"), false);
        o.clear(&c("a"));
        o.put(&c("a"), Under::Session, put(b"session"), false);
        o.put_retained(&c("t/1"), put(b"retained"));
        let f = frame(&mut o);
        assert_eq!(f[0], 0, "the clear is the first record");
        let mut replayed = Overlay::default();
        replayed.apply_frame(&f).unwrap();
        let (clients, retained) = replayed.take_all();
        let (name, client) = &clients[0];
        assert_eq!(name, "a");
        assert!(client.cleared);
        assert_eq!(client.slots.len(), 1);
        assert!(matches!(&client.slots[&Under::Session].op, Op::Put(v) if v == b"session"));
        assert!(matches!(&retained[0].1.op, Op::Put(v) if v == b"retained"));
    }

    #[test]
    fn a_damaged_record_is_an_error() {
        let mut o = Overlay::default();
        o.put(&c("a"), Under::Inbound(7), put(b""), false);
        let f = frame(&mut o);
        let mut replayed = Overlay::default();
        assert!(replayed.apply_frame(&f[..f.len() - 3]).is_err());
        assert!(replayed.apply_frame(&[9]).is_err());
    }
}
