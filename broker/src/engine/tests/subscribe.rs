//! Subscriptions, retained messages, shared subscriptions, refused features.

use super::*;

#[test]
fn retained_messages_set_read_replace_clear() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    let retain = |h: &mut Harness, payload: &str| {
        let mut p = Publish::new(
            TopicName::new("r/1").unwrap(),
            Bytes::from(payload.to_owned()),
        );
        p.retain = true;
        h.send(publisher, Packet::Publish(p));
    };
    retain(&mut h, "old");
    retain(&mut h, "new");
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "r/#", QoS::AtMostOnce);
    let p = h.recv_publish(sub);
    assert!(
        p.retain,
        "RETAIN is set on messages sent for a new subscription"
    );
    assert_eq!(&p.payload[..], b"new");
    retain(&mut h, "");
    let cleared = h.recv_publish(sub);
    assert!(
        cleared.payload.is_empty() && !cleared.retain,
        "sent on as a normal message"
    );
    let late = h.client(V5, "late");
    h.subscribe(late, "r/#", QoS::AtMostOnce);
    assert!(
        h.recv(late).is_none(),
        "nothing retained any more [MQTT-3.3.1-7]"
    );
}

#[test]
fn retain_handling_options() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    let mut p = Publish::new(TopicName::new("r").unwrap(), "kept");
    p.retain = true;
    h.send(publisher, Packet::Publish(p));
    let sub = h.client(V5, "sub");
    let mut options = SubscriptionOptions::qos(QoS::AtMostOnce);
    options.retain_handling = RetainHandling::DoNotSend;
    h.subscribe_with(sub, "r", options, Properties::new());
    assert!(h.recv(sub).is_none(), "[MQTT-3.3.1-11]");
    options.retain_handling = RetainHandling::SendIfNew;
    h.subscribe_with(sub, "r", options, Properties::new());
    assert!(
        h.recv(sub).is_none(),
        "the subscription existed [MQTT-3.3.1-10]"
    );
    h.subscribe_with(sub, "r/#", options, Properties::new());
    assert!(h.recv(sub).is_some(), "a new subscription gets it");
}

#[test]
fn retain_as_published() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    let mut options = SubscriptionOptions::qos(QoS::AtMostOnce);
    options.retain_as_published = true;
    h.subscribe_with(sub, "rap", options, Properties::new());
    h.subscribe(sub, "plain", QoS::AtMostOnce);
    for topic in ["rap", "plain"] {
        let mut p = Publish::new(TopicName::new(topic).unwrap(), "x");
        p.retain = true;
        h.send(publisher, Packet::Publish(p));
    }
    assert!(h.recv_publish(sub).retain, "[MQTT-3.3.1-13]");
    assert!(!h.recv_publish(sub).retain, "[MQTT-3.3.1-12]");
}

#[test]
fn overlapping_subscriptions_give_one_copy_with_every_identifier() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    let id = |n| vec![Property::SubscriptionIdentifier(n)].into();
    h.subscribe_with(sub, "a/+", SubscriptionOptions::qos(QoS::AtMostOnce), id(1));
    h.subscribe_with(
        sub,
        "a/#",
        SubscriptionOptions::qos(QoS::AtLeastOnce),
        id(2),
    );
    h.publish(publisher, "a/b", "x", QoS::ExactlyOnce, 1);
    let p = h.recv_publish(sub);
    assert_eq!(
        p.qos,
        QoS::AtLeastOnce,
        "the highest granted QoS [MQTT-3.3.4-2]"
    );
    let mut ids: Vec<u32> = p.properties.subscription_identifiers().collect();
    ids.sort();
    assert_eq!(ids, [1, 2], "[MQTT-3.3.4-3]");
    assert!(h.recv(sub).is_none());
}

#[test]
fn no_local_keeps_a_clients_own_messages_from_it() {
    let mut h = Harness::new();
    let me = h.client(V5, "me");
    let mut options = SubscriptionOptions::qos(QoS::AtMostOnce);
    options.no_local = true;
    h.subscribe_with(me, "chat", options, Properties::new());
    h.publish(me, "chat", "hi", QoS::AtMostOnce, 0);
    assert!(h.recv(me).is_none(), "[MQTT-3.8.3-3]");
}

#[test]
fn unsubscribe_reports_per_filter() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "a", QoS::AtMostOnce);
    h.send(
        sub,
        Packet::Unsubscribe(Unsubscribe {
            packet_id: pid(4),
            properties: Properties::new(),
            filters: vec![
                TopicFilter::new("a").unwrap(),
                TopicFilter::new("b").unwrap(),
            ],
        }),
    );
    match h.recv(sub) {
        Some(Packet::UnsubAck(a)) => {
            assert_eq!(a.packet_id, pid(4));
            assert_eq!(
                a.reasons,
                [ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_EXISTED]
            );
        }
        other => panic!("expected UNSUBACK, got {other:?}"),
    }
    let publisher = h.client(V5, "pub");
    h.publish(publisher, "a", "x", QoS::AtMostOnce, 0);
    assert!(h.recv(sub).is_none());
}

#[test]
fn shared_subscription_delivers_once_per_group() {
    let mut h = Harness::new();
    let a = h.client(V5, "a");
    let b = h.client(V311, "b");
    let publisher = h.client(V5, "pub");
    h.subscribe(a, "$share/g/jobs/+", QoS::AtLeastOnce);
    h.subscribe(b, "$share/g/jobs/+", QoS::AtLeastOnce);
    for i in 1..=4 {
        h.publish(publisher, "jobs/x", &i.to_string(), QoS::AtMostOnce, 0);
    }
    let (na, nb) = (h.recv_all(a).len(), h.recv_all(b).len());
    assert_eq!(na + nb, 4);
    assert!(na > 0 && nb > 0, "spread over the members: {na} and {nb}");
}

#[test]
fn switched_off_features_refuse_3x_subscriptions_per_filter() {
    let mut h = Harness::with(Settings {
        deny_subscriptions: vec![TopicFilter::new("secret/#").unwrap()],
        wildcard_subscriptions: false,
        ..Settings::default()
    });
    let old = h.client(V311, "old");
    assert_eq!(
        h.subscribe(old, "secret/#", QoS::AtMostOnce),
        [ReasonCode(0x80)]
    );
    assert_eq!(
        h.subscribe(old, "a/+", QoS::AtMostOnce),
        [ReasonCode(0x80)],
        "3.x was never told"
    );
    assert_eq!(
        h.subscribe(old, "a/b", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0]
    );
}

#[test]
fn deny_list_refuses_with_0x87() {
    let mut h = Harness::with(Settings {
        deny_subscriptions: vec![TopicFilter::new("secret/#").unwrap()],
        ..Settings::default()
    });
    let sub = h.client(V5, "sub");
    assert_eq!(
        h.subscribe(sub, "secret/#", QoS::AtMostOnce),
        [ReasonCode::NOT_AUTHORIZED]
    );
    assert_eq!(
        h.subscribe(sub, "secret/+", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0],
        "text, not a match"
    );
}

fn subscribe_packet(filter: &str, properties: Vec<Property>) -> Packet {
    Packet::Subscribe(Subscribe {
        packet_id: pid(1),
        properties: properties.into(),
        filters: vec![(
            TopicFilter::new(filter).unwrap(),
            SubscriptionOptions::default(),
        )],
    })
}

/// A 5.0 client told in CONNACK that a feature is off commits a Protocol Error by using it,
/// answered with the feature's own code (sections 3.2.2.3.11 to 3.2.2.3.13).
#[test]
fn features_advertised_off_are_protocol_errors_for_v5() {
    let mut h = Harness::with(Settings {
        wildcard_subscriptions: false,
        shared_subscriptions: false,
        subscription_identifiers: false,
        ..Settings::default()
    });
    let (conn, ack) = h.connect_with(Connect::new(V5, "a"));
    for p in [
        Property::WildcardSubscriptionAvailable(0),
        Property::SharedSubscriptionAvailable(0),
        Property::SubscriptionIdentifierAvailable(0),
    ] {
        assert!(ack.properties.iter().any(|q| *q == p), "{p:?} advertised");
    }
    for (conn, packet, code) in [
        (
            conn,
            subscribe_packet("a/+", vec![]),
            ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED,
        ),
        (
            h.client(V5, "b"),
            subscribe_packet("$share/g/t", vec![]),
            ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED,
        ),
        (
            h.client(V5, "c"),
            subscribe_packet("t", vec![Property::SubscriptionIdentifier(3)]),
            ReasonCode::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
        ),
    ] {
        h.send(conn, packet);
        assert_eq!(disconnect_reason(h.recv(conn)), code);
        assert!(h.is_closed(conn));
    }
}

/// When a member of a shared subscription goes away with QoS 1 messages unacknowledged, they
/// go to another member; QoS 2 messages stay with the member that started them
/// [MQTT-4.8.2-4].
#[test]
fn shared_subscription_messages_move_when_a_member_leaves() {
    let mut h = Harness::new();
    let persistent = |id: &str| {
        let mut c = Connect::new(V5, id);
        c.clean_start = false;
        c.properties.push(Property::SessionExpiryInterval(300));
        c
    };
    let (a, _) = h.connect_with(persistent("a"));
    let (b, _) = h.connect_with(persistent("b"));
    h.subscribe(a, "$share/g/work", QoS::ExactlyOnce);
    h.subscribe(b, "$share/g/work", QoS::ExactlyOnce);
    let publisher = h.client(V5, "pub");
    for (i, qos) in [
        (1, QoS::AtLeastOnce),
        (2, QoS::AtLeastOnce),
        (3, QoS::ExactlyOnce),
        (4, QoS::ExactlyOnce),
    ] {
        h.publish(publisher, "work", &format!("job{i}"), qos, i);
    }
    let got_a: Vec<Publish> = h
        .recv_all(a)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect();
    let got_b = h.recv_all(b).len();
    assert_eq!(got_a.len() + got_b, 4, "each job to one member");
    assert!(!got_a.is_empty());
    // `a` vanishes without acknowledging anything.
    h.input(a, Input::Closed);
    let moved: Vec<Publish> = h
        .recv_all(b)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect();
    let expected: Vec<&Publish> = got_a.iter().filter(|p| p.qos == QoS::AtLeastOnce).collect();
    assert_eq!(moved.len(), expected.len(), "a's QoS 1 jobs went to b");
    assert!(moved.iter().all(|p| p.qos == QoS::AtLeastOnce && !p.dup));
    // `a` comes back and finishes its QoS 2 jobs, and only those.
    let (a, ack) = h.connect_with(persistent("a"));
    assert!(ack.session_present);
    let resent: Vec<Publish> = h
        .recv_all(a)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect();
    let qos2_of_a = got_a.iter().filter(|p| p.qos == QoS::ExactlyOnce).count();
    assert_eq!(resent.len(), qos2_of_a);
    assert!(resent.iter().all(|p| p.qos == QoS::ExactlyOnce && p.dup));
}

#[test]
fn expired_retained_messages_are_purged() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    let mut p = Publish::new(TopicName::new("r").unwrap(), "brief");
    p.retain = true;
    p.properties.push(Property::MessageExpiryInterval(5));
    h.send(publisher, Packet::Publish(p));
    assert_eq!(h.engine.retained.len(), 1);
    h.send(publisher, Packet::PingReq);
    h.advance(30);
    h.send(publisher, Packet::PingReq);
    h.advance(31);
    assert_eq!(h.engine.retained.len(), 0);
}
