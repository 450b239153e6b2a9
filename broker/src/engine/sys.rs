//! The `$SYS` topics: the broker's own statistics, published as retained QoS 0 messages every
//! `sys_interval` ([`super::Settings::sys_interval`]), under Mosquitto's names where Mosquitto
//! has one, so that tools written for it read Tern too.
//!
//! A topic beginning with `$` is not matched by a filter beginning with a wildcard
//! [MQTT-4.7.2-1]: a client subscribed to `#` does not get these; it subscribes to `$SYS/#`.
//! They are values of the running broker, so the store does not keep them (`routing`).
//!
//! Loads (`load/.../1min`, `5min`, `15min`) are per-minute rates smoothed over that window,
//! as Mosquitto computes them: an exponential moving average updated at every publication.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::message::Message;
use super::timers::Timer;
use super::Engine;
use crate::codec::{Properties, QoS, TopicName};

/// The prefix of every topic published here.
pub const SYS_PREFIX: &str = "$SYS/";

/// The windows of the loads, with their names.
const WINDOWS: [(&str, f64); 3] = [("1min", 60.0), ("5min", 300.0), ("15min", 900.0)];

/// The counters whose per-minute rates are published as loads, with their names.
const LOADS: [&str; 5] = [
    "messages/received",
    "messages/sent",
    "bytes/received",
    "bytes/sent",
    "connections",
];

/// What the loads were computed from last time.
#[derive(Debug, Default)]
pub(super) struct Loads {
    /// The counters at the last publication, and when.
    last: Option<([u64; LOADS.len()], Instant)>,
    /// The smoothed per-minute rates, by counter and window.
    rates: [[f64; WINDOWS.len()]; LOADS.len()],
}

impl Engine {
    /// The `$SYS` topics are due: publishes them, and schedules the next time.
    pub(super) fn sys_timer(&mut self, now: Instant) {
        let Some(interval) = self.settings.sys_interval else {
            return;
        };
        self.schedule(now + interval, Timer::Sys);
        let snapshot = self.snapshot(now);
        let st = &snapshot.stats;
        let received: u64 = st.messages_received.iter().sum();
        let sent: u64 = st.messages_sent.iter().sum();
        let counters = [
            received,
            sent,
            st.bytes_received,
            st.bytes_sent,
            st.connections_accepted,
        ];
        self.sys_loads.update(counters, now);

        let mut values: Vec<(String, String)> = vec![
            ("broker/version".into(), self.settings.version.clone()),
            (
                "broker/uptime".into(),
                format!("{} seconds", snapshot.uptime.as_secs()),
            ),
            (
                "broker/clients/connected".into(),
                snapshot.connections.to_string(),
            ),
            (
                "broker/clients/disconnected".into(),
                snapshot.sessions_offline.to_string(),
            ),
            (
                "broker/clients/total".into(),
                (snapshot.sessions_online + snapshot.sessions_offline).to_string(),
            ),
            ("broker/messages/received".into(), received.to_string()),
            ("broker/messages/sent".into(), sent.to_string()),
            (
                "broker/publish/messages/received".into(),
                received.to_string(),
            ),
            ("broker/publish/messages/sent".into(), sent.to_string()),
            (
                "broker/publish/messages/dropped".into(),
                st.dropped().to_string(),
            ),
            (
                "broker/bytes/received".into(),
                st.bytes_received.to_string(),
            ),
            ("broker/bytes/sent".into(), st.bytes_sent.to_string()),
            (
                "broker/retained messages/count".into(),
                snapshot.retained.to_string(),
            ),
            (
                "broker/subscriptions/count".into(),
                snapshot.subscriptions.to_string(),
            ),
            (
                "broker/store/messages/count".into(),
                snapshot.queued_messages.to_string(),
            ),
            (
                "broker/store/messages/bytes".into(),
                snapshot.queued_bytes.to_string(),
            ),
        ];
        for (i, name) in LOADS.iter().enumerate() {
            for (j, (window, _)) in WINDOWS.iter().enumerate() {
                let rate = self.sys_loads.rates[i][j];
                values.push((format!("broker/load/{name}/{window}"), format!("{rate:.2}")));
            }
        }
        for (topic, value) in values {
            self.publish_sys(&topic, value, now);
        }
    }

    /// Publishes one `$SYS` topic, retained, at QoS 0.
    fn publish_sys(&mut self, topic: &str, value: String, now: Instant) {
        let Ok(topic) = TopicName::new(format!("{SYS_PREFIX}{topic}")) else {
            return;
        };
        let message = Message {
            topic,
            payload: Bytes::from(value),
            qos: QoS::AtMostOnce,
            retain: true,
            properties: Properties::new(),
            expires_at: None,
            publisher: None,
        };
        self.route(Arc::new(message), now);
    }
}

impl Loads {
    /// Takes the counters at `now` into the smoothed rates.
    fn update(&mut self, counters: [u64; LOADS.len()], now: Instant) {
        if let Some((last, at)) = self.last {
            let elapsed = now
                .saturating_duration_since(at)
                .max(Duration::from_millis(1));
            let secs = elapsed.as_secs_f64();
            for (i, (&now_count, &then)) in counters.iter().zip(&last).enumerate() {
                let per_minute = now_count.saturating_sub(then) as f64 * 60.0 / secs;
                for (j, (_, window)) in WINDOWS.iter().enumerate() {
                    let weight = 1.0 - (-secs / window).exp();
                    let rate = &mut self.rates[i][j];
                    *rate += weight * (per_minute - *rate);
                }
            }
        }
        self.last = Some((counters, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_rate_is_approached_fastest_by_the_shortest_window() {
        let mut loads = Loads::default();
        let start = Instant::now();
        // 10 messages a second (600 a minute), for five minutes, observed every 10 s.
        for step in 0..=30u64 {
            let count = step * 100;
            let at = start + Duration::from_secs(step * 10);
            loads.update([count, 0, 0, 0, 0], at);
        }
        let [one, five, fifteen] = loads.rates[0];
        assert!((one - 600.0).abs() < 5.0, "1 min: {one}");
        // Five minutes into a 5-minute window: 1 - 1/e of the way.
        assert!(
            (five - 600.0 * (1.0 - (-1.0f64).exp())).abs() < 10.0,
            "5 min: {five}"
        );
        assert!(fifteen > 100.0 && fifteen < five, "15 min: {fifteen}");
        assert_eq!(loads.rates[1], [0.0; 3]);
    }
}
