//! Byte-level snapshots of every control packet, in every protocol where it exists.
//!
//! Each packet is encoded, the bytes are recorded as a hex dump with insta, and the bytes are
//! decoded again: the round trip must give back the very packet that was encoded, and
//! `encoded_len` must agree with the number of bytes written. Two variants per packet:
//! `minimal` (required fields only) and `full` (every field the protocol has, and in 5.0 every
//! property the packet allows).

use std::fmt::Write as _;
use std::num::NonZeroU16;

use bytes::Bytes;
use tern::codec::{
    decode_exact, Ack, Auth, ConnAck, Connect, Disconnect, Packet, PacketId, Properties, Property,
    Protocol, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, SubscriptionOptions,
    TopicFilter, TopicName, UnsubAck, Unsubscribe, Will,
};

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// The two variants of every packet.
const VARIANTS: [Variant; 2] = [Variant::Minimal, Variant::Full];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Minimal,
    Full,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Minimal => "minimal",
            Variant::Full => "full",
        }
    }
}

/// The suffix a protocol gives a snapshot name.
fn tag(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::V3_1 => "v3_1",
        Protocol::V3_1_1 => "v3_1_1",
        Protocol::V5 => "v5",
    }
}

/// A hex dump: a title line, then 16 bytes a line in two groups of 8, after a hex offset.
fn hex_dump(title: &str, bytes: &[u8]) -> String {
    let mut out = format!("{title} ({} bytes)\n", bytes.len());
    for (row, chunk) in bytes.chunks(16).enumerate() {
        write!(out, "{:04X} ", row * 16).unwrap();
        for (i, b) in chunk.iter().enumerate() {
            let sep = if i == 8 { "  " } else { " " };
            write!(out, "{sep}{b:02X}").unwrap();
        }
        out.push('\n');
    }
    out
}

/// Encodes, snapshots, decodes and compares.
fn check(name: &str, packet: Packet, protocol: Protocol) {
    let bytes = packet
        .to_bytes(protocol)
        .unwrap_or_else(|e| panic!("{name}: encode failed: {e}"));
    assert_eq!(
        packet.encoded_len(protocol).unwrap(),
        bytes.len(),
        "{name}: encoded_len"
    );
    let title = format!("{} {protocol}", packet.packet_type());
    insta::assert_snapshot!(name, hex_dump(&title, &bytes));
    let decoded =
        decode_exact(&bytes, protocol).unwrap_or_else(|e| panic!("{name}: decode failed: {e:?}"));
    assert_eq!(decoded, packet, "{name}: round trip");
}

/// Runs `build` for every protocol and variant and checks each packet it returns.
fn each(packet: &str, protocols: &[Protocol], build: impl Fn(Protocol, Variant) -> Packet) {
    for &protocol in protocols {
        for variant in VARIANTS {
            let name = format!("{packet}_{}_{}", tag(protocol), variant.name());
            check(&name, build(protocol, variant), protocol);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

fn id(n: u16) -> PacketId {
    NonZeroU16::new(n).unwrap()
}

fn topic(s: &'static str) -> TopicName {
    TopicName::new(s).unwrap()
}

fn filter(s: &'static str) -> TopicFilter {
    TopicFilter::new(s).unwrap()
}

fn bin(b: &'static [u8]) -> Bytes {
    Bytes::from_static(b)
}

/// Two User Properties, which every property list may carry and which may repeat.
fn users(mut list: Vec<Property>) -> Properties {
    list.push(Property::user("k1", "v1"));
    list.push(Property::user("k2", "v2"));
    Properties::from(list)
}

/// Properties only in 5.0; 3.x packets carry none.
fn v5_only(protocol: Protocol, build: impl FnOnce() -> Properties) -> Properties {
    if protocol.is_v5() {
        build()
    } else {
        Properties::new()
    }
}

fn connect_properties() -> Properties {
    users(vec![
        Property::SessionExpiryInterval(3600),
        Property::ReceiveMaximum(20),
        Property::MaximumPacketSize(65_536),
        Property::TopicAliasMaximum(10),
        Property::RequestResponseInformation(1),
        Property::RequestProblemInformation(0),
        Property::AuthenticationMethod("SCRAM-SHA-1".into()),
        Property::AuthenticationData(bin(b"\x01\x02")),
    ])
}

fn will_properties() -> Properties {
    users(vec![
        Property::WillDelayInterval(30),
        Property::PayloadFormatIndicator(1),
        Property::MessageExpiryInterval(120),
        Property::ContentType("text/plain".into()),
        Property::ResponseTopic("r/t".into()),
        Property::CorrelationData(bin(b"\xCA\xFE")),
    ])
}

fn connack_properties() -> Properties {
    users(vec![
        Property::SessionExpiryInterval(7200),
        Property::ReceiveMaximum(100),
        Property::MaximumQoS(1),
        Property::RetainAvailable(0),
        Property::MaximumPacketSize(1_048_576),
        Property::AssignedClientIdentifier("auto-1".into()),
        Property::TopicAliasMaximum(5),
        Property::ReasonString("welcome".into()),
        Property::WildcardSubscriptionAvailable(1),
        Property::SubscriptionIdentifierAvailable(1),
        Property::SharedSubscriptionAvailable(0),
        Property::ServerKeepAlive(30),
        Property::ResponseInformation("resp".into()),
        Property::ServerReference("other:1883".into()),
        Property::AuthenticationMethod("SCRAM-SHA-1".into()),
        Property::AuthenticationData(bin(b"\x03")),
    ])
}

fn publish_properties() -> Properties {
    users(vec![
        Property::PayloadFormatIndicator(1),
        Property::MessageExpiryInterval(60),
        Property::TopicAlias(7),
        Property::ResponseTopic("reply/to".into()),
        Property::CorrelationData(bin(b"\x00\x01")),
        // One one-byte and one three-byte Variable Byte Integer.
        Property::SubscriptionIdentifier(1),
        Property::SubscriptionIdentifier(16_384),
        Property::ContentType("json".into()),
    ])
}

/// Reason String and two User Properties: the list of PUBACK to PUBCOMP, SUBACK and UNSUBACK.
fn reason_properties() -> Properties {
    users(vec![Property::ReasonString("because".into())])
}

fn disconnect_properties() -> Properties {
    users(vec![
        Property::SessionExpiryInterval(0),
        Property::ReasonString("bye".into()),
        Property::ServerReference("other:1883".into()),
    ])
}

fn auth_properties() -> Properties {
    users(vec![
        Property::AuthenticationMethod("SCRAM-SHA-1".into()),
        Property::AuthenticationData(bin(b"\xAB\xCD")),
        Property::ReasonString("more".into()),
    ])
}

fn connect(protocol: Protocol, variant: Variant) -> Packet {
    let mut c = Connect::new(protocol, "tern");
    if variant == Variant::Full {
        c.clean_start = false;
        c.keep_alive = 300;
        c.properties = v5_only(protocol, connect_properties);
        c.will = Some(Will {
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: v5_only(protocol, will_properties),
            topic: topic("last/will"),
            payload: bin(b"gone"),
        });
        c.username = Some("user".into());
        c.password = Some(bin(b"pass"));
    }
    Packet::Connect(Box::new(c))
}

fn connack(protocol: Protocol, variant: Variant) -> Packet {
    let mut c = ConnAck::new(ReasonCode::SUCCESS);
    if variant == Variant::Full {
        match protocol {
            // 3.1 has no Session Present flag: the only other field is the return code.
            Protocol::V3_1 => c.code = ReasonCode::BAD_USER_NAME_OR_PASSWORD,
            Protocol::V3_1_1 => c.session_present = true,
            Protocol::V5 => {
                c.session_present = true;
                c.properties = connack_properties();
            }
        }
    }
    Packet::ConnAck(c)
}

fn publish(protocol: Protocol, variant: Variant) -> Packet {
    let mut p = Publish::new(topic("a/b"), Bytes::new());
    if variant == Variant::Full {
        p.dup = true;
        p.qos = QoS::ExactlyOnce;
        p.retain = true;
        p.packet_id = Some(id(0x1234));
        p.properties = v5_only(protocol, publish_properties);
        p.payload = bin(b"hello");
    }
    Packet::Publish(p)
}

/// PUBACK to PUBCOMP; `failure` is the non-success code that packet type allows.
fn ack(protocol: Protocol, variant: Variant, failure: ReasonCode) -> Ack {
    let mut a = Ack::new(id(1));
    if variant == Variant::Full {
        a.packet_id = id(0xBEEF);
        if protocol.is_v5() {
            a.reason = failure;
            a.properties = reason_properties();
        }
    }
    a
}

fn subscribe(protocol: Protocol, variant: Variant) -> Packet {
    let filters = match variant {
        Variant::Minimal => vec![(filter("a/b"), SubscriptionOptions::default())],
        Variant::Full if protocol.is_v5() => vec![
            (
                filter("a/+"),
                SubscriptionOptions {
                    qos: QoS::AtMostOnce,
                    no_local: true,
                    retain_as_published: false,
                    retain_handling: RetainHandling::SendAtSubscribe,
                },
            ),
            (
                filter("b/#"),
                SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    no_local: false,
                    retain_as_published: true,
                    retain_handling: RetainHandling::SendIfNew,
                },
            ),
            (
                // No Local is a Protocol Error on a shared subscription [MQTT-3.8.3-4].
                filter("$share/g/c"),
                SubscriptionOptions {
                    qos: QoS::ExactlyOnce,
                    no_local: false,
                    retain_as_published: true,
                    retain_handling: RetainHandling::DoNotSend,
                },
            ),
            (
                filter("#"),
                SubscriptionOptions {
                    qos: QoS::ExactlyOnce,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: RetainHandling::DoNotSend,
                },
            ),
        ],
        Variant::Full => vec![
            (filter("a/+"), SubscriptionOptions::qos(QoS::AtMostOnce)),
            (filter("b/#"), SubscriptionOptions::qos(QoS::AtLeastOnce)),
            (filter("c"), SubscriptionOptions::qos(QoS::ExactlyOnce)),
        ],
    };
    let properties = match variant {
        Variant::Minimal => Properties::new(),
        Variant::Full => v5_only(protocol, || {
            users(vec![Property::SubscriptionIdentifier(300)])
        }),
    };
    Packet::Subscribe(Subscribe {
        packet_id: id(if variant == Variant::Full { 0x0A0B } else { 1 }),
        properties,
        filters,
    })
}

fn suback(protocol: Protocol, variant: Variant) -> Packet {
    let (packet_id, properties, reasons) = match (variant, protocol) {
        (Variant::Minimal, _) => (id(1), Properties::new(), vec![ReasonCode::SUCCESS]),
        // 3.1 has no failure return code: SUBACK only grants QoS levels.
        (Variant::Full, Protocol::V3_1) => (
            id(0x0A0B),
            Properties::new(),
            vec![
                ReasonCode::SUCCESS,
                ReasonCode::GRANTED_QOS_1,
                ReasonCode::GRANTED_QOS_2,
            ],
        ),
        // 3.1.1 has a single failure code, 0x80.
        (Variant::Full, Protocol::V3_1_1) => (
            id(0x0A0B),
            Properties::new(),
            vec![
                ReasonCode::SUCCESS,
                ReasonCode::GRANTED_QOS_1,
                ReasonCode::GRANTED_QOS_2,
                ReasonCode::UNSPECIFIED_ERROR,
            ],
        ),
        (Variant::Full, Protocol::V5) => (
            id(0x0A0B),
            reason_properties(),
            vec![
                ReasonCode::SUCCESS,
                ReasonCode::GRANTED_QOS_1,
                ReasonCode::GRANTED_QOS_2,
                ReasonCode::UNSPECIFIED_ERROR,
                ReasonCode::NOT_AUTHORIZED,
                ReasonCode::TOPIC_FILTER_INVALID,
                ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED,
                ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED,
            ],
        ),
    };
    Packet::SubAck(SubAck {
        packet_id,
        properties,
        reasons,
    })
}

fn unsubscribe(protocol: Protocol, variant: Variant) -> Packet {
    Packet::Unsubscribe(match variant {
        Variant::Minimal => Unsubscribe {
            packet_id: id(1),
            properties: Properties::new(),
            filters: vec![filter("a/b")],
        },
        Variant::Full => Unsubscribe {
            packet_id: id(0x0A0B),
            properties: v5_only(protocol, || users(vec![])),
            filters: vec![filter("a/+"), filter("b/#"), filter("$share/g/c")],
        },
    })
}

fn unsuback(protocol: Protocol, variant: Variant) -> Packet {
    let (packet_id, properties, reasons) = match (variant, protocol.is_v5()) {
        // A 3.x UNSUBACK is a packet identifier and nothing else.
        (Variant::Minimal, false) => (id(1), Properties::new(), vec![]),
        (Variant::Full, false) => (id(0x0A0B), Properties::new(), vec![]),
        (Variant::Minimal, true) => (id(1), Properties::new(), vec![ReasonCode::SUCCESS]),
        (Variant::Full, true) => (
            id(0x0A0B),
            reason_properties(),
            vec![
                ReasonCode::SUCCESS,
                ReasonCode::NO_SUBSCRIPTION_EXISTED,
                ReasonCode::UNSPECIFIED_ERROR,
                ReasonCode::IMPLEMENTATION_SPECIFIC_ERROR,
                ReasonCode::NOT_AUTHORIZED,
                ReasonCode::TOPIC_FILTER_INVALID,
                ReasonCode::PACKET_IDENTIFIER_IN_USE,
            ],
        ),
    };
    Packet::UnsubAck(UnsubAck {
        packet_id,
        properties,
        reasons,
    })
}

fn disconnect(protocol: Protocol, variant: Variant) -> Packet {
    let mut d = Disconnect::default();
    if variant == Variant::Full && protocol.is_v5() {
        d.reason = ReasonCode::DISCONNECT_WITH_WILL;
        d.properties = disconnect_properties();
    }
    Packet::Disconnect(d)
}

fn auth(variant: Variant) -> Packet {
    Packet::Auth(match variant {
        Variant::Minimal => Auth {
            reason: ReasonCode::SUCCESS,
            properties: Properties::new(),
        },
        Variant::Full => Auth {
            reason: ReasonCode::CONTINUE_AUTHENTICATION,
            properties: auth_properties(),
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

const ALL: &[Protocol] = &Protocol::ALL;

#[test]
fn connect_snapshots() {
    each("connect", ALL, connect);
}

#[test]
fn connack_snapshots() {
    each("connack", ALL, connack);
}

#[test]
fn publish_snapshots() {
    each("publish", ALL, publish);
}

#[test]
fn puback_snapshots() {
    each("puback", ALL, |p, v| {
        Packet::PubAck(ack(p, v, ReasonCode::NO_MATCHING_SUBSCRIBERS))
    });
}

#[test]
fn pubrec_snapshots() {
    each("pubrec", ALL, |p, v| {
        Packet::PubRec(ack(p, v, ReasonCode::QUOTA_EXCEEDED))
    });
}

#[test]
fn pubrel_snapshots() {
    each("pubrel", ALL, |p, v| {
        Packet::PubRel(ack(p, v, ReasonCode::PACKET_IDENTIFIER_NOT_FOUND))
    });
}

#[test]
fn pubcomp_snapshots() {
    each("pubcomp", ALL, |p, v| {
        Packet::PubComp(ack(p, v, ReasonCode::PACKET_IDENTIFIER_NOT_FOUND))
    });
}

#[test]
fn subscribe_snapshots() {
    each("subscribe", ALL, subscribe);
}

#[test]
fn suback_snapshots() {
    each("suback", ALL, suback);
}

#[test]
fn unsubscribe_snapshots() {
    each("unsubscribe", ALL, unsubscribe);
}

#[test]
fn unsuback_snapshots() {
    each("unsuback", ALL, unsuback);
}

#[test]
fn pingreq_snapshots() {
    each("pingreq", ALL, |_, _| Packet::PingReq);
}

#[test]
fn pingresp_snapshots() {
    each("pingresp", ALL, |_, _| Packet::PingResp);
}

#[test]
fn disconnect_snapshots() {
    each("disconnect", ALL, disconnect);
}

#[test]
fn auth_snapshots() {
    each("auth", &[Protocol::V5], |_, v| auth(v));
}
