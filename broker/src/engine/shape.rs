//! The PUBLISH frames encoded for the message being routed, shared by every subscriber that
//! gets the same bytes (rule 2 of the house: encode once per shape, not once per subscriber).
//!
//! A fan-out looks a shape up once per subscriber, so the lookup must cost next to nothing:
//! the common shape (no Subscription Identifiers) is a slot in a small array indexed by
//! protocol, QoS and RETAIN; shapes with identifiers are hashed, so even a hundred subscribers
//! with a hundred different identifiers stay one lookup each.

use ahash::AHashMap;
use bytes::Bytes;

use crate::codec::QoS;

/// What makes two subscribers' PUBLISH bytes the same, apart from the packet identifier.
#[derive(Clone, Copy, Debug)]
pub(super) struct Shape<'a> {
    /// 3.1 and 3.1.1 encode a PUBLISH identically; 5.0 adds properties.
    pub v5: bool,
    pub qos: QoS,
    pub retain: bool,
    pub subscription_ids: &'a [u32],
}

impl Shape<'_> {
    /// The shape without its identifiers, as a number below [`SLOTS`].
    fn slot(&self) -> usize {
        usize::from(self.v5) * 6 + self.qos as usize * 2 + usize::from(self.retain)
    }
}

/// Protocol (2) × QoS (3) × RETAIN (2).
const SLOTS: usize = 12;

/// The frames encoded for the message being routed, by shape. It lives for one `route` call
/// only, so a frame never outlives the message and the moment (expiry) it was encoded for.
#[derive(Debug, Default)]
pub(super) struct ShapeCache {
    active: bool,
    /// Frames without Subscription Identifiers, by [`Shape::slot`].
    plain: [Option<Bytes>; SLOTS],
    /// Frames with Subscription Identifiers, keyed by the slot followed by the identifiers.
    with_ids: AHashMap<Vec<u32>, Bytes>,
    /// Where such a key is built for a lookup, so that a hit allocates nothing.
    key: Vec<u32>,
}

impl ShapeCache {
    pub fn begin(&mut self) {
        self.active = true;
    }

    pub fn end(&mut self) {
        self.active = false;
        self.plain = Default::default();
        self.with_ids.clear();
    }

    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The frame of `shape`: the one encoded earlier for this message, or the one `encode`
    /// makes now (kept for the next subscriber). `None` if it cannot be encoded.
    pub fn frame(
        &mut self,
        shape: Shape<'_>,
        encode: impl FnOnce() -> Option<Bytes>,
    ) -> Option<Bytes> {
        let slot = shape.slot();
        if shape.subscription_ids.is_empty() {
            if let Some(frame) = &self.plain[slot] {
                return Some(frame.clone());
            }
            let frame = encode()?;
            self.plain[slot] = Some(frame.clone());
            return Some(frame);
        }
        self.key.clear();
        self.key.push(slot as u32);
        self.key.extend_from_slice(shape.subscription_ids);
        if let Some(frame) = self.with_ids.get(self.key.as_slice()) {
            return Some(frame.clone());
        }
        let frame = encode()?;
        self.with_ids.insert(self.key.clone(), frame.clone());
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(v5: bool, qos: QoS, retain: bool, ids: &[u32]) -> Shape<'_> {
        Shape {
            v5,
            qos,
            retain,
            subscription_ids: ids,
        }
    }

    #[test]
    fn each_shape_is_encoded_once_and_apart_from_the_others() {
        let mut cache = ShapeCache::default();
        cache.begin();
        let mut encoded = 0;
        let mut frame = |s: Shape<'_>| {
            cache
                .frame(s, || {
                    encoded += 1;
                    Some(Bytes::from(format!("{s:?}")))
                })
                .unwrap()
        };
        let shapes = [
            shape(false, QoS::AtMostOnce, false, &[]),
            shape(true, QoS::AtMostOnce, false, &[]),
            shape(true, QoS::ExactlyOnce, true, &[]),
            shape(true, QoS::ExactlyOnce, true, &[7]),
            shape(true, QoS::ExactlyOnce, true, &[7, 8]),
            shape(true, QoS::AtMostOnce, false, &[7]),
        ];
        for round in 0..2 {
            for s in shapes {
                assert_eq!(frame(s), Bytes::from(format!("{s:?}")), "round {round}");
            }
        }
        assert_eq!(encoded, shapes.len());
        cache.end();
        assert!(!cache.is_active());
        assert!(cache.plain.iter().all(Option::is_none) && cache.with_ids.is_empty());
    }

    #[test]
    fn a_failed_encoding_is_not_kept() {
        let mut cache = ShapeCache::default();
        let s = shape(true, QoS::AtLeastOnce, false, &[1]);
        assert_eq!(cache.frame(s, || None), None);
        assert_eq!(
            cache.frame(s, || Some(Bytes::from_static(b"x"))),
            Some(Bytes::from_static(b"x"))
        );
    }
}
