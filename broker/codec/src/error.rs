//! What can be wrong with bytes on the wire, and which rule of the specification says so.
//!
//! Every way a packet can break the specifications is one variant of [`Violation`]. A variant
//! knows the normative statement it breaks in each protocol version (the ids differ between
//! 3.1.1 and 5.0) and the MQTT 5.0 reason code a server sends for it. The same id appears in
//! the error message, the broker's log line, the conformance scenario's tag and the coverage
//! report, so a reader can go from any of them to the others.

use std::fmt;

use super::property_id::PropertyId;
use super::reason::ReasonCode;
use super::types::{PacketType, Protocol};

/// The rule of the specification a violation breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clause {
    /// A numbered normative statement, such as `MQTT-1.5.4-2`.
    Statement(&'static str),
    /// A section whose rule carries no statement number, such as `2.2.2.2`.
    Section(&'static str),
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clause::Statement(id) => write!(f, "[{id}]"),
            Clause::Section(s) => write!(f, "[§{s}]"),
        }
    }
}

/// One way a packet can break the specification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("packet type {0} is reserved")]
    ReservedPacketType(u8),
    #[error("reserved flag bits 0b{flags:04b} in the fixed header")]
    ReservedFlags { packet: PacketType, flags: u8 },
    #[error("Remaining Length longer than four bytes")]
    RemainingLengthTooLong,
    #[error("Variable Byte Integer not encoded in the minimum number of bytes")]
    NonMinimalVarInt,
    #[error("Variable Byte Integer longer than four bytes")]
    VarIntTooLong,
    #[error("packet of {size} bytes exceeds the maximum packet size of {max}")]
    PacketTooLarge { size: u64, max: u32 },
    #[error("packet ends before its fields do")]
    Truncated,
    #[error("{0} bytes after the last field of the packet")]
    TrailingBytes(usize),
    #[error("string is not well-formed UTF-8")]
    InvalidUtf8,
    #[error("string contains the null character U+0000")]
    NullCharacter,
    #[error("protocol name {0:?} is not MQTT (or MQIsdp for level 3)")]
    InvalidProtocolName(String),
    #[error("protocol level {0} is not supported")]
    UnsupportedProtocolLevel(u8),
    #[error("reserved bit 0 of the Connect Flags is set")]
    ConnectReservedFlag,
    #[error("Will QoS is 3")]
    InvalidWillQoS,
    #[error("Will QoS is not 0 while the Will Flag is 0")]
    WillQoSWithoutWill,
    #[error("Will Retain is set while the Will Flag is 0")]
    WillRetainWithoutWill,
    #[error("Password Flag set without the User Name Flag")]
    PasswordWithoutUserName,
    #[error("reserved bits 7-1 of the Connect Acknowledge Flags are set")]
    ConnAckReservedFlags,
    #[error("Session Present is set on a refused connection")]
    SessionPresentOnRefusal,
    #[error("CONNACK return code {0} is not defined")]
    InvalidConnectReturnCode(u8),
    #[error("QoS 3 in a PUBLISH")]
    InvalidQoS,
    #[error("DUP flag set on a QoS 0 PUBLISH")]
    DupOnQoS0,
    #[error("packet identifier is 0")]
    PacketIdZero { packet: PacketType },
    #[error("topic is empty")]
    EmptyTopic,
    #[error("PUBLISH has an empty Topic Name and no Topic Alias")]
    EmptyTopicWithoutAlias,
    #[error("wildcard character in a Topic Name")]
    WildcardInTopicName,
    #[error("multi-level wildcard '#' is not alone in the last level")]
    MultiLevelWildcardNotLast,
    #[error("single-level wildcard '+' does not occupy a whole level")]
    SingleLevelWildcardNotAlone,
    #[error("shared subscription has an empty or invalid ShareName")]
    InvalidShareName,
    #[error("shared subscription has no Topic Filter after its ShareName")]
    SharedSubscriptionWithoutFilter,
    #[error("No Local is set on a shared subscription")]
    NoLocalOnSharedSubscription,
    #[error("reserved bits of the Subscription Options are set")]
    SubscriptionOptionsReserved,
    #[error("requested QoS is 3")]
    InvalidRequestedQoS,
    #[error("Retain Handling is 3")]
    InvalidRetainHandling,
    #[error("{packet} carries no topic filter")]
    EmptyTopicFilterList { packet: PacketType },
    #[error("{packet} carries no reason code")]
    EmptyReasonCodeList { packet: PacketType },
    #[error("reason code {code:?} is not allowed in {packet}")]
    ReasonCodeNotAllowed {
        packet: PacketType,
        code: ReasonCode,
    },
    #[error("return code 0x{0:02X} is not allowed in a 3.x SUBACK")]
    InvalidSubAckReturnCode(u8),
    #[error("property identifier 0x{0:02X} is not defined")]
    UnknownProperty(u32),
    #[error("property {property} is not allowed in {context}")]
    PropertyNotAllowed {
        property: PropertyId,
        context: &'static str,
    },
    #[error("property {0} appears more than once")]
    DuplicateProperty(PropertyId),
    #[error("property {property} has the invalid value {value}")]
    InvalidPropertyValue { property: PropertyId, value: u32 },
    #[error("Response Topic contains a wildcard character")]
    WildcardInResponseTopic,
    #[error("Property Length runs past the end of the packet")]
    PropertyLengthMismatch,
}

impl Violation {
    /// The rule this violation breaks, in the words of the given protocol's specification.
    /// MQTT 3.1 has no numbered statements; its rules are those of 3.1.1.
    pub fn clause(&self, protocol: Protocol) -> Clause {
        let (v5, v3) = self.clauses();
        if protocol.is_v5() {
            v5
        } else {
            v3
        }
    }

    /// The MQTT 5.0 reason code a server sends (CONNACK or DISCONNECT) for this violation.
    ///
    /// Malformed Packet is "cannot be parsed according to this specification"; Protocol Error
    /// is "parsed, but contains data the protocol does not allow" (section 1.2). Where the
    /// specification names the code for a case, that code is used.
    pub fn reason_code(&self) -> ReasonCode {
        use Violation::*;
        match self {
            PacketTooLarge { .. } => ReasonCode::PACKET_TOO_LARGE,
            // "A Topic Alias value of 0 or greater than the Maximum Topic Alias is a Protocol
            // Error, the receiver uses DISCONNECT with Reason Code of 0x94" (section 3.3.4).
            InvalidPropertyValue {
                property: PropertyId::TopicAlias,
                ..
            } => ReasonCode::TOPIC_ALIAS_INVALID,
            InvalidProtocolName(_) | UnsupportedProtocolLevel(_) => {
                ReasonCode::UNSUPPORTED_PROTOCOL_VERSION
            }
            EmptyTopicWithoutAlias
            | NoLocalOnSharedSubscription
            | InvalidRequestedQoS
            | InvalidRetainHandling
            | EmptyTopicFilterList { .. }
            | DuplicateProperty(_)
            | InvalidPropertyValue { .. }
            | WildcardInResponseTopic => ReasonCode::PROTOCOL_ERROR,
            _ => ReasonCode::MALFORMED_PACKET,
        }
    }

    /// (MQTT 5.0 clause, MQTT 3.1.1 clause).
    fn clauses(&self) -> (Clause, Clause) {
        use Clause::{Section as S, Statement as M};
        use Violation::*;
        match self {
            ReservedPacketType(_) => (S("2.1.2"), S("2.2.1")),
            ReservedFlags { packet, .. } => match packet {
                PacketType::PubRel => (M("MQTT-3.6.1-1"), M("MQTT-3.6.1-1")),
                PacketType::Subscribe => (M("MQTT-3.8.1-1"), M("MQTT-3.8.1-1")),
                PacketType::Unsubscribe => (M("MQTT-3.10.1-1"), M("MQTT-3.10.1-1")),
                PacketType::Disconnect => (M("MQTT-3.14.1-1"), M("MQTT-3.14.1-1")),
                PacketType::Auth => (M("MQTT-3.15.1-1"), M("MQTT-2.2.2-2")),
                _ => (M("MQTT-2.1.3-1"), M("MQTT-2.2.2-2")),
            },
            RemainingLengthTooLong => (S("2.1.4"), S("2.2.3")),
            NonMinimalVarInt => (M("MQTT-1.5.5-1"), S("2.2.3")),
            VarIntTooLong => (S("1.5.5"), S("2.2.3")),
            PacketTooLarge { .. } => (M("MQTT-3.2.2-15"), S("2.2.3")),
            Truncated | TrailingBytes(_) => (S("2.1.4"), S("2.2.3")),
            InvalidUtf8 => (M("MQTT-1.5.4-1"), M("MQTT-1.5.3-1")),
            NullCharacter => (M("MQTT-1.5.4-2"), M("MQTT-1.5.3-2")),
            InvalidProtocolName(_) => (M("MQTT-3.1.2-1"), M("MQTT-3.1.2-1")),
            UnsupportedProtocolLevel(_) => (M("MQTT-3.1.2-2"), M("MQTT-3.1.2-2")),
            ConnectReservedFlag => (M("MQTT-3.1.2-3"), M("MQTT-3.1.2-3")),
            InvalidWillQoS => (M("MQTT-3.1.2-12"), M("MQTT-3.1.2-14")),
            WillQoSWithoutWill => (M("MQTT-3.1.2-11"), M("MQTT-3.1.2-13")),
            WillRetainWithoutWill => (M("MQTT-3.1.2-13"), M("MQTT-3.1.2-15")),
            PasswordWithoutUserName => (S("3.1.2.9"), M("MQTT-3.1.2-22")),
            ConnAckReservedFlags => (M("MQTT-3.2.2-1"), S("3.2.2.1")),
            SessionPresentOnRefusal => (M("MQTT-3.2.2-6"), M("MQTT-3.2.2-4")),
            InvalidConnectReturnCode(_) => (M("MQTT-3.2.2-8"), S("3.2.2.3")),
            InvalidQoS => (M("MQTT-3.3.1-4"), M("MQTT-3.3.1-4")),
            DupOnQoS0 => (M("MQTT-3.3.1-2"), M("MQTT-3.3.1-2")),
            PacketIdZero { packet } => match packet {
                PacketType::Publish => (M("MQTT-2.2.1-3"), M("MQTT-2.3.1-1")),
                PacketType::Subscribe | PacketType::Unsubscribe => {
                    (M("MQTT-2.2.1-3"), M("MQTT-2.3.1-1"))
                }
                PacketType::SubAck | PacketType::UnsubAck => (M("MQTT-2.2.1-6"), M("MQTT-2.3.1-7")),
                _ => (M("MQTT-2.2.1-5"), M("MQTT-2.3.1-6")),
            },
            EmptyTopic => (M("MQTT-4.7.3-1"), M("MQTT-4.7.3-1")),
            EmptyTopicWithoutAlias => (S("3.3.2.3.4"), M("MQTT-4.7.3-1")),
            WildcardInTopicName => (M("MQTT-3.3.2-2"), M("MQTT-3.3.2-2")),
            MultiLevelWildcardNotLast => (M("MQTT-4.7.1-1"), M("MQTT-4.7.1-2")),
            SingleLevelWildcardNotAlone => (M("MQTT-4.7.1-2"), M("MQTT-4.7.1-3")),
            InvalidShareName => (M("MQTT-4.8.2-1"), S("4.7")),
            SharedSubscriptionWithoutFilter => (M("MQTT-4.8.2-2"), S("4.7")),
            NoLocalOnSharedSubscription => (M("MQTT-3.8.3-4"), S("3.8.3")),
            SubscriptionOptionsReserved => (M("MQTT-3.8.3-5"), M("MQTT-3.8.3-4")),
            InvalidRequestedQoS => (S("3.8.3.1"), M("MQTT-3.8.3-4")),
            InvalidRetainHandling => (S("3.8.3.1"), S("3.8.3")),
            EmptyTopicFilterList { packet } => match packet {
                PacketType::Unsubscribe => (M("MQTT-3.10.3-2"), M("MQTT-3.10.3-2")),
                _ => (M("MQTT-3.8.3-2"), M("MQTT-3.8.3-3")),
            },
            EmptyReasonCodeList { packet } => match packet {
                PacketType::UnsubAck => (M("MQTT-3.11.3-2"), S("3.11.3")),
                _ => (M("MQTT-3.9.3-2"), M("MQTT-3.8.4-5")),
            },
            ReasonCodeNotAllowed { packet, .. } => match packet {
                PacketType::ConnAck => (M("MQTT-3.2.2-8"), S("3.2.2.3")),
                PacketType::PubAck => (M("MQTT-3.4.2-1"), S("3.4")),
                PacketType::PubRec => (M("MQTT-3.5.2-1"), S("3.5")),
                PacketType::PubRel => (M("MQTT-3.6.2-1"), S("3.6")),
                PacketType::PubComp => (M("MQTT-3.7.2-1"), S("3.7")),
                PacketType::SubAck => (M("MQTT-3.9.3-2"), M("MQTT-3.9.3-2")),
                PacketType::UnsubAck => (M("MQTT-3.11.3-2"), S("3.11")),
                PacketType::Disconnect => (M("MQTT-3.14.2-1"), S("3.14")),
                _ => (M("MQTT-3.15.2-1"), S("3.15")),
            },
            InvalidSubAckReturnCode(_) => (M("MQTT-3.9.3-2"), M("MQTT-3.9.3-2")),
            UnknownProperty(_) | PropertyNotAllowed { .. } | PropertyLengthMismatch => {
                (S("2.2.2.2"), S("2.2.2.2"))
            }
            InvalidPropertyValue {
                property: PropertyId::TopicAlias,
                ..
            } => (M("MQTT-3.3.2-8"), S("3.3.2")),
            DuplicateProperty(id) | InvalidPropertyValue { property: id, .. } => {
                (S(id.section()), S(id.section()))
            }
            WildcardInResponseTopic => (M("MQTT-3.3.2-14"), S("3.3.2")),
        }
    }
}

/// A packet that could not be decoded: which rule it broke, in which packet and protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The protocol the bytes were read as.
    pub protocol: Protocol,
    /// The packet type, once the fixed header named a valid one.
    pub packet: Option<PacketType>,
    /// What was wrong.
    pub violation: Violation,
}

impl DecodeError {
    pub(crate) fn new(
        protocol: Protocol,
        packet: Option<PacketType>,
        violation: Violation,
    ) -> Self {
        DecodeError {
            protocol,
            packet,
            violation,
        }
    }

    /// The rule the packet broke, as the connection's protocol numbers it.
    pub fn clause(&self) -> Clause {
        self.violation.clause(self.protocol)
    }

    /// The MQTT 5.0 reason code to send before closing the connection.
    pub fn reason_code(&self) -> ReasonCode {
        self.violation.reason_code()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.clause())?;
        if let Some(packet) = self.packet {
            write!(f, "{packet}: ")?;
        }
        write!(f, "{}", self.violation)
    }
}

impl std::error::Error for DecodeError {}

/// A packet that cannot be put on the wire as it stands.
///
/// The encoder refuses to produce bytes that a conforming receiver would reject, so a bug in the
/// broker surfaces as this error rather than as a malformed packet sent to a client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{packet} does not exist in {protocol}")]
    NotInProtocol {
        packet: PacketType,
        protocol: Protocol,
    },
    #[error("packet body of {0} bytes exceeds the largest Remaining Length (268,435,455)")]
    TooLarge(usize),
    #[error("string or binary field of {0} bytes exceeds 65,535 bytes")]
    FieldTooLong(usize),
    #[error("property {property} is not allowed in {context}")]
    PropertyNotAllowed {
        property: PropertyId,
        context: &'static str,
    },
    #[error(
        "QoS {qos} PUBLISH with packet identifier {id:?} (QoS 0 has none, QoS 1 and 2 need one)"
    )]
    PacketIdMismatch { qos: u8, id: Option<u16> },
    #[error("reason code {code:?} is not allowed in {packet}")]
    ReasonCodeNotAllowed {
        packet: PacketType,
        code: ReasonCode,
    },
    #[error("{packet} needs at least one entry")]
    Empty { packet: PacketType },
    #[error("empty topic name (only MQTT 5.0 with a Topic Alias allows one)")]
    EmptyTopic,
    #[error("value {value} does not fit a Variable Byte Integer")]
    VarIntTooLarge { value: u32 },
    #[error("the packet would break a rule: {0}")]
    Breaks(Violation),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_clause_packet_and_problem() {
        let e = DecodeError::new(
            Protocol::V5,
            Some(PacketType::Publish),
            Violation::NullCharacter,
        );
        assert_eq!(
            e.to_string(),
            "[MQTT-1.5.4-2] PUBLISH: string contains the null character U+0000"
        );
        let e = DecodeError {
            protocol: Protocol::V3_1_1,
            ..e
        };
        assert_eq!(e.clause(), Clause::Statement("MQTT-1.5.3-2"));
        assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
    }

    #[test]
    fn sections_display_with_a_section_sign() {
        assert_eq!(Clause::Section("2.2.2.2").to_string(), "[§2.2.2.2]");
    }

    /// Every statement id an error names must exist in the statement tables of the
    /// specification it claims to quote, so that the log line leads somewhere.
    #[test]
    fn every_statement_named_exists_in_the_specification() {
        let v5 = include_str!("../../../spec/statement-ids-v5.0.txt");
        let v3 = include_str!("../../../spec/statement-ids-v3.1.1.txt");
        for v in crate::error::tests_support::all_violations() {
            for (protocol, ids) in [(Protocol::V5, v5), (Protocol::V3_1_1, v3)] {
                if let Clause::Statement(id) = v.clause(protocol) {
                    assert!(
                        ids.lines().any(|l| l.trim() == id),
                        "{v:?} names {id}, which {protocol} does not have"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// One value of every variant (and every packet-dependent clause), for table tests.
    pub(crate) fn all_violations() -> Vec<Violation> {
        use Violation::*;
        let mut all = vec![
            ReservedPacketType(0),
            RemainingLengthTooLong,
            NonMinimalVarInt,
            VarIntTooLong,
            PacketTooLarge { size: 10, max: 5 },
            Truncated,
            TrailingBytes(1),
            InvalidUtf8,
            NullCharacter,
            InvalidProtocolName("X".into()),
            UnsupportedProtocolLevel(9),
            ConnectReservedFlag,
            InvalidWillQoS,
            WillQoSWithoutWill,
            WillRetainWithoutWill,
            PasswordWithoutUserName,
            ConnAckReservedFlags,
            SessionPresentOnRefusal,
            InvalidConnectReturnCode(9),
            InvalidQoS,
            DupOnQoS0,
            EmptyTopic,
            EmptyTopicWithoutAlias,
            WildcardInTopicName,
            MultiLevelWildcardNotLast,
            SingleLevelWildcardNotAlone,
            InvalidShareName,
            SharedSubscriptionWithoutFilter,
            NoLocalOnSharedSubscription,
            SubscriptionOptionsReserved,
            InvalidRequestedQoS,
            InvalidRetainHandling,
            InvalidSubAckReturnCode(3),
            UnknownProperty(0x7f),
            WildcardInResponseTopic,
            PropertyLengthMismatch,
        ];
        for ty in (1..=15).filter_map(PacketType::from_u8) {
            all.push(ReservedFlags {
                packet: ty,
                flags: 0xf,
            });
            all.push(PacketIdZero { packet: ty });
            all.push(EmptyTopicFilterList { packet: ty });
            all.push(EmptyReasonCodeList { packet: ty });
            all.push(ReasonCodeNotAllowed {
                packet: ty,
                code: ReasonCode(0x42),
            });
        }
        for id in PropertyId::ALL {
            all.push(DuplicateProperty(*id));
            all.push(InvalidPropertyValue {
                property: *id,
                value: 0,
            });
            all.push(PropertyNotAllowed {
                property: *id,
                context: "CONNECT",
            });
        }
        all
    }
}
