//! The non-normative byte examples printed in the MQTT 3.1.1 and 5.0 specifications,
//! reproduced byte for byte: each packet is encoded, the part the figure shows is compared with
//! the figure's bytes, and the whole packet is decoded back to the same value.
//!
//! The figures show a variable header or a payload, not a whole packet, so each example says
//! where in the encoded packet its bytes start.

use bytes::Bytes;
use tern::codec::*;

struct Example {
    /// Where the figure is printed.
    figure: &'static str,
    protocol: Protocol,
    packet: Packet,
    /// The bytes the figure shows.
    bytes: &'static [u8],
    /// Where they start in the encoded packet: after the fixed header, plus this offset.
    offset_after_fixed_header: usize,
}

fn id(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn topic(s: &str) -> TopicName {
    TopicName::new(s).unwrap()
}

fn filter(s: &str) -> TopicFilter {
    TopicFilter::new(s).unwrap()
}

/// The CONNECT of figure 3-6 (5.0) and figure 3.6 (3.1.1): User Name and Password flags set,
/// Will Retain 0, Will QoS 1, Will Flag set, Clean Start set, Keep Alive 10; in 5.0 a Session
/// Expiry Interval of 10.
fn figure_3_6_connect(protocol: Protocol) -> Packet {
    let mut c = Connect::new(protocol, "client");
    c.keep_alive = 10;
    c.will = Some(Will {
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Properties::new(),
        topic: topic("will"),
        payload: Bytes::from_static(b"gone"),
    });
    c.username = Some("user".into());
    c.password = Some(Bytes::from_static(b"secret"));
    if protocol.is_v5() {
        c.properties.push(Property::SessionExpiryInterval(10));
    }
    Packet::Connect(Box::new(c))
}

/// The PUBLISH of figure 3-9 (5.0) and figure 3.11 (3.1.1): Topic Name "a/b", Packet
/// Identifier 10, no properties.
fn figure_publish(payload: &'static [u8]) -> Packet {
    let mut p = Publish::new(topic("a/b"), Bytes::from_static(payload));
    p.qos = QoS::AtLeastOnce;
    p.packet_id = Some(id(10));
    Packet::Publish(p)
}

/// The SUBSCRIBE of figures 3-19 and 3-21 (5.0), 3.21 and 3.23 (3.1.1): Packet Identifier 10,
/// "a/b" at QoS 1 and "c/d" at QoS 2.
fn figure_subscribe() -> Packet {
    Packet::Subscribe(Subscribe {
        packet_id: id(10),
        properties: Properties::new(),
        filters: vec![
            (filter("a/b"), SubscriptionOptions::qos(QoS::AtLeastOnce)),
            (filter("c/d"), SubscriptionOptions::qos(QoS::ExactlyOnce)),
        ],
    })
}

fn examples() -> Vec<Example> {
    use Protocol::{V3_1_1, V5};
    vec![
        Example {
            figure: "5.0 figure 1-2, UTF-8 Encoded String \"A\u{2A6D4}\"",
            protocol: V5,
            packet: Packet::Publish(Publish::new(topic("A\u{2A6D4}"), Bytes::new())),
            bytes: &[0x00, 0x05, 0x41, 0xF0, 0xAA, 0x9B, 0x94],
            offset_after_fixed_header: 0,
        },
        Example {
            figure: "3.1.1 figure 1.2, UTF-8 encoded string \"A\u{2A6D4}\"",
            protocol: V3_1_1,
            packet: Packet::Publish(Publish::new(topic("A\u{2A6D4}"), Bytes::new())),
            bytes: &[0x00, 0x05, 0x41, 0xF0, 0xAA, 0x9B, 0x94],
            offset_after_fixed_header: 0,
        },
        Example {
            figure: "5.0 figure 3-6, CONNECT Variable Header",
            protocol: V5,
            packet: figure_3_6_connect(V5),
            bytes: &[
                0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0xCE, 0x00, 0x0A, 0x05, 0x11, 0x00, 0x00,
                0x00, 0x0A,
            ],
            offset_after_fixed_header: 0,
        },
        Example {
            figure: "3.1.1 figure 3.6, CONNECT variable header",
            protocol: V3_1_1,
            packet: figure_3_6_connect(V3_1_1),
            bytes: &[0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xCE, 0x00, 0x0A],
            offset_after_fixed_header: 0,
        },
        Example {
            figure: "5.0 figure 3-9, PUBLISH Variable Header",
            protocol: V5,
            packet: figure_publish(b"payload"),
            bytes: &[0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x0A, 0x00],
            offset_after_fixed_header: 0,
        },
        Example {
            figure: "3.1.1 figure 3.11, PUBLISH variable header",
            protocol: V3_1_1,
            packet: figure_publish(b"payload"),
            bytes: &[0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x0A],
            offset_after_fixed_header: 0,
        },
        Example {
            figure: "5.0 figure 3-19, SUBSCRIBE Variable Header",
            protocol: V5,
            packet: figure_subscribe(),
            bytes: &[0x00, 0x0A, 0x00],
            offset_after_fixed_header: 0,
        },
        Example {
            figure: "3.1.1 figure 3.21, SUBSCRIBE variable header",
            protocol: V3_1_1,
            packet: figure_subscribe(),
            bytes: &[0x00, 0x0A],
            offset_after_fixed_header: 0,
        },
        Example {
            figure: "5.0 figure 3-21, SUBSCRIBE Payload",
            protocol: V5,
            packet: figure_subscribe(),
            bytes: &[
                0x00, 0x03, 0x61, 0x2F, 0x62, 0x01, 0x00, 0x03, 0x63, 0x2F, 0x64, 0x02,
            ],
            offset_after_fixed_header: 3,
        },
        Example {
            figure: "3.1.1 figure 3.23, SUBSCRIBE payload",
            protocol: V3_1_1,
            packet: figure_subscribe(),
            bytes: &[
                0x00, 0x03, 0x61, 0x2F, 0x62, 0x01, 0x00, 0x03, 0x63, 0x2F, 0x64, 0x02,
            ],
            offset_after_fixed_header: 2,
        },
        Example {
            figure: "3.1.1 figure 3.27, SUBACK payload",
            protocol: V3_1_1,
            packet: Packet::SubAck(SubAck {
                packet_id: id(10),
                properties: Properties::new(),
                reasons: vec![
                    ReasonCode::SUCCESS,
                    ReasonCode::GRANTED_QOS_2,
                    ReasonCode::UNSPECIFIED_ERROR,
                ],
            }),
            bytes: &[0x00, 0x02, 0x80],
            offset_after_fixed_header: 2,
        },
        Example {
            figure: "5.0 figure 3.30, UNSUBSCRIBE Payload",
            protocol: V5,
            packet: Packet::Unsubscribe(Unsubscribe {
                packet_id: id(10),
                properties: Properties::new(),
                filters: vec![filter("a/b"), filter("c/d")],
            }),
            bytes: &[0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x03, 0x63, 0x2F, 0x64],
            offset_after_fixed_header: 3,
        },
        Example {
            figure: "3.1.1 figure 3.30, UNSUBSCRIBE payload",
            protocol: V3_1_1,
            packet: Packet::Unsubscribe(Unsubscribe {
                packet_id: id(10),
                properties: Properties::new(),
                filters: vec![filter("a/b"), filter("c/d")],
            }),
            bytes: &[0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x03, 0x63, 0x2F, 0x64],
            offset_after_fixed_header: 2,
        },
        // The figure's description says "Length (5)" while its bit columns are misaligned in
        // the published text; the description and the five property bytes that follow agree.
        Example {
            figure: "5.0 figure 3-24, DISCONNECT Variable Header",
            protocol: V5,
            packet: Packet::Disconnect(Disconnect {
                reason: ReasonCode::SUCCESS,
                properties: vec![Property::SessionExpiryInterval(0)].into(),
            }),
            bytes: &[0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00],
            offset_after_fixed_header: 0,
        },
    ]
}

/// The size of the fixed header at the front of an encoded packet.
fn fixed_header_len(encoded: &[u8]) -> usize {
    1 + encoded[1..].iter().position(|b| b & 0x80 == 0).unwrap() + 1
}

#[test]
fn figures_are_reproduced_byte_for_byte() {
    for ex in examples() {
        let encoded = ex.packet.to_bytes(ex.protocol).unwrap();
        let start = fixed_header_len(&encoded) + ex.offset_after_fixed_header;
        let shown = &encoded[start..start + ex.bytes.len()];
        assert_eq!(shown, ex.bytes, "{}", ex.figure);
        assert_eq!(
            decode_exact(&encoded, ex.protocol).unwrap(),
            ex.packet,
            "{}",
            ex.figure
        );
    }
}

/// Table 1-1 of 5.0 (table 2.4 of 3.1.1): the Remaining Length boundaries, seen in the fixed
/// header of PUBLISH packets whose bodies have exactly those sizes.
#[test]
fn remaining_length_table_in_real_fixed_headers() {
    let rows: &[(usize, &[u8])] = &[
        (127, &[0x7F]),
        (128, &[0x80, 0x01]),
        (16_383, &[0xFF, 0x7F]),
        (16_384, &[0x80, 0x80, 0x01]),
        (2_097_151, &[0xFF, 0xFF, 0x7F]),
        (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
    ];
    for &(remaining, expected) in rows {
        // A 3.1.1 QoS 0 PUBLISH to "t": 3 bytes of topic, then the payload.
        let payload = Bytes::from(vec![0x55; remaining - 3]);
        let packet = Packet::Publish(Publish::new(topic("t"), payload));
        let encoded = packet.to_bytes(Protocol::V3_1_1).unwrap();
        assert_eq!(encoded[0], 0x30);
        assert_eq!(&encoded[1..1 + expected.len()], expected, "{remaining}");
        assert_eq!(encoded.len(), 1 + expected.len() + remaining);
        assert_eq!(decode_exact(&encoded, Protocol::V3_1_1).unwrap(), packet);
    }
}
