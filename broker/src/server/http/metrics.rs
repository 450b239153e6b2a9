//! `GET /metrics`: the Prometheus exposition (OpenMetrics text) of the engine's last
//! snapshot, and of what the server measures itself (the engine's round time, the store's
//! commit time and size).
//!
//! The engine's figures are read from its snapshot (taken once a second by the engine task),
//! never asked for: a scrape costs the engine nothing, however often it comes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::Published;
use crate::codec::ReasonCode;

/// What the server measures itself, shared with the engine task and the commit thread.
#[derive(Debug)]
pub struct Measured {
    /// How long the engine took over each round of events.
    pub round_seconds: Histogram,
    /// How long each commit of the store took (write, and fsync when there was one).
    pub commit_seconds: Histogram,
    /// The store's size on disk, last measured.
    pub disk_bytes: AtomicU64,
    /// Questions to the hooks answered for them, because they missed their deadline.
    pub hook_timeouts: AtomicU64,
    /// Notices the hooks could not take in time (their queue was full).
    pub hook_notices_dropped: AtomicU64,
    /// What `[auth.http]` answered, when it is configured.
    pub auth_http: std::sync::OnceLock<Arc<crate::auth::http::HttpStats>>,
    /// The user stores of `[auth]` (`[auth.postgres]`, `[auth.redis]`), whose decisions are
    /// counted.
    pub sources: std::sync::Mutex<Vec<Arc<dyn crate::auth::source::UserSource>>>,
}

impl std::fmt::Debug for dyn crate::auth::source::UserSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Measured {
    /// Counts what `source` decides in `/metrics` (`tern_auth_<name>_*`).
    pub fn add_source(&self, source: Arc<dyn crate::auth::source::UserSource>) {
        self.sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(source);
    }
}

impl Default for Measured {
    fn default() -> Measured {
        Measured {
            // 10 µs to about 5 s.
            round_seconds: Histogram::new(exponential_buckets(1e-5, 2.0, 20)),
            commit_seconds: Histogram::new(exponential_buckets(1e-5, 2.0, 20)),
            disk_bytes: AtomicU64::new(0),
            hook_timeouts: AtomicU64::new(0),
            hook_notices_dropped: AtomicU64::new(0),
            auth_http: std::sync::OnceLock::new(),
            sources: std::sync::Mutex::new(Vec::new()),
        }
    }
}

/// The registry `/metrics` encodes: the measured histograms and the engine's snapshot.
pub fn registry(
    snapshot: tokio::sync::watch::Receiver<Arc<Published>>,
    measured: Arc<Measured>,
) -> Registry {
    let mut registry = Registry::with_prefix("tern");
    registry.register_with_unit(
        "engine_round",
        "Time the engine took over one round of events",
        Unit::Seconds,
        measured.round_seconds.clone(),
    );
    registry.register_with_unit(
        "store_commit",
        "Time one commit of the store took",
        Unit::Seconds,
        measured.commit_seconds.clone(),
    );
    registry.register_collector(Box::new(Engine { snapshot, measured }));
    registry
}

/// The engine's snapshot as metrics.
#[derive(Debug)]
struct Engine {
    snapshot: tokio::sync::watch::Receiver<Arc<Published>>,
    measured: Arc<Measured>,
}

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> std::fmt::Result {
    let c = ConstCounter::new(value);
    c.encode(e.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> std::fmt::Result {
    let g = ConstGauge::new(value as i64);
    g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
}

/// A counter with one label, one sample per value.
fn counters(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &'static str,
    samples: impl IntoIterator<Item = (String, u64)>,
) -> std::fmt::Result {
    let mut family = e.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (value, n) in samples {
        let labels = [(label, value)];
        ConstCounter::new(n).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for Engine {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let published = self.snapshot.borrow().clone();
        let s = &published.snapshot;
        let st = &s.stats;
        let qos = |v: &[u64; 3]| (0..3).map(|q| (q.to_string(), v[q])).collect::<Vec<_>>();
        gauge(
            &mut e,
            "uptime_seconds",
            "Seconds since the broker started",
            s.uptime.as_secs(),
        )?;
        gauge(
            &mut e,
            "connections",
            "Clients connected (CONNECT accepted)",
            s.connections as u64,
        )?;
        gauge(
            &mut e,
            "sockets",
            "Network connections open, before CONNECT included",
            s.sockets as u64,
        )?;
        counter(
            &mut e,
            "connections_accepted",
            "CONNECTs accepted",
            st.connections_accepted,
        )?;
        let refused = st
            .connections_refused
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| {
                let code = ReasonCode(code as u8);
                let name = code.name().unwrap_or("unknown");
                (format!("0x{:02X} {name}", code.0), *n)
            });
        counters(
            &mut e,
            "connections_refused",
            "CONNECTs refused, by reason code",
            "reason",
            refused,
        )?;
        counter(
            &mut e,
            "auth_failures",
            "Logins refused for their credentials",
            st.auth_failures,
        )?;
        counter(
            &mut e,
            "reauthentications",
            "Re-authentications (MQTT 5.0 AUTH 0x19) that succeeded",
            st.reauthentications,
        )?;
        counter(
            &mut e,
            "reauth_failures",
            "Re-authentications that failed and closed their connection",
            st.reauth_failures,
        )?;
        counter(
            &mut e,
            "undecided_publish_closed",
            "3.x connections closed rather than acknowledge a PUBLISH no hook or source decided",
            st.undecided_closed,
        )?;
        let mut sessions = e.encode_descriptor(
            "sessions",
            "Sessions held, by whether a client is connected to them",
            None,
            MetricType::Gauge,
        )?;
        for (state, n) in [
            ("online", s.sessions_online),
            ("offline", s.sessions_offline),
        ] {
            ConstGauge::new(n as i64).encode(sessions.encode_family(&[("state", state)])?)?;
        }
        gauge(
            &mut e,
            "subscriptions",
            "Subscriptions of every session",
            s.subscriptions as u64,
        )?;
        gauge(
            &mut e,
            "retained_messages",
            "Topics with a retained message",
            s.retained as u64,
        )?;
        counters(
            &mut e,
            "messages_received",
            "PUBLISH packets received, by QoS",
            "qos",
            qos(&st.messages_received),
        )?;
        counters(
            &mut e,
            "messages_sent",
            "PUBLISH packets sent, by QoS",
            "qos",
            qos(&st.messages_sent),
        )?;
        counter(
            &mut e,
            "message_bytes_received",
            "Bytes of topic and payload received in PUBLISH packets",
            st.bytes_received,
        )?;
        counter(
            &mut e,
            "message_bytes_sent",
            "Bytes of topic and payload sent in PUBLISH packets",
            st.bytes_sent,
        )?;
        let dropped = [
            ("queue_full".to_string(), st.offline_dropped),
            ("expired".to_string(), st.expired_dropped),
            ("too_large".to_string(), st.too_large_dropped),
        ];
        counters(
            &mut e,
            "messages_dropped",
            "Deliveries dropped, by reason",
            "reason",
            dropped,
        )?;
        counter(
            &mut e,
            "slow_subscribers_closed",
            "Connections closed with 0x97 for not reading (slow readers)",
            st.slow_subscribers_closed,
        )?;
        counter(
            &mut e,
            "publishers_held_back",
            "Times a publisher was held back by a full queue",
            st.publishers_held_back,
        )?;
        counter(
            &mut e,
            "sessions_refused",
            "CONNECTs refused past limits.max_sessions or a full store",
            st.sessions_refused,
        )?;
        counter(
            &mut e,
            "retained_refused",
            "Retained messages for a new topic not kept, past the limit",
            st.retained_refused,
        )?;
        gauge(
            &mut e,
            "queued_messages",
            "Messages waiting in sessions' queues",
            s.queued_messages as u64,
        )?;
        gauge(
            &mut e,
            "queued_bytes",
            "Bytes those messages count against the queue limits",
            s.queued_bytes as u64,
        )?;
        gauge(
            &mut e,
            "inflight_messages",
            "QoS 1 and 2 messages sent and not yet acknowledged",
            s.inflight as u64,
        )?;
        let disk = self.measured.disk_bytes.load(Ordering::Relaxed);
        gauge(
            &mut e,
            "store_disk_bytes",
            "The store's size on disk (0 without a store)",
            disk,
        )?;
        let m = &self.measured;
        counter(
            &mut e,
            "hook_timeouts",
            "Questions to the hooks answered for them after their deadline",
            m.hook_timeouts.load(Ordering::Relaxed),
        )?;
        counter(
            &mut e,
            "hook_notices_dropped",
            "Notices the hooks' full queue could not take",
            m.hook_notices_dropped.load(Ordering::Relaxed),
        )?;
        if let Some(http) = m.auth_http.get() {
            let answers = [
                (
                    "auth_http_allowed",
                    "auth.http answers: allow (or 204)",
                    &http.allowed,
                ),
                ("auth_http_denied", "auth.http answers: deny", &http.denied),
                (
                    "auth_http_ignored",
                    "auth.http answers: ignore (or another status)",
                    &http.ignored,
                ),
                (
                    "auth_http_unavailable",
                    "auth.http requests with no usable answer (refused, timed out, 5xx)",
                    &http.unavailable,
                ),
                (
                    "auth_http_garbage",
                    "auth.http 200 answers without a result",
                    &http.garbage,
                ),
            ];
            for (name, help, value) in answers {
                counter(&mut e, name, help, value.load(Ordering::Relaxed))?;
            }
        }
        let sources = m.sources.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for source in sources {
            // `auth.postgres` -> `auth_postgres_allowed`, ...
            let prefix = source.name().replace('.', "_");
            let s = source.stats();
            let answers = [
                ("allowed", "decisions: allow", &s.allowed),
                ("denied", "decisions: deny", &s.denied),
                ("ignored", "decisions: not its user or rule", &s.ignored),
                ("unavailable", "requests with no answer", &s.unavailable),
                (
                    "garbage",
                    "hashes not in the password file's format",
                    &s.garbage,
                ),
            ];
            for (name, help, value) in answers {
                let name = format!("{prefix}_{name}");
                let help = format!("{} {help}", source.name());
                counter(&mut e, &name, &help, value.load(Ordering::Relaxed))?;
            }
        }
        Ok(())
    }
}
