//! CONNECT and CONNACK: client identifiers, takeover, limits, authentication, wills refused.

use super::*;

#[test]
fn v5_connack_advertises_the_limits() {
    let mut h = Harness::new();
    let (_, ack) = h.connect_with(Connect::new(V5, "a"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    assert!(!ack.session_present);
    let p = &ack.properties;
    assert_eq!(
        p.get(PropertyId::ReceiveMaximum),
        Some(&Property::ReceiveMaximum(32))
    );
    assert_eq!(
        p.get(PropertyId::TopicAliasMaximum),
        Some(&Property::TopicAliasMaximum(64))
    );
    assert!(p.get(PropertyId::MaximumPacketSize).is_some());
}

#[test]
fn client_identifier_rules_per_version() {
    let mut h = Harness::new();
    // 3.1: at most 23 bytes.
    let (_, ack) = h.connect_with(Connect::new(Protocol::V3_1, "a".repeat(24)));
    assert_eq!(ack.code, ReasonCode::CLIENT_IDENTIFIER_NOT_VALID);
    let (_, ack) = h.connect_with(Connect::new(Protocol::V3_1, "a".repeat(23)));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    // 3.1.1: a zero-length id needs a clean session [MQTT-3.1.3-8].
    let mut c = Connect::new(V311, "");
    c.clean_start = false;
    let (conn, ack) = h.connect_with(c);
    assert_eq!(ack.code, ReasonCode::CLIENT_IDENTIFIER_NOT_VALID);
    assert!(h.is_closed(conn));
    let (_, ack) = h.connect_with(Connect::new(V311, ""));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    // 5.0: one is assigned and returned [MQTT-3.1.3-7].
    let (_, ack) = h.connect_with(Connect::new(V5, ""));
    assert!(matches!(
        ack.properties.get(PropertyId::AssignedClientIdentifier),
        Some(Property::AssignedClientIdentifier(id)) if id.starts_with("tern-")
    ));
}

#[test]
fn first_packet_must_be_connect_and_only_once() {
    let mut h = Harness::new();
    let conn = h.open(V5);
    h.send(conn, Packet::PingReq);
    assert!(h.is_closed(conn));
    assert!(h.recv(conn).is_none(), "no CONNACK is owed");

    let conn = h.client(V5, "a");
    h.send(conn, Packet::Connect(Box::new(Connect::new(V5, "a"))));
    assert_eq!(disconnect_reason(h.recv(conn)), ReasonCode::PROTOCOL_ERROR);
    assert!(h.is_closed(conn));
}

#[test]
fn connect_must_arrive_in_time() {
    let mut h = Harness::new();
    let conn = h.open(V5);
    h.advance(9);
    assert!(!h.is_closed(conn));
    h.advance(2);
    assert!(h.is_closed(conn));
}

#[test]
fn takeover_closes_the_old_connection_with_0x8e() {
    let mut h = Harness::new();
    let old = h.client(V5, "same");
    let new = h.client(V5, "same");
    assert_eq!(
        disconnect_reason(h.recv(old)),
        ReasonCode::SESSION_TAKEN_OVER
    );
    assert!(h.is_closed(old));
    assert!(!h.is_closed(new));
    assert_eq!(h.engine.connection_count(), 1);
}

#[test]
fn bad_protocol_level_gets_return_code_1() {
    let mut h = Harness::new();
    let conn = h.open(V311);
    let error = decode_exact(
        &[0x10, 0x0C, 0, 4, b'M', b'Q', b'T', b'T', 9, 2, 0, 60, 0, 0],
        V311,
    )
    .unwrap_err();
    h.input(conn, Input::Malformed(error));
    match h.recv(conn) {
        Some(Packet::ConnAck(ack)) => {
            assert_eq!(ack.code, ReasonCode::UNSUPPORTED_PROTOCOL_VERSION)
        }
        other => panic!("expected CONNACK, got {other:?}"),
    }
    assert!(h.is_closed(conn));
}

#[test]
fn connect_with_wrong_flags_is_closed_without_connack() {
    // The fixed header is read before the protocol is known (as the connection reads it: as
    // 5.0), so even a 3.1.1 CONNECT must not get a 5.0 CONNACK [MQTT-2.2.2-2].
    let mut h = Harness::new();
    let conn = h.open(V311);
    let mut bytes = vec![
        0x11, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 1, b'a',
    ];
    let error = decode_exact(&bytes, V5).unwrap_err();
    h.input(conn, Input::Malformed(error));
    assert!(h.recv(conn).is_none());
    assert!(h.is_closed(conn));
    bytes[0] = 0x10;
    assert!(decode_exact(&bytes, V5).is_ok());
}

#[test]
fn connection_limit_refuses_with_quota_exceeded() {
    let mut h = Harness::with(Settings {
        max_connections: 1,
        ..Settings::default()
    });
    h.client(V5, "a");
    let (_, ack) = h.connect_with(Connect::new(V5, "b"));
    assert_eq!(ack.code, ReasonCode::QUOTA_EXCEEDED);
}

#[test]
fn anonymous_access_can_be_switched_off() {
    let mut h = Harness::with(Settings {
        allow_anonymous: false,
        ..Settings::default()
    });
    let (_, ack) = h.connect_with(Connect::new(V311, "a"));
    assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED);
}

/// A made-up enhanced method, to prove the AUTH exchange is plumbed through: the server
/// challenges once and accepts the answer "open sesame".
struct Challenge;

impl Authenticator for Challenge {
    fn connect(&mut self, _: ConnId, _: &Connect, _: std::time::SystemTime) -> AuthDecision {
        AuthDecision::Continue(
            vec![
                Property::AuthenticationMethod("TEST".into()),
                Property::AuthenticationData(Bytes::from_static(b"who?")),
            ]
            .into(),
        )
    }

    fn auth(&mut self, _: ConnId, _: &Connect, auth: &Auth) -> AuthDecision {
        match auth.properties.get(PropertyId::AuthenticationData) {
            Some(Property::AuthenticationData(d)) if &d[..] == b"open sesame" => {
                AuthDecision::Accept
            }
            _ => AuthDecision::Refuse(ReasonCode::NOT_AUTHORIZED),
        }
    }
}

#[test]
fn enhanced_authentication_goes_through_the_extension_point() {
    let engine = Engine::with_authenticator(Settings::default(), Box::new(Challenge));
    let mut h = Harness::with_engine(engine);
    let conn = h.open(V5);
    let mut connect = Connect::new(V5, "a");
    connect
        .properties
        .push(Property::AuthenticationMethod("TEST".into()));
    h.send(conn, Packet::Connect(Box::new(connect)));
    assert!(
        matches!(h.recv(conn), Some(Packet::Auth(a)) if a.reason == ReasonCode::CONTINUE_AUTHENTICATION)
    );
    let answer = Auth {
        reason: ReasonCode::CONTINUE_AUTHENTICATION,
        properties: vec![
            Property::AuthenticationMethod("TEST".into()),
            Property::AuthenticationData(Bytes::from_static(b"open sesame")),
        ]
        .into(),
    };
    h.send(conn, Packet::Auth(answer));
    assert!(matches!(h.recv(conn), Some(Packet::ConnAck(a)) if a.code == ReasonCode::SUCCESS));
}

#[test]
fn unknown_authentication_method_is_refused() {
    let mut h = Harness::new();
    let mut connect = Connect::new(V5, "a");
    connect
        .properties
        .push(Property::AuthenticationMethod("SCRAM-SHA-1".into()));
    let (_, ack) = h.connect_with(connect);
    assert_eq!(ack.code, ReasonCode::BAD_AUTHENTICATION_METHOD);
}

#[test]
fn will_beyond_the_servers_abilities_is_refused() {
    let mut h = Harness::with(Settings {
        maximum_qos: QoS::AtMostOnce,
        retain_available: false,
        ..Settings::default()
    });
    let (_, ack) = h.connect_with(with_will(V5, "qos", None));
    assert_eq!(ack.code, ReasonCode::QOS_NOT_SUPPORTED, "[MQTT-3.2.2-12]");
    let mut c = with_will(V5, "retain", None);
    if let Some(w) = c.will.as_mut() {
        w.qos = QoS::AtMostOnce;
        w.retain = true;
    }
    let (_, ack) = h.connect_with(c);
    assert_eq!(
        ack.code,
        ReasonCode::RETAIN_NOT_SUPPORTED,
        "[MQTT-3.2.2-13]"
    );
}

#[test]
fn takeover_is_allowed_at_the_connection_limit() {
    let mut h = Harness::with(Settings {
        max_connections: 1,
        ..Settings::default()
    });
    let old = h.client(V5, "same");
    let (_, ack) = h.connect_with(Connect::new(V5, "same"));
    assert_eq!(
        ack.code,
        ReasonCode::SUCCESS,
        "it replaces a connection, it adds none"
    );
    assert!(h.is_closed(old));
    let (_, ack) = h.connect_with(Connect::new(V5, "other"));
    assert_eq!(ack.code, ReasonCode::QUOTA_EXCEEDED);
}

/// Found by the session fuzzer: a client whose Maximum Packet Size cannot hold the CONNACK
/// was left waiting, since the CONNACK may not be sent [MQTT-3.1.2-24]. It is refused with
/// the smallest CONNACK instead, and its session is left as it was.
#[test]
fn connack_too_large_for_the_client_is_refused_with_0x95() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "");
    c.properties.push(Property::MaximumPacketSize(20));
    let (conn, ack) = h.connect_with(c);
    assert_eq!(ack.code, ReasonCode::PACKET_TOO_LARGE);
    assert!(h.is_closed(conn));
    assert_eq!(h.engine.session_count(), 0);
    // Large enough for the refusal but not for the CONNACK: still refused, never silent.
    let mut c = Connect::new(V5, "named");
    c.properties.push(Property::MaximumPacketSize(12));
    let (_, ack) = h.connect_with(c);
    assert_eq!(ack.code, ReasonCode::PACKET_TOO_LARGE);
}

/// Remembers the wall-clock time each CONNECT was judged at.
struct Clocked(std::sync::Arc<std::sync::Mutex<Vec<std::time::SystemTime>>>);

impl Authenticator for Clocked {
    fn connect(&mut self, _: ConnId, _: &Connect, now: std::time::SystemTime) -> AuthDecision {
        self.0.lock().unwrap().push(now);
        AuthDecision::Accept
    }

    fn auth(&mut self, _: ConnId, _: &Connect, _: &Auth) -> AuthDecision {
        AuthDecision::Refuse(ReasonCode::PROTOCOL_ERROR)
    }
}

#[test]
fn authenticators_judge_at_the_wall_clock_time_the_engine_was_given() {
    use std::time::{SystemTime, UNIX_EPOCH};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let engine = Engine::with_authenticator(Settings::default(), Box::new(Clocked(seen.clone())));
    let mut h = Harness::with_engine(engine);
    // A wall clock far from the system's: the engine must count from it, not read its own.
    let wall = UNIX_EPOCH + Duration::from_secs(1_000_000);
    h.engine.set_wall_clock(h.now, wall);
    h.client(V5, "early");
    h.now += Duration::from_secs(5);
    h.client(V5, "later");
    let seen: Vec<SystemTime> = seen.lock().unwrap().clone();
    assert_eq!(seen, [wall, wall + Duration::from_secs(5)]);
}
