//! UNSUBSCRIBE (section 3.10) and UNSUBACK (section 3.11).

use bytes::{BufMut, BytesMut};

use super::ack::read_packet_id;
use super::error::{EncodeError, Violation};
use super::properties::{Properties, PropertyContext};
use super::reason::ReasonCode;
use super::topic::TopicFilter;
use super::types::{PacketId, PacketType, Protocol};
use super::wire::{self, Reader};

/// An UNSUBSCRIBE packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribe {
    pub packet_id: PacketId,
    /// Always empty in 3.x.
    pub properties: Properties,
    /// At least one filter [MQTT-3.10.3-2].
    pub filters: Vec<TopicFilter>,
}

impl Unsubscribe {
    pub(crate) fn read(r: &mut Reader, protocol: Protocol) -> Result<Unsubscribe, Violation> {
        let packet_id = read_packet_id(r, PacketType::Unsubscribe)?;
        let properties = if protocol.is_v5() {
            Properties::read(r, PropertyContext::Unsubscribe)?
        } else {
            Properties::new()
        };
        let mut filters = Vec::new();
        while !r.is_empty() {
            filters.push(TopicFilter::new(r.string()?)?);
        }
        if filters.is_empty() {
            return Err(Violation::EmptyTopicFilterList {
                packet: PacketType::Unsubscribe,
            });
        }
        Ok(Unsubscribe {
            packet_id,
            properties,
            filters,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        if self.filters.is_empty() {
            return Err(EncodeError::Empty {
                packet: PacketType::Unsubscribe,
            });
        }
        let mut len = 2;
        if protocol.is_v5() {
            self.properties.check(PropertyContext::Unsubscribe)?;
            len += self.properties.wire_len();
        }
        for filter in &self.filters {
            wire::check_field(filter.as_bytes())?;
            len += wire::field_len(filter.as_bytes());
        }
        Ok(len)
    }

    pub(crate) fn write(&self, protocol: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_u16(self.packet_id.get());
        if protocol.is_v5() {
            self.properties.write(buf)?;
        }
        for filter in &self.filters {
            wire::put_field(buf, filter.as_bytes());
        }
        Ok(())
    }
}

/// An UNSUBACK packet. In 3.x it carries only the packet identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsubAck {
    pub packet_id: PacketId,
    /// Always empty in 3.x.
    pub properties: Properties,
    /// One per filter of the UNSUBSCRIBE, in order [MQTT-3.11.3-1]; always empty in 3.x.
    pub reasons: Vec<ReasonCode>,
}

impl UnsubAck {
    pub(crate) fn read(r: &mut Reader, protocol: Protocol) -> Result<UnsubAck, Violation> {
        let packet_id = read_packet_id(r, PacketType::UnsubAck)?;
        if !protocol.is_v5() {
            return Ok(UnsubAck {
                packet_id,
                properties: Properties::new(),
                reasons: Vec::new(),
            });
        }
        let properties = Properties::read(r, PropertyContext::UnsubAck)?;
        let mut reasons = Vec::with_capacity(r.remaining());
        while !r.is_empty() {
            let code = ReasonCode(r.u8()?);
            if !code.is_allowed_in(PacketType::UnsubAck) {
                return Err(Violation::ReasonCodeNotAllowed {
                    packet: PacketType::UnsubAck,
                    code,
                });
            }
            reasons.push(code);
        }
        if reasons.is_empty() {
            return Err(Violation::EmptyReasonCodeList {
                packet: PacketType::UnsubAck,
            });
        }
        Ok(UnsubAck {
            packet_id,
            properties,
            reasons,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        if !protocol.is_v5() {
            return Ok(2);
        }
        if self.reasons.is_empty() {
            return Err(EncodeError::Empty {
                packet: PacketType::UnsubAck,
            });
        }
        if let Some(&code) = self
            .reasons
            .iter()
            .find(|c| !c.is_allowed_in(PacketType::UnsubAck))
        {
            return Err(EncodeError::ReasonCodeNotAllowed {
                packet: PacketType::UnsubAck,
                code,
            });
        }
        self.properties.check(PropertyContext::UnsubAck)?;
        Ok(2 + self.properties.wire_len() + self.reasons.len())
    }

    pub(crate) fn write(&self, protocol: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_u16(self.packet_id.get());
        if protocol.is_v5() {
            self.properties.write(buf)?;
            buf.extend(self.reasons.iter().map(|c| c.0));
        }
        Ok(())
    }
}
