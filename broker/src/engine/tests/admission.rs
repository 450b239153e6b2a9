//! Per-listener admission: anonymous access, the connection ceiling and the per-address
//! connection rate, with connections opened as a listener would open them.

use std::net::SocketAddr;

use super::*;
use crate::engine::{ConnInfo, ListenerSettings};

impl Harness {
    /// Opens a connection as listener `listener` would, from `peer`, and sends `connect`.
    fn connect_via(
        &mut self,
        listener: usize,
        peer: Option<&str>,
        connect: Connect,
    ) -> (ConnId, ConnAck) {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.protocols.insert(conn, connect.protocol);
        let info = ConnInfo {
            listener,
            peer: peer.map(|p| p.parse::<SocketAddr>().unwrap()),
            ..ConnInfo::default()
        };
        self.engine.open_with(conn, info, self.now);
        self.collect();
        self.send(conn, Packet::Connect(Box::new(connect)));
        match self.recv(conn) {
            Some(Packet::ConnAck(ack)) => (conn, ack),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }
}

/// Settings with listener 0 plain and listener 1 as given.
fn second_listener(l: ListenerSettings) -> Settings {
    Settings {
        listeners: vec![ListenerSettings::default(), l],
        ..Settings::default()
    }
}

fn with_user(protocol: Protocol, id: &str, user: &str) -> Connect {
    let mut c = Connect::new(protocol, id);
    c.username = Some(user.into());
    c
}

#[test]
fn a_listener_can_refuse_anonymous_clients() {
    let mut h = Harness::with(second_listener(ListenerSettings {
        allow_anonymous: Some(false),
        ..ListenerSettings::default()
    }));
    let (_, ack) = h.connect_via(0, None, Connect::new(V5, "elsewhere"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    let (c, ack) = h.connect_via(1, None, Connect::new(V5, "anon5"));
    assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED);
    assert!(h.is_closed(c));
    // 3.1.1 hears 0x05 Not authorized.
    let (_, ack) = h.connect_via(1, None, Connect::new(V311, "anon3"));
    assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED);
    // A client with a user name goes to the authenticator, which lets anyone in here.
    let (_, ack) = h.connect_via(1, None, with_user(V5, "named", "alice"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
}

#[test]
fn a_listener_can_allow_anonymous_clients_the_broker_refuses() {
    let mut h = Harness::with(Settings {
        allow_anonymous: false,
        ..second_listener(ListenerSettings {
            allow_anonymous: Some(true),
            ..ListenerSettings::default()
        })
    });
    let (_, ack) = h.connect_via(0, None, Connect::new(V5, "a"));
    assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED);
    let (_, ack) = h.connect_via(1, None, Connect::new(V5, "b"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    // Credentials are still checked by the authenticator, which refuses everyone here.
    let (_, ack) = h.connect_via(1, None, with_user(V5, "c", "mallory"));
    assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED);
}

#[test]
fn a_full_listener_refuses_with_quota_exceeded() {
    let mut h = Harness::with(second_listener(ListenerSettings {
        max_connections: Some(2),
        ..ListenerSettings::default()
    }));
    let (a, _) = h.connect_via(1, None, Connect::new(V5, "a"));
    h.connect_via(1, None, Connect::new(V5, "b"));
    let (c, ack) = h.connect_via(1, None, Connect::new(V5, "c"));
    assert_eq!(ack.code, ReasonCode::QUOTA_EXCEEDED);
    assert!(h.is_closed(c));
    // 3.1.1 hears 0x03 Server unavailable.
    let (_, ack) = h.connect_via(1, None, Connect::new(V311, "c3"));
    assert_eq!(ack.code.to_v3_connack(), 0x03);
    // Other listeners are not affected.
    let (_, ack) = h.connect_via(0, None, Connect::new(V5, "d"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    // A takeover through the same listener replaces a connection.
    let (_, ack) = h.connect_via(1, None, Connect::new(V5, "a"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    assert!(h.is_closed(a));
    assert_eq!(h.engine.connections_per_listener(), [1, 2]);
    // A client that leaves makes room.
    let b = ConnId(2);
    h.send(
        b,
        Packet::Disconnect(crate::codec::Disconnect::new(ReasonCode::SUCCESS)),
    );
    let (_, ack) = h.connect_via(1, None, Connect::new(V5, "e"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
}

#[test]
fn too_many_connections_from_one_address_are_refused_with_0x9f() {
    let mut h = Harness::with(second_listener(ListenerSettings {
        max_connection_rate_per_ip: Some(2),
        ..ListenerSettings::default()
    }));
    let peer = Some("192.0.2.7:40000");
    for id in ["a", "b"] {
        let (_, ack) = h.connect_via(1, peer, Connect::new(V5, id));
        assert_eq!(ack.code, ReasonCode::SUCCESS);
    }
    let (c, ack) = h.connect_via(1, peer, Connect::new(V5, "c"));
    assert_eq!(ack.code, ReasonCode::CONNECTION_RATE_EXCEEDED);
    assert!(h.is_closed(c));
    // 3.1.1 hears 0x03 Server unavailable.
    let (_, ack) = h.connect_via(1, peer, Connect::new(V311, "d"));
    assert_eq!(ack.code.to_v3_connack(), 0x03);
    // Another address, or the same one on another listener, is not held back.
    let (_, ack) = h.connect_via(1, Some("192.0.2.8:40000"), Connect::new(V5, "e"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    let (_, ack) = h.connect_via(0, peer, Connect::new(V5, "f"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    // A second later the address has its budget back.
    h.advance(1);
    let (_, ack) = h.connect_via(1, peer, Connect::new(V5, "g"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
}
