//! Logins against a password file through the engine: the failed-login delay, and the
//! SCRAM-SHA-256 exchange over AUTH.

use super::*;
use crate::auth::scram::client_final;
use crate::auth::{PasswordAuthenticator, PasswordFile};

/// An engine whose password file has "alice" with password "secret".
fn harness(settings: Settings) -> Harness {
    let mut file = PasswordFile::default();
    file.set_password("alice", b"secret", 4096).unwrap();
    let authenticator = PasswordAuthenticator::new(&file, false).unwrap();
    Harness::with_engine(Engine::with_authenticator(
        settings,
        Box::new(authenticator),
    ))
}

fn login(protocol: Protocol, id: &str, user: &str, password: &str) -> Connect {
    let mut c = Connect::new(protocol, id);
    c.username = Some(user.into());
    c.password = Some(Bytes::from(password.to_owned()));
    c
}

fn scram(method: &str, data: &str) -> Properties {
    vec![
        Property::AuthenticationMethod(method.into()),
        Property::AuthenticationData(Bytes::from(data.to_owned())),
    ]
    .into()
}

fn auth_data(p: &Properties) -> String {
    assert_eq!(
        p.get(PropertyId::AuthenticationMethod),
        Some(&Property::AuthenticationMethod("SCRAM-SHA-256".into())),
        "the method of CONNECT in every AUTH and in CONNACK [MQTT-4.12.0-5]"
    );
    match p.get(PropertyId::AuthenticationData) {
        Some(Property::AuthenticationData(d)) => String::from_utf8(d.to_vec()).unwrap(),
        other => panic!("no Authentication Data: {other:?}"),
    }
}

#[test]
fn the_right_password_is_accepted_at_once() {
    let mut h = harness(Settings::default());
    for protocol in [V311, V5, Protocol::V3_1] {
        let (_, ack) = h.connect_with(login(protocol, "a", "alice", "secret"));
        assert_eq!(ack.code, ReasonCode::SUCCESS);
    }
}

#[test]
fn wrong_credentials_are_refused_after_the_delay_without_holding_up_others() {
    let mut h = harness(Settings::default());
    let (other, ack) = h.connect_with(login(V5, "other", "alice", "secret"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    let mut refused = Vec::new();
    for (protocol, id, user, password) in [
        (V5, "w5", "alice", "wrong"),
        (V5, "u5", "bob", "secret"),
        (V311, "w4", "alice", "wrong"),
        (V311, "u4", "bob", "secret"),
    ] {
        let conn = h.open(protocol);
        h.send(
            conn,
            Packet::Connect(Box::new(login(protocol, id, user, password))),
        );
        refused.push(conn);
    }
    // Meanwhile: nothing for the refused, and the rest of the broker carries on.
    h.send(refused[0], Packet::PingReq);
    h.send(other, Packet::PingReq);
    assert_eq!(h.recv(other), Some(Packet::PingResp));
    for &conn in &refused {
        assert!(h.recv(conn).is_none());
        assert!(!h.is_closed(conn));
    }
    h.advance(1);
    for &conn in &refused {
        // 0x86 in 5.0; in 3.x the wire says 0x04, read back as the same code.
        match h.recv(conn) {
            Some(Packet::ConnAck(ack)) => {
                assert_eq!(ack.code, ReasonCode::BAD_USER_NAME_OR_PASSWORD);
                assert!(!ack.session_present);
            }
            other => panic!("expected CONNACK, got {other:?}"),
        }
        assert!(h.recv(conn).is_none(), "the PINGREQ was not answered");
        assert!(h.is_closed(conn));
    }
    assert_eq!(h.engine.connection_count(), 1);
}

#[test]
fn a_client_gone_during_the_delay_gets_nothing() {
    let mut h = harness(Settings::default());
    let conn = h.open(V5);
    h.send(
        conn,
        Packet::Connect(Box::new(login(V5, "a", "alice", "wrong"))),
    );
    h.input(conn, Input::Closed);
    assert!(h.is_closed(conn));
    h.advance(1);
    assert!(h.recv(conn).is_none());
}

#[test]
fn no_delay_when_configured_to_zero() {
    let mut h = harness(Settings {
        failed_login_delay: Duration::ZERO,
        ..Settings::default()
    });
    let (conn, ack) = h.connect_with(login(V311, "a", "alice", "wrong"));
    assert_eq!(ack.code, ReasonCode::BAD_USER_NAME_OR_PASSWORD);
    assert!(h.is_closed(conn));
}

#[test]
fn anonymous_clients_are_refused_at_once_when_not_allowed() {
    let mut h = harness(Settings::default());
    let (_, ack) = h.connect_with(Connect::new(V5, "a"));
    assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED);
}

/// Sends the CONNECT of a SCRAM login and returns the connection and server-first.
fn scram_start(h: &mut Harness, user: &str, max_packet_size: Option<u32>) -> (ConnId, String) {
    let conn = h.open(V5);
    let mut connect = Connect::new(V5, "s");
    connect.properties = scram("SCRAM-SHA-256", &format!("n,,n={user},r=clientnonce"));
    if let Some(max) = max_packet_size {
        connect.properties.push(Property::MaximumPacketSize(max));
    }
    h.send(conn, Packet::Connect(Box::new(connect)));
    match h.recv(conn) {
        Some(Packet::Auth(auth)) => {
            // [MQTT-4.12.0-2]: more data is needed, so the reason is 0x18.
            assert_eq!(auth.reason, ReasonCode::CONTINUE_AUTHENTICATION);
            assert!(auth.properties.get(PropertyId::ReasonString).is_none());
            assert!(auth.properties.get(PropertyId::UserProperty).is_none());
            (conn, auth_data(&auth.properties))
        }
        other => panic!("expected AUTH, got {other:?}"),
    }
}

fn scram_answer(h: &mut Harness, conn: ConnId, user: &str, server_first: &str, password: &str) {
    let answer = client_final(&format!("n={user},r=clientnonce"), server_first, password);
    h.send(
        conn,
        Packet::Auth(Auth {
            reason: ReasonCode::CONTINUE_AUTHENTICATION,
            properties: scram("SCRAM-SHA-256", &answer),
        }),
    );
}

#[test]
fn scram_login_through_the_engine() {
    let mut h = harness(Settings::default());
    let (conn, server_first) = scram_start(&mut h, "alice", None);
    assert!(server_first.starts_with("r=clientnonce"), "{server_first}");
    scram_answer(&mut h, conn, "alice", &server_first, "secret");
    match h.recv(conn) {
        Some(Packet::ConnAck(ack)) => {
            assert_eq!(ack.code, ReasonCode::SUCCESS);
            assert!(auth_data(&ack.properties).starts_with("v="));
        }
        other => panic!("expected CONNACK, got {other:?}"),
    }
    assert!(!h.is_closed(conn));
    h.send(conn, Packet::PingReq);
    assert_eq!(h.recv(conn), Some(Packet::PingResp));
}

#[test]
fn scram_failures_are_refused_after_the_delay() {
    let mut h = harness(Settings::default());
    for (user, password) in [("alice", "wrong"), ("bob", "secret")] {
        let (conn, server_first) = scram_start(&mut h, user, None);
        scram_answer(&mut h, conn, user, &server_first, password);
        assert!(h.recv(conn).is_none());
        h.advance(1);
        match h.recv(conn) {
            Some(Packet::ConnAck(ack)) => {
                assert_eq!(ack.code, ReasonCode::BAD_USER_NAME_OR_PASSWORD);
                assert!(ack.properties.get(PropertyId::AuthenticationData).is_none());
            }
            other => panic!("expected CONNACK, got {other:?}"),
        }
        assert!(h.is_closed(conn));
    }
}

#[test]
fn the_challenge_respects_the_clients_maximum_packet_size() {
    let mut h = harness(Settings::default());
    let (conn, server_first) = scram_start(&mut h, "alice", None);
    h.input(conn, Input::Closed);
    // The AUTH is 5 bytes of header and reason, 16 of method and 3 + len of data.
    let exact = u32::try_from(2 + 1 + 1 + 16 + 3 + server_first.len()).unwrap();
    let (conn, _) = scram_start(&mut h, "alice", Some(exact));
    assert!(!h.is_closed(conn));

    let conn = h.open(V5);
    let mut connect = Connect::new(V5, "s");
    connect.properties = scram("SCRAM-SHA-256", "n,,n=alice,r=clientnonce");
    connect
        .properties
        .push(Property::MaximumPacketSize(exact - 1));
    h.send(conn, Packet::Connect(Box::new(connect)));
    match h.recv(conn) {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code, ReasonCode::PACKET_TOO_LARGE),
        other => panic!("expected CONNACK, got {other:?}"),
    }
    assert!(h.is_closed(conn));
}

#[test]
fn a_second_connect_during_the_exchange_is_a_protocol_error() {
    let mut h = harness(Settings::default());
    let (conn, _) = scram_start(&mut h, "alice", None);
    h.send(conn, Packet::Connect(Box::new(Connect::new(V5, "s"))));
    match h.recv(conn) {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code, ReasonCode::PROTOCOL_ERROR),
        other => panic!("expected CONNACK, got {other:?}"),
    }
    assert!(h.is_closed(conn));
}

#[test]
fn another_method_is_refused_with_0x8c() {
    let mut h = harness(Settings::default());
    let mut connect = Connect::new(V5, "s");
    connect.properties = scram("SCRAM-SHA-1", "n,,n=alice,r=x");
    let (conn, ack) = h.connect_with(connect);
    assert_eq!(ack.code, ReasonCode::BAD_AUTHENTICATION_METHOD);
    assert!(h.is_closed(conn));
}

#[test]
fn a_password_is_checked_away_from_the_engine_while_others_go_on() {
    let mut file = PasswordFile::default();
    file.set_password("alice", b"secret", 4096).unwrap();
    let authenticator = PasswordAuthenticator::new(&file, true).unwrap();
    let mut engine = Engine::with_authenticator(Settings::default(), Box::new(authenticator));
    let now = Instant::now();
    let (alice, other) = (ConnId(1), ConnId(2));
    engine.open(alice, now);
    engine.open(other, now);
    let connect = login(V5, "a", "alice", "secret");
    engine.handle(
        alice,
        Input::Packet(Packet::Connect(Box::new(connect))),
        now,
    );
    // No CONNACK yet: the check is handed out, and the connection paused.
    let out: Vec<Output> = engine.drain_outputs().collect();
    assert!(
        matches!(out[0], Output::Pause { conn } if conn == alice),
        "{out:?}"
    );
    let Some(Output::Check { conn, id, check }) = out.into_iter().nth(1) else {
        panic!("a check");
    };
    assert_eq!(conn, alice);
    // Meanwhile an anonymous client is let in.
    let anonymous = Connect::new(V5, "b");
    engine.handle(
        other,
        Input::Packet(Packet::Connect(Box::new(anonymous))),
        now,
    );
    let out: Vec<Output> = engine.drain_outputs().collect();
    assert!(
        matches!(&out[0], Output::Send { conn, .. } if *conn == other),
        "{out:?}"
    );
    // The decision comes back: CONNACK 0x00, and alice's connection resumes.
    engine.checked(alice, id, check.0.run(), now);
    let out: Vec<Output> = engine.drain_outputs().collect();
    let connack = out.iter().find_map(|o| match o {
        Output::Send { conn, frame, .. } if *conn == alice => decode_exact(frame, V5).ok(),
        _ => None,
    });
    assert!(matches!(connack, Some(Packet::ConnAck(a)) if a.code == ReasonCode::SUCCESS));
    assert!(
        out.iter().any(|o| *o == Output::Resume { conn: alice }),
        "{out:?}"
    );
}

// --- Re-authentication (section 4.12.1) ------------------------------------------------------

/// A SCRAM login as alice, over; the connection.
fn scram_logged_in(h: &mut Harness) -> ConnId {
    let (conn, server_first) = scram_start(h, "alice", None);
    scram_answer(h, conn, "alice", &server_first, "secret");
    match h.recv(conn) {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code, ReasonCode::SUCCESS),
        other => panic!("expected CONNACK, got {other:?}"),
    }
    conn
}

/// Sends AUTH 0x19 with client-first for `user` and returns server-first.
fn reauth_start(h: &mut Harness, conn: ConnId, user: &str) -> String {
    h.send(
        conn,
        Packet::Auth(Auth {
            reason: ReasonCode::RE_AUTHENTICATE,
            properties: scram("SCRAM-SHA-256", &format!("n,,n={user},r=clientnonce")),
        }),
    );
    match h.recv(conn) {
        Some(Packet::Auth(auth)) => {
            assert_eq!(auth.reason, ReasonCode::CONTINUE_AUTHENTICATION);
            auth_data(&auth.properties)
        }
        other => panic!("expected AUTH 0x18, got {other:?}"),
    }
}

#[test]
fn scram_reauthentication_succeeds_and_traffic_goes_on_meanwhile() {
    let mut h = harness(Settings::default());
    let conn = scram_logged_in(&mut h);
    h.subscribe(conn, "t", QoS::AtLeastOnce);
    for _ in 0..2 {
        let server_first = reauth_start(&mut h, conn, "alice");
        // The connection goes on with its previous authentication meanwhile.
        h.publish(conn, "t", "during", QoS::AtLeastOnce, 1);
        let packets = h.recv_all(conn);
        assert!(
            packets.iter().any(|p| matches!(p, Packet::PubAck(_))),
            "{packets:?}"
        );
        let delivered = packets.iter().find_map(|p| match p {
            Packet::Publish(p) => p.packet_id,
            _ => None,
        });
        let delivered = delivered.unwrap_or_else(|| panic!("no delivery: {packets:?}"));
        h.send(conn, Packet::PubAck(Ack::new(delivered)));
        scram_answer(&mut h, conn, "alice", &server_first, "secret");
        match h.recv(conn) {
            Some(Packet::Auth(auth)) => {
                assert_eq!(auth.reason, ReasonCode::SUCCESS);
                assert!(auth_data(&auth.properties).starts_with("v="));
            }
            other => panic!("expected AUTH 0x00, got {other:?}"),
        }
        assert!(!h.is_closed(conn));
    }
    assert_eq!(h.engine.stats().reauthentications, 2);
    h.send(conn, Packet::PingReq);
    assert_eq!(h.recv(conn), Some(Packet::PingResp));
}

#[test]
fn a_failed_reauthentication_closes_with_0x87() {
    let mut file = PasswordFile::default();
    file.set_password("alice", b"secret", 4096).unwrap();
    file.set_password("bob", b"hunter2", 4096).unwrap();
    let authenticator = PasswordAuthenticator::new(&file, false).unwrap();
    let mut h = Harness::with_engine(Engine::with_authenticator(
        Settings::default(),
        Box::new(authenticator),
    ));
    // A wrong password; another user's right one; a malformed client-first.
    for (user, password) in [("alice", "wrong"), ("bob", "hunter2"), ("", "")] {
        let conn = scram_logged_in(&mut h);
        if user.is_empty() {
            h.send(
                conn,
                Packet::Auth(Auth {
                    reason: ReasonCode::RE_AUTHENTICATE,
                    properties: scram("SCRAM-SHA-256", "n,,r=no-user"),
                }),
            );
        } else {
            let server_first = reauth_start(&mut h, conn, user);
            scram_answer(&mut h, conn, user, &server_first, password);
        }
        assert_eq!(
            disconnect_reason(h.recv(conn)),
            ReasonCode::NOT_AUTHORIZED,
            "{user}"
        );
        assert!(h.is_closed(conn));
    }
    assert_eq!(h.engine.stats().reauth_failures, 3);
}

#[test]
fn reauthentication_out_of_turn_is_a_protocol_error() {
    let auth = |reason, method: &str| {
        Packet::Auth(Auth {
            reason,
            properties: scram(method, "n,,n=alice,r=clientnonce"),
        })
    };
    let cases: [(&str, Vec<Packet>); 4] = [
        (
            "another method",
            vec![auth(ReasonCode::RE_AUTHENTICATE, "SCRAM-SHA-1")],
        ),
        (
            "0x18 first",
            vec![auth(ReasonCode::CONTINUE_AUTHENTICATION, "SCRAM-SHA-256")],
        ),
        (
            "0x19 twice",
            vec![
                auth(ReasonCode::RE_AUTHENTICATE, "SCRAM-SHA-256"),
                auth(ReasonCode::RE_AUTHENTICATE, "SCRAM-SHA-256"),
            ],
        ),
        ("0x00", vec![auth(ReasonCode::SUCCESS, "SCRAM-SHA-256")]),
    ];
    let mut h = harness(Settings::default());
    for (what, packets) in cases {
        let conn = scram_logged_in(&mut h);
        for p in packets {
            h.send(conn, p);
        }
        let last = h.recv_all(conn).pop();
        assert_eq!(
            disconnect_reason(last),
            ReasonCode::PROTOCOL_ERROR,
            "{what}"
        );
        assert!(h.is_closed(conn), "{what}");
    }
    // A client that logged in with a password has no method to re-authenticate with.
    let (conn, _) = h.connect_with(login(V5, "p", "alice", "secret"));
    h.send(conn, auth(ReasonCode::RE_AUTHENTICATE, "SCRAM-SHA-256"));
    assert_eq!(disconnect_reason(h.recv(conn)), ReasonCode::PROTOCOL_ERROR);
}
