//! SUBSCRIBE and UNSUBSCRIBE: wildcards, `$` topics, overlapping subscriptions, No Local,
//! Retain As Published, Retain Handling, identifiers, shared subscriptions.

use super::*;

/// Subscribes one v4 client per filter, publishes `topics` at QoS 0 from one publisher,
/// and returns what each filter received (sentinels left out).
async fn routed(addr: SocketAddr, filters: &[&str], topics: &[&str]) -> Vec<Vec<String>> {
    use v4::QoS;
    let mut subs = Vec::new();
    for (i, filter) in filters.iter().enumerate() {
        let mut c = v4::connect(addr, &format!("sub{i}"), |_| {}).await;
        v4::subscribe(&mut c, filter, QoS::AtMostOnce).await;
        v4::subscribe(&mut c, &format!("end/{i}"), QoS::AtMostOnce).await;
        subs.push(c);
    }
    let publisher = v4::connect(addr, "pub", |_| {}).await;
    for topic in topics {
        publisher
            .client
            .publish(*topic, QoS::AtMostOnce, false, "x")
            .await
            .unwrap();
    }
    for i in 0..filters.len() {
        publisher
            .client
            .publish(format!("end/{i}"), QoS::AtMostOnce, false, "")
            .await
            .unwrap();
    }
    let mut out = Vec::new();
    for (i, c) in subs.iter_mut().enumerate() {
        let got = v4::collect_until(c, &format!("end/{i}")).await;
        out.push(
            got.into_iter()
                .map(|p| p.topic)
                .filter(|t| !t.starts_with("end/"))
                .collect(),
        );
    }
    out
}

#[tokio::test]
async fn single_and_multi_level_wildcards() {
    let broker = Broker::start().await;
    let topics = ["w", "w/a", "w/a/c", "w/a/b/c", "w//c", "x/a/c", "w/"];
    let got = routed(
        broker.addr,
        &["w/+/c", "w/#", "w/+", "+/+/c", "+", "w/a/c"],
        &topics,
    )
    .await;
    assert_eq!(got[0], ["w/a/c", "w//c"], "w/+/c");
    assert_eq!(
        got[1],
        ["w", "w/a", "w/a/c", "w/a/b/c", "w//c", "w/"],
        "w/# matches its parent too (section 4.7.1.2)"
    );
    assert_eq!(got[2], ["w/a", "w/"], "w/+ (an empty level is a level)");
    assert_eq!(got[3], ["w/a/c", "w//c", "x/a/c"], "+/+/c");
    assert_eq!(got[4], ["w"], "+");
    assert_eq!(got[5], ["w/a/c"], "no wildcard");
    broker.shutdown().await;
}

#[tokio::test]
async fn dollar_topics_are_not_matched_by_leading_wildcards() {
    let broker = Broker::start().await;
    let got = routed(
        broker.addr,
        &["#", "+/x", "$SYS/#", "+/+"],
        &["$SYS/x", "$app/x", "a/x"],
    )
    .await;
    assert_eq!(got[0], ["a/x"], "[MQTT-4.7.2-1] # skips $ topics");
    assert_eq!(got[1], ["a/x"], "[MQTT-4.7.2-1] +/x skips $ topics");
    // (Beside the broker's own statistics, published under $SYS/broker/.)
    let own: Vec<&String> = got[2]
        .iter()
        .filter(|t| !t.starts_with("$SYS/broker/"))
        .collect();
    assert_eq!(own, ["$SYS/x"], "an explicit $SYS/# matches");
    assert_eq!(got[3], ["a/x"], "+/+ skips $ topics");
    broker.shutdown().await;
}

#[tokio::test]
async fn overlapping_subscriptions_give_one_copy_at_the_highest_qos_with_every_identifier() {
    use v5::QoS;
    let broker = Broker::start().await;
    let mut sub = v5::connect(broker.addr, "sub", |_| {}).await;
    v5::subscribe_filters(&mut sub, vec![v5::filter("ov/#", QoS::AtMostOnce)], Some(1)).await;
    v5::subscribe_filters(
        &mut sub,
        vec![v5::filter("ov/+", QoS::AtLeastOnce)],
        Some(2),
    )
    .await;
    v5::subscribe_filters(&mut sub, vec![v5::filter("ov/a", QoS::AtMostOnce)], None).await;
    v5::subscribe(&mut sub, "end/sub", QoS::AtMostOnce).await;
    let publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    publisher
        .client
        .publish("ov/a", QoS::ExactlyOnce, false, "a")
        .await
        .unwrap();
    publisher
        .client
        .publish("ov/a/b", QoS::ExactlyOnce, false, "ab")
        .await
        .unwrap();
    publisher
        .client
        .publish("end/sub", QoS::AtMostOnce, false, "")
        .await
        .unwrap();
    let got = v5::collect_until(&mut sub, "end/sub").await;
    assert_eq!(v5::topics(&got), ["ov/a", "ov/a/b"], "one copy each");
    assert_eq!(
        got[0].qos,
        QoS::AtLeastOnce,
        "[MQTT-3.3.4-2] the highest QoS"
    );
    let mut ids = v5::props(&got[0]).subscription_identifiers;
    ids.sort();
    assert_eq!(ids, [1, 2], "[MQTT-3.3.4-4] every identifier");
    assert_eq!(got[1].qos, QoS::AtMostOnce);
    assert_eq!(v5::props(&got[1]).subscription_identifiers, [1]);
    broker.shutdown().await;
}

#[tokio::test]
async fn no_local_skips_only_the_publishers_own_messages() {
    use v5::QoS;
    let broker = Broker::start().await;
    let mut me = v5::connect(broker.addr, "me", |_| {}).await;
    let nl = v5::Filter {
        nolocal: true,
        ..v5::filter("nl/t", QoS::AtLeastOnce)
    };
    v5::subscribe_filters(&mut me, vec![nl], None).await;
    v5::subscribe(&mut me, "end/me", QoS::AtMostOnce).await;
    me.client
        .publish("nl/t", QoS::AtLeastOnce, false, "mine")
        .await
        .unwrap();
    assert_eq!(
        v5::settle(&mut me, "end/me").await.len(),
        0,
        "[MQTT-3.8.3-3] not sent back to its publisher"
    );

    let other = v5::connect(broker.addr, "other", |_| {}).await;
    other
        .client
        .publish("nl/t", QoS::AtLeastOnce, false, "theirs")
        .await
        .unwrap();
    other
        .client
        .publish("end/me", QoS::AtMostOnce, false, "")
        .await
        .unwrap();
    let got = v5::collect_until(&mut me, "end/me").await;
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0].payload[..], b"theirs");
    broker.shutdown().await;
}

#[tokio::test]
async fn retain_as_published() {
    use v5::QoS;
    let broker = Broker::start().await;
    let mut keep = v5::connect(broker.addr, "keep", |_| {}).await;
    let rap = v5::Filter {
        preserve_retain: true,
        ..v5::filter("rap/t", QoS::AtLeastOnce)
    };
    v5::subscribe_filters(&mut keep, vec![rap], None).await;
    let mut clear = v5::connect(broker.addr, "clear", |_| {}).await;
    v5::subscribe(&mut clear, "rap/t", QoS::AtLeastOnce).await;
    let publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    publisher
        .client
        .publish("rap/t", QoS::AtLeastOnce, true, "retained")
        .await
        .unwrap();
    publisher
        .client
        .publish("rap/t", QoS::AtLeastOnce, false, "plain")
        .await
        .unwrap();
    let flags = |ps: [v5::Publish; 2]| ps.map(|p| p.retain);
    let k = [
        v5::next_publish(&mut keep).await,
        v5::next_publish(&mut keep).await,
    ];
    let c = [
        v5::next_publish(&mut clear).await,
        v5::next_publish(&mut clear).await,
    ];
    assert_eq!(
        flags(k),
        [true, false],
        "[MQTT-3.3.1-13] RETAIN as published"
    );
    assert_eq!(flags(c), [false, false], "[MQTT-3.3.1-12] RETAIN 0");
    broker.shutdown().await;
}

#[tokio::test]
async fn retain_handling_0_1_2() {
    use v5::{QoS, RetainForwardRule};
    let broker = Broker::start().await;
    let mut publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    publisher
        .client
        .publish("rh/t", QoS::AtLeastOnce, true, "kept")
        .await
        .unwrap();
    v5::puback(&mut publisher).await;

    // How many retained messages each SUBSCRIBE of "rh/t" with `rule` brings.
    async fn rounds(addr: SocketAddr, name: &str, rule: RetainForwardRule) -> [usize; 2] {
        let mut c = v5::connect(addr, name, |_| {}).await;
        let end = format!("end/{name}");
        v5::subscribe(&mut c, &end, QoS::AtMostOnce).await;
        let mut out = [0; 2];
        for n in &mut out {
            let f = v5::Filter {
                retain_forward_rule: rule.clone(),
                ..v5::filter("rh/t", QoS::AtLeastOnce)
            };
            v5::subscribe_filters(&mut c, vec![f], None).await;
            let got = v5::settle(&mut c, &end).await;
            assert!(got.iter().all(|p| p.retain && &p.payload[..] == b"kept"));
            *n = got.len();
        }
        out
    }
    assert_eq!(
        rounds(broker.addr, "rh0", RetainForwardRule::OnEverySubscribe).await,
        [1, 1],
        "[MQTT-3.3.1-9] [MQTT-3.8.4-4] 0: at every subscribe"
    );
    assert_eq!(
        rounds(broker.addr, "rh1", RetainForwardRule::OnNewSubscribe).await,
        [1, 0],
        "[MQTT-3.3.1-10] 1: only for a new subscription"
    );
    assert_eq!(
        rounds(broker.addr, "rh2", RetainForwardRule::Never).await,
        [0, 0],
        "[MQTT-3.3.1-11] 2: never"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn subscription_identifiers_follow_the_subscription() {
    use v5::QoS;
    let broker = Broker::start().await;
    let mut publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    publisher
        .client
        .publish("si/t", QoS::AtLeastOnce, true, "retained")
        .await
        .unwrap();
    v5::puback(&mut publisher).await;

    let mut sub = v5::connect(broker.addr, "sub", |_| {}).await;
    v5::subscribe_filters(
        &mut sub,
        vec![v5::filter("si/t", QoS::AtLeastOnce)],
        Some(7),
    )
    .await;
    let retained = v5::next_publish(&mut sub).await;
    assert!(retained.retain);
    assert_eq!(
        v5::props(&retained).subscription_identifiers,
        [7],
        "retained messages carry the identifier too"
    );
    /// Publishes one live message and returns the identifiers it arrives with.
    async fn ids_now(publisher: &v5::Client, sub: &mut v5::Client) -> Vec<usize> {
        publisher
            .client
            .publish("si/t", QoS::AtLeastOnce, false, "live")
            .await
            .unwrap();
        v5::props(&v5::next_publish(sub).await).subscription_identifiers
    }
    assert_eq!(ids_now(&publisher, &mut sub).await, [7], "[MQTT-3.3.4-3]");
    let none = v5::Filter {
        retain_forward_rule: v5::RetainForwardRule::Never,
        ..v5::filter("si/t", QoS::AtLeastOnce)
    };
    v5::subscribe_filters(&mut sub, vec![none.clone()], Some(9)).await;
    assert_eq!(
        ids_now(&publisher, &mut sub).await,
        [9],
        "the replacing subscription's"
    );
    v5::subscribe_filters(&mut sub, vec![none], None).await;
    assert_eq!(
        ids_now(&publisher, &mut sub).await,
        [] as [usize; 0],
        "a replacement without one has none"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn shared_subscription_with_a_v4_and_a_v5_member_delivers_each_message_once() {
    let broker = Broker::start().await;
    let mut m4 = v4::connect(broker.addr, "m4", |_| {}).await;
    assert_eq!(
        v4::subscribe(&mut m4, "$share/g/sh/t", v4::QoS::AtLeastOnce).await,
        v4::SubscribeReasonCode::Success(v4::QoS::AtLeastOnce)
    );
    v4::subscribe(&mut m4, "end/m4", v4::QoS::AtLeastOnce).await;
    let mut m5 = v5::connect(broker.addr, "m5", |_| {}).await;
    assert_eq!(
        v5::subscribe(&mut m5, "$share/g/sh/t", v5::QoS::AtLeastOnce).await,
        v5::SubscribeReasonCode::Success(v5::QoS::AtLeastOnce)
    );
    v5::subscribe(&mut m5, "end/m5", v5::QoS::AtLeastOnce).await;

    let publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    let n = 10u8;
    for i in 0..n {
        publisher
            .client
            .publish("sh/t", v5::QoS::AtLeastOnce, false, vec![i])
            .await
            .unwrap();
    }
    for end in ["end/m4", "end/m5"] {
        publisher
            .client
            .publish(end, v5::QoS::AtLeastOnce, false, "")
            .await
            .unwrap();
    }
    let got4: Vec<u8> = v4::collect_until(&mut m4, "end/m4")
        .await
        .iter()
        .map(|p| p.payload[0])
        .collect();
    let got5: Vec<u8> = v5::collect_until(&mut m5, "end/m5")
        .await
        .iter()
        .map(|p| p.payload[0])
        .collect();
    let mut all: Vec<u8> = got4.iter().chain(&got5).copied().collect();
    all.sort();
    assert_eq!(
        all,
        (0..n).collect::<Vec<_>>(),
        "each message to exactly one member (section 4.8.2): v4 {got4:?}, v5 {got5:?}"
    );
    assert!(
        !got4.is_empty() && !got5.is_empty(),
        "round-robin, as the README says: v4 {got4:?}, v5 {got5:?}"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn shared_subscription_gets_no_retained_messages() {
    use v5::QoS;
    let broker = Broker::start().await;
    let mut publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    publisher
        .client
        .publish("shr/t", QoS::AtLeastOnce, true, "kept")
        .await
        .unwrap();
    v5::puback(&mut publisher).await;
    let mut m = v5::connect(broker.addr, "m", |_| {}).await;
    v5::subscribe(&mut m, "end/m", QoS::AtMostOnce).await;
    v5::subscribe(&mut m, "$share/g/shr/t", QoS::AtLeastOnce).await;
    assert_eq!(
        v5::settle(&mut m, "end/m").await.len(),
        0,
        "§3.8.4: no retained messages for a shared subscription"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn unsubscribe_stops_delivery_and_unknown_filters_get_0x11() {
    use v5::{QoS, UnsubAckReason};
    let broker = Broker::start().await;
    let mut sub = v5::connect(broker.addr, "sub5", |_| {}).await;
    v5::subscribe(&mut sub, "us/t", QoS::AtLeastOnce).await;
    v5::subscribe(&mut sub, "end/sub5", QoS::AtMostOnce).await;
    let mut sub4 = v4::connect(broker.addr, "sub4", |_| {}).await;
    v4::subscribe(&mut sub4, "us/t", v4::QoS::AtLeastOnce).await;
    v4::subscribe(&mut sub4, "end/sub4", v4::QoS::AtMostOnce).await;
    let publisher = v5::connect(broker.addr, "pub", |_| {}).await;
    publisher
        .client
        .publish("us/t", QoS::AtLeastOnce, false, "before")
        .await
        .unwrap();
    assert_eq!(&v5::next_publish(&mut sub).await.payload[..], b"before");
    assert_eq!(&v4::next_publish(&mut sub4).await.payload[..], b"before");

    assert_eq!(
        v5::unsubscribe(&mut sub, "us/t").await,
        [UnsubAckReason::Success]
    );
    sub4.client.unsubscribe("us/t").await.unwrap();
    v4::wait_for(&mut sub4, "UNSUBACK", |p| {
        matches!(p, v4::Packet::UnsubAck(_)).then_some(())
    })
    .await;
    publisher
        .client
        .publish("us/t", QoS::AtLeastOnce, false, "after")
        .await
        .unwrap();
    for end in ["end/sub5", "end/sub4"] {
        publisher
            .client
            .publish(end, QoS::AtMostOnce, false, "")
            .await
            .unwrap();
    }
    assert_eq!(v5::collect_until(&mut sub, "end/sub5").await.len(), 0);
    assert_eq!(v4::collect_until(&mut sub4, "end/sub4").await.len(), 0);
    assert_eq!(
        v5::unsubscribe(&mut sub, "never/subscribed").await,
        [UnsubAckReason::NoSubscriptionExisted],
        "0x11 No subscription existed"
    );
    broker.shutdown().await;
}
