//! How connections end: DISCONNECT from the client (section 3.14), a protocol error, the
//! server closing with a reason code [MQTT-4.13.1-1], the network going away, a shutdown;
//! what becomes of the will and the session each time, and the end of a session.

use std::time::{Duration, Instant};

use super::conn::ConnId;
use super::hooks::{DropReason, Notice};
use super::store::Change;
use super::timers::Timer;
use super::{Engine, Output};
use crate::codec::{DecodeError, Disconnect, Packet, PacketType, Property, ReasonCode};
use crate::router::SubscriberId;

/// Why a connection ends, which decides what happens to its will and what the client is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CloseReason {
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

impl Engine {
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

    pub(super) fn handle_disconnect(&mut self, conn: ConnId, d: Disconnect, now: Instant) {
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
    pub(super) fn protocol_violation(&mut self, conn: ConnId, error: &DecodeError, now: Instant) {
        let c = &self.conns[&conn];
        tracing::warn!(conn = %conn, client_id = %c.client_id, "closed: {error}");
        if c.session().is_none() && error.packet == Some(PacketType::Connect) {
            return self.refuse_bad_connect(conn, error, now);
        }
        let reason = error.reason_code();
        self.close_with(conn, reason, Some(error.to_string()), now);
    }

    /// A packet that decodes but is not allowed here: a Protocol Error (0x82).
    pub(super) fn protocol_error(&mut self, conn: ConnId, what: &str, now: Instant) {
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
    pub(super) fn close_with(
        &mut self,
        conn: ConnId,
        reason: ReasonCode,
        text: Option<String>,
        now: Instant,
    ) {
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

    pub(super) fn close(&mut self, conn: ConnId, reason: CloseReason, now: Instant) {
        if let CloseReason::Server(code) = reason {
            return self.close_with(conn, code, None, now);
        }
        self.close_inner(conn, reason, now);
    }

    /// Forgets the connection and settles its session; a takeover waiting for its input goes
    /// on (see `takeover`).
    fn close_inner(&mut self, conn: ConnId, reason: CloseReason, now: Instant) {
        self.forget(conn, reason, now);
        if self.takeovers.contains_key(&conn) {
            self.quiet(conn, now);
        }
    }

    /// Forgets the connection and settles its session: the will is published, delayed or
    /// discarded, and the session ends now or when its expiry interval runs out.
    fn forget(&mut self, conn: ConnId, reason: CloseReason, now: Instant) {
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
        // An offline queue holds no publisher back.
        self.release_waiters(sid);
        if let Some(will) = will {
            self.leave_will(sid, will, now);
        }
        if expiry > 0 && reason != CloseReason::Server(ReasonCode::SESSION_TAKEN_OVER) {
            self.trim_offline(sid);
        }
        match expiry {
            0 => self.end_session(sid, now),
            u32::MAX => self.record_session(sid, now),
            secs => {
                let at = now + Duration::from_secs(u64::from(secs));
                let s = self.sessions.get_mut(&sid).expect("session exists");
                s.expires_at = Some(at);
                let generation = s.generation;
                self.schedule(at, Timer::Expiry(sid, generation));
                // Kept with the wall-clock time it ends, so that downtime counts.
                self.record_session(sid, now);
            }
        }
    }

    /// Ends a session: its subscriptions leave the router and a will still waiting is
    /// published now, since a session's end is one of the will's two triggers [MQTT-3.1.2-8].
    pub(super) fn end_session(&mut self, sid: SubscriberId, now: Instant) {
        self.end_session_as(sid, false, now);
    }

    /// Ends a session, which `expired` (or ended otherwise), and tells the hooks so.
    pub(super) fn end_session_as(&mut self, sid: SubscriberId, expired: bool, now: Instant) {
        self.release_waiters(sid);
        let Some(mut s) = self.sessions.remove(&sid) else {
            return;
        };
        if self.by_client_id.get(&s.client_id) == Some(&sid) {
            self.by_client_id.remove(&s.client_id);
        }
        if s.stored {
            self.record(Change::DeleteSession(s.client_id.clone()));
        }
        for filter in s.filters() {
            self.router.unsubscribe(sid, filter);
        }
        if let Some(pending) = s.pending_will.take() {
            let topic = pending.will.topic.as_byte_string().clone();
            self.publish_will(sid, pending.will, now);
            let client_id = s.client_id.clone();
            self.notice(|| Notice::WillPublished { client_id, topic });
        }
        tracing::debug!(client_id = %s.client_id, "session ended");
        let client_id = s.client_id.clone();
        self.notice(|| match expired {
            true => Notice::SessionExpired { client_id },
            false => Notice::SessionEnded { client_id },
        });
    }

    /// A session gone offline keeps the limits of an offline queue: what an online queue
    /// held beyond them (it never drops anything) goes as `[limits] offline_queue_policy`
    /// says. A takeover is not going offline: the next connection takes the queue whole.
    fn trim_offline(&mut self, sid: SubscriberId) {
        let (limits, policy) = (self.settings.queue, self.settings.offline_policy);
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let dropped = s.trim(limits, policy);
        if !dropped.is_empty() {
            self.stats.offline_dropped += dropped.len() as u64;
            let count = dropped.len() as u64;
            tracing::info!(client_id = %s.client_id, dropped = dropped.len(), ?policy,
                "session gone offline over its queue limits: messages dropped");
            for d in &dropped {
                self.record_gone(sid, d);
            }
            self.notice_drop(sid, DropReason::QueueFull, count);
        }
    }
}
