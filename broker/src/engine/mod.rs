//! The broker as a state machine: every session, the subscription tree and the retained store,
//! driven by events with the time passed in, and answering with bytes for connections.
//!
//! Nothing here touches a socket or a clock, as in quinn-proto: the transport layer feeds
//! [`Engine::handle`] decoded packets and closures, calls [`Engine::handle_timeout`] when
//! [`Engine::poll_timeout`] says so, and writes out what [`Engine::drain_outputs`] returns.
//! Tests and fuzzers drive it the same way, with no network and a clock of their own.
//!
//! One engine owns all state, so no lock is taken anywhere on the message path; the transport
//! layer runs decoding, encoding of its own writes and socket I/O beside it.

mod accept;
mod admission;
mod arena;
mod auth;
mod authz;
mod conn;
mod conn_info;
mod connect;
mod directory;
mod flow;
mod hooks;
mod inbound;
mod inflight;
mod invariants;
mod lifecycle;
mod message;
mod outbound;
pub mod policy;
mod rate;
mod reauth;
mod routing;
mod session;
mod settings;
mod shape;
mod shared;
mod stats;
pub mod store;
mod subscribe;
mod sys;
mod takeover;
#[cfg(test)]
mod tests;
mod timers;
mod will;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use ahash::AHashMap;
use bytes::Bytes;
use bytestring::ByteString;

use crate::codec::{DecodeError, Packet, QoS, ReasonCode};
use crate::router::{RetainedStore, SubscriberId, SubscriptionTree};

pub use admission::ListenerSettings;
pub use auth::{AllowAnonymous, AuthDecision, Authenticator, Check, Grant, Offloaded};
pub use conn::ConnId;
pub use conn_info::{CertLogin, ConnInfo, ProtocolSet};
pub use directory::{ClientEntry, Command, Directory, Outcome, RetainedEntry, SubscriptionEntry};
pub use hooks::{
    Answer, ClientInfo, ConnectVerdict, DropReason, Interest, Notice, PublishVerdict, Question,
};
pub use message::{Delivery, Message};
pub use session::{OfflinePolicy, QueueLimits};
pub use settings::Settings;
pub use stats::{Snapshot, Stats};

use conn::Conn;
use lifecycle::CloseReason;
use session::Session;
use timers::{Timer, HOUSEKEEPING};

/// What the transport layer tells the engine about a connection.
#[derive(Debug)]
pub enum Input {
    /// A packet decoded from the connection.
    Packet(Packet),
    /// The bytes could not be decoded: the connection breaks the protocol.
    Malformed(DecodeError),
    /// The network connection closed or failed without a DISCONNECT.
    Closed,
    /// The transport has more waiting to be written to the connection than it wants to hold:
    /// deliveries wait in the session's queue until [`Input::Drained`].
    Congested,
    /// The transport has written enough of what waited: deliveries may flow again.
    Drained,
    /// Everything the connection's socket held when [`Output::Drain`] asked has been read and
    /// applied (or the transport's wait for it ran out).
    Quiet,
}

/// What the engine asks of the transport layer.
#[derive(Debug, PartialEq, Eq)]
pub enum Output {
    /// Write these bytes (one whole packet) to the connection. A `droppable` frame (a QoS 0
    /// PUBLISH) may be dropped by a connection whose write buffer is full; no other may. An
    /// `early` frame (a QoS 0 or 1 PUBLISH to a subscriber) may be written before the changes
    /// of its round are stored (see `store`): a crash before they are can only make it a
    /// duplicate, which QoS 0 and 1 allow. Every other frame of a round that changed durable
    /// state promises something (an acknowledgement, Session Present, a QoS 2 delivery's
    /// exactly-once), and waits for the store.
    Send {
        conn: ConnId,
        frame: Bytes,
        droppable: bool,
        early: bool,
    },
    /// Flush what was sent and close the connection; the engine has forgotten it.
    Close { conn: ConnId },
    /// Take no more PUBLISHes from the connection (nor anything that must follow them); the
    /// acknowledgements of messages sent to it still come in. See `flow`.
    Pause { conn: ConnId },
    /// Take packets from the connection again, in the order they came.
    Resume { conn: ConnId },
    /// Read back from the store the next `max` queued messages of a kept session, from number
    /// `from` on, once what came before this is written; answer with [`Engine::loaded`].
    Load {
        session: SubscriberId,
        client_id: ByteString,
        from: u64,
        max: usize,
    },
    /// Ask the hooks `question` about the connection (see `hooks`); answer with
    /// [`Engine::answer`] and `id`. The connection is paused until then.
    Ask {
        conn: ConnId,
        id: u64,
        question: Question,
    },
    /// Tell the hooks (see `hooks`).
    Notice(Notice),
    /// Run this authentication check away from the engine (a blocking thread) and give its
    /// decision to [`Engine::checked`] with `id`. The connection is paused until then.
    Check {
        conn: ConnId,
        id: u64,
        check: Offloaded,
    },
    /// Tell the engine ([`Input::Quiet`]) when everything the connection's socket holds now
    /// has been read and applied: a new connection waits to take its session over (see
    /// `takeover`). The wait is bounded.
    Drain { conn: ConnId },
}

/// The broker's state machine.
pub struct Engine {
    settings: Settings,
    authenticator: Box<dyn Authenticator>,
    /// Connections and sessions are boxed: a hash table keeps spare slots, and spare slots
    /// of a few hundred bytes each would cost more than the pointer does.
    conns: AHashMap<ConnId, Box<Conn>>,
    sessions: AHashMap<SubscriberId, Box<Session>>,
    by_client_id: AHashMap<ByteString, SubscriberId>,
    next_session: u64,
    next_assigned_id: u64,
    router: SubscriptionTree,
    retained: RetainedStore<Arc<Message>>,
    timers: BinaryHeap<Reverse<(Instant, Timer)>>,
    out: Vec<Output>,
    /// Connections with CONNACK sent, for the connection limit.
    connected: usize,
    /// PUBLISH frames shared by the subscribers of the message being routed.
    shapes: shape::ShapeCache,
    /// The sessions the message being routed goes to (kept for its capacity).
    targets: Vec<routing::Target>,
    /// Whether the housekeeping timer runs (it starts with the first connection).
    housekeeping: bool,
    /// Who may publish and subscribe to what (the ACL file's rules); `None` allows
    /// everything.
    acl: Option<Arc<dyn policy::Authorizer>>,
    /// Authenticators replaced by a reload, finishing the exchanges they started.
    retired: Vec<authz::Retired>,
    /// Per-listener connection counts and per-address connection rates.
    admission: admission::Admission,
    /// An instant and the wall-clock time it was, as last told by [`Engine::set_wall_clock`]:
    /// the engine reads no clock, so wall-clock times (a JWT's `exp`) are counted from it.
    wall: Option<(Instant, SystemTime)>,
    /// The online sessions whose queues were over their high-water marks when the message
    /// being routed reached them (kept for its capacity).
    full: Vec<SubscriberId>,
    /// The number of the last episode of a queue over its high-water mark.
    next_episode: u64,
    /// Where frames are encoded.
    arena: arena::Arena,
    stats: Stats,
    /// Changes to durable state since the transport last took them (see `store`).
    changes: Vec<store::Change>,
    /// Whether the store is over its size limit: it takes no new kept session, no message
    /// for an offline one and no retained message for a new topic (see `store`).
    store_full: bool,
    /// When [`Engine::start`] was called: the broker's uptime counts from it.
    started: Option<Instant>,
    /// The `$SYS` loads (see `sys`).
    sys_loads: sys::Loads,
    /// What the hooks want asked and told (see `hooks`).
    interest: Interest,
    /// The number of the last question asked.
    next_question: u64,
    /// Connections whose enhanced authentication a hook carries on.
    hook_exchanges: ahash::AHashSet<ConnId>,
    /// Connections whose session a new CONNECT waits to take over, and who waits: the new
    /// connection and the id of its wait (see `takeover`).
    takeovers: AHashMap<ConnId, Vec<(ConnId, u64)>>,
}

impl Engine {
    pub fn new(settings: Settings) -> Engine {
        let authenticator = Box::new(AllowAnonymous(settings.allow_anonymous));
        Engine::with_authenticator(settings, authenticator)
    }

    /// An engine that asks `authenticator` about every CONNECT and AUTH.
    pub fn with_authenticator(settings: Settings, authenticator: Box<dyn Authenticator>) -> Engine {
        Engine {
            settings,
            authenticator,
            conns: AHashMap::new(),
            sessions: AHashMap::new(),
            by_client_id: AHashMap::new(),
            next_session: 1,
            next_assigned_id: 1,
            router: SubscriptionTree::new(),
            retained: RetainedStore::new(),
            timers: BinaryHeap::new(),
            out: Vec::new(),
            connected: 0,
            shapes: shape::ShapeCache::default(),
            targets: Vec::new(),
            housekeeping: false,
            acl: None,
            retired: Vec::new(),
            admission: admission::Admission::default(),
            wall: None,
            full: Vec::new(),
            next_episode: 0,
            arena: arena::Arena::default(),
            stats: Stats::default(),
            changes: Vec::new(),
            store_full: false,
            started: None,
            sys_loads: sys::Loads::default(),
            interest: Interest::default(),
            next_question: 0,
            hook_exchanges: Default::default(),
            takeovers: AHashMap::new(),
        }
    }

    /// The broker starts serving at `now`: its uptime counts from here, and the `$SYS`
    /// topics are published from now on, every `sys_interval` (see `sys`).
    pub fn start(&mut self, now: Instant) {
        self.started = Some(now);
        if self.settings.sys_interval.is_some() {
            self.schedule(now, Timer::Sys);
        }
    }

    /// Tells the engine that instant `now` is wall-clock time `wall`. The transport calls it
    /// as it feeds events (the clock is read there, not here); the engine counts the wall
    /// time of later instants from the last pair it was given. Until it is called, the
    /// engine's wall clock reads the Unix epoch, so a credential with an expiry looks fresh:
    /// a transport that uses such credentials must call it.
    pub fn set_wall_clock(&mut self, now: Instant, wall: SystemTime) {
        self.wall = Some((now, wall));
    }

    /// The wall-clock time at `now`, from the last [`Engine::set_wall_clock`].
    fn wall_clock(&self, now: Instant) -> SystemTime {
        match self.wall {
            Some((at, wall)) if now >= at => wall + (now - at),
            Some((at, wall)) => wall - (at - now),
            None => SystemTime::UNIX_EPOCH,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A new network connection; it must send CONNECT within the connect timeout. It may
    /// speak any protocol version and has no address or certificate: see
    /// [`Engine::open_with`].
    pub fn open(&mut self, conn: ConnId, now: Instant) {
        self.open_with(conn, ConnInfo::default(), now);
    }

    /// A new network connection, with what its listener knows about it (allowed protocol
    /// versions, the client's address, a verified client certificate); it must send CONNECT
    /// within the connect timeout.
    pub fn open_with(&mut self, conn: ConnId, info: ConnInfo, now: Instant) {
        if !self.housekeeping {
            self.housekeeping = true;
            self.schedule(now + HOUSEKEEPING, Timer::Housekeeping);
        }
        let admitted = self.admission.open(&self.settings.listeners, &info, now);
        let mut c = Conn::new(now, self.settings.connect_timeout, info);
        c.opened = u32::try_from(self.uptime(now).as_secs()).unwrap_or(u32::MAX);
        if admitted.is_err() {
            c.refused_on_open = Some(ReasonCode::CONNECTION_RATE_EXCEEDED);
        }
        self.schedule(now + self.settings.connect_timeout, Timer::Conn(conn));
        self.conns.insert(conn, Box::new(c));
    }

    /// Handles one event from a connection.
    pub fn handle(&mut self, conn: ConnId, input: Input, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return; // Already closed: anything still in flight from it is dropped.
        };
        if let Input::Quiet = input {
            // Not a packet: it says the packets before it are all in (see `takeover`).
            return self.quiet(conn, now);
        }
        // While the hooks are asked about one of its packets, what came after it waits.
        let input = match input {
            Input::Congested | Input::Drained => input,
            _ if c.asking.is_some() => match self.wait_for_answer(conn, input, now) {
                Some(input) => input,
                None => return,
            },
            _ => input,
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        // What the transport says about its writes is not a packet from the client: it does
        // not count for keep alive.
        let from_client = match input {
            Input::Congested | Input::Drained => {
                let congested = matches!(input, Input::Congested);
                let Some(sid) = c.session() else { return };
                let Some(s) = self.sessions.get_mut(&sid) else {
                    return;
                };
                s.congested = congested;
                if !congested {
                    if let Some(p) = &mut s.pressure {
                        p.note_progress();
                    }
                    self.pump(conn, sid, now);
                }
                return;
            }
            Input::Quiet => return, // Handled above.
            Input::Packet(packet) => Ok(packet),
            Input::Malformed(error) => Err(Some(error)),
            Input::Closed => Err(None),
        };
        c.last_packet = now;
        if c.refusal.is_some() && !matches!(from_client, Err(None)) {
            // A refused login waits for its CONNACK; nothing else is read [MQTT-3.1.4-6].
            return;
        }
        match from_client {
            Ok(packet) => self.handle_packet(conn, packet, now),
            Err(Some(error)) => self.protocol_violation(conn, &error, now),
            Err(None) => {
                let c = &self.conns[&conn];
                if c.session().is_some() {
                    tracing::info!(conn = %conn, client_id = %c.client_id, "connection lost");
                }
                self.close(conn, CloseReason::Transport, now)
            }
        }
    }

    /// The outputs produced so far, in order.
    pub fn drain_outputs(&mut self) -> std::vec::Drain<'_, Output> {
        self.out.drain(..)
    }

    /// The number of sessions held, online and offline.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// What the engine has counted so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The number of connections that have completed CONNECT.
    pub fn connection_count(&self) -> usize {
        self.connected
    }

    fn handle_packet(&mut self, conn: ConnId, packet: Packet, now: Instant) {
        let phase_session = self.conns[&conn].session();
        match (packet, phase_session) {
            (Packet::Connect(connect), None) => self.handle_connect(conn, *connect, now),
            (Packet::Auth(auth), None) => self.handle_auth_during_connect(conn, auth, now),
            (_, None) => {
                // The first packet must be CONNECT [MQTT-3.1.0-1]; CONNACK is not owed.
                tracing::info!(conn = %conn, "closed: first packet was not CONNECT [MQTT-3.1.0-1]");
                self.close(conn, CloseReason::Transport, now);
            }
            (Packet::Connect(_), Some(_)) => {
                self.protocol_error(conn, "[MQTT-3.1.0-2] a second CONNECT", now)
            }
            (Packet::Publish(p), Some(sid)) => self.handle_publish(conn, sid, p, now),
            (Packet::PubAck(a), Some(sid)) => self.handle_puback(conn, sid, a, now),
            (Packet::PubRec(a), Some(sid)) => self.handle_pubrec(conn, sid, a, now),
            (Packet::PubRel(a), Some(sid)) => self.handle_pubrel(conn, sid, a),
            (Packet::PubComp(a), Some(sid)) => self.handle_pubcomp(conn, sid, a, now),
            (Packet::Subscribe(s), Some(sid)) => self.handle_subscribe(conn, sid, s, now),
            (Packet::Unsubscribe(u), Some(sid)) => self.handle_unsubscribe(conn, sid, u),
            (Packet::PingReq, Some(_)) => {
                self.send(conn, &Packet::PingResp);
            }
            (Packet::Disconnect(d), Some(_)) => self.handle_disconnect(conn, d, now),
            (Packet::Auth(auth), Some(_)) => self.handle_reauth(conn, auth, now),
            (other, Some(_)) => {
                let what = format!("{} is sent only by servers", other.packet_type());
                self.protocol_error(conn, &what, now)
            }
        }
    }

    /// Encodes a packet for a connection, within the client's Maximum Packet Size. Returns
    /// false if the packet was not sent.
    fn send(&mut self, conn: ConnId, packet: &Packet) -> bool {
        self.send_frame(conn, packet, false)
    }

    fn send_frame(&mut self, conn: ConnId, packet: &Packet, droppable: bool) -> bool {
        let Some(c) = self.conns.get(&conn) else {
            return false;
        };
        let max = c.client_max_packet_size as usize;
        match self.arena.encode(packet, c.protocol) {
            Ok(frame) if frame.len() <= max => {
                // A PUBLISH to a subscriber at QoS 0 or 1 may go before the store writes.
                let early = matches!(packet, Packet::Publish(p) if p.qos != QoS::ExactlyOnce);
                self.out.push(Output::Send {
                    conn,
                    frame,
                    droppable,
                    early,
                });
                true
            }
            Ok(frame) => {
                tracing::debug!(conn = %conn, size = frame.len(),
                    "{} not sent: larger than the client's Maximum Packet Size [MQTT-3.1.2-24]",
                    packet.packet_type());
                false
            }
            Err(e) => {
                tracing::error!(conn = %conn, "cannot encode {}: {e}", packet.packet_type());
                false
            }
        }
    }
}
