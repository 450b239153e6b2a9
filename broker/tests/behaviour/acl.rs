//! The ACL file against the real broker: SUBSCRIBE and PUBLISH refused with their reason codes
//! in 5.0 and 3.1.1 (rumqttc), `%u` and `%c`, first match wins, wills refused at CONNECT, the
//! publish rate limit (raw packets), and reloading the ACL and password files without dropping
//! connections.

use std::path::PathBuf;

use super::*;
use tern::auth::PasswordFile;
use tern::server::ReloadHandle;

/// A file under the temporary directory, unique to this test run.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("tern-behaviour-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

const RULES: &str = "\
# Users read the public tree; alice owns her home.
user alice
topic readwrite home/alice/#
topic read public/#

user bob
topic write public/#
topic write home/+/mailbox

# Devices: first match wins, so the secret stays out of reach.
all
topic deny devices/%c/secret
topic readwrite devices/%c/#
topic write wills/%u
topic read wills/#
";

async fn broker_with_acl(name: &str, rules: &str) -> (Broker, PathBuf) {
    let path = temp_file(name, rules);
    let mut config = test_config();
    config.auth.acl_file = Some(path.clone());
    (Broker::start_with(config).await, path)
}

#[tokio::test]
async fn v5_refusals_carry_0x87() {
    let (broker, path) = broker_with_acl("v5.acl", RULES).await;
    let mut alice = v5::connect(broker.addr, "alice-phone", |o| {
        o.set_credentials("alice", "");
    })
    .await;
    let mut bob = v5::connect(broker.addr, "bob-laptop", |o| {
        o.set_credentials("bob", "");
    })
    .await;
    use v5::{PubAckReason, PubRecReason, QoS, SubscribeReasonCode as S};

    // SUBSCRIBE: alice's home and the public tree, not all homes; bob reads nothing.
    let granted = v5::subscribe_filters(
        &mut alice,
        vec![
            v5::filter("home/alice/#", QoS::AtLeastOnce),
            v5::filter("public/+", QoS::AtLeastOnce),
            v5::filter("home/#", QoS::AtLeastOnce),
        ],
        None,
    )
    .await;
    assert_eq!(
        granted,
        [
            S::Success(QoS::AtLeastOnce),
            S::Success(QoS::AtLeastOnce),
            S::NotAuthorized
        ]
    );
    assert_eq!(
        v5::subscribe(&mut bob, "public/#", QoS::AtMostOnce).await,
        S::NotAuthorized
    );

    // PUBLISH: bob may write the public tree and alice's mailbox, not the rest of her home.
    bob.client
        .publish("home/alice/lamp", QoS::AtLeastOnce, false, "off")
        .await
        .unwrap();
    assert_eq!(v5::puback(&mut bob).await, PubAckReason::NotAuthorized);
    bob.client
        .publish("home/alice/lamp", QoS::ExactlyOnce, false, "off")
        .await
        .unwrap();
    assert_eq!(v5::pubrec(&mut bob).await, PubRecReason::NotAuthorized);
    bob.client
        .publish("home/alice/lamp", QoS::AtMostOnce, false, "off")
        .await
        .unwrap();
    bob.client
        .publish("public/news", QoS::AtLeastOnce, false, "hello")
        .await
        .unwrap();
    assert_eq!(v5::puback(&mut bob).await, PubAckReason::Success);
    bob.client
        .publish("home/alice/mailbox", QoS::AtLeastOnce, false, "a letter")
        .await
        .unwrap();
    assert_eq!(v5::puback(&mut bob).await, PubAckReason::Success);

    // alice got exactly the two allowed messages, in order (the refused QoS 0 one included
    // nowhere), and her own write to her home comes back to her.
    alice
        .client
        .publish("home/alice/done", QoS::AtMostOnce, false, "")
        .await
        .unwrap();
    let got = v5::collect_until(&mut alice, "home/alice/done").await;
    assert_eq!(v5::topics(&got), ["public/news", "home/alice/mailbox"]);
    broker.shutdown().await;
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn v311_refusals_and_placeholders() {
    let (broker, path) = broker_with_acl("v4.acl", RULES).await;
    use v4::{QoS, SubscribeReasonCode as S};
    let mut d1 = v4::connect(broker.addr, "d1", |_| {}).await;
    // %c: the device's own tree; the first matching rule hides its secret.
    assert_eq!(
        v4::subscribe(&mut d1, "devices/d1/#", QoS::AtLeastOnce).await,
        S::Failure
    );
    assert_eq!(
        v4::subscribe(&mut d1, "devices/d1/+/state", QoS::AtLeastOnce).await,
        S::Success(QoS::AtLeastOnce)
    );
    assert_eq!(
        v4::subscribe(&mut d1, "devices/d2/+/state", QoS::AtLeastOnce).await,
        S::Failure
    );
    // A refused PUBLISH gets its normal PUBACK in 3.1.1 [MQTT-3.3.5-2] and goes nowhere; the
    // connection stays.
    let mut d2 = v4::connect(broker.addr, "d2", |_| {}).await;
    d2.client
        .publish("devices/d1/lamp/state", QoS::AtLeastOnce, false, "forged")
        .await
        .unwrap();
    v4::wait_for(&mut d2, "PUBACK", |p| {
        matches!(p, v4::Packet::PubAck(_)).then_some(())
    })
    .await;
    d1.client
        .publish("devices/d1/lamp/state", QoS::AtLeastOnce, false, "real")
        .await
        .unwrap();
    let p = v4::next_publish(&mut d1).await;
    assert_eq!(&p.payload[..], b"real", "the forged message was dropped");
    // The secret: refused by the first rule even though the second would allow it.
    d1.client
        .publish("devices/d1/secret", QoS::AtLeastOnce, false, "x")
        .await
        .unwrap();
    v4::wait_for(&mut d1, "PUBACK", |p| {
        matches!(p, v4::Packet::PubAck(_)).then_some(())
    })
    .await;
    broker.shutdown().await;
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn a_will_to_a_forbidden_topic_refuses_the_connect() {
    let (broker, path) = broker_with_acl("will.acl", RULES).await;
    let refused = v5::try_connect(broker.addr, "w5", |o| {
        o.set_credentials("carol", "");
        o.set_last_will(v5::LastWill::new(
            "wills/alice",
            "gone",
            v5::QoS::AtMostOnce,
            false,
            None,
        ));
    })
    .await;
    v5::expect_refused(refused, v5::ConnectReturnCode::NotAuthorized);
    match v4::try_connect(broker.addr, "w4", |o| {
        o.set_credentials("carol", "");
        o.set_last_will(v4::LastWill::new(
            "wills/alice",
            "gone",
            v4::QoS::AtMostOnce,
            false,
        ));
    })
    .await
    {
        Err(v4::ConnectionError::ConnectionRefused(code)) => {
            assert_eq!(code, rumqttc::ConnectReturnCode::NotAuthorized)
        }
        other => panic!("expected CONNACK 0x05, got {:?}", other.map(|_| ())),
    }
    // Her own will topic is fine, and is published when she goes.
    let mut watcher = v5::connect(broker.addr, "watcher", |_| {}).await;
    v5::subscribe(&mut watcher, "wills/#", v5::QoS::AtMostOnce).await;
    let carol = v5::connect(broker.addr, "w5", |o| {
        o.set_credentials("carol", "");
        o.set_last_will(v5::LastWill::new(
            "wills/carol",
            "gone",
            v5::QoS::AtMostOnce,
            false,
            None,
        ));
    })
    .await;
    carol.task.abort();
    drop(carol);
    let will = v5::next_publish(&mut watcher).await;
    assert_eq!(v5::topic(&will), "wills/carol");
    broker.shutdown().await;
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn publishing_too_fast_is_disconnected_with_0x96() {
    let mut config = test_config();
    config.limits.max_publish_rate = 5;
    let broker = Broker::start_with(config).await;
    let burst = |v5: bool| {
        (0..10)
            .flat_map(|_| {
                raw::publish(&raw::Publish {
                    v5,
                    topic: "rate/t",
                    payload: b"x",
                    ..Default::default()
                })
            })
            .collect::<Vec<u8>>()
    };
    let (mut c, _) = raw::Conn::connected(broker.addr, &raw::Connect::default()).await;
    c.send(&burst(true)).await;
    let rest = c.rest().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].disconnect_reason(), 0x96, "Message rate too high");
    // 3.1.1 is closed without a word.
    let v311 = raw::Connect {
        level: 4,
        client_id: "old",
        ..Default::default()
    };
    let (mut c, _) = raw::Conn::connected(broker.addr, &v311).await;
    c.send(&burst(false)).await;
    assert_eq!(c.rest().await, []);
    // Others are untouched.
    let (mut ok, _) = raw::Conn::connected(
        broker.addr,
        &raw::Connect {
            client_id: "calm",
            ..Default::default()
        },
    )
    .await;
    ok.send(&raw::frame(0xC0, &[])).await;
    assert_eq!(ok.expect().await.header, 0xD0, "PINGRESP");
    broker.shutdown().await;
}

/// A broker with a password file and an ACL, and the handle that reloads them.
async fn reloadable(name: &str, rules: &str) -> (SocketAddr, ReloadHandle, Broker, [PathBuf; 2]) {
    let acl = temp_file(&format!("{name}.acl"), rules);
    let mut passwords = PasswordFile::default();
    passwords.set_password("alice", b"secret", 4096).unwrap();
    let passwd = temp_file(&format!("{name}.passwd"), "");
    passwords.save(&passwd).unwrap();
    let mut config = test_config();
    config.auth.acl_file = Some(acl.clone());
    config.auth.password_file = Some(passwd.clone());
    config.auth.failed_login_delay_ms = 0;
    config.validate().unwrap();
    let server = tern::wiring::bind(crate::common::in_memory(config))
        .await
        .unwrap();
    let addr = server.local_addrs()[0];
    let reload = server.reload_handle();
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let broker = Broker {
        addr,
        stop: Some(stop),
        handle,
    };
    (addr, reload, broker, [acl, passwd])
}

#[tokio::test]
async fn reloading_applies_new_rules_and_users_without_dropping_anyone() {
    let (addr, reload, broker, [acl, passwd]) =
        reloadable("reload", "user alice\ntopic readwrite a/#\n").await;
    let mut alice = v5::connect(addr, "alice", |o| {
        o.set_credentials("alice", "secret");
    })
    .await;
    use v5::{QoS, SubscribeReasonCode as S};
    assert_eq!(
        v5::subscribe(&mut alice, "a/#", QoS::AtMostOnce).await,
        S::Success(QoS::AtMostOnce)
    );
    // New rules: alice may now use b/, and no longer a/; bob joins the password file.
    std::fs::write(&acl, "user alice\ntopic readwrite b/#\ntopic write a/#\n").unwrap();
    let mut file = PasswordFile::load(&passwd).unwrap();
    file.set_password("bob", b"hunter2", 4096).unwrap();
    file.save(&passwd).unwrap();
    reload.reload();
    // The reload is asynchronous: retry, within a bound, until the new rules answer.
    let deadline = Instant::now() + WAIT;
    while v5::subscribe(&mut alice, "b/x", QoS::AtMostOnce).await != S::Success(QoS::AtMostOnce) {
        assert!(
            Instant::now() < deadline,
            "the new ACL was not loaded in time"
        );
        sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        v5::subscribe(&mut alice, "a/x", QoS::AtMostOnce).await,
        S::NotAuthorized
    );
    // The old subscription still delivers: alice was not dropped.
    alice
        .client
        .publish("a/still", QoS::AtMostOnce, false, "here")
        .await
        .unwrap();
    assert_eq!(v5::topic(&v5::next_publish(&mut alice).await), "a/still");
    // bob can log in now.
    let bob = v5::try_connect(addr, "bob", |o| {
        o.set_credentials("bob", "hunter2");
    })
    .await;
    assert!(bob.is_ok(), "bob was not let in after the reload");
    // A broken file keeps the rules as they were.
    std::fs::write(&acl, "topic sometimes x\n").unwrap();
    reload.reload();
    sleep(Duration::from_millis(200)).await;
    assert_eq!(
        v5::subscribe(&mut alice, "b/y", QoS::AtMostOnce).await,
        S::Success(QoS::AtMostOnce)
    );
    broker.shutdown().await;
    std::fs::remove_file(acl).ok();
    std::fs::remove_file(passwd).ok();
}
