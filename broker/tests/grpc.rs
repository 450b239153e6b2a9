//! The gRPC API (`[grpc]`, `broker/proto/tern.proto`) against a real broker on loopback:
//! the project's own tonic client on one side, a network MQTT 5.0 client on the other, in
//! both directions; the login, the ACL and the token; acknowledgements and the window; bad
//! requests. Python grpcio runs the same round trips in `grpc_python.rs`.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use common::{Client, WAIT};
use tern::codec::{Packet, Properties, Property, Publish, QoS, TopicName};
use tern::config::{Config, Listener};
use tern::embed::Broker;
use tern::server::grpc::proto::{
    self, messages_client::MessagesClient, subscribe_reply::Kind, SubscribeReply,
};
use tokio::time::timeout;
use tonic::transport::Channel;
use tonic::{Code, Request, Streaming};

/// A broker with MQTT and gRPC on ephemeral loopback ports, nothing kept, no HTTP; `edit`
/// changes its configuration first.
async fn broker(edit: impl FnOnce(&mut Config)) -> (Broker, SocketAddr, SocketAddr) {
    let mut config = Config::default();
    config.storage.mode = tern::config::StorageMode::Memory;
    config.http.enabled = false;
    config.grpc.bind = "127.0.0.1:0".parse().unwrap();
    config.listeners = vec![Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Listener::default()
    }];
    config.auth.failed_login_delay_ms = 0;
    edit(&mut config);
    let broker = Broker::start(config).await.expect("the broker starts");
    let mqtt = broker.local_addrs()[0];
    let grpc = broker.grpc_addr().expect("gRPC is on");
    (broker, mqtt, grpc)
}

async fn grpc_client(addr: SocketAddr) -> MessagesClient<Channel> {
    MessagesClient::connect(format!("http://{addr}"))
        .await
        .expect("gRPC connects")
}

/// The next reply of a Subscribe stream, within [`WAIT`].
async fn next(stream: &mut Streaming<SubscribeReply>) -> Kind {
    timeout(WAIT, stream.message())
        .await
        .expect("a reply in time")
        .expect("the stream is healthy")
        .expect("the stream goes on")
        .kind
        .expect("a reply has a kind")
}

async fn subscribe(
    client: &mut MessagesClient<Channel>,
    filters: &[&str],
    qos: u32,
    window: u32,
) -> (Streaming<SubscribeReply>, proto::Subscribed) {
    let request = proto::SubscribeRequest {
        filters: filters.iter().map(|f| f.to_string()).collect(),
        qos,
        window,
    };
    let mut stream = client
        .subscribe(request)
        .await
        .expect("Subscribe")
        .into_inner();
    let Kind::Subscribed(subscribed) = next(&mut stream).await else {
        panic!("the stream starts with Subscribed");
    };
    (stream, subscribed)
}

fn mqtt_publish(topic: &str, payload: &str, qos: QoS, id: u16, properties: Properties) -> Packet {
    Packet::Publish(Publish {
        qos,
        packet_id: std::num::NonZeroU16::new(id),
        properties,
        ..Publish::new(TopicName::new(topic).unwrap(), payload.as_bytes().to_vec())
    })
}

#[tokio::test]
async fn what_mqtt_clients_publish_streams_to_grpc_and_waits_for_its_ack() {
    let (broker, mqtt, grpc) = broker(|_| {}).await;
    let mut api = grpc_client(grpc).await;
    let (mut stream, subscribed) = subscribe(&mut api, &["sensors/#"], 1, 2).await;
    assert_eq!(subscribed.reason_codes, [1], "granted QoS 1");

    let mut publisher = Client::connect(mqtt, "mqtt-publisher").await;
    let properties = Properties::from(vec![
        Property::ContentType("text/plain".into()),
        Property::ResponseTopic("replies/1".into()),
        Property::CorrelationData(Bytes::from_static(b"\x01\x02")),
        Property::MessageExpiryInterval(60),
        Property::user("site", "kitchen"),
    ]);
    for i in 1..=4u16 {
        let packet = mqtt_publish(
            "sensors/t",
            &format!("m{i}"),
            QoS::AtLeastOnce,
            i,
            properties.clone(),
        );
        publisher.send(&packet).await;
    }

    // The window is 2: two deliveries, then nothing until they are acknowledged.
    let mut ids = Vec::new();
    for i in 1..=2 {
        let Kind::Delivery(d) = next(&mut stream).await else {
            panic!("a delivery")
        };
        assert_eq!(
            (d.topic.as_str(), d.payload.as_slice()),
            ("sensors/t", format!("m{i}").as_bytes())
        );
        assert_eq!(d.qos, 1);
        assert_ne!(d.ack_id, 0);
        let p = d.properties.expect("properties");
        assert_eq!(p.content_type.as_deref(), Some("text/plain"));
        assert_eq!(p.response_topic.as_deref(), Some("replies/1"));
        assert_eq!(p.correlation_data.as_deref(), Some(&b"\x01\x02"[..]));
        assert!(p.message_expiry_interval.is_some_and(|s| s <= 60));
        assert_eq!(p.user_properties.len(), 1);
        assert_eq!(p.user_properties[0].name, "site");
        ids.push(d.ack_id);
    }
    let third = timeout(Duration::from_millis(300), stream.message()).await;
    assert!(
        third.is_err(),
        "a third delivery beyond the window: {third:?}"
    );

    let acked = api
        .ack(proto::AckRequest {
            stream_id: subscribed.stream_id.clone(),
            ack_ids: ids.clone(),
        })
        .await
        .expect("Ack")
        .into_inner();
    assert_eq!(acked.acknowledged, 2);
    for i in 3..=4 {
        let Kind::Delivery(d) = next(&mut stream).await else {
            panic!("a delivery")
        };
        assert_eq!(d.payload, format!("m{i}").as_bytes());
    }
    // The same ids again match nothing; an unknown stream is NotFound.
    let again = api
        .ack(proto::AckRequest {
            stream_id: subscribed.stream_id,
            ack_ids: ids,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.acknowledged, 0);
    let unknown = api
        .ack(proto::AckRequest {
            stream_id: "nope".into(),
            ack_ids: vec![1],
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    drop(stream);
    broker.stop().await.unwrap();
}

#[tokio::test]
async fn a_grpc_publish_reaches_mqtt_subscribers_with_its_properties() {
    let (broker, mqtt, grpc) = broker(|_| {}).await;
    let mut subscriber = Client::connect(mqtt, "mqtt-subscriber").await;
    subscriber.subscribe("commands/#", QoS::AtLeastOnce).await;
    let mut api = grpc_client(grpc).await;

    let request = proto::PublishRequest {
        topic: "commands/lamp".into(),
        payload: b"on".to_vec(),
        qos: 1,
        retain: false,
        properties: Some(proto::Properties {
            payload_is_utf8: true,
            message_expiry_interval: Some(30),
            content_type: Some("text/plain".into()),
            response_topic: Some("lamp/replies".into()),
            correlation_data: Some(b"req-7".to_vec()),
            user_properties: vec![proto::UserProperty {
                name: "from".into(),
                value: "grpc".into(),
            }],
            subscription_identifiers: vec![],
        }),
    };
    let reply = api.publish(request).await.expect("Publish").into_inner();
    assert_eq!((reply.reason_code, reply.reason.as_str()), (0, "Success"));

    let packet = timeout(WAIT, subscriber.recv())
        .await
        .unwrap()
        .expect("a PUBLISH");
    let Packet::Publish(p) = packet else {
        panic!("{packet:?}")
    };
    assert_eq!(
        (p.topic.as_str(), &p.payload[..], p.qos),
        ("commands/lamp", &b"on"[..], QoS::AtLeastOnce)
    );
    let has = |want: &Property| p.properties.iter().any(|got| got == want);
    assert!(
        has(&Property::PayloadFormatIndicator(1)),
        "{:?}",
        p.properties
    );
    assert!(has(&Property::ContentType("text/plain".into())));
    assert!(has(&Property::ResponseTopic("lamp/replies".into())));
    assert!(has(&Property::CorrelationData(Bytes::from_static(
        b"req-7"
    ))));
    assert!(has(&Property::user("from", "grpc")));
    assert!(p
        .properties
        .iter()
        .any(|got| matches!(got, Property::MessageExpiryInterval(s) if *s <= 30)));

    // No subscriber: 0x10; QoS 2 goes all the way to PUBCOMP; QoS 0 is on its way.
    for (qos, topic, code) in [
        (1, "nobody/here", 16),
        (2, "commands/two", 0),
        (0, "commands/zero", 0),
    ] {
        let request = proto::PublishRequest {
            topic: topic.into(),
            payload: b"x".to_vec(),
            qos,
            ..Default::default()
        };
        let reply = api.publish(request).await.expect("Publish").into_inner();
        assert_eq!(reply.reason_code, code, "{topic}");
    }
    broker.stop().await.unwrap();
}

#[tokio::test]
async fn bad_requests_are_invalid_arguments_and_hurt_no_one() {
    let (broker, mqtt, grpc) = broker(|_| {}).await;
    let mut subscriber = Client::connect(mqtt, "bystander").await;
    subscriber.subscribe("ok", QoS::AtMostOnce).await;
    let mut api = grpc_client(grpc).await;
    let bad = [
        ("a/#", 0), // a wildcard in a topic name
        ("", 0),    // an empty topic
        ("ok", 3),  // no QoS 3
    ];
    for (topic, qos) in bad {
        let request = proto::PublishRequest {
            topic: topic.into(),
            qos,
            ..Default::default()
        };
        let e = api.publish(request).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{topic:?} {qos}: {e}");
    }
    let no_filters = api
        .subscribe(proto::SubscribeRequest::default())
        .await
        .unwrap_err();
    assert_eq!(no_filters.code(), Code::InvalidArgument);
    let malformed = proto::SubscribeRequest {
        filters: vec!["a/#/b".into(), "fine/+".into()],
        ..Default::default()
    };
    let e = api.subscribe(malformed).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("a/#/b"), "{e}");

    // The bystander still gets what is published to it.
    let ok = proto::PublishRequest {
        topic: "ok".into(),
        payload: b"still here".to_vec(),
        ..Default::default()
    };
    api.publish(ok).await.expect("Publish");
    let packet = timeout(WAIT, subscriber.recv())
        .await
        .unwrap()
        .expect("a PUBLISH");
    assert!(matches!(packet, Packet::Publish(p) if p.payload == "still here"));
    broker.stop().await.unwrap();
}

/// A file under the temporary directory, unique to this test run.
fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tern-grpc-{}-{name}", std::process::id()))
}

fn with_user<T>(mut request: Request<T>, user: &str, password: &str) -> Request<T> {
    request
        .metadata_mut()
        .insert("username", user.parse().unwrap());
    request
        .metadata_mut()
        .insert("password", password.parse().unwrap());
    request
}

#[tokio::test]
async fn grpc_callers_log_in_and_the_acl_applies_to_them() {
    let passwords = temp_file("passwd");
    let mut file = tern::auth::PasswordFile::default();
    file.set_password("alice", b"secret", 4096).unwrap();
    file.save(&passwords).unwrap();
    let acl = temp_file("acl");
    std::fs::write(
        &acl,
        "user alice\ntopic readwrite home/alice/#\ntopic read public/#\n",
    )
    .unwrap();
    let (broker, _, grpc) = broker(|c| {
        c.auth.password_file = Some(passwords.clone());
        c.auth.acl_file = Some(acl.clone());
        c.auth.allow_anonymous = false;
    })
    .await;
    let mut api = grpc_client(grpc).await;

    let publish = |topic: &str| proto::PublishRequest {
        topic: topic.into(),
        payload: b"x".to_vec(),
        qos: 1,
        ..Default::default()
    };
    // No credentials, a wrong password: Unauthenticated.
    let anonymous = api.publish(publish("home/alice/x")).await.unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated, "{anonymous}");
    let wrong = api
        .publish(with_user(
            Request::new(publish("home/alice/x")),
            "alice",
            "nope",
        ))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated, "{wrong}");

    // Alice may write her home, not the public tree: PUBACK 0x87 there.
    let mine = api
        .publish(with_user(
            Request::new(publish("home/alice/x")),
            "alice",
            "secret",
        ))
        .await
        .expect("Publish")
        .into_inner();
    assert_eq!(mine.reason_code, 0x10, "allowed, and nobody listens");
    let theirs = api
        .publish(with_user(
            Request::new(publish("public/x")),
            "alice",
            "secret",
        ))
        .await
        .expect("Publish")
        .into_inner();
    assert_eq!(theirs.reason_code, 0x87);

    // She may read the public tree and her home, not someone else's.
    let request = proto::SubscribeRequest {
        filters: vec!["public/#".into(), "home/bob/#".into()],
        qos: 1,
        window: 0,
    };
    let mut stream = api
        .subscribe(with_user(Request::new(request), "alice", "secret"))
        .await
        .expect("Subscribe")
        .into_inner();
    let Kind::Subscribed(s) = next(&mut stream).await else {
        panic!("Subscribed first")
    };
    assert_eq!(s.reason_codes, [1, 0x87]);
    broker.stop().await.unwrap();
    let _ = std::fs::remove_file(passwords);
    let _ = std::fs::remove_file(acl);
}

#[tokio::test]
async fn with_a_token_set_every_call_carries_it() {
    let (broker, _, grpc) = broker(|c| c.grpc.token = "s3cret".into()).await;
    let mut api = grpc_client(grpc).await;
    let request = || proto::PublishRequest {
        topic: "t".into(),
        ..Default::default()
    };
    let none = api.publish(request()).await.unwrap_err();
    assert_eq!(none.code(), Code::Unauthenticated);
    let mut wrong = Request::new(request());
    wrong
        .metadata_mut()
        .insert("authorization", "Bearer nope".parse().unwrap());
    assert_eq!(
        api.publish(wrong).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    let mut right = Request::new(request());
    right
        .metadata_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    api.publish(right)
        .await
        .expect("the token lets the call in");
    broker.stop().await.unwrap();
}

#[test]
fn off_loopback_the_grpc_listener_needs_a_token() {
    let e = Config::from_toml_str("[grpc]\nbind = \"0.0.0.0:50051\"\n").unwrap_err();
    assert_eq!(e.key(), Some("grpc.token"), "{e}");
    Config::from_toml_str("[grpc]\nbind = \"0.0.0.0:50051\"\ntoken = \"t\"\n")
        .expect("with a token");
    Config::from_toml_str("[grpc]\nenabled = false\nbind = \"0.0.0.0:50051\"\n").expect("off");
}

#[tokio::test]
async fn a_stream_that_stops_acknowledging_is_ended_as_a_slow_subscriber() {
    let (broker, mqtt, grpc) = broker(|c| {
        c.limits.max_queued_messages = 8;
        c.limits.slow_subscriber_timeout_ms = 1000;
    })
    .await;
    let mut api = grpc_client(grpc).await;
    let (mut stream, _) = subscribe(&mut api, &["flood/#"], 1, 1).await;
    // An open-loop publisher: it sends without waiting for its acknowledgements.
    let mut publisher = Client::connect(mqtt, "flooder").await;
    for i in 1..=50u16 {
        let packet = mqtt_publish("flood/x", "m", QoS::AtLeastOnce, i, Properties::new());
        publisher.send(&packet).await;
    }
    // One delivery (the window), never acknowledged: the broker ends the stream, bounded.
    let Kind::Delivery(_) = next(&mut stream).await else {
        panic!("a delivery")
    };
    let ended = timeout(WAIT + WAIT, stream.message())
        .await
        .expect("the stream ends in time");
    let status = ended.expect_err("the stream ends with a status");
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    assert!(status.message().contains("0x97"), "{status}");
    broker.stop().await.unwrap();
}
