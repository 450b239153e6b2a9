//! The outbound inflight window of a session: QoS 1 and 2 deliveries sent and not yet
//! acknowledged, in the order they were sent.
//!
//! Every operation on the message path is O(1) amortised, however large the window (the
//! server allows up to 65,535): an acknowledgement looks its delivery up by identifier, the
//! send order is a queue from which finished flights are removed lazily, and the PUBLISH
//! resends waiting for room after a reconnection are counted and queued as they are marked,
//! so `pump` never scans the window.

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
    /// Its place in the send order: identifiers wrap and are reused, sequence numbers not.
    seq: u64,
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
/// `order` and `resends` hold `(seq, id)` pairs. Finishing a flight (or resending it) leaves
/// its pair behind, *stale*: its identifier is gone, carries a newer flight, or no longer
/// waits. Stale pairs are dropped when they reach the front, and all at once when `order`
/// grows past twice the live entries (so an old flight that is never acknowledged cannot
/// make it grow without bound).
#[derive(Debug, Default)]
struct Flights {
    entries: AHashMap<u16, Inflight>,
    order: VecDeque<(u64, u16)>,
    next_seq: u64,
    /// The PUBLISH resends waiting for room, in send order.
    resends: VecDeque<(u64, u16)>,
    /// How many entries have `awaiting_resend` set.
    awaiting: usize,
}

/// Stale pairs `order` may hold beyond the live entries before it is compacted.
const SLACK: usize = 16;

impl InflightWindow {
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.entries.len())
    }

    pub fn contains(&self, id: u16) -> bool {
        self.0.as_ref().is_some_and(|w| w.entries.contains_key(&id))
    }

    pub fn get(&self, id: u16) -> Option<&Inflight> {
        self.0.as_ref()?.entries.get(&id)
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
        self.0.iter().flat_map(|w| w.ids())
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

    /// Checks that the order, the counters and the queues agree with the entries.
    pub fn check(&self) -> Result<(), String> {
        self.0.as_ref().map_or(Ok(()), |w| w.check())
    }
}

impl Flights {
    /// Records a delivery as sent with `id`, at the back of the order.
    fn start(&mut self, id: u16, delivery: Delivery) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let old = self.entries.insert(
            id,
            Inflight {
                delivery,
                state: OutboundState::Published,
                awaiting_resend: false,
                seq,
            },
        );
        debug_assert!(old.is_none(), "packet identifier {id} already in flight");
        self.order.push_back((seq, id));
    }

    /// Ends the flight of `id`, returning it if it was in flight.
    fn finish(&mut self, id: u16) -> Option<Inflight> {
        let done = self.entries.remove(&id)?;
        if done.awaiting_resend {
            self.awaiting -= 1;
        }
        let entries = &self.entries;
        let live = |&(seq, id): &(u64, u16)| entries.get(&id).is_some_and(|i| i.seq == seq);
        while self.order.front().is_some_and(|p| !live(p)) {
            self.order.pop_front();
        }
        if self.order.len() > 2 * entries.len() + SLACK {
            self.order.retain(live);
        }
        Some(done)
    }

    /// PUBREC came for `id`: PUBREL is sent, and the flight waits for PUBCOMP. A PUBLISH
    /// resend still waiting is no longer owed.
    fn release(&mut self, id: u16) {
        if let Some(i) = self.entries.get_mut(&id) {
            i.state = OutboundState::Released;
            if std::mem::take(&mut i.awaiting_resend) {
                self.awaiting -= 1;
            }
        }
    }

    /// The identifiers in flight, in send order.
    fn ids(&self) -> impl Iterator<Item = u16> + '_ {
        self.order
            .iter()
            .filter(|&&(seq, id)| self.entries.get(&id).is_some_and(|i| i.seq == seq))
            .map(|&(_, id)| id)
    }

    /// Forgets every resend waiting (a new connection decides afresh what waits).
    fn clear_resends(&mut self) {
        for (_, id) in self.resends.drain(..) {
            if let Some(i) = self.entries.get_mut(&id) {
                i.awaiting_resend = false;
            }
        }
        self.awaiting = 0;
    }

    /// Marks the PUBLISH of `id` as waiting for room to be resent. Marks must come in send
    /// order (`resume` walks [`InflightWindow::ids`]) after [`InflightWindow::clear_resends`].
    fn mark_resend(&mut self, id: u16) {
        if let Some(i) = self.entries.get_mut(&id) {
            if !i.awaiting_resend {
                i.awaiting_resend = true;
                self.awaiting += 1;
                self.resends.push_back((i.seq, id));
            }
        }
    }

    /// Takes the first PUBLISH waiting to be resent, in send order: its identifier and a copy
    /// of its delivery. It stays in flight, no longer waiting.
    fn take_resend(&mut self) -> Option<(u16, Delivery)> {
        while let Some((seq, id)) = self.resends.pop_front() {
            match self.entries.get_mut(&id) {
                Some(i) if i.seq == seq && i.awaiting_resend => {
                    i.awaiting_resend = false;
                    self.awaiting -= 1;
                    return Some((id, i.delivery.clone()));
                }
                _ => {} // Stale: acknowledged or released meanwhile.
            }
        }
        None
    }

    /// Checks that the order, the counters and the queues agree with the entries.
    fn check(&self) -> Result<(), String> {
        let mut last = None;
        let mut live = 0;
        for &(seq, id) in &self.order {
            if self.entries.get(&id).is_some_and(|i| i.seq == seq) {
                if last.is_some_and(|l| l >= seq) {
                    return Err(format!("inflight order not increasing at id {id}"));
                }
                last = Some(seq);
                live += 1;
            }
        }
        if live != self.entries.len() {
            return Err(format!(
                "{} in flight, {live} of them in the order",
                self.entries.len()
            ));
        }
        if self.order.len() > 2 * self.entries.len() + SLACK {
            return Err(format!(
                "inflight order holds {} for {} in flight",
                self.order.len(),
                self.entries.len()
            ));
        }
        let awaiting = self.entries.values().filter(|i| i.awaiting_resend).count();
        let queued = self
            .resends
            .iter()
            .filter(|&&(seq, id)| {
                self.entries
                    .get(&id)
                    .is_some_and(|i| i.seq == seq && i.awaiting_resend)
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
            let order = w.0.as_ref().unwrap().order.len();
            assert!(order <= 2 * w.len() + SLACK);
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
