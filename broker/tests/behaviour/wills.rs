//! Wills: abrupt close, DISCONNECT 0x00 and 0x04, Will Retain, Will Delay.

use super::*;

async fn watcher(addr: SocketAddr) -> v4::Client {
    let mut w = v4::connect(addr, "watcher", |_| {}).await;
    v4::subscribe(&mut w, "will/#", v4::QoS::AtLeastOnce).await;
    v4::subscribe(&mut w, "end/watcher", v4::QoS::AtMostOnce).await;
    w
}

fn will_raw(topic: &'static str, delay: Option<u32>) -> raw::Will {
    raw::Will {
        props: delay
            .map(|d| raw::p_u32(raw::WILL_DELAY, d))
            .unwrap_or_default(),
        topic,
        payload: b"gone",
        qos: 1,
        retain: false,
    }
}

#[tokio::test]
async fn v5_will_with_its_properties_is_published_on_an_abrupt_close() {
    use v5::{LastWill, LastWillProperties, QoS};
    let broker = Broker::start().await;
    let mut w = v5::connect(broker.addr, "watcher5", |_| {}).await;
    v5::subscribe(&mut w, "will/#", QoS::AtLeastOnce).await;
    let user_properties = vec![("a".to_string(), "1".to_string()), ("b".into(), "2".into())];
    let props = LastWillProperties {
        delay_interval: None,
        payload_format_indicator: None,
        message_expiry_interval: None,
        content_type: Some("text/plain".into()),
        response_topic: None,
        correlation_data: None,
        user_properties: user_properties.clone(),
    };
    let doomed = v5::connect(broker.addr, "doomed", |o| {
        o.set_last_will(LastWill::new(
            "will/doomed",
            "offline",
            QoS::AtLeastOnce,
            false,
            Some(props),
        ));
    })
    .await;
    doomed.task.abort(); // Drops the socket without DISCONNECT.
    let will = v5::next_publish(&mut w).await;
    assert_eq!(
        (v5::topic(&will), &will.payload[..], will.qos),
        ("will/doomed", &b"offline"[..], QoS::AtLeastOnce)
    );
    let p = v5::props(&will);
    assert_eq!(p.content_type.as_deref(), Some("text/plain"));
    assert_eq!(p.user_properties, user_properties, "[MQTT-3.1.3-10]");
    broker.shutdown().await;
}

#[tokio::test]
async fn will_is_discarded_after_disconnect_0x00() {
    let broker = Broker::start().await;
    let mut w = watcher(broker.addr).await;
    let mut d4 = v4::connect(broker.addr, "d4", |o| {
        o.set_last_will(v4::LastWill::new(
            "will/d4",
            "gone",
            v4::QoS::AtLeastOnce,
            false,
        ));
    })
    .await;
    let mut d5 = v5::connect(broker.addr, "d5", |o| {
        o.set_last_will(v5::LastWill::new(
            "will/d5",
            "gone",
            v5::QoS::AtLeastOnce,
            false,
            None,
        ));
    })
    .await;
    d4.client.disconnect().await.unwrap();
    d5.client.disconnect().await.unwrap();
    // The broker closes each connection once it has handled its DISCONNECT.
    v4::ended(&mut d4).await;
    v5::ended(&mut d5).await;
    assert_eq!(
        v4::topics(&v4::settle(&mut w, "end/watcher").await),
        [] as [&str; 0],
        "[MQTT-3.14.4-3] (3.1.1 [MQTT-3.1.2-10])"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn will_is_published_after_disconnect_0x04() {
    let broker = Broker::start().await;
    let mut w = watcher(broker.addr).await;
    let (mut c, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            client_id: "with-will",
            will: Some(will_raw("will/04", None)),
            ..Default::default()
        },
    )
    .await;
    c.send(&[0xE0, 0x02, 0x04, 0x00]).await;
    assert_eq!(c.rest().await, [], "closed, nothing sent");
    let will = v4::next_publish(&mut w).await;
    assert_eq!(
        (will.topic.as_str(), &will.payload[..]),
        ("will/04", &b"gone"[..])
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn will_retain_flag_is_honoured() {
    let broker = Broker::start().await;
    let mut w = watcher(broker.addr).await;
    let doomed = v4::connect(broker.addr, "doomed", |o| {
        o.set_last_will(v4::LastWill::new(
            "will/kept",
            "last words",
            v4::QoS::AtLeastOnce,
            true,
        ));
    })
    .await;
    doomed.task.abort();
    let live = v4::next_publish(&mut w).await;
    assert_eq!(&live.payload[..], b"last words");
    assert!(
        !live.retain,
        "3.1.1 [MQTT-3.3.1-9] to an established subscription"
    );
    let mut late = v4::connect(broker.addr, "late", |_| {}).await;
    v4::subscribe(&mut late, "will/kept", v4::QoS::AtLeastOnce).await;
    let kept = v4::next_publish(&mut late).await;
    assert!(
        kept.retain,
        "3.1.1 [MQTT-3.1.2-17] (5.0 [MQTT-3.1.2-15]) retained"
    );
    assert_eq!(&kept.payload[..], b"last words");
    broker.shutdown().await;
}

#[tokio::test]
async fn will_delay_is_cancelled_by_a_reconnect() {
    let broker = Broker::start().await;
    let mut w = watcher(broker.addr).await;
    let (c, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            client_id: "wd-cancel",
            props: raw::p_u32(raw::SESSION_EXPIRY, 10),
            will: Some(will_raw("will/cancel", Some(1))),
            ..Default::default()
        },
    )
    .await;
    drop(c);
    sleep(Duration::from_millis(200)).await;
    let (_back, connack) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            client_id: "wd-cancel",
            clean: false,
            props: raw::p_u32(raw::SESSION_EXPIRY, 10),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(connack.body[..2], [0x01, 0x00], "session present");
    sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        v4::topics(&v4::settle(&mut w, "end/watcher").await),
        [] as [&str; 0],
        "[MQTT-3.1.3-9] no will after a reconnect within the delay"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn will_delay_elapses_without_a_reconnect() {
    let broker = Broker::start().await;
    let mut w = watcher(broker.addr).await;
    let (c, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            client_id: "wd-fire",
            props: raw::p_u32(raw::SESSION_EXPIRY, 10),
            will: Some(will_raw("will/fire", Some(1))),
            ..Default::default()
        },
    )
    .await;
    let closed = Instant::now();
    drop(c);
    let will = v4::next_publish(&mut w).await;
    let after = closed.elapsed();
    assert_eq!(will.topic, "will/fire");
    assert!(
        after >= Duration::from_millis(900),
        "[MQTT-3.1.2-8] not before the Will Delay Interval: {after:?}"
    );
    assert!(after <= Duration::from_secs(3), "soon after it: {after:?}");
    broker.shutdown().await;
}

#[tokio::test]
async fn will_delay_longer_than_the_session_is_cut_short_by_its_end() {
    let broker = Broker::start().await;
    let mut w = watcher(broker.addr).await;
    let (c, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            client_id: "wd-end",
            will: Some(will_raw("will/end", Some(30))),
            ..Default::default()
        },
    )
    .await;
    let closed = Instant::now();
    drop(c);
    let will = v4::next_publish(&mut w).await;
    assert_eq!(will.topic, "will/end");
    assert!(
        closed.elapsed() < Duration::from_secs(2),
        "[MQTT-3.1.2-8] published when the session ends (expiry 0), before the delay"
    );
    broker.shutdown().await;
}
