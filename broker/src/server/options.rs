//! `[[listener]]` as the configuration file spells it: where clients connect, over what, and
//! with which TLS. The configuration (`crate::config`) embeds these types and checks that
//! their keys agree; the server binds and serves what they describe.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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
