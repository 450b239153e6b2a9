//! Admission per listener: the rules a listener adds to the broker-wide ones before a client
//! is let in.
//!
//! - `max_connections`: the most connections with CONNACK sent that came through this
//!   listener. Counted like `limits.max_connections` (from a successful CONNACK to the close;
//!   a takeover through the same listener replaces a connection rather than adding one), and
//!   refused the same way: CONNACK 0x97 Quota exceeded (3.x: 0x03 Server unavailable).
//! - `max_connection_rate_per_ip`: the most new connections per second from one client
//!   address (the address after PROXY protocol processing). Each address has a token bucket
//!   holding up to one second's worth of connections and refilled continuously at that rate;
//!   every connection opened takes a token. A connection that finds the bucket empty is still
//!   read up to its CONNECT, which gets CONNACK 0x9F Connection rate exceeded (3.x: 0x03
//!   Server unavailable) before the close; a client that sends no CONNECT is closed at the
//!   connect timeout. Refused connections take no token, so a client that keeps retrying
//!   faster than the rate stays refused only while it does. One log line at `info` per
//!   address and second of refusals; the others are at `debug`.
//! - `allow_anonymous`: overrides `[auth] allow_anonymous` for this listener (see
//!   [`ListenerSettings::allow_anonymous`]).
//!
//! Everything here runs in the engine with the time passed in, as the rest of it does.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ahash::AHashMap;

use super::auth::AuthDecision;
use super::conn::ConnId;
use super::conn_info::ConnInfo;
use super::{CloseReason, Engine};
use crate::codec::{ConnAck, Connect, Packet, PropertyId, ReasonCode};

/// What one listener adds to the broker-wide admission rules. The default adds nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListenerSettings {
    /// Whether clients that present no credentials at all (no user name, no password, no
    /// Authentication Method) may connect through this listener. `None` leaves it to the
    /// authenticator (`[auth] allow_anonymous`); `Some(false)` refuses them with CONNACK 0x87
    /// Not authorized (3.x: 0x05) at once; `Some(true)` lets them in even when `[auth]`
    /// forbids anonymous access. Clients with credentials are always checked by the
    /// authenticator.
    pub allow_anonymous: Option<bool>,
    /// The most connections with CONNACK sent through this listener; `None`: no limit of its
    /// own.
    pub max_connections: Option<usize>,
    /// The most new connections per second from one client address; `None`: no limit.
    pub max_connection_rate_per_ip: Option<u32>,
}

/// Most addresses whose connection rate is tracked at once. When the table is full, the
/// addresses whose buckets have refilled are forgotten; if none has, a new address is let in
/// untracked (and a warning logged), so that memory stays bounded.
const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// The state of admission: connections per listener and the per-address buckets.
#[derive(Debug, Default)]
pub(super) struct Admission {
    /// Connections with CONNACK sent, by listener position.
    connected: Vec<usize>,
    /// The connection-rate bucket of each (listener, client address).
    buckets: AHashMap<(usize, IpAddr), Bucket>,
    /// When the last `info` line about the table being full was written.
    table_full_logged: Option<Instant>,
}

/// A token bucket: `tokens` as of `at`.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
    /// When a refusal was last logged at `info` for this address.
    logged: Option<Instant>,
}

impl Bucket {
    /// The tokens there are at `now`, refilled at `rate` per second up to `rate`.
    fn refill(&mut self, rate: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.at = now;
    }
}

/// Why a connection was not admitted when it opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Its address opened connections faster than the listener allows.
    RateExceeded,
}

impl Admission {
    /// A connection opens: takes a token from its address's bucket, or says why not.
    pub fn open(
        &mut self,
        listeners: &[ListenerSettings],
        info: &ConnInfo,
        now: Instant,
    ) -> Result<(), Refusal> {
        let Some(rate) = listener(listeners, info.listener).max_connection_rate_per_ip else {
            return Ok(());
        };
        let Some(peer) = info.peer else {
            return Ok(());
        };
        let rate = f64::from(rate);
        let key = (info.listener, canonical(peer.ip()));
        if !self.buckets.contains_key(&key) && self.buckets.len() >= MAX_TRACKED_ADDRESSES {
            self.forget_refilled(listeners, now);
            if self.buckets.len() >= MAX_TRACKED_ADDRESSES {
                if self
                    .table_full_logged
                    .is_none_or(|at| now.saturating_duration_since(at) >= Duration::from_secs(60))
                {
                    self.table_full_logged = Some(now);
                    tracing::warn!(
                        "connection rate: {MAX_TRACKED_ADDRESSES} addresses tracked; \
                         new addresses are let in untracked"
                    );
                }
                return Ok(());
            }
        }
        let bucket = self.buckets.entry(key).or_insert(Bucket {
            tokens: rate,
            at: now,
            logged: None,
        });
        bucket.refill(rate, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let loud = bucket
            .logged
            .is_none_or(|at| now.saturating_duration_since(at) >= Duration::from_secs(1));
        if loud {
            bucket.logged = Some(now);
            tracing::info!(peer = %peer.ip(), listener = info.listener,
                "connections refused: more than {rate} per second from this address");
        } else {
            tracing::debug!(peer = %peer.ip(), listener = info.listener,
                "connection refused: connection rate exceeded");
        }
        Err(Refusal::RateExceeded)
    }

    /// Whether `listener` already has as many connections as it allows. `replacing` is true
    /// when the new one takes over a session whose connection came through the same
    /// listener, and so replaces it rather than adding one.
    pub fn is_full(&self, listeners: &[ListenerSettings], index: usize, replacing: bool) -> bool {
        match listener(listeners, index).max_connections {
            Some(max) => !replacing && self.connected.get(index).copied().unwrap_or(0) >= max,
            None => false,
        }
    }

    /// A connection through `listener` got its CONNACK.
    pub fn connected(&mut self, index: usize) {
        if self.connected.len() <= index {
            self.connected.resize(index + 1, 0);
        }
        self.connected[index] += 1;
    }

    /// A connection through `listener` that had its CONNACK closed.
    pub fn disconnected(&mut self, index: usize) {
        if let Some(n) = self.connected.get_mut(index) {
            *n = n.saturating_sub(1);
        }
    }

    /// The connections with CONNACK sent through each listener, by position.
    pub fn connected_per_listener(&self) -> &[usize] {
        &self.connected
    }

    /// Forgets the addresses whose buckets are full again: they hold nothing a new bucket
    /// would not. Run from housekeeping, and when the table is full.
    pub fn forget_refilled(&mut self, listeners: &[ListenerSettings], now: Instant) {
        self.buckets.retain(|(index, _), bucket| {
            let Some(rate) = listener(listeners, *index).max_connection_rate_per_ip else {
                return false;
            };
            let rate = f64::from(rate);
            bucket.refill(rate, now);
            bucket.tokens < rate
        });
    }

    /// How many addresses are tracked, for tests.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

/// The settings of listener `index`; a listener the settings do not name adds nothing.
pub(super) fn listener(listeners: &[ListenerSettings], index: usize) -> &ListenerSettings {
    static NONE: ListenerSettings = ListenerSettings {
        allow_anonymous: None,
        max_connections: None,
        max_connection_rate_per_ip: None,
    };
    listeners.get(index).unwrap_or(&NONE)
}

/// The client's address for log lines: `a.b.c.d:port`, or `local` (a Unix socket, or an
/// engine driven without sockets).
pub(super) fn peer_text(info: &ConnInfo) -> String {
    info.peer
        .map_or_else(|| "local".to_owned(), |peer| peer.to_string())
}

impl Engine {
    /// The listener's own answer to a CONNECT without any credentials, if it has one
    /// ([`ListenerSettings::allow_anonymous`]); `None` leaves the CONNECT to the
    /// authenticator.
    pub(super) fn listener_anonymous_decision(
        &self,
        conn: ConnId,
        connect: &Connect,
    ) -> Option<AuthDecision> {
        let anonymous = connect.username.is_none()
            && connect.password.is_none()
            && connect
                .properties
                .get(PropertyId::AuthenticationMethod)
                .is_none();
        if !anonymous {
            return None;
        }
        let index = self.conns.get(&conn)?.info.listener;
        match listener(&self.settings.listeners, index).allow_anonymous? {
            true => Some(AuthDecision::Accept),
            false => {
                tracing::debug!(conn = %conn, listener = index,
                    "anonymous access is off on this listener");
                Some(AuthDecision::Refuse(ReasonCode::NOT_AUTHORIZED))
            }
        }
    }

    /// Whether accepting `connect` on `conn` would take its listener over its
    /// `max_connections`. A takeover of a session whose connection came through the same
    /// listener replaces that connection and so is never over.
    pub(super) fn listener_is_full(&self, conn: ConnId, connect: &Connect) -> bool {
        let Some(index) = self.conns.get(&conn).map(|c| c.info.listener) else {
            return false;
        };
        let replacing = self
            .by_client_id
            .get(&connect.client_id)
            .and_then(|sid| self.sessions.get(sid))
            .and_then(|s| s.conn)
            .and_then(|old| self.conns.get(&old))
            .is_some_and(|old| old.info.listener == index);
        self.admission
            .is_full(&self.settings.listeners, index, replacing)
    }

    /// Refuses a CONNECT whose connection the listener's admission rules already refused
    /// (and logged, at most once a second per address) when it opened: CONNACK with `code`
    /// (mapped to a 3.x return code for 3.x clients), then the close.
    pub(super) fn refuse_quietly(&mut self, conn: ConnId, code: ReasonCode, now: Instant) {
        self.stats.refused(code);
        tracing::debug!(conn = %conn, reason = ?code, "connection refused at CONNECT");
        self.send(conn, &Packet::ConnAck(ConnAck::new(code)));
        self.close(conn, CloseReason::Transport, now);
    }

    /// Connections with CONNACK sent through each listener, by the listener's position in
    /// the configuration (a listener that never had one may be missing from the end).
    pub fn connections_per_listener(&self) -> &[usize] {
        self.admission.connected_per_listener()
    }
}

/// An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`, from a dual-stack socket) counts as the
/// IPv4 address it is.
pub(super) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn info(listener: usize, peer: &str) -> ConnInfo {
        ConnInfo {
            listener,
            peer: Some(peer.parse::<SocketAddr>().unwrap()),
            ..ConnInfo::default()
        }
    }

    fn rated(rate: u32) -> Vec<ListenerSettings> {
        vec![
            ListenerSettings::default(),
            ListenerSettings {
                max_connection_rate_per_ip: Some(rate),
                ..ListenerSettings::default()
            },
        ]
    }

    #[test]
    fn the_rate_allows_a_burst_of_one_second_then_refills() {
        let listeners = rated(3);
        let mut a = Admission::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(a.open(&listeners, &info(1, "10.0.0.1:1000"), t0), Ok(()));
        }
        let refused = a.open(&listeners, &info(1, "10.0.0.1:1001"), t0);
        assert_eq!(refused, Err(Refusal::RateExceeded));
        // Another address, and another listener, have their own budgets.
        assert_eq!(a.open(&listeners, &info(1, "10.0.0.2:1000"), t0), Ok(()));
        for _ in 0..10 {
            assert_eq!(a.open(&listeners, &info(0, "10.0.0.1:1000"), t0), Ok(()));
        }
        // A third of a second brings one token back, not two.
        let t1 = t0 + Duration::from_millis(340);
        assert_eq!(a.open(&listeners, &info(1, "10.0.0.1:1000"), t1), Ok(()));
        assert!(a.open(&listeners, &info(1, "10.0.0.1:1000"), t1).is_err());
    }

    #[test]
    fn mapped_ipv4_counts_as_ipv4() {
        let listeners = rated(1);
        let mut a = Admission::default();
        let t0 = Instant::now();
        assert!(a.open(&listeners, &info(1, "10.0.0.1:1"), t0).is_ok());
        assert!(a
            .open(&listeners, &info(1, "[::ffff:10.0.0.1]:2"), t0)
            .is_err());
    }

    #[test]
    fn refilled_buckets_are_forgotten() {
        let listeners = rated(2);
        let mut a = Admission::default();
        let t0 = Instant::now();
        assert!(a.open(&listeners, &info(1, "10.0.0.1:1"), t0).is_ok());
        assert!(a.open(&listeners, &info(1, "10.0.0.2:1"), t0).is_ok());
        assert_eq!(a.tracked(), 2);
        a.forget_refilled(&listeners, t0 + Duration::from_millis(100));
        assert_eq!(a.tracked(), 2);
        a.forget_refilled(&listeners, t0 + Duration::from_secs(1));
        assert_eq!(a.tracked(), 0);
    }

    #[test]
    fn connections_without_an_address_or_a_limit_are_not_counted() {
        let listeners = rated(1);
        let mut a = Admission::default();
        let t0 = Instant::now();
        let unix = ConnInfo {
            listener: 1,
            ..ConnInfo::default()
        };
        for _ in 0..5 {
            assert!(a.open(&listeners, &unix, t0).is_ok());
            assert!(a.open(&listeners, &info(7, "10.0.0.1:1"), t0).is_ok());
        }
        assert_eq!(a.tracked(), 0);
    }

    #[test]
    fn the_listener_ceiling_counts_connected_clients() {
        let listeners = vec![ListenerSettings {
            max_connections: Some(2),
            ..ListenerSettings::default()
        }];
        let mut a = Admission::default();
        assert!(!a.is_full(&listeners, 0, false));
        a.connected(0);
        a.connected(0);
        assert!(a.is_full(&listeners, 0, false));
        assert!(!a.is_full(&listeners, 0, true));
        assert!(!a.is_full(&listeners, 3, false));
        a.disconnected(0);
        assert!(!a.is_full(&listeners, 0, false));
        assert_eq!(a.connected_per_listener(), [1]);
    }
}
