//! The engine's limits and switches. The wiring (`crate::wiring`) fills them from the
//! configuration; tests and embedders may build them in code.

use std::time::Duration;

use crate::codec::{QoS, TopicFilter};

use super::admission::ListenerSettings;
use super::session::{OfflinePolicy, QueueLimits};

/// What the engine enforces and advertises. The defaults are those of the embedded
/// configuration (see `config/default-config.toml`).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Connections that have completed CONNECT; more are refused with 0x97 Quota exceeded
    /// (3.x: 0x03 Server unavailable).
    pub max_connections: usize,
    /// Sessions held, online and offline; a CONNECT that would start one more is refused with
    /// 0x97 Quota exceeded (3.x: 0x03 Server unavailable).
    pub max_sessions: usize,
    /// Topics with a retained message; a retained message for one more topic is delivered but
    /// not kept (counted).
    pub max_retained: usize,
    /// The largest packet accepted, advertised as Maximum Packet Size.
    pub max_packet_size: u32,
    /// Inbound QoS 2 messages awaiting PUBREL per connection, advertised as Receive Maximum.
    pub receive_maximum: u16,
    /// Outbound QoS 1/2 messages in flight per client (the lower of this and the client's
    /// Receive Maximum).
    pub max_inflight: u16,
    /// The queue of each session: the high-water mark of an online one (see `flow`), the
    /// ceiling of an offline one.
    pub queue: QueueLimits,
    /// What an offline session's full queue gives up for a new message.
    pub offline_policy: OfflinePolicy,
    /// How long a session's queue may stay over its high-water mark, holding its publishers
    /// back, before its connection is closed with 0x97 Quota exceeded. `None`: never.
    pub slow_subscriber_timeout: Option<Duration>,
    /// Inbound topic aliases per connection, advertised as Topic Alias Maximum.
    pub topic_alias_maximum: u16,
    pub max_client_id_len: usize,
    /// The longest Session Expiry Interval granted, in seconds.
    pub max_session_expiry_interval: u32,
    /// The longest keep alive allowed, in seconds; 0 allows any.
    pub max_keep_alive: u16,
    pub retain_available: bool,
    pub wildcard_subscriptions: bool,
    pub shared_subscriptions: bool,
    pub subscription_identifiers: bool,
    pub maximum_qos: QoS,
    /// Whether a zero-length client identifier gets one assigned.
    pub assign_client_ids: bool,
    /// Filters refused at SUBSCRIBE time.
    pub deny_subscriptions: Vec<TopicFilter>,
    pub allow_anonymous: bool,
    /// How long a new connection may take to send CONNECT.
    pub connect_timeout: Duration,
    /// How long the refusal of wrong credentials waits before CONNACK is sent.
    pub failed_login_delay: Duration,
    /// The longest a message is kept, in seconds: messages with a longer Message Expiry
    /// Interval, or none, are given this one.
    pub max_message_expiry_interval: Option<u32>,
    /// PUBLISHes per second a connection may send, on average (0: unlimited); more closes
    /// it with 0x96 Message rate too high.
    pub max_publish_rate: u32,
    /// Bytes of topic and payload per second a connection may publish, on average (0:
    /// unlimited); more closes it with 0x96 Message rate too high.
    pub max_publish_bandwidth: u64,
    /// What each listener adds to the admission rules, by its position in the configuration
    /// (`ConnInfo::listener`); a listener not in the list adds nothing.
    pub listeners: Vec<ListenerSettings>,
    /// Whether durable state changes are recorded for a store ([`super::Engine::take_changes`]);
    /// off, the broker keeps everything in memory only.
    pub persistence: bool,
    /// How often the `$SYS` topics are published (see `sys`); `None`: never.
    pub sys_interval: Option<Duration>,
    /// What `$SYS/broker/version` says.
    pub version: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_connections: 10_000,
            max_sessions: 100_000,
            max_retained: 100_000,
            max_packet_size: 1_048_576,
            receive_maximum: 32,
            max_inflight: 256,
            queue: QueueLimits {
                max_messages: 1000,
                max_bytes: 16 << 20,
            },
            offline_policy: OfflinePolicy::DropOldest,
            slow_subscriber_timeout: Some(Duration::from_secs(5)),
            topic_alias_maximum: 64,
            max_client_id_len: 256,
            max_session_expiry_interval: 7 * 86_400,
            max_keep_alive: 0,
            retain_available: true,
            wildcard_subscriptions: true,
            shared_subscriptions: true,
            subscription_identifiers: true,
            maximum_qos: QoS::ExactlyOnce,
            assign_client_ids: true,
            deny_subscriptions: Vec::new(),
            allow_anonymous: true,
            connect_timeout: Duration::from_secs(10),
            failed_login_delay: Duration::from_secs(1),
            max_message_expiry_interval: None,
            max_publish_rate: 0,
            max_publish_bandwidth: 0,
            listeners: Vec::new(),
            persistence: false,
            sys_interval: None,
            version: format!("tern {}", env!("CARGO_PKG_VERSION")),
        }
    }
}
