//! CONNECT (section 3.1): the first packet of every connection, and the one that fixes the
//! protocol the rest of the connection speaks.

use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;

use super::error::{EncodeError, Violation};
use super::properties::{Properties, Property, PropertyContext};
use super::topic::TopicName;
use super::types::{Protocol, QoS};
use super::wire::{self, Reader};

const CLEAN_START: u8 = 0b0000_0010;
const WILL: u8 = 0b0000_0100;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_RETAIN: u8 = 0b0010_0000;
const PASSWORD: u8 = 0b0100_0000;
const USER_NAME: u8 = 0b1000_0000;

/// A CONNECT packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connect {
    /// The protocol named by the Protocol Name and Protocol Level.
    pub protocol: Protocol,
    /// Clean Start (5.0) or Clean Session (3.x).
    pub clean_start: bool,
    /// Keep Alive, in seconds; 0 turns the mechanism off.
    pub keep_alive: u16,
    /// Always empty in 3.x.
    pub properties: Properties,
    /// May be empty: the server then assigns one (5.0) or refuses it unless the session is
    /// clean (3.1.1). The codec does not judge it; the session layer does.
    pub client_id: ByteString,
    pub will: Option<Will>,
    pub username: Option<ByteString>,
    pub password: Option<Bytes>,
}

/// The Will Message a CONNECT asks the server to hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Will {
    pub qos: QoS,
    pub retain: bool,
    /// Always empty in 3.x.
    pub properties: Properties,
    pub topic: TopicName,
    pub payload: Bytes,
}

impl Will {
    /// Its Will Delay Interval in seconds (5.0), 0 when it has none (and always in 3.x).
    pub fn delay_interval(&self) -> u32 {
        self.properties
            .iter()
            .find_map(|p| match p {
                Property::WillDelayInterval(secs) => Some(*secs),
                _ => None,
            })
            .unwrap_or(0)
    }
}

/// Reads the Protocol Name and Protocol Level, and names the protocol they designate.
pub(crate) fn read_protocol(r: &mut Reader) -> Result<Protocol, Violation> {
    let name = r.string()?;
    let level = r.u8()?;
    if name != "MQTT" && name != "MQIsdp" {
        return Err(Violation::InvalidProtocolName(name.to_string()));
    }
    Protocol::from_name_and_level(&name, level).ok_or(Violation::UnsupportedProtocolLevel(level))
}

impl Connect {
    /// A CONNECT with the given client identifier and every option at its default: clean
    /// start, a 60 second keep alive, no will, no credentials, no properties.
    pub fn new(protocol: Protocol, client_id: impl Into<ByteString>) -> Connect {
        Connect {
            protocol,
            clean_start: true,
            keep_alive: 60,
            properties: Properties::new(),
            client_id: client_id.into(),
            will: None,
            username: None,
            password: None,
        }
    }

    /// Reads what follows the Protocol Level.
    pub(crate) fn read(r: &mut Reader, protocol: Protocol) -> Result<Connect, Violation> {
        let flags = r.u8()?;
        if flags & 1 != 0 {
            return Err(Violation::ConnectReservedFlag);
        }
        let will_qos = (flags >> WILL_QOS_SHIFT) & 0b11;
        let has_will = flags & WILL != 0;
        if has_will && will_qos == 3 {
            return Err(Violation::InvalidWillQoS);
        }
        if !has_will && will_qos != 0 {
            return Err(Violation::WillQoSWithoutWill);
        }
        if !has_will && flags & WILL_RETAIN != 0 {
            return Err(Violation::WillRetainWithoutWill);
        }
        if !protocol.is_v5() && flags & PASSWORD != 0 && flags & USER_NAME == 0 {
            return Err(Violation::PasswordWithoutUserName);
        }
        let keep_alive = r.u16()?;
        let properties = if protocol.is_v5() {
            Properties::read(r, PropertyContext::Connect)?
        } else {
            Properties::new()
        };
        // The payload's fields come in this order [MQTT-3.1.3-1].
        let client_id = r.string()?;
        let will = if has_will {
            let properties = if protocol.is_v5() {
                Properties::read(r, PropertyContext::Will)?
            } else {
                Properties::new()
            };
            let topic = TopicName::new(r.string()?)?;
            let payload = r.binary()?;
            Some(Will {
                qos: QoS::from_u8(will_qos).ok_or(Violation::InvalidWillQoS)?,
                retain: flags & WILL_RETAIN != 0,
                properties,
                topic,
                payload,
            })
        } else {
            None
        };
        let username = if flags & USER_NAME != 0 {
            Some(r.string()?)
        } else {
            None
        };
        let password = if flags & PASSWORD != 0 {
            Some(r.binary()?)
        } else {
            None
        };
        Ok(Connect {
            protocol,
            clean_start: flags & CLEAN_START != 0,
            keep_alive,
            properties,
            client_id,
            will,
            username,
            password,
        })
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.clean_start {
            flags |= CLEAN_START;
        }
        if let Some(will) = &self.will {
            flags |= WILL | ((will.qos as u8) << WILL_QOS_SHIFT);
            if will.retain {
                flags |= WILL_RETAIN;
            }
        }
        if self.username.is_some() {
            flags |= USER_NAME;
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        flags
    }

    /// The body is encoded as `self.protocol` says; the connection's protocol is not
    /// consulted, since CONNECT is what sets it.
    pub(crate) fn body_len(&self, _: Protocol) -> Result<usize, EncodeError> {
        let v5 = self.protocol.is_v5();
        if !v5 && self.password.is_some() && self.username.is_none() {
            return Err(EncodeError::Breaks(Violation::PasswordWithoutUserName));
        }
        let mut len = wire::field_len(self.protocol.name().as_bytes()) + 1 + 1 + 2;
        if v5 {
            self.properties.check(PropertyContext::Connect)?;
            len += self.properties.wire_len();
        }
        wire::check_string(&self.client_id)?;
        len += wire::field_len(self.client_id.as_bytes());
        if let Some(will) = &self.will {
            if will.topic.is_empty() {
                return Err(EncodeError::EmptyTopic);
            }
            if v5 {
                will.properties.check(PropertyContext::Will)?;
                len += will.properties.wire_len();
            }
            wire::check_field(will.topic.as_bytes())?;
            wire::check_field(&will.payload)?;
            len += wire::field_len(will.topic.as_bytes()) + wire::field_len(&will.payload);
        }
        if let Some(username) = &self.username {
            wire::check_string(username)?;
            len += wire::field_len(username.as_bytes());
        }
        if let Some(password) = &self.password {
            wire::check_field(password)?;
            len += wire::field_len(password);
        }
        Ok(len)
    }

    pub(crate) fn write(&self, _: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let v5 = self.protocol.is_v5();
        wire::put_field(buf, self.protocol.name().as_bytes());
        buf.put_u8(self.protocol.level());
        buf.put_u8(self.flags());
        buf.put_u16(self.keep_alive);
        if v5 {
            self.properties.write(buf)?;
        }
        wire::put_field(buf, self.client_id.as_bytes());
        if let Some(will) = &self.will {
            if v5 {
                will.properties.write(buf)?;
            }
            wire::put_field(buf, will.topic.as_bytes());
            wire::put_field(buf, &will.payload);
        }
        if let Some(username) = &self.username {
            wire::put_field(buf, username.as_bytes());
        }
        if let Some(password) = &self.password {
            wire::put_field(buf, password);
        }
        Ok(())
    }
}
