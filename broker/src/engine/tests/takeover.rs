//! A CONNECT that takes a session over from a connection still open waits until that
//! connection has delivered everything it had (see `engine::takeover`): here the transport's
//! answer ([`Input::Quiet`]) is given by the test, after the old connection's last packets
//! arrive late, as they do when its reader runs after the new connection's.

use super::*;

/// A 5.0 CONNECT for "a" that keeps its session for `expiry` seconds.
fn keeping(expiry: u32) -> Connect {
    let mut c = Connect::new(V5, "a");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(expiry));
    c
}

/// "a" connected, and a second connection whose CONNECT for "a" waits; both ids.
fn waiting_takeover(
    h: &mut Harness,
    old_connect: Connect,
    new_connect: Connect,
) -> (ConnId, ConnId) {
    h.hold_drains = true;
    let (old, ack) = h.connect_with(old_connect);
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    let new = h.open(new_connect.protocol);
    h.send(new, Packet::Connect(Box::new(new_connect)));
    assert_eq!(h.drains, [old], "the engine asks about the old connection");
    assert!(
        h.recv(new).is_none(),
        "no CONNACK before the old connection's input is in"
    );
    assert!(h.paused.contains(&new));
    (old, new)
}

fn connack(h: &mut Harness, conn: ConnId) -> ConnAck {
    match h.recv(conn) {
        Some(Packet::ConnAck(ack)) => ack,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

#[test]
fn a_disconnect_read_late_still_ends_the_session_first() {
    let mut h = Harness::new();
    let (old, new) = waiting_takeover(&mut h, keeping(1), keeping(1));
    // The old connection's DISCONNECT (ending the session) arrives after the new CONNECT.
    let mut d = Disconnect::new(ReasonCode::SUCCESS);
    d.properties.push(Property::SessionExpiryInterval(0));
    h.send(old, Packet::Disconnect(d));
    assert!(h.is_closed(old));
    // Its close lets the takeover go on, with no session to take [MQTT-3.2.2-3].
    let ack = connack(&mut h, new);
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    assert!(!ack.session_present);
    assert!(!h.paused.contains(&new));
}

#[test]
fn a_clean_3_1_1_session_ended_late_is_not_resumed() {
    let mut h = Harness::new();
    let old_connect = Connect::new(V311, "a"); // Clean Session 1: ends with the connection.
    let mut new_connect = Connect::new(V311, "a");
    new_connect.clean_start = false;
    let (old, new) = waiting_takeover(&mut h, old_connect, new_connect);
    h.send(
        old,
        Packet::Disconnect(Disconnect::new(ReasonCode::SUCCESS)),
    );
    let ack = connack(&mut h, new);
    assert!(
        !ack.session_present,
        "the clean session ended with its connection"
    );
}

#[test]
fn a_publish_sent_before_the_disconnect_is_routed_before_the_new_connections() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let (old, new) = waiting_takeover(&mut h, keeping(60), keeping(60));
    // What the new connection sends after its CONNECT waits behind it.
    h.publish(new, "t", "after", QoS::AtLeastOnce, 1);
    h.publish(old, "t", "before", QoS::AtLeastOnce, 1);
    assert!(matches!(h.recv(old), Some(Packet::PubAck(_))));
    h.send(
        old,
        Packet::Disconnect(Disconnect::new(ReasonCode::SUCCESS)),
    );
    assert!(connack(&mut h, new).session_present);
    assert!(matches!(h.recv(new), Some(Packet::PubAck(_))));
    let first = h.recv_publish(sub);
    let second = h.recv_publish(sub);
    assert_eq!(
        (&first.payload[..], &second.payload[..]),
        (&b"before"[..], &b"after"[..])
    );
}

#[test]
fn a_quiet_old_connection_is_taken_over_and_its_will_published() {
    let mut h = Harness::new();
    let watcher = h.client(V5, "w");
    h.subscribe(watcher, "wills", QoS::AtMostOnce);
    let mut old_connect = with_will(V5, "a", None);
    old_connect.clean_start = false;
    old_connect
        .properties
        .push(Property::SessionExpiryInterval(60));
    let (old, new) = waiting_takeover(&mut h, old_connect, keeping(60));
    // Nothing more from the old connection: the transport says so, and the takeover goes
    // on: 0x8E to the old connection [MQTT-3.1.4-3], its will, and the session resumed.
    h.engine.handle(old, Input::Quiet, h.now);
    h.collect();
    assert_eq!(
        disconnect_reason(h.recv(old)),
        ReasonCode::SESSION_TAKEN_OVER
    );
    assert!(connack(&mut h, new).session_present);
    assert_eq!(h.recv_publish(watcher).payload, "a is gone");
}

#[test]
fn the_wait_is_bounded() {
    let mut h = Harness::new();
    let (old, new) = waiting_takeover(&mut h, keeping(60), keeping(60));
    // No word from the transport: the engine goes on by itself.
    h.advance(2);
    assert_eq!(
        disconnect_reason(h.recv(old)),
        ReasonCode::SESSION_TAKEN_OVER
    );
    assert!(connack(&mut h, new).session_present);
    // A late answer changes nothing.
    h.engine.handle(old, Input::Quiet, h.now);
    h.collect();
    assert!(h.recv(new).is_none());
}

#[test]
fn a_waiting_connection_that_closes_leaves_nothing_behind() {
    let mut h = Harness::new();
    let (old, new) = waiting_takeover(&mut h, keeping(60), keeping(60));
    h.input(new, Input::Closed);
    h.engine.handle(old, Input::Quiet, h.now);
    h.collect();
    assert!(
        h.recv(old).is_none(),
        "the old connection keeps its session"
    );
    assert!(!h.is_closed(old));
    h.send(old, Packet::PingReq);
    assert_eq!(h.recv(old), Some(Packet::PingResp));
}
