//! MQTT 5.0 properties (section 2.2.2): their identifiers and types, which packets may carry
//! which, which may repeat, and which values are invalid.
//!
//! Properties are kept as an ordered list, as they came off the wire. Most packets carry none or
//! a handful, so a list is smaller than a struct with a slot for all 27, costs nothing when
//! empty, and preserves the order of User Properties that the server must keep when forwarding
//! ([MQTT-3.3.2-18]).

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;

use super::error::{EncodeError, Violation};
use super::property_id::PropertyId;
use super::property_table::property_table;
use super::topic;
use super::wire::{self, Reader};

/// How a property's value is encoded (section 1.5).
trait Kind {
    type Value: Clone + fmt::Debug + PartialEq + Eq;
    fn read(r: &mut Reader) -> Result<Self::Value, Violation>;
    fn len(v: &Self::Value) -> usize;
    fn check(v: &Self::Value) -> Result<(), EncodeError>;
    fn write(v: &Self::Value, buf: &mut BytesMut);
    /// The value as a number, for messages about invalid values.
    fn number(v: &Self::Value) -> u32;
}

struct Byte;
struct TwoByte;
struct FourByte;
struct VarInt;
struct Utf8;
struct Binary;
struct Utf8Pair;

impl Kind for Byte {
    type Value = u8;
    fn read(r: &mut Reader) -> Result<u8, Violation> {
        r.u8()
    }
    fn len(_: &u8) -> usize {
        1
    }
    fn check(_: &u8) -> Result<(), EncodeError> {
        Ok(())
    }
    fn write(v: &u8, buf: &mut BytesMut) {
        buf.put_u8(*v)
    }
    fn number(v: &u8) -> u32 {
        u32::from(*v)
    }
}

impl Kind for TwoByte {
    type Value = u16;
    fn read(r: &mut Reader) -> Result<u16, Violation> {
        r.u16()
    }
    fn len(_: &u16) -> usize {
        2
    }
    fn check(_: &u16) -> Result<(), EncodeError> {
        Ok(())
    }
    fn write(v: &u16, buf: &mut BytesMut) {
        buf.put_u16(*v)
    }
    fn number(v: &u16) -> u32 {
        u32::from(*v)
    }
}

impl Kind for FourByte {
    type Value = u32;
    fn read(r: &mut Reader) -> Result<u32, Violation> {
        r.u32()
    }
    fn len(_: &u32) -> usize {
        4
    }
    fn check(_: &u32) -> Result<(), EncodeError> {
        Ok(())
    }
    fn write(v: &u32, buf: &mut BytesMut) {
        buf.put_u32(*v)
    }
    fn number(v: &u32) -> u32 {
        *v
    }
}

impl Kind for VarInt {
    type Value = u32;
    fn read(r: &mut Reader) -> Result<u32, Violation> {
        r.varint()
    }
    fn len(v: &u32) -> usize {
        wire::varint_len(*v as usize)
    }
    fn check(v: &u32) -> Result<(), EncodeError> {
        if *v > wire::VARINT_MAX {
            Err(EncodeError::VarIntTooLarge { value: *v })
        } else {
            Ok(())
        }
    }
    fn write(v: &u32, buf: &mut BytesMut) {
        // `check` has bounded the value, so this cannot fail.
        let _ = wire::put_varint(buf, *v as usize);
    }
    fn number(v: &u32) -> u32 {
        *v
    }
}

impl Kind for Utf8 {
    type Value = ByteString;
    fn read(r: &mut Reader) -> Result<ByteString, Violation> {
        r.string()
    }
    fn len(v: &ByteString) -> usize {
        wire::field_len(v.as_bytes())
    }
    fn check(v: &ByteString) -> Result<(), EncodeError> {
        wire::check_string(v)
    }
    fn write(v: &ByteString, buf: &mut BytesMut) {
        wire::put_field(buf, v.as_bytes())
    }
    fn number(_: &ByteString) -> u32 {
        0
    }
}

impl Kind for Binary {
    type Value = Bytes;
    fn read(r: &mut Reader) -> Result<Bytes, Violation> {
        r.binary()
    }
    fn len(v: &Bytes) -> usize {
        wire::field_len(v)
    }
    fn check(v: &Bytes) -> Result<(), EncodeError> {
        wire::check_field(v)
    }
    fn write(v: &Bytes, buf: &mut BytesMut) {
        wire::put_field(buf, v)
    }
    fn number(_: &Bytes) -> u32 {
        0
    }
}

impl Kind for Utf8Pair {
    type Value = (ByteString, ByteString);
    fn read(r: &mut Reader) -> Result<Self::Value, Violation> {
        // Both strings follow the rules of section 1.5.4 [MQTT-1.5.7-1].
        Ok((r.string()?, r.string()?))
    }
    fn len((k, v): &Self::Value) -> usize {
        wire::field_len(k.as_bytes()) + wire::field_len(v.as_bytes())
    }
    fn check((k, v): &Self::Value) -> Result<(), EncodeError> {
        wire::check_string(k)?;
        wire::check_string(v)
    }
    fn write((k, v): &Self::Value, buf: &mut BytesMut) {
        wire::put_field(buf, k.as_bytes());
        wire::put_field(buf, v.as_bytes());
    }
    fn number(_: &Self::Value) -> u32 {
        0
    }
}

macro_rules! property_values {
    ($($name:ident = $id:literal, $kind:ident($ty:ty), $text:literal, $section:literal;)*) => {
        /// One property with its value.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Property {
            $(
                #[doc = $text]
                $name($ty),
            )*
        }

        impl Property {
            /// The property's identifier.
            pub fn id(&self) -> PropertyId {
                match self {
                    $(Property::$name(_) => PropertyId::$name,)*
                }
            }

            fn read_value(id: PropertyId, r: &mut Reader) -> Result<Property, Violation> {
                Ok(match id {
                    $(PropertyId::$name => Property::$name(<$kind as Kind>::read(r)?),)*
                })
            }

            fn value_len(&self) -> usize {
                match self {
                    $(Property::$name(v) => <$kind as Kind>::len(v),)*
                }
            }

            fn check_value(&self) -> Result<(), EncodeError> {
                match self {
                    $(Property::$name(v) => <$kind as Kind>::check(v),)*
                }
            }

            fn write_value(&self, buf: &mut BytesMut) {
                match self {
                    $(Property::$name(v) => <$kind as Kind>::write(v, buf),)*
                }
            }

            fn number(&self) -> u32 {
                match self {
                    $(Property::$name(v) => <$kind as Kind>::number(v),)*
                }
            }
        }
    };
}

property_table!(property_values);

impl Property {
    /// A User Property (name, value).
    pub fn user(name: impl Into<ByteString>, value: impl Into<ByteString>) -> Property {
        Property::UserProperty((name.into(), value.into()))
    }

    /// Checks the value against the rules of its section; all of these are Protocol Errors.
    fn validate(&self) -> Result<(), Violation> {
        use Property::*;
        let ok = match self {
            // One-byte flags that may only be 0 or 1.
            PayloadFormatIndicator(v)
            | RequestProblemInformation(v)
            | RequestResponseInformation(v)
            | MaximumQoS(v)
            | RetainAvailable(v)
            | WildcardSubscriptionAvailable(v)
            | SubscriptionIdentifierAvailable(v)
            | SharedSubscriptionAvailable(v) => *v <= 1,
            // "It is a Protocol Error to include the Receive Maximum value more than once or
            // for it to have the value 0", and likewise for Maximum Packet Size.
            ReceiveMaximum(v) => *v != 0,
            MaximumPacketSize(v) => *v != 0,
            // [MQTT-3.3.2-8]
            TopicAlias(v) => *v != 0,
            SubscriptionIdentifier(v) => *v != 0,
            ResponseTopic(t) => {
                // A Response Topic is a Topic Name [MQTT-3.3.2-14].
                return match topic::check_name(t) {
                    Err(Violation::WildcardInTopicName) => Err(Violation::WildcardInResponseTopic),
                    other => other,
                };
            }
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(Violation::InvalidPropertyValue {
                property: self.id(),
                value: self.number(),
            })
        }
    }
}

/// Where a property list stands, which decides the properties it may hold (table 2-4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropertyContext {
    Connect,
    /// The Will Properties in the CONNECT payload.
    Will,
    ConnAck,
    Publish,
    /// PUBACK, PUBREC, PUBREL and PUBCOMP, which allow the same two properties.
    Ack,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth,
}

impl PropertyContext {
    /// The properties allowed here.
    pub fn allowed(self) -> &'static [PropertyId] {
        use PropertyId::*;
        match self {
            PropertyContext::Connect => &[
                SessionExpiryInterval,
                ReceiveMaximum,
                MaximumPacketSize,
                TopicAliasMaximum,
                RequestResponseInformation,
                RequestProblemInformation,
                UserProperty,
                AuthenticationMethod,
                AuthenticationData,
            ],
            PropertyContext::Will => &[
                WillDelayInterval,
                PayloadFormatIndicator,
                MessageExpiryInterval,
                ContentType,
                ResponseTopic,
                CorrelationData,
                UserProperty,
            ],
            PropertyContext::ConnAck => &[
                SessionExpiryInterval,
                ReceiveMaximum,
                MaximumQoS,
                RetainAvailable,
                MaximumPacketSize,
                AssignedClientIdentifier,
                TopicAliasMaximum,
                ReasonString,
                UserProperty,
                WildcardSubscriptionAvailable,
                SubscriptionIdentifierAvailable,
                SharedSubscriptionAvailable,
                ServerKeepAlive,
                ResponseInformation,
                ServerReference,
                AuthenticationMethod,
                AuthenticationData,
            ],
            PropertyContext::Publish => &[
                PayloadFormatIndicator,
                MessageExpiryInterval,
                TopicAlias,
                ResponseTopic,
                CorrelationData,
                UserProperty,
                SubscriptionIdentifier,
                ContentType,
            ],
            PropertyContext::Ack | PropertyContext::SubAck | PropertyContext::UnsubAck => {
                &[ReasonString, UserProperty]
            }
            PropertyContext::Subscribe => &[SubscriptionIdentifier, UserProperty],
            PropertyContext::Unsubscribe => &[UserProperty],
            PropertyContext::Disconnect => &[
                SessionExpiryInterval,
                ReasonString,
                UserProperty,
                ServerReference,
            ],
            PropertyContext::Auth => &[
                AuthenticationMethod,
                AuthenticationData,
                ReasonString,
                UserProperty,
            ],
        }
    }

    fn allowed_mask(self) -> u64 {
        self.allowed().iter().fold(0, |m, id| m | id.bit())
    }

    /// Whether a property may appear more than once here: User Property anywhere, Subscription
    /// Identifier only in PUBLISH (one per matching subscription, section 3.3.2.3.8).
    pub fn may_repeat(self, id: PropertyId) -> bool {
        id == PropertyId::UserProperty
            || (id == PropertyId::SubscriptionIdentifier && self == PropertyContext::Publish)
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            PropertyContext::Connect => "CONNECT",
            PropertyContext::Will => "the Will Properties",
            PropertyContext::ConnAck => "CONNACK",
            PropertyContext::Publish => "PUBLISH",
            PropertyContext::Ack => "PUBACK/PUBREC/PUBREL/PUBCOMP",
            PropertyContext::Subscribe => "SUBSCRIBE",
            PropertyContext::SubAck => "SUBACK",
            PropertyContext::Unsubscribe => "UNSUBSCRIBE",
            PropertyContext::UnsubAck => "UNSUBACK",
            PropertyContext::Disconnect => "DISCONNECT",
            PropertyContext::Auth => "AUTH",
        }
    }
}

/// The rules on which properties may stand in a list, applied one identifier at a time.
struct Admission {
    ctx: PropertyContext,
    allowed: u64,
    seen: u64,
}

impl Admission {
    fn new(ctx: PropertyContext) -> Self {
        Admission {
            ctx,
            allowed: ctx.allowed_mask(),
            seen: 0,
        }
    }

    /// Admits one more property with this identifier: it must be allowed in the context
    /// (section 2.2.2.2) and, unless it may repeat there, not already present.
    fn admit_id(&mut self, id: PropertyId) -> Result<(), Violation> {
        if self.allowed & id.bit() == 0 {
            return Err(Violation::PropertyNotAllowed {
                property: id,
                context: self.ctx.name(),
            });
        }
        if self.seen & id.bit() != 0 && !self.ctx.may_repeat(id) {
            return Err(Violation::DuplicateProperty(id));
        }
        self.seen |= id.bit();
        Ok(())
    }
}

/// An ordered list of properties.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Properties(pub Vec<Property>);

impl Properties {
    /// No properties (allocates nothing).
    pub const fn new() -> Self {
        Properties(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Property> {
        self.0.iter()
    }

    pub fn push(&mut self, property: Property) {
        self.0.push(property)
    }

    /// The first property with this identifier.
    pub fn get(&self, id: PropertyId) -> Option<&Property> {
        self.0.iter().find(|p| p.id() == id)
    }

    /// Removes every property with this identifier.
    pub fn remove(&mut self, id: PropertyId) {
        self.0.retain(|p| p.id() != id)
    }

    /// The User Properties, in order.
    pub fn user_properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().filter_map(|p| match p {
            Property::UserProperty((k, v)) => Some((&**k, &**v)),
            _ => None,
        })
    }

    /// The Subscription Identifiers, in order.
    pub fn subscription_identifiers(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().filter_map(|p| match p {
            Property::SubscriptionIdentifier(v) => Some(*v),
            _ => None,
        })
    }

    /// The length of the encoded list, without the Property Length in front of it.
    pub fn encoded_len(&self) -> usize {
        self.0.iter().map(|p| 1 + p.value_len()).sum()
    }

    /// The length of the encoded list including its Property Length.
    pub(crate) fn wire_len(&self) -> usize {
        let len = self.encoded_len();
        wire::varint_len(len) + len
    }

    /// Reads a Property Length and the properties it covers, checking each against the
    /// context, the repetition rules and the value rules.
    pub(crate) fn read(r: &mut Reader, ctx: PropertyContext) -> Result<Properties, Violation> {
        let len = r.varint()? as usize;
        if len == 0 {
            return Ok(Properties::new());
        }
        if len > r.remaining() {
            return Err(Violation::PropertyLengthMismatch);
        }
        let mut sub = Reader::new(r.take(len)?);
        let mut rules = Admission::new(ctx);
        let mut list = Vec::new();
        while !sub.is_empty() {
            // The identifier is a Variable Byte Integer, though every defined one fits a byte.
            let raw = sub
                .varint()
                .map_err(|_| Violation::PropertyLengthMismatch)?;
            let id = PropertyId::from_u32(raw).ok_or(Violation::UnknownProperty(raw))?;
            rules.admit_id(id)?;
            let property = Property::read_value(id, &mut sub).map_err(|e| match e {
                // A value cut short by the Property Length is a length mismatch.
                Violation::Truncated => Violation::PropertyLengthMismatch,
                other => other,
            })?;
            property.validate()?;
            list.push(property);
        }
        Ok(Properties(list))
    }

    /// Checks the list against the same rules [`Properties::read`] enforces, so that the
    /// encoder never writes a list its own decoder would refuse.
    pub(crate) fn check(&self, ctx: PropertyContext) -> Result<(), EncodeError> {
        let mut rules = Admission::new(ctx);
        for p in &self.0 {
            rules.admit_id(p.id()).map_err(EncodeError::Breaks)?;
            p.validate().map_err(EncodeError::Breaks)?;
            p.check_value()?;
        }
        Ok(())
    }

    /// Writes the Property Length and the properties. The caller has run [`Properties::check`].
    pub(crate) fn write(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        wire::put_varint(buf, self.encoded_len())?;
        for p in &self.0 {
            buf.put_u8(p.id() as u8);
            p.write_value(buf);
        }
        Ok(())
    }
}

impl From<Vec<Property>> for Properties {
    fn from(v: Vec<Property>) -> Self {
        Properties(v)
    }
}

impl FromIterator<Property> for Properties {
    fn from_iter<I: IntoIterator<Item = Property>>(iter: I) -> Self {
        Properties(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Properties {
    type Item = &'a Property;
    type IntoIter = std::slice::Iter<'a, Property>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &'static [u8], ctx: PropertyContext) -> Result<Properties, Violation> {
        Properties::read(&mut Reader::new(Bytes::from_static(bytes)), ctx)
    }

    #[test]
    fn every_context_allows_user_properties() {
        use PropertyContext::*;
        for ctx in [
            Connect,
            Will,
            ConnAck,
            Publish,
            Ack,
            Subscribe,
            SubAck,
            Unsubscribe,
            UnsubAck,
            Disconnect,
            Auth,
        ] {
            assert!(ctx.allowed().contains(&PropertyId::UserProperty));
        }
    }

    #[test]
    fn empty_list_is_one_zero_byte() {
        let mut buf = BytesMut::new();
        Properties::new().write(&mut buf).unwrap();
        // [MQTT-2.2.2-1]: no properties is a Property Length of zero.
        assert_eq!(&buf[..], &[0x00]);
        assert_eq!(
            read(&[0x00], PropertyContext::Publish).unwrap(),
            Properties::new()
        );
    }

    #[test]
    fn duplicate_is_a_protocol_error() {
        let e = read(
            &[0x06, 0x21, 0x00, 0x01, 0x21, 0x00, 0x02],
            PropertyContext::Connect,
        )
        .unwrap_err();
        assert_eq!(e, Violation::DuplicateProperty(PropertyId::ReceiveMaximum));
        assert_eq!(e.reason_code(), crate::ReasonCode::PROTOCOL_ERROR);
    }

    #[test]
    fn user_property_and_publish_subscription_identifier_repeat() {
        let p = read(
            &[
                0x0E, 0x26, 0x00, 0x01, b'a', 0x00, 0x00, 0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'x',
                0x0B, 0x05,
            ],
            PropertyContext::Publish,
        );
        assert!(p.is_err(), "length 14 is one short of the 15 bytes listed");
        let p = read(
            &[
                0x11, 0x26, 0x00, 0x01, b'a', 0x00, 0x00, 0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'x',
                0x0B, 0x05, 0x0B, 0x07,
            ],
            PropertyContext::Publish,
        )
        .unwrap();
        assert_eq!(
            p.user_properties().collect::<Vec<_>>(),
            [("a", ""), ("a", "x")]
        );
        assert_eq!(p.subscription_identifiers().collect::<Vec<_>>(), [5, 7]);
        let e = read(&[0x04, 0x0B, 0x05, 0x0B, 0x07], PropertyContext::Subscribe).unwrap_err();
        assert_eq!(
            e,
            Violation::DuplicateProperty(PropertyId::SubscriptionIdentifier)
        );
    }

    #[test]
    fn property_outside_its_packets_is_malformed() {
        let e = read(&[0x03, 0x23, 0x00, 0x01], PropertyContext::Connect).unwrap_err();
        assert_eq!(
            e,
            Violation::PropertyNotAllowed {
                property: PropertyId::TopicAlias,
                context: "CONNECT"
            }
        );
        assert_eq!(e.reason_code(), crate::ReasonCode::MALFORMED_PACKET);
        let e = read(&[0x02, 0x7F, 0x00], PropertyContext::Connect).unwrap_err();
        assert_eq!(e, Violation::UnknownProperty(0x7F));
    }

    #[test]
    fn invalid_values_are_refused() {
        for (bytes, id) in [
            (&[0x03u8, 0x21, 0x00, 0x00][..], PropertyId::ReceiveMaximum),
            (&[0x05, 0x27, 0, 0, 0, 0][..], PropertyId::MaximumPacketSize),
            (
                &[0x02, 0x17, 0x02][..],
                PropertyId::RequestProblemInformation,
            ),
            (
                &[0x02, 0x19, 0x07][..],
                PropertyId::RequestResponseInformation,
            ),
        ] {
            let bytes: &'static [u8] = Box::leak(bytes.to_vec().into_boxed_slice());
            let e = read(bytes, PropertyContext::Connect).unwrap_err();
            assert!(
                matches!(e, Violation::InvalidPropertyValue { property, .. } if property == id),
                "{e:?}"
            );
        }
        let e = read(&[0x03, 0x23, 0x00, 0x00], PropertyContext::Publish).unwrap_err();
        assert_eq!(
            e.clause(crate::Protocol::V5),
            crate::Clause::Statement("MQTT-3.3.2-8")
        );
        assert_eq!(e.reason_code(), crate::ReasonCode::TOPIC_ALIAS_INVALID);
        let e = read(&[0x02, 0x0B, 0x00], PropertyContext::Subscribe).unwrap_err();
        assert!(matches!(e, Violation::InvalidPropertyValue { .. }));
        let e = read(
            &[0x05, 0x08, 0x00, 0x02, b'a', b'#'],
            PropertyContext::Publish,
        )
        .unwrap_err();
        assert_eq!(e, Violation::WildcardInResponseTopic);
    }

    #[test]
    fn property_length_past_the_packet_is_malformed() {
        let e = read(&[0x09, 0x01, 0x01], PropertyContext::Publish).unwrap_err();
        assert_eq!(e, Violation::PropertyLengthMismatch);
    }
}
