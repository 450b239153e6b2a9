//! DISCONNECT (section 3.14) and AUTH (section 3.15): a reason code and properties, both of
//! which may be omitted. In 3.x DISCONNECT is empty and AUTH does not exist.

use bytes::BytesMut;

use super::error::{EncodeError, Violation};
use super::properties::{Properties, PropertyContext};
use super::reason::ReasonCode;
use super::tail;
use super::types::{PacketType, Protocol};
use super::wire::Reader;

/// DISCONNECT: the last packet either side sends on a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disconnect {
    /// Always 0x00 Normal disconnection in 3.x.
    pub reason: ReasonCode,
    /// Always empty in 3.x.
    pub properties: Properties,
}

impl Default for Disconnect {
    fn default() -> Self {
        Disconnect::new(ReasonCode::SUCCESS)
    }
}

impl Disconnect {
    /// A DISCONNECT with this reason and no properties.
    pub fn new(reason: ReasonCode) -> Disconnect {
        Disconnect {
            reason,
            properties: Properties::new(),
        }
    }

    pub(crate) fn read(r: &mut Reader, protocol: Protocol) -> Result<Disconnect, Violation> {
        if !protocol.is_v5() {
            // The 3.x DISCONNECT has no variable header; `finish` refuses any bytes.
            return Ok(Disconnect::default());
        }
        let (reason, properties) =
            tail::read(r, PacketType::Disconnect, PropertyContext::Disconnect)?;
        Ok(Disconnect { reason, properties })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        if !protocol.is_v5() {
            return Ok(0);
        }
        tail::len(
            self.reason,
            &self.properties,
            PacketType::Disconnect,
            PropertyContext::Disconnect,
        )
    }

    pub(crate) fn write(&self, protocol: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if protocol.is_v5() {
            tail::write(self.reason, &self.properties, buf)?;
        }
        Ok(())
    }
}

/// AUTH: a step of enhanced authentication (MQTT 5.0 only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth {
    pub reason: ReasonCode,
    pub properties: Properties,
}

impl Auth {
    pub(crate) fn read(r: &mut Reader) -> Result<Auth, Violation> {
        let (reason, properties) = tail::read(r, PacketType::Auth, PropertyContext::Auth)?;
        Ok(Auth { reason, properties })
    }

    pub(crate) fn body_len(&self) -> Result<usize, EncodeError> {
        tail::len(
            self.reason,
            &self.properties,
            PacketType::Auth,
            PropertyContext::Auth,
        )
    }

    pub(crate) fn write(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        tail::write(self.reason, &self.properties, buf)
    }
}
