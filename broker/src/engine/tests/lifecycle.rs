//! Keep alive, wills, malformed input, shutdown.

use super::*;

#[test]
fn keep_alive_is_enforced_at_one_and_a_half_times() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "ka");
    c.keep_alive = 10;
    let (conn, _) = h.connect_with(c);
    h.advance(10);
    h.send(conn, Packet::PingReq);
    assert_eq!(h.recv(conn), Some(Packet::PingResp));
    h.advance(14);
    assert!(
        !h.is_closed(conn),
        "14 s after the last packet is within 15 s"
    );
    h.advance(2);
    assert_eq!(
        disconnect_reason(h.recv(conn)),
        ReasonCode::KEEP_ALIVE_TIMEOUT
    );
    assert!(h.is_closed(conn));
}

#[test]
fn server_keep_alive_caps_the_clients() {
    let mut h = Harness::with(Settings {
        max_keep_alive: 30,
        ..Settings::default()
    });
    let mut c = Connect::new(V5, "ka");
    c.keep_alive = 0;
    let (_, ack) = h.connect_with(c);
    assert_eq!(
        ack.properties.get(PropertyId::ServerKeepAlive),
        Some(&Property::ServerKeepAlive(30))
    );
}

#[test]
fn will_is_published_on_abrupt_close_only() {
    let mut h = Harness::new();
    let mut quiet = Connect::new(V5, "watcher");
    quiet.keep_alive = 0;
    let (watcher, _) = h.connect_with(quiet);
    h.subscribe(watcher, "wills", QoS::AtLeastOnce);

    let (conn, _) = h.connect_with(with_will(V311, "abrupt", None));
    h.input(conn, Input::Closed);
    assert_eq!(&h.recv_publish(watcher).payload[..], b"abrupt is gone");

    let (conn, _) = h.connect_with(with_will(V5, "polite", None));
    h.send(
        conn,
        Packet::Disconnect(Disconnect::new(ReasonCode::SUCCESS)),
    );
    assert!(h.recv(watcher).is_none(), "[MQTT-3.14.4-3]");

    let (conn, _) = h.connect_with(with_will(V5, "asks", None));
    h.send(
        conn,
        Packet::Disconnect(Disconnect::new(ReasonCode::DISCONNECT_WITH_WILL)),
    );
    assert_eq!(&h.recv_publish(watcher).payload[..], b"asks is gone");

    let (conn, _) = h.connect_with(with_will(V5, "silent", None));
    let _ = conn;
    h.advance(100); // Keep alive 60 s: closed at 90 s.
    assert_eq!(&h.recv_publish(watcher).payload[..], b"silent is gone");
}

#[test]
fn will_delay_is_cancelled_by_a_reconnect() {
    let mut h = Harness::new();
    let watcher = h.client(V5, "watcher");
    h.subscribe(watcher, "wills", QoS::AtMostOnce);
    let mut c = with_will(V5, "flaky", Some(30));
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(300));
    let (conn, _) = h.connect_with(c.clone());
    h.input(conn, Input::Closed);
    h.advance(10);
    let mut back = Connect::new(V5, "flaky");
    back.clean_start = false;
    back.properties.push(Property::SessionExpiryInterval(300));
    h.connect_with(back);
    h.advance(60);
    assert!(h.recv(watcher).is_none(), "[MQTT-3.1.3-9]");

    // Without a reconnect the will goes out when the delay has passed.
    let (conn, _) = h.connect_with(with_will(V5, "gone", Some(30)));
    h.input(conn, Input::Closed);
    assert!(
        h.recv(watcher).is_some(),
        "session expiry 0 ends the session now, and the will with it"
    );
}

#[test]
fn will_waits_for_its_delay() {
    let mut h = Harness::new();
    let watcher = h.client(V5, "watcher");
    h.subscribe(watcher, "wills", QoS::AtMostOnce);
    let mut c = with_will(V5, "late", Some(30));
    c.properties.push(Property::SessionExpiryInterval(300));
    let (conn, _) = h.connect_with(c);
    h.input(conn, Input::Closed);
    h.advance(20);
    assert!(h.recv(watcher).is_none());
    h.advance(11);
    assert_eq!(&h.recv_publish(watcher).payload[..], b"late is gone");
}

#[test]
fn malformed_packet_closes_with_0x81_and_the_clause() {
    let mut h = Harness::new();
    let bystander = h.client(V5, "bystander");
    let conn = h.client(V5, "bad");
    let error = decode_exact(&[0x30, 0x06, 0x00, 0x03, 0x61, 0x00, 0x62, 0x00], V5).unwrap_err();
    h.input(conn, Input::Malformed(error));
    match h.recv(conn) {
        Some(Packet::Disconnect(d)) => {
            assert_eq!(d.reason, ReasonCode::MALFORMED_PACKET);
            assert!(matches!(
                d.properties.get(PropertyId::ReasonString),
                Some(Property::ReasonString(s)) if s.starts_with("[MQTT-1.5.4-2]")
            ));
        }
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
    assert!(h.is_closed(conn));
    assert!(!h.is_closed(bystander), "nothing else disturbed");
    h.send(bystander, Packet::PingReq);
    assert_eq!(h.recv(bystander), Some(Packet::PingResp));
}

#[test]
fn v3_malformed_packet_just_closes() {
    let mut h = Harness::new();
    let conn = h.client(V311, "bad");
    let error = decode_exact(&[0x30, 0x03, 0x00, 0x01, b'#'], V311).unwrap_err();
    h.input(conn, Input::Malformed(error));
    assert!(h.recv(conn).is_none());
    assert!(h.is_closed(conn));
}

#[test]
fn server_packets_from_a_client_are_protocol_errors() {
    let mut h = Harness::new();
    let conn = h.client(V5, "confused");
    h.send(conn, Packet::PingResp);
    assert_eq!(disconnect_reason(h.recv(conn)), ReasonCode::PROTOCOL_ERROR);
}

#[test]
fn shutdown_tells_v5_clients_0x8b() {
    let mut h = Harness::new();
    let new = h.client(V5, "new");
    let old = h.client(V311, "old");
    h.engine.shutdown(h.now);
    h.collect();
    assert_eq!(
        disconnect_reason(h.recv(new)),
        ReasonCode::SERVER_SHUTTING_DOWN
    );
    assert!(h.recv(old).is_none());
    assert!(h.is_closed(new) && h.is_closed(old));
}
