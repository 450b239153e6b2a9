//! `[limits]`, `[mqtt]` and `[log]`: the sections that are the configuration's own (the
//! listeners and `[auth]` are defined by the floors that use them).

use serde::{Deserialize, Serialize};

/// `limits.offline_queue_policy`: what a full offline queue gives up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfflineQueuePolicy {
    /// The oldest queued message makes room.
    #[default]
    DropOldest,
    /// The new message is dropped.
    DropNewest,
}

/// `[limits]`: every queue is bounded and every buffer has a ceiling; these are the ceilings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most client connections open at once, across all listeners (default 10 000). A
    /// connection beyond it is refused with CONNACK 0x97 Quota exceeded (5.0) or 0x03 Server
    /// unavailable (3.x), then closed. Must be at least 1.
    pub max_connections: u32,
    /// Most sessions held at once, online and offline (default 100 000). A CONNECT that would
    /// start one more (a new client identifier, or none) is refused with CONNACK 0x97 Quota
    /// exceeded (5.0) or 0x03 Server unavailable (3.x), logged and counted; a client resuming
    /// its own session is not. Must be at least 1.
    pub max_sessions: u32,
    /// Most topics with a retained message (default 100 000). A retained message for one more
    /// topic is delivered as usual but not kept, logged (at the first refusal and each power
    /// of two) and counted; replacing or clearing a topic's retained message always works.
    /// Must be at least 1.
    pub max_retained_messages: u32,
    /// Largest packet in bytes, fixed header included, accepted from a client (default 1 MiB).
    /// Advertised to 5.0 clients as Maximum Packet Size in CONNACK. A larger packet is refused
    /// from its fixed header, before it is buffered: DISCONNECT 0x95 Packet too large (5.0), or
    /// the connection is closed (3.x). Must be in [`MIN_PACKET_SIZE`](super::MIN_PACKET_SIZE)..=[`MAX_PACKET_SIZE`](super::MAX_PACKET_SIZE).
    pub max_packet_size: u32,
    /// Inbound QoS 1/2 window (default 32): how many QoS 1/2 PUBLISHes a 5.0 client may have
    /// unacknowledged towards the broker. Advertised as Receive Maximum in CONNACK; a client
    /// that sends more is disconnected with 0x93 Receive Maximum exceeded. 3.x has no such
    /// window. Must be at least 1.
    pub receive_maximum: u16,
    /// Outbound QoS 1/2 window per client (default 256): at most the lower of this and the
    /// client's Receive Maximum QoS 1/2 PUBLISHes are unacknowledged towards a client; further
    /// messages wait in the session queue. Must be at least 1.
    pub max_inflight: u16,
    /// Messages queued per session (default 1000). For a client that is online it is a
    /// high-water mark: nothing routed to it is dropped, but while its queue is at or over
    /// this, the publishers sending to it are held back (their acknowledgements withheld,
    /// their connections paused) until it is down to half. For an offline session it is a
    /// ceiling kept by `offline_queue_policy`. 0: an online client's queue holds its
    /// publishers back as soon as anything waits in it, and offline sessions queue nothing.
    pub max_queued_messages: u32,
    /// Bytes (payload and topic) queued per session (default 16 MiB), the same way as
    /// `max_queued_messages`, whichever is reached first.
    pub max_queued_bytes: u64,
    /// What an offline session's full queue gives up for a new QoS 1/2 message:
    /// `"drop_oldest"` (the default: the oldest queued message goes) or `"drop_newest"` (the
    /// new message is dropped). Either way the drop is counted, per session and broker-wide,
    /// and logged.
    pub offline_queue_policy: OfflineQueuePolicy,
    /// Milliseconds an online client's queue may stay over `max_queued_messages` or
    /// `max_queued_bytes` (holding its publishers back) without getting down to half, before
    /// the client is disconnected as a slow subscriber: DISCONNECT 0x97 Quota exceeded (3.x: a
    /// plain close), one log line, counted (default 5000). A client that shows no sign of
    /// reading at all meanwhile (no acknowledgement, no write to it drained) is disconnected
    /// after one second already, or this long if shorter. Its session, if it is kept, goes on
    /// offline. 0: never.
    pub slow_subscriber_timeout_ms: u32,
    /// Highest Topic Alias a 5.0 client may use towards the broker (default 64). Advertised as
    /// Topic Alias Maximum in CONNACK; a larger alias gets DISCONNECT 0x94 Topic Alias invalid.
    /// 0 disables inbound topic aliases.
    pub topic_alias_maximum: u16,
    /// Longest client identifier in bytes (default 256). A longer one is refused with CONNACK
    /// 0x85 Client Identifier not valid (5.0) or 0x02 Identifier rejected (3.x). MQTT 3.1
    /// clients are always limited to 23 bytes, as that specification says. Must be at least
    /// [`MIN_CLIENT_ID_LEN`](super::MIN_CLIENT_ID_LEN).
    pub max_client_id_len: u16,
    /// Longest time in seconds a session is kept after its client disconnects (default 7
    /// days). A larger 5.0 request, 0xFFFFFFFF included, is reduced to this, and CONNACK
    /// returns the reduced Session Expiry Interval. A 3.x session with Clean Session 0 is kept
    /// this long. 0 keeps no session after a disconnect.
    pub max_session_expiry_interval: u32,
    /// Longest Keep Alive in seconds a 5.0 client may use; 0 (the default) means no limit. If
    /// set and a client asks for more, or for 0, CONNACK carries Server Keep Alive with this
    /// value. 3.x has no Server Keep Alive, so 3.x clients keep the value they ask for.
    pub max_keep_alive: u16,
    /// Longest time in seconds a message waits for delivery, queued or retained. A PUBLISH with
    /// a larger Message Expiry Interval, or none, is treated as if it carried this value.
    /// `None` (the default): a message lives as long as its publisher asks, and forever if it
    /// sets no expiry. Must be at least 1 when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_message_expiry_interval: Option<u32>,
    /// PUBLISHes per second one connection may send, on average, with bursts of up to a
    /// second's worth (default 0: unlimited). A PUBLISH beyond it is not processed and the
    /// connection is closed: DISCONNECT 0x96 Message rate too high (5.0), a plain close
    /// (3.x); the will is published.
    pub max_publish_rate: u32,
    /// Bytes of topic and payload per second one connection may publish, on average, with
    /// bursts of up to a second's worth (a single larger message passes when the allowance
    /// is full, and the next ones wait until it is paid back). Default 0: unlimited. Beyond
    /// it, as `max_publish_rate`: DISCONNECT 0x96 (5.0), a plain close (3.x).
    pub max_publish_bandwidth: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 10_000,
            max_sessions: 100_000,
            max_retained_messages: 100_000,
            max_packet_size: 1_048_576,
            receive_maximum: 32,
            max_inflight: 256,
            max_queued_messages: 1000,
            max_queued_bytes: 16 * 1024 * 1024,
            offline_queue_policy: OfflineQueuePolicy::DropOldest,
            slow_subscriber_timeout_ms: 5000,
            topic_alias_maximum: 64,
            max_client_id_len: 256,
            max_session_expiry_interval: 86_400 * 7,
            max_keep_alive: 0,
            max_message_expiry_interval: None,
            max_publish_rate: 0,
            max_publish_bandwidth: 0,
        }
    }
}

/// `[mqtt]`: optional MQTT features. A feature turned off is announced to 5.0 clients in
/// CONNACK, and refused when a client uses it anyway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mqtt {
    /// Whether retained messages are stored (default true). When false, CONNACK advertises
    /// Retain Available 0 and a PUBLISH with RETAIN set gets DISCONNECT 0x9A Retain not
    /// supported (5.0) or a closed connection (3.x).
    pub retain_available: bool,
    /// Whether filters may contain `+` and `#` (default true). When false, CONNACK advertises
    /// Wildcard Subscription Available 0, and such a SUBSCRIBE is refused: DISCONNECT 0xA2
    /// (5.0, which was told), SUBACK 0x80 Failure (3.1.1), a closed connection (3.1).
    pub wildcard_subscriptions: bool,
    /// Whether `$share/{ShareName}/{filter}` subscriptions are available (default true). When
    /// false, CONNACK advertises Shared Subscription Available 0, and such a SUBSCRIBE is
    /// refused: DISCONNECT 0x9E (5.0, which was told), SUBACK 0x80 Failure (3.1.1), a closed
    /// connection (3.1).
    pub shared_subscriptions: bool,
    /// Whether 5.0 clients may put a Subscription Identifier in SUBSCRIBE (default true). When
    /// false, CONNACK advertises Subscription Identifiers Available 0, and a SUBSCRIBE with one
    /// gets DISCONNECT 0xA1 Subscription Identifiers not supported.
    pub subscription_identifiers: bool,
    /// Highest QoS accepted in a client's PUBLISH: 0, 1 or 2 (default 2). Below 2, CONNACK
    /// advertises Maximum QoS to 5.0 clients and a 5.0 PUBLISH above it gets DISCONNECT 0x9B
    /// QoS not supported; a 3.x PUBLISH above it closes the connection. Subscriptions are
    /// granted at most this QoS.
    pub maximum_qos: u8,
    /// Whether a zero-length client identifier gets one assigned by the broker (default true):
    /// in 5.0 (returned as Assigned Client Identifier), and in 3.1.1 with Clean Session 1. When
    /// false, such a client is refused with CONNACK 0x85 (5.0) or 0x02 (3.x).
    pub assign_client_ids: bool,
    /// Topic filters no client may subscribe to (default none). A SUBSCRIBE filter equal to
    /// one of these, character for character, is refused: SUBACK 0x87 Not authorized (5.0),
    /// 0x80 Failure (3.1.1), a closed connection (3.1). This compares text; it is not a topic
    /// match. Each entry must be a valid topic filter.
    pub deny_subscriptions: Vec<String>,
    /// How often, in seconds, the broker publishes its statistics to the `$SYS/broker/...`
    /// topics (default 10; 0: never). Mosquitto's names, retained, at QoS 0; a subscription
    /// to `#` does not match them [MQTT-4.7.2-1]: subscribe to `$SYS/#`.
    pub sys_interval: u32,
}

impl Default for Mqtt {
    fn default() -> Mqtt {
        Mqtt {
            retain_available: true,
            wildcard_subscriptions: true,
            shared_subscriptions: true,
            subscription_identifiers: true,
            maximum_qos: 2,
            assign_client_ids: true,
            deny_subscriptions: Vec::new(),
            sys_interval: 10,
        }
    }
}

/// `[log]`: logging, to standard error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// What to log (default `"info"`): a tracing-subscriber `EnvFilter` directive such as
    /// `"debug"` or `"info,tern::codec=trace"`. The `RUST_LOG` environment variable, when set,
    /// overrides it.
    pub level: String,
    /// `"text"` (the default): one line per event, for people. `"json"`: one JSON object per
    /// line (`timestamp`, `level`, `target`, `fields` with the message), for log collectors.
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for Log {
    fn default() -> Log {
        Log {
            level: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}
