//! CONNECT handling: protocol levels, client identifiers per version, Session Present,
//! session expiry, a second CONNECT, the first packet, keep alive.

use super::*;

#[tokio::test]
async fn unsupported_protocol_level_gets_0x01_and_the_close() {
    let broker = Broker::start().await;
    let mut c = raw::Conn::open(broker.addr).await;
    c.send(&raw::connect(&raw::Connect {
        level: 6,
        ..Default::default()
    }))
    .await;
    // [MQTT-3.1.2-2]: the return code every version reads, then the close.
    assert_eq!(c.rest_bytes().await, [0x20, 0x02, 0x00, 0x01]);
    broker.shutdown().await;
}

#[tokio::test]
async fn mqtt_3_1_client_id_over_23_bytes_is_refused_with_2() {
    let broker = Broker::start().await;
    let long = "abcdefghijklmnopqrstuvwx";
    assert_eq!(long.len(), 24);
    let mut c = raw::Conn::open(broker.addr).await;
    c.send(&raw::connect(&raw::Connect {
        level: 3,
        client_id: long,
        ..Default::default()
    }))
    .await;
    assert_eq!(c.rest_bytes().await, [0x20, 0x02, 0x00, 0x02]);

    // 23 bytes is the most 3.1 allows, and it is accepted.
    let (_ok, connack) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            level: 3,
            client_id: &long[..23],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(connack.bytes(), [0x20, 0x02, 0x00, 0x00]);
    broker.shutdown().await;
}

#[tokio::test]
async fn mqtt_3_1_1_empty_client_id_needs_clean_session() {
    let broker = Broker::start().await;
    // rumqttc v4 refuses (panics on) an empty id without a clean session, so raw.
    let mut c = raw::Conn::open(broker.addr).await;
    c.send(&raw::connect(&raw::Connect {
        level: 4,
        client_id: "",
        clean: false,
        ..Default::default()
    }))
    .await;
    // [MQTT-3.1.3-8]: 0x02 Identifier rejected, then the close.
    assert_eq!(c.rest_bytes().await, [0x20, 0x02, 0x00, 0x02]);

    let (_ok, connack) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            level: 4,
            client_id: "",
            clean: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(connack.bytes(), [0x20, 0x02, 0x00, 0x00]);
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_empty_client_id_gets_an_assigned_client_identifier() {
    let broker = Broker::start().await;
    let assigned = |c: &v5::Client| {
        c.connack
            .properties
            .as_ref()
            .and_then(|p| p.assigned_client_identifier.clone())
    };
    let a = v5::connect(broker.addr, "", |_| {}).await;
    let b = v5::connect(broker.addr, "", |_| {}).await;
    let named = v5::connect(broker.addr, "named", |_| {}).await;
    let (ida, idb) = (
        assigned(&a).expect("[MQTT-3.1.3-7] Assigned Client Identifier"),
        assigned(&b).expect("[MQTT-3.1.3-7] Assigned Client Identifier"),
    );
    assert!(!ida.is_empty());
    assert_ne!(ida, idb, "assigned identifiers are unique");
    assert_eq!(assigned(&named), None, "only for an empty identifier");
    broker.shutdown().await;
}

#[tokio::test]
async fn v4_session_present_on_resume() {
    let broker = Broker::start().await;
    let persistent = |o: &mut rumqttc::MqttOptions| {
        o.set_clean_session(false);
    };
    let mut c = v4::connect(broker.addr, "resume4", persistent).await;
    assert!(!c.session_present, "no session yet");
    c.client.disconnect().await.unwrap();
    v4::ended(&mut c).await;

    let mut c = v4::connect(broker.addr, "resume4", persistent).await;
    assert!(c.session_present, "[MQTT-3.2.2-2] the session was kept");
    c.client.disconnect().await.unwrap();
    v4::ended(&mut c).await;

    // Clean Session 1 discards it and reports none [MQTT-3.2.2-1].
    let mut c = v4::connect(broker.addr, "resume4", |_| {}).await;
    assert!(!c.session_present);
    c.client.disconnect().await.unwrap();
    v4::ended(&mut c).await;
    let c = v4::connect(broker.addr, "resume4", persistent).await;
    assert!(!c.session_present, "the clean session ended at its close");
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_session_present_with_session_expiry() {
    let broker = Broker::start().await;
    let durable = |o: &mut v5::MqttOptions| {
        o.set_clean_start(false);
        o.set_session_expiry_interval(Some(60));
    };
    let mut c = v5::connect(broker.addr, "resume5", durable).await;
    assert!(!c.connack.session_present);
    c.client.disconnect().await.unwrap();
    v5::ended(&mut c).await;
    let c = v5::connect(broker.addr, "resume5", durable).await;
    assert!(c.connack.session_present, "[MQTT-3.2.2-2]");

    // With a Session Expiry Interval of 0 the session ends with the connection.
    let volatile = |o: &mut v5::MqttOptions| {
        o.set_clean_start(false);
    };
    let mut c = v5::connect(broker.addr, "volatile5", volatile).await;
    c.client.disconnect().await.unwrap();
    v5::ended(&mut c).await;
    let c = v5::connect(broker.addr, "volatile5", volatile).await;
    assert!(!c.connack.session_present);
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_session_ends_when_its_expiry_interval_elapses() {
    let broker = Broker::start().await;
    let durable = |id, secs| raw::Connect {
        client_id: id,
        clean: false,
        props: raw::p_u32(raw::SESSION_EXPIRY, secs),
        ..Default::default()
    };
    for (id, secs) in [("short", 1), ("long", 10)] {
        let (mut c, _) = raw::Conn::connected(broker.addr, &durable(id, secs)).await;
        c.send(&[0xE0, 0x00]).await;
        assert_eq!(c.rest().await, []);
    }
    sleep(Duration::from_millis(1600)).await;
    let (_a, connack) = raw::Conn::connected(broker.addr, &durable("short", 1)).await;
    assert_eq!(connack.body[..2], [0x00, 0x00], "expired after 1 s");
    let (_b, connack) = raw::Conn::connected(broker.addr, &durable("long", 10)).await;
    assert_eq!(connack.body[..2], [0x01, 0x00], "still there within 10 s");
    broker.shutdown().await;
}

#[tokio::test]
async fn second_connect_closes_the_connection() {
    let broker = Broker::start().await;
    // 3.1.1 [MQTT-3.1.0-2]: the close, with nothing sent.
    let hello4 = raw::Connect {
        level: 4,
        client_id: "twice4",
        ..Default::default()
    };
    let (mut c, connack) = raw::Conn::connected(broker.addr, &hello4).await;
    assert_eq!(connack.bytes(), [0x20, 0x02, 0x00, 0x00]);
    c.send(&raw::connect(&hello4)).await;
    assert_eq!(c.rest_bytes().await, [] as [u8; 0]);

    // 5.0: DISCONNECT 0x82 Protocol Error, then the close.
    let hello5 = raw::Connect {
        client_id: "twice5",
        ..Default::default()
    };
    let (mut c, _) = raw::Conn::connected(broker.addr, &hello5).await;
    c.send(&raw::connect(&hello5)).await;
    let rest = c.rest().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].disconnect_reason(), 0x82);
    broker.shutdown().await;
}

#[tokio::test]
async fn first_packet_not_connect_closes_the_connection() {
    let broker = Broker::start().await;
    let mut c = raw::Conn::open(broker.addr).await;
    c.send(&[0xC0, 0x00]).await; // PINGREQ
    assert_eq!(c.rest_bytes().await, [] as [u8; 0], "[MQTT-3.1.0-1]");

    let mut c = raw::Conn::open(broker.addr).await;
    // A 3.1.1 SUBSCRIBE to "a" at QoS 0.
    c.send(&[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00])
        .await;
    assert_eq!(c.rest_bytes().await, [] as [u8; 0], "[MQTT-3.1.0-1]");
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_keep_alive_is_the_clients_when_no_server_keep_alive_is_configured() {
    let broker = Broker::start().await;
    let (mut c, connack) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            client_id: "ka5",
            keep_alive: 1,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(connack.body[1], 0x00);
    assert_eq!(
        raw::property(&connack.connack_properties(), 0x13),
        None,
        "no Server Keep Alive"
    );
    // Activity resets the timer: a PINGREQ after 0.7 s is answered and the connection
    // lives on.
    sleep(Duration::from_millis(700)).await;
    c.send(&[0xC0, 0x00]).await;
    assert_eq!(c.expect().await.bytes(), [0xD0, 0x00]);
    let last = Instant::now();
    let rest = c.rest().await;
    let silent = last.elapsed();
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].disconnect_reason(), 0x8D, "Keep Alive timeout");
    assert!(
        silent >= Duration::from_millis(1400),
        "not before 1.5 x keep alive: {silent:?}"
    );
    assert!(
        silent <= Duration::from_millis(3500),
        "[MQTT-3.2.2-22] the client's value, within 1.5 x (with slack): {silent:?}"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn mqtt_3_1_client_is_served() {
    let broker = Broker::start().await;
    let connect = raw::Connect {
        level: 3,
        client_id: "old-timer",
        ..Default::default()
    };
    let (mut conn, connack) = raw::Conn::connected(broker.addr, &connect).await;
    assert_eq!(connack.bytes(), [0x20, 0x02, 0x00, 0x00]);
    conn.send(&[0xC0, 0x00]).await;
    assert_eq!(conn.expect().await.bytes(), [0xD0, 0x00], "PINGRESP");
    broker.shutdown().await;
}
