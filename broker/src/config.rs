//! The broker's configuration, read from a TOML file.
//!
//! Every key has a default, so an empty file (or no file) is a working configuration, and a
//! partial file changes only what it names. An unknown key is an error, never ignored. Every
//! error names the offending key as a dotted path (`limits.max_packet_size`,
//! `listener[0].bind`), whether the file could not be deserialized (unknown key, wrong type) or
//! a value is outside its range ([`Config::validate`]).
//!
//! [`default_config_toml`] is a complete, commented configuration file holding every key with
//! its default value; tests check that it parses to [`Config::default`] and that it mentions
//! every key of [`Config`], so the documentation cannot drift from the code.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::codec::{TopicFilter, VARINT_MAX};

/// The commented default configuration file, `broker/src/default-config.toml`.
const DEFAULT_CONFIG_TOML: &str = include_str!("default-config.toml");

/// A complete configuration file in which every key appears with its default value and a
/// comment explaining it (`tern default-config` prints it). Parsing it gives
/// [`Config::default`].
pub fn default_config_toml() -> &'static str {
    DEFAULT_CONFIG_TOML
}

/// Smallest accepted `limits.max_packet_size`.
pub const MIN_PACKET_SIZE: u32 = 16;
/// Largest accepted `limits.max_packet_size`: the largest Remaining Length plus the five bytes
/// of the largest fixed header.
pub const MAX_PACKET_SIZE: u32 = VARINT_MAX + 5;
/// Every server must accept client identifiers of 1 to 23 bytes [MQTT-3.1.3-5], so
/// `limits.max_client_id_len` cannot be lower.
pub const MIN_CLIENT_ID_LEN: u16 = 23;

/// The whole configuration of a broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The listeners, `[[listener]]` in the file. At least one is required. Default: one plain
    /// TCP listener on `0.0.0.0:1883`. `tern start --listen ADDR` replaces them all.
    #[serde(rename = "listener")]
    pub listeners: Vec<Listener>,
    /// `[limits]`: the ceilings on connections, packets, windows and queues.
    pub limits: Limits,
    /// `[mqtt]`: which optional MQTT features are available.
    pub mqtt: Mqtt,
    /// `[auth]`: authentication.
    pub auth: Auth,
    /// `[log]`: logging.
    pub log: Log,
}

/// One `[[listener]]`: where clients connect, and over what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Listener {
    /// The address and port to listen on (default `0.0.0.0:1883`): `"[::]:1883"` for every
    /// IPv6 interface, `"127.0.0.1:1883"` for local clients only. Port 0 picks a free port.
    pub bind: SocketAddr,
    /// `tcp` (default): MQTT straight over TCP. `websocket`: MQTT in WebSocket binary frames
    /// (chapter 6 of MQTT 5.0), subprotocol `mqtt`, at `path`. `unix`: MQTT over the Unix
    /// domain socket `socket` (then `bind` is not used).
    pub transport: Transport,
    /// The HTTP path a WebSocket listener accepts upgrades on (default `/mqtt`). Only for
    /// `transport = "websocket"`.
    pub path: String,
    /// The MQTT versions this listener accepts (default all three: `["3.1", "3.1.1", "5"]`).
    /// A CONNECT of another version is refused with CONNACK 0x84 Unsupported Protocol
    /// Version (3.x: 0x01), as for a protocol level the server does not know. At least one.
    pub protocols: Vec<ProtocolVersion>,
    /// `[listener.tls]`: TLS on this listener, under MQTT (`transport = "tcp"`: MQTT over
    /// TLS) or under WebSocket (`transport = "websocket"`: WebSocket over TLS). `None` (the
    /// default): no TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    /// The socket file of a `transport = "unix"` listener (required there, refused
    /// elsewhere), e.g. `/run/tern/mqtt.sock`. A stale file left by a broker that did not stop
    /// cleanly is replaced; a socket another process still listens on, or a file that is not
    /// a socket, stops the start. The file is removed when the broker stops.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,
    /// The permissions of the socket file (default `0o660`: owner and group may connect;
    /// connecting needs write permission). Only for `transport = "unix"`.
    pub socket_mode: u32,
    /// Whether connections start with a PROXY protocol header (v1 text or v2 binary, as
    /// HAProxy, nginx and cloud load balancers send) naming the real client, whose address
    /// then stands for the connection in logs, in the per-address connection rate and in
    /// authorization. `"off"` (the default): no header is read. `"optional"`: a header is used
    /// if the connection starts with one. `"required"`: a connection without a valid header
    /// is closed, with one log line. The header is read before anything else (before TLS),
    /// within 5 seconds. Enable it only behind a proxy that sends it: anyone who can reach
    /// the listener can claim any address. Not for `transport = "unix"`.
    pub proxy_protocol: ProxyProtocol,
    /// The most clients connected through this listener at once (counted from CONNACK to
    /// the close, like `limits.max_connections`, which applies too). One beyond it is
    /// refused with CONNACK 0x97 Quota exceeded (3.x: 0x03 Server unavailable), then closed.
    /// `None` (the default): only the broker-wide limit. At least 1 when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// The most new connections per second from one client address (after PROXY protocol
    /// processing), with bursts of up to that many. A connection over the rate is read up to
    /// its CONNECT, which gets CONNACK 0x9F Connection rate exceeded (3.x: 0x03 Server
    /// unavailable), then closed; refusals are logged at most once a second per address.
    /// `None` (the default): no limit. At least 1 when set; not for `transport = "unix"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connection_rate_per_ip: Option<u32>,
    /// Anonymous access on this listener, overriding `auth.allow_anonymous`: whether a
    /// client that presents no user name, no password and no authentication method may
    /// connect (if not: CONNACK 0x87 Not authorized, 3.x: 0x05). Clients with credentials
    /// are checked as usual either way. `None` (the default): `auth.allow_anonymous` decides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_anonymous: Option<bool>,
}

/// Whether a listener reads a PROXY protocol header at the start of each connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyProtocol {
    /// No header: the socket's peer is the client.
    #[default]
    Off,
    /// A header is used if the connection starts with one.
    Optional,
    /// Every connection must start with a valid header.
    Required,
}

/// The default `listener.socket_mode`: owner and group may connect.
pub const DEFAULT_SOCKET_MODE: u32 = 0o660;

/// An MQTT version, as `listener.protocols` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtocolVersion {
    #[serde(rename = "3.1")]
    V3_1,
    #[serde(rename = "3.1.1")]
    V3_1_1,
    #[serde(rename = "5", alias = "5.0")]
    V5,
}

impl From<ProtocolVersion> for crate::codec::Protocol {
    fn from(v: ProtocolVersion) -> crate::codec::Protocol {
        match v {
            ProtocolVersion::V3_1 => crate::codec::Protocol::V3_1,
            ProtocolVersion::V3_1_1 => crate::codec::Protocol::V3_1_1,
            ProtocolVersion::V5 => crate::codec::Protocol::V5,
        }
    }
}

/// `[listener.tls]`: the listener's certificate, and optionally the client certificates it
/// asks for (mutual TLS). TLS 1.2 and 1.3 are offered (rustls, with the ring provider).
/// Every file is PEM, read at start (a file that does not load stops the start, naming its
/// key) and again on SIGHUP, which swaps the certificates for new handshakes without touching
/// open connections (a file that does not load then keeps the old ones and logs an error).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// The server's certificate chain: its certificate first, then the intermediates.
    pub cert_file: PathBuf,
    /// The private key of that certificate (PKCS#8, PKCS#1 or SEC1). It must match it.
    pub key_file: PathBuf,
    /// The oldest TLS version accepted: `"1.2"` (the default) or `"1.3"`.
    #[serde(default)]
    pub min_version: TlsVersion,
    /// The CA certificates (one or more, PEM) that sign client certificates. Set, the
    /// listener asks every client for a certificate, and one that does not chain to these
    /// fails the handshake. `None` (the default): no client certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ca_file: Option<PathBuf>,
    /// With `client_ca_file`: `"required"` (the default when unset) refuses a client without
    /// a certificate at the handshake; `"optional"` lets it in, to log in as usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_auth: Option<ClientAuth>,
    /// With `client_ca_file`: the client certificate's identity becomes the MQTT user name,
    /// replacing the one in CONNECT, and the certificate alone authenticates the client (no
    /// password is checked). `"cn"`: the subject's Common Name; `"subject"`: the whole
    /// subject as RFC 4514 text (`CN=alice,O=Example`); `"san"`: the first DNS, e-mail or URI
    /// Subject Alternative Name. A certificate without that field is refused with CONNACK
    /// 0x87 Not authorized (3.x: 0x05). `None` (the default): user names come from CONNECT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_as_username: Option<CertIdentity>,
}

/// A TLS protocol version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TlsVersion {
    #[default]
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

/// Whether a listener with a client CA insists on a client certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    Required,
    Optional,
}

/// Which part of a client certificate names the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertIdentity {
    /// The subject's Common Name.
    Cn,
    /// The whole subject, RFC 4514.
    Subject,
    /// The first DNS name, e-mail address or URI among the Subject Alternative Names.
    San,
}

/// How a listener carries MQTT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Tcp,
    Websocket,
    /// MQTT over a Unix domain socket at `socket`, for clients on the same machine.
    Unix,
}

/// `[limits]`: every queue is bounded and every buffer has a ceiling; these are the ceilings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most client connections open at once, across all listeners (default 10 000). A
    /// connection beyond it is refused with CONNACK 0x97 Quota exceeded (5.0) or 0x03 Server
    /// unavailable (3.x), then closed. Must be at least 1.
    pub max_connections: u32,
    /// Largest packet in bytes, fixed header included, accepted from a client (default 1 MiB).
    /// Advertised to 5.0 clients as Maximum Packet Size in CONNACK. A larger packet is refused
    /// from its fixed header, before it is buffered: DISCONNECT 0x95 Packet too large (5.0), or
    /// the connection is closed (3.x). Must be in [`MIN_PACKET_SIZE`]..=[`MAX_PACKET_SIZE`].
    pub max_packet_size: u32,
    /// Inbound QoS 1/2 window (default 32): how many QoS 1/2 PUBLISHes a 5.0 client may have
    /// unacknowledged towards the broker. Advertised as Receive Maximum in CONNACK; a client
    /// that sends more is disconnected with 0x93 Receive Maximum exceeded. 3.x has no such
    /// window. Must be at least 1.
    pub receive_maximum: u16,
    /// Outbound QoS 1/2 window per client (default 32): at most the lower of this and the
    /// client's Receive Maximum QoS 1/2 PUBLISHes are unacknowledged towards a client; further
    /// messages wait in the session queue. Must be at least 1.
    pub max_inflight: u16,
    /// Most messages queued per session, client online or offline (default 1000). When full,
    /// a new QoS 0 message is dropped; a new QoS 1/2 message replaces the oldest queued QoS 0
    /// message, and if there is none it is dropped and counted. 0 queues nothing.
    pub max_queued_messages: u32,
    /// Most bytes (payload and topic) queued per session, online or offline (default 16 MiB).
    /// Same policy as `max_queued_messages`, whichever is reached first.
    pub max_queued_bytes: u64,
    /// Highest Topic Alias a 5.0 client may use towards the broker (default 64). Advertised as
    /// Topic Alias Maximum in CONNACK; a larger alias gets DISCONNECT 0x94 Topic Alias invalid.
    /// 0 disables inbound topic aliases.
    pub topic_alias_maximum: u16,
    /// Longest client identifier in bytes (default 256). A longer one is refused with CONNACK
    /// 0x85 Client Identifier not valid (5.0) or 0x02 Identifier rejected (3.x). MQTT 3.1
    /// clients are always limited to 23 bytes, as that specification says. Must be at least
    /// [`MIN_CLIENT_ID_LEN`].
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
}

/// `[auth]`: authentication: a password file (user names and passwords in CONNECT, and
/// SCRAM-SHA-256 enhanced authentication in 5.0), anonymous access, and the failed-login
/// delay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// Whether clients may connect without a user name (default true). Without a password
    /// file, false refuses every CONNECT with CONNACK 0x87 Not authorized (5.0) or 0x05
    /// (3.x); with one, only those without a user name.
    pub allow_anonymous: bool,
    /// The password file (`tern passwd` writes it), relative to the working directory. `None`
    /// (the default): no credential store, user names and passwords are not checked, and
    /// `allow_anonymous` alone decides. With a file, a CONNECT with a user name must give its
    /// password (else CONNACK 0x86 Bad User Name or Password, 3.x: 0x04), and a 5.0 CONNECT
    /// with Authentication Method `SCRAM-SHA-256` runs that exchange (another method: 0x8C).
    /// The file must load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// How long, in milliseconds, the refusal of a wrong password or unknown user waits
    /// before its CONNACK is sent (default 1000), to slow down guessing; other clients are
    /// not held up. At most [`MAX_FAILED_LOGIN_DELAY_MS`].
    pub failed_login_delay_ms: u32,
    /// The ACL file (`crate::auth::acl` describes its format): who may publish and subscribe
    /// to what. `None` (the default): every client may publish and subscribe to any topic.
    /// The file must load; it is read again on SIGHUP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl_file: Option<PathBuf>,
    /// What the ACL file decides for a topic none of its rules matches: `"deny"` (the
    /// default) or `"allow"`. Only with `acl_file`.
    pub acl_default: AclDefault,
    /// `[auth.jwt]`: logins with a JSON Web Token as the CONNECT password. `None` (the
    /// default): passwords are never taken for tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<Jwt>,
}

/// `auth.acl_default`: what the ACL decides when no rule matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AclDefault {
    Allow,
    #[default]
    Deny,
}

/// `[auth.jwt]`: how a token in a CONNECT's password is verified. A token must be signed with
/// `algorithm`, carry `exp` (not past, with 60 s allowed for clock skew) and `sub` (the user
/// name: a CONNECT with a user name must give the same one; one without gets it), and, if
/// `issuer` or `audience` is set, that `iss` or `aud`. An optional `topics` claim,
/// `{"read": [filters], "write": [filters]}`, limits the connection on top of the ACL. The
/// connection is closed when `exp` passes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jwt {
    /// `"HS256"` (a shared secret), `"RS256"` (RSA) or `"ES256"` (ECDSA P-256).
    pub algorithm: JwtAlgorithm,
    /// The HS256 secret, at least 32 bytes. Only for HS256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The PEM public key (SPKI, or PKCS#1 for RSA) that verifies RS256 or ES256 tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_file: Option<PathBuf>,
    /// The `iss` every token must carry. `None` (the default): not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The `aud` every token must carry. `None` (the default): a token with an `aud` claim is
    /// refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

/// A JWT signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    HS256,
    RS256,
    ES256,
}

/// Largest accepted `auth.failed_login_delay_ms`: a minute.
pub const MAX_FAILED_LOGIN_DELAY_MS: u32 = 60_000;

/// `[log]`: logging, to standard error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// What to log (default `"info"`): a tracing-subscriber `EnvFilter` directive such as
    /// `"debug"` or `"info,tern::codec=trace"`. The `RUST_LOG` environment variable, when set,
    /// overrides it.
    pub level: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listeners: vec![Listener::default()],
            limits: Limits::default(),
            mqtt: Mqtt::default(),
            auth: Auth::default(),
            log: Log::default(),
        }
    }
}

impl Default for Listener {
    fn default() -> Listener {
        Listener {
            bind: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 1883)),
            transport: Transport::Tcp,
            path: "/mqtt".to_owned(),
            protocols: vec![
                ProtocolVersion::V3_1,
                ProtocolVersion::V3_1_1,
                ProtocolVersion::V5,
            ],
            tls: None,
            socket: None,
            socket_mode: DEFAULT_SOCKET_MODE,
            proxy_protocol: ProxyProtocol::Off,
            max_connections: None,
            max_connection_rate_per_ip: None,
            allow_anonymous: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 10_000,
            max_packet_size: 1_048_576,
            receive_maximum: 32,
            max_inflight: 32,
            max_queued_messages: 1000,
            max_queued_bytes: 16 * 1024 * 1024,
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
        }
    }
}

impl Default for Auth {
    fn default() -> Auth {
        Auth {
            allow_anonymous: true,
            password_file: None,
            failed_login_delay_ms: 1000,
            acl_file: None,
            acl_default: AclDefault::Deny,
            jwt: None,
        }
    }
}

impl Default for Log {
    fn default() -> Log {
        Log {
            level: "info".to_owned(),
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not TOML. No key can be named; the position can.
    #[error("TOML syntax error at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A key is unknown, has the wrong type, or a value is out of range.
    #[error("{key}: {message}")]
    Invalid {
        /// The dotted path of the key: `limits.max_packet_size`, `listener[0].bind`.
        key: String,
        message: String,
    },
}

impl ConfigError {
    /// The dotted path of the offending key, where there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }

    fn invalid(key: impl Into<String>, message: impl fmt::Display) -> ConfigError {
        ConfigError::Invalid {
            key: key.into(),
            message: message.to_string(),
        }
    }
}

impl Config {
    /// Parse and validate a configuration file's text.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let deserializer = toml::de::Deserializer::parse(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Syntax {
                line,
                column,
                message: e.message().trim_end().to_owned(),
            }
        })?;
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let key = e.path().to_string();
            // An error about the document as a whole has an empty path, shown as ".".
            let key = if key == "." {
                "(top level)".into()
            } else {
                key
            };
            ConfigError::invalid(key, e.inner().message().trim_end())
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Read, parse and validate the configuration file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml_str(&text)
    }

    /// Check the rules that types alone do not: ranges, valid topic filters, at least one
    /// listener, a valid log directive. The error names the first key that breaks one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.listeners.is_empty() {
            return Err(ConfigError::invalid(
                "listener",
                "at least one [[listener]] is required",
            ));
        }
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
            if let Some(tls) = &l.tls {
                // Loads the files: `tern check-config` catches a bad certificate or key.
                if let Err(e) = crate::server::tls::check(tls) {
                    return Err(ConfigError::invalid(
                        format!("listener[{i}].tls.{}", e.key),
                        e.message,
                    ));
                }
            }
        }

        let l = &self.limits;
        at_least("limits.max_connections", l.max_connections.into(), 1)?;
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
        crate::auth::check_config(a)?;
        if let Some(path) = &a.password_file {
            if let Err(e) = crate::auth::PasswordFile::load(path) {
                let message = match e {
                    crate::auth::PasswordFileError::Line { .. } => {
                        format!("{}: {e}", path.display())
                    }
                    _ => e.to_string(),
                };
                return Err(ConfigError::invalid("auth.password_file", message));
            }
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

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> ConfigError {
        Config::from_toml_str(text).expect_err("the configuration should be refused")
    }

    /// Assert that `text` is refused with an error naming `key`, and return its message.
    fn error_at(text: &str, key: &str) -> String {
        let e = error(text);
        assert_eq!(e.key(), Some(key), "{e}");
        let shown = e.to_string();
        assert!(shown.starts_with(&format!("{key}: ")), "{shown}");
        shown
    }

    #[test]
    fn default_file_parses_to_the_default_config() {
        let parsed = Config::from_toml_str(default_config_toml()).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn empty_file_is_the_default_config() {
        assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
        Config::default().validate().unwrap();
    }

    /// Dotted paths of the leaf keys of a TOML table; arrays of tables use their key once
    /// (`listener.bind`).
    fn leaf_keys(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (key, value) in table {
            let path = format!("{prefix}{key}");
            match value {
                toml::Value::Table(t) => leaf_keys(t, &format!("{path}."), out),
                toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => {
                    for item in items {
                        leaf_keys(item.as_table().unwrap(), &format!("{path}."), out);
                    }
                    if items.is_empty() {
                        out.push(path);
                    }
                }
                _ => out.push(path),
            }
        }
    }

    /// Every key of `Config`, as serialized, appears in the commented default file, in its
    /// section and directly after a comment. Keys that are not set by default (options) must
    /// appear as a commented-out line `# key = value`.
    #[test]
    fn default_file_documents_every_key() {
        let mut full = Config::default();
        // Set every optional key, so that it serializes too.
        full.limits.max_message_expiry_interval = Some(86_400);
        full.listeners[0].socket = Some("/run/tern/mqtt.sock".into());
        full.listeners[0].max_connections = Some(1000);
        full.listeners[0].max_connection_rate_per_ip = Some(10);
        full.listeners[0].allow_anonymous = Some(false);
        full.auth.password_file = Some("/etc/tern/passwd".into());
        full.listeners[0].tls = Some(Tls {
            cert_file: "/etc/tern/server.pem".into(),
            key_file: "/etc/tern/server.key".into(),
            min_version: TlsVersion::V1_2,
            client_ca_file: Some("/etc/tern/client-ca.pem".into()),
            client_auth: Some(ClientAuth::Required),
            identity_as_username: Some(CertIdentity::Cn),
        });
        full.auth.acl_file = Some("/etc/tern/acl".into());
        full.auth.jwt = Some(Jwt {
            algorithm: JwtAlgorithm::RS256,
            secret: Some("s".into()),
            public_key_file: Some("/etc/tern/jwt.pem".into()),
            issuer: Some("i".into()),
            audience: Some("a".into()),
        });
        let serialized: toml::Table = toml::from_str(&toml::to_string(&full).unwrap()).unwrap();
        let mut keys = Vec::new();
        leaf_keys(&serialized, "", &mut keys);
        assert!(keys.len() >= 20, "{keys:?}");

        let defaults: toml::Table = toml::from_str(&toml::to_string(&Config::default()).unwrap())
            .expect("the default config serializes");
        let mut default_keys = Vec::new();
        leaf_keys(&defaults, "", &mut default_keys);

        // Where each `key = value` line of the file sits: section, key, commented out or not,
        // and whether the line above is a comment.
        let lines: Vec<&str> = default_config_toml().lines().collect();
        let mut section = String::new();
        let mut found = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let line = line.trim();
            // A commented-out table header (`# [listener.tls]`) opens the section of the
            // commented-out keys below it.
            let header = line
                .strip_prefix("# ")
                .filter(|l| l.starts_with('[') && l.ends_with(']'))
                .unwrap_or(line);
            if let Some(name) = header.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
                section = format!("{name}.");
            } else if let Some(name) = header.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = format!("{name}.");
            } else {
                let (commented, body) = match line.strip_prefix("# ") {
                    Some(body) => (true, body),
                    None => (false, line),
                };
                let Some((key, _)) = body.split_once(" = ") else {
                    continue;
                };
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    continue;
                }
                let documented = i > 0 && lines[i - 1].trim_start().starts_with('#');
                found.push((format!("{section}{key}"), commented, documented));
            }
        }

        for key in &keys {
            let set_by_default = default_keys.contains(key);
            let hit = found
                .iter()
                .find(|(k, commented, _)| k == key && *commented != set_by_default);
            let Some((_, _, documented)) = hit else {
                panic!(
                    "default-config.toml lacks `{key} = ...`{}",
                    if set_by_default {
                        ""
                    } else {
                        " (commented out)"
                    }
                );
            };
            assert!(
                documented,
                "`{key}` in default-config.toml has no comment above it"
            );
        }
    }

    #[test]
    fn partial_file_keeps_the_other_defaults() {
        let config = Config::from_toml_str(
            "[limits]\nmax_connections = 5\n\n[mqtt]\ndeny_subscriptions = [\"#\", \"a/+\"]\n",
        )
        .unwrap();
        let mut expected = Config::default();
        expected.limits.max_connections = 5;
        expected.mqtt.deny_subscriptions = vec!["#".into(), "a/+".into()];
        assert_eq!(config, expected);
    }

    #[test]
    fn listeners_replace_the_default_one() {
        let config = Config::from_toml_str(
            "[[listener]]\nbind = \"127.0.0.1:1884\"\n\n[[listener]]\nbind = \"[::1]:1885\"\n",
        )
        .unwrap();
        let binds: Vec<String> = config
            .listeners
            .iter()
            .map(|l| l.bind.to_string())
            .collect();
        assert_eq!(binds, ["127.0.0.1:1884", "[::1]:1885"]);
        assert_eq!(config.limits, Limits::default());
    }

    #[test]
    fn message_expiry_limit_is_optional() {
        let config = Config::from_toml_str("[limits]\nmax_message_expiry_interval = 60\n").unwrap();
        assert_eq!(config.limits.max_message_expiry_interval, Some(60));
    }

    #[test]
    fn unknown_keys_are_named() {
        let shown = error_at("[mqtt]\ncolour = \"blue\"\n", "mqtt.colour");
        assert!(shown.contains("unknown field `colour`"), "{shown}");
        let shown = error_at("colour = 1\n", "colour");
        assert!(shown.contains("unknown field"), "{shown}");
        error_at("[[listener]]\nport = 1883\n", "listener[0].port");
        error_at("[limits]\n[limit]\n", "limit");
    }

    #[test]
    fn wrong_types_are_named() {
        let shown = error_at(
            "[limits]\nmax_packet_size = \"big\"\n",
            "limits.max_packet_size",
        );
        assert!(shown.contains("invalid type"), "{shown}");
        error_at(
            "[limits]\nreceive_maximum = 70000\n",
            "limits.receive_maximum",
        );
        error_at("[limits]\nmax_connections = -1\n", "limits.max_connections");
        error_at(
            "[auth]\nallow_anonymous = \"yes\"\n",
            "auth.allow_anonymous",
        );
        error_at(
            "[mqtt]\ndeny_subscriptions = \"#\"\n",
            "mqtt.deny_subscriptions",
        );
        error_at(
            "[mqtt]\ndeny_subscriptions = [\"a\", 1]\n",
            "mqtt.deny_subscriptions[1]",
        );
        error_at("limits = 3\n", "limits");
        let shown = error_at(
            "[[listener]]\nbind = \"127.0.0.1:1883\"\n[[listener]]\nbind = \"localhost\"\n",
            "listener[1].bind",
        );
        assert_eq!(shown, "listener[1].bind: invalid socket address syntax");
    }

    #[test]
    fn out_of_range_values_are_named() {
        let shown = error_at("[limits]\nreceive_maximum = 0\n", "limits.receive_maximum");
        assert_eq!(shown, "limits.receive_maximum: must be at least 1 (got 0)");
        error_at("[limits]\nmax_inflight = 0\n", "limits.max_inflight");
        error_at("[limits]\nmax_connections = 0\n", "limits.max_connections");
        error_at("[limits]\nmax_packet_size = 15\n", "limits.max_packet_size");
        error_at(
            "[limits]\nmax_packet_size = 268435461\n",
            "limits.max_packet_size",
        );
        error_at(
            "[limits]\nmax_client_id_len = 22\n",
            "limits.max_client_id_len",
        );
        error_at(
            "[limits]\nmax_message_expiry_interval = 0\n",
            "limits.max_message_expiry_interval",
        );
        error_at("[mqtt]\nmaximum_qos = 3\n", "mqtt.maximum_qos");
        error_at("listener = []\n", "listener");
        error_at("[log]\nlevel = \"info,a=loud\"\n", "log.level");

        for ok in [
            "[limits]\nmax_packet_size = 16\n",
            "[limits]\nmax_packet_size = 268435460\n",
            "[limits]\nmax_client_id_len = 23\n",
            "[mqtt]\nmaximum_qos = 0\n",
            "[log]\nlevel = \"warn,tern::codec=trace\"\n",
        ] {
            Config::from_toml_str(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        }
    }

    #[test]
    fn bad_filters_are_named() {
        let shown = error_at(
            "[mqtt]\ndeny_subscriptions = [\"ok/#\", \"a/#/b\"]\n",
            "mqtt.deny_subscriptions[1]",
        );
        assert!(shown.contains("\"a/#/b\""), "{shown}");
        error_at(
            "[mqtt]\ndeny_subscriptions = [\"\"]\n",
            "mqtt.deny_subscriptions[0]",
        );
        error_at(
            "[mqtt]\ndeny_subscriptions = [\"a+\"]\n",
            "mqtt.deny_subscriptions[0]",
        );
    }

    #[test]
    fn syntax_errors_give_the_position() {
        let e = error("[limits]\nmax_connections = = 3\n");
        let ConfigError::Syntax { line, .. } = e else {
            panic!("{e:?}");
        };
        assert_eq!(line, 2);
        assert!(
            e.to_string().starts_with("TOML syntax error at line 2"),
            "{e}"
        );
        // A key given twice is a TOML error too.
        let e = error("[limits]\nmax_connections = 3\nmax_connections = 4\n");
        assert!(matches!(e, ConfigError::Syntax { line: 3, .. }), "{e:?}");
    }

    #[test]
    fn the_password_file_must_load() {
        let shown = error_at(
            "[auth]\npassword_file = \"/nonexistent/passwd\"\n",
            "auth.password_file",
        );
        assert!(shown.contains("/nonexistent/passwd"), "{shown}");
        let path = std::env::temp_dir().join(format!("tern-config-{}.passwd", std::process::id()));
        std::fs::write(&path, "# users\nalice:plain\n").unwrap();
        let text = format!("[auth]\npassword_file = {:?}\n", path.display().to_string());
        let shown = error_at(&text, "auth.password_file");
        assert!(shown.contains("line 2:"), "{shown}");
        std::fs::write(&path, "# no users yet\n").unwrap();
        let config = Config::from_toml_str(&text).unwrap();
        assert_eq!(config.auth.password_file.as_deref(), Some(path.as_path()));
        std::fs::remove_file(&path).ok();
        error_at(
            "[auth]\nfailed_login_delay_ms = 60001\n",
            "auth.failed_login_delay_ms",
        );
    }

    #[test]
    fn listener_admission_keys_are_checked() {
        let config = Config::from_toml_str(
            "[[listener]]\ntransport = \"unix\"\nsocket = \"/tmp/t.sock\"\nsocket_mode = 0o600\n\
             [[listener]]\nbind = \"127.0.0.1:1883\"\nproxy_protocol = \"required\"\n\
             max_connections = 5\nmax_connection_rate_per_ip = 2\nallow_anonymous = false\n",
        )
        .unwrap();
        assert_eq!(config.listeners[0].socket_mode, 0o600);
        let l = &config.listeners[1];
        assert_eq!(l.proxy_protocol, ProxyProtocol::Required);
        assert_eq!(
            (
                l.max_connections,
                l.max_connection_rate_per_ip,
                l.allow_anonymous
            ),
            (Some(5), Some(2), Some(false))
        );

        error_at("[[listener]]\ntransport = \"unix\"\n", "listener[0].socket");
        error_at(
            "[[listener]]\nsocket = \"/tmp/t.sock\"\n",
            "listener[0].socket",
        );
        let unix = "[[listener]]\ntransport = \"unix\"\nsocket = \"/tmp/t.sock\"\n";
        error_at(
            &format!("{unix}socket_mode = 0o1777\n"),
            "listener[0].socket_mode",
        );
        error_at(
            &format!("{unix}proxy_protocol = \"optional\"\n"),
            "listener[0].proxy_protocol",
        );
        error_at(
            &format!("{unix}max_connection_rate_per_ip = 5\n"),
            "listener[0].max_connection_rate_per_ip",
        );
        error_at(
            "[[listener]]\nproxy_protocol = \"sometimes\"\n",
            "listener[0].proxy_protocol",
        );
        error_at(
            "[[listener]]\nmax_connections = 0\n",
            "listener[0].max_connections",
        );
        error_at(
            "[[listener]]\nmax_connection_rate_per_ip = 0\n",
            "listener[0].max_connection_rate_per_ip",
        );
    }

    #[test]
    fn load_names_a_missing_file() {
        let e = Config::load("/nonexistent/tern.toml").unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
        assert!(e.to_string().contains("/nonexistent/tern.toml"), "{e}");
    }
}
