//! The persistence port: what the engine asks a store to keep, and what a store gives back
//! when the broker starts.
//!
//! The engine does no I/O. While it handles a round of events, every change to durable state
//! is recorded as a [`Change`]; the transport takes them with [`Engine::take_changes`] at the
//! end of the round, hands them to a store (an adapter implementing [`Store`]) on a thread of
//! its own, and holds everything the round produced for the clients (the PUBACK of a retained
//! message, the SUBACK of a persistent session's subscription) until the store says the
//! changes are written: "persist this, then send that", as raft-rs hands out its batches. An
//! acknowledgement is a promise, and with a store it promises that the data is written.
//!
//! What is kept (this is the part of section 4.1 the engine persists so far):
//! - **sessions** that outlive their connection (Session Expiry Interval > 0, or Clean
//!   Session 0 in 3.x): the client identifier, protocol and expiry, and when an offline one
//!   ends, as a wall-clock time so that the time the broker was down counts;
//! - their **subscriptions**, with every option and identifier;
//! - the **QoS 1 and 2 messages** held for them, each under its number in the session
//!   ([`Delivery::seq`], in the order they reached it): queued, or in flight with its packet
//!   identifier, before or after PUBREC; removed when acknowledged or dropped. An offline
//!   session keeps its first [`RESIDENT`] queued messages in memory and only the number and
//!   size of the others (its `Spill`), which stay on disk; so does a restore. When its client
//!   drains the queue, the engine asks for the next [`LOAD_BATCH`] of them
//!   ([`super::Output::Load`], answered with [`Engine::loaded`]), and while some are on disk,
//!   new messages for it go there too, to keep the order;
//! - the **inbound QoS 2** packet identifiers awaiting PUBREL, so that a PUBLISH resent after
//!   a restart is not delivered twice;
//! - **wills**: the will of the connection attached (a restart releases it, since that
//!   connection ended without DISCONNECT), or the one waiting for its Will Delay Interval,
//!   due at a wall-clock time;
//! - **retained messages**, with their properties and expiry (wall-clock).
//!
//! Nothing is recorded for a session that ends with its connection: it never reaches the
//! store.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytestring::ByteString;

use super::inflight::OutboundState;
use super::message::{Delivery, Message};
use super::session::{PendingWill, Session};
use super::{Engine, Timer};
use crate::codec::{Protocol, QoS, TopicFilter, TopicName, Will};
use crate::router::{SubscriberId, Subscription};

/// One change to durable state, in the order the engine made it.
#[derive(Clone, Debug)]
pub enum Change {
    /// A session that outlives its connection, new or changed.
    PutSession(SessionRecord),
    /// A session ended: it and everything kept under it are removed.
    DeleteSession(ByteString),
    /// A subscription of a kept session, new or replaced.
    PutSubscription {
        client_id: ByteString,
        filter: TopicFilter,
        subscription: Subscription,
    },
    /// A subscription of a kept session removed.
    DeleteSubscription {
        client_id: ByteString,
        filter: TopicFilter,
    },
    /// A QoS 1 or 2 message held for a kept session, new or moved on (queued, then in
    /// flight, then released).
    PutMessage {
        client_id: ByteString,
        seq: u64,
        state: Held,
        delivery: StoredDelivery,
        /// Whether it entered the session with this change (it was numbered now): if it is
        /// gone again before the store writes it, the store need write neither.
        fresh: bool,
    },
    /// A message held for a kept session acknowledged, dropped or moved away.
    DeleteMessage { client_id: ByteString, seq: u64 },
    /// An inbound QoS 2 packet identifier of a kept session, PUBREC sent, PUBREL awaited.
    PutInbound {
        client_id: ByteString,
        packet_id: u16,
    },
    /// That PUBREL came.
    DeleteInbound {
        client_id: ByteString,
        packet_id: u16,
    },
    /// The retained message of a topic, new or replaced.
    PutRetained(StoredMessage),
    /// The retained message of a topic cleared.
    DeleteRetained(TopicName),
}

/// A session as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub client_id: ByteString,
    pub protocol: Protocol,
    /// Session Expiry Interval in seconds; `u32::MAX` never expires.
    pub expiry_interval: u32,
    /// When the session ends if no client comes back: set when it goes offline. A session
    /// kept while online has none, and a restart counts its expiry from the restart.
    pub expires_at: Option<SystemTime>,
    /// Its will, if it has one.
    pub will: Option<StoredWill>,
}

/// A will as kept: the will of the connection attached when it was written (`due` unset: if
/// the broker stops, that connection ends without DISCONNECT, so the will is released at the
/// next start, its Will Delay Interval counted from then), or one waiting for its delay
/// since its connection ended, due at a wall-clock time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredWill {
    /// The will, its Will Delay Interval among its properties.
    pub will: Will,
    pub due: Option<SystemTime>,
}

/// A message as kept: the message, and when it expires as a wall-clock time (the message's
/// own `expires_at` is an instant, which means nothing to another process).
#[derive(Clone, Debug)]
pub struct StoredMessage {
    pub message: Arc<Message>,
    pub expires_at: Option<SystemTime>,
}

/// Queued messages a kept session holds in memory; more stay on disk only, read back in
/// batches of [`LOAD_BATCH`] as the client drains them.
pub const RESIDENT: usize = 8;

/// Queued messages read back from disk at a time.
pub const LOAD_BATCH: usize = 256;

/// Where a message held for a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// Waiting for room in the inflight window, or for the client.
    Queued,
    /// PUBLISH sent with this packet identifier; PUBACK or PUBREC awaited.
    Published(u16),
    /// PUBREC came for this packet identifier and PUBREL was sent; PUBCOMP awaited.
    Released(u16),
}

/// A delivery as kept: the delivery, and when its message expires as a wall-clock time.
#[derive(Clone, Debug)]
pub struct StoredDelivery {
    pub delivery: Delivery,
    pub expires_at: Option<SystemTime>,
}

/// A kept session with what it holds, as a store gives it back.
#[derive(Clone, Debug)]
pub struct StoredSession {
    pub record: SessionRecord,
    pub subscriptions: Vec<(TopicFilter, Subscription)>,
    /// The messages it holds, by number, in order: in flight, and the first [`RESIDENT`]
    /// queued ones.
    pub messages: Vec<(u64, Held, StoredDelivery)>,
    /// The queued messages after those, left on disk: their numbers and sizes, in order.
    pub spilled: Vec<(u64, usize)>,
    /// Its inbound QoS 2 packet identifiers awaiting PUBREL.
    pub inbound: Vec<u16>,
}

/// Everything a store gives back when the broker starts.
#[derive(Clone, Debug, Default)]
pub struct Restored {
    pub sessions: Vec<StoredSession>,
    pub retained: Vec<StoredMessage>,
}

/// A store: an adapter that writes changes durably and reads them back.
pub trait Store: Send {
    /// Writes `changes` (several rounds' worth, in order) in one atomic commit, durably as
    /// the store's sync policy says. An error means nothing can be promised any more.
    fn commit(&mut self, changes: Vec<Change>) -> Result<(), StoreError>;

    /// Reads back everything kept.
    fn load(&mut self) -> Result<Restored, StoreError>;

    /// The store's size on disk, if it has one (measured now and then, not at every call).
    fn disk_bytes(&mut self) -> Option<u64> {
        None
    }

    /// Reads the queued messages of a session from number `from` on, at most `max` of them,
    /// in order (see [`super::Output::Load`]).
    fn load_queued(
        &mut self,
        client_id: &str,
        from: u64,
        max: usize,
    ) -> Result<Vec<(u64, StoredDelivery)>, StoreError>;

    /// Whether the store is over its size limit (see [`Engine::set_store_full`]).
    fn is_full(&mut self) -> bool {
        false
    }
}

/// A store that failed: what happened, with the path it concerns, in words for an operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

impl Engine {
    /// The changes recorded since the last call, for a store to write before anything the
    /// engine produced meanwhile reaches a client. Empty when nothing durable changed (and
    /// always without a store: see [`super::Settings::persistence`]).
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// The store went over its size limit (`full`), or back under it: while it is over, no
    /// new session is kept (CONNACK 0x97), an offline session's queue takes nothing more
    /// (dropped and counted, as a full queue does), and no retained message for a new topic is
    /// kept. What is kept already goes on: acknowledgements, and the removals they bring.
    pub fn set_store_full(&mut self, full: bool) {
        if full != self.store_full {
            if full {
                tracing::warn!("the store is full ([storage] max_disk_bytes): nothing new is kept");
            } else {
                tracing::info!("the store is under its size limit again");
            }
        }
        self.store_full = full;
    }

    /// Records a change, if the broker keeps state.
    pub(super) fn record(&mut self, change: Change) {
        if self.settings.persistence {
            self.changes.push(change);
        }
    }

    /// Records the session's record, if it outlives its connection, and marks it kept.
    pub(super) fn record_session(&mut self, sid: SubscriberId, now: Instant) {
        if !self.settings.persistence {
            return;
        }
        let wall = self.wall_clock(now);
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        if s.expiry_interval == 0 {
            if s.spilling() {
                // Part of its queue is on disk only: it stays kept until that is read back
                // (its record keeps the expiry it had meanwhile).
                return;
            }
            // Kept until now, and ending with its connection from now on (a 5.0 client
            // may come back with no expiry, or end it with its DISCONNECT).
            if std::mem::take(&mut s.stored) {
                let client_id = s.client_id.clone();
                self.changes.push(Change::DeleteSession(client_id));
            }
            return;
        }
        let first = !std::mem::replace(&mut s.stored, true);
        let expires_at = s
            .expires_at
            .map(|at| wall + at.saturating_duration_since(now));
        // The will of the connection attached, or the one waiting for its delay.
        let will = match (s.conn, &s.pending_will) {
            (Some(conn), _) => self
                .conns
                .get(&conn)
                .and_then(|c| c.will.as_deref())
                .map(|w| StoredWill {
                    will: w.clone(),
                    due: None,
                }),
            (None, Some(pending)) => Some(StoredWill {
                will: pending.will.clone(),
                due: Some(wall + pending.delivery_at.saturating_duration_since(now)),
            }),
            (None, None) => None,
        };
        let record = SessionRecord {
            client_id: s.client_id.clone(),
            protocol: s.protocol,
            expiry_interval: s.expiry_interval,
            expires_at,
            will,
        };
        let subscriptions: Vec<_> = if first {
            // Subscriptions made while it was not kept go with it.
            let all = s.subscriptions();
            all.map(|(filter, subscription)| Change::PutSubscription {
                client_id: s.client_id.clone(),
                filter: filter.clone(),
                subscription: subscription.clone(),
            })
            .collect()
        } else {
            Vec::new()
        };
        self.changes.push(Change::PutSession(record));
        self.changes.extend(subscriptions);
        if first {
            self.record_everything_held(sid, now);
        }
    }

    /// Records every message a session newly kept holds, and its inbound QoS 2 state (a
    /// session resumed with an expiry it did not have): what it had in flight first, in send
    /// order, then its queue.
    fn record_everything_held(&mut self, sid: SubscriberId, now: Instant) {
        let wall = self.wall_clock(now);
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let client_id = s.client_id.clone();
        let mut next = s.next_seq;
        let mut changes = Vec::new();
        let mut keep = |d: &mut Delivery, state: Held| {
            if d.qos == QoS::AtMostOnce {
                return;
            }
            next += 1;
            d.seq = next;
            let expires_at = d
                .message
                .expires_at
                .map(|at| wall + at.saturating_duration_since(now));
            changes.push(Change::PutMessage {
                client_id: client_id.clone(),
                seq: next,
                state,
                delivery: StoredDelivery {
                    delivery: d.clone(),
                    expires_at,
                },
                fresh: true,
            });
        };
        for (id, state, d) in s.inflight.flights_mut() {
            let held = match state {
                OutboundState::Published => Held::Published(id),
                OutboundState::Released => Held::Released(id),
            };
            keep(d, held);
        }
        for d in s.queue.iter_mut() {
            keep(d, Held::Queued);
        }
        s.next_seq = next;
        for &packet_id in &s.inbound_qos2 {
            let client_id = client_id.clone();
            changes.push(Change::PutInbound {
                client_id,
                packet_id,
            });
        }
        self.changes.extend(changes);
    }

    /// Records a QoS 1 or 2 delivery that a kept session holds, in `state`, numbering it first
    /// if it has no number yet (it is entering the session). Nothing for QoS 0, nor for a
    /// session the store does not keep.
    pub(super) fn record_held(
        &mut self,
        sid: SubscriberId,
        delivery: &mut Delivery,
        state: Held,
        now: Instant,
    ) {
        if !self.settings.persistence || delivery.qos == QoS::AtMostOnce {
            return;
        }
        let wall = self.wall_clock(now);
        let Some(s) = self.sessions.get_mut(&sid).filter(|s| s.stored) else {
            return;
        };
        let fresh = delivery.seq == 0;
        if fresh {
            s.next_seq += 1;
            delivery.seq = s.next_seq;
        }
        // Queued and sent in the same round (a client that keeps up): one change says both.
        if let Some(Change::PutMessage {
            client_id,
            seq,
            state: last,
            ..
        }) = self.changes.last_mut()
        {
            if *seq == delivery.seq && *client_id == s.client_id {
                *last = state;
                return;
            }
        }
        let expires_at = delivery
            .message
            .expires_at
            .map(|at| wall + at.saturating_duration_since(now));
        self.changes.push(Change::PutMessage {
            client_id: s.client_id.clone(),
            seq: delivery.seq,
            state,
            delivery: StoredDelivery {
                delivery: delivery.clone(),
                expires_at,
            },
            fresh,
        });
    }

    /// Records that a delivery a kept session held is gone from it: acknowledged, dropped,
    /// or handed to another session.
    pub(super) fn record_gone(&mut self, sid: SubscriberId, delivery: &Delivery) {
        if delivery.seq != 0 {
            self.record_gone_seq(sid, delivery.seq);
        }
    }

    /// Records that the message of number `seq` a kept session held is gone from it.
    pub(super) fn record_gone_seq(&mut self, sid: SubscriberId, seq: u64) {
        let Some(s) = self.sessions.get(&sid).filter(|s| s.stored) else {
            return;
        };
        let client_id = s.client_id.clone();
        self.changes.push(Change::DeleteMessage { client_id, seq });
    }

    /// The queued messages of a kept session read back from the store, the next after those
    /// in memory (asked for with [`super::Output::Load`]). A message dropped from the queue meanwhile
    /// is skipped. The session's connection, if it has one, is sent what it has room for.
    pub fn loaded(
        &mut self,
        sid: SubscriberId,
        messages: Vec<(u64, StoredDelivery)>,
        now: Instant,
    ) {
        let wall = self.wall_clock(now);
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        for (seq, kept) in messages {
            let Some(spill) = s.spill.as_mut() else { break };
            // The store reads in number order from the first one asked for: one numbered
            // lower than what it gives is not on disk (it cannot be read back, and waiting
            // for it would stall the queue), one higher is no longer queued.
            while spill.entries.front().is_some_and(|&(next, _)| next < seq) {
                let (missing, cost) = spill.entries.pop_front().expect("checked");
                spill.bytes -= cost;
                tracing::warn!(client_id = %s.client_id, seq = missing,
                    "a queued message is missing from the store");
            }
            match spill.entries.front() {
                Some(&(next, cost)) if next == seq => {
                    spill.entries.pop_front();
                    spill.bytes -= cost;
                }
                _ => continue,
            }
            let mut delivery = kept.delivery;
            delivery.seq = seq;
            if let Some(at) = kept.expires_at {
                // Past: it expires now, and is dropped when it would be sent [MQTT-3.3.2-5].
                let left = at.duration_since(wall).unwrap_or_default();
                let mut message = Arc::unwrap_or_clone(delivery.message);
                message.expires_at = Some(now + left);
                delivery.message = Arc::new(message);
            }
            s.push(delivery);
        }
        if let Some(spill) = &mut s.spill {
            spill.loading = false;
            if spill.entries.is_empty() {
                s.spill = None;
            }
        }
        if let Some(conn) = s.conn {
            self.pump(conn, sid, now);
        }
    }

    /// Records an inbound QoS 2 packet identifier of a kept session coming (`awaited`: PUBREC
    /// sent) or going (PUBREL came).
    pub(super) fn record_inbound(&mut self, sid: SubscriberId, packet_id: u16, awaited: bool) {
        if !self.settings.persistence {
            return;
        }
        let Some(s) = self.sessions.get(&sid).filter(|s| s.stored) else {
            return;
        };
        let client_id = s.client_id.clone();
        self.changes.push(if awaited {
            Change::PutInbound {
                client_id,
                packet_id,
            }
        } else {
            Change::DeleteInbound {
                client_id,
                packet_id,
            }
        });
    }

    /// A message as kept, its expiry turned into a wall-clock time.
    pub(super) fn stored_message(&self, message: &Arc<Message>, now: Instant) -> StoredMessage {
        let wall = self.wall_clock(now);
        StoredMessage {
            message: message.clone(),
            expires_at: message
                .expires_at
                .map(|at| wall + at.saturating_duration_since(now)),
        }
    }

    /// Puts back what a store kept, before the first connection: sessions offline, with their
    /// subscriptions and their expiry counted from the wall-clock time they went offline (a
    /// session that was online when the broker stopped counts from `now`); retained messages
    /// with what is left of their expiry. What expired while the broker was down is dropped.
    /// The wall clock must have been set ([`Engine::set_wall_clock`]).
    pub fn restore(&mut self, restored: Restored, now: Instant) {
        let wall = self.wall_clock(now);
        let remaining = |at: SystemTime| at.duration_since(wall).ok();
        let mut wills = Vec::new();
        for stored in restored.sessions {
            let record = stored.record;
            let expires_at = match (record.expiry_interval, record.expires_at) {
                (u32::MAX, _) => None,
                (_, Some(at)) => match remaining(at) {
                    Some(left) => Some(now + left),
                    None => {
                        // Expired while the broker was down: its end is recorded now.
                        self.record(Change::DeleteSession(record.client_id));
                        continue;
                    }
                },
                (secs, None) => Some(now + Duration::from_secs(u64::from(secs))),
            };
            let sid = SubscriberId(self.next_session);
            self.next_session += 1;
            let mut s = Session::new(record.client_id.clone(), record.protocol);
            s.expiry_interval = record.expiry_interval;
            s.expires_at = expires_at;
            s.stored = true;
            for (filter, subscription) in stored.subscriptions {
                self.router.subscribe(sid, &filter, subscription.clone());
                s.subscribe(filter, subscription);
            }
            // In number order: the flights in the order they were sent, the queue in its own.
            for (seq, held, kept) in stored.messages {
                let mut delivery = kept.delivery;
                let expires_at = match kept.expires_at {
                    None => None,
                    Some(at) => match remaining(at) {
                        Some(left) => Some(now + left),
                        None => {
                            // Expired while the broker was down [MQTT-3.3.2-5].
                            let client_id = record.client_id.clone();
                            self.record(Change::DeleteMessage { client_id, seq });
                            continue;
                        }
                    },
                };
                if expires_at.is_some() {
                    let mut message = Arc::unwrap_or_clone(delivery.message);
                    message.expires_at = expires_at;
                    delivery.message = Arc::new(message);
                }
                delivery.seq = seq;
                s.next_seq = s.next_seq.max(seq);
                match held {
                    Held::Queued => s.push(delivery),
                    Held::Published(id) => s.inflight.start(id, delivery),
                    Held::Released(id) => {
                        s.inflight.start(id, delivery);
                        s.inflight.release(id);
                    }
                }
            }
            s.inbound_qos2.extend(stored.inbound);
            for (seq, cost) in stored.spilled {
                s.next_seq = s.next_seq.max(seq);
                s.spill(seq, cost);
            }
            if let Some(at) = expires_at {
                self.schedule(at, Timer::Expiry(sid, s.generation));
            }
            if let Some(will) = record.will {
                wills.push((sid, will));
            }
            self.by_client_id.insert(record.client_id, sid);
            self.sessions.insert(sid, Box::new(s));
        }
        // Once every session is back, so that a will published now reaches them: a will
        // whose connection was attached when the broker stopped is released now (that
        // connection ended without DISCONNECT), one already waiting when it is due.
        for (sid, StoredWill { will, due }) in wills {
            match due {
                None => self.leave_will(sid, will, now),
                Some(at) => match remaining(at) {
                    Some(left) => {
                        let s = self.sessions.get_mut(&sid).expect("restored");
                        let delivery_at = now + left;
                        s.pending_will = Some(Box::new(PendingWill { delivery_at, will }));
                        let generation = s.generation;
                        self.schedule(delivery_at, Timer::Will(sid, generation));
                    }
                    None => self.publish_will(sid, will, now),
                },
            }
            self.record_session(sid, now);
        }
        for stored in restored.retained {
            let expires_at = match stored.expires_at {
                None => None,
                Some(at) => match remaining(at) {
                    Some(left) => Some(now + left),
                    None => {
                        self.record(Change::DeleteRetained(stored.message.topic.clone()));
                        continue;
                    }
                },
            };
            let mut message = Arc::unwrap_or_clone(stored.message);
            message.expires_at = expires_at;
            let topic = message.topic.clone();
            self.retained.insert(&topic, Arc::new(message));
        }
        if !self.sessions.is_empty() && !self.housekeeping {
            self.housekeeping = true;
            self.schedule(now + super::HOUSEKEEPING, Timer::Housekeeping);
        }
        let held: usize = self
            .sessions
            .values()
            .map(|s| s.queue.len() + s.inflight.len())
            .sum();
        tracing::info!(
            sessions = self.sessions.len(),
            held,
            retained = self.retained.len(),
            "state restored from the store"
        );
    }
}
