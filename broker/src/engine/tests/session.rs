//! Sessions: persistence, redelivery, clean start, expiry.

use super::*;

#[test]
fn persistent_session_queues_and_redelivers_with_dup() {
    let mut h = Harness::new();
    let mut c = Connect::new(V311, "keeper");
    c.clean_start = false;
    let (sub, ack) = h.connect_with(c.clone());
    assert!(!ack.session_present);
    h.subscribe(sub, "q", QoS::ExactlyOnce);
    let publisher = h.client(V311, "pub");
    h.publish(publisher, "q", "in-flight", QoS::AtLeastOnce, 1);
    let first = h.recv_publish(sub);
    assert!(!first.dup);
    h.input(sub, Input::Closed);
    h.publish(publisher, "q", "queued", QoS::ExactlyOnce, 2);

    let (sub, ack) = h.connect_with(c);
    assert!(ack.session_present);
    let again = h.recv_publish(sub);
    assert!(again.dup, "[MQTT-3.3.1-1]");
    assert_eq!(
        again.packet_id, first.packet_id,
        "same identifier [MQTT-4.4.0-1]"
    );
    let queued = h.recv_publish(sub);
    assert_eq!(
        (&queued.payload[..], queued.qos),
        (&b"queued"[..], QoS::ExactlyOnce)
    );
}

#[test]
fn pubrel_is_resent_on_resume() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "keeper");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(60));
    let (sub, _) = h.connect_with(c.clone());
    h.subscribe(sub, "q", QoS::ExactlyOnce);
    let publisher = h.client(V5, "pub");
    h.publish(publisher, "q", "x", QoS::ExactlyOnce, 1);
    let p = h.recv_publish(sub);
    h.send(sub, Packet::PubRec(Ack::new(p.packet_id.unwrap())));
    h.recv_all(sub);
    h.input(sub, Input::Closed);
    let (sub, _) = h.connect_with(c);
    assert!(matches!(h.recv(sub), Some(Packet::PubRel(a)) if Some(a.packet_id) == p.packet_id));
}

/// A 5.0 subscriber to `q` with a persistent session, sent QoS 1 messages "1" to "`n`" that it
/// never acknowledges, then gone: its CONNECT (to resume with) and the publisher's id.
fn gone_with_unacknowledged(h: &mut Harness, n: u16) -> (Connect, ConnId) {
    let mut c = Connect::new(V5, "keeper");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(60));
    let (sub, _) = h.connect_with(c.clone());
    h.subscribe(sub, "q", QoS::AtLeastOnce);
    let publisher = h.client(V5, "pub");
    for i in 1..=n {
        h.publish(publisher, "q", &i.to_string(), QoS::AtLeastOnce, i);
    }
    h.recv_all(sub);
    h.input(sub, Input::Closed);
    (c, publisher)
}

#[test]
fn resends_on_resume_wait_for_the_new_receive_maximum() {
    let mut h = Harness::new();
    let (mut c, publisher) = gone_with_unacknowledged(&mut h, 3);
    h.publish(publisher, "q", "4", QoS::AtLeastOnce, 4);
    // Back with a Receive Maximum of 1: the send quota starts afresh [MQTT-4.9.0-2].
    c.properties.push(Property::ReceiveMaximum(1));
    let (sub, _) = h.connect_with(c);
    for want in ["1", "2", "3", "4"] {
        let p = h.recv_publish(sub);
        assert_eq!(&p.payload[..], want.as_bytes(), "in order");
        assert_eq!(p.dup, want != "4", "resends carry DUP");
        assert!(h.recv(sub).is_none(), "one in flight at a time");
        h.send(sub, Packet::PubAck(Ack::new(p.packet_id.unwrap())));
    }
    assert!(h.recv(sub).is_none());
}

#[test]
fn a_second_resume_decides_afresh_what_waits() {
    let mut h = Harness::new();
    let (mut c, _) = gone_with_unacknowledged(&mut h, 4);
    // Back with room for one: "1" is resent, "2" to "4" wait; gone again before any PUBACK.
    let mut one = c.clone();
    one.properties.push(Property::ReceiveMaximum(1));
    let (sub, _) = h.connect_with(one);
    assert_eq!(&h.recv_publish(sub).payload[..], b"1");
    assert!(h.recv(sub).is_none());
    h.input(sub, Input::Closed);
    // Back with room for two: "1" and "2" again; acknowledging "2" first makes room for "3".
    c.properties.push(Property::ReceiveMaximum(2));
    let (sub, _) = h.connect_with(c);
    let first = h.recv_publish(sub);
    let second = h.recv_publish(sub);
    assert_eq!(
        (&first.payload[..], &second.payload[..]),
        (&b"1"[..], &b"2"[..])
    );
    assert!(h.recv(sub).is_none());
    h.send(sub, Packet::PubAck(Ack::new(second.packet_id.unwrap())));
    let third = h.recv_publish(sub);
    assert_eq!((&third.payload[..], third.dup), (&b"3"[..], true));
    assert!(h.recv(sub).is_none());
    h.send(sub, Packet::PubAck(Ack::new(first.packet_id.unwrap())));
    assert_eq!(&h.recv_publish(sub).payload[..], b"4");
    assert!(h.recv(sub).is_none());
}

#[test]
fn clean_start_discards_the_session() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "x");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(60));
    let (conn, _) = h.connect_with(c.clone());
    h.subscribe(conn, "t", QoS::AtLeastOnce);
    h.input(conn, Input::Closed);
    let (conn, ack) = h.connect_with(Connect::new(V5, "x"));
    assert!(!ack.session_present, "[MQTT-3.1.2-4]");
    let publisher = h.client(V5, "pub");
    h.publish(publisher, "t", "x", QoS::AtLeastOnce, 1);
    assert!(h.recv(conn).is_none(), "the old subscription is gone");
}

#[test]
fn session_expires_after_its_interval() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "x");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(30));
    let (conn, _) = h.connect_with(c.clone());
    h.input(conn, Input::Closed);
    assert_eq!(h.engine.session_count(), 1);
    h.advance(31);
    assert_eq!(h.engine.session_count(), 0);
    let (_, ack) = h.connect_with(c);
    assert!(!ack.session_present);
}

#[test]
fn session_expiry_granted_is_capped_and_returned() {
    let mut h = Harness::with(Settings {
        max_session_expiry_interval: 100,
        ..Settings::default()
    });
    let mut c = Connect::new(V5, "x");
    c.properties.push(Property::SessionExpiryInterval(1000));
    let (_, ack) = h.connect_with(c);
    assert_eq!(
        ack.properties.get(PropertyId::SessionExpiryInterval),
        Some(&Property::SessionExpiryInterval(100))
    );
}

#[test]
fn session_expiry_cannot_be_raised_from_zero_at_disconnect() {
    let mut h = Harness::new();
    let conn = h.client(V5, "x");
    let mut d = Disconnect::new(ReasonCode::SUCCESS);
    d.properties.push(Property::SessionExpiryInterval(10));
    h.send(conn, Packet::Disconnect(d));
    assert_eq!(disconnect_reason(h.recv(conn)), ReasonCode::PROTOCOL_ERROR);
}

#[test]
fn a_session_past_the_limit_is_refused_and_one_coming_back_is_not() {
    let mut h = Harness::with(Settings {
        max_sessions: 2,
        ..Settings::default()
    });
    let mut kept = Connect::new(V311, "a");
    kept.clean_start = false;
    let (a, _) = h.connect_with(kept.clone());
    h.send(a, Packet::Disconnect(Disconnect::default()));
    h.client(V5, "b");
    // Two sessions held (a offline, b online): a third is refused, 5.0 and 3.x alike.
    let (_, ack) = h.connect_with(Connect::new(V5, "c"));
    assert_eq!(ack.code, ReasonCode::QUOTA_EXCEEDED);
    let (_, ack) = h.connect_with(Connect::new(V311, ""));
    // 3.x has no 0x97: 0x03 Server unavailable on the wire.
    assert_eq!(ack.code, ReasonCode::SERVER_UNAVAILABLE);
    assert_eq!(h.engine.stats().sessions_refused, 2);
    // a comes back to its own session.
    let (_, ack) = h.connect_with(kept);
    assert_eq!((ack.code, ack.session_present), (ReasonCode::SUCCESS, true));
}
