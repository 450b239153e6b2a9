//! PUBLISH: QoS 0/1/2 both ways with payload integrity, delivered QoS, QoS 2 duplicates,
//! retained messages, message expiry, topic aliases, properties, payload format.

use super::*;

#[tokio::test]
async fn v4_qos_0_1_2_with_empty_one_byte_and_256k_payloads() {
    use v4::QoS;
    let broker = Broker::start().await;
    let mut sub = v4::connect(broker.addr, "sub", |_| {}).await;
    assert_eq!(
        v4::subscribe(&mut sub, "m/t", QoS::ExactlyOnce).await,
        v4::SubscribeReasonCode::Success(QoS::ExactlyOnce)
    );
    let publisher = v4::connect(broker.addr, "pub", |_| {}).await;
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        for payload in payloads() {
            publisher
                .client
                .publish("m/t", qos, false, payload.clone())
                .await
                .unwrap();
            let got = v4::next_publish(&mut sub).await;
            assert_eq!((got.topic.as_str(), got.qos), ("m/t", qos));
            assert_eq!(got.payload.len(), payload.len());
            assert!(got.payload[..] == payload[..], "payload intact");
        }
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_qos_0_1_2_with_empty_one_byte_and_256k_payloads() {
    use v5::QoS;
    let broker = Broker::start().await;
    let mut sub = v5::connect(broker.addr, "sub", |_| {}).await;
    assert_eq!(
        v5::subscribe(&mut sub, "m/t", QoS::ExactlyOnce).await,
        v5::SubscribeReasonCode::Success(QoS::ExactlyOnce)
    );
    let publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        for payload in payloads() {
            publisher
                .client
                .publish("m/t", qos, false, payload.clone())
                .await
                .unwrap();
            let got = v5::next_publish(&mut sub).await;
            assert_eq!((v5::topic(&got), got.qos), ("m/t", qos));
            assert_eq!(got.payload.len(), payload.len());
            assert!(got.payload[..] == payload[..], "payload intact");
        }
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn delivered_qos_is_the_lower_of_published_and_granted() {
    use v4::QoS;
    let levels = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];
    let broker = Broker::start().await;
    let mut subs = Vec::new();
    for (i, granted) in levels.into_iter().enumerate() {
        let mut s = v4::connect(broker.addr, &format!("sub{i}"), |_| {}).await;
        assert_eq!(
            v4::subscribe(&mut s, "q/t", granted).await,
            v4::SubscribeReasonCode::Success(granted)
        );
        subs.push((granted, s));
    }
    let mut v5sub = v5::connect(broker.addr, "sub5", |_| {}).await;
    v5::subscribe(&mut v5sub, "q/t", v5::QoS::AtLeastOnce).await;
    let publisher = v4::connect(broker.addr, "pub", |_| {}).await;
    for published in levels {
        publisher
            .client
            .publish("q/t", published, false, "x")
            .await
            .unwrap();
        for (granted, s) in &mut subs {
            let got = v4::next_publish(s).await;
            let want = if (published as u8) < (*granted as u8) {
                published
            } else {
                *granted
            };
            assert_eq!(
                got.qos, want,
                "published {published:?}, granted {granted:?}"
            );
        }
        let got = v5::next_publish(&mut v5sub).await;
        assert_eq!(
            got.qos as u8,
            (published as u8).min(1),
            "[MQTT-3.8.4-8] v5, granted 1"
        );
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn qos2_publish_repeated_before_pubrel_is_delivered_once() {
    let broker = Broker::start().await;
    let mut sub = v4::connect(broker.addr, "sub", |_| {}).await;
    v4::subscribe(&mut sub, "dup/t", v4::QoS::ExactlyOnce).await;
    v4::subscribe(&mut sub, "end/sub", v4::QoS::AtMostOnce).await;

    let (mut p, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            level: 4,
            client_id: "rawpub",
            ..Default::default()
        },
    )
    .await;
    let first = raw::Publish {
        v5: false,
        qos: 2,
        topic: "dup/t",
        id: 7,
        payload: b"once",
        ..Default::default()
    };
    p.send(&raw::publish(&first)).await;
    assert_eq!(p.expect().await.bytes(), [0x50, 0x02, 0x00, 0x07]);
    // The same message again, DUP set, before PUBREL: acknowledged, not delivered again.
    p.send(&raw::publish(&raw::Publish { dup: true, ..first }))
        .await;
    assert_eq!(p.expect().await.bytes(), [0x50, 0x02, 0x00, 0x07]);
    p.send(&[0x62, 0x02, 0x00, 0x07]).await;
    assert_eq!(p.expect().await.bytes(), [0x70, 0x02, 0x00, 0x07]);
    // After PUBCOMP the identifier is free: a new message with it is a new message.
    p.send(&raw::publish(&raw::Publish {
        v5: false,
        qos: 2,
        topic: "dup/t",
        id: 7,
        payload: b"again",
        ..Default::default()
    }))
    .await;
    assert_eq!(p.expect().await.bytes(), [0x50, 0x02, 0x00, 0x07]);
    p.send(&[0x62, 0x02, 0x00, 0x07]).await;
    assert_eq!(p.expect().await.bytes(), [0x70, 0x02, 0x00, 0x07]);
    p.send(&raw::publish(&raw::Publish {
        v5: false,
        topic: "end/sub",
        ..Default::default()
    }))
    .await;

    let got = v4::collect_until(&mut sub, "end/sub").await;
    let payloads: Vec<&[u8]> = got.iter().map(|p| &p.payload[..]).collect();
    assert_eq!(payloads, [&b"once"[..], &b"again"[..]], "[MQTT-4.3.3-10]");
    broker.shutdown().await;
}

#[tokio::test]
async fn retained_message_set_replaced_and_cleared() {
    use v4::QoS;
    let broker = Broker::start().await;
    let mut watcher = v4::connect(broker.addr, "watcher", |_| {}).await;
    v4::subscribe(&mut watcher, "ret/t", QoS::AtLeastOnce).await;
    let publisher = v4::connect(broker.addr, "pub", |_| {}).await;

    // A new subscriber's view: (payloads received, each with RETAIN set).
    async fn newcomer(addr: SocketAddr, name: &str) -> Vec<(Vec<u8>, bool, v4::QoS)> {
        let mut c = v4::connect(addr, name, |_| {}).await;
        let end = format!("end/{name}");
        v4::subscribe(&mut c, &end, QoS::AtMostOnce).await;
        v4::subscribe(&mut c, "ret/t", QoS::ExactlyOnce).await;
        v4::settle(&mut c, &end)
            .await
            .into_iter()
            .map(|p| (p.payload.to_vec(), p.retain, p.qos))
            .collect()
    }

    publisher
        .client
        .publish("ret/t", QoS::AtLeastOnce, true, "one")
        .await
        .unwrap();
    let live = v4::next_publish(&mut watcher).await;
    assert_eq!(&live.payload[..], b"one");
    assert!(
        !live.retain,
        "3.1.1 [MQTT-3.3.1-9]: 0 to an established subscription"
    );
    assert_eq!(
        newcomer(broker.addr, "a").await,
        [(b"one".to_vec(), true, QoS::AtLeastOnce)],
        "[MQTT-3.3.1-8]: RETAIN 1, at the message's QoS"
    );

    publisher
        .client
        .publish("ret/t", QoS::AtMostOnce, true, "two")
        .await
        .unwrap();
    assert_eq!(&v4::next_publish(&mut watcher).await.payload[..], b"two");
    assert_eq!(
        newcomer(broker.addr, "b").await,
        [(b"two".to_vec(), true, QoS::AtMostOnce)],
        "the new retained message replaces the old one"
    );

    publisher
        .client
        .publish("ret/t", QoS::AtLeastOnce, true, "")
        .await
        .unwrap();
    let clear = v4::next_publish(&mut watcher).await;
    assert!(
        clear.payload.is_empty(),
        "an empty retained message is delivered as normal"
    );
    assert_eq!(
        newcomer(broker.addr, "c").await,
        [],
        "[MQTT-3.3.1-10] an empty payload clears the retained message"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_message_expiry_on_an_offline_session_and_in_the_retained_store() {
    use v5::{PublishProperties, QoS};
    let broker = Broker::start().await;
    let durable = |o: &mut v5::MqttOptions| {
        o.set_clean_start(false);
        o.set_session_expiry_interval(Some(60));
    };
    let mut sub = v5::connect(broker.addr, "durable", durable).await;
    v5::subscribe(&mut sub, "exp/#", QoS::AtLeastOnce).await;
    sub.client.disconnect().await.unwrap();
    v5::ended(&mut sub).await;

    let mut publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    let expiring = |secs| PublishProperties {
        message_expiry_interval: Some(secs),
        ..Default::default()
    };
    for (topic, retain, secs) in [
        ("exp/short", false, 1),
        ("exp/long", false, 60),
        ("exp/ret-short", true, 1),
        ("exp/ret-long", true, 60),
    ] {
        publisher
            .client
            .publish_with_properties(topic, QoS::AtLeastOnce, retain, topic, expiring(secs))
            .await
            .unwrap();
        v5::puback(&mut publisher).await;
    }
    sleep(Duration::from_millis(2100)).await;

    let mut sub = v5::connect(broker.addr, "durable", durable).await;
    assert!(sub.connack.session_present);
    let got = v5::settle(&mut sub, "exp/end").await;
    assert_eq!(
        v5::topics(&got),
        ["exp/long", "exp/ret-long"],
        "[MQTT-3.3.2-5] expired messages are not delivered"
    );
    for p in &got {
        let left = v5::props(p).message_expiry_interval.expect("expiry kept");
        assert!(
            (50..=58).contains(&left),
            "[MQTT-3.3.2-6] decremented by the time waited: {left}"
        );
    }

    let mut late = v5::connect(broker.addr, "late", |_| {}).await;
    v5::subscribe(&mut late, "exp/#", QoS::AtLeastOnce).await;
    let got = v5::settle(&mut late, "exp/end").await;
    assert_eq!(
        v5::topics(&got),
        ["exp/ret-long"],
        "an expired retained message is not sent"
    );
    assert!(got[0].retain);
    let left = v5::props(&got[0]).message_expiry_interval.unwrap();
    assert!((50..=58).contains(&left), "{left}");
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_topic_alias_inbound() {
    use v5::{PublishProperties, QoS};
    let broker = Broker::start().await;
    let mut sub = v4::connect(broker.addr, "sub", |_| {}).await;
    v4::subscribe(&mut sub, "ta/#", v4::QoS::AtLeastOnce).await;
    let mut publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    assert_eq!(
        publisher
            .connack
            .properties
            .as_ref()
            .and_then(|p| p.topic_alias_max),
        Some(64),
        "Topic Alias Maximum advertised"
    );
    let alias = |a| PublishProperties {
        topic_alias: Some(a),
        ..Default::default()
    };
    for (topic, payload) in [("ta/in", "1"), ("", "2"), ("ta/other", "3"), ("", "4")] {
        publisher
            .client
            .publish_with_properties(topic, QoS::AtLeastOnce, false, payload, alias(3))
            .await
            .unwrap();
        assert_eq!(v5::puback(&mut publisher).await, v5::PubAckReason::Success);
    }
    publisher
        .client
        .publish("ta/end", QoS::AtMostOnce, false, "")
        .await
        .unwrap();
    let got = v4::collect_until(&mut sub, "ta/end").await;
    let seen: Vec<(&str, &[u8])> = got
        .iter()
        .map(|p| (p.topic.as_str(), &p.payload[..]))
        .collect();
    assert_eq!(
        seen,
        [
            ("ta/in", &b"1"[..]),
            ("ta/in", b"2"),
            ("ta/other", b"3"),
            ("ta/other", b"4")
        ],
        "aliases set, used and remapped (section 3.3.4)"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_topic_alias_outbound_within_the_clients_maximum() {
    use v5::QoS;
    let broker = Broker::start().await;
    let mut aliased = v5::connect(broker.addr, "aliased", |o| {
        o.set_topic_alias_max(Some(2));
    })
    .await;
    v5::subscribe(&mut aliased, "tao/#", QoS::AtMostOnce).await;
    let mut plain = v5::connect(broker.addr, "plain", |_| {}).await;
    v5::subscribe(&mut plain, "tao/#", QoS::AtMostOnce).await;
    let publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    let sent = ["tao/a", "tao/a", "tao/b", "tao/c", "tao/b", "tao/c"];
    for topic in sent {
        publisher
            .client
            .publish(topic, QoS::AtMostOnce, false, topic)
            .await
            .unwrap();
    }
    // rumqttc 0.25 resolves aliases for itself but hands the application the packet as
    // received: an empty topic and the Topic Alias property.
    let mut seen = Vec::new();
    for want in sent {
        let p = v5::next_publish(&mut aliased).await;
        assert_eq!(&p.payload[..], want.as_bytes());
        seen.push((v5::topic(&p).to_owned(), v5::props(&p).topic_alias));
    }
    let expected: Vec<(String, Option<u16>)> = vec![
        ("tao/a".into(), Some(1)),
        ("".into(), Some(1)),
        ("tao/b".into(), Some(2)),
        ("tao/c".into(), None), // [MQTT-3.1.2-26] no alias above the client's maximum
        ("".into(), Some(2)),
        ("tao/c".into(), None),
    ];
    assert_eq!(seen, expected);
    for want in sent {
        let p = v5::next_publish(&mut plain).await;
        assert_eq!(v5::topic(&p), want);
        assert_eq!(
            v5::props(&p).topic_alias,
            None,
            "[MQTT-3.1.2-27] no aliases to a client that set no maximum"
        );
    }
    broker.shutdown().await;
}

/// Sends one 5.0 PUBLISH with a Topic Alias over raw TCP; returns what follows until
/// the close.
async fn publish_with_alias(addr: SocketAddr, topic: &str, alias: u16) -> Vec<raw::Frame> {
    let (mut c, _) = raw::Conn::connected(addr, &raw::Connect::default()).await;
    c.send(&raw::publish(&raw::Publish {
        topic,
        props: raw::p_u16(raw::TOPIC_ALIAS, alias),
        payload: b"x",
        ..Default::default()
    }))
    .await;
    c.rest().await
}

#[tokio::test]
async fn v5_topic_alias_above_the_maximum_is_0x94() {
    let broker = Broker::start().await;
    let rest = publish_with_alias(broker.addr, "t", 65).await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].disconnect_reason(), 0x94, "[MQTT-3.3.2-12] §3.3.4");
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_topic_alias_zero_is_0x94() {
    let broker = Broker::start().await;
    let rest = publish_with_alias(broker.addr, "t", 0).await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    // §3.3.4: "A Topic Alias value of 0 or greater than the Maximum Topic Alias is a
    // Protocol Error, the receiver uses DISCONNECT with Reason Code of 0x94".
    assert_eq!(rest[0].disconnect_reason(), 0x94);
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_unknown_topic_alias_with_an_empty_topic_is_0x82() {
    let broker = Broker::start().await;
    let rest = publish_with_alias(broker.addr, "", 5).await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].disconnect_reason(), 0x82, "§3.3.4 rule 3a");
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_topic_aliases_are_not_carried_to_a_new_connection() {
    let broker = Broker::start().await;
    let hello = raw::Connect {
        client_id: "aliaser",
        ..Default::default()
    };
    let (mut c, _) = raw::Conn::connected(broker.addr, &hello).await;
    c.send(&raw::publish(&raw::Publish {
        topic: "al/t",
        props: raw::p_u16(raw::TOPIC_ALIAS, 1),
        ..Default::default()
    }))
    .await;
    c.send(&raw::publish(&raw::Publish {
        topic: "",
        props: raw::p_u16(raw::TOPIC_ALIAS, 1),
        ..Default::default()
    }))
    .await;
    c.send(&[0xC0, 0x00]).await;
    assert_eq!(
        c.expect().await.bytes(),
        [0xD0, 0x00],
        "the alias works here"
    );
    c.send(&[0xE0, 0x00]).await;
    assert_eq!(c.rest().await, []);

    let (mut c, _) = raw::Conn::connected(broker.addr, &hello).await;
    c.send(&raw::publish(&raw::Publish {
        topic: "",
        props: raw::p_u16(raw::TOPIC_ALIAS, 1),
        ..Default::default()
    }))
    .await;
    let rest = c.rest().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].disconnect_reason(), 0x82, "[MQTT-3.3.2-7]");
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_user_properties_keep_their_order() {
    use v5::{PublishProperties, QoS};
    let broker = Broker::start().await;
    let mut sub = v5::connect(broker.addr, "sub", |_| {}).await;
    v5::subscribe(&mut sub, "up/t", QoS::AtLeastOnce).await;
    let publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    let user_properties: Vec<(String, String)> = [("k", "1"), ("a", "2"), ("k", "3"), ("k", "1")]
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    publisher
        .client
        .publish_with_properties(
            "up/t",
            QoS::AtLeastOnce,
            false,
            "x",
            PublishProperties {
                user_properties: user_properties.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let got = v5::next_publish(&mut sub).await;
    assert_eq!(
        v5::props(&got).user_properties,
        user_properties,
        "[MQTT-3.3.2-18] forwarded in order, duplicates kept"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_payload_format_indicator_with_invalid_utf8_is_0x99() {
    use v5::{PublishProperties, QoS};
    let broker = Broker::start().await;
    let mut sub = v5::connect(broker.addr, "sub", |_| {}).await;
    v5::subscribe(&mut sub, "pf/#", QoS::AtLeastOnce).await;
    let mut publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    let utf8 = || PublishProperties {
        payload_format_indicator: Some(1),
        ..Default::default()
    };
    let bad: &[u8] = &[0xC3, 0x28];
    publisher
        .client
        .publish_with_properties("pf/bad1", QoS::AtLeastOnce, false, bad, utf8())
        .await
        .unwrap();
    assert_eq!(
        v5::puback(&mut publisher).await,
        v5::PubAckReason::PayloadFormatInvalid
    );
    publisher
        .client
        .publish_with_properties("pf/bad2", QoS::ExactlyOnce, false, bad, utf8())
        .await
        .unwrap();
    assert_eq!(
        v5::pubrec(&mut publisher).await,
        v5::PubRecReason::PayloadFormatInvalid
    );
    publisher
        .client
        .publish_with_properties("pf/good", QoS::AtLeastOnce, false, "h\u{e9}", utf8())
        .await
        .unwrap();
    assert_eq!(v5::puback(&mut publisher).await, v5::PubAckReason::Success);
    publisher
        .client
        .publish("pf/end", QoS::AtMostOnce, false, "")
        .await
        .unwrap();
    let got = v5::collect_until(&mut sub, "pf/end").await;
    assert_eq!(v5::topics(&got), ["pf/good"], "refused messages go nowhere");
    assert_eq!(
        v5::props(&got[0]).payload_format_indicator,
        Some(1),
        "[MQTT-3.3.2-4] forwarded unaltered"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_puback_says_no_matching_subscribers() {
    let broker = Broker::start().await;
    let mut publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    publisher
        .client
        .publish("nobody/listens", v5::QoS::AtLeastOnce, false, "x")
        .await
        .unwrap();
    assert_eq!(
        v5::puback(&mut publisher).await,
        v5::PubAckReason::NoMatchingSubscribers
    );
    broker.shutdown().await;
}
