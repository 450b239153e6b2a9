//! What the engine counts, broker-wide: plain counters that only the engine writes, on its
//! own task, with no atomics on the hot path; and the [`Snapshot`] it makes of them (and of
//! what it holds) when the transport asks, once a second. Metrics, `$SYS` topics and the
//! HTTP API read snapshots; none of them asks the engine anything per request.

use std::time::{Duration, Instant};

use crate::codec::{QoS, ReasonCode};

/// Counters since the engine started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Messages an offline session's full queue dropped (`[limits] offline_queue_policy`),
    /// including those trimmed when a session went offline over its limits.
    pub offline_dropped: u64,
    /// Times a publisher was held back because a destination's queue was full.
    pub publishers_held_back: u64,
    /// Connections closed with 0x97 Quota exceeded as slow subscribers.
    pub slow_subscribers_closed: u64,
    /// CONNECTs refused because they would have started a session past `max_sessions`.
    pub sessions_refused: u64,
    /// Retained messages for a new topic not kept, past `max_retained`.
    pub retained_refused: u64,
    /// CONNECTs accepted (CONNACK 0x00 sent).
    pub connections_accepted: u64,
    /// CONNECTs refused, by the reason code of the CONNACK (or the close, for a CONNECT that
    /// did not decode: counted under 0x81 Malformed Packet).
    pub connections_refused: [u64; 256],
    /// Logins refused for their credentials or rights (CONNACK 0x86 Bad User Name or
    /// Password, 0x87 Not authorized, 0x8C Bad authentication method).
    pub auth_failures: u64,
    /// Re-authentications (MQTT 5.0 AUTH 0x19) that succeeded, and those that failed and
    /// closed their connection.
    pub reauthentications: u64,
    pub reauth_failures: u64,
    /// 3.x connections closed rather than acknowledge a QoS 1/2 PUBLISH nobody could decide
    /// about (a hook that missed its deadline, an `[auth]` source that did not answer).
    pub undecided_closed: u64,
    /// PUBLISH packets received from clients, by QoS, and the bytes of their topics and
    /// payloads.
    pub messages_received: [u64; 3],
    pub bytes_received: u64,
    /// PUBLISH packets sent to clients, by QoS, and the bytes of their topics and payloads.
    pub messages_sent: [u64; 3],
    pub bytes_sent: u64,
    /// Deliveries dropped because their message expired before it could be sent
    /// [MQTT-3.3.2-5].
    pub expired_dropped: u64,
    /// Deliveries dropped because they were larger than the client's Maximum Packet Size
    /// [MQTT-3.1.2-25].
    pub too_large_dropped: u64,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            offline_dropped: 0,
            publishers_held_back: 0,
            slow_subscribers_closed: 0,
            sessions_refused: 0,
            retained_refused: 0,
            connections_accepted: 0,
            connections_refused: [0; 256],
            auth_failures: 0,
            reauthentications: 0,
            reauth_failures: 0,
            undecided_closed: 0,
            messages_received: [0; 3],
            bytes_received: 0,
            messages_sent: [0; 3],
            bytes_sent: 0,
            expired_dropped: 0,
            too_large_dropped: 0,
        }
    }
}

impl Stats {
    /// A PUBLISH received at `qos`, of `bytes` of topic and payload.
    pub(super) fn received(&mut self, qos: QoS, bytes: usize) {
        self.messages_received[qos as usize] += 1;
        self.bytes_received += bytes as u64;
    }

    /// A PUBLISH sent at `qos`.
    pub(super) fn sent(&mut self, qos: QoS, bytes: usize) {
        self.messages_sent[qos as usize] += 1;
        self.bytes_sent += bytes as u64;
    }

    /// A CONNECT refused with `code`; a refusal for the client's credentials or rights is
    /// an authentication failure too.
    pub(super) fn refused(&mut self, code: ReasonCode) {
        self.connections_refused[usize::from(code.0)] += 1;
        if matches!(
            code,
            ReasonCode::BAD_USER_NAME_OR_PASSWORD
                | ReasonCode::NOT_AUTHORIZED
                | ReasonCode::BAD_AUTHENTICATION_METHOD
        ) {
            self.auth_failures += 1;
        }
    }

    /// Every message dropped, for whatever reason: `$SYS/broker/publish/messages/dropped`.
    pub fn dropped(&self) -> u64 {
        self.offline_dropped + self.expired_dropped + self.too_large_dropped
    }
}

/// The engine's counters and what it holds, at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub stats: Stats,
    /// How long the engine has been running (since [`super::Engine::start`]).
    pub uptime: Duration,
    /// Connections that completed CONNECT, and all connections open (some still before
    /// CONNECT).
    pub connections: usize,
    pub sockets: usize,
    /// Sessions with a connection, and without one (kept for their client to come back).
    pub sessions_online: usize,
    pub sessions_offline: usize,
    /// Subscriptions of every session (a shared subscription counts once per member).
    pub subscriptions: usize,
    /// Topics with a retained message.
    pub retained: usize,
    /// Messages waiting in sessions' queues, and the bytes of their topics and payloads.
    pub queued_messages: usize,
    pub queued_bytes: usize,
    /// QoS 1 and 2 messages sent and not yet acknowledged.
    pub inflight: usize,
}

impl super::Engine {
    /// What the engine has counted and holds now. Walks the sessions (about a microsecond
    /// per thousand): the transport takes one a second, not one per request.
    pub fn snapshot(&self, now: Instant) -> Snapshot {
        let mut s = Snapshot {
            stats: self.stats.clone(),
            uptime: self.uptime(now),
            connections: self.connected,
            sockets: self.conns.len(),
            subscriptions: self.router.len(),
            retained: self.retained.len(),
            ..Snapshot::default()
        };
        for session in self.sessions.values() {
            match session.conn {
                Some(_) => s.sessions_online += 1,
                None => s.sessions_offline += 1,
            }
            let (messages, bytes) = session.held();
            s.queued_messages += messages;
            s.queued_bytes += bytes;
            s.inflight += session.inflight.len();
        }
        s
    }

    /// How long since [`super::Engine::start`].
    pub(super) fn uptime(&self, now: Instant) -> Duration {
        self.started
            .map_or(Duration::ZERO, |start| now.saturating_duration_since(start))
    }
}
