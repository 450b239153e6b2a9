//! The outbound inflight window of a session: QoS 1 and 2 deliveries sent and not yet
//! acknowledged, in the order they were sent.
//!
//! Every operation on the message path is O(1) amortised, however large the window (the
//! server allows up to 65,535). The flights sit in a queue in send order, each at the place
//! its sequence number gives it, and a small map gives an identifier's sequence number: an
//! acknowledgement (they come in order, almost always) takes the flight at the front, and a
//! flight finished out of order leaves a hole until it reaches the front. The PUBLISH resends
//! waiting for room after a reconnection are counted and queued as they are marked, so `pump`
//! never scans the window.
//!
//! The queue, not a map of flights, because a map of a few hundred flights per session, for
//! many sessions, is probed out of cache on every acknowledgement (it was the top of the
//! profile of a fan-out).

use std::collections::VecDeque;

use ahash::AHashMap;

use super::message::Delivery;

/// Where an outbound QoS 1 or QoS 2 delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboundState {
    /// PUBLISH sent; waiting for PUBACK (QoS 1) or PUBREC (QoS 2).
    Published,
    /// PUBREC received and PUBREL sent; waiting for PUBCOMP.
    Released,
}

/// A delivery sent and not yet acknowledged.
#[derive(Debug)]
pub struct Inflight {
    pub delivery: Delivery,
    state: OutboundState,
    /// A PUBLISH sent on an earlier connection and not resent on this one yet: it waits for
    /// room in the client's Receive Maximum [MQTT-4.9.0-2].
    awaiting_resend: bool,
    /// Its packet identifier (identifiers wrap and are reused; places in the queue do not).
    id: u16,
}

impl Inflight {
    pub fn state(&self) -> OutboundState {
        self.state
    }
}

/// The deliveries in flight, by packet identifier and in send order. Nothing but an empty
/// pointer until the session's first QoS 1 or 2 delivery: most sessions of a broker with
/// many idle clients never have one.
#[derive(Debug, Default)]
pub struct InflightWindow(Option<Box<Flights>>);

/// What an [`InflightWindow`] holds once used.
///
/// `slots[k]` holds the flight of sequence number `first + k`, or `None` once it finished
/// (dropped when it reaches the front, and all at once when holes outnumber the flights, so
/// that an old flight never acknowledged cannot make the queue grow without bound).
/// `resends` holds `(seq, id)` pairs; a pair whose slot no longer waits is stale and skipped.
#[derive(Debug, Default)]
struct Flights {
    slots: VecDeque<Option<Inflight>>,
    /// The sequence number of `slots[0]`.
    first: u64,
    /// The sequence number of each identifier in flight.
    seq_of: AHashMap<u16, u64>,
    /// The PUBLISH resends waiting for room, in send order.
    resends: VecDeque<(u64, u16)>,
    /// How many flights have `awaiting_resend` set.
    awaiting: usize,
}

/// Holes the queue may hold beyond the live flights before it is compacted.
const SLACK: usize = 16;

impl InflightWindow {
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.seq_of.len())
    }

    pub fn contains(&self, id: u16) -> bool {
        self.0.as_ref().is_some_and(|w| w.seq_of.contains_key(&id))
    }

    pub fn get(&self, id: u16) -> Option<&Inflight> {
        let w = self.0.as_ref()?;
        w.slot(*w.seq_of.get(&id)?)
    }

    /// How many PUBLISH resends wait for room in the window.
    pub fn awaiting_resend(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.awaiting)
    }

    /// Records a delivery as sent with `id`, at the back of the order.
    pub fn start(&mut self, id: u16, delivery: Delivery) {
        self.0
            .get_or_insert_with(Default::default)
            .start(id, delivery);
    }

    /// Ends the flight of `id`, returning it if it was in flight.
    pub fn finish(&mut self, id: u16) -> Option<Inflight> {
        self.0.as_mut()?.finish(id)
    }

    /// PUBREC came for `id`: PUBREL is sent, and the flight waits for PUBCOMP. A PUBLISH
    /// resend still waiting is no longer owed.
    pub fn release(&mut self, id: u16) {
        if let Some(w) = &mut self.0 {
            w.release(id);
        }
    }

    /// The identifiers in flight, in send order.
    pub fn ids(&self) -> impl Iterator<Item = u16> + '_ {
        self.0
            .iter()
            .flat_map(|w| w.slots.iter().flatten().map(|i| i.id))
    }

    /// Forgets every resend waiting (a new connection decides afresh what waits).
    pub fn clear_resends(&mut self) {
        if let Some(w) = &mut self.0 {
            w.clear_resends();
        }
    }

    /// Marks the PUBLISH of `id` as waiting for room to be resent. Marks must come in send
    /// order (`resume` walks [`InflightWindow::ids`]) after [`InflightWindow::clear_resends`].
    pub fn mark_resend(&mut self, id: u16) {
        if let Some(w) = &mut self.0 {
            w.mark_resend(id);
        }
    }

    /// Takes the first PUBLISH waiting to be resent, in send order: its identifier and a copy
    /// of its delivery. It stays in flight, no longer waiting.
    pub fn take_resend(&mut self) -> Option<(u16, Delivery)> {
        self.0.as_mut()?.take_resend()
    }

    /// Checks that the queue, the map, the counters and the resends agree.
    pub fn check(&self) -> Result<(), String> {
        self.0.as_ref().map_or(Ok(()), |w| w.check())
    }
}

impl Flights {
    /// The flight of sequence number `seq`, if it is still in flight.
    fn slot(&self, seq: u64) -> Option<&Inflight> {
        let k = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        self.slots.get(k)?.as_ref()
    }

    fn slot_mut(&mut self, seq: u64) -> Option<&mut Inflight> {
        let k = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        self.slots.get_mut(k)?.as_mut()
    }

    fn get_mut(&mut self, id: u16) -> Option<&mut Inflight> {
        let seq = *self.seq_of.get(&id)?;
        self.slot_mut(seq)
    }

    /// Records a delivery as sent with `id`, at the back of the order.
    fn start(&mut self, id: u16, delivery: Delivery) {
        let seq = self.first + self.slots.len() as u64;
        let old = self.seq_of.insert(id, seq);
        debug_assert!(old.is_none(), "packet identifier {id} already in flight");
        self.slots.push_back(Some(Inflight {
            delivery,
            state: OutboundState::Published,
            awaiting_resend: false,
            id,
        }));
    }

    /// Ends the flight of `id`, returning it if it was in flight.
    fn finish(&mut self, id: u16) -> Option<Inflight> {
        let seq = self.seq_of.remove(&id)?;
        let k = usize::try_from(seq - self.first).ok()?;
        let done = self.slots.get_mut(k)?.take()?;
        if done.awaiting_resend {
            self.awaiting -= 1;
        }
        while self.slots.front().is_some_and(Option::is_none) {
            self.slots.pop_front();
            self.first += 1;
        }
        if self.slots.len() > 2 * self.seq_of.len() + SLACK {
            self.compact();
        }
        Some(done)
    }

    /// Drops every hole: the flights get new sequence numbers, in the same order.
    fn compact(&mut self) {
        let first = self.first + self.slots.len() as u64;
        let old_first = self.first;
        let old: Vec<Option<Inflight>> = self.slots.drain(..).collect();
        let mut renumbered = AHashMap::with_capacity(old.len());
        for (k, slot) in old.into_iter().enumerate() {
            let Some(i) = slot else { continue };
            let seq = first + self.slots.len() as u64;
            renumbered.insert(old_first + k as u64, seq);
            self.seq_of.insert(i.id, seq);
            self.slots.push_back(Some(i));
        }
        self.first = first;
        self.resends = self
            .resends
            .drain(..)
            .filter_map(|(seq, id)| Some((*renumbered.get(&seq)?, id)))
            .collect();
    }

    /// PUBREC came for `id`: PUBREL is sent, and the flight waits for PUBCOMP. A PUBLISH
    /// resend still waiting is no longer owed.
    fn release(&mut self, id: u16) {
        let Some(i) = self.get_mut(id) else { return };
        i.state = OutboundState::Released;
        if std::mem::take(&mut i.awaiting_resend) {
            self.awaiting -= 1;
        }
    }

    /// Forgets every resend waiting (a new connection decides afresh what waits).
    fn clear_resends(&mut self) {
        let resends = std::mem::take(&mut self.resends);
        for (seq, id) in resends {
            if let Some(i) = self.slot_mut(seq).filter(|i| i.id == id) {
                i.awaiting_resend = false;
            }
        }
        self.awaiting = 0;
    }

    /// Marks the PUBLISH of `id` as waiting for room to be resent. Marks must come in send
    /// order (`resume` walks [`InflightWindow::ids`]) after [`InflightWindow::clear_resends`].
    fn mark_resend(&mut self, id: u16) {
        let Some(&seq) = self.seq_of.get(&id) else {
            return;
        };
        let Some(i) = self.slot_mut(seq) else { return };
        if !i.awaiting_resend {
            i.awaiting_resend = true;
            self.awaiting += 1;
            self.resends.push_back((seq, id));
        }
    }

    /// Takes the first PUBLISH waiting to be resent, in send order: its identifier and a copy
    /// of its delivery. It stays in flight, no longer waiting.
    fn take_resend(&mut self) -> Option<(u16, Delivery)> {
        while let Some((seq, id)) = self.resends.pop_front() {
            match self.slot_mut(seq) {
                Some(i) if i.id == id && i.awaiting_resend => {
                    i.awaiting_resend = false;
                    let delivery = i.delivery.clone();
                    self.awaiting -= 1;
                    return Some((id, delivery));
                }
                _ => {} // Stale: acknowledged or released meanwhile.
            }
        }
        None
    }

    /// Checks that the queue, the map, the counters and the resends agree.
    fn check(&self) -> Result<(), String> {
        let live = self.slots.iter().flatten().count();
        if live != self.seq_of.len() {
            return Err(format!(
                "{} identifiers in flight, {live} flights in the queue",
                self.seq_of.len()
            ));
        }
        for (&id, &seq) in &self.seq_of {
            if self.slot(seq).map(|i| i.id) != Some(id) {
                return Err(format!("identifier {id} does not hold its place {seq}"));
            }
        }
        if self.slots.front().is_some_and(Option::is_none) {
            return Err("a hole at the front of the inflight queue".into());
        }
        if self.slots.len() > 2 * self.seq_of.len() + SLACK {
            return Err(format!(
                "inflight queue holds {} for {} in flight",
                self.slots.len(),
                self.seq_of.len()
            ));
        }
        let awaiting = self
            .slots
            .iter()
            .flatten()
            .filter(|i| i.awaiting_resend)
            .count();
        let queued = self
            .resends
            .iter()
            .filter(|&&(seq, id)| {
                self.slot(seq)
                    .is_some_and(|i| i.id == id && i.awaiting_resend)
            })
            .count();
        if awaiting != self.awaiting || queued != self.awaiting {
            return Err(format!(
                "{awaiting} resends waiting, counted {}, queued {queued}",
                self.awaiting
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::codec::{QoS, TopicName};
    use crate::engine::message::Message;

    fn delivery() -> Delivery {
        Delivery {
            message: Arc::new(Message {
                topic: TopicName::new("t").unwrap(),
                payload: Default::default(),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties: Default::default(),
                expires_at: None,
                publisher: None,
            }),
            qos: QoS::AtLeastOnce,
            retain: false,
            subscription_ids: vec![],
            shared: None,
        }
    }

    fn window(ids: impl IntoIterator<Item = u16>) -> InflightWindow {
        let mut w = InflightWindow::default();
        for id in ids {
            w.start(id, delivery());
        }
        w
    }

    #[test]
    fn order_survives_out_of_order_finishes_and_reused_ids() {
        let mut w = window([5, 6, 7, 8]);
        assert!(w.finish(6).is_some());
        assert!(w.finish(6).is_none());
        w.start(6, delivery()); // Reused: now the newest.
        assert!(w.finish(5).is_some());
        assert_eq!(w.ids().collect::<Vec<_>>(), [7, 8, 6]);
        w.check().unwrap();
    }

    #[test]
    fn a_flight_never_acknowledged_does_not_grow_the_order() {
        let mut w = window([1]);
        for round in 0..10_000u32 {
            let id = 2 + (round % 100) as u16;
            w.start(id, delivery());
            w.finish(id);
            let queue = w.0.as_ref().unwrap().slots.len();
            assert!(queue <= 2 * w.len() + SLACK);
        }
        assert_eq!(w.ids().collect::<Vec<_>>(), [1]);
        w.check().unwrap();
    }

    #[test]
    fn resends_come_in_order_and_skip_what_was_settled() {
        let mut w = window([1, 2, 3, 4]);
        for id in [2, 3, 4] {
            w.mark_resend(id);
        }
        assert_eq!(w.awaiting_resend(), 3);
        w.release(3); // PUBREC for one of them.
        w.finish(2); // PUBACK for another.
        w.check().unwrap();
        assert_eq!(w.awaiting_resend(), 1);
        assert_eq!(w.take_resend().map(|(id, _)| id), Some(4));
        assert_eq!(w.take_resend().map(|(id, _)| id), None);
        assert_eq!(w.get(3).unwrap().state(), OutboundState::Released);
        w.mark_resend(1);
        w.clear_resends();
        assert_eq!(w.awaiting_resend(), 0);
        w.check().unwrap();
    }
}
