//! The configuration turned into the engine's settings: the engine defines what it needs
//! ([`Settings`]) and never reads the configuration itself.

use std::time::Duration;

use crate::codec::{QoS, TopicFilter};
use crate::config::{Config, Listener, OfflineQueuePolicy, StorageMode};
use crate::engine::{ListenerSettings, OfflinePolicy, QueueLimits, Settings};

/// The settings a configuration asks for. The configuration has been validated, so every
/// filter in the deny list parses.
pub fn settings(config: &Config) -> Settings {
    let l = &config.limits;
    let m = &config.mqtt;
    Settings {
        max_connections: l.max_connections as usize,
        max_sessions: l.max_sessions as usize,
        max_retained: l.max_retained_messages as usize,
        max_packet_size: l.max_packet_size,
        receive_maximum: l.receive_maximum,
        max_inflight: l.max_inflight,
        queue: QueueLimits {
            max_messages: l.max_queued_messages as usize,
            max_bytes: usize::try_from(l.max_queued_bytes).unwrap_or(usize::MAX),
        },
        offline_policy: match l.offline_queue_policy {
            OfflineQueuePolicy::DropOldest => OfflinePolicy::DropOldest,
            OfflineQueuePolicy::DropNewest => OfflinePolicy::DropNewest,
        },
        slow_subscriber_timeout: (l.slow_subscriber_timeout_ms > 0)
            .then(|| Duration::from_millis(l.slow_subscriber_timeout_ms.into())),
        topic_alias_maximum: l.topic_alias_maximum,
        max_client_id_len: usize::from(l.max_client_id_len),
        max_session_expiry_interval: l.max_session_expiry_interval,
        max_keep_alive: l.max_keep_alive,
        retain_available: m.retain_available,
        wildcard_subscriptions: m.wildcard_subscriptions,
        shared_subscriptions: m.shared_subscriptions,
        subscription_identifiers: m.subscription_identifiers,
        maximum_qos: QoS::from_u8(m.maximum_qos).unwrap_or(QoS::ExactlyOnce),
        assign_client_ids: m.assign_client_ids,
        deny_subscriptions: m
            .deny_subscriptions
            .iter()
            .filter_map(|f| TopicFilter::new(f.as_str()).ok())
            .collect(),
        allow_anonymous: config.auth.allow_anonymous,
        connect_timeout: Duration::from_secs(10),
        failed_login_delay: Duration::from_millis(config.auth.failed_login_delay_ms.into()),
        max_message_expiry_interval: l.max_message_expiry_interval,
        max_publish_rate: l.max_publish_rate,
        max_publish_bandwidth: l.max_publish_bandwidth,
        listeners: config.listeners.iter().map(listener_settings).collect(),
        persistence: config.storage.mode == StorageMode::Disk,
        sys_interval: (config.mqtt.sys_interval > 0)
            .then(|| Duration::from_secs(u64::from(config.mqtt.sys_interval))),
        version: format!("tern {}", env!("CARGO_PKG_VERSION")),
    }
}

/// What one `[[listener]]` adds to the engine's admission rules.
fn listener_settings(listener: &Listener) -> ListenerSettings {
    ListenerSettings {
        allow_anonymous: listener.allow_anonymous,
        max_connections: listener.max_connections.map(|n| n as usize),
        max_connection_rate_per_ip: listener.max_connection_rate_per_ip,
    }
}
