//! What a listener tells the engine at open: the protocol versions it accepts, and a client
//! certificate that logs the client in (`identity_as_username`).

use super::*;
use crate::engine::{CertLogin, ConnInfo, ProtocolSet};

impl Harness {
    /// Opens a connection with `info` and sends `connect`; returns the CONNACK.
    fn connect_with_info(&mut self, info: ConnInfo, connect: Connect) -> (ConnId, ConnAck) {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.protocols.insert(conn, connect.protocol);
        self.engine.open_with(conn, info, self.now);
        self.send(conn, Packet::Connect(Box::new(connect)));
        match self.recv(conn) {
            Some(Packet::ConnAck(ack)) => (conn, ack),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }
}

fn only(protocols: &[Protocol]) -> ConnInfo {
    ConnInfo {
        protocols: protocols.iter().copied().collect(),
        ..ConnInfo::default()
    }
}

#[test]
fn a_version_the_listener_does_not_accept_is_refused() {
    let mut h = Harness::new();
    let (conn, ack) = h.connect_with_info(only(&[V5]), Connect::new(V311, "old"));
    // 0x84 is encoded as the 3.x return code 0x01 for a 3.1.1 client.
    assert_eq!(ack.code, ReasonCode::UNSUPPORTED_PROTOCOL_VERSION);
    assert!(h.is_closed(conn));
    let (conn, ack) = h.connect_with_info(only(&[V311]), Connect::new(V5, "new"));
    assert_eq!(ack.code, ReasonCode::UNSUPPORTED_PROTOCOL_VERSION);
    assert!(h.is_closed(conn));
    let (conn, ack) = h.connect_with_info(only(&[V311, V5]), Connect::new(V5, "ok"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    assert!(!h.is_closed(conn));
    assert!(ProtocolSet::default().contains(Protocol::V3_1));
}

fn cert(login: CertLogin) -> ConnInfo {
    ConnInfo {
        cert_identity: Some("CN=alice,O=Example".into()),
        cert_login: login,
        ..ConnInfo::default()
    }
}

#[test]
fn a_certificate_user_needs_no_password() {
    let mut h = Harness::with(Settings {
        allow_anonymous: false,
        ..Settings::default()
    });
    // Without the certificate login, anonymous access is refused.
    let (_, ack) = h.connect_with_info(cert(CertLogin::Off), Connect::new(V5, "a"));
    assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED);
    let mut connect = Connect::new(V311, "b");
    connect.username = Some("mallory".into());
    connect.password = Some(Bytes::from_static(b"whatever"));
    let (conn, ack) = h.connect_with_info(cert(CertLogin::User("alice".into())), connect);
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    assert!(!h.is_closed(conn));
}

#[test]
fn a_certificate_without_the_field_is_not_authorized() {
    let mut h = Harness::new();
    let (conn, ack) = h.connect_with_info(
        cert(CertLogin::Missing("Common Name")),
        Connect::new(V5, "c"),
    );
    assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED);
    assert!(h.is_closed(conn));
}

#[test]
fn a_certificate_login_refuses_enhanced_authentication() {
    let mut h = Harness::new();
    let mut connect = Connect::new(V5, "d");
    connect
        .properties
        .push(Property::AuthenticationMethod("SCRAM-SHA-256".into()));
    let (conn, ack) = h.connect_with_info(cert(CertLogin::User("alice".into())), connect);
    assert_eq!(ack.code, ReasonCode::BAD_AUTHENTICATION_METHOD);
    assert!(h.is_closed(conn));
}
