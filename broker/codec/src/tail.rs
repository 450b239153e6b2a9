//! The "reason code, then properties" tail that ends PUBACK, PUBREC, PUBREL, PUBCOMP,
//! DISCONNECT and AUTH in MQTT 5.0.
//!
//! In all six the sender may stop early: with no bytes left the reason code is 0x00 Success and
//! there are no properties; with one byte left there are no properties (sections 3.4.2.1,
//! 3.14.2.2.1, 3.15.2.1 and their siblings). The decoder accepts every form.
//!
//! The encoder omits the tail when it says "Success, no properties", and otherwise writes the
//! reason code *and* a Property Length, even a zero one. Both forms are valid; this one is
//! read correctly by clients that always expect a Property Length after a reason code
//! (rumqttc 0.25 waits for it and then reports the connection as aborted).

use bytes::{BufMut, BytesMut};

use super::error::{EncodeError, Violation};
use super::properties::{Properties, PropertyContext};
use super::reason::ReasonCode;
use super::types::PacketType;
use super::wire::Reader;

/// Reads the tail of an MQTT 5.0 packet of type `packet`.
pub(crate) fn read(
    r: &mut Reader,
    packet: PacketType,
    ctx: PropertyContext,
) -> Result<(ReasonCode, Properties), Violation> {
    if r.is_empty() {
        return Ok((ReasonCode::SUCCESS, Properties::new()));
    }
    let code = ReasonCode(r.u8()?);
    if !code.is_allowed_in(packet) {
        return Err(Violation::ReasonCodeNotAllowed { packet, code });
    }
    let properties = if r.is_empty() {
        Properties::new()
    } else {
        Properties::read(r, ctx)?
    };
    Ok((code, properties))
}

/// Checks the tail and returns its encoded size.
pub(crate) fn len(
    code: ReasonCode,
    properties: &Properties,
    packet: PacketType,
    ctx: PropertyContext,
) -> Result<usize, EncodeError> {
    if !code.is_allowed_in(packet) {
        return Err(EncodeError::ReasonCodeNotAllowed { packet, code });
    }
    properties.check(ctx)?;
    Ok(if properties.is_empty() && code == ReasonCode::SUCCESS {
        0
    } else {
        1 + properties.wire_len()
    })
}

/// Writes the tail checked by [`len`].
pub(crate) fn write(
    code: ReasonCode,
    properties: &Properties,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    if !properties.is_empty() || code != ReasonCode::SUCCESS {
        buf.put_u8(code.0);
        properties.write(buf)?;
    }
    Ok(())
}
