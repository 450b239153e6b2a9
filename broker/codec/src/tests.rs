//! Decoder tests over hand-written bytes: every case is a packet our own encoder would never
//! produce, with the clause it breaks and the reason code a server answers with.

use bytes::BytesMut;

use super::*;

/// Parses a hex string with optional spaces.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

const V3: Protocol = Protocol::V3_1_1;
const V5: Protocol = Protocol::V5;

/// One malformed input: the protocol it is read as, its bytes, and the expected violation,
/// clause and reason code.
struct Case {
    name: &'static str,
    protocol: Protocol,
    bytes: &'static str,
    violation: Violation,
    clause: &'static str,
    reason: ReasonCode,
}

const MALFORMED: ReasonCode = ReasonCode::MALFORMED_PACKET;
const PROTOCOL_ERROR: ReasonCode = ReasonCode::PROTOCOL_ERROR;

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Violation::*;
    let c = |name, protocol, bytes, violation, clause, reason| Case {
        name,
        protocol,
        bytes,
        violation,
        clause,
        reason,
    };
    vec![
        // Fixed header.
        c("type 0 is reserved", V5, "00 00", ReservedPacketType(0), "[§2.1.2]", MALFORMED),
        c("AUTH does not exist in 3.1.1", V3, "F0 00", ReservedPacketType(15), "[§2.2.1]", MALFORMED),
        c("PINGREQ with flags", V5, "C1 00", ReservedFlags { packet: PacketType::PingReq, flags: 1 }, "[MQTT-2.1.3-1]", MALFORMED),
        c("PINGREQ with flags (3.1.1)", V3, "C1 00", ReservedFlags { packet: PacketType::PingReq, flags: 1 }, "[MQTT-2.2.2-2]", MALFORMED),
        c("PUBREL flags 0000", V5, "60 02 00 01", ReservedFlags { packet: PacketType::PubRel, flags: 0 }, "[MQTT-3.6.1-1]", MALFORMED),
        c("SUBSCRIBE flags 0000", V3, "80 06 00 01 00 01 61 00", ReservedFlags { packet: PacketType::Subscribe, flags: 0 }, "[MQTT-3.8.1-1]", MALFORMED),
        c("UNSUBSCRIBE flags 0011", V5, "A3 06 00 01 00 00 01 61", ReservedFlags { packet: PacketType::Unsubscribe, flags: 3 }, "[MQTT-3.10.1-1]", MALFORMED),
        c("DISCONNECT flags", V5, "E2 00", ReservedFlags { packet: PacketType::Disconnect, flags: 2 }, "[MQTT-3.14.1-1]", MALFORMED),
        c("AUTH flags", V5, "F1 00", ReservedFlags { packet: PacketType::Auth, flags: 1 }, "[MQTT-3.15.1-1]", MALFORMED),
        c("PUBLISH QoS 3", V5, "36 05 00 01 61 00 01", InvalidQoS, "[MQTT-3.3.1-4]", MALFORMED),
        c("PUBLISH DUP at QoS 0", V3, "38 03 00 01 61", DupOnQoS0, "[MQTT-3.3.1-2]", MALFORMED),
        c("Remaining Length of five bytes", V5, "30 FF FF FF FF 01", RemainingLengthTooLong, "[§2.1.4]", MALFORMED),
        c("Remaining Length not minimal", V5, "C0 80 00", NonMinimalVarInt, "[MQTT-1.5.5-1]", MALFORMED),
        c("PINGREQ with a body", V3, "C0 01 00", TrailingBytes(1), "[§2.2.3]", MALFORMED),
        // Strings.
        c("U+0000 in a topic", V5, "30 06 00 03 61 00 62 00", NullCharacter, "[MQTT-1.5.4-2]", MALFORMED),
        c("U+0000 in a topic (3.1.1)", V3, "30 05 00 03 61 00 62", NullCharacter, "[MQTT-1.5.3-2]", MALFORMED),
        c("surrogate U+D800 in a topic", V5, "30 06 00 03 ED A0 80 00", InvalidUtf8, "[MQTT-1.5.4-1]", MALFORMED),
        c("truncated UTF-8 in a filter", V3, "82 06 00 01 00 01 C3 00", InvalidUtf8, "[MQTT-1.5.3-1]", MALFORMED),
        c("string longer than the packet", V5, "30 03 00 05 61", Truncated, "[§2.1.4]", MALFORMED),
        // Topics.
        c("wildcard in a Topic Name", V5, "30 06 00 03 61 2F 2B 00", WildcardInTopicName, "[MQTT-3.3.2-2]", MALFORMED),
        c("'#' in a Topic Name (3.1.1)", V3, "30 03 00 01 23", WildcardInTopicName, "[MQTT-3.3.2-2]", MALFORMED),
        c("empty Topic Name (3.1.1)", V3, "30 02 00 00", EmptyTopic, "[MQTT-4.7.3-1]", MALFORMED),
        c("empty Topic Name, no alias", V5, "30 03 00 00 00", EmptyTopicWithoutAlias, "[§3.3.2.3.4]", PROTOCOL_ERROR),
        c("'#' not last", V5, "82 0A 00 01 00 00 04 61 2F 23 2F 00", MultiLevelWildcardNotLast, "[MQTT-4.7.1-1]", MALFORMED),
        c("'#' not alone (3.1.1)", V3, "82 07 00 01 00 02 61 23 00", MultiLevelWildcardNotLast, "[MQTT-4.7.1-2]", MALFORMED),
        c("'+' not alone", V5, "82 09 00 01 00 00 03 61 2B 62 00", SingleLevelWildcardNotAlone, "[MQTT-4.7.1-2]", MALFORMED),
        c("'+' not alone (3.1.1)", V3, "A2 06 00 01 00 02 2B 61", SingleLevelWildcardNotAlone, "[MQTT-4.7.1-3]", MALFORMED),
        c("empty Topic Filter", V5, "82 06 00 01 00 00 00 00", EmptyTopic, "[MQTT-4.7.3-1]", MALFORMED),
        c("shared subscription without ShareName", V5, "82 0F 00 01 00 00 09 24 73 68 61 72 65 2F 2F 61 00", InvalidShareName, "[MQTT-4.8.2-1]", MALFORMED),
        c("No Local on a shared subscription", V5, "82 10 00 01 00 00 0A 24 73 68 61 72 65 2F 67 2F 61 04", NoLocalOnSharedSubscription, "[MQTT-3.8.3-4]", PROTOCOL_ERROR),
        // Packet identifiers.
        c("PUBLISH QoS 1 with id 0", V5, "32 06 00 01 61 00 00 00", PacketIdZero { packet: PacketType::Publish }, "[MQTT-2.2.1-3]", MALFORMED),
        c("SUBSCRIBE with id 0 (3.1.1)", V3, "82 06 00 00 00 01 61 00", PacketIdZero { packet: PacketType::Subscribe }, "[MQTT-2.3.1-1]", MALFORMED),
        c("PUBACK with id 0", V5, "40 02 00 00", PacketIdZero { packet: PacketType::PubAck }, "[MQTT-2.2.1-5]", MALFORMED),
        // SUBSCRIBE and UNSUBSCRIBE payloads.
        c("SUBSCRIBE without filters", V5, "82 03 00 01 00", EmptyTopicFilterList { packet: PacketType::Subscribe }, "[MQTT-3.8.3-2]", PROTOCOL_ERROR),
        c("SUBSCRIBE without filters (3.1.1)", V3, "82 02 00 01", EmptyTopicFilterList { packet: PacketType::Subscribe }, "[MQTT-3.8.3-3]", PROTOCOL_ERROR),
        c("UNSUBSCRIBE without filters", V5, "A2 03 00 01 00", EmptyTopicFilterList { packet: PacketType::Unsubscribe }, "[MQTT-3.10.3-2]", PROTOCOL_ERROR),
        c("requested QoS 3 (3.1.1)", V3, "82 06 00 01 00 01 61 03", InvalidRequestedQoS, "[MQTT-3.8.3-4]", PROTOCOL_ERROR),
        c("requested QoS 3", V5, "82 07 00 01 00 00 01 61 03", InvalidRequestedQoS, "[§3.8.3.1]", PROTOCOL_ERROR),
        c("reserved option bits (3.1.1)", V3, "82 06 00 01 00 01 61 04", SubscriptionOptionsReserved, "[MQTT-3.8.3-4]", MALFORMED),
        c("reserved option bits", V5, "82 07 00 01 00 00 01 61 40", SubscriptionOptionsReserved, "[MQTT-3.8.3-5]", MALFORMED),
        c("Retain Handling 3", V5, "82 07 00 01 00 00 01 61 30", InvalidRetainHandling, "[§3.8.3.1]", PROTOCOL_ERROR),
        // CONNECT.
        c("protocol name MQTX", V5, "10 0D 00 04 4D 51 54 58 05 02 00 3C 00 00 00", InvalidProtocolName("MQTX".into()), "[MQTT-3.1.2-1]", ReasonCode::UNSUPPORTED_PROTOCOL_VERSION),
        c("protocol level 6", V5, "10 0D 00 04 4D 51 54 54 06 02 00 3C 00 00 00", UnsupportedProtocolLevel(6), "[MQTT-3.1.2-2]", ReasonCode::UNSUPPORTED_PROTOCOL_VERSION),
        c("CONNECT reserved flag", V5, "10 0D 00 04 4D 51 54 54 05 03 00 3C 00 00 00", ConnectReservedFlag, "[MQTT-3.1.2-3]", MALFORMED),
        c("CONNECT reserved flag (3.1.1)", V5, "10 0C 00 04 4D 51 54 54 04 03 00 3C 00 00", ConnectReservedFlag, "[MQTT-3.1.2-3]", MALFORMED),
        c("Will QoS 3", V5, "10 0D 00 04 4D 51 54 54 05 1E 00 3C 00 00 00", InvalidWillQoS, "[MQTT-3.1.2-12]", MALFORMED),
        c("Will QoS 3 (3.1.1)", V5, "10 0C 00 04 4D 51 54 54 04 1E 00 3C 00 00", InvalidWillQoS, "[MQTT-3.1.2-14]", MALFORMED),
        c("Will QoS without Will", V5, "10 0D 00 04 4D 51 54 54 05 0A 00 3C 00 00 00", WillQoSWithoutWill, "[MQTT-3.1.2-11]", MALFORMED),
        c("Will Retain without Will (3.1.1)", V5, "10 0C 00 04 4D 51 54 54 04 22 00 3C 00 00", WillRetainWithoutWill, "[MQTT-3.1.2-15]", MALFORMED),
        c("password without user name (3.1.1)", V5, "10 0E 00 04 4D 51 54 54 04 42 00 3C 00 00 00 00", PasswordWithoutUserName, "[MQTT-3.1.2-22]", MALFORMED),
        c("user name flag without user name", V5, "10 0D 00 04 4D 51 54 54 05 82 00 3C 00 00 00", Truncated, "[§2.1.4]", MALFORMED),
        c("CONNECT with trailing bytes (3.1)", V3, "10 10 00 06 4D 51 49 73 64 70 03 02 00 3C 00 01 61 FF", TrailingBytes(1), "[§2.2.3]", MALFORMED),
        // Properties.
        c("duplicate Session Expiry Interval", V5, "10 17 00 04 4D 51 54 54 05 02 00 3C 0A 11 00 00 00 01 11 00 00 00 02 00 00", DuplicateProperty(PropertyId::SessionExpiryInterval), "[§3.1.2.11.2]", PROTOCOL_ERROR),
        c("Receive Maximum 0", V5, "10 10 00 04 4D 51 54 54 05 02 00 3C 03 21 00 00 00 00", InvalidPropertyValue { property: PropertyId::ReceiveMaximum, value: 0 }, "[§3.1.2.11.3]", PROTOCOL_ERROR),
        c("Topic Alias in CONNECT", V5, "10 10 00 04 4D 51 54 54 05 02 00 3C 03 23 00 01 00 00", PropertyNotAllowed { property: PropertyId::TopicAlias, context: "CONNECT" }, "[§2.2.2.2]", MALFORMED),
        c("unknown property 0x7F", V5, "30 06 00 01 61 02 7F 00", UnknownProperty(0x7F), "[§2.2.2.2]", MALFORMED),
        c("Topic Alias 0", V5, "30 07 00 01 61 03 23 00 00", InvalidPropertyValue { property: PropertyId::TopicAlias, value: 0 }, "[MQTT-3.3.2-8]", ReasonCode::TOPIC_ALIAS_INVALID),
        c("Property Length past the end", V5, "30 05 00 01 61 09 01", PropertyLengthMismatch, "[§2.2.2.2]", MALFORMED),
        c("Subscription Identifier 0", V5, "82 09 00 01 02 0B 00 00 01 61 00", InvalidPropertyValue { property: PropertyId::SubscriptionIdentifier, value: 0 }, "[§3.8.2.1.2]", PROTOCOL_ERROR),
        c("two Subscription Identifiers in SUBSCRIBE", V5, "82 0B 00 01 04 0B 01 0B 02 00 01 61 00", DuplicateProperty(PropertyId::SubscriptionIdentifier), "[§3.8.2.1.2]", PROTOCOL_ERROR),
        c("Payload Format Indicator 2", V5, "30 06 00 01 61 02 01 02", InvalidPropertyValue { property: PropertyId::PayloadFormatIndicator, value: 2 }, "[§3.3.2.3.2]", PROTOCOL_ERROR),
        // Reason codes.
        c("PUBACK with a CONNACK code", V5, "40 03 00 01 84", ReasonCodeNotAllowed { packet: PacketType::PubAck, code: ReasonCode(0x84) }, "[MQTT-3.4.2-1]", MALFORMED),
        c("PUBREL with code 0x10", V5, "62 03 00 01 10", ReasonCodeNotAllowed { packet: PacketType::PubRel, code: ReasonCode(0x10) }, "[MQTT-3.6.2-1]", MALFORMED),
        c("DISCONNECT with code 0x01", V5, "E0 01 01", ReasonCodeNotAllowed { packet: PacketType::Disconnect, code: ReasonCode(0x01) }, "[MQTT-3.14.2-1]", MALFORMED),
        c("AUTH with code 0x80", V5, "F0 01 80", ReasonCodeNotAllowed { packet: PacketType::Auth, code: ReasonCode(0x80) }, "[MQTT-3.15.2-1]", MALFORMED),
        c("SUBACK return code 3 (3.1.1)", V3, "90 03 00 01 03", InvalidSubAckReturnCode(3), "[MQTT-3.9.3-2]", MALFORMED),
        c("CONNACK reserved flags", V5, "20 03 02 00 00", ConnAckReservedFlags, "[MQTT-3.2.2-1]", MALFORMED),
        c("CONNACK return code 6 (3.1.1)", V3, "20 02 00 06", InvalidConnectReturnCode(6), "[§3.2.2.3]", MALFORMED),
        c("Session Present on refusal", V3, "20 02 01 05", SessionPresentOnRefusal, "[MQTT-3.2.2-4]", MALFORMED),
        c("DISCONNECT with a body (3.1.1)", V3, "E0 01 00", TrailingBytes(1), "[§2.2.3]", MALFORMED),
    ]
}

#[test]
fn malformed_inputs_name_their_clause_and_reason_code() {
    let mut failures = Vec::new();
    for case in cases() {
        let got = decode_exact(&hex(case.bytes), case.protocol);
        match got {
            Err(e)
                if e.violation == case.violation
                    && e.clause().to_string() == case.clause
                    && e.reason_code() == case.reason => {}
            other => failures.push(format!(
                "{}: expected {:?} {} {:?}, got {other:?}",
                case.name, case.violation, case.clause, case.reason
            )),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Each malformed case is also refused when it arrives a byte at a time, and never panics.
#[test]
fn malformed_inputs_fail_the_same_way_byte_by_byte() {
    for case in cases() {
        let bytes = hex(case.bytes);
        let mut buf = BytesMut::new();
        let mut outcome = Ok(None);
        for &b in &bytes {
            buf.extend_from_slice(&[b]);
            outcome = decode(&mut buf, case.protocol, MAX_PACKET_SIZE);
            if !matches!(outcome, Ok(None)) {
                break;
            }
        }
        let e = outcome.expect_err(case.name);
        assert_eq!(e.violation, case.violation, "{}", case.name);
    }
}

#[test]
fn partial_frame_needs_more_and_consumes_nothing() {
    let bytes = hex("30 0A 00 03 61 2F 62 68 65 6C 6C 6F");
    for cut in 0..bytes.len() {
        let mut buf = BytesMut::from(&bytes[..cut]);
        assert_eq!(
            decode(&mut buf, V5, MAX_PACKET_SIZE),
            Ok(None),
            "cut at {cut}"
        );
        assert_eq!(buf.len(), cut, "nothing consumed at {cut}");
    }
}

#[test]
fn two_packets_in_one_buffer_come_out_in_order() {
    let mut buf = BytesMut::from(&hex("C0 00 30 04 00 01 61 7A D0 00")[..]);
    assert_eq!(
        decode(&mut buf, V3, MAX_PACKET_SIZE),
        Ok(Some(Packet::PingReq))
    );
    let Some(Packet::Publish(p)) = decode(&mut buf, V3, MAX_PACKET_SIZE).unwrap() else {
        panic!("expected PUBLISH");
    };
    assert_eq!((&*p.topic, &p.payload[..]), ("a", &b"z"[..]));
    assert_eq!(
        decode(&mut buf, V3, MAX_PACKET_SIZE),
        Ok(Some(Packet::PingResp))
    );
    assert!(buf.is_empty());
}

#[test]
fn publish_payload_is_a_slice_of_the_read_buffer() {
    let mut buf = BytesMut::from(&hex("30 0A 00 03 61 2F 62 68 65 6C 6C 6F")[..]);
    let region = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let Some(Packet::Publish(p)) = decode(&mut buf, V3, MAX_PACKET_SIZE).unwrap() else {
        panic!("expected PUBLISH");
    };
    assert_eq!(&p.payload[..], b"hello");
    assert!(
        region.contains(&(p.payload.as_ptr() as usize)),
        "payload was copied"
    );
    assert!(
        region.contains(&(p.topic.as_ptr() as usize)),
        "topic was copied"
    );
}

#[test]
fn oversized_frame_is_refused_from_its_fixed_header() {
    // A PUBLISH announcing 200 bytes; only the fixed header has arrived.
    let mut buf = BytesMut::from(&hex("30 C8 01")[..]);
    let e = decode(&mut buf, V5, 100).unwrap_err();
    assert_eq!(
        e.violation,
        Violation::PacketTooLarge {
            size: 203,
            max: 100
        }
    );
    assert_eq!(e.reason_code(), ReasonCode::PACKET_TOO_LARGE);
    assert_eq!(
        e.to_string(),
        "[MQTT-3.2.2-15] PUBLISH: packet of 203 bytes exceeds the maximum packet size of 100"
    );
    // The same frame fits a larger limit and then waits for its body.
    let mut buf = BytesMut::from(&hex("30 C8 01")[..]);
    assert_eq!(decode(&mut buf, V5, 203), Ok(None));
}

#[test]
fn connect_errors_are_numbered_by_the_protocol_it_names() {
    // Read by a connection that has not settled its protocol (passed as 5.0), a 3.1.1 CONNECT
    // with a bad flag cites the 3.1.1 statement.
    let e = decode_exact(&hex("10 0C 00 04 4D 51 54 54 04 03 00 3C 00 00"), V5).unwrap_err();
    assert_eq!(e.protocol, V3);
    let e = decode_exact(&hex("10 0C 00 04 4D 51 54 54 04 22 00 3C 00 00"), V5).unwrap_err();
    assert_eq!(e.clause(), Clause::Statement("MQTT-3.1.2-15"));
}

#[test]
fn three_one_connect_is_mqisdp_level_3() {
    let Packet::Connect(c) = decode_exact(
        &hex("10 11 00 06 4D 51 49 73 64 70 03 02 00 3C 00 03 61 62 63"),
        V5,
    )
    .unwrap() else {
        panic!("expected CONNECT")
    };
    assert_eq!(c.protocol, Protocol::V3_1);
    assert_eq!(&*c.client_id, "abc");
    assert!(c.clean_start);
}

#[test]
fn v5_acks_may_omit_reason_and_properties() {
    for (bytes, reason) in [
        ("40 02 00 07", ReasonCode::SUCCESS),
        ("40 03 00 07 10", ReasonCode::NO_MATCHING_SUBSCRIBERS),
        ("40 04 00 07 10 00", ReasonCode::NO_MATCHING_SUBSCRIBERS),
    ] {
        let Packet::PubAck(a) = decode_exact(&hex(bytes), V5).unwrap() else {
            panic!("expected PUBACK")
        };
        assert_eq!((a.packet_id.get(), a.reason), (7, reason));
        assert!(a.properties.is_empty());
    }
    let Packet::Disconnect(d) = decode_exact(&hex("E0 00"), V5).unwrap() else {
        panic!("expected DISCONNECT")
    };
    assert_eq!(d.reason, ReasonCode::SUCCESS);
    // The encoder writes the shortest form.
    let ack = Packet::PubAck(Ack::new(PacketId::new(7).unwrap()));
    assert_eq!(&ack.to_bytes(V5).unwrap()[..], &hex("40 02 00 07")[..]);
}

#[test]
fn encoder_refuses_what_a_receiver_would_refuse() {
    let topic = TopicName::new("a").unwrap();
    let mut p = Publish::new(topic, "x");
    p.packet_id = PacketId::new(1);
    assert!(matches!(
        Packet::Publish(p.clone()).to_bytes(V5),
        Err(EncodeError::PacketIdMismatch { .. })
    ));
    p.qos = QoS::AtLeastOnce;
    p.properties.push(Property::SessionExpiryInterval(1));
    assert!(matches!(
        Packet::Publish(p.clone()).to_bytes(V5),
        Err(EncodeError::Breaks(Violation::PropertyNotAllowed { .. }))
    ));
    // 3.x has no properties: they are left out, not refused.
    assert!(Packet::Publish(p).to_bytes(V3).is_ok());
    let empty = Publish::new(TopicName::empty(), "x");
    assert_eq!(
        Packet::Publish(empty).to_bytes(V5),
        Err(EncodeError::EmptyTopic)
    );
    assert!(matches!(
        Packet::Auth(Auth {
            reason: ReasonCode::SUCCESS,
            properties: Properties::new()
        })
        .to_bytes(V3),
        Err(EncodeError::NotInProtocol { .. })
    ));
    let mut buf = BytesMut::new();
    let bad = Packet::Disconnect(Disconnect::new(ReasonCode::GRANTED_QOS_1));
    assert!(bad.encode(V5, &mut buf).is_err());
    assert!(buf.is_empty(), "nothing is written for a refused packet");
}

/// Whatever the decoder refuses, the encoder refuses to write: properties repeated or with
/// invalid values, and No Local on a shared subscription.
#[test]
fn encoder_applies_the_decoders_rules() {
    let publish_with = |props: Vec<Property>| {
        let mut p = Publish::new(TopicName::new("a").unwrap(), "x");
        p.properties = props.into();
        Packet::Publish(p)
    };
    let subscribe = |filter: &str, no_local: bool, props: Vec<Property>| {
        let mut options = SubscriptionOptions::qos(QoS::AtLeastOnce);
        options.no_local = no_local;
        Packet::Subscribe(Subscribe {
            packet_id: PacketId::new(1).unwrap(),
            properties: props.into(),
            filters: vec![(TopicFilter::new(filter).unwrap(), options)],
        })
    };
    let mut connack = ConnAck::new(ReasonCode::SUCCESS);
    connack.properties.push(Property::ReceiveMaximum(0));
    let refused = [
        publish_with(vec![Property::TopicAlias(1), Property::TopicAlias(2)]),
        publish_with(vec![Property::TopicAlias(0)]),
        publish_with(vec![Property::PayloadFormatIndicator(2)]),
        publish_with(vec![Property::ResponseTopic("a/#".into())]),
        Packet::ConnAck(connack),
        subscribe(
            "a",
            false,
            vec![
                Property::SubscriptionIdentifier(1),
                Property::SubscriptionIdentifier(2),
            ],
        ),
        subscribe("$share/g/a", true, vec![]),
    ];
    for packet in refused {
        let result = packet.to_bytes(V5);
        assert!(
            matches!(result, Err(EncodeError::Breaks(_))),
            "{packet:?} gave {result:?}"
        );
    }
    // A shared filter with No Local is an ordinary filter to 3.1.1.
    assert!(subscribe("$share/g/a", true, vec![]).to_bytes(V3).is_ok());
}

#[test]
fn three_one_suback_has_no_failure_code() {
    let suback = |code| {
        Packet::SubAck(SubAck {
            packet_id: PacketId::new(1).unwrap(),
            properties: Properties::new(),
            reasons: vec![code],
        })
    };
    let failure = suback(ReasonCode::NOT_AUTHORIZED);
    assert!(failure.to_bytes(Protocol::V3_1).is_err());
    assert_eq!(
        &failure.to_bytes(V3).unwrap()[..],
        &hex("90 03 00 01 80")[..]
    );
    assert!(decode_exact(&hex("90 03 00 01 80"), Protocol::V3_1).is_err());
    assert!(suback(ReasonCode::GRANTED_QOS_2)
        .to_bytes(Protocol::V3_1)
        .is_ok());
}

/// Found by reading the code while writing the fuzz targets: a string holding U+0000 is
/// refused by the decoder [MQTT-1.5.4-2], so the encoder must refuse to write one.
#[test]
fn encoder_refuses_null_characters_in_strings() {
    let c = Connect::new(V3, "a\0");
    assert_eq!(
        Packet::Connect(Box::new(c)).to_bytes(V3),
        Err(EncodeError::Breaks(Violation::NullCharacter))
    );
    let mut c = Connect::new(V5, "a");
    c.username = Some("u\0".into());
    assert!(Packet::Connect(Box::new(c)).to_bytes(V5).is_err());
    let mut p = Publish::new(TopicName::new("t").unwrap(), "x");
    p.properties.push(Property::user("k", "v\0"));
    assert!(Packet::Publish(p.clone()).to_bytes(V5).is_err());
    p.properties = vec![Property::ContentType("a\0".into())].into();
    assert!(Packet::Publish(p).to_bytes(V5).is_err());
}

#[test]
fn three_one_accepts_dup_on_resent_pubrel_subscribe_and_unsubscribe() {
    // MQTT 3.1 gives these packets QoS 1 and sets DUP when it resends them; 3.1.1 reserved
    // the bits.
    for bytes in [
        "6A 02 00 01",
        "8A 06 00 01 00 01 61 00",
        "AA 05 00 01 00 01 61",
    ] {
        let packet = decode_exact(&hex(bytes), Protocol::V3_1).unwrap();
        assert_eq!(
            packet.to_bytes(Protocol::V3_1).unwrap()[0],
            hex(bytes)[0] & !0b1000,
            "{bytes}"
        );
        assert!(
            decode_exact(&hex(bytes), Protocol::V3_1_1).is_err(),
            "{bytes}"
        );
    }
}

#[test]
fn acknowledgements_are_read_in_place_in_order() {
    for protocol in [V3, V5] {
        let mut buf =
            BytesMut::from(&hex("40 02 00 01 50 02 00 02 62 02 00 03 70 02 00 04 C0 00")[..]);
        let mut got = Vec::new();
        while let Some(packet) = decode(&mut buf, protocol, MAX_PACKET_SIZE).unwrap() {
            got.push(packet);
        }
        let id = |n| Ack::new(PacketId::new(n).unwrap());
        assert_eq!(
            got,
            [
                Packet::PubAck(id(1)),
                Packet::PubRec(id(2)),
                Packet::PubRel(id(3)),
                Packet::PubComp(id(4)),
                Packet::PingReq
            ]
        );
        assert!(buf.is_empty());
    }
    // The fixed header's rules still hold: PUBREL's flags are 0010 [MQTT-3.6.1-1].
    let mut buf = BytesMut::from(&hex("60 02 00 03")[..]);
    assert!(decode(&mut buf, V3, MAX_PACKET_SIZE).is_err());
}
