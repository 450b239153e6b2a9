//! The fixed header (section 2.1): packet type, flags and Remaining Length.
//!
//! The fixed header is checked before anything else, from the bytes at hand: a reserved type,
//! wrong flags or a frame larger than the connection allows are refused as soon as they are
//! visible, without waiting for (or buffering) the body.

use super::error::Violation;
use super::types::{PacketType, Protocol, QoS};
use super::wire;

/// A parsed fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedHeader {
    pub packet_type: PacketType,
    /// The low four bits of the first byte.
    pub flags: u8,
    /// The Remaining Length: the size of the variable header and payload.
    pub remaining_length: usize,
    /// The size of the fixed header itself (2 to 5 bytes).
    pub header_len: usize,
}

impl FixedHeader {
    /// The size of the whole packet.
    pub fn frame_len(&self) -> usize {
        self.header_len + self.remaining_length
    }
}

/// Checks the first byte of a packet: its type exists in this protocol and its flags are the
/// ones the specification fixes ([MQTT-2.1.3-1]; for PUBLISH, [MQTT-3.3.1-4] and
/// [MQTT-3.3.1-2]).
pub(crate) fn check_first_byte(
    byte: u8,
    protocol: Protocol,
) -> Result<PacketType, (Option<PacketType>, Violation)> {
    let raw_type = byte >> 4;
    let flags = byte & 0x0f;
    let packet_type = match PacketType::from_u8(raw_type) {
        // AUTH is new in 5.0; to 3.x, type 15 is reserved.
        Some(PacketType::Auth) if !protocol.is_v5() => None,
        other => other,
    }
    .ok_or((None, Violation::ReservedPacketType(raw_type)))?;
    let fail = |v| Err((Some(packet_type), v));
    if packet_type == PacketType::Publish {
        let qos = (flags >> 1) & 0b11;
        if qos == 3 {
            return fail(Violation::InvalidQoS);
        }
        if qos == QoS::AtMostOnce as u8 && flags & 0b1000 != 0 {
            return fail(Violation::DupOnQoS0);
        }
    } else if protocol == Protocol::V3_1
        && packet_type.fixed_flags() != 0
        && flags == packet_type.fixed_flags() | 0b1000
    {
        // MQTT 3.1 sets DUP on a resent PUBREL, SUBSCRIBE or UNSUBSCRIBE (their QoS is 1
        // there); 3.1.1 made those bits reserved. The flag changes nothing for the receiver.
    } else if flags != packet_type.fixed_flags() {
        return fail(Violation::ReservedFlags {
            packet: packet_type,
            flags,
        });
    }
    Ok(packet_type)
}

/// Reads the fixed header at the front of `buf`.
///
/// `Ok(None)` means more bytes are needed to know the header. The packet type and flags are
/// checked from the first byte alone, and the size against `max_packet_size` as soon as the
/// Remaining Length is known, so an oversized packet is refused before its body arrives.
pub(crate) fn parse(
    buf: &[u8],
    protocol: Protocol,
    max_packet_size: u32,
) -> Result<Option<FixedHeader>, (Option<PacketType>, Violation)> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let packet_type = check_first_byte(first, protocol)?;
    let with_type = |v| (Some(packet_type), v);
    let (remaining_length, len) = match wire::parse_varint(&buf[1..]) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return Ok(None),
        Err(Violation::VarIntTooLong) => return Err(with_type(Violation::RemainingLengthTooLong)),
        Err(v) => return Err(with_type(v)),
    };
    let header = FixedHeader {
        packet_type,
        flags: first & 0x0f,
        remaining_length: remaining_length as usize,
        header_len: 1 + len,
    };
    let size = header.frame_len() as u64;
    if size > u64::from(max_packet_size) {
        return Err(with_type(Violation::PacketTooLarge {
            size,
            max: max_packet_size,
        }));
    }
    Ok(Some(header))
}
