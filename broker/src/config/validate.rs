//! The rules of a configuration that its types alone do not express: ranges, keys that must
//! agree, valid topic filters. Each error names the offending key. No file is read here.

use super::{
    Config, ConfigError, Listener, ProxyProtocol, Transport, MAX_FAILED_LOGIN_DELAY_MS,
    MAX_PACKET_SIZE, MIN_CLIENT_ID_LEN, MIN_PACKET_SIZE,
};
use crate::codec::TopicFilter;

impl Config {
    /// Check the rules that types alone do not: ranges, valid topic filters, at least one
    /// protocol per listener, a valid log directive. The error names the first key that breaks one. This
    /// reads no file: the certificates, password file, ACL and JWT key it names are loaded by
    /// the pre-flight of `crate::wiring`, which `tern check-config` and the start both run.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (i, l) in self.listeners.iter().enumerate() {
            if !l.path.starts_with('/') {
                return Err(ConfigError::invalid(
                    format!("listener[{i}].path"),
                    format_args!("must start with / (got {:?})", l.path),
                ));
            }
            check_listener_admission(i, l)?;
            if l.protocols.is_empty() {
                return Err(ConfigError::invalid(
                    format!("listener[{i}].protocols"),
                    "at least one protocol version is required (\"3.1\", \"3.1.1\", \"5\")",
                ));
            }
        }

        self.http
            .check()
            .map_err(|(key, why)| ConfigError::invalid(key, why))?;
        self.grpc
            .check()
            .map_err(|(key, why)| ConfigError::invalid(key, why))?;

        if self.storage.sync == crate::store::options::Sync::Interval {
            at_least(
                "storage.sync_interval_ms",
                self.storage.sync_interval_ms.into(),
                1,
            )?;
        }
        if self.storage.path.as_os_str().is_empty() {
            return Err(ConfigError::invalid("storage.path", "must not be empty"));
        }

        let l = &self.limits;
        at_least("limits.max_connections", l.max_connections.into(), 1)?;
        at_least("limits.max_sessions", l.max_sessions.into(), 1)?;
        at_least(
            "limits.max_retained_messages",
            l.max_retained_messages.into(),
            1,
        )?;
        let size = l.max_packet_size;
        if !(MIN_PACKET_SIZE..=MAX_PACKET_SIZE).contains(&size) {
            return Err(ConfigError::invalid(
                "limits.max_packet_size",
                format_args!(
                    "must be between {MIN_PACKET_SIZE} and {MAX_PACKET_SIZE} (got {size})"
                ),
            ));
        }
        at_least("limits.receive_maximum", l.receive_maximum.into(), 1)?;
        at_least("limits.max_inflight", l.max_inflight.into(), 1)?;
        at_least(
            "limits.max_client_id_len",
            l.max_client_id_len.into(),
            MIN_CLIENT_ID_LEN.into(),
        )?;
        if let Some(expiry) = l.max_message_expiry_interval {
            at_least("limits.max_message_expiry_interval", expiry.into(), 1)?;
        }

        let m = &self.mqtt;
        if m.maximum_qos > 2 {
            return Err(ConfigError::invalid(
                "mqtt.maximum_qos",
                format_args!("must be 0, 1 or 2 (got {})", m.maximum_qos),
            ));
        }
        for (i, filter) in m.deny_subscriptions.iter().enumerate() {
            if let Err(violation) = TopicFilter::new(filter.as_str()) {
                return Err(ConfigError::invalid(
                    format!("mqtt.deny_subscriptions[{i}]"),
                    format_args!("{filter:?} is not a valid topic filter: {violation}"),
                ));
            }
        }

        let a = &self.auth;
        if a.failed_login_delay_ms > MAX_FAILED_LOGIN_DELAY_MS {
            return Err(ConfigError::invalid(
                "auth.failed_login_delay_ms",
                format_args!(
                    "must be at most {MAX_FAILED_LOGIN_DELAY_MS} (got {})",
                    a.failed_login_delay_ms
                ),
            ));
        }

        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(ConfigError::invalid(
                "log.level",
                format_args!("{:?} is not a valid filter directive: {e}", self.log.level),
            ));
        }
        Ok(())
    }
}

/// The keys of a listener about how it is reached and whom it admits: the socket of a Unix
/// listener, the PROXY protocol, the connection limits.
fn check_listener_admission(i: usize, l: &Listener) -> Result<(), ConfigError> {
    let key = |name: &str| format!("listener[{i}].{name}");
    let unix = l.transport == Transport::Unix;
    match (&l.socket, unix) {
        (None, true) => {
            return Err(ConfigError::invalid(
                key("socket"),
                "a socket path is required with transport = \"unix\"",
            ))
        }
        (Some(_), false) => {
            return Err(ConfigError::invalid(
                key("socket"),
                "only for transport = \"unix\"",
            ))
        }
        (Some(path), true) if path.as_os_str().is_empty() => {
            return Err(ConfigError::invalid(key("socket"), "must not be empty"))
        }
        _ => {}
    }
    if l.socket_mode > 0o777 {
        return Err(ConfigError::invalid(
            key("socket_mode"),
            format_args!(
                "must be a permission mode from 0o000 to 0o777 (got {:#o})",
                l.socket_mode
            ),
        ));
    }
    if unix && l.proxy_protocol != ProxyProtocol::Off {
        return Err(ConfigError::invalid(
            key("proxy_protocol"),
            "not available with transport = \"unix\"",
        ));
    }
    if unix && l.tls.is_some() {
        return Err(ConfigError::invalid(
            key("tls"),
            "not available with transport = \"unix\"",
        ));
    }
    if let Some(max) = l.max_connections {
        at_least(&key("max_connections"), max.into(), 1)?;
    }
    if let Some(rate) = l.max_connection_rate_per_ip {
        at_least(&key("max_connection_rate_per_ip"), rate.into(), 1)?;
        if unix {
            return Err(ConfigError::invalid(
                key("max_connection_rate_per_ip"),
                "a Unix socket has no client address to count",
            ));
        }
    }
    Ok(())
}

/// `Err` naming `key` unless `value >= min`.
fn at_least(key: &str, value: u64, min: u64) -> Result<(), ConfigError> {
    if value < min {
        return Err(ConfigError::invalid(
            key,
            format_args!("must be at least {min} (got {value})"),
        ));
    }
    Ok(())
}
