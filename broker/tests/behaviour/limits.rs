//! Limits: packet sizes, receive maximums, connections, keep alive.

use super::*;

#[tokio::test]
async fn max_packet_size_is_advertised_and_enforced() {
    let mut config = test_config();
    config.limits.max_packet_size = 1024;
    let broker = Broker::start_with(config).await;
    let c = v5::connect(broker.addr, "watch", |_| {}).await;
    assert_eq!(
        c.connack
            .properties
            .as_ref()
            .and_then(|p| p.max_packet_size),
        Some(1024)
    );

    let (mut c, _) = raw::Conn::connected(broker.addr, &raw::Connect::default()).await;
    // A QoS 1 PUBLISH of exactly 1024 bytes: 1 + 2 (Remaining Length 1021) + 6 (topic)
    // + 2 (packet id) + 1 (property length) + 1012.
    let payload = vec![b'x'; 1012];
    let exact = raw::publish(&raw::Publish {
        qos: 1,
        topic: "mp/t",
        id: 1,
        payload: &payload,
        ..Default::default()
    });
    assert_eq!(exact.len(), 1024);
    c.send(&exact).await;
    let ack = c.expect().await;
    assert_eq!(
        (ack.header, ack.packet_id()),
        (0x40, 1),
        "accepted at the limit"
    );
    let payload = vec![b'x'; 1013];
    c.send(&raw::publish(&raw::Publish {
        qos: 1,
        topic: "mp/t",
        id: 2,
        payload: &payload,
        ..Default::default()
    }))
    .await;
    let rest = c.rest().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].disconnect_reason(), 0x95, "Packet too large");

    // 3.1.1 has no DISCONNECT from the server: the close only.
    let (mut c, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            level: 4,
            ..Default::default()
        },
    )
    .await;
    let payload = vec![b'x'; 2000];
    c.send(&raw::publish(&raw::Publish {
        v5: false,
        topic: "mp/t",
        payload: &payload,
        ..Default::default()
    }))
    .await;
    assert_eq!(c.rest().await, []);
    broker.shutdown().await;
}

#[tokio::test]
async fn client_receive_maximum_bounds_unacknowledged_deliveries() {
    use v5::QoS;
    let broker = Broker::start().await;
    let mut sub = v5::connect(broker.addr, "slow", |o| {
        o.set_receive_maximum(Some(1));
        o.set_manual_acks(true);
    })
    .await;
    v5::subscribe(&mut sub, "rm/t", QoS::AtLeastOnce).await;
    let publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    for i in 0..3u8 {
        publisher
            .client
            .publish("rm/t", QoS::AtLeastOnce, false, vec![i])
            .await
            .unwrap();
    }
    for i in 0..3u8 {
        let p = v5::next_publish(&mut sub).await;
        assert_eq!(&p.payload[..], [i]);
        assert!(
            v5::publish_within(&mut sub, QUIET).await.is_none(),
            "[MQTT-3.3.4-9] nothing more until PUBACK"
        );
        sub.client.ack(&p).await.unwrap();
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn client_maximum_packet_size_drops_larger_messages() {
    use v5::QoS;
    let broker = Broker::start().await;
    let mut sub = v5::connect(broker.addr, "small", |o| {
        o.set_max_packet_size(Some(128));
        // A dropped QoS 1 message must not hold the only slot of the window.
        o.set_receive_maximum(Some(1));
    })
    .await;
    v5::subscribe(&mut sub, "cmp/t", QoS::AtLeastOnce).await;
    v5::subscribe(&mut sub, "end/cmp", QoS::AtMostOnce).await;
    let publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    for payload in [vec![b'x'; 200], b"small".to_vec()] {
        publisher
            .client
            .publish("cmp/t", QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
    }
    publisher
        .client
        .publish("end/cmp", QoS::AtMostOnce, false, "")
        .await
        .unwrap();
    let got = v5::collect_until(&mut sub, "end/cmp").await;
    let payloads: Vec<&[u8]> = got.iter().map(|p| &p.payload[..]).collect();
    assert_eq!(
        payloads,
        [&b"small"[..]],
        "[MQTT-3.1.2-24] [MQTT-3.1.2-25] too large for the client: dropped"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn max_connections_refuses_the_next_connect() {
    let mut config = test_config();
    config.limits.max_connections = 1;
    let broker = Broker::start_with(config).await;
    let mut only = v5::connect(broker.addr, "only", |_| {}).await;
    let second = v5::try_connect(broker.addr, "second", |_| {}).await;
    v5::expect_refused(second, v5::ConnectReturnCode::QuotaExceeded);
    let mut c = raw::Conn::open(broker.addr).await;
    c.send(&raw::connect(&raw::Connect {
        level: 4,
        client_id: "third",
        ..Default::default()
    }))
    .await;
    assert_eq!(c.rest_bytes().await, [0x20, 0x02, 0x00, 0x03]);

    // Room again once the first one leaves.
    only.client.disconnect().await.unwrap();
    v5::ended(&mut only).await;
    v4::connect(broker.addr, "fourth", |_| {}).await;
    broker.shutdown().await;
}

#[tokio::test]
async fn server_receive_maximum_is_advertised_and_enforced() {
    let mut config = test_config();
    config.limits.receive_maximum = 2;
    let broker = Broker::start_with(config).await;
    let (mut c, connack) = raw::Conn::connected(broker.addr, &raw::Connect::default()).await;
    assert_eq!(
        raw::property(&connack.connack_properties(), 0x21),
        Some(&[0x00, 0x02][..]),
        "Receive Maximum 2"
    );
    for id in 1..=2 {
        c.send(&raw::publish(&raw::Publish {
            qos: 2,
            id,
            ..Default::default()
        }))
        .await;
        let rec = c.expect().await;
        assert_eq!((rec.header, rec.packet_id()), (0x50, id));
    }
    c.send(&raw::publish(&raw::Publish {
        qos: 2,
        id: 3,
        ..Default::default()
    }))
    .await;
    let rest = c.rest().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(
        rest[0].disconnect_reason(),
        0x93,
        "section 3.3.4: Receive Maximum exceeded"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn server_keep_alive_overrides_and_is_enforced_for_v5_only() {
    let mut config = test_config();
    config.limits.max_keep_alive = 1;
    let broker = Broker::start_with(config).await;
    let c = v5::connect(broker.addr, "asks30", |_| {}).await;
    assert_eq!(
        c.connack
            .properties
            .as_ref()
            .and_then(|p| p.server_keep_alive),
        Some(1)
    );
    drop(c);

    let (mut c5, connack) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            client_id: "ka0-5",
            keep_alive: 0,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        raw::property(&connack.connack_properties(), 0x13),
        Some(&[0x00, 0x01][..]),
        "Server Keep Alive 1 for a client asking for 0"
    );
    let (mut c4, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            level: 4,
            client_id: "ka0-4",
            keep_alive: 0,
            ..Default::default()
        },
    )
    .await;
    let started = Instant::now();
    let rest = c5.rest().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(
        rest[0].disconnect_reason(),
        0x8D,
        "section 3.2.2.3.14: the server's value"
    );
    assert!(started.elapsed() >= Duration::from_millis(1300));
    // 3.x has no Server Keep Alive: the 3.1.1 client's 0 stands.
    c4.send(&[0xC0, 0x00]).await;
    assert_eq!(c4.expect().await.bytes(), [0xD0, 0x00]);
    broker.shutdown().await;
}
