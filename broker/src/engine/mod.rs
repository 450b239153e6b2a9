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

mod admission;
mod auth;
mod authz;
mod conn;
mod conn_info;
mod connect;
mod inflight;
mod message;
mod publish;
mod rate;
mod session;
mod settings;
mod shape;
mod shared;
mod subscribe;
#[cfg(test)]
mod tests;
mod will;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ahash::AHashMap;
use bytes::Bytes;
use bytestring::ByteString;

use crate::codec::{DecodeError, Disconnect, Packet, PacketType, Property, ReasonCode};
use crate::router::{RetainedStore, SubscriberId, SubscriptionTree};

pub use admission::ListenerSettings;
pub use auth::{AllowAnonymous, AuthDecision, Authenticator, Grant};
pub use conn::ConnId;
pub use conn_info::{CertLogin, ConnInfo, ProtocolSet};
pub use message::{Delivery, Message};
pub use settings::Settings;

use conn::{Conn, Phase};
use session::Session;

/// What the transport layer tells the engine about a connection.
#[derive(Debug)]
pub enum Input {
    /// A packet decoded from the connection.
    Packet(Packet),
    /// The bytes could not be decoded: the connection breaks the protocol.
    Malformed(DecodeError),
    /// The network connection closed or failed without a DISCONNECT.
    Closed,
}

/// What the engine asks of the transport layer.
#[derive(Debug, PartialEq, Eq)]
pub enum Output {
    /// Write these bytes (one whole packet) to the connection. A `droppable` frame (a QoS 0
    /// PUBLISH) may be dropped by a connection whose write buffer is full; no other may.
    Send {
        conn: ConnId,
        frame: Bytes,
        droppable: bool,
    },
    /// Flush what was sent and close the connection; the engine has forgotten it.
    Close { conn: ConnId },
}

/// Why a connection ends, which decides what happens to its will and what the client is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CloseReason {
    /// DISCONNECT 0x00 from the client: the will is discarded [MQTT-3.14.4-3].
    Normal,
    /// DISCONNECT with any other code from the client (0x04, or an error): close, and
    /// publish the will.
    NormalWithWill,
    /// The server ends the connection with this reason (told to 5.0 clients by DISCONNECT
    /// when CONNACK has been sent [MQTT-3.14.0-1]); the will is published.
    Server(ReasonCode),
    /// The network connection went away; the will is published.
    Transport,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// The connect deadline or the keep alive of a connection.
    Conn(ConnId),
    /// The Will Delay Interval of a session (with its generation).
    Will(SubscriberId, u64),
    /// The Session Expiry Interval of an offline session (with its generation).
    Expiry(SubscriberId, u64),
    /// Periodic upkeep: purging expired retained messages.
    Housekeeping,
    /// The end of the failed-login delay of a connection: its refusal is sent.
    Refuse(ConnId),
    /// The credentials of a connection expire (a JWT's `exp`).
    Credentials(ConnId),
}

/// How often expired retained messages are purged.
const HOUSEKEEPING: Duration = Duration::from_secs(60);

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
    targets: Vec<publish::Target>,
    /// Whether the housekeeping timer runs (it starts with the first connection).
    housekeeping: bool,
    /// The ACL file's rules; `None` allows everything.
    acl: Option<Arc<crate::auth::acl::Acl>>,
    /// Authenticators replaced by a reload, finishing the exchanges they started.
    retired: Vec<authz::Retired>,
    /// Per-listener connection counts and per-address connection rates.
    admission: admission::Admission,
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
        c.last_packet = now;
        if c.refusal.is_some() && !matches!(input, Input::Closed) {
            // A refused login waits for its CONNACK; nothing else is read [MQTT-3.1.4-6].
            return;
        }
        match input {
            Input::Packet(packet) => self.handle_packet(conn, packet, now),
            Input::Malformed(error) => self.protocol_violation(conn, &error, now),
            Input::Closed => {
                let c = &self.conns[&conn];
                if c.session().is_some() {
                    tracing::info!(conn = %conn, client_id = %c.client_id, "connection lost");
                }
                self.close(conn, CloseReason::Transport, now)
            }
        }
    }

    /// The earliest time [`Engine::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// Runs every timer due at `now`: connect deadlines, keep alive, will delays and session
    /// expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, timer))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            match timer {
                Timer::Conn(id) => self.check_keep_alive(id, now),
                Timer::Will(sid, generation) => self.will_timer(sid, generation, now),
                Timer::Expiry(sid, generation) => self.expiry_timer(sid, generation, now),
                Timer::Refuse(id) => self.refusal_timer(id, now),
                Timer::Credentials(id) => self.credentials_timer(id, now),
                Timer::Housekeeping => {
                    // Expired retained messages are never sent [MQTT-3.3.2-5]; here they also
                    // give their memory back.
                    self.retained.retain(|m| !m.is_expired(now));
                    self.admission
                        .forget_refilled(&self.settings.listeners, now);
                    self.schedule(now + HOUSEKEEPING, Timer::Housekeeping);
                }
            }
        }
    }

    /// The outputs produced so far, in order.
    pub fn drain_outputs(&mut self) -> std::vec::Drain<'_, Output> {
        self.out.drain(..)
    }

    /// Ends every connection for a server shutdown: 5.0 clients are told 0x8B Server shutting
    /// down. Sessions stay as they are.
    pub fn shutdown(&mut self, now: Instant) {
        let mut ids: Vec<ConnId> = self.conns.keys().copied().collect();
        ids.sort();
        for id in ids {
            self.close(
                id,
                CloseReason::Server(ReasonCode::SERVER_SHUTTING_DOWN),
                now,
            );
        }
    }

    /// The number of sessions held, online and offline.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Checks the bounds the engine promises, for tests and fuzzing: every inflight window
    /// within the server's limit, its send order and resend counters in agreement with its
    /// entries, and every queue within its limits. (A queue may hold up to one window more
    /// than its message limit: the in-flight shared-subscription messages put back when no
    /// other member could take them.)
    pub fn check_invariants(&self) -> Result<(), String> {
        let window = usize::from(self.settings.max_inflight);
        let queue = self.settings.queue;
        for (sid, s) in &self.sessions {
            if s.inflight.len() > window {
                return Err(format!(
                    "{sid:?}: {} in flight > {window}",
                    s.inflight.len()
                ));
            }
            s.inflight.check().map_err(|e| format!("{sid:?}: {e}"))?;
            if s.queue.len() > queue.max_messages + window {
                return Err(format!(
                    "{sid:?}: {} queued > {}",
                    s.queue.len(),
                    queue.max_messages
                ));
            }
            let bytes: usize = s.queue.iter().map(Delivery::cost).sum();
            if bytes != s.queued_bytes {
                return Err(format!(
                    "{sid:?}: queued bytes {} counted as {}",
                    bytes, s.queued_bytes
                ));
            }
            if s.inbound_qos2.len() > usize::from(self.settings.receive_maximum) {
                return Err(format!(
                    "{sid:?}: {} inbound QoS 2 > Receive Maximum",
                    s.inbound_qos2.len()
                ));
            }
        }
        if self.connected > self.conns.len() {
            return Err(format!(
                "{} connected > {} connections",
                self.connected,
                self.conns.len()
            ));
        }
        Ok(())
    }

    /// The number of connections that have completed CONNECT.
    pub fn connection_count(&self) -> usize {
        self.connected
    }

    fn schedule(&mut self, at: Instant, timer: Timer) {
        self.timers.push(Reverse((at, timer)));
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
            (Packet::Auth(_), Some(_)) => {
                // Re-authentication needs an authentication method, and none was used.
                self.protocol_error(conn, "[§4.12.1] AUTH without an authentication method", now)
            }
            (other, Some(_)) => {
                let what = format!("{} is sent only by servers", other.packet_type());
                self.protocol_error(conn, &what, now)
            }
        }
    }

    fn handle_disconnect(&mut self, conn: ConnId, d: Disconnect, now: Instant) {
        let c = self.conns.get_mut(&conn).expect("connection exists");
        if let Some(Property::SessionExpiryInterval(secs)) = d
            .properties
            .get(crate::codec::PropertyId::SessionExpiryInterval)
        {
            // A session that was to end with the connection cannot be made to outlive it
            // (section 3.14.2.2.2).
            if c.connect_session_expiry == 0 && *secs != 0 {
                return self.protocol_error(
                    conn,
                    "[§3.14.2.2.2] Session Expiry Interval raised from 0 at DISCONNECT",
                    now,
                );
            }
            let secs = (*secs).min(self.settings.max_session_expiry_interval);
            if let Some(s) = c.session().and_then(|sid| self.sessions.get_mut(&sid)) {
                s.expiry_interval = secs;
            }
        }
        // Only 0x00 Normal disconnection discards the will [MQTT-3.14.4-3]; 0x04 asks for it,
        // and an error code (0x80 and above) leaves it to be published like any other close.
        let reason = if d.reason == ReasonCode::SUCCESS {
            CloseReason::Normal
        } else {
            CloseReason::NormalWithWill
        };
        tracing::info!(conn = %conn, client_id = %self.conns[&conn].client_id, reason = ?d.reason, "client disconnected");
        self.close(conn, reason, now);
    }

    /// A packet the codec could not decode: one log line, the reason code, the close.
    fn protocol_violation(&mut self, conn: ConnId, error: &DecodeError, now: Instant) {
        let c = &self.conns[&conn];
        tracing::warn!(conn = %conn, client_id = %c.client_id, "closed: {error}");
        if c.session().is_none() && error.packet == Some(PacketType::Connect) {
            return self.refuse_bad_connect(conn, error, now);
        }
        let reason = error.reason_code();
        self.close_with(conn, reason, Some(error.to_string()), now);
    }

    /// A packet that decodes but is not allowed here: a Protocol Error (0x82).
    fn protocol_error(&mut self, conn: ConnId, what: &str, now: Instant) {
        let c = &self.conns[&conn];
        tracing::warn!(conn = %conn, client_id = %c.client_id, "closed: protocol error: {what}");
        self.close_with(
            conn,
            ReasonCode::PROTOCOL_ERROR,
            Some(what.to_string()),
            now,
        );
    }

    /// Closes with a server reason, telling a 5.0 client why in DISCONNECT.
    fn close_with(&mut self, conn: ConnId, reason: ReasonCode, text: Option<String>, now: Instant) {
        if let Some(c) = self.conns.get(&conn) {
            if c.protocol.is_v5() && c.session().is_some() {
                let mut d = Disconnect::new(reason);
                if let Some(text) = text {
                    d.properties.push(Property::ReasonString(text.into()));
                }
                let max = c.client_max_packet_size as usize;
                if Packet::Disconnect(d.clone())
                    .encoded_len(c.protocol)
                    .unwrap_or(usize::MAX)
                    > max
                {
                    // Leave the Reason String out rather than exceed the client's limit
                    // [MQTT-3.14.2-3].
                    d.properties = Default::default();
                }
                self.send(conn, &Packet::Disconnect(d));
            }
        }
        self.close_inner(conn, CloseReason::Server(reason), now);
    }

    fn close(&mut self, conn: ConnId, reason: CloseReason, now: Instant) {
        if let CloseReason::Server(code) = reason {
            return self.close_with(conn, code, None, now);
        }
        self.close_inner(conn, reason, now);
    }

    /// Forgets the connection and settles its session: the will is published, delayed or
    /// discarded, and the session ends now or when its expiry interval runs out.
    fn close_inner(&mut self, conn: ConnId, reason: CloseReason, now: Instant) {
        let Some(mut c) = self.conns.remove(&conn) else {
            return;
        };
        self.out.push(Output::Close { conn });
        self.auth_closed(conn);
        let Some(sid) = c.session() else {
            return;
        };
        self.connected -= 1;
        self.admission.disconnected(c.info.listener);
        // Only DISCONNECT 0x00 discards the will [MQTT-3.14.4-3] [MQTT-3.1.2-10].
        let will = if reason == CloseReason::Normal {
            None
        } else {
            c.will.take().map(|w| *w)
        };
        let will = will.filter(|w| self.will_still_authorized(&c, w));
        let Some(s) = self.sessions.get_mut(&sid).filter(|s| s.conn == Some(conn)) else {
            if let Some(will) = will {
                self.publish_will(sid, will, now);
            }
            return;
        };
        s.conn = None;
        s.generation += 1;
        let expiry = s.expiry_interval;
        self.redistribute_shared(sid, now);
        if let Some(will) = will {
            self.leave_will(sid, will, now);
        }
        match expiry {
            0 => self.end_session(sid, now),
            u32::MAX => {}
            secs => {
                let at = now + Duration::from_secs(u64::from(secs));
                let s = self.sessions.get_mut(&sid).expect("session exists");
                s.expires_at = Some(at);
                let generation = s.generation;
                self.schedule(at, Timer::Expiry(sid, generation));
            }
        }
    }

    /// Ends a session: its subscriptions leave the router and a will still waiting is
    /// published now, since a session's end is one of the will's two triggers [MQTT-3.1.2-8].
    fn end_session(&mut self, sid: SubscriberId, now: Instant) {
        let Some(mut s) = self.sessions.remove(&sid) else {
            return;
        };
        if self.by_client_id.get(&s.client_id) == Some(&sid) {
            self.by_client_id.remove(&s.client_id);
        }
        for filter in s.filters() {
            self.router.unsubscribe(sid, filter);
        }
        if let Some(pending) = s.pending_will.take() {
            self.publish_will(sid, pending.will, now);
        }
        tracing::debug!(client_id = %s.client_id, "session ended");
    }

    fn check_keep_alive(&mut self, id: ConnId, now: Instant) {
        let Some(c) = self.conns.get(&id).filter(|c| c.refusal.is_none()) else {
            return; // Gone, or a refused login that its refusal timer closes.
        };
        match c.keep_alive_deadline() {
            Some(deadline) if deadline <= now => {
                let waiting = matches!(c.phase, Phase::AwaitingConnect { .. });
                tracing::info!(conn = %id, client_id = %c.client_id,
                    "closed: {}", if waiting { "no CONNECT in time" } else { "keep alive expired [MQTT-3.1.2-22]" });
                if waiting {
                    self.close(id, CloseReason::Transport, now);
                } else {
                    self.close(id, CloseReason::Server(ReasonCode::KEEP_ALIVE_TIMEOUT), now);
                }
            }
            Some(deadline) => self.schedule(deadline, Timer::Conn(id)),
            None => {}
        }
    }

    fn expiry_timer(&mut self, sid: SubscriberId, generation: u64, now: Instant) {
        let due = self.sessions.get(&sid).is_some_and(|s| {
            s.conn.is_none() && s.generation == generation && s.expires_at.is_some_and(|t| t <= now)
        });
        if due {
            self.end_session(sid, now);
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
        match packet.to_bytes(c.protocol) {
            Ok(frame) if frame.len() <= c.client_max_packet_size as usize => {
                self.out.push(Output::Send {
                    conn,
                    frame,
                    droppable,
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
