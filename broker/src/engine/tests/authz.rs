//! Authorization and publish limits through the engine: the ACL at SUBSCRIBE, PUBLISH and for
//! wills, credential grants (topic limits, expiry), reloads, and the rate and bandwidth limits.

use std::sync::Arc;

use super::*;
use crate::auth::acl::{Acl, Pattern, TopicLimits};
use crate::auth::scram::client_final;
use crate::auth::{PasswordAuthenticator, PasswordFile};

const RULES: &str = "\
topic read public/#
user alice
topic readwrite home/alice/#
all
topic readwrite devices/%c/#
topic write wills/%u
";

fn acl(text: &str) -> Option<Arc<dyn crate::engine::policy::Authorizer>> {
    Some(Arc::new(Acl::parse(text, false).unwrap()))
}

fn harness() -> Harness {
    let mut engine = Engine::new(Settings::default());
    engine.set_acl(acl(RULES));
    Harness::with_engine(engine)
}

fn as_user(protocol: Protocol, id: &str, user: &str) -> Connect {
    let mut c = Connect::new(protocol, id);
    c.username = Some(user.into());
    c
}

fn connected(h: &mut Harness, connect: Connect) -> ConnId {
    let (conn, ack) = h.connect_with(connect);
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    conn
}

fn ack_of(packet: Option<Packet>) -> (PacketType, ReasonCode) {
    match packet {
        Some(Packet::PubAck(a)) => (PacketType::PubAck, a.reason),
        Some(Packet::PubRec(a)) => (PacketType::PubRec, a.reason),
        Some(Packet::PubComp(a)) => (PacketType::PubComp, a.reason),
        other => panic!("expected an acknowledgement, got {other:?}"),
    }
}

#[test]
fn subscribe_needs_read_rights_for_the_whole_filter() {
    let mut h = harness();
    let alice = connected(&mut h, as_user(V5, "phone", "alice"));
    assert_eq!(
        h.subscribe(alice, "home/alice/#", QoS::AtLeastOnce),
        [ReasonCode::GRANTED_QOS_1]
    );
    assert_eq!(
        h.subscribe(alice, "public/+", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0]
    );
    assert_eq!(
        h.subscribe(alice, "home/#", QoS::AtMostOnce),
        [ReasonCode::NOT_AUTHORIZED]
    );
    assert_eq!(
        h.subscribe(alice, "#", QoS::AtMostOnce),
        [ReasonCode::NOT_AUTHORIZED]
    );
    // A shared subscription is judged by the filter inside it.
    assert_eq!(
        h.subscribe(alice, "$share/g/home/alice/x", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0]
    );
    assert_eq!(
        h.subscribe(alice, "$share/g/home/bob/x", QoS::AtMostOnce),
        [ReasonCode::NOT_AUTHORIZED]
    );
    // %c: a client's own device tree.
    let dev = h.client(V311, "d7");
    assert_eq!(
        h.subscribe(dev, "devices/d7/#", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0]
    );
    assert_eq!(
        h.subscribe(dev, "devices/d8/#", QoS::AtMostOnce),
        [ReasonCode(0x80)]
    );
    // MQTT 3.1 cannot be told: the connection is closed.
    let old = h.client(Protocol::V3_1, "old");
    h.send(
        old,
        Packet::Subscribe(Subscribe {
            packet_id: pid(1),
            properties: Properties::new(),
            filters: vec![(
                TopicFilter::new("home/#").unwrap(),
                SubscriptionOptions::default(),
            )],
        }),
    );
    assert!(h.is_closed(old));
}

#[test]
fn refused_subscriptions_get_no_retained_messages() {
    let mut h = harness();
    let alice = connected(&mut h, as_user(V5, "phone", "alice"));
    let mut p = Publish::new(
        TopicName::new("home/alice/secret").unwrap(),
        Bytes::from("x"),
    );
    p.retain = true;
    h.send(alice, Packet::Publish(p));
    let bob = connected(&mut h, as_user(V5, "bob", "bob"));
    assert_eq!(
        h.subscribe(bob, "home/alice/+", QoS::AtMostOnce),
        [ReasonCode::NOT_AUTHORIZED]
    );
    assert!(h.recv(bob).is_none());
    assert_eq!(
        h.subscribe(alice, "home/alice/+", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0]
    );
    assert_eq!(h.recv_publish(alice).payload, Bytes::from("x"));
}

#[test]
fn publish_without_write_rights_is_dropped_and_5_0_is_told() {
    let mut h = harness();
    let alice = connected(&mut h, as_user(V5, "phone", "alice"));
    h.subscribe(alice, "public/#", QoS::ExactlyOnce);
    let bob = connected(&mut h, as_user(V5, "laptop", "bob"));
    let old = connected(&mut h, as_user(V311, "old", "bob"));
    // `read` does not allow writing.
    h.publish(bob, "public/news", "v5 qos1", QoS::AtLeastOnce, 1);
    assert_eq!(
        ack_of(h.recv(bob)),
        (PacketType::PubAck, ReasonCode::NOT_AUTHORIZED)
    );
    h.publish(bob, "public/news", "v5 qos2", QoS::ExactlyOnce, 2);
    assert_eq!(
        ack_of(h.recv(bob)),
        (PacketType::PubRec, ReasonCode::NOT_AUTHORIZED)
    );
    h.publish(bob, "public/news", "v5 qos0", QoS::AtMostOnce, 0);
    assert!(h.recv(bob).is_none());
    // 3.1.1: the normal acknowledgement [MQTT-3.3.5-2], including the rest of the QoS 2 flow.
    h.publish(old, "public/news", "v4 qos1", QoS::AtLeastOnce, 1);
    assert_eq!(
        ack_of(h.recv(old)),
        (PacketType::PubAck, ReasonCode::SUCCESS)
    );
    h.publish(old, "public/news", "v4 qos2", QoS::ExactlyOnce, 2);
    assert_eq!(
        ack_of(h.recv(old)),
        (PacketType::PubRec, ReasonCode::SUCCESS)
    );
    h.send(old, Packet::PubRel(Ack::new(pid(2))));
    assert_eq!(
        ack_of(h.recv(old)),
        (PacketType::PubComp, ReasonCode::SUCCESS)
    );
    // Nothing reached the subscriber; everyone is still connected.
    assert!(h.recv(alice).is_none());
    for conn in [alice, bob, old] {
        assert!(!h.is_closed(conn));
    }
    // What is allowed still flows.
    h.publish(alice, "home/alice/x", "ok", QoS::AtLeastOnce, 3);
    assert_eq!(
        ack_of(h.recv(alice)),
        (PacketType::PubAck, ReasonCode::NO_MATCHING_SUBSCRIBERS)
    );
}

#[test]
fn a_will_the_client_may_not_publish_refuses_the_connect() {
    let mut h = harness();
    for protocol in [V5, V311] {
        let mut c = with_will(protocol, "w", None);
        c.username = Some("alice".into());
        // `wills/%u` is writable for alice; `wills` is not.
        let (conn, ack) = h.connect_with(c.clone());
        assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED, "{protocol}");
        assert!(h.is_closed(conn));
        c.will.as_mut().unwrap().topic = TopicName::new("wills/alice").unwrap();
        connected(&mut h, c);
    }
}

#[test]
fn a_will_whose_right_was_reloaded_away_is_dropped() {
    let mut h = harness();
    let watcher = connected(&mut h, as_user(V5, "watcher", "watcher"));
    let rules = "user watcher\ntopic read wills/#\nall\ntopic write wills/%u\n";
    h.engine.set_acl(acl(rules));
    assert_eq!(
        h.subscribe(watcher, "wills/#", QoS::AtLeastOnce),
        [ReasonCode::GRANTED_QOS_1]
    );
    let mut c = with_will(V5, "w", None);
    c.username = Some("alice".into());
    c.will.as_mut().unwrap().topic = TopicName::new("wills/alice").unwrap();
    let kept = connected(&mut h, c.clone());
    c.client_id = "w2".into();
    let dropped = connected(&mut h, c);
    // Kept: its will goes out when the connection is lost.
    h.input(kept, Input::Closed);
    assert_eq!(h.recv_publish(watcher).topic.as_str(), "wills/alice");
    // After a reload that takes the right away, the will is dropped.
    h.engine.set_acl(acl("user watcher\ntopic read wills/#\n"));
    h.input(dropped, Input::Closed);
    assert!(h.recv(watcher).is_none());
    // The watcher's subscription, granted before, stays.
    assert!(!h.is_closed(watcher));
}

#[test]
fn reloaded_rules_apply_to_new_packets_only() {
    let mut h = harness();
    let alice = connected(&mut h, as_user(V5, "phone", "alice"));
    assert_eq!(
        h.subscribe(alice, "home/alice/#", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0]
    );
    h.engine.set_acl(acl("topic write home/alice/#\n"));
    // New SUBSCRIBEs meet the new rules; the old subscription keeps delivering.
    assert_eq!(
        h.subscribe(alice, "home/alice/x", QoS::AtMostOnce),
        [ReasonCode::NOT_AUTHORIZED]
    );
    h.publish(alice, "home/alice/lamp", "on", QoS::AtMostOnce, 0);
    assert_eq!(h.recv_publish(alice).payload, Bytes::from("on"));
    // No ACL at all: everything is allowed.
    h.engine.set_acl(None);
    assert_eq!(
        h.subscribe(alice, "#", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0]
    );
}

#[test]
fn certificate_identities_select_sections() {
    let mut engine = Engine::new(Settings::default());
    engine.set_acl(acl(
        "identity CN=dev1,O=Acme\ntopic readwrite fleet/dev1/#\n",
    ));
    let mut h = Harness::with_engine(engine);
    let conn = ConnId(100);
    h.protocols.insert(conn, V5);
    let info = ConnInfo {
        cert_identity: Some("CN=dev1,O=Acme".into()),
        ..ConnInfo::default()
    };
    h.engine.open_with(conn, info, h.now);
    h.send(
        conn,
        Packet::Connect(Box::new(Connect::new(V5, "anything"))),
    );
    assert!(matches!(h.recv(conn), Some(Packet::ConnAck(a)) if a.code == ReasonCode::SUCCESS));
    assert_eq!(
        h.subscribe(conn, "fleet/dev1/#", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0]
    );
    let other = h.client(V5, "other");
    assert_eq!(
        h.subscribe(other, "fleet/dev1/#", QoS::AtMostOnce),
        [ReasonCode::NOT_AUTHORIZED]
    );
}

/// Lets everyone in with a fixed grant, as a JWT would.
struct Granting(Grant);

impl Authenticator for Granting {
    fn connect(&mut self, _: ConnId, _: &Connect, _: std::time::SystemTime) -> AuthDecision {
        AuthDecision::AcceptAs(Box::new(self.0.clone()))
    }
    fn auth(&mut self, _: ConnId, _: &Connect, _: &Auth) -> AuthDecision {
        AuthDecision::Refuse(ReasonCode::PROTOCOL_ERROR)
    }
}

#[test]
fn a_grant_names_the_user_limits_topics_and_expires() {
    let grant = Grant {
        username: Some("alice".into()),
        topics: Some(Arc::new(TopicLimits {
            read: vec![Pattern::new("home/%u/#").unwrap()],
            write: vec![Pattern::new("home/%u/out").unwrap()],
        })),
        valid_for: Some(Duration::from_secs(30)),
        properties: Properties::new(),
    };
    let mut engine = Engine::with_authenticator(Settings::default(), Box::new(Granting(grant)));
    // The ACL allows alice her home; the grant narrows it further.
    engine.set_acl(acl(RULES));
    let mut h = Harness::with_engine(engine);
    let conn = h.client(V5, "c");
    assert_eq!(
        h.subscribe(conn, "home/alice/#", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0]
    );
    assert_eq!(
        h.subscribe(conn, "public/#", QoS::AtMostOnce),
        [ReasonCode::NOT_AUTHORIZED]
    );
    h.publish(conn, "home/alice/in", "x", QoS::AtLeastOnce, 1);
    assert_eq!(
        ack_of(h.recv(conn)),
        (PacketType::PubAck, ReasonCode::NOT_AUTHORIZED)
    );
    h.publish(conn, "home/alice/out", "x", QoS::AtLeastOnce, 2);
    assert_eq!(h.recv_publish(conn).topic.as_str(), "home/alice/out");
    assert_eq!(
        ack_of(h.recv(conn)),
        (PacketType::PubAck, ReasonCode::SUCCESS)
    );
    h.advance(29);
    assert!(!h.is_closed(conn));
    h.advance(1);
    assert_eq!(
        disconnect_reason(h.recv(conn)),
        ReasonCode::MAXIMUM_CONNECT_TIME
    );
    assert!(h.is_closed(conn));
}

#[test]
fn an_exchange_under_way_finishes_with_the_authenticator_that_started_it() {
    let mut file = PasswordFile::default();
    file.set_password("alice", b"secret", 4096).unwrap();
    let old = PasswordAuthenticator::new(&file, false).unwrap();
    let mut h = Harness::with_engine(Engine::with_authenticator(
        Settings::default(),
        Box::new(old),
    ));
    let method = |data: &str| -> Properties {
        vec![
            Property::AuthenticationMethod("SCRAM-SHA-256".into()),
            Property::AuthenticationData(Bytes::from(data.to_owned())),
        ]
        .into()
    };
    let conn = h.open(V5);
    let mut c = Connect::new(V5, "s");
    c.properties = method("n,,n=alice,r=abc");
    h.send(conn, Packet::Connect(Box::new(c)));
    let server_first = match h.recv(conn) {
        Some(Packet::Auth(a)) => match a.properties.get(PropertyId::AuthenticationData) {
            Some(Property::AuthenticationData(d)) => String::from_utf8(d.to_vec()).unwrap(),
            other => panic!("{other:?}"),
        },
        other => panic!("expected AUTH, got {other:?}"),
    };
    // A reload replaces the authenticator with one that knows no one.
    h.engine
        .replace_authenticator(Box::new(AllowAnonymous(false)));
    let answer = client_final("n=alice,r=abc", &server_first, "secret");
    h.send(
        conn,
        Packet::Auth(Auth {
            reason: ReasonCode::CONTINUE_AUTHENTICATION,
            properties: method(&answer),
        }),
    );
    assert!(matches!(h.recv(conn), Some(Packet::ConnAck(a)) if a.code == ReasonCode::SUCCESS));
    assert!(
        h.engine.retired.is_empty(),
        "the old authenticator is gone once done"
    );
    // New CONNECTs meet the new one.
    let (_, ack) = h.connect_with(Connect::new(V5, "new"));
    assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED);
}

fn limited(rate: u32, bandwidth: u64) -> Harness {
    Harness::with(Settings {
        max_publish_rate: rate,
        max_publish_bandwidth: bandwidth,
        ..Settings::default()
    })
}

#[test]
fn publishing_too_fast_disconnects_with_0x96() {
    let mut h = limited(5, 0);
    let watcher = h.client(V5, "watcher");
    h.subscribe(watcher, "wills", QoS::AtLeastOnce);
    let (fast, _) = h.connect_with(with_will(V5, "fast", None));
    for i in 0..5 {
        h.publish(fast, "t", "x", QoS::AtMostOnce, 0);
        assert!(!h.is_closed(fast), "message {i}");
    }
    h.publish(fast, "t", "x", QoS::AtMostOnce, 0);
    assert_eq!(
        disconnect_reason(h.recv(fast)),
        ReasonCode::MESSAGE_RATE_TOO_HIGH
    );
    assert!(h.is_closed(fast));
    assert_eq!(
        h.recv_publish(watcher).topic.as_str(),
        "wills",
        "the will is published"
    );
    // A client keeping to the rate is never disconnected.
    let steady = h.client(V311, "steady");
    for _ in 0..20 {
        h.publish(steady, "t", "x", QoS::AtLeastOnce, 1);
        assert!(matches!(h.recv(steady), Some(Packet::PubAck(_))));
        h.advance(1);
    }
    assert!(!h.is_closed(steady));
    // 3.x is closed without a DISCONNECT.
    for _ in 0..6 {
        h.publish(steady, "t", "x", QoS::AtMostOnce, 0);
    }
    assert!(h.is_closed(steady));
    assert!(h.recv(steady).is_none());
}

#[test]
fn publishing_too_many_bytes_disconnects_with_0x96() {
    let mut h = limited(0, 1000);
    let c = h.client(V5, "c");
    let big = "x".repeat(1500);
    h.publish(c, "t", &big, QoS::AtMostOnce, 0);
    assert!(
        !h.is_closed(c),
        "one message larger than a second's worth passes"
    );
    h.publish(c, "t", "y", QoS::AtMostOnce, 0);
    match h.recv(c) {
        Some(Packet::Disconnect(d)) => {
            assert_eq!(d.reason, ReasonCode::MESSAGE_RATE_TOO_HIGH);
            let text = match d.properties.get(PropertyId::ReasonString) {
                Some(Property::ReasonString(s)) => s.to_string(),
                other => panic!("{other:?}"),
            };
            assert!(text.contains("max_publish_bandwidth"), "{text}");
        }
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
}
