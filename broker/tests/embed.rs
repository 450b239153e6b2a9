//! Tern as a library (`tern::embed`): a broker in the test's own runtime, in-process clients
//! talking with each other and with a network client, at every QoS; the login applies to
//! them; statistics; a graceful stop that in-process clients hear about.

mod common;

use std::time::{Duration, Instant};

use common::{publish, Client, WAIT};
use tern::codec::{Packet, QoS, ReasonCode};
use tern::config::{Config, Listener};
use tern::embed::{Broker, ClientError, ClientOptions, Message};
use tokio::time::timeout;

/// A broker with one MQTT listener on an ephemeral loopback port, nothing kept, no HTTP and
/// no gRPC.
async fn broker(edit: impl FnOnce(&mut Config)) -> Broker {
    let mut config = common::in_memory(Config::default());
    config.listeners = vec![Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Listener::default()
    }];
    config.auth.failed_login_delay_ms = 0;
    edit(&mut config);
    Broker::start(config).await.expect("the broker starts")
}

#[tokio::test]
async fn in_process_clients_exchange_messages_at_every_qos() {
    let broker = broker(|_| {}).await;
    let (subscriber, mut deliveries, connected) =
        broker.connect(ClientOptions::default()).await.unwrap();
    assert!(
        !connected.client_id.is_empty(),
        "the broker assigned an identifier"
    );
    let granted = subscriber
        .subscribe(&[("a/#", QoS::ExactlyOnce)])
        .await
        .unwrap();
    assert_eq!(granted, [ReasonCode(2)]);

    let (publisher, _, _) = broker.connect(ClientOptions::default()).await.unwrap();
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let mut message = Message::new("a/b", format!("q{}", qos as u8)).with_qos(qos);
        message.properties.user_properties = vec![("k".into(), "v".into())];
        let code = publisher.publish(&message).await.unwrap();
        assert_eq!(code, ReasonCode::SUCCESS);
        let got = timeout(WAIT, deliveries.recv()).await.unwrap().unwrap();
        assert_eq!(got.message.payload, message.payload);
        assert_eq!(got.message.qos, qos);
        assert_eq!(
            got.message.properties.user_properties,
            message.properties.user_properties
        );
    }
    // Nobody listens there: the broker says so.
    let lonely = Message::new("nobody", "x").with_qos(QoS::AtLeastOnce);
    assert_eq!(
        publisher.publish(&lonely).await.unwrap(),
        ReasonCode::NO_MATCHING_SUBSCRIBERS
    );
    // What cannot be sent is refused before it leaves.
    let wild = publisher.publish(&Message::new("a/#", "x")).await;
    assert!(matches!(wild, Err(ClientError::Invalid(_))), "{wild:?}");
    broker.stop().await.unwrap();
}

#[tokio::test]
async fn in_process_and_network_clients_see_each_other() {
    let broker = broker(|_| {}).await;
    let addr = broker.local_addrs()[0];
    let (inline, mut deliveries, _) = broker.connect(ClientOptions::default()).await.unwrap();
    inline
        .subscribe(&[("from/net", QoS::AtLeastOnce)])
        .await
        .unwrap();
    let mut network = Client::connect(addr, "network").await;
    network.subscribe("from/inline", QoS::AtLeastOnce).await;

    network
        .send(&publish(
            "from/net",
            b"hello inline".to_vec(),
            QoS::AtLeastOnce,
            1,
        ))
        .await;
    let got = timeout(WAIT, deliveries.recv()).await.unwrap().unwrap();
    assert_eq!(got.message.payload, "hello inline");

    let message = Message::new("from/inline", "hello network").with_qos(QoS::AtLeastOnce);
    inline.publish(&message).await.unwrap();
    loop {
        match timeout(WAIT, network.recv()).await.unwrap() {
            Some(Packet::Publish(p)) => {
                assert_eq!(p.payload, "hello network");
                break;
            }
            Some(Packet::PubAck(_)) => continue, // the answer to its own PUBLISH
            other => panic!("{other:?}"),
        }
    }
    broker.stop().await.unwrap();
}

#[tokio::test]
async fn in_process_clients_log_in_like_any_other() {
    let path = std::env::temp_dir().join(format!("tern-embed-{}-passwd", std::process::id()));
    let mut file = tern::auth::PasswordFile::default();
    file.set_password("app", b"secret", 4096).unwrap();
    file.save(&path).unwrap();
    let broker = broker(|c| {
        c.auth.password_file = Some(path.clone());
        c.auth.allow_anonymous = false;
    })
    .await;
    let anonymous = broker.connect(ClientOptions::default()).await.err();
    assert_eq!(anonymous, Some(ClientError::Refused(ReasonCode(0x87))));
    let wrong = ClientOptions {
        username: Some("app".into()),
        password: Some("nope".into()),
        ..ClientOptions::default()
    };
    let refused = broker.connect(wrong).await.err();
    assert_eq!(refused, Some(ClientError::Refused(ReasonCode(0x86))));
    let right = ClientOptions {
        username: Some("app".into()),
        password: Some("secret".into()),
        ..ClientOptions::default()
    };
    assert!(broker.connect(right).await.is_ok());
    broker.stop().await.unwrap();
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn statistics_count_in_process_clients_and_a_stop_tells_them() {
    let broker = broker(|_| {}).await;
    let (client, mut deliveries, _) = broker.connect(ClientOptions::default()).await.unwrap();
    client.subscribe(&[("s", QoS::AtMostOnce)]).await.unwrap();
    // The engine publishes its snapshot once a second: wait for one that shows the client.
    let deadline = Instant::now() + WAIT;
    while broker.stats().connections != 1 || broker.stats().subscriptions != 1 {
        assert!(Instant::now() < deadline, "{:?}", broker.stats());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    broker.stop().await.unwrap();
    // The stop said 0x8B Server shutting down, and the deliveries ended.
    assert!(timeout(WAIT, deliveries.recv()).await.unwrap().is_none());
    assert_eq!(deliveries.ended(), Some(Some(ReasonCode(0x8B))));
    assert!(client.is_closed());
}

#[tokio::test]
async fn dropping_every_handle_ends_the_connection() {
    let broker = broker(|_| {}).await;
    let options = ClientOptions {
        client_id: "short-lived".into(),
        ..ClientOptions::default()
    };
    let (client, deliveries, _) = broker.connect(options).await.unwrap();
    client.subscribe(&[("s", QoS::AtMostOnce)]).await.unwrap();
    drop((client, deliveries));
    let deadline = Instant::now() + WAIT;
    // A snapshot that counted the connection accepted, and shows it gone with its session.
    loop {
        let s = broker.stats();
        if s.stats.connections_accepted == 1 && s.connections == 0 && s.sessions_online == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    broker.stop().await.unwrap();
}
