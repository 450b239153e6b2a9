//! A takeover waits for the old connection's last packets.
//!
//! A client that ends its session (DISCONNECT with Session Expiry 0, or a 3.1.1 clean session)
//! and connects again at once sent its old connection's last packets before the new CONNECT.
//! The two connections are read by different tasks, though, and the new CONNECT may reach the
//! engine first. Deciding the takeover then would resume a session that should have ended
//! (Session Present 1 [MQTT-3.2.2-3]), route a PUBLISH sent before the DISCONNECT after the
//! new connection's, or publish a will or not depending on timing.
//!
//! So a CONNECT that would take a session over from a connection still open waits. The engine
//! asks the transport to tell it when that connection has nothing more to deliver
//! ([`Output::Drain`]: whatever its socket held has been read and applied), and decides on the
//! [`Input::Quiet`] that answers, on the old connection's close, or after [`TAKEOVER_WAIT`] at
//! the latest. The new connection is paused meanwhile, and what it sends after its CONNECT
//! waits, in order, as it does for a hook's answer. The result is what it would have been had
//! the old connection's packets been read first.

use std::time::{Duration, Instant};

use super::conn::ConnId;
use super::hooks::Pending;
use super::{Engine, Output, Timer};
use crate::codec::{Connect, Properties};

/// The longest a takeover waits for the old connection (the transport answers sooner: it
/// bounds its own wait more tightly).
pub(super) const TAKEOVER_WAIT: Duration = Duration::from_secs(1);

impl Engine {
    /// Accepts a CONNECT whose credentials were accepted, once a connection that holds its
    /// session has delivered everything it had (see the module's text).
    pub(super) fn accept(
        &mut self,
        conn: ConnId,
        connect: Connect,
        auth_properties: Properties,
        now: Instant,
    ) {
        let old = (self.by_client_id.get(&connect.client_id))
            .and_then(|sid| self.sessions[sid].conn)
            .filter(|old| *old != conn);
        let Some(old) = old else {
            return self.take_session(conn, connect, auth_properties, now);
        };
        let pending = Pending::Takeover(Box::new((connect, auth_properties)));
        let id = self.set_aside(conn, pending);
        let waiting = self.takeovers.entry(old).or_default();
        if waiting.is_empty() {
            self.out.push(Output::Drain { conn: old });
        }
        waiting.push((conn, id));
        self.schedule(now + TAKEOVER_WAIT, Timer::Takeover(conn, id));
        tracing::debug!(conn = %conn, old = %old, "takeover waits for the old connection's input");
    }

    /// `old` has delivered everything it had, or is gone: the takeovers waiting for it go on.
    pub(super) fn quiet(&mut self, old: ConnId, now: Instant) {
        for (conn, id) in self.takeovers.remove(&old).unwrap_or_default() {
            self.resume_takeover(conn, id, now);
        }
    }

    /// The wait of takeover `id` by `conn` is over, whether or not the old connection went
    /// quiet in time.
    pub(super) fn takeover_timer(&mut self, conn: ConnId, id: u64, now: Instant) {
        let mut late = false;
        for waiting in self.takeovers.values_mut() {
            let before = waiting.len();
            waiting.retain(|w| *w != (conn, id));
            late |= waiting.len() != before;
        }
        self.takeovers.retain(|_, waiting| !waiting.is_empty());
        if late {
            tracing::debug!(conn = %conn, "takeover goes on: the old connection did not go quiet in time");
            self.resume_takeover(conn, id, now);
        }
    }

    fn resume_takeover(&mut self, conn: ConnId, id: u64, now: Instant) {
        let Some((pending, backlog)) = self.take_asking(conn, id) else {
            return; // The new connection closed meanwhile.
        };
        match pending {
            Pending::Takeover(waiting) => {
                let (connect, auth_properties) = *waiting;
                self.take_session(conn, connect, auth_properties, now);
            }
            other => tracing::error!(conn = %conn, ?other, "a takeover's wait ended another"),
        }
        self.replay(conn, backlog, now);
    }
}
