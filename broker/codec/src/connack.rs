//! CONNACK (section 3.2): the server's answer to CONNECT.

use bytes::{BufMut, BytesMut};

use super::error::{EncodeError, Violation};
use super::properties::{Properties, PropertyContext};
use super::reason::ReasonCode;
use super::types::{PacketType, Protocol};
use super::wire::Reader;

/// A CONNACK packet.
///
/// The code is held as a 5.0 reason code in every protocol; for 3.x it is mapped to and from
/// the six CONNACK return codes (see [`ReasonCode::to_v3_connack`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnAck {
    /// Session Present. MQTT 3.1 has no such flag and always sends 0.
    pub session_present: bool,
    pub code: ReasonCode,
    /// Always empty in 3.x.
    pub properties: Properties,
}

impl ConnAck {
    /// A CONNACK with this code, no session present and no properties.
    pub fn new(code: ReasonCode) -> ConnAck {
        ConnAck {
            session_present: false,
            code,
            properties: Properties::new(),
        }
    }

    pub(crate) fn read(r: &mut Reader, protocol: Protocol) -> Result<ConnAck, Violation> {
        let flags = r.u8()?;
        let raw = r.u8()?;
        // In 3.1 the first byte is unused; from 3.1.1 on, bit 0 is Session Present and bits
        // 7-1 are reserved [MQTT-3.2.2-1].
        let session_present = match protocol {
            Protocol::V3_1 => false,
            _ if flags & 0xFE != 0 => return Err(Violation::ConnAckReservedFlags),
            _ => flags & 1 != 0,
        };
        let code = if protocol.is_v5() {
            let code = ReasonCode(raw);
            if !code.is_allowed_in(PacketType::ConnAck) {
                return Err(Violation::ReasonCodeNotAllowed {
                    packet: PacketType::ConnAck,
                    code,
                });
            }
            code
        } else {
            ReasonCode::from_v3_connack(raw).ok_or(Violation::InvalidConnectReturnCode(raw))?
        };
        if session_present && code != ReasonCode::SUCCESS {
            return Err(Violation::SessionPresentOnRefusal);
        }
        let properties = if protocol.is_v5() {
            Properties::read(r, PropertyContext::ConnAck)?
        } else {
            Properties::new()
        };
        Ok(ConnAck {
            session_present,
            code,
            properties,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        if self.session_present && self.code != ReasonCode::SUCCESS {
            return Err(EncodeError::Breaks(Violation::SessionPresentOnRefusal));
        }
        if !protocol.is_v5() {
            return Ok(2);
        }
        if !self.code.is_allowed_in(PacketType::ConnAck) {
            return Err(EncodeError::ReasonCodeNotAllowed {
                packet: PacketType::ConnAck,
                code: self.code,
            });
        }
        self.properties.check(PropertyContext::ConnAck)?;
        Ok(2 + self.properties.wire_len())
    }

    pub(crate) fn write(&self, protocol: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let session_present = self.session_present && protocol != Protocol::V3_1;
        buf.put_u8(u8::from(session_present));
        if protocol.is_v5() {
            buf.put_u8(self.code.0);
            self.properties.write(buf)?;
        } else {
            buf.put_u8(self.code.to_v3_connack());
        }
        Ok(())
    }
}
