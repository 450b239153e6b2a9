//! The engine driven with no sockets and a clock of the test's own: clients are simulated by
//! feeding packets in and decoding what comes out, as quinn-proto's tests do.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::codec::{
    decode_exact, Ack, Auth, ConnAck, Connect, Packet, PacketId, Properties, Property, PropertyId,
    Protocol, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, SubscriptionOptions,
    TopicFilter, TopicName, Unsubscribe, Will,
};

const V5: Protocol = Protocol::V5;
const V311: Protocol = Protocol::V3_1_1;

/// The engine and everything the simulated clients received.
struct Harness {
    engine: Engine,
    now: Instant,
    next_conn: u64,
    protocols: HashMap<ConnId, Protocol>,
    inbox: HashMap<ConnId, VecDeque<Packet>>,
    closed: HashSet<ConnId>,
}

impl Harness {
    fn new() -> Harness {
        Harness::with(Settings::default())
    }

    fn with(settings: Settings) -> Harness {
        Harness::with_engine(Engine::new(settings))
    }

    fn with_engine(engine: Engine) -> Harness {
        Harness {
            engine,
            now: Instant::now(),
            next_conn: 1,
            protocols: HashMap::new(),
            inbox: HashMap::new(),
            closed: HashSet::new(),
        }
    }

    /// Opens a connection and sends CONNECT; returns it with the CONNACK.
    fn connect_with(&mut self, connect: Connect) -> (ConnId, ConnAck) {
        let conn = self.open(connect.protocol);
        self.send(conn, Packet::Connect(Box::new(connect)));
        match self.recv(conn) {
            Some(Packet::ConnAck(ack)) => (conn, ack),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// A clean 5.0 or 3.1.1 connection that must succeed.
    fn client(&mut self, protocol: Protocol, id: &str) -> ConnId {
        let (conn, ack) = self.connect_with(Connect::new(protocol, id));
        assert_eq!(ack.code, ReasonCode::SUCCESS);
        conn
    }

    fn open(&mut self, protocol: Protocol) -> ConnId {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.protocols.insert(conn, protocol);
        self.engine.open(conn, self.now);
        conn
    }

    fn send(&mut self, conn: ConnId, packet: Packet) {
        // Each packet goes through the real encoder and decoder, as on the wire.
        let protocol = self.protocols[&conn];
        let bytes = packet.to_bytes(protocol).expect("test packet encodes");
        let packet = decode_exact(&bytes, protocol).expect("test packet decodes");
        self.engine.handle(conn, Input::Packet(packet), self.now);
        self.collect();
    }

    fn input(&mut self, conn: ConnId, input: Input) {
        self.engine.handle(conn, input, self.now);
        self.collect();
    }

    fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.engine.handle_timeout(self.now);
        self.collect();
    }

    fn collect(&mut self) {
        let outputs: Vec<Output> = self.engine.drain_outputs().collect();
        for out in outputs {
            match out {
                Output::Send { conn, frame, .. } => {
                    assert!(
                        !self.closed.contains(&conn),
                        "sent to {conn} after its close"
                    );
                    let packet = decode_exact(&frame, self.protocols[&conn])
                        .unwrap_or_else(|e| panic!("engine sent an undecodable frame: {e}"));
                    self.inbox.entry(conn).or_default().push_back(packet);
                }
                Output::Close { conn } => {
                    self.closed.insert(conn);
                }
            }
        }
    }

    fn recv(&mut self, conn: ConnId) -> Option<Packet> {
        self.inbox.get_mut(&conn)?.pop_front()
    }

    fn recv_all(&mut self, conn: ConnId) -> Vec<Packet> {
        self.inbox.remove(&conn).map(Vec::from).unwrap_or_default()
    }

    fn recv_publish(&mut self, conn: ConnId) -> Publish {
        match self.recv(conn) {
            Some(Packet::Publish(p)) => p,
            other => panic!("expected PUBLISH on {conn}, got {other:?}"),
        }
    }

    fn is_closed(&self, conn: ConnId) -> bool {
        self.closed.contains(&conn)
    }

    fn subscribe(&mut self, conn: ConnId, filter: &str, qos: QoS) -> Vec<ReasonCode> {
        self.subscribe_with(
            conn,
            filter,
            SubscriptionOptions::qos(qos),
            Properties::new(),
        )
    }

    fn subscribe_with(
        &mut self,
        conn: ConnId,
        filter: &str,
        options: SubscriptionOptions,
        properties: Properties,
    ) -> Vec<ReasonCode> {
        self.send(
            conn,
            Packet::Subscribe(Subscribe {
                packet_id: pid(1),
                properties,
                filters: vec![(TopicFilter::new(filter).unwrap(), options)],
            }),
        );
        match self.recv(conn) {
            Some(Packet::SubAck(SubAck { reasons, .. })) => reasons,
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    fn publish(&mut self, conn: ConnId, topic: &str, payload: &str, qos: QoS, id: u16) {
        let mut p = Publish::new(
            TopicName::new(topic).unwrap(),
            Bytes::from(payload.to_owned()),
        );
        p.qos = qos;
        p.packet_id = (qos != QoS::AtMostOnce).then(|| pid(id));
        self.send(conn, Packet::Publish(p));
    }
}

fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn disconnect_reason(packet: Option<Packet>) -> ReasonCode {
    match packet {
        Some(Packet::Disconnect(d)) => d.reason,
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// CONNECT
// ---------------------------------------------------------------------------------------------

#[test]
fn v5_connack_advertises_the_limits() {
    let mut h = Harness::new();
    let (_, ack) = h.connect_with(Connect::new(V5, "a"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    assert!(!ack.session_present);
    let p = &ack.properties;
    assert_eq!(
        p.get(PropertyId::ReceiveMaximum),
        Some(&Property::ReceiveMaximum(32))
    );
    assert_eq!(
        p.get(PropertyId::TopicAliasMaximum),
        Some(&Property::TopicAliasMaximum(64))
    );
    assert!(p.get(PropertyId::MaximumPacketSize).is_some());
}

#[test]
fn client_identifier_rules_per_version() {
    let mut h = Harness::new();
    // 3.1: at most 23 bytes.
    let (_, ack) = h.connect_with(Connect::new(Protocol::V3_1, "a".repeat(24)));
    assert_eq!(ack.code, ReasonCode::CLIENT_IDENTIFIER_NOT_VALID);
    let (_, ack) = h.connect_with(Connect::new(Protocol::V3_1, "a".repeat(23)));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    // 3.1.1: a zero-length id needs a clean session [MQTT-3.1.3-8].
    let mut c = Connect::new(V311, "");
    c.clean_start = false;
    let (conn, ack) = h.connect_with(c);
    assert_eq!(ack.code, ReasonCode::CLIENT_IDENTIFIER_NOT_VALID);
    assert!(h.is_closed(conn));
    let (_, ack) = h.connect_with(Connect::new(V311, ""));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    // 5.0: one is assigned and returned [MQTT-3.1.3-7].
    let (_, ack) = h.connect_with(Connect::new(V5, ""));
    assert!(matches!(
        ack.properties.get(PropertyId::AssignedClientIdentifier),
        Some(Property::AssignedClientIdentifier(id)) if id.starts_with("tern-")
    ));
}

#[test]
fn first_packet_must_be_connect_and_only_once() {
    let mut h = Harness::new();
    let conn = h.open(V5);
    h.send(conn, Packet::PingReq);
    assert!(h.is_closed(conn));
    assert!(h.recv(conn).is_none(), "no CONNACK is owed");

    let conn = h.client(V5, "a");
    h.send(conn, Packet::Connect(Box::new(Connect::new(V5, "a"))));
    assert_eq!(disconnect_reason(h.recv(conn)), ReasonCode::PROTOCOL_ERROR);
    assert!(h.is_closed(conn));
}

#[test]
fn connect_must_arrive_in_time() {
    let mut h = Harness::new();
    let conn = h.open(V5);
    h.advance(9);
    assert!(!h.is_closed(conn));
    h.advance(2);
    assert!(h.is_closed(conn));
}

#[test]
fn takeover_closes_the_old_connection_with_0x8e() {
    let mut h = Harness::new();
    let old = h.client(V5, "same");
    let new = h.client(V5, "same");
    assert_eq!(
        disconnect_reason(h.recv(old)),
        ReasonCode::SESSION_TAKEN_OVER
    );
    assert!(h.is_closed(old));
    assert!(!h.is_closed(new));
    assert_eq!(h.engine.connection_count(), 1);
}

#[test]
fn bad_protocol_level_gets_return_code_1() {
    let mut h = Harness::new();
    let conn = h.open(V311);
    let error = decode_exact(
        &[0x10, 0x0C, 0, 4, b'M', b'Q', b'T', b'T', 9, 2, 0, 60, 0, 0],
        V311,
    )
    .unwrap_err();
    h.input(conn, Input::Malformed(error));
    match h.recv(conn) {
        Some(Packet::ConnAck(ack)) => {
            assert_eq!(ack.code, ReasonCode::UNSUPPORTED_PROTOCOL_VERSION)
        }
        other => panic!("expected CONNACK, got {other:?}"),
    }
    assert!(h.is_closed(conn));
}

#[test]
fn connection_limit_refuses_with_quota_exceeded() {
    let mut h = Harness::with(Settings {
        max_connections: 1,
        ..Settings::default()
    });
    h.client(V5, "a");
    let (_, ack) = h.connect_with(Connect::new(V5, "b"));
    assert_eq!(ack.code, ReasonCode::QUOTA_EXCEEDED);
}

#[test]
fn anonymous_access_can_be_switched_off() {
    let mut h = Harness::with(Settings {
        allow_anonymous: false,
        ..Settings::default()
    });
    let (_, ack) = h.connect_with(Connect::new(V311, "a"));
    assert_eq!(ack.code, ReasonCode::NOT_AUTHORIZED);
}

/// A made-up enhanced method, to prove the AUTH exchange is plumbed through: the server
/// challenges once and accepts the answer "open sesame".
struct Challenge;

impl Authenticator for Challenge {
    fn connect(&mut self, _: &Connect) -> AuthDecision {
        AuthDecision::Continue(
            vec![
                Property::AuthenticationMethod("TEST".into()),
                Property::AuthenticationData(Bytes::from_static(b"who?")),
            ]
            .into(),
        )
    }

    fn auth(&mut self, _: &Connect, auth: &Auth) -> AuthDecision {
        match auth.properties.get(PropertyId::AuthenticationData) {
            Some(Property::AuthenticationData(d)) if &d[..] == b"open sesame" => {
                AuthDecision::Accept
            }
            _ => AuthDecision::Refuse(ReasonCode::NOT_AUTHORIZED),
        }
    }
}

#[test]
fn enhanced_authentication_goes_through_the_extension_point() {
    let engine = Engine::with_authenticator(Settings::default(), Box::new(Challenge));
    let mut h = Harness::with_engine(engine);
    let conn = h.open(V5);
    let mut connect = Connect::new(V5, "a");
    connect
        .properties
        .push(Property::AuthenticationMethod("TEST".into()));
    h.send(conn, Packet::Connect(Box::new(connect)));
    assert!(
        matches!(h.recv(conn), Some(Packet::Auth(a)) if a.reason == ReasonCode::CONTINUE_AUTHENTICATION)
    );
    let answer = Auth {
        reason: ReasonCode::CONTINUE_AUTHENTICATION,
        properties: vec![
            Property::AuthenticationMethod("TEST".into()),
            Property::AuthenticationData(Bytes::from_static(b"open sesame")),
        ]
        .into(),
    };
    h.send(conn, Packet::Auth(answer));
    assert!(matches!(h.recv(conn), Some(Packet::ConnAck(a)) if a.code == ReasonCode::SUCCESS));
}

#[test]
fn unknown_authentication_method_is_refused() {
    let mut h = Harness::new();
    let mut connect = Connect::new(V5, "a");
    connect
        .properties
        .push(Property::AuthenticationMethod("SCRAM-SHA-1".into()));
    let (_, ack) = h.connect_with(connect);
    assert_eq!(ack.code, ReasonCode::BAD_AUTHENTICATION_METHOD);
}

// ---------------------------------------------------------------------------------------------
// PUBLISH and QoS
// ---------------------------------------------------------------------------------------------

#[test]
fn qos_is_the_lower_of_published_and_granted() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V311, "pub");
    assert_eq!(
        h.subscribe(sub, "a/+", QoS::AtLeastOnce),
        [ReasonCode::GRANTED_QOS_1]
    );
    h.publish(publisher, "a/b", "two", QoS::ExactlyOnce, 7);
    assert!(matches!(h.recv(publisher), Some(Packet::PubRec(a)) if a.packet_id == pid(7)));
    let p = h.recv_publish(sub);
    assert_eq!((p.qos, &p.payload[..]), (QoS::AtLeastOnce, &b"two"[..]));
    h.publish(publisher, "a/c", "zero", QoS::AtMostOnce, 0);
    assert_eq!(h.recv_publish(sub).qos, QoS::AtMostOnce);
}

#[test]
fn puback_says_when_no_one_subscribed() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    h.publish(publisher, "nobody/home", "x", QoS::AtLeastOnce, 1);
    match h.recv(publisher) {
        Some(Packet::PubAck(a)) => assert_eq!(a.reason, ReasonCode::NO_MATCHING_SUBSCRIBERS),
        other => panic!("expected PUBACK, got {other:?}"),
    }
}

#[test]
fn qos2_resend_before_pubrel_is_not_delivered_twice() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "t", QoS::AtMostOnce);
    h.publish(publisher, "t", "once", QoS::ExactlyOnce, 9);
    h.publish(publisher, "t", "once", QoS::ExactlyOnce, 9);
    assert!(matches!(h.recv(publisher), Some(Packet::PubRec(_))));
    assert!(matches!(h.recv(publisher), Some(Packet::PubRec(_))));
    assert_eq!(h.recv_all(sub).len(), 1);
    h.send(publisher, Packet::PubRel(Ack::new(pid(9))));
    assert!(
        matches!(h.recv(publisher), Some(Packet::PubComp(a)) if a.reason == ReasonCode::SUCCESS)
    );
    // The identifier is free again: a new message with it is delivered.
    h.publish(publisher, "t", "again", QoS::ExactlyOnce, 9);
    assert_eq!(h.recv_all(sub).len(), 1);
}

#[test]
fn outbound_qos2_flow_and_unknown_pubrel() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "t", QoS::ExactlyOnce);
    h.publish(publisher, "t", "x", QoS::ExactlyOnce, 1);
    let p = h.recv_publish(sub);
    let id = p.packet_id.unwrap();
    h.send(sub, Packet::PubRec(Ack::new(id)));
    assert!(matches!(h.recv(sub), Some(Packet::PubRel(a)) if a.packet_id == id));
    h.send(sub, Packet::PubComp(Ack::new(id)));
    assert!(h.recv(sub).is_none());
    // A PUBREL for an identifier never received is answered 0x92.
    h.send(publisher, Packet::PubRel(Ack::new(pid(77))));
    h.recv_all(publisher);
    h.send(sub, Packet::PubRel(Ack::new(pid(77))));
    assert!(
        matches!(h.recv(sub), Some(Packet::PubComp(a)) if a.reason == ReasonCode::PACKET_IDENTIFIER_NOT_FOUND)
    );
}

#[test]
fn receive_maximum_of_the_client_bounds_the_window() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "slow");
    c.properties.push(Property::ReceiveMaximum(1));
    let (sub, _) = h.connect_with(c);
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    for i in 1..=3 {
        h.publish(publisher, "t", &i.to_string(), QoS::AtLeastOnce, i);
    }
    let first = h.recv_publish(sub);
    assert!(
        h.recv(sub).is_none(),
        "one unacknowledged at a time [MQTT-3.3.4-9]"
    );
    h.send(sub, Packet::PubAck(Ack::new(first.packet_id.unwrap())));
    let second = h.recv_publish(sub);
    assert_eq!(&second.payload[..], b"2", "in order");
}

#[test]
fn subscriber_of_3_1_1_gets_a_v5_message_without_properties() {
    let mut h = Harness::new();
    let sub = h.client(V311, "old");
    let publisher = h.client(V5, "new");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let mut p = Publish::new(TopicName::new("t").unwrap(), "x");
    p.properties.push(Property::user("k", "v"));
    h.send(publisher, Packet::Publish(p));
    let got = h.recv_publish(sub);
    assert!(got.properties.is_empty());
}

#[test]
fn properties_are_forwarded_unaltered_and_in_order() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "t", QoS::AtMostOnce);
    let mut p = Publish::new(TopicName::new("t").unwrap(), "x");
    p.properties = vec![
        Property::user("b", "2"),
        Property::PayloadFormatIndicator(1),
        Property::ContentType("text/plain".into()),
        Property::ResponseTopic("reply/here".into()),
        Property::CorrelationData(Bytes::from_static(b"id-1")),
        Property::user("a", "1"),
    ]
    .into();
    h.send(publisher, Packet::Publish(p.clone()));
    assert_eq!(h.recv_publish(sub).properties, p.properties);
}

#[test]
fn payload_format_indicator_is_checked() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    let mut p = Publish::new(
        TopicName::new("t").unwrap(),
        Bytes::from_static(&[0xFF, 0xFE]),
    );
    p.qos = QoS::AtLeastOnce;
    p.packet_id = Some(pid(1));
    p.properties.push(Property::PayloadFormatIndicator(1));
    h.send(publisher, Packet::Publish(p));
    assert!(
        matches!(h.recv(publisher), Some(Packet::PubAck(a)) if a.reason == ReasonCode::PAYLOAD_FORMAT_INVALID)
    );
}

#[test]
fn message_expiry_is_decremented_and_enforced() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "sub");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(600));
    let (sub, _) = h.connect_with(c.clone());
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    h.input(sub, Input::Closed);
    let publisher = h.client(V5, "pub");
    for (payload, expiry) in [("short", 5u32), ("long", 60)] {
        let mut p = Publish::new(TopicName::new("t").unwrap(), payload);
        p.qos = QoS::AtLeastOnce;
        p.packet_id = Some(pid(1));
        p.properties.push(Property::MessageExpiryInterval(expiry));
        h.send(publisher, Packet::Publish(p));
    }
    h.advance(10);
    let (sub, ack) = h.connect_with(c);
    assert!(ack.session_present);
    let p = h.recv_publish(sub);
    assert_eq!(
        &p.payload[..],
        b"long",
        "the expired message was dropped [MQTT-3.3.2-5]"
    );
    assert_eq!(
        p.properties.get(PropertyId::MessageExpiryInterval),
        Some(&Property::MessageExpiryInterval(50)),
        "[MQTT-3.3.2-6]"
    );
    assert!(h.recv(sub).is_none());
}

#[test]
fn packets_too_large_for_the_client_are_dropped() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "small");
    c.properties.push(Property::MaximumPacketSize(64));
    let (sub, _) = h.connect_with(c);
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    h.publish(publisher, "t", &"x".repeat(100), QoS::AtLeastOnce, 1);
    assert!(h.recv(sub).is_none(), "[MQTT-3.1.2-24]");
    h.publish(publisher, "t", "fits", QoS::AtLeastOnce, 2);
    assert_eq!(&h.recv_publish(sub).payload[..], b"fits");
}

// ---------------------------------------------------------------------------------------------
// Topic aliases
// ---------------------------------------------------------------------------------------------

#[test]
fn inbound_topic_alias_is_set_then_used() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "long/topic/name", QoS::AtMostOnce);
    let mut p = Publish::new(TopicName::new("long/topic/name").unwrap(), "1");
    p.properties.push(Property::TopicAlias(3));
    h.send(publisher, Packet::Publish(p));
    let mut p = Publish::new(TopicName::empty(), "2");
    p.properties.push(Property::TopicAlias(3));
    h.send(publisher, Packet::Publish(p));
    let got: Vec<_> = h.recv_all(sub);
    assert_eq!(got.len(), 2);
    assert!(matches!(&got[1], Packet::Publish(p) if &*p.topic == "long/topic/name"));
}

#[test]
fn inbound_topic_alias_errors() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    let mut p = Publish::new(TopicName::new("t").unwrap(), "x");
    p.properties.push(Property::TopicAlias(65));
    h.send(publisher, Packet::Publish(p));
    assert_eq!(
        disconnect_reason(h.recv(publisher)),
        ReasonCode::TOPIC_ALIAS_INVALID
    );

    let publisher = h.client(V5, "pub2");
    let mut p = Publish::new(TopicName::empty(), "x");
    p.properties.push(Property::TopicAlias(1));
    h.send(publisher, Packet::Publish(p));
    assert_eq!(
        disconnect_reason(h.recv(publisher)),
        ReasonCode::PROTOCOL_ERROR
    );
}

#[test]
fn outbound_topic_aliases_for_clients_that_allow_them() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "sub");
    c.properties.push(Property::TopicAliasMaximum(1));
    let (sub, _) = h.connect_with(c);
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "#", QoS::AtMostOnce);
    h.publish(publisher, "a", "1", QoS::AtMostOnce, 0);
    h.publish(publisher, "a", "2", QoS::AtMostOnce, 0);
    h.publish(publisher, "b", "3", QoS::AtMostOnce, 0);
    let first = h.recv_publish(sub);
    assert_eq!(
        (&*first.topic, first.properties.get(PropertyId::TopicAlias)),
        ("a", Some(&Property::TopicAlias(1)))
    );
    let second = h.recv_publish(sub);
    assert_eq!(
        (
            &*second.topic,
            second.properties.get(PropertyId::TopicAlias)
        ),
        ("", Some(&Property::TopicAlias(1)))
    );
    let third = h.recv_publish(sub);
    assert_eq!(
        &*third.topic, "b",
        "no alias beyond the client's maximum [MQTT-3.1.2-26]"
    );
    assert!(third.properties.get(PropertyId::TopicAlias).is_none());
}

// ---------------------------------------------------------------------------------------------
// Subscriptions and retained messages
// ---------------------------------------------------------------------------------------------

#[test]
fn retained_messages_set_read_replace_clear() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    let retain = |h: &mut Harness, payload: &str| {
        let mut p = Publish::new(
            TopicName::new("r/1").unwrap(),
            Bytes::from(payload.to_owned()),
        );
        p.retain = true;
        h.send(publisher, Packet::Publish(p));
    };
    retain(&mut h, "old");
    retain(&mut h, "new");
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "r/#", QoS::AtMostOnce);
    let p = h.recv_publish(sub);
    assert!(
        p.retain,
        "RETAIN is set on messages sent for a new subscription"
    );
    assert_eq!(&p.payload[..], b"new");
    retain(&mut h, "");
    let cleared = h.recv_publish(sub);
    assert!(
        cleared.payload.is_empty() && !cleared.retain,
        "sent on as a normal message"
    );
    let late = h.client(V5, "late");
    h.subscribe(late, "r/#", QoS::AtMostOnce);
    assert!(
        h.recv(late).is_none(),
        "nothing retained any more [MQTT-3.3.1-7]"
    );
}

#[test]
fn retain_handling_options() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    let mut p = Publish::new(TopicName::new("r").unwrap(), "kept");
    p.retain = true;
    h.send(publisher, Packet::Publish(p));
    let sub = h.client(V5, "sub");
    let mut options = SubscriptionOptions::qos(QoS::AtMostOnce);
    options.retain_handling = RetainHandling::DoNotSend;
    h.subscribe_with(sub, "r", options, Properties::new());
    assert!(h.recv(sub).is_none(), "[MQTT-3.3.1-11]");
    options.retain_handling = RetainHandling::SendIfNew;
    h.subscribe_with(sub, "r", options, Properties::new());
    assert!(
        h.recv(sub).is_none(),
        "the subscription existed [MQTT-3.3.1-10]"
    );
    h.subscribe_with(sub, "r/#", options, Properties::new());
    assert!(h.recv(sub).is_some(), "a new subscription gets it");
}

#[test]
fn retain_as_published() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    let mut options = SubscriptionOptions::qos(QoS::AtMostOnce);
    options.retain_as_published = true;
    h.subscribe_with(sub, "rap", options, Properties::new());
    h.subscribe(sub, "plain", QoS::AtMostOnce);
    for topic in ["rap", "plain"] {
        let mut p = Publish::new(TopicName::new(topic).unwrap(), "x");
        p.retain = true;
        h.send(publisher, Packet::Publish(p));
    }
    assert!(h.recv_publish(sub).retain, "[MQTT-3.3.1-13]");
    assert!(!h.recv_publish(sub).retain, "[MQTT-3.3.1-12]");
}

#[test]
fn overlapping_subscriptions_give_one_copy_with_every_identifier() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    let id = |n| vec![Property::SubscriptionIdentifier(n)].into();
    h.subscribe_with(sub, "a/+", SubscriptionOptions::qos(QoS::AtMostOnce), id(1));
    h.subscribe_with(
        sub,
        "a/#",
        SubscriptionOptions::qos(QoS::AtLeastOnce),
        id(2),
    );
    h.publish(publisher, "a/b", "x", QoS::ExactlyOnce, 1);
    let p = h.recv_publish(sub);
    assert_eq!(
        p.qos,
        QoS::AtLeastOnce,
        "the highest granted QoS [MQTT-3.3.4-2]"
    );
    let mut ids: Vec<u32> = p.properties.subscription_identifiers().collect();
    ids.sort();
    assert_eq!(ids, [1, 2], "[MQTT-3.3.4-3]");
    assert!(h.recv(sub).is_none());
}

#[test]
fn no_local_keeps_a_clients_own_messages_from_it() {
    let mut h = Harness::new();
    let me = h.client(V5, "me");
    let mut options = SubscriptionOptions::qos(QoS::AtMostOnce);
    options.no_local = true;
    h.subscribe_with(me, "chat", options, Properties::new());
    h.publish(me, "chat", "hi", QoS::AtMostOnce, 0);
    assert!(h.recv(me).is_none(), "[MQTT-3.8.3-3]");
}

#[test]
fn unsubscribe_reports_per_filter() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "a", QoS::AtMostOnce);
    h.send(
        sub,
        Packet::Unsubscribe(Unsubscribe {
            packet_id: pid(4),
            properties: Properties::new(),
            filters: vec![
                TopicFilter::new("a").unwrap(),
                TopicFilter::new("b").unwrap(),
            ],
        }),
    );
    match h.recv(sub) {
        Some(Packet::UnsubAck(a)) => {
            assert_eq!(a.packet_id, pid(4));
            assert_eq!(
                a.reasons,
                [ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_EXISTED]
            );
        }
        other => panic!("expected UNSUBACK, got {other:?}"),
    }
    let publisher = h.client(V5, "pub");
    h.publish(publisher, "a", "x", QoS::AtMostOnce, 0);
    assert!(h.recv(sub).is_none());
}

#[test]
fn shared_subscription_delivers_once_per_group() {
    let mut h = Harness::new();
    let a = h.client(V5, "a");
    let b = h.client(V311, "b");
    let publisher = h.client(V5, "pub");
    h.subscribe(a, "$share/g/jobs/+", QoS::AtLeastOnce);
    h.subscribe(b, "$share/g/jobs/+", QoS::AtLeastOnce);
    for i in 1..=4 {
        h.publish(publisher, "jobs/x", &i.to_string(), QoS::AtMostOnce, 0);
    }
    let (na, nb) = (h.recv_all(a).len(), h.recv_all(b).len());
    assert_eq!(na + nb, 4);
    assert!(na > 0 && nb > 0, "spread over the members: {na} and {nb}");
}

#[test]
fn switched_off_features_refuse_3x_subscriptions_per_filter() {
    let mut h = Harness::with(Settings {
        deny_subscriptions: vec![TopicFilter::new("secret/#").unwrap()],
        wildcard_subscriptions: false,
        ..Settings::default()
    });
    let old = h.client(V311, "old");
    assert_eq!(
        h.subscribe(old, "secret/#", QoS::AtMostOnce),
        [ReasonCode(0x80)]
    );
    assert_eq!(
        h.subscribe(old, "a/+", QoS::AtMostOnce),
        [ReasonCode(0x80)],
        "3.x was never told"
    );
    assert_eq!(
        h.subscribe(old, "a/b", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0]
    );
}

#[test]
fn deny_list_refuses_with_0x87() {
    let mut h = Harness::with(Settings {
        deny_subscriptions: vec![TopicFilter::new("secret/#").unwrap()],
        ..Settings::default()
    });
    let sub = h.client(V5, "sub");
    assert_eq!(
        h.subscribe(sub, "secret/#", QoS::AtMostOnce),
        [ReasonCode::NOT_AUTHORIZED]
    );
    assert_eq!(
        h.subscribe(sub, "secret/+", QoS::AtMostOnce),
        [ReasonCode::GRANTED_QOS_0],
        "text, not a match"
    );
}

fn subscribe_packet(filter: &str, properties: Vec<Property>) -> Packet {
    Packet::Subscribe(Subscribe {
        packet_id: pid(1),
        properties: properties.into(),
        filters: vec![(
            TopicFilter::new(filter).unwrap(),
            SubscriptionOptions::default(),
        )],
    })
}

/// A 5.0 client told in CONNACK that a feature is off commits a Protocol Error by using it,
/// answered with the feature's own code (sections 3.2.2.3.11 to 3.2.2.3.13).
#[test]
fn features_advertised_off_are_protocol_errors_for_v5() {
    let mut h = Harness::with(Settings {
        wildcard_subscriptions: false,
        shared_subscriptions: false,
        subscription_identifiers: false,
        ..Settings::default()
    });
    let (conn, ack) = h.connect_with(Connect::new(V5, "a"));
    for p in [
        Property::WildcardSubscriptionAvailable(0),
        Property::SharedSubscriptionAvailable(0),
        Property::SubscriptionIdentifierAvailable(0),
    ] {
        assert!(ack.properties.iter().any(|q| *q == p), "{p:?} advertised");
    }
    for (conn, packet, code) in [
        (
            conn,
            subscribe_packet("a/+", vec![]),
            ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED,
        ),
        (
            h.client(V5, "b"),
            subscribe_packet("$share/g/t", vec![]),
            ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED,
        ),
        (
            h.client(V5, "c"),
            subscribe_packet("t", vec![Property::SubscriptionIdentifier(3)]),
            ReasonCode::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
        ),
    ] {
        h.send(conn, packet);
        assert_eq!(disconnect_reason(h.recv(conn)), code);
        assert!(h.is_closed(conn));
    }
}

#[test]
fn will_beyond_the_servers_abilities_is_refused() {
    let mut h = Harness::with(Settings {
        maximum_qos: QoS::AtMostOnce,
        retain_available: false,
        ..Settings::default()
    });
    let (_, ack) = h.connect_with(with_will(V5, "qos", None));
    assert_eq!(ack.code, ReasonCode::QOS_NOT_SUPPORTED, "[MQTT-3.2.2-12]");
    let mut c = with_will(V5, "retain", None);
    if let Some(w) = c.will.as_mut() {
        w.qos = QoS::AtMostOnce;
        w.retain = true;
    }
    let (_, ack) = h.connect_with(c);
    assert_eq!(
        ack.code,
        ReasonCode::RETAIN_NOT_SUPPORTED,
        "[MQTT-3.2.2-13]"
    );
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

#[test]
fn persistent_session_queues_and_redelivers_with_dup() {
    let mut h = Harness::new();
    let mut c = Connect::new(V311, "keeper");
    c.clean_start = false;
    let (sub, ack) = h.connect_with(c.clone());
    assert!(!ack.session_present);
    h.subscribe(sub, "q", QoS::ExactlyOnce);
    let publisher = h.client(V311, "pub");
    h.publish(publisher, "q", "in-flight", QoS::AtLeastOnce, 1);
    let first = h.recv_publish(sub);
    assert!(!first.dup);
    h.input(sub, Input::Closed);
    h.publish(publisher, "q", "queued", QoS::ExactlyOnce, 2);

    let (sub, ack) = h.connect_with(c);
    assert!(ack.session_present);
    let again = h.recv_publish(sub);
    assert!(again.dup, "[MQTT-3.3.1-1]");
    assert_eq!(
        again.packet_id, first.packet_id,
        "same identifier [MQTT-4.4.0-1]"
    );
    let queued = h.recv_publish(sub);
    assert_eq!(
        (&queued.payload[..], queued.qos),
        (&b"queued"[..], QoS::ExactlyOnce)
    );
}

#[test]
fn pubrel_is_resent_on_resume() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "keeper");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(60));
    let (sub, _) = h.connect_with(c.clone());
    h.subscribe(sub, "q", QoS::ExactlyOnce);
    let publisher = h.client(V5, "pub");
    h.publish(publisher, "q", "x", QoS::ExactlyOnce, 1);
    let p = h.recv_publish(sub);
    h.send(sub, Packet::PubRec(Ack::new(p.packet_id.unwrap())));
    h.recv_all(sub);
    h.input(sub, Input::Closed);
    let (sub, _) = h.connect_with(c);
    assert!(matches!(h.recv(sub), Some(Packet::PubRel(a)) if Some(a.packet_id) == p.packet_id));
}

#[test]
fn clean_start_discards_the_session() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "x");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(60));
    let (conn, _) = h.connect_with(c.clone());
    h.subscribe(conn, "t", QoS::AtLeastOnce);
    h.input(conn, Input::Closed);
    let (conn, ack) = h.connect_with(Connect::new(V5, "x"));
    assert!(!ack.session_present, "[MQTT-3.1.2-4]");
    let publisher = h.client(V5, "pub");
    h.publish(publisher, "t", "x", QoS::AtLeastOnce, 1);
    assert!(h.recv(conn).is_none(), "the old subscription is gone");
}

#[test]
fn session_expires_after_its_interval() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "x");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(30));
    let (conn, _) = h.connect_with(c.clone());
    h.input(conn, Input::Closed);
    assert_eq!(h.engine.session_count(), 1);
    h.advance(31);
    assert_eq!(h.engine.session_count(), 0);
    let (_, ack) = h.connect_with(c);
    assert!(!ack.session_present);
}

#[test]
fn session_expiry_granted_is_capped_and_returned() {
    let mut h = Harness::with(Settings {
        max_session_expiry_interval: 100,
        ..Settings::default()
    });
    let mut c = Connect::new(V5, "x");
    c.properties.push(Property::SessionExpiryInterval(1000));
    let (_, ack) = h.connect_with(c);
    assert_eq!(
        ack.properties.get(PropertyId::SessionExpiryInterval),
        Some(&Property::SessionExpiryInterval(100))
    );
}

#[test]
fn session_expiry_cannot_be_raised_from_zero_at_disconnect() {
    let mut h = Harness::new();
    let conn = h.client(V5, "x");
    let mut d = Disconnect::new(ReasonCode::SUCCESS);
    d.properties.push(Property::SessionExpiryInterval(10));
    h.send(conn, Packet::Disconnect(d));
    assert_eq!(disconnect_reason(h.recv(conn)), ReasonCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------------------------------------
// Keep alive, wills, errors, shutdown
// ---------------------------------------------------------------------------------------------

#[test]
fn keep_alive_is_enforced_at_one_and_a_half_times() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "ka");
    c.keep_alive = 10;
    let (conn, _) = h.connect_with(c);
    h.advance(10);
    h.send(conn, Packet::PingReq);
    assert_eq!(h.recv(conn), Some(Packet::PingResp));
    h.advance(14);
    assert!(
        !h.is_closed(conn),
        "14 s after the last packet is within 15 s"
    );
    h.advance(2);
    assert_eq!(
        disconnect_reason(h.recv(conn)),
        ReasonCode::KEEP_ALIVE_TIMEOUT
    );
    assert!(h.is_closed(conn));
}

#[test]
fn server_keep_alive_caps_the_clients() {
    let mut h = Harness::with(Settings {
        max_keep_alive: 30,
        ..Settings::default()
    });
    let mut c = Connect::new(V5, "ka");
    c.keep_alive = 0;
    let (_, ack) = h.connect_with(c);
    assert_eq!(
        ack.properties.get(PropertyId::ServerKeepAlive),
        Some(&Property::ServerKeepAlive(30))
    );
}

fn with_will(protocol: Protocol, id: &str, delay: Option<u32>) -> Connect {
    let mut c = Connect::new(protocol, id);
    let mut properties = Properties::new();
    if let Some(d) = delay {
        properties.push(Property::WillDelayInterval(d));
    }
    c.will = Some(Will {
        qos: QoS::AtLeastOnce,
        retain: false,
        properties,
        topic: TopicName::new("wills").unwrap(),
        payload: Bytes::from(format!("{id} is gone")),
    });
    c
}

#[test]
fn will_is_published_on_abrupt_close_only() {
    let mut h = Harness::new();
    let mut quiet = Connect::new(V5, "watcher");
    quiet.keep_alive = 0;
    let (watcher, _) = h.connect_with(quiet);
    h.subscribe(watcher, "wills", QoS::AtLeastOnce);

    let (conn, _) = h.connect_with(with_will(V311, "abrupt", None));
    h.input(conn, Input::Closed);
    assert_eq!(&h.recv_publish(watcher).payload[..], b"abrupt is gone");

    let (conn, _) = h.connect_with(with_will(V5, "polite", None));
    h.send(
        conn,
        Packet::Disconnect(Disconnect::new(ReasonCode::SUCCESS)),
    );
    assert!(h.recv(watcher).is_none(), "[MQTT-3.14.4-3]");

    let (conn, _) = h.connect_with(with_will(V5, "asks", None));
    h.send(
        conn,
        Packet::Disconnect(Disconnect::new(ReasonCode::DISCONNECT_WITH_WILL)),
    );
    assert_eq!(&h.recv_publish(watcher).payload[..], b"asks is gone");

    let (conn, _) = h.connect_with(with_will(V5, "silent", None));
    let _ = conn;
    h.advance(100); // Keep alive 60 s: closed at 90 s.
    assert_eq!(&h.recv_publish(watcher).payload[..], b"silent is gone");
}

#[test]
fn will_delay_is_cancelled_by_a_reconnect() {
    let mut h = Harness::new();
    let watcher = h.client(V5, "watcher");
    h.subscribe(watcher, "wills", QoS::AtMostOnce);
    let mut c = with_will(V5, "flaky", Some(30));
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(300));
    let (conn, _) = h.connect_with(c.clone());
    h.input(conn, Input::Closed);
    h.advance(10);
    let mut back = Connect::new(V5, "flaky");
    back.clean_start = false;
    back.properties.push(Property::SessionExpiryInterval(300));
    h.connect_with(back);
    h.advance(60);
    assert!(h.recv(watcher).is_none(), "[MQTT-3.1.3-9]");

    // Without a reconnect the will goes out when the delay has passed.
    let (conn, _) = h.connect_with(with_will(V5, "gone", Some(30)));
    h.input(conn, Input::Closed);
    assert!(
        h.recv(watcher).is_some(),
        "session expiry 0 ends the session now, and the will with it"
    );
}

#[test]
fn will_waits_for_its_delay() {
    let mut h = Harness::new();
    let watcher = h.client(V5, "watcher");
    h.subscribe(watcher, "wills", QoS::AtMostOnce);
    let mut c = with_will(V5, "late", Some(30));
    c.properties.push(Property::SessionExpiryInterval(300));
    let (conn, _) = h.connect_with(c);
    h.input(conn, Input::Closed);
    h.advance(20);
    assert!(h.recv(watcher).is_none());
    h.advance(11);
    assert_eq!(&h.recv_publish(watcher).payload[..], b"late is gone");
}

#[test]
fn malformed_packet_closes_with_0x81_and_the_clause() {
    let mut h = Harness::new();
    let bystander = h.client(V5, "bystander");
    let conn = h.client(V5, "bad");
    let error = decode_exact(&[0x30, 0x06, 0x00, 0x03, 0x61, 0x00, 0x62, 0x00], V5).unwrap_err();
    h.input(conn, Input::Malformed(error));
    match h.recv(conn) {
        Some(Packet::Disconnect(d)) => {
            assert_eq!(d.reason, ReasonCode::MALFORMED_PACKET);
            assert!(matches!(
                d.properties.get(PropertyId::ReasonString),
                Some(Property::ReasonString(s)) if s.starts_with("[MQTT-1.5.4-2]")
            ));
        }
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
    assert!(h.is_closed(conn));
    assert!(!h.is_closed(bystander), "nothing else disturbed");
    h.send(bystander, Packet::PingReq);
    assert_eq!(h.recv(bystander), Some(Packet::PingResp));
}

#[test]
fn v3_malformed_packet_just_closes() {
    let mut h = Harness::new();
    let conn = h.client(V311, "bad");
    let error = decode_exact(&[0x30, 0x03, 0x00, 0x01, b'#'], V311).unwrap_err();
    h.input(conn, Input::Malformed(error));
    assert!(h.recv(conn).is_none());
    assert!(h.is_closed(conn));
}

#[test]
fn server_packets_from_a_client_are_protocol_errors() {
    let mut h = Harness::new();
    let conn = h.client(V5, "confused");
    h.send(conn, Packet::PingResp);
    assert_eq!(disconnect_reason(h.recv(conn)), ReasonCode::PROTOCOL_ERROR);
}

#[test]
fn shutdown_tells_v5_clients_0x8b() {
    let mut h = Harness::new();
    let new = h.client(V5, "new");
    let old = h.client(V311, "old");
    h.engine.shutdown(h.now);
    h.collect();
    assert_eq!(
        disconnect_reason(h.recv(new)),
        ReasonCode::SERVER_SHUTTING_DOWN
    );
    assert!(h.recv(old).is_none());
    assert!(h.is_closed(new) && h.is_closed(old));
}

/// Rule 2 of the house: a PUBLISH is encoded once per shape. QoS 0 subscribers of the same
/// protocol family get the very same bytes; QoS 1 copies differ only in their identifier.
#[test]
fn one_encoding_per_shape() {
    let mut h = Harness::new();
    let zeros: Vec<ConnId> = (0..3).map(|i| h.client(V311, &format!("z{i}"))).collect();
    let ones: Vec<ConnId> = (0..2).map(|i| h.client(V5, &format!("o{i}"))).collect();
    for &c in &zeros {
        h.subscribe(c, "fan/out", QoS::AtMostOnce);
    }
    for &c in &ones {
        h.subscribe(c, "fan/out", QoS::AtLeastOnce);
    }
    let publisher = h.client(V5, "pub");
    // One QoS 1 message to o1 first, so that the two QoS 1 subscribers' next packet
    // identifiers differ.
    h.subscribe(ones[1], "warm", QoS::AtLeastOnce);
    h.publish(publisher, "warm", "w", QoS::AtLeastOnce, 1);
    h.recv_all(ones[1]);
    h.recv_all(publisher);

    let mut p = Publish::new(TopicName::new("fan/out").unwrap(), "payload");
    p.qos = QoS::AtLeastOnce;
    p.packet_id = Some(pid(2));
    let bytes = Packet::Publish(p).to_bytes(V5).unwrap();
    let packet = decode_exact(&bytes, V5).unwrap();
    h.engine.handle(publisher, Input::Packet(packet), h.now);
    let outputs: Vec<Output> = h.engine.drain_outputs().collect();
    let frames = |conns: &[ConnId]| -> Vec<Bytes> {
        outputs
            .iter()
            .filter_map(|o| match o {
                Output::Send { conn, frame, .. } if conns.contains(conn) => Some(frame.clone()),
                _ => None,
            })
            .collect()
    };
    let zero_frames = frames(&zeros);
    assert_eq!(zero_frames.len(), 3);
    assert!(
        zero_frames
            .iter()
            .all(|f| f.as_ptr() == zero_frames[0].as_ptr()),
        "QoS 0 subscribers share one encoding"
    );
    let one_frames = frames(&ones);
    let ids: Vec<u16> = one_frames
        .iter()
        .map(|f| match decode_exact(f, V5).unwrap() {
            Packet::Publish(p) => {
                assert_eq!((&*p.topic, &p.payload[..]), ("fan/out", &b"payload"[..]));
                p.packet_id.unwrap().get()
            }
            other => panic!("expected PUBLISH, got {other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "each copy carries its own identifier");
}

/// When a member of a shared subscription goes away with QoS 1 messages unacknowledged, they
/// go to another member; QoS 2 messages stay with the member that started them
/// [MQTT-4.8.2-4].
#[test]
fn shared_subscription_messages_move_when_a_member_leaves() {
    let mut h = Harness::new();
    let persistent = |id: &str| {
        let mut c = Connect::new(V5, id);
        c.clean_start = false;
        c.properties.push(Property::SessionExpiryInterval(300));
        c
    };
    let (a, _) = h.connect_with(persistent("a"));
    let (b, _) = h.connect_with(persistent("b"));
    h.subscribe(a, "$share/g/work", QoS::ExactlyOnce);
    h.subscribe(b, "$share/g/work", QoS::ExactlyOnce);
    let publisher = h.client(V5, "pub");
    for (i, qos) in [
        (1, QoS::AtLeastOnce),
        (2, QoS::AtLeastOnce),
        (3, QoS::ExactlyOnce),
        (4, QoS::ExactlyOnce),
    ] {
        h.publish(publisher, "work", &format!("job{i}"), qos, i);
    }
    let got_a: Vec<Publish> = h
        .recv_all(a)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect();
    let got_b = h.recv_all(b).len();
    assert_eq!(got_a.len() + got_b, 4, "each job to one member");
    assert!(!got_a.is_empty());
    // `a` vanishes without acknowledging anything.
    h.input(a, Input::Closed);
    let moved: Vec<Publish> = h
        .recv_all(b)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect();
    let expected: Vec<&Publish> = got_a.iter().filter(|p| p.qos == QoS::AtLeastOnce).collect();
    assert_eq!(moved.len(), expected.len(), "a's QoS 1 jobs went to b");
    assert!(moved.iter().all(|p| p.qos == QoS::AtLeastOnce && !p.dup));
    // `a` comes back and finishes its QoS 2 jobs, and only those.
    let (a, ack) = h.connect_with(persistent("a"));
    assert!(ack.session_present);
    let resent: Vec<Publish> = h
        .recv_all(a)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect();
    let qos2_of_a = got_a.iter().filter(|p| p.qos == QoS::ExactlyOnce).count();
    assert_eq!(resent.len(), qos2_of_a);
    assert!(resent.iter().all(|p| p.qos == QoS::ExactlyOnce && p.dup));
}

#[test]
fn expired_retained_messages_are_purged() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    let mut p = Publish::new(TopicName::new("r").unwrap(), "brief");
    p.retain = true;
    p.properties.push(Property::MessageExpiryInterval(5));
    h.send(publisher, Packet::Publish(p));
    assert_eq!(h.engine.retained.len(), 1);
    h.send(publisher, Packet::PingReq);
    h.advance(30);
    h.send(publisher, Packet::PingReq);
    h.advance(31);
    assert_eq!(h.engine.retained.len(), 0);
}

#[test]
fn takeover_is_allowed_at_the_connection_limit() {
    let mut h = Harness::with(Settings {
        max_connections: 1,
        ..Settings::default()
    });
    let old = h.client(V5, "same");
    let (_, ack) = h.connect_with(Connect::new(V5, "same"));
    assert_eq!(
        ack.code,
        ReasonCode::SUCCESS,
        "it replaces a connection, it adds none"
    );
    assert!(h.is_closed(old));
    let (_, ack) = h.connect_with(Connect::new(V5, "other"));
    assert_eq!(ack.code, ReasonCode::QUOTA_EXCEEDED);
}
