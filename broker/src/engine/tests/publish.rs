//! PUBLISH and its QoS flows, properties, expiry, packet sizes, one encoding per shape.

use super::*;

#[test]
fn qos_is_the_lower_of_published_and_granted() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V311, "pub");
    assert_eq!(
        h.subscribe(sub, "a/+", QoS::AtLeastOnce),
        [ReasonCode::GRANTED_QOS_1]
    );
    h.publish(publisher, "a/b", "two", QoS::ExactlyOnce, 7);
    assert!(matches!(h.recv(publisher), Some(Packet::PubRec(a)) if a.packet_id == pid(7)));
    let p = h.recv_publish(sub);
    assert_eq!((p.qos, &p.payload[..]), (QoS::AtLeastOnce, &b"two"[..]));
    h.publish(publisher, "a/c", "zero", QoS::AtMostOnce, 0);
    assert_eq!(h.recv_publish(sub).qos, QoS::AtMostOnce);
}

#[test]
fn puback_says_when_no_one_subscribed() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    h.publish(publisher, "nobody/home", "x", QoS::AtLeastOnce, 1);
    match h.recv(publisher) {
        Some(Packet::PubAck(a)) => assert_eq!(a.reason, ReasonCode::NO_MATCHING_SUBSCRIBERS),
        other => panic!("expected PUBACK, got {other:?}"),
    }
}

#[test]
fn qos2_resend_before_pubrel_is_not_delivered_twice() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "t", QoS::AtMostOnce);
    h.publish(publisher, "t", "once", QoS::ExactlyOnce, 9);
    h.publish(publisher, "t", "once", QoS::ExactlyOnce, 9);
    assert!(matches!(h.recv(publisher), Some(Packet::PubRec(_))));
    assert!(matches!(h.recv(publisher), Some(Packet::PubRec(_))));
    assert_eq!(h.recv_all(sub).len(), 1);
    h.send(publisher, Packet::PubRel(Ack::new(pid(9))));
    assert!(
        matches!(h.recv(publisher), Some(Packet::PubComp(a)) if a.reason == ReasonCode::SUCCESS)
    );
    // The identifier is free again: a new message with it is delivered.
    h.publish(publisher, "t", "again", QoS::ExactlyOnce, 9);
    assert_eq!(h.recv_all(sub).len(), 1);
}

#[test]
fn outbound_qos2_flow_and_unknown_pubrel() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "t", QoS::ExactlyOnce);
    h.publish(publisher, "t", "x", QoS::ExactlyOnce, 1);
    let p = h.recv_publish(sub);
    let id = p.packet_id.unwrap();
    h.send(sub, Packet::PubRec(Ack::new(id)));
    assert!(matches!(h.recv(sub), Some(Packet::PubRel(a)) if a.packet_id == id));
    h.send(sub, Packet::PubComp(Ack::new(id)));
    assert!(h.recv(sub).is_none());
    // A PUBREL for an identifier never received is answered 0x92.
    h.send(publisher, Packet::PubRel(Ack::new(pid(77))));
    h.recv_all(publisher);
    h.send(sub, Packet::PubRel(Ack::new(pid(77))));
    assert!(
        matches!(h.recv(sub), Some(Packet::PubComp(a)) if a.reason == ReasonCode::PACKET_IDENTIFIER_NOT_FOUND)
    );
}

#[test]
fn receive_maximum_of_the_client_bounds_the_window() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "slow");
    c.properties.push(Property::ReceiveMaximum(1));
    let (sub, _) = h.connect_with(c);
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    for i in 1..=3 {
        h.publish(publisher, "t", &i.to_string(), QoS::AtLeastOnce, i);
    }
    let first = h.recv_publish(sub);
    assert!(
        h.recv(sub).is_none(),
        "one unacknowledged at a time [MQTT-3.3.4-9]"
    );
    h.send(sub, Packet::PubAck(Ack::new(first.packet_id.unwrap())));
    let second = h.recv_publish(sub);
    assert_eq!(&second.payload[..], b"2", "in order");
}

#[test]
fn subscriber_of_3_1_1_gets_a_v5_message_without_properties() {
    let mut h = Harness::new();
    let sub = h.client(V311, "old");
    let publisher = h.client(V5, "new");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let mut p = Publish::new(TopicName::new("t").unwrap(), "x");
    p.properties.push(Property::user("k", "v"));
    h.send(publisher, Packet::Publish(p));
    let got = h.recv_publish(sub);
    assert!(got.properties.is_empty());
}

#[test]
fn properties_are_forwarded_unaltered_and_in_order() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "t", QoS::AtMostOnce);
    let mut p = Publish::new(TopicName::new("t").unwrap(), "x");
    p.properties = vec![
        Property::user("b", "2"),
        Property::PayloadFormatIndicator(1),
        Property::ContentType("text/plain".into()),
        Property::ResponseTopic("reply/here".into()),
        Property::CorrelationData(Bytes::from_static(b"id-1")),
        Property::user("a", "1"),
    ]
    .into();
    h.send(publisher, Packet::Publish(p.clone()));
    assert_eq!(h.recv_publish(sub).properties, p.properties);
}

#[test]
fn payload_format_indicator_is_checked() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    let mut p = Publish::new(
        TopicName::new("t").unwrap(),
        Bytes::from_static(&[0xFF, 0xFE]),
    );
    p.qos = QoS::AtLeastOnce;
    p.packet_id = Some(pid(1));
    p.properties.push(Property::PayloadFormatIndicator(1));
    h.send(publisher, Packet::Publish(p));
    assert!(
        matches!(h.recv(publisher), Some(Packet::PubAck(a)) if a.reason == ReasonCode::PAYLOAD_FORMAT_INVALID)
    );
}

#[test]
fn message_expiry_is_decremented_and_enforced() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "sub");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(600));
    let (sub, _) = h.connect_with(c.clone());
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    h.input(sub, Input::Closed);
    let publisher = h.client(V5, "pub");
    for (payload, expiry) in [("short", 5u32), ("long", 60)] {
        let mut p = Publish::new(TopicName::new("t").unwrap(), payload);
        p.qos = QoS::AtLeastOnce;
        p.packet_id = Some(pid(1));
        p.properties.push(Property::MessageExpiryInterval(expiry));
        h.send(publisher, Packet::Publish(p));
    }
    h.advance(10);
    let (sub, ack) = h.connect_with(c);
    assert!(ack.session_present);
    let p = h.recv_publish(sub);
    assert_eq!(
        &p.payload[..],
        b"long",
        "the expired message was dropped [MQTT-3.3.2-5]"
    );
    assert_eq!(
        p.properties.get(PropertyId::MessageExpiryInterval),
        Some(&Property::MessageExpiryInterval(50)),
        "[MQTT-3.3.2-6]"
    );
    assert!(h.recv(sub).is_none());
}

#[test]
fn packets_too_large_for_the_client_are_dropped() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "small");
    c.properties.push(Property::MaximumPacketSize(64));
    let (sub, _) = h.connect_with(c);
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    h.publish(publisher, "t", &"x".repeat(100), QoS::AtLeastOnce, 1);
    assert!(h.recv(sub).is_none(), "[MQTT-3.1.2-24]");
    h.publish(publisher, "t", "fits", QoS::AtLeastOnce, 2);
    assert_eq!(&h.recv_publish(sub).payload[..], b"fits");
}

/// Rule 2 of the house: a PUBLISH is encoded once per shape. QoS 0 subscribers of the same
/// protocol family get the very same bytes; QoS 1 copies differ only in their identifier.
#[test]
fn one_encoding_per_shape() {
    let mut h = Harness::new();
    let zeros: Vec<ConnId> = (0..3).map(|i| h.client(V311, &format!("z{i}"))).collect();
    let ones: Vec<ConnId> = (0..2).map(|i| h.client(V5, &format!("o{i}"))).collect();
    for &c in &zeros {
        h.subscribe(c, "fan/out", QoS::AtMostOnce);
    }
    for &c in &ones {
        h.subscribe(c, "fan/out", QoS::AtLeastOnce);
    }
    let publisher = h.client(V5, "pub");
    // One QoS 1 message to o1 first, so that the two QoS 1 subscribers' next packet
    // identifiers differ.
    h.subscribe(ones[1], "warm", QoS::AtLeastOnce);
    h.publish(publisher, "warm", "w", QoS::AtLeastOnce, 1);
    h.recv_all(ones[1]);
    h.recv_all(publisher);

    let mut p = Publish::new(TopicName::new("fan/out").unwrap(), "payload");
    p.qos = QoS::AtLeastOnce;
    p.packet_id = Some(pid(2));
    let bytes = Packet::Publish(p).to_bytes(V5).unwrap();
    let packet = decode_exact(&bytes, V5).unwrap();
    h.engine.handle(publisher, Input::Packet(packet), h.now);
    let outputs: Vec<Output> = h.engine.drain_outputs().collect();
    let frames = |conns: &[ConnId]| -> Vec<Bytes> {
        outputs
            .iter()
            .filter_map(|o| match o {
                Output::Send { conn, frame, .. } if conns.contains(conn) => Some(frame.clone()),
                _ => None,
            })
            .collect()
    };
    let zero_frames = frames(&zeros);
    assert_eq!(zero_frames.len(), 3);
    assert!(
        zero_frames
            .iter()
            .all(|f| f.as_ptr() == zero_frames[0].as_ptr()),
        "QoS 0 subscribers share one encoding"
    );
    let one_frames = frames(&ones);
    let ids: Vec<u16> = one_frames
        .iter()
        .map(|f| match decode_exact(f, V5).unwrap() {
            Packet::Publish(p) => {
                assert_eq!((&*p.topic, &p.payload[..]), ("fan/out", &b"payload"[..]));
                p.packet_id.unwrap().get()
            }
            other => panic!("expected PUBLISH, got {other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "each copy carries its own identifier");
}

#[test]
fn a_retained_message_for_a_topic_past_the_limit_is_delivered_not_kept() {
    let mut h = Harness::with(Settings {
        max_retained: 1,
        ..Settings::default()
    });
    let p = h.client(V5, "p");
    let s = h.client(V5, "s");
    h.subscribe(s, "r/#", QoS::AtMostOnce);
    let retain = |h: &mut Harness, topic: &str, payload: &'static [u8]| {
        let mut m = Publish::new(TopicName::new(topic).unwrap(), Bytes::from_static(payload));
        m.retain = true;
        h.send(p, Packet::Publish(m));
    };
    retain(&mut h, "r/1", b"one");
    retain(&mut h, "r/2", b"two");
    // Both delivered to the subscriber there.
    assert_eq!(h.recv_all(s).len(), 2);
    assert_eq!(h.engine.stats().retained_refused, 1);
    // Replacing the one kept still works.
    retain(&mut h, "r/1", b"uno");
    h.recv_all(s);
    let late = h.client(V5, "late");
    h.subscribe(late, "r/#", QoS::AtMostOnce);
    let kept: Vec<Vec<u8>> = h
        .recv_all(late)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p.payload.to_vec()),
            _ => None,
        })
        .collect();
    assert_eq!(kept, [b"uno".to_vec()]);
}
