//! Flow control: an acknowledgement is a promise, so a full destination holds back its
//! publishers instead of losing what they sent (rule 3 of the house; [MQTT-4.1.0-1] forbids
//! thinning a session while its network connection is open).
//!
//! A session's queue (what waits for the inflight window, or for a connection whose writes
//! are backed up) has a high-water mark, `[limits] max_queued_messages` and
//! `max_queued_bytes`, and a low-water mark, half of each. A message routed to an online
//! session whose queue is at or over the high-water mark is still held, and the publisher
//! that sent it is held back:
//!
//! - its acknowledgement (PUBACK, PUBREC) is withheld, and so is every acknowledgement owed
//!   to it after that one, to keep them in the order of its PUBLISHes (as section 4.6 asks
//!   of acknowledgements): its Receive Maximum (or, in 3.x, its own window) stops it;
//! - its connection is paused ([`Output::Pause`]): the transport stops taking PUBLISHes from
//!   it, and takes only the acknowledgements of messages sent to it.
//!
//! When every destination it waits for is back at its low-water mark, the withheld
//! acknowledgements go out in order and the connection resumes ([`Output::Resume`]). What a
//! queue holds beyond its high-water mark is bounded by what publishers had sent before they
//! were paused. QoS 0 publishers are paused the same way (they have no acknowledgement to
//! withhold).
//!
//! A destination that stays over its high-water mark (never getting back to its low-water
//! mark) for `[limits] slow_subscriber_timeout_ms` is a slow subscriber: its connection is
//! closed with 0x97 Quota exceeded, logged once and counted, so that it holds its publishers'
//! other subscribers back no longer than that. One that shows no sign of reading at all for
//! [`STUCK`] (no acknowledgement of what it was sent, no write to it drained) is closed then
//! already: a client that hangs with its connection open would otherwise hold everyone back
//! for the whole timeout. Its session, if it outlives the connection, is offline from then
//! on, and an offline queue never holds anyone back: it keeps its limits by
//! `[limits] offline_queue_policy`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::conn::ConnId;
use super::timers::Timer;
use super::{Engine, Output};
use crate::codec::{Ack, Packet, PacketId, ReasonCode};
use crate::router::SubscriberId;

/// How long a subscriber whose queue holds publishers back may show no sign of reading before
/// it is closed as a slow subscriber (at most `slow_subscriber_timeout_ms`).
pub const STUCK: Duration = Duration::from_secs(1);

/// Which acknowledgement a publisher is owed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AckKind {
    PubAck,
    PubRec,
}

/// A publisher held back: the acknowledgements it is owed, in order, and the destinations it
/// waits for.
#[derive(Debug, Default)]
pub(super) struct Held {
    acks: VecDeque<(AckKind, u16, ReasonCode)>,
    waiting_for: Vec<SubscriberId>,
}

/// A destination over its high-water mark: the publishers waiting for it to drain, the
/// number of this episode, which its slow-subscriber timer names, when it began, and whether
/// its client has shown since that it reads.
#[derive(Debug)]
pub struct Pressure {
    waiters: Vec<ConnId>,
    episode: u64,
    since: Instant,
    progressed: bool,
}

impl Pressure {
    /// The client acknowledged a delivery, or its writes drained: it reads.
    pub(super) fn note_progress(&mut self) {
        self.progressed = true;
    }
}

impl Engine {
    /// Sends a publisher the acknowledgement of one of its messages, or keeps it with those
    /// already withheld, behind them.
    pub(super) fn acknowledge(&mut self, conn: ConnId, kind: AckKind, id: u16, reason: ReasonCode) {
        if let Some(held) = self.conns.get_mut(&conn).and_then(|c| c.held.as_mut()) {
            held.acks.push_back((kind, id, reason));
            return;
        }
        self.send_ack(conn, kind, id, reason);
    }

    fn send_ack(&mut self, conn: ConnId, kind: AckKind, id: u16, reason: ReasonCode) {
        let Some(id) = PacketId::new(id) else { return };
        let mut ack = Ack::new(id);
        ack.reason = reason;
        let packet = match kind {
            AckKind::PubAck => Packet::PubAck(ack),
            AckKind::PubRec => Packet::PubRec(ack),
        };
        self.send(conn, &packet);
    }

    /// A message from `conn` went to the online sessions in `full`, whose queues are at or
    /// over their high-water marks: the publisher waits for each of them, and is paused if
    /// it was not already.
    pub(super) fn hold_back(&mut self, conn: ConnId, full: &[SubscriberId], now: Instant) {
        let timeout = self.settings.slow_subscriber_timeout;
        let mut waits = false;
        for &sid in full {
            let Some(s) = self.sessions.get_mut(&sid) else {
                continue;
            };
            if s.conn.is_none() {
                continue;
            }
            let pressure = match &mut s.pressure {
                Some(p) => p,
                None => {
                    self.next_episode += 1;
                    let episode = self.next_episode;
                    if let Some(timeout) = timeout {
                        let check = now + timeout.min(STUCK);
                        let timer = Timer::Slow(sid, episode);
                        self.timers.push(std::cmp::Reverse((check, timer)));
                    }
                    s.pressure.insert(Box::new(Pressure {
                        waiters: Vec::new(),
                        episode,
                        since: now,
                        progressed: false,
                    }))
                }
            };
            if !pressure.waiters.contains(&conn) {
                pressure.waiters.push(conn);
            }
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            let held = c.held.get_or_insert_with(Default::default);
            if !held.waiting_for.contains(&sid) {
                held.waiting_for.push(sid);
            }
            waits = true;
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if waits && !c.paused {
            c.paused = true;
            self.stats.publishers_held_back += 1;
            tracing::debug!(conn = %conn, "publisher held back: a destination is full");
            self.out.push(Output::Pause { conn });
        }
    }

    /// The queue of `sid` has shrunk: once it is at its low-water mark, the publishers that
    /// waited for it go on.
    pub(super) fn relieve(&mut self, sid: SubscriberId) {
        let limits = self.settings.queue;
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let (messages, bytes) = s.held();
        if s.pressure.is_none() || !limits.drained(messages, bytes) {
            return;
        }
        self.release_waiters(sid);
    }

    /// Lets every publisher waiting for `sid` go on, whatever its queue holds: the session
    /// has gone offline or ended, and an offline queue holds no one back.
    pub(super) fn release_waiters(&mut self, sid: SubscriberId) {
        let Some(pressure) = self.sessions.get_mut(&sid).and_then(|s| s.pressure.take()) else {
            return;
        };
        for conn in pressure.waiters {
            self.unblock(conn, sid);
        }
    }

    /// `conn` no longer waits for `sid`; if it waits for nothing else, its withheld
    /// acknowledgements go out and it resumes.
    fn unblock(&mut self, conn: ConnId, sid: SubscriberId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return; // Gone meanwhile: its client resends what was not acknowledged.
        };
        let Some(held) = c.held.as_mut() else {
            return;
        };
        held.waiting_for.retain(|&s| s != sid);
        if !held.waiting_for.is_empty() {
            return;
        }
        let held = c.held.take().expect("checked above");
        // A question to the hooks keeps it paused; their answer resumes it (see `hooks`).
        let resume = c.asking.is_none();
        if resume {
            c.paused = false;
        }
        for (kind, id, reason) in held.acks {
            self.send_ack(conn, kind, id, reason);
        }
        if resume {
            self.out.push(Output::Resume { conn });
        }
    }

    /// The slow-subscriber timer of `sid`'s episode `episode`: if the queue has stayed over
    /// its high-water mark all along, and the client showed no sign of reading since the
    /// episode began or the timeout has passed, its connection is closed with 0x97 Quota
    /// exceeded; otherwise the timer is set again for the end of the timeout.
    pub(super) fn slow_timer(&mut self, sid: SubscriberId, episode: u64, now: Instant) {
        let Some(s) = self.sessions.get(&sid) else {
            return;
        };
        let Some(pressure) = s.pressure.as_ref().filter(|p| p.episode == episode) else {
            return;
        };
        let Some(conn) = s.conn else {
            return;
        };
        let timeout = self.settings.slow_subscriber_timeout.unwrap_or_default();
        let stuck = !pressure.progressed;
        let until = pressure.since + timeout;
        if !stuck && now < until {
            self.schedule(until, Timer::Slow(sid, episode));
            return;
        }
        let waited = now.saturating_duration_since(pressure.since);
        let why = if stuck {
            "reads nothing"
        } else {
            "cannot keep up"
        };
        tracing::warn!(conn = %conn, client_id = %s.client_id, queued = s.queue.len(),
            waited = ?waited, "closed: slow subscriber (0x97 Quota exceeded): it {why}, and its \
            queue stayed over its limit, holding its publishers back");
        self.stats.slow_subscribers_closed += 1;
        self.close_with(
            conn,
            ReasonCode::QUOTA_EXCEEDED,
            Some("slow subscriber: the queue stayed over its limit".into()),
            now,
        );
    }

    /// The bookkeeping of held publishers agrees with itself: a connection is paused exactly
    /// when it waits for some destination or for the hooks' answer, each destination it waits for is online and lists
    /// it, and every destination under pressure is online.
    pub(super) fn check_flow(&self) -> Result<(), String> {
        for (id, c) in &self.conns {
            let waits =
                c.held.as_ref().is_some_and(|h| !h.waiting_for.is_empty()) || c.asking.is_some();
            if c.paused != waits {
                return Err(format!("{id}: paused {} but waiting {waits}", c.paused));
            }
            for sid in c.held.iter().flat_map(|h| &h.waiting_for) {
                let listed = self.sessions.get(sid).is_some_and(|s| {
                    s.conn.is_some() && s.pressure.as_ref().is_some_and(|p| p.waiters.contains(id))
                });
                if !listed {
                    return Err(format!("{id} waits for {sid:?}, which does not list it"));
                }
            }
        }
        for (sid, s) in &self.sessions {
            if s.pressure.is_some() && s.conn.is_none() {
                return Err(format!("{sid:?}: offline but holding publishers back"));
            }
        }
        Ok(())
    }
}
