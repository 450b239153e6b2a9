//! DISCONNECT, AUTH and errors: authentication methods, malformed packets, unknown
//! acknowledgements, takeover, session expiry at DISCONNECT.

use super::*;

#[tokio::test]
async fn v5_authentication_method_is_refused_with_0x8c() {
    let broker = Broker::start().await;
    let refused = v5::try_connect(broker.addr, "auth", |o| {
        let mut p = v5::ConnectProperties::new();
        p.authentication_method = Some("SCRAM-SHA-256".into());
        p.max_packet_size = Some(1 << 20);
        o.set_connect_properties(p);
    })
    .await;
    v5::expect_refused(refused, v5::ConnectReturnCode::BadAuthenticationMethod);
    // The same on the wire: CONNACK 0x8C, then the close.
    let mut c = raw::Conn::open(broker.addr).await;
    c.send(&raw::connect(&raw::Connect {
        props: raw::p_str(raw::AUTHENTICATION_METHOD, "SCRAM-SHA-256"),
        ..Default::default()
    }))
    .await;
    let rest = c.rest().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].header, 0x20);
    assert_eq!(rest[0].body[..2], [0x00, 0x8C]);
    broker.shutdown().await;
}

#[tokio::test]
async fn malformed_packets_close_only_their_connection() {
    let broker = Broker::start().await;
    let mut bystander = v4::connect(broker.addr, "bystander", |_| {}).await;
    v4::subscribe(&mut bystander, "ok", v4::QoS::AtMostOnce).await;

    // 3.1.1: a PUBLISH with QoS 3 [MQTT-3.3.1-4]: closed, nothing sent.
    let (mut c4, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            level: 4,
            client_id: "bad4",
            ..Default::default()
        },
    )
    .await;
    c4.send(&[0x36, 0x05, 0x00, 0x01, b'a', 0x00, 0x01]).await;
    assert_eq!(c4.rest().await, []);

    // 5.0: a SUBSCRIBE with reserved flags 0000 [MQTT-3.8.1-1]: DISCONNECT 0x81.
    let (mut c5, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            client_id: "bad5",
            ..Default::default()
        },
    )
    .await;
    c5.send(&[0x80, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x00])
        .await;
    let rest = c5.rest().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].disconnect_reason(), 0x81);

    let publisher = v4::connect(broker.addr, "pub", |_| {}).await;
    publisher
        .client
        .publish("ok", v4::QoS::AtMostOnce, false, "still here")
        .await
        .unwrap();
    assert_eq!(
        &v4::next_publish(&mut bystander).await.payload[..],
        b"still here"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn acknowledgements_for_unknown_packet_ids_are_tolerated() {
    let broker = Broker::start().await;
    let (mut c, _) = raw::Conn::connected(broker.addr, &raw::Connect::default()).await;
    c.send(&[0x40, 0x02, 0x00, 0x63]).await; // PUBACK 99
    c.send(&[0x70, 0x02, 0x00, 0x62]).await; // PUBCOMP 98
    c.send(&[0x50, 0x02, 0x00, 0x61]).await; // PUBREC 97
    let pubrel = c.expect().await;
    assert_eq!((pubrel.header, pubrel.packet_id()), (0x62, 97));
    assert_eq!(pubrel.ack_reason(), 0x92, "Packet Identifier not found");
    c.send(&[0x62, 0x02, 0x00, 0x60]).await; // PUBREL 96
    let pubcomp = c.expect().await;
    assert_eq!((pubcomp.header, pubcomp.packet_id()), (0x70, 96));
    assert_eq!(pubcomp.ack_reason(), 0x92, "Packet Identifier not found");
    c.send(&[0xC0, 0x00]).await;
    assert_eq!(c.expect().await.bytes(), [0xD0, 0x00], "still connected");

    // 3.1.1 likewise, and PUBREL is always answered with PUBCOMP [MQTT-4.3.3-11].
    let (mut c, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            level: 4,
            ..Default::default()
        },
    )
    .await;
    c.send(&[0x40, 0x02, 0x00, 0x63]).await;
    c.send(&[0x62, 0x02, 0x00, 0x60]).await;
    assert_eq!(c.expect().await.bytes(), [0x70, 0x02, 0x00, 0x60]);
    c.send(&[0xC0, 0x00]).await;
    assert_eq!(c.expect().await.bytes(), [0xD0, 0x00]);
    broker.shutdown().await;
}

#[tokio::test]
async fn v4_session_takeover_closes_the_old_connection_and_publishes_its_will() {
    let broker = Broker::start().await;
    let mut w = v4::connect(broker.addr, "watcher", |_| {}).await;
    v4::subscribe(&mut w, "tk/#", v4::QoS::AtLeastOnce).await;
    let mut first = v4::connect(broker.addr, "twin4", |o| {
        o.set_last_will(v4::LastWill::new(
            "tk/will",
            "first gone",
            v4::QoS::AtLeastOnce,
            false,
        ));
    })
    .await;
    let mut second = v4::connect(broker.addr, "twin4", |_| {}).await;
    v4::ended(&mut first).await; // [MQTT-3.1.4-2]
    let will = v4::next_publish(&mut w).await;
    assert_eq!(
        (will.topic.as_str(), &will.payload[..]),
        ("tk/will", &b"first gone"[..]),
        "3.1.1 [MQTT-3.1.2-8]: closed without DISCONNECT"
    );
    v4::subscribe(&mut second, "tk/second", v4::QoS::AtLeastOnce).await;
    second
        .client
        .publish("tk/second", v4::QoS::AtLeastOnce, false, "alive")
        .await
        .unwrap();
    let got = v4::next_publish(&mut second).await;
    assert_eq!(&got.payload[..], b"alive", "the new connection works");
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_session_takeover_keeps_the_session_and_publishes_the_will() {
    use v5::QoS;
    let broker = Broker::start().await;
    let mut w = v4::connect(broker.addr, "watcher", |_| {}).await;
    v4::subscribe(&mut w, "tk5/will", v4::QoS::AtLeastOnce).await;
    let mut first = v5::connect(broker.addr, "twin5", |o| {
        o.set_clean_start(false);
        o.set_session_expiry_interval(Some(60));
        o.set_last_will(v5::LastWill::new(
            "tk5/will",
            "first gone",
            QoS::AtLeastOnce,
            false,
            None,
        ));
    })
    .await;
    v5::subscribe(&mut first, "tk5/data", QoS::AtLeastOnce).await;
    let mut second = v5::connect(broker.addr, "twin5", |o| {
        o.set_clean_start(false);
        o.set_session_expiry_interval(Some(60));
    })
    .await;
    assert!(second.connack.session_present, "the session is taken over");
    match v5::ended(&mut first).await {
        v5::ConnectionError::MqttState(v5::StateError::ServerDisconnect {
            reason_code, ..
        }) => assert_eq!(
            reason_code,
            v5::DisconnectReasonCode::SessionTakenOver,
            "[MQTT-3.1.4-3]"
        ),
        other => panic!("expected DISCONNECT 0x8E, got {other:?}"),
    }
    let will = v4::next_publish(&mut w).await;
    assert_eq!(
        &will.payload[..],
        b"first gone",
        "§3.1.3.2.2: Will Delay 0, so the will goes at the close"
    );
    let publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    publisher
        .client
        .publish("tk5/data", QoS::AtLeastOnce, false, "for the session")
        .await
        .unwrap();
    let got = v5::next_publish(&mut second).await;
    assert_eq!(&got.payload[..], b"for the session", "subscriptions kept");
    broker.shutdown().await;
}

#[tokio::test]
async fn session_expiry_raised_from_zero_at_disconnect_is_a_protocol_error() {
    let broker = Broker::start().await;
    let mut w = v4::connect(broker.addr, "watcher", |_| {}).await;
    v4::subscribe(&mut w, "se/#", v4::QoS::AtLeastOnce).await;
    let (mut c, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            client_id: "se0",
            will: Some(raw::Will {
                props: vec![],
                topic: "se/will",
                payload: b"gone",
                qos: 1,
                retain: false,
            }),
            ..Default::default()
        },
    )
    .await;
    // DISCONNECT 0x00 with Session Expiry Interval 10.
    c.send(&[0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x0A])
        .await;
    let rest = c.rest().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].disconnect_reason(), 0x82, "§3.14.2.2.2");
    let will = v4::next_publish(&mut w).await;
    assert_eq!(
        will.topic, "se/will",
        "not a valid DISCONNECT, so the will is not discarded"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn session_expiry_lowered_to_zero_at_disconnect_ends_the_session() {
    let broker = Broker::start().await;
    let durable = raw::Connect {
        client_id: "se-down",
        clean: false,
        props: raw::p_u32(raw::SESSION_EXPIRY, 60),
        ..Default::default()
    };
    let (mut c, _) = raw::Conn::connected(broker.addr, &durable).await;
    c.send(&[0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00])
        .await;
    assert_eq!(c.rest().await, []);
    let (_c, connack) = raw::Conn::connected(broker.addr, &durable).await;
    assert_eq!(connack.body[..2], [0x00, 0x00], "no session present");
    broker.shutdown().await;
}

#[tokio::test]
async fn shutdown_tells_v5_clients_0x8b_and_completes() {
    let broker = Broker::start().await;
    let mut client = v5::connect(broker.addr, "stays", |_| {}).await;
    broker.shutdown().await;
    match v5::ended(&mut client).await {
        v5::ConnectionError::MqttState(v5::StateError::ServerDisconnect {
            reason_code, ..
        }) => assert_eq!(reason_code, v5::DisconnectReasonCode::ServerShuttingDown),
        other => panic!("expected DISCONNECT 0x8B, got {other:?}"),
    }
}
