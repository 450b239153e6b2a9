//! Where the engine's frames are encoded. Frames are small and many (a PUBACK is four bytes),
//! so they are written one after another into a shared chunk and split off it: each costs a
//! reference count on the chunk rather than an allocation of its own, and the chunk is freed
//! when the last of its frames has been written out.

use bytes::{Bytes, BytesMut};

use crate::codec::{EncodeError, Packet, PacketId, Protocol};

/// The size of a fresh chunk.
const CHUNK: usize = 16 * 1024;

#[derive(Debug, Default)]
pub(super) struct Arena {
    buf: BytesMut,
}

impl Arena {
    /// `packet`, encoded for `protocol`.
    pub fn encode(&mut self, packet: &Packet, protocol: Protocol) -> Result<Bytes, EncodeError> {
        self.room(64);
        match packet.encode(protocol, &mut self.buf) {
            Ok(()) => Ok(self.buf.split().freeze()),
            Err(e) => {
                self.buf.clear();
                Err(e)
            }
        }
    }

    /// A copy of an encoded QoS 1/2 PUBLISH with packet identifier `id`, which sits right
    /// after the fixed header and the Topic Name (`topic_len` bytes).
    pub fn with_packet_id(&mut self, encoded: &[u8], topic_len: usize, id: PacketId) -> Bytes {
        let header_len = 1 + encoded[1..]
            .iter()
            .position(|b| b & 0x80 == 0)
            .map_or(4, |p| p + 1);
        let at = header_len + 2 + topic_len;
        self.room(encoded.len());
        self.buf.extend_from_slice(encoded);
        self.buf[at..at + 2].copy_from_slice(&id.get().to_be_bytes());
        self.buf.split().freeze()
    }

    /// Makes sure `n` bytes fit in the chunk, starting a fresh one if they do not.
    fn room(&mut self, n: usize) {
        if self.buf.capacity() - self.buf.len() < n {
            self.buf = BytesMut::with_capacity(CHUNK.max(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_exact, Ack, Publish, QoS, TopicName};

    #[test]
    fn frames_share_a_chunk_and_stay_whole() {
        let mut arena = Arena::default();
        let ack = |id| Packet::PubAck(Ack::new(PacketId::new(id).unwrap()));
        let a = arena.encode(&ack(1), Protocol::V3_1_1).unwrap();
        let b = arena.encode(&ack(2), Protocol::V3_1_1).unwrap();
        assert_eq!(&a[..], [0x40, 0x02, 0x00, 0x01]);
        assert_eq!(&b[..], [0x40, 0x02, 0x00, 0x02]);
        // Both in the same chunk: the second starts where the first ends.
        assert_eq!(a.as_ptr().wrapping_add(4), b.as_ptr());

        let mut p = Publish::new(TopicName::new("t/x").unwrap(), Bytes::from_static(b"hi"));
        p.qos = QoS::AtLeastOnce;
        p.packet_id = PacketId::new(7);
        let shape = arena.encode(&Packet::Publish(p), Protocol::V5).unwrap();
        let copy = arena.with_packet_id(&shape, 3, PacketId::new(300).unwrap());
        match decode_exact(&copy, Protocol::V5).unwrap() {
            Packet::Publish(p) => assert_eq!(p.packet_id, PacketId::new(300)),
            other => panic!("{other:?}"),
        }
        // A frame larger than what is left of a chunk gets a chunk of its own.
        let big = Publish::new(TopicName::new("t").unwrap(), Bytes::from(vec![0; 40_000]));
        let big = arena.encode(&Packet::Publish(big), Protocol::V5).unwrap();
        assert!(decode_exact(&big, Protocol::V5).is_ok());
    }
}
