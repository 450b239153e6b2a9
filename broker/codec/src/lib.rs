//! The MQTT wire format: every control packet of MQTT 3.1, 3.1.1 and 5.0, decoded from and
//! encoded to bytes.
//!
//! The codec is pure: no I/O, no clocks, no knowledge of sessions. One packet model serves all
//! three protocol versions (a 3.x packet simply has no properties and its codes are mapped to
//! their 5.0 equivalents), so the broker routes a message from a 5.0 publisher to a 3.1
//! subscriber without translating between types.
//!
//! Decoding is check-then-parse, as in mini-redis: [`decode`] looks at the bytes buffered so
//! far, returns `Ok(None)` while the frame is incomplete (copying nothing), refuses an oversized
//! frame from its fixed header alone, and only then splits the frame off the buffer. The split
//! is zero-copy: strings and the PUBLISH payload are `Bytes` slices of the read buffer.
//!
//! Every error is a [`Violation`] that names the normative statement it breaks and the reason
//! code a server answers with.

mod ack;
mod connack;
mod connect;
mod disconnect;
mod error;
mod frame;
mod properties;
mod property_id;
mod property_table;
mod publish;
mod reason;
mod subscribe;
mod tail;
mod topic;
mod types;
mod unsubscribe;
mod wire;

use bytes::{Buf, BufMut, Bytes, BytesMut};

pub use ack::Ack;
pub use connack::ConnAck;
pub use connect::{Connect, Will};
pub use disconnect::{Auth, Disconnect};
pub use error::{Clause, DecodeError, EncodeError, Violation};
pub use frame::FixedHeader;
pub use properties::{Properties, Property, PropertyContext};
pub use property_id::PropertyId;
pub use publish::Publish;
pub use reason::ReasonCode;
pub use subscribe::{RetainHandling, SubAck, Subscribe, SubscriptionOptions};
pub use topic::{matches, SharedFilter, TopicFilter, TopicName, SHARE_PREFIX};
pub use types::{PacketId, PacketType, Protocol, QoS};
pub use unsubscribe::{UnsubAck, Unsubscribe};
pub use wire::VARINT_MAX;

use wire::Reader;

/// The largest packet the wire format can describe: a five-byte fixed header with the largest
/// Remaining Length.
pub const MAX_PACKET_SIZE: u32 = 1 + 4 + VARINT_MAX;

/// An MQTT control packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    Connect(Box<Connect>),
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(Ack),
    PubRec(Ack),
    PubRel(Ack),
    PubComp(Ack),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(UnsubAck),
    PingReq,
    PingResp,
    Disconnect(Disconnect),
    Auth(Auth),
}

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }

    /// The size of the encoded packet, fixed header included: what a Maximum Packet Size is
    /// compared with.
    pub fn encoded_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let body = self.body_len(protocol)?;
        Ok(1 + wire::varint_len(body) + body)
    }

    /// Checks the packet and returns the size of its body (the Remaining Length).
    fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        if self.packet_type() == PacketType::Auth && !protocol.is_v5() {
            return Err(EncodeError::NotInProtocol {
                packet: PacketType::Auth,
                protocol,
            });
        }
        let len = match self {
            Packet::Connect(p) => p.body_len(protocol)?,
            Packet::ConnAck(p) => p.body_len(protocol)?,
            Packet::Publish(p) => p.body_len(protocol)?,
            Packet::PubAck(p) | Packet::PubRec(p) | Packet::PubRel(p) | Packet::PubComp(p) => {
                p.body_len(self.packet_type(), protocol)?
            }
            Packet::Subscribe(p) => p.body_len(protocol)?,
            Packet::SubAck(p) => p.body_len(protocol)?,
            Packet::Unsubscribe(p) => p.body_len(protocol)?,
            Packet::UnsubAck(p) => p.body_len(protocol)?,
            Packet::PingReq | Packet::PingResp => 0,
            Packet::Disconnect(p) => p.body_len(protocol)?,
            Packet::Auth(p) => p.body_len()?,
        };
        if len > VARINT_MAX as usize {
            return Err(EncodeError::TooLarge(len));
        }
        Ok(len)
    }

    /// The low four bits of the first byte.
    fn flags(&self) -> u8 {
        match self {
            Packet::Publish(p) => p.flags(),
            other => other.packet_type().fixed_flags(),
        }
    }

    /// Appends the encoded packet to `dst`. Nothing is written if the packet cannot be encoded.
    pub fn encode(&self, protocol: Protocol, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let body = self.body_len(protocol)?;
        dst.reserve(1 + wire::varint_len(body) + body);
        dst.put_u8(((self.packet_type() as u8) << 4) | self.flags());
        wire::put_varint(dst, body)?;
        let start = dst.len();
        match self {
            Packet::Connect(p) => p.write(protocol, dst)?,
            Packet::ConnAck(p) => p.write(protocol, dst)?,
            Packet::Publish(p) => p.write(protocol, dst)?,
            Packet::PubAck(p) | Packet::PubRec(p) | Packet::PubRel(p) | Packet::PubComp(p) => {
                p.write(protocol, dst)?
            }
            Packet::Subscribe(p) => p.write(protocol, dst)?,
            Packet::SubAck(p) => p.write(protocol, dst)?,
            Packet::Unsubscribe(p) => p.write(protocol, dst)?,
            Packet::UnsubAck(p) => p.write(protocol, dst)?,
            Packet::PingReq | Packet::PingResp => {}
            Packet::Disconnect(p) => p.write(protocol, dst)?,
            Packet::Auth(p) => p.write(dst)?,
        }
        debug_assert_eq!(
            dst.len() - start,
            body,
            "{:?} body length",
            self.packet_type()
        );
        Ok(())
    }

    /// Encodes the packet into a new buffer, of exactly its size: such a buffer becomes
    /// `Bytes` without a second allocation for its reference count (one with room to spare,
    /// as a growing buffer has for a 4-byte acknowledgement, needs one).
    pub fn to_bytes(&self, protocol: Protocol) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::with_capacity(self.encoded_len(protocol)?);
        self.encode(protocol, &mut buf)?;
        Ok(buf.freeze())
    }

    /// Decodes the body of a packet whose fixed header has been read.
    fn read(header: FixedHeader, body: Bytes, protocol: Protocol) -> Result<Packet, DecodeError> {
        let ty = header.packet_type;
        let mut r = Reader::new(body);
        let err = |p: Protocol| move |v: Violation| DecodeError::new(p, Some(ty), v);
        let packet = match ty {
            // CONNECT says which protocol it speaks; its errors are numbered by that protocol.
            PacketType::Connect => {
                let p = connect::read_protocol(&mut r).map_err(err(protocol))?;
                let c = Connect::read(&mut r, p).map_err(err(p))?;
                r.finish().map_err(err(p))?;
                return Ok(Packet::Connect(Box::new(c)));
            }
            PacketType::ConnAck => ConnAck::read(&mut r, protocol).map(Packet::ConnAck),
            PacketType::Publish => {
                Publish::read(&mut r, header.flags, protocol).map(Packet::Publish)
            }
            PacketType::PubAck => Ack::read(&mut r, ty, protocol).map(Packet::PubAck),
            PacketType::PubRec => Ack::read(&mut r, ty, protocol).map(Packet::PubRec),
            PacketType::PubRel => Ack::read(&mut r, ty, protocol).map(Packet::PubRel),
            PacketType::PubComp => Ack::read(&mut r, ty, protocol).map(Packet::PubComp),
            PacketType::Subscribe => Subscribe::read(&mut r, protocol).map(Packet::Subscribe),
            PacketType::SubAck => SubAck::read(&mut r, protocol).map(Packet::SubAck),
            PacketType::Unsubscribe => Unsubscribe::read(&mut r, protocol).map(Packet::Unsubscribe),
            PacketType::UnsubAck => UnsubAck::read(&mut r, protocol).map(Packet::UnsubAck),
            PacketType::PingReq => Ok(Packet::PingReq),
            PacketType::PingResp => Ok(Packet::PingResp),
            PacketType::Disconnect => Disconnect::read(&mut r, protocol).map(Packet::Disconnect),
            PacketType::Auth => Auth::read(&mut r).map(Packet::Auth),
        }
        .map_err(err(protocol))?;
        r.finish().map_err(err(protocol))?;
        Ok(packet)
    }
}

/// Decodes one packet from the front of `src`.
///
/// Returns `Ok(None)` when `src` does not yet hold a whole packet; nothing is consumed or
/// copied then, and `src` has room reserved for the rest of the frame. On success the packet's
/// bytes are split off `src`. A frame whose size exceeds `max_packet_size` is refused from its
/// fixed header, before its body is buffered. After an error the connection must be closed:
/// an error in the fixed header leaves `src` as it was, one in the body has consumed that
/// frame.
///
/// `protocol` is the connection's protocol; before CONNECT has been read, pass any (CONNECT
/// carries its own).
pub fn decode(
    src: &mut BytesMut,
    protocol: Protocol,
    max_packet_size: u32,
) -> Result<Option<Packet>, DecodeError> {
    let header = match frame::parse(src, protocol, max_packet_size) {
        Ok(Some(header)) => header,
        Ok(None) => return Ok(None),
        Err((packet, v)) => return Err(DecodeError::new(protocol, packet, v)),
    };
    if src.len() < header.frame_len() {
        src.reserve(header.frame_len() - src.len());
        return Ok(None);
    }
    // An acknowledgement is read where it lies, without splitting the buffer for its four
    // bytes: a subscriber's reads are made of them.
    let body = &src[header.header_len..header.frame_len()];
    if let Some(ack) = Ack::read_short(header.packet_type, body) {
        src.advance(header.frame_len());
        let ack = ack.map_err(|v| DecodeError::new(protocol, Some(header.packet_type), v))?;
        return Ok(Some(match header.packet_type {
            PacketType::PubAck => Packet::PubAck(ack),
            PacketType::PubRec => Packet::PubRec(ack),
            PacketType::PubRel => Packet::PubRel(ack),
            _ => Packet::PubComp(ack),
        }));
    }
    let mut frame = src.split_to(header.frame_len());
    frame.advance(header.header_len);
    let body = match header.packet_type {
        // The strings of these packets live as long as the connection or the session (client
        // identifier, user name, will, filters): they get a small allocation of their own
        // rather than keep the whole read buffer they arrived in alive.
        PacketType::Connect | PacketType::Subscribe | PacketType::Unsubscribe => {
            Bytes::copy_from_slice(&frame)
        }
        // Everything else shares the read buffer, as a PUBLISH payload should.
        _ => frame.freeze(),
    };
    Packet::read(header, body, protocol).map(Some)
}

/// Decodes a buffer that holds exactly one packet (for tests and tools).
pub fn decode_exact(bytes: &[u8], protocol: Protocol) -> Result<Packet, DecodeError> {
    let mut buf = BytesMut::from(bytes);
    match decode(&mut buf, protocol, MAX_PACKET_SIZE)? {
        Some(packet) if buf.is_empty() => Ok(packet),
        Some(packet) => Err(DecodeError::new(
            protocol,
            Some(packet.packet_type()),
            Violation::TrailingBytes(buf.len()),
        )),
        None => Err(DecodeError::new(protocol, None, Violation::Truncated)),
    }
}

#[cfg(test)]
mod tests;
