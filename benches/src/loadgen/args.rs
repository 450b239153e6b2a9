//! Command-line arguments of `loadgen`.

use std::net::SocketAddr;

use clap::{Parser, ValueEnum};
use tern::codec::{Protocol, QoS};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// P publishers to one subscriber on a `+` wildcard.
    Fanin,
    /// One publisher to S subscribers of the same topic.
    Fanout,
    /// N publisher/subscriber pairs on distinct topics.
    Pairs,
    /// P publishers to a shared subscription of K members (MQTT 5.0).
    Shared,
    /// One publisher at a fixed rate; reports latency percentiles.
    Latency,
    /// 1,000,000 QoS 1 messages through a wildcard subscriber, every PUBACK awaited.
    Million,
    /// C idle clients held open; reports the broker's RSS per connection.
    Connections,
    /// One publisher to S subscribers of the same topic, one of which stops reading after
    /// `--stuck-after` messages: do the others keep their rate, and the broker its memory?
    Slow,
}

/// Tern's MQTT load generator: one scenario, one JSON line on stdout, one sentence on stderr.
///
/// Single-threaded (one core drives the broker). Every run is bounded in messages and in time:
/// at the deadline it stops and counts what has not arrived as lost.
#[derive(Debug, Parser)]
#[command(name = "loadgen")]
pub struct Args {
    /// The scenario.
    #[arg(long, value_enum)]
    pub scenario: Scenario,
    /// While the scenario runs, also ask the broker's HTTP listener at this address for
    /// `/metrics` and `/api/v1/clients` in turn, `--scrape-rate` times a second (a scrape
    /// storm: does it move the MQTT figures?).
    #[arg(long)]
    pub scrape: Option<SocketAddr>,
    /// HTTP requests per second with `--scrape`.
    #[arg(long, default_value_t = 200)]
    pub scrape_rate: u32,
    /// While the scenario runs, also log in this many times a second on connections of
    /// their own (CONNECT with `--login-user` and `--login-password`, CONNACK, DISCONNECT):
    /// a login storm, to see whether checking passwords moves the MQTT figures. 0: none.
    #[arg(long, default_value_t = 0)]
    pub logins: u32,
    /// The user name of `--logins`.
    #[arg(long, default_value = "bench")]
    pub login_user: String,
    /// The password of `--logins`.
    #[arg(long, default_value = "bench-password")]
    pub login_password: String,
    /// The broker's address.
    #[arg(long, default_value = "127.0.0.1:1883")]
    pub addr: SocketAddr,
    /// QoS of publications and subscriptions: 0, 1 or 2 (million: default 1, others 0).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub qos: Option<u8>,
    /// Payload size in bytes (at least 20: the header with publisher, sequence and timestamp).
    #[arg(long, default_value_t = 64)]
    pub payload: usize,
    /// MQTT version: 3.1.1 or 5 (shared: default 5, others 3.1.1).
    #[arg(long, value_parser = ["3.1.1", "5"])]
    pub protocol: Option<String>,
    /// Messages published in all (split among publishers; fanout, slow: by the one publisher).
    /// Defaults: fanin, pairs, shared 1,000,000; fanout, slow 20,000; million 1,000,000.
    #[arg(long)]
    pub count: Option<u64>,
    /// Publishers (fanin and shared; default 8).
    #[arg(long)]
    pub publishers: Option<usize>,
    /// Subscribers (fanout and slow, default 100, the stuck one included in slow; shared group
    /// members, default 4).
    #[arg(long)]
    pub subscribers: Option<usize>,
    /// Publisher/subscriber pairs (pairs).
    #[arg(long, default_value_t = 50)]
    pub pairs: usize,
    /// Messages per second (latency).
    #[arg(long, default_value_t = 10_000.0)]
    pub rate: f64,
    /// Seconds of publishing (latency).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Idle clients (connections).
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Seconds the idle clients are held (connections, default 3); seconds the stuck subscriber
    /// stays connected without reading, counted from when it stopped (slow, default 8: longer
    /// than Tern's 5 s slow-subscriber timeout, so that what the broker does about it is seen).
    #[arg(long)]
    pub hold: Option<f64>,
    /// Messages the stuck subscriber reads and acknowledges before it stops reading (slow).
    #[arg(long, default_value_t = 100)]
    pub stuck_after: u64,
    /// End-to-end pacing, off by default: at most this many deliveries outstanding (published
    /// but not yet received) across the run. 0 publishes open loop, as real clients do: each
    /// publisher is bounded only by its socket and, at QoS 1/2, its in-flight window.
    #[arg(long, default_value_t = 0)]
    pub window: u64,
    /// Most unacknowledged QoS 1/2 PUBLISHes per publisher, QoS 2 counting until PUBCOMP
    /// (capped by the broker's Receive Maximum in 5.0).
    #[arg(long, default_value_t = 100)]
    pub inflight: u16,
    /// Seconds after which the run stops, whatever it has done.
    #[arg(long, default_value_t = 120.0)]
    pub deadline: f64,
    /// Seconds without a delivery, once publishing is over, after which the rest is lost.
    #[arg(long, default_value_t = 5.0)]
    pub idle: f64,
    /// The broker's process id: its resident memory is sampled every 100 ms.
    #[arg(long)]
    pub broker_pid: Option<u32>,
    /// A label copied into the output (the broker's name).
    #[arg(long, default_value = "broker")]
    pub label: String,
    /// Subscribers keep their sessions: Clean Session 0 (3.1.1), or a Session Expiry
    /// Interval of an hour (5.0), as the clients of a broker that keeps state do.
    #[arg(long)]
    pub persistent: bool,
}

impl Args {
    pub fn qos(&self) -> QoS {
        let default = if self.scenario == Scenario::Million {
            1
        } else {
            0
        };
        QoS::from_u8(self.qos.unwrap_or(default)).unwrap_or(QoS::AtMostOnce)
    }

    pub fn protocol(&self) -> Protocol {
        match self.protocol.as_deref() {
            Some("5") => Protocol::V5,
            Some(_) => Protocol::V3_1_1,
            None if self.scenario == Scenario::Shared => Protocol::V5,
            None => Protocol::V3_1_1,
        }
    }

    pub fn count(&self) -> u64 {
        self.count.unwrap_or(match self.scenario {
            Scenario::Fanout | Scenario::Slow => 20_000,
            _ => 1_000_000,
        })
    }

    pub fn hold(&self) -> f64 {
        self.hold.unwrap_or(match self.scenario {
            Scenario::Slow => 8.0,
            _ => 3.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let a = Args::parse_from(["loadgen", "--scenario", "million"]);
        assert_eq!(a.qos(), QoS::AtLeastOnce);
        assert_eq!(a.count(), 1_000_000);
        assert_eq!(a.protocol(), Protocol::V3_1_1);
        let a = Args::parse_from(["loadgen", "--scenario", "shared", "--qos", "2"]);
        assert_eq!(a.qos(), QoS::ExactlyOnce);
        assert_eq!(a.protocol(), Protocol::V5);
        assert!(Args::try_parse_from(["loadgen", "--scenario", "pairs", "--qos", "3"]).is_err());
    }

    #[test]
    fn publishers_are_open_loop_with_a_window_of_100_unless_told() {
        let a = Args::parse_from(["loadgen", "--scenario", "fanin"]);
        assert_eq!(a.window, 0);
        assert_eq!(a.inflight, 100);
        let a = Args::parse_from(["loadgen", "--scenario", "fanin", "--window", "5000"]);
        assert_eq!(a.window, 5000);
    }

    #[test]
    fn slow_defaults() {
        let a = Args::parse_from(["loadgen", "--scenario", "slow"]);
        assert_eq!(a.count(), 20_000);
        assert_eq!(a.stuck_after, 100);
        assert_eq!(a.hold(), 8.0);
        assert_eq!(a.qos(), QoS::AtMostOnce);
        let a = Args::parse_from(["loadgen", "--scenario", "connections"]);
        assert_eq!(a.hold(), 3.0);
    }
}
