//! PUBLISH (section 3.3): an Application Message on its way, in either direction.

use bytes::{BufMut, Bytes, BytesMut};

use super::ack::read_packet_id;
use super::error::{EncodeError, Violation};
use super::properties::{Properties, PropertyContext};
use super::property_id::PropertyId;
use super::topic::TopicName;
use super::types::{PacketId, PacketType, Protocol, QoS};
use super::wire::{self, Reader};

const DUP: u8 = 0b1000;
const RETAIN: u8 = 0b0001;

/// A PUBLISH packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    /// Empty only in a 5.0 PUBLISH whose Topic Alias stands for the topic.
    pub topic: TopicName,
    /// Present exactly when `qos` is 1 or 2 [MQTT-2.2.1-2].
    pub packet_id: Option<PacketId>,
    /// Always empty in 3.x.
    pub properties: Properties,
    /// A slice of the buffer the packet was read from: decoding copies no payload.
    pub payload: Bytes,
}

impl Publish {
    /// A QoS 0 message without properties.
    pub fn new(topic: TopicName, payload: impl Into<Bytes>) -> Publish {
        Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic,
            packet_id: None,
            properties: Properties::new(),
            payload: payload.into(),
        }
    }

    pub(crate) fn flags(&self) -> u8 {
        let mut flags = (self.qos as u8) << 1;
        if self.dup {
            flags |= DUP;
        }
        if self.retain {
            flags |= RETAIN;
        }
        flags
    }

    /// Reads the body; `flags` are the fixed header's, already checked by the framing.
    pub(crate) fn read(
        r: &mut Reader,
        flags: u8,
        protocol: Protocol,
    ) -> Result<Publish, Violation> {
        let qos = QoS::from_u8((flags >> 1) & 0b11).ok_or(Violation::InvalidQoS)?;
        // The Topic Name is a UTF-8 string [MQTT-3.3.2-1] without wildcards [MQTT-3.3.2-2].
        let raw_topic = r.string()?;
        let packet_id = match qos {
            QoS::AtMostOnce => None,
            _ => Some(read_packet_id(r, PacketType::Publish)?),
        };
        let properties = if protocol.is_v5() {
            Properties::read(r, PropertyContext::Publish)?
        } else {
            Properties::new()
        };
        let topic = if raw_topic.is_empty() {
            if !protocol.is_v5() {
                return Err(Violation::EmptyTopic);
            }
            // An empty Topic Name stands for the topic its Topic Alias maps to.
            if properties.get(PropertyId::TopicAlias).is_none() {
                return Err(Violation::EmptyTopicWithoutAlias);
            }
            TopicName::empty()
        } else {
            TopicName::new(raw_topic)?
        };
        Ok(Publish {
            dup: flags & DUP != 0,
            qos,
            retain: flags & RETAIN != 0,
            topic,
            packet_id,
            properties,
            payload: r.rest(),
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        if (self.qos == QoS::AtMostOnce) != self.packet_id.is_none() {
            return Err(EncodeError::PacketIdMismatch {
                qos: self.qos as u8,
                id: self.packet_id.map(|id| id.get()),
            });
        }
        if self.dup && self.qos == QoS::AtMostOnce {
            return Err(EncodeError::Breaks(Violation::DupOnQoS0));
        }
        if self.topic.is_empty()
            && !(protocol.is_v5() && self.properties.get(PropertyId::TopicAlias).is_some())
        {
            return Err(EncodeError::EmptyTopic);
        }
        wire::check_field(self.topic.as_bytes())?;
        let mut len = wire::field_len(self.topic.as_bytes()) + self.payload.len();
        if self.packet_id.is_some() {
            len += 2;
        }
        if protocol.is_v5() {
            self.properties.check(PropertyContext::Publish)?;
            len += self.properties.wire_len();
        }
        Ok(len)
    }

    pub(crate) fn write(&self, protocol: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        wire::put_field(buf, self.topic.as_bytes());
        if let Some(id) = self.packet_id {
            buf.put_u16(id.get());
        }
        if protocol.is_v5() {
            self.properties.write(buf)?;
        }
        buf.put_slice(&self.payload);
        Ok(())
    }
}
