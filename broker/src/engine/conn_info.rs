//! What the transport layer knows about a connection when it hands it to the engine: which
//! listener took it, the client's address, the protocol versions that listener allows, and
//! the identity of a verified TLS client certificate.
//!
//! The server fills a [`ConnInfo`] once the connection's handshakes (PROXY header, TLS,
//! WebSocket upgrade) are over and passes it to [`Engine::open_with`](super::Engine::open_with);
//! the engine keeps it for the life of the connection, so that CONNECT handling, the
//! authenticator and authorization can ask about it. Engines driven without sockets (tests,
//! fuzzing) use [`ConnInfo::default`]: every protocol allowed, no address, no certificate.

use std::net::SocketAddr;

use bytestring::ByteString;

use crate::codec::Protocol;

/// What the engine knows about a connection beyond the bytes it sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnInfo {
    /// The position of the listener that accepted it in the configuration (`listener[N]`).
    pub listener: usize,
    /// The client's address: the socket's peer, or the address a PROXY protocol header
    /// named. `None` where there is none (an engine driven without sockets).
    pub peer: Option<SocketAddr>,
    /// The protocol versions the listener accepts; a CONNECT of another version is refused
    /// with CONNACK 0x84 Unsupported Protocol Version (3.x: 0x01).
    pub protocols: ProtocolSet,
    /// The subject of the client's TLS certificate, verified against the listener's client
    /// CA, as an RFC 4514 string (`CN=alice,O=Example`). `None` without a client certificate.
    /// Authorization rules that name a certificate identity match this.
    pub cert_identity: Option<ByteString>,
    /// Whether the certificate logs the client in, and as whom (`identity_as_username`).
    pub cert_login: CertLogin,
}

/// What a client certificate does to a CONNECT's user name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CertLogin {
    /// Nothing: the CONNECT's own user name and password, or anonymous access, apply.
    #[default]
    Off,
    /// The certificate authenticated the client as this user: the CONNECT's user name is
    /// replaced by it, its password is ignored, and the authenticator is not asked.
    User(ByteString),
    /// The listener takes user names from certificates, but this certificate lacks the field
    /// asked for (no Common Name, no Subject Alternative Name): the CONNECT is refused with
    /// CONNACK 0x87 Not authorized (3.x: 0x05).
    Missing(&'static str),
}

/// A set of MQTT protocol versions.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolSet(u8);

impl ProtocolSet {
    /// No version at all.
    pub const NONE: ProtocolSet = ProtocolSet(0);
    /// 3.1, 3.1.1 and 5.0.
    pub const ALL: ProtocolSet = ProtocolSet(0b111);

    fn bit(protocol: Protocol) -> u8 {
        match protocol {
            Protocol::V3_1 => 1,
            Protocol::V3_1_1 => 2,
            Protocol::V5 => 4,
        }
    }

    /// The set with `protocol` added.
    #[must_use]
    pub fn with(self, protocol: Protocol) -> ProtocolSet {
        ProtocolSet(self.0 | Self::bit(protocol))
    }

    pub fn contains(self, protocol: Protocol) -> bool {
        self.0 & Self::bit(protocol) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The versions in the set, oldest first.
    pub fn iter(self) -> impl Iterator<Item = Protocol> {
        Protocol::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

impl Default for ProtocolSet {
    fn default() -> ProtocolSet {
        ProtocolSet::ALL
    }
}

impl FromIterator<Protocol> for ProtocolSet {
    fn from_iter<I: IntoIterator<Item = Protocol>>(iter: I) -> ProtocolSet {
        iter.into_iter().fold(ProtocolSet::NONE, ProtocolSet::with)
    }
}

impl std::fmt::Debug for ProtocolSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl std::fmt::Display for ProtocolSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.iter().map(|p| p.to_string()).collect();
        f.write_str(&names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_what_was_put_in() {
        let set: ProtocolSet = [Protocol::V5, Protocol::V3_1_1].into_iter().collect();
        assert!(set.contains(Protocol::V5) && set.contains(Protocol::V3_1_1));
        assert!(!set.contains(Protocol::V3_1));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Protocol::V3_1_1, Protocol::V5]
        );
        assert!(ProtocolSet::NONE.is_empty());
        assert_eq!(ProtocolSet::default(), ProtocolSet::ALL);
        assert!(Protocol::ALL.iter().all(|p| ProtocolSet::ALL.contains(*p)));
    }
}
