//! PUBACK, PUBREC, PUBREL and PUBCOMP (sections 3.4 to 3.7): a packet identifier, and in 5.0
//! a reason code and properties.

use bytes::{BufMut, BytesMut};

use super::error::{EncodeError, Violation};
use super::properties::{Properties, PropertyContext};
use super::reason::ReasonCode;
use super::tail;
use super::types::{PacketId, PacketType, Protocol};
use super::wire::Reader;

/// The acknowledgement packets of the QoS 1 and QoS 2 flows; the packet type is the variant of
/// [`super::Packet`] that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    pub packet_id: PacketId,
    /// Always 0x00 Success in 3.x, which has no reason codes.
    pub reason: ReasonCode,
    /// Always empty in 3.x.
    pub properties: Properties,
}

impl Ack {
    /// A successful acknowledgement without properties.
    pub fn new(packet_id: PacketId) -> Ack {
        Ack {
            packet_id,
            reason: ReasonCode::SUCCESS,
            properties: Properties::new(),
        }
    }

    pub(crate) fn read(
        r: &mut Reader,
        packet: PacketType,
        protocol: Protocol,
    ) -> Result<Ack, Violation> {
        let packet_id = read_packet_id(r, packet)?;
        let (reason, properties) = if protocol.is_v5() {
            tail::read(r, packet, PropertyContext::Ack)?
        } else {
            (ReasonCode::SUCCESS, Properties::new())
        };
        Ok(Ack {
            packet_id,
            reason,
            properties,
        })
    }

    /// Reads the body of an acknowledgement that holds nothing but its packet identifier
    /// (every one in 3.x; in 5.0, Remaining Length 2 means Success and no properties
    /// [MQTT-3.4.2-1]) from the bytes where they lie. None if `packet` is not an
    /// acknowledgement or `body` is not two bytes long: the caller reads it the usual way.
    pub(crate) fn read_short(packet: PacketType, body: &[u8]) -> Option<Result<Ack, Violation>> {
        let &[hi, lo] = body else { return None };
        if !matches!(
            packet,
            PacketType::PubAck | PacketType::PubRec | PacketType::PubRel | PacketType::PubComp
        ) {
            return None;
        }
        Some(
            PacketId::new(u16::from_be_bytes([hi, lo]))
                .map(Ack::new)
                .ok_or(Violation::PacketIdZero { packet }),
        )
    }

    pub(crate) fn body_len(
        &self,
        packet: PacketType,
        protocol: Protocol,
    ) -> Result<usize, EncodeError> {
        Ok(2 + if protocol.is_v5() {
            tail::len(self.reason, &self.properties, packet, PropertyContext::Ack)?
        } else {
            0
        })
    }

    pub(crate) fn write(&self, protocol: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_u16(self.packet_id.get());
        if protocol.is_v5() {
            tail::write(self.reason, &self.properties, buf)?;
        }
        Ok(())
    }
}

/// Reads a packet identifier, which is never 0.
pub(crate) fn read_packet_id(r: &mut Reader, packet: PacketType) -> Result<PacketId, Violation> {
    PacketId::new(r.u16()?).ok_or(Violation::PacketIdZero { packet })
}
