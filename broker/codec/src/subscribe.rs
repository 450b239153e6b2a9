//! SUBSCRIBE (section 3.8) and SUBACK (section 3.9).

use bytes::{BufMut, BytesMut};

use super::ack::read_packet_id;
use super::error::{EncodeError, Violation};
use super::properties::{Properties, PropertyContext};
use super::reason::ReasonCode;
use super::topic::TopicFilter;
use super::types::{PacketId, PacketType, Protocol, QoS};
use super::wire::{self, Reader};

/// When the retained messages of a new subscription are sent (section 3.8.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RetainHandling {
    /// Send them at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// Send them only if the subscription did not already exist.
    SendIfNew = 1,
    /// Do not send them.
    DoNotSend = 2,
}

/// The Subscription Options byte. In 3.x only the QoS exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SubscriptionOptions {
    /// The maximum QoS the server may deliver with.
    pub qos: QoS,
    pub no_local: bool,
    pub retain_as_published: bool,
    pub retain_handling: RetainHandling,
}

impl SubscriptionOptions {
    /// The options of a 3.x subscription, or a 5.0 one with every flag at its default.
    pub fn qos(qos: QoS) -> SubscriptionOptions {
        SubscriptionOptions {
            qos,
            ..Default::default()
        }
    }

    fn read(byte: u8, protocol: Protocol) -> Result<SubscriptionOptions, Violation> {
        // 3.x uses only the QoS bits; 5.0 reserves bits 7 and 6 [MQTT-3.8.3-5]
        // (3.1.1: [MQTT-3.8.3-4]).
        let reserved = if protocol.is_v5() {
            0b1100_0000
        } else {
            0b1111_1100
        };
        if byte & reserved != 0 {
            return Err(Violation::SubscriptionOptionsReserved);
        }
        let qos = QoS::from_u8(byte & 0b11).ok_or(Violation::InvalidRequestedQoS)?;
        let retain_handling = match (byte >> 4) & 0b11 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(Violation::InvalidRetainHandling),
        };
        Ok(SubscriptionOptions {
            qos,
            no_local: byte & 0b0100 != 0,
            retain_as_published: byte & 0b1000 != 0,
            retain_handling,
        })
    }

    fn to_byte(self, protocol: Protocol) -> u8 {
        let mut byte = self.qos as u8;
        if protocol.is_v5() {
            byte |= u8::from(self.no_local) << 2;
            byte |= u8::from(self.retain_as_published) << 3;
            byte |= (self.retain_handling as u8) << 4;
        }
        byte
    }
}

/// A SUBSCRIBE packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe {
    pub packet_id: PacketId,
    /// Always empty in 3.x.
    pub properties: Properties,
    /// At least one (filter, options) pair [MQTT-3.8.3-2].
    pub filters: Vec<(TopicFilter, SubscriptionOptions)>,
}

impl Subscribe {
    pub(crate) fn read(r: &mut Reader, protocol: Protocol) -> Result<Subscribe, Violation> {
        let packet_id = read_packet_id(r, PacketType::Subscribe)?;
        let properties = if protocol.is_v5() {
            Properties::read(r, PropertyContext::Subscribe)?
        } else {
            Properties::new()
        };
        let mut filters = Vec::new();
        while !r.is_empty() {
            let filter = TopicFilter::new(r.string()?)?;
            let options = SubscriptionOptions::read(r.u8()?, protocol)?;
            check_shared(&filter, options, protocol)?;
            filters.push((filter, options));
        }
        if filters.is_empty() {
            return Err(Violation::EmptyTopicFilterList {
                packet: PacketType::Subscribe,
            });
        }
        Ok(Subscribe {
            packet_id,
            properties,
            filters,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        if self.filters.is_empty() {
            return Err(EncodeError::Empty {
                packet: PacketType::Subscribe,
            });
        }
        let mut len = 2;
        if protocol.is_v5() {
            self.properties.check(PropertyContext::Subscribe)?;
            len += self.properties.wire_len();
        }
        for (filter, options) in &self.filters {
            check_shared(filter, *options, protocol).map_err(EncodeError::Breaks)?;
            wire::check_field(filter.as_bytes())?;
            len += wire::field_len(filter.as_bytes()) + 1;
        }
        Ok(len)
    }

    pub(crate) fn write(&self, protocol: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_u16(self.packet_id.get());
        if protocol.is_v5() {
            self.properties.write(buf)?;
        }
        for (filter, options) in &self.filters {
            wire::put_field(buf, filter.as_bytes());
            buf.put_u8(options.to_byte(protocol));
        }
        Ok(())
    }
}

/// In 5.0, the rules of section 4.8.2 for `$share/` filters, and no No Local on them
/// [MQTT-3.8.3-4]. Shared subscriptions are a 5.0 feature: to 3.x, `$share/...` is an ordinary
/// filter.
fn check_shared(
    filter: &TopicFilter,
    options: SubscriptionOptions,
    protocol: Protocol,
) -> Result<(), Violation> {
    if protocol.is_v5() && filter.shared()?.is_some() && options.no_local {
        return Err(Violation::NoLocalOnSharedSubscription);
    }
    Ok(())
}

/// Whether a SUBACK code exists in this protocol: 3.1 can only grant a QoS, 3.1.1 adds 0x80
/// Failure, 5.0 has its own table.
fn suback_code_allowed(code: ReasonCode, protocol: Protocol) -> bool {
    match protocol {
        Protocol::V3_1 => code.0 <= 2,
        Protocol::V3_1_1 => matches!(code.0, 0x00 | 0x01 | 0x02 | 0x80),
        Protocol::V5 => code.is_allowed_in(PacketType::SubAck),
    }
}

/// A SUBACK packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubAck {
    pub packet_id: PacketId,
    /// Always empty in 3.x.
    pub properties: Properties,
    /// One per filter of the SUBSCRIBE, in order [MQTT-3.9.3-1]: the granted QoS (0x00 to
    /// 0x02) or a failure. In 3.x every failure is sent as 0x80.
    pub reasons: Vec<ReasonCode>,
}

impl SubAck {
    pub(crate) fn read(r: &mut Reader, protocol: Protocol) -> Result<SubAck, Violation> {
        let packet_id = read_packet_id(r, PacketType::SubAck)?;
        let properties = if protocol.is_v5() {
            Properties::read(r, PropertyContext::SubAck)?
        } else {
            Properties::new()
        };
        let mut reasons = Vec::with_capacity(r.remaining());
        while !r.is_empty() {
            let code = ReasonCode(r.u8()?);
            if !suback_code_allowed(code, protocol) {
                return Err(if protocol.is_v5() {
                    Violation::ReasonCodeNotAllowed {
                        packet: PacketType::SubAck,
                        code,
                    }
                } else {
                    Violation::InvalidSubAckReturnCode(code.0)
                });
            }
            reasons.push(code);
        }
        if reasons.is_empty() {
            return Err(Violation::EmptyReasonCodeList {
                packet: PacketType::SubAck,
            });
        }
        Ok(SubAck {
            packet_id,
            properties,
            reasons,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        if self.reasons.is_empty() {
            return Err(EncodeError::Empty {
                packet: PacketType::SubAck,
            });
        }
        // 3.1.1 sends every failure as 0x80; 3.1 has no failure code at all.
        let representable = |c: &ReasonCode| match protocol {
            Protocol::V3_1_1 => c.0 <= 2 || c.is_error(),
            _ => suback_code_allowed(*c, protocol),
        };
        if let Some(&code) = self.reasons.iter().find(|c| !representable(c)) {
            return Err(EncodeError::ReasonCodeNotAllowed {
                packet: PacketType::SubAck,
                code,
            });
        }
        let mut len = 2 + self.reasons.len();
        if protocol.is_v5() {
            self.properties.check(PropertyContext::SubAck)?;
            len += self.properties.wire_len();
        }
        Ok(len)
    }

    pub(crate) fn write(&self, protocol: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_u16(self.packet_id.get());
        if protocol.is_v5() {
            self.properties.write(buf)?;
            buf.extend(self.reasons.iter().map(|c| c.0));
        } else {
            buf.extend(self.reasons.iter().map(|c| c.to_v3_suback()));
        }
        Ok(())
    }
}
