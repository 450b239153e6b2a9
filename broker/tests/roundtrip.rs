//! Property tests of the codec: generated valid packets of every type, at every protocol level
//! where the type exists, survive encode → decode unchanged, whole or fed in arbitrary chunks;
//! every strict prefix of a packet asks for more bytes; an oversized packet is refused from its
//! fixed header alone; and arbitrary bytes never make the decoder panic.

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};
use tern::codec::{
    decode, decode_exact, Ack, Auth, ConnAck, Connect, Disconnect, Packet, PacketId, PacketType,
    Properties, Property, PropertyContext, PropertyId, Protocol, Publish, QoS, ReasonCode,
    RetainHandling, SubAck, Subscribe, SubscriptionOptions, TopicFilter, TopicName, UnsubAck,
    Unsubscribe, Will, MAX_PACKET_SIZE, SHARE_PREFIX, VARINT_MAX,
};

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/// Characters a topic level may hold: anything but `/`, `+`, `#` and U+0000. Includes `$`,
/// multi-byte UTF-8 and a byte order mark.
const LEVEL_CHARS: &[char] = &[
    'a', 'b', 'c', 'x', 'Z', '0', '9', ' ', '-', '_', '.', '$', 'é', 'ß', '日', '本', '🦀',
    '\u{FEFF}',
];

fn level() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(LEVEL_CHARS), 0..6).prop_map(String::from_iter)
}

/// A prefix that makes some names and filters start with `$` (system topics) or `/`.
fn prefix() -> impl Strategy<Value = &'static str> {
    prop_oneof![6 => Just(""), 1 => Just("$"), 1 => Just("$SYS/"), 1 => Just("/")]
}

/// A valid Topic Name: non-empty, no wildcards, no U+0000; levels may be empty.
fn topic_name() -> impl Strategy<Value = TopicName> {
    (prefix(), prop::collection::vec(level(), 1..5)).prop_map(|(prefix, levels)| {
        let mut name = format!("{prefix}{}", levels.join("/"));
        if name.is_empty() {
            name.push('/');
        }
        TopicName::new(name).expect("generated topic name is valid")
    })
}

/// A valid, non-shared Topic Filter: `+` whole levels anywhere, `#` alone as the last level.
fn plain_filter_string() -> impl Strategy<Value = String> {
    let lvl = prop_oneof![3 => level(), 1 => Just("+".to_string())];
    // No bare `$` prefix here: "$+" and "$#" are not filters (levels may still start with `$`).
    let prefix = prefix().prop_map(|p| if p == "$" { "$SYS/" } else { p });
    (prefix, prop::collection::vec(lvl, 0..5), any::<bool>())
        .prop_map(|(prefix, levels, hash)| {
            let mut filter = format!("{prefix}{}", levels.join("/"));
            if hash || filter.is_empty() {
                if !(filter.is_empty() || filter.ends_with('/')) {
                    filter.push('/');
                }
                filter.push('#');
            }
            filter
        })
        // A filter that starts with `$share/` is a shared subscription's; those come from
        // `shared_filter`, which makes them well-formed.
        .prop_filter("not a shared filter", |f| !f.starts_with(SHARE_PREFIX))
}

fn plain_filter() -> impl Strategy<Value = TopicFilter> {
    plain_filter_string().prop_map(|f| TopicFilter::new(f).expect("generated filter is valid"))
}

/// `$share/{ShareName}/{filter}` (MQTT 5.0 section 4.8.2).
fn shared_filter() -> impl Strategy<Value = TopicFilter> {
    let share_name =
        prop::collection::vec(prop::sample::select(LEVEL_CHARS), 1..6).prop_map(String::from_iter);
    (share_name, plain_filter_string()).prop_map(|(group, filter)| {
        let f = TopicFilter::new(format!("{SHARE_PREFIX}{group}/{filter}")).unwrap();
        assert!(f.shared().unwrap().is_some());
        f
    })
}

/// A Topic Filter, now and then a shared subscription's. 3.x has no shared subscriptions, but
/// `$share/{ShareName}/{filter}` is an ordinary valid filter there, so it is generated too.
fn filter() -> impl Strategy<Value = TopicFilter> {
    prop_oneof![5 => plain_filter(), 1 => shared_filter()]
}

fn packet_id() -> impl Strategy<Value = PacketId> {
    (1..=u16::MAX).prop_map(|id| PacketId::new(id).unwrap())
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

/// A UTF-8 string field: any characters but U+0000; now and then a long one, so that property
/// lists cross the 127-byte boundary of their Property Length.
fn utf8() -> impl Strategy<Value = String> {
    prop_oneof![8 => "[^\u{0}]{0,12}", 1 => "[^\u{0}]{40,80}"]
}

fn binary(max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

/// A Variable Byte Integer value of at least `min`, often just either side of a boundary
/// where its encoding grows by a byte.
fn varint_value(min: u32) -> impl Strategy<Value = u32> {
    prop_oneof![
        min..=127,
        126u32..=129,
        16_382u32..=16_385,
        2_097_150u32..=2_097_153,
        VARINT_MAX - 1..=VARINT_MAX,
        min..=VARINT_MAX,
    ]
}

/// A PUBLISH payload: usually 0..=300 bytes, occasionally one that pushes the Remaining
/// Length across a Variable Byte Integer boundary (2 → 3 bytes at 16,384, 3 bytes at 70,000).
fn payload() -> impl Strategy<Value = Bytes> {
    let large = (
        prop_oneof![Just(70_000usize), 16_370usize..16_400, 120usize..140],
        any::<u8>(),
    )
        .prop_map(|(len, seed)| {
            (0..len)
                .map(|i| seed.wrapping_add(i as u8))
                .collect::<Vec<_>>()
        })
        .prop_map(Bytes::from);
    prop_oneof![30 => binary(300), 1 => large]
}

// ---------------------------------------------------------------------------------------------
// Properties (MQTT 5.0)
// ---------------------------------------------------------------------------------------------

/// A valid value of one property (the rules of `Property::validate` and section 2.2.2).
fn property(id: PropertyId) -> BoxedStrategy<Property> {
    use Property as P;
    use PropertyId as Id;
    // One constructor per value kind; each property below is one line.
    let flag = |f: fn(u8) -> Property| (0u8..=1).prop_map(f).boxed();
    let four = |f: fn(u32) -> Property| any::<u32>().prop_map(f).boxed();
    let two = |f: fn(u16) -> Property| any::<u16>().prop_map(f).boxed();
    let nonzero_two = |f: fn(u16) -> Property| (1..=u16::MAX).prop_map(f).boxed();
    let text = |f: fn(ByteString) -> Property| utf8().prop_map(move |s| f(s.into())).boxed();
    let data = |f: fn(Bytes) -> Property| binary(24).prop_map(f).boxed();
    match id {
        Id::PayloadFormatIndicator => flag(P::PayloadFormatIndicator),
        Id::RequestProblemInformation => flag(P::RequestProblemInformation),
        Id::RequestResponseInformation => flag(P::RequestResponseInformation),
        Id::MaximumQoS => flag(P::MaximumQoS),
        Id::RetainAvailable => flag(P::RetainAvailable),
        Id::WildcardSubscriptionAvailable => flag(P::WildcardSubscriptionAvailable),
        Id::SubscriptionIdentifierAvailable => flag(P::SubscriptionIdentifierAvailable),
        Id::SharedSubscriptionAvailable => flag(P::SharedSubscriptionAvailable),
        Id::MessageExpiryInterval => four(P::MessageExpiryInterval),
        Id::SessionExpiryInterval => four(P::SessionExpiryInterval),
        Id::WillDelayInterval => four(P::WillDelayInterval),
        Id::MaximumPacketSize => (1..=u32::MAX).prop_map(P::MaximumPacketSize).boxed(),
        Id::ServerKeepAlive => two(P::ServerKeepAlive),
        Id::TopicAliasMaximum => two(P::TopicAliasMaximum),
        Id::ReceiveMaximum => nonzero_two(P::ReceiveMaximum),
        Id::TopicAlias => nonzero_two(P::TopicAlias),
        Id::SubscriptionIdentifier => varint_value(1).prop_map(P::SubscriptionIdentifier).boxed(),
        Id::ResponseTopic => topic_name()
            .prop_map(|t| P::ResponseTopic(t.as_byte_string().clone()))
            .boxed(),
        Id::ContentType => text(P::ContentType),
        Id::AssignedClientIdentifier => text(P::AssignedClientIdentifier),
        Id::AuthenticationMethod => text(P::AuthenticationMethod),
        Id::ResponseInformation => text(P::ResponseInformation),
        Id::ServerReference => text(P::ServerReference),
        Id::ReasonString => text(P::ReasonString),
        Id::CorrelationData => data(P::CorrelationData),
        Id::AuthenticationData => data(P::AuthenticationData),
        Id::UserProperty => (utf8(), utf8()).prop_map(|(k, v)| P::user(k, v)).boxed(),
    }
}

/// A valid property list for `ctx`: only allowed properties, each at most once unless it may
/// repeat there, in any order. Empty for 3.x.
fn properties(protocol: Protocol, ctx: PropertyContext) -> BoxedStrategy<Properties> {
    if !protocol.is_v5() {
        return Just(Properties::new()).boxed();
    }
    let allowed = ctx.allowed();
    let singles: Vec<_> = allowed
        .iter()
        .filter(|&&id| !ctx.may_repeat(id))
        .map(|&id| prop::option::weighted(0.25, property(id)))
        .collect();
    let repeated: Vec<_> = allowed
        .iter()
        .filter(|&&id| ctx.may_repeat(id))
        .map(|&id| prop::collection::vec(property(id), 0..3))
        .collect();
    let some = (singles, repeated)
        .prop_map(|(singles, repeated)| {
            singles
                .into_iter()
                .flatten()
                .chain(repeated.into_iter().flatten())
                .collect::<Vec<_>>()
        })
        .prop_shuffle()
        .prop_map(Properties);
    prop_oneof![1 => Just(Properties::new()), 3 => some].boxed()
}

/// A reason code MQTT 5.0 allows in `packet`.
fn reason(packet: PacketType) -> impl Strategy<Value = ReasonCode> {
    prop::sample::select(ReasonCode::allowed_in(packet)).prop_map(ReasonCode)
}

// ---------------------------------------------------------------------------------------------
// One strategy per packet type
// ---------------------------------------------------------------------------------------------

fn will(protocol: Protocol) -> impl Strategy<Value = Will> {
    (
        qos(),
        any::<bool>(),
        properties(protocol, PropertyContext::Will),
        topic_name(),
        binary(300),
    )
        .prop_map(|(qos, retain, properties, topic, payload)| Will {
            qos,
            retain,
            properties,
            topic,
            payload,
        })
}

fn connect(protocol: Protocol) -> impl Strategy<Value = Packet> {
    (
        (
            any::<bool>(),
            any::<u16>(),
            properties(protocol, PropertyContext::Connect),
        ),
        utf8(),
        prop::option::of(will(protocol)),
        prop::option::of(utf8()),
        prop::option::of(binary(32)),
    )
        .prop_map(
            move |((clean_start, keep_alive, properties), client_id, will, username, password)| {
                // 3.x forbids a password without a user name [MQTT-3.1.2-22].
                let password = if protocol.is_v5() || username.is_some() {
                    password
                } else {
                    None
                };
                Packet::Connect(Box::new(Connect {
                    protocol,
                    clean_start,
                    keep_alive,
                    properties,
                    client_id: client_id.into(),
                    will,
                    username: username.map(Into::into),
                    password,
                }))
            },
        )
}

fn connack(protocol: Protocol) -> impl Strategy<Value = Packet> {
    let code = if protocol.is_v5() {
        // Success is one code of 22 but the only one with Session Present: weigh it up.
        prop_oneof![1 => Just(ReasonCode::SUCCESS), 3 => reason(PacketType::ConnAck)].boxed()
    } else {
        (0u8..=5)
            .prop_map(|c| ReasonCode::from_v3_connack(c).unwrap())
            .boxed()
    };
    (
        any::<bool>(),
        code,
        properties(protocol, PropertyContext::ConnAck),
    )
        .prop_map(move |(session_present, code, properties)| {
            Packet::ConnAck(ConnAck {
                // MQTT 3.1 has no Session Present; it is only ever set with Success.
                session_present: session_present
                    && protocol != Protocol::V3_1
                    && code == ReasonCode::SUCCESS,
                code,
                properties,
            })
        })
}

fn publish(protocol: Protocol) -> impl Strategy<Value = Packet> {
    (
        (qos(), any::<bool>(), any::<bool>(), packet_id()),
        topic_name(),
        // In 5.0, sometimes an empty Topic Name standing for the alias given below.
        if protocol.is_v5() {
            prop::option::weighted(0.15, 1..=u16::MAX).boxed()
        } else {
            Just(None).boxed()
        },
        properties(protocol, PropertyContext::Publish),
        payload(),
    )
        .prop_map(
            |((qos, dup, retain, id), topic, alias, mut properties, payload)| {
                let topic = match alias {
                    Some(alias) => {
                        if properties.get(PropertyId::TopicAlias).is_none() {
                            properties.push(Property::TopicAlias(alias));
                        }
                        TopicName::empty()
                    }
                    None => topic,
                };
                let qos0 = qos == QoS::AtMostOnce;
                Packet::Publish(Publish {
                    dup: dup && !qos0,
                    qos,
                    retain,
                    topic,
                    packet_id: (!qos0).then_some(id),
                    properties,
                    payload,
                })
            },
        )
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP.
fn ack(protocol: Protocol) -> impl Strategy<Value = Packet> {
    let kinds = [
        PacketType::PubAck,
        PacketType::PubRec,
        PacketType::PubRel,
        PacketType::PubComp,
    ];
    Union::new(kinds.map(|ty| {
        let code = if protocol.is_v5() {
            reason(ty).boxed()
        } else {
            Just(ReasonCode::SUCCESS).boxed()
        };
        let properties = properties(protocol, PropertyContext::Ack);
        (packet_id(), code, properties)
            .prop_map(move |(packet_id, reason, properties)| {
                let ack = Ack {
                    packet_id,
                    reason,
                    properties,
                };
                match ty {
                    PacketType::PubAck => Packet::PubAck(ack),
                    PacketType::PubRec => Packet::PubRec(ack),
                    PacketType::PubRel => Packet::PubRel(ack),
                    _ => Packet::PubComp(ack),
                }
            })
            .boxed()
    }))
}

fn subscription(protocol: Protocol) -> impl Strategy<Value = (TopicFilter, SubscriptionOptions)> {
    let retain_handling = prop_oneof![
        Just(RetainHandling::SendAtSubscribe),
        Just(RetainHandling::SendIfNew),
        Just(RetainHandling::DoNotSend),
    ];
    (
        filter(),
        qos(),
        any::<bool>(),
        any::<bool>(),
        retain_handling,
    )
        .prop_map(move |(filter, qos, no_local, rap, retain_handling)| {
            let options = if protocol.is_v5() {
                SubscriptionOptions {
                    qos,
                    // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
                    no_local: no_local && filter.shared().unwrap().is_none(),
                    retain_as_published: rap,
                    retain_handling,
                }
            } else {
                SubscriptionOptions::qos(qos)
            };
            (filter, options)
        })
}

fn subscribe(protocol: Protocol) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        properties(protocol, PropertyContext::Subscribe),
        prop::collection::vec(subscription(protocol), 1..5),
    )
        .prop_map(|(packet_id, properties, filters)| {
            Packet::Subscribe(Subscribe {
                packet_id,
                properties,
                filters,
            })
        })
}

/// The return codes of a 3.1.1 SUBACK: the granted QoS, or 0x80 Failure.
const V3_1_1_SUBACK_CODES: &[u8] = &[0x00, 0x01, 0x02, 0x80];
/// MQTT 3.1 has no failure code: its SUBACK only grants a QoS.
const V3_1_SUBACK_CODES: &[u8] = &[0x00, 0x01, 0x02];

fn suback(protocol: Protocol) -> impl Strategy<Value = Packet> {
    let code = match protocol {
        Protocol::V5 => reason(PacketType::SubAck).boxed(),
        Protocol::V3_1_1 => prop::sample::select(V3_1_1_SUBACK_CODES)
            .prop_map(ReasonCode)
            .boxed(),
        Protocol::V3_1 => prop::sample::select(V3_1_SUBACK_CODES)
            .prop_map(ReasonCode)
            .boxed(),
    };
    (
        packet_id(),
        properties(protocol, PropertyContext::SubAck),
        prop::collection::vec(code, 1..5),
    )
        .prop_map(|(packet_id, properties, reasons)| {
            Packet::SubAck(SubAck {
                packet_id,
                properties,
                reasons,
            })
        })
}

fn unsubscribe(protocol: Protocol) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        properties(protocol, PropertyContext::Unsubscribe),
        prop::collection::vec(filter(), 1..5),
    )
        .prop_map(|(packet_id, properties, filters)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                properties,
                filters,
            })
        })
}

fn unsuback(protocol: Protocol) -> impl Strategy<Value = Packet> {
    let reasons = if protocol.is_v5() {
        prop::collection::vec(reason(PacketType::UnsubAck), 1..5).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (
        packet_id(),
        properties(protocol, PropertyContext::UnsubAck),
        reasons,
    )
        .prop_map(|(packet_id, properties, reasons)| {
            Packet::UnsubAck(UnsubAck {
                packet_id,
                properties,
                reasons,
            })
        })
}

fn disconnect(protocol: Protocol) -> impl Strategy<Value = Packet> {
    let code = if protocol.is_v5() {
        reason(PacketType::Disconnect).boxed()
    } else {
        Just(ReasonCode::SUCCESS).boxed()
    };
    (code, properties(protocol, PropertyContext::Disconnect))
        .prop_map(|(reason, properties)| Packet::Disconnect(Disconnect { reason, properties }))
}

/// AUTH exists only in MQTT 5.0.
fn auth() -> impl Strategy<Value = Packet> {
    (
        reason(PacketType::Auth),
        properties(Protocol::V5, PropertyContext::Auth),
    )
        .prop_map(|(reason, properties)| Packet::Auth(Auth { reason, properties }))
}

/// A valid packet of any type that exists in `protocol`.
fn packet(protocol: Protocol) -> impl Strategy<Value = Packet> {
    let mut arms = vec![
        connect(protocol).boxed(),
        connack(protocol).boxed(),
        publish(protocol).boxed(),
        ack(protocol).boxed(),
        subscribe(protocol).boxed(),
        suback(protocol).boxed(),
        unsubscribe(protocol).boxed(),
        unsuback(protocol).boxed(),
        Just(Packet::PingReq).boxed(),
        Just(Packet::PingResp).boxed(),
        disconnect(protocol).boxed(),
    ];
    if protocol.is_v5() {
        arms.push(auth().boxed());
    }
    Union::new(arms)
}

/// A protocol and a valid packet for it, over all three protocols.
fn protocol_and_packet() -> impl Strategy<Value = (Protocol, Packet)> {
    Union::new(Protocol::ALL.map(|p| packet(p).prop_map(move |packet| (p, packet)).boxed()))
}

/// A protocol and a sequence of valid packets for it.
fn protocol_and_packets() -> impl Strategy<Value = (Protocol, Vec<Packet>)> {
    Union::new(Protocol::ALL.map(|p| {
        prop::collection::vec(packet(p), 1..8)
            .prop_map(move |packets| (p, packets))
            .boxed()
    }))
}

fn any_protocol() -> impl Strategy<Value = Protocol> {
    prop::sample::select(Protocol::ALL.to_vec())
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The size of the fixed header of an encoded packet: the first byte and the Remaining Length.
fn fixed_header_len(bytes: &[u8]) -> usize {
    1 + bytes[1..].iter().position(|b| b & 0x80 == 0).unwrap() + 1
}

/// Decodes every packet at the front of `buf`, checking that each one re-encodes and that the
/// re-encoding decodes to the same packet. Stops at the first incomplete frame or error.
fn decode_all_and_reencode(buf: &mut BytesMut, p: Protocol) -> Result<(), TestCaseError> {
    while let Ok(Some(packet)) = decode(buf, p, MAX_PACKET_SIZE) {
        let bytes = packet.to_bytes(p);
        prop_assert!(
            bytes.is_ok(),
            "{packet:?} decoded but does not re-encode: {bytes:?}"
        );
        let again = decode_exact(&bytes.unwrap(), p);
        prop_assert_eq!(again, Ok(packet));
    }
    Ok(())
}

/// `cases` cases; failures are reported, not persisted (integration tests have no `lib.rs` to
/// put a regressions file next to).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(3000))]

    /// (a) encode → decode is the identity, and `encoded_len` is the encoded size.
    #[test]
    fn round_trip((p, packet) in protocol_and_packet()) {
        let bytes = packet.to_bytes(p).expect("a valid packet encodes");
        prop_assert_eq!(packet.encoded_len(p), Ok(bytes.len()));
        prop_assert_eq!(decode_exact(&bytes, p), Ok(packet));
    }

    /// (c) arbitrary bytes never panic the decoder, and whatever it accepts re-encodes.
    #[test]
    fn arbitrary_bytes_never_panic(
        p in any_protocol(),
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        decode_all_and_reencode(&mut BytesMut::from(&bytes[..]), p)?;
    }

    /// (c, biased) valid encodings with a few bytes overwritten or cut off, read as any
    /// protocol: nearly valid input reaches much deeper into the decoder than random bytes do.
    #[test]
    fn mutated_packets_never_panic(
        (written_as, packet) in protocol_and_packet(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        p in any_protocol(),
    ) {
        let mut bytes = packet.to_bytes(written_as).unwrap().to_vec();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        decode_all_and_reencode(&mut BytesMut::from(&bytes[..]), p)?;
    }
}

proptest! {
    #![proptest_config(config(384))]

    /// (b) a sequence of packets fed in arbitrary chunks decodes to the same sequence, with
    /// nothing left over.
    #[test]
    fn incremental_decoding(
        (p, packets) in protocol_and_packets(),
        chunks in prop::collection::vec(1usize..200, 1..16),
    ) {
        let mut wire = BytesMut::new();
        for packet in &packets {
            packet.encode(p, &mut wire).expect("a valid packet encodes");
        }
        let mut buf = BytesMut::new();
        let mut decoded = Vec::new();
        let mut rest = &wire[..];
        for &size in chunks.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at(size.min(rest.len()));
            rest = tail;
            buf.extend_from_slice(chunk);
            while let Some(packet) = decode(&mut buf, p, MAX_PACKET_SIZE)
                .map_err(|e| TestCaseError::fail(format!("decode failed: {e}")))?
            {
                decoded.push(packet);
            }
        }
        prop_assert_eq!(decoded, packets);
        prop_assert!(buf.is_empty(), "{} bytes left over", buf.len());
    }

}

proptest! {
    #![proptest_config(config(768))]

    /// (d) every strict prefix of a packet is an incomplete frame: `Ok(None)`, and nothing is
    /// consumed.
    #[test]
    fn strict_prefixes_need_more((p, packet) in protocol_and_packet()) {
        let bytes = packet.to_bytes(p).unwrap();
        // One buffer grown a byte at a time: `decode` consumes nothing while it says `None`,
        // so the buffer holds exactly the prefix each time.
        let mut buf = BytesMut::new();
        for (len, &byte) in bytes[..bytes.len() - 1].iter().enumerate() {
            let result = decode(&mut buf, p, MAX_PACKET_SIZE);
            prop_assert_eq!(result, Ok(None), "prefix of {} of {} bytes", len, bytes.len());
            prop_assert_eq!(buf.len(), len);
            buf.extend_from_slice(&[byte]);
        }
        prop_assert_eq!(decode(&mut buf, p, MAX_PACKET_SIZE), Ok(None));
        prop_assert_eq!(&buf[..], &bytes[..bytes.len() - 1]);
        buf.extend_from_slice(&bytes[bytes.len() - 1..]);
        prop_assert_eq!(decode(&mut buf, p, MAX_PACKET_SIZE), Ok(Some(packet)));
        prop_assert!(buf.is_empty());
    }

    /// (e) a packet one byte over the limit is refused with Packet too large as soon as its
    /// fixed header is complete, whether or not its body has arrived; at the limit it decodes.
    #[test]
    fn oversized_packet_refused_from_fixed_header((p, packet) in protocol_and_packet()) {
        let bytes = packet.to_bytes(p).unwrap();
        let max = u32::try_from(bytes.len() - 1).unwrap();
        let header = fixed_header_len(&bytes);
        for len in 0..header {
            let mut buf = BytesMut::from(&bytes[..len]);
            prop_assert_eq!(decode(&mut buf, p, max), Ok(None), "{} header bytes", len);
        }
        for len in [header, bytes.len()] {
            let mut buf = BytesMut::from(&bytes[..len]);
            let err = decode(&mut buf, p, max).expect_err("oversized packet accepted");
            prop_assert_eq!(err.reason_code(), ReasonCode::PACKET_TOO_LARGE, "{}", err);
            prop_assert_eq!(err.packet, Some(packet.packet_type()));
            prop_assert_eq!(buf.len(), len, "the buffer is left as it was");
        }
        let mut buf = BytesMut::from(&bytes[..]);
        prop_assert_eq!(decode(&mut buf, p, max + 1), Ok(Some(packet)));
    }
}
