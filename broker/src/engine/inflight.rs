//! The outbound inflight window of a session: QoS 1 and 2 deliveries sent and not yet
//! acknowledged, in the order they were sent.
//!
//! Every operation on the message path is O(1) amortised, however large the window (the
//! server allows up to 65,535). The flights sit in a queue in send order, each at the place
//! its sequence number gives it: an acknowledgement (they come in order, almost always)
//! takes the flight at the front, and a flight finished out of order leaves a hole until it
//! reaches the front. The PUBLISH resends waiting for room after a reconnection are counted
//! and queued as they are marked, so `pump` never scans the window.
//!
//! The window also hands out the packet identifiers, so that an identifier says where its
//! flight is: sequence number `s` gets the identifier `(s + base) mod 65,535 + 1`, and
//! finding the flight of an identifier is arithmetic and one look at the queue. Only an
//! identifier that could not follow that rule (the one it should have had was still in
//! flight, 65,535 sends later, or the flight was recorded with an identifier of the
//! caller's) goes into a small map.
//!
//! The queue and the arithmetic, not a map of flights, because a map of a few hundred
//! flights per session, for many sessions, is probed out of cache on every delivery and
//! every acknowledgement (it was the top of the profile of a fan-out, twice).

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
    /// How many flights the queue holds (its length less the holes).
    live: usize,
    /// Sequence number `s` is given the identifier `regular_id(s)`: `(s + base) mod 65,535
    /// + 1`; `base < 65,535`.
    base: u64,
    /// The sequence number of each identifier in flight that is not its place's regular one.
    irregular: AHashMap<u16, u64>,
    /// The PUBLISH resends waiting for room, in send order.
    resends: VecDeque<(u64, u16)>,
    /// How many flights have `awaiting_resend` set.
    awaiting: usize,
}

/// Holes the queue may hold beyond the live flights before it is compacted.
const SLACK: usize = 16;

/// How many packet identifiers there are (1 to 65,535).
const IDS: u64 = u16::MAX as u64;

impl InflightWindow {
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.live)
    }

    pub fn get(&self, id: u16) -> Option<&Inflight> {
        let w = self.0.as_ref()?;
        w.slot(w.seq_of(id)?)
    }

    /// A packet identifier for the next flight: the one its place in the order gives it,
    /// or, if that one is still in flight, the next free one after it. Not 0
    /// [MQTT-2.2.1-3]; never one in flight [MQTT-2.2.1-4].
    pub fn next_id(&self) -> u16 {
        let Some(w) = &self.0 else {
            return Flights::default().regular_id(0);
        };
        let mut id = w.regular_id(w.first + w.slots.len() as u64);
        // At most 65,535 flights: a free identifier exists whenever the caller may send.
        for _ in 0..IDS {
            if w.seq_of(id).is_none() {
                break;
            }
            id = id % u16::MAX + 1;
        }
        id
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

    /// Every flight, in send order: its identifier, where it stands, and its delivery.
    pub fn flights_mut(&mut self) -> impl Iterator<Item = (u16, OutboundState, &mut Delivery)> {
        self.0.iter_mut().flat_map(|w| {
            w.slots
                .iter_mut()
                .flatten()
                .map(|i| (i.id, i.state, &mut i.delivery))
        })
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
    /// The identifier sequence number `seq` is given when it can be.
    fn regular_id(&self, seq: u64) -> u16 {
        ((seq + self.base) % IDS + 1) as u16
    }

    /// The sequence number of the flight of `id`: the places whose regular identifier it is
    /// (one, or up to three while the queue holds many holes), then the irregular ones.
    fn seq_of(&self, id: u16) -> Option<u64> {
        if id == 0 {
            return None;
        }
        let residue = (u64::from(id) - 1 + IDS - self.base) % IDS;
        let end = self.first + self.slots.len() as u64;
        let mut seq = self.first + (residue + IDS - self.first % IDS) % IDS;
        while seq < end {
            if self.slot(seq).is_some_and(|i| i.id == id) {
                return Some(seq);
            }
            seq += IDS;
        }
        self.irregular.get(&id).copied()
    }

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
        let seq = self.seq_of(id)?;
        self.slot_mut(seq)
    }

    /// Records a delivery as sent with `id`, at the back of the order.
    fn start(&mut self, id: u16, delivery: Delivery) {
        debug_assert!(
            self.seq_of(id).is_none(),
            "packet identifier {id} already in flight"
        );
        let seq = self.first + self.slots.len() as u64;
        if id != self.regular_id(seq) {
            self.irregular.insert(id, seq);
        }
        self.live += 1;
        self.slots.push_back(Some(Inflight {
            delivery,
            state: OutboundState::Published,
            awaiting_resend: false,
            id,
        }));
    }

    /// Ends the flight of `id`, returning it if it was in flight.
    fn finish(&mut self, id: u16) -> Option<Inflight> {
        let seq = self.seq_of(id)?;
        let k = usize::try_from(seq - self.first).ok()?;
        let done = self.slots.get_mut(k)?.take()?;
        if id != self.regular_id(seq) {
            self.irregular.remove(&id);
        }
        self.live -= 1;
        if done.awaiting_resend {
            self.awaiting -= 1;
        }
        while self.slots.front().is_some_and(Option::is_none) {
            self.slots.pop_front();
            self.first += 1;
        }
        if self.slots.len() > 2 * self.live + SLACK {
            self.compact();
        }
        Some(done)
    }

    /// Drops every hole: the flights get new sequence numbers, in the same order, and the
    /// identifiers' rule starts again from the newest flight, so that the identifiers handed
    /// out next are regular again.
    fn compact(&mut self) {
        let first = self.first + self.slots.len() as u64;
        let old_first = self.first;
        let old: Vec<Option<Inflight>> = self.slots.drain(..).collect();
        let mut renumbered = AHashMap::with_capacity(old.len());
        for (k, slot) in old.into_iter().enumerate() {
            let Some(i) = slot else { continue };
            let seq = first + self.slots.len() as u64;
            renumbered.insert(old_first + k as u64, seq);
            self.slots.push_back(Some(i));
        }
        self.first = first;
        self.irregular.clear();
        if let Some(Some(newest)) = self.slots.back() {
            let seq = first + self.slots.len() as u64 - 1;
            self.base = (u64::from(newest.id) - 1 + IDS - seq % IDS) % IDS;
        }
        for (k, i) in self.slots.iter().enumerate() {
            let (seq, i) = (first + k as u64, i.as_ref().expect("no holes"));
            if i.id != self.regular_id(seq) {
                self.irregular.insert(i.id, seq);
            }
        }
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
        let Some(seq) = self.seq_of(id) else {
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
        if live != self.live {
            return Err(format!(
                "{} flights counted, {live} in the queue",
                self.live
            ));
        }
        for (k, i) in self.slots.iter().enumerate() {
            let Some(i) = i else { continue };
            let seq = self.first + k as u64;
            if self.seq_of(i.id) != Some(seq) {
                return Err(format!(
                    "identifier {} is not found at its place {seq}",
                    i.id
                ));
            }
            let regular = i.id == self.regular_id(seq);
            if regular == self.irregular.contains_key(&i.id) {
                return Err(format!(
                    "identifier {} at {seq}: regular {regular}, mapped {}",
                    i.id, !regular
                ));
            }
        }
        if self.irregular.len() > self.live {
            return Err(format!(
                "{} identifiers mapped for {} in flight",
                self.irregular.len(),
                self.live
            ));
        }
        if self.slots.front().is_some_and(Option::is_none) {
            return Err("a hole at the front of the inflight queue".into());
        }
        if self.slots.len() > 2 * self.live + SLACK {
            return Err(format!(
                "inflight queue holds {} for {} in flight",
                self.slots.len(),
                self.live
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
            seq: 0,
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
    /// Sends with the identifiers the window hands out, acknowledging `lag` sends later.
    fn stream(w: &mut InflightWindow, sends: usize, lag: usize) -> Vec<u16> {
        let mut sent = Vec::new();
        for n in 0..sends {
            let id = w.next_id();
            assert_ne!(id, 0);
            assert!(w.get(id).is_none(), "{id} handed out while in flight");
            w.start(id, delivery());
            sent.push(id);
            if n >= lag {
                assert!(w.finish(sent[n - lag]).is_some());
            }
        }
        sent
    }

    #[test]
    fn identifiers_handed_out_need_no_map_and_wrap_past_zero() {
        let mut w = InflightWindow::default();
        let sent = stream(&mut w, 70_000, 256);
        assert_eq!(&sent[..3], [1, 2, 3]);
        assert_eq!(sent[65_534], u16::MAX);
        assert_eq!(sent[65_535], 1, "wraps past 0");
        assert_eq!(w.len(), 256);
        assert!(w.0.as_ref().unwrap().irregular.is_empty());
        w.check().unwrap();
    }

    #[test]
    fn a_stuck_flight_is_skipped_and_the_rest_stay_regular() {
        let mut w = InflightWindow::default();
        let stuck = w.next_id();
        w.start(stuck, delivery());
        // A full turn of identifiers later, the stuck one would come round again.
        let sent = stream(&mut w, 70_000, 8);
        assert!(!sent.contains(&stuck));
        assert_eq!(w.len(), 9);
        assert!(w.get(stuck).is_some());
        let flights = w.0.as_ref().unwrap();
        assert!(flights.irregular.len() <= 1, "{:?}", flights.irregular);
        w.check().unwrap();
        // Every flight is found, whichever way it was numbered.
        for &id in &sent[sent.len() - 8..] {
            assert!(w.finish(id).is_some());
        }
        assert!(w.finish(stuck).is_some());
        assert_eq!(w.len(), 0);
        w.check().unwrap();
    }

    #[test]
    fn out_of_order_acknowledgements_find_their_flights() {
        let mut w = InflightWindow::default();
        let mut sent = stream(&mut w, 500, usize::MAX);
        // Every other one first, then the rest newest first.
        for id in sent.iter().step_by(2) {
            assert!(w.finish(*id).is_some());
            w.check().unwrap();
        }
        sent.reverse();
        for id in sent.iter().filter(|id| *id % 2 == 0) {
            assert!(w.finish(*id).is_some(), "{id}");
        }
        assert_eq!(w.len(), 0);
        w.check().unwrap();
    }
}
