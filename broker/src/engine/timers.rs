//! Time in the engine: the timers it keeps (connect deadline and Keep Alive [MQTT-3.1.2-24],
//! will delay, session expiry, failed-login delay, credential expiry, housekeeping), when
//! the next one is due, and running those that are. The time is always passed in.

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use super::conn::{ConnId, Phase};
use super::lifecycle::CloseReason;
use super::Engine;
use crate::codec::ReasonCode;
use crate::router::SubscriberId;

/// What a timer is for; timers fire in time order, ties broken by this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Timer {
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
    /// A session's queue went over its high-water mark (episode number): a slow subscriber
    /// if it is still there.
    Slow(SubscriberId, u64),
    /// The `$SYS` topics are due (see `sys`).
    Sys,
    /// A takeover's longest wait for the old connection (the new connection, its wait's id).
    Takeover(ConnId, u64),
}

/// How often expired retained messages are purged.
pub(super) const HOUSEKEEPING: Duration = Duration::from_secs(60);

impl Engine {
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
                Timer::Takeover(conn, id) => self.takeover_timer(conn, id, now),
                Timer::Credentials(id) => self.credentials_timer(id, now),
                Timer::Slow(sid, episode) => self.slow_timer(sid, episode, now),
                Timer::Sys => self.sys_timer(now),
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

    pub(super) fn schedule(&mut self, at: Instant, timer: Timer) {
        self.timers.push(Reverse((at, timer)));
    }

    fn check_keep_alive(&mut self, id: ConnId, now: Instant) {
        let Some(c) = self.conns.get(&id).filter(|c| c.refusal.is_none()) else {
            return; // Gone, or a refused login that its refusal timer closes.
        };
        match c.keep_alive_deadline() {
            // A connection held back as a publisher is not read: its silence is the
            // broker's doing, so it is given another keep alive period.
            Some(deadline) if deadline <= now && c.paused => {
                let again = now + c.keep_alive.unwrap_or_default() * 3 / 2;
                self.schedule(again, Timer::Conn(id));
            }
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
            self.end_session_as(sid, true, now);
        }
    }
}
