//! Wills on session takeover, with Clean Start 0 and 1.

use super::*;

/// Connects "tw-{name}" with a will delayed 1 s, takes it over with `clean`, and returns
/// the watcher, the time of the takeover and the new connection.
async fn taken_over(
    addr: SocketAddr,
    id: &'static str,
    clean: bool,
) -> (v4::Client, Instant, raw::Conn) {
    let mut w = v4::connect(addr, "watcher", |_| {}).await;
    v4::subscribe(&mut w, "will/#", v4::QoS::AtLeastOnce).await;
    v4::subscribe(&mut w, "end/watcher", v4::QoS::AtMostOnce).await;
    let (mut first, _) = raw::Conn::connected(
        addr,
        &raw::Connect {
            client_id: id,
            props: raw::p_u32(raw::SESSION_EXPIRY, 10),
            will: Some(raw::Will {
                props: raw::p_u32(raw::WILL_DELAY, 1),
                topic: "will/tw",
                payload: b"gone",
                qos: 1,
                retain: false,
            }),
            ..Default::default()
        },
    )
    .await;
    let (second, connack) = raw::Conn::connected(
        addr,
        &raw::Connect {
            client_id: id,
            clean,
            props: raw::p_u32(raw::SESSION_EXPIRY, 10),
            ..Default::default()
        },
    )
    .await;
    let at = Instant::now();
    assert_eq!(connack.body[..2], [u8::from(!clean), 0x00]);
    let rest = first.rest().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].disconnect_reason(), 0x8E, "[MQTT-3.1.4-3]");
    (w, at, second)
}

#[tokio::test]
async fn takeover_with_clean_start_0_keeps_a_delayed_will_back() {
    let broker = Broker::start().await;
    let (mut w, _, _second) = taken_over(broker.addr, "tw-keep", false).await;
    sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        v4::topics(&v4::settle(&mut w, "end/watcher").await),
        [] as [&str; 0],
        "§3.1.3.2.2: Clean Start 0 and a Will Delay: no will"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn takeover_with_clean_start_1_sends_a_delayed_will_at_once() {
    let broker = Broker::start().await;
    let (mut w, at, _second) = taken_over(broker.addr, "tw-clean", true).await;
    let will = v4::next_publish(&mut w).await;
    assert_eq!(will.topic, "will/tw");
    assert!(
        at.elapsed() < Duration::from_millis(900),
        "§3.1.3.2.2: Clean Start 1 ends the session, so the will goes now: {:?}",
        at.elapsed()
    );
    broker.shutdown().await;
}
