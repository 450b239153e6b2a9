//! Session state (section 4.1): what the server keeps for a client identifier, whether or not
//! a network connection is attached to it.
//!
//! Everything here is plain data (subscriptions by filter, the outbound inflight window and
//! queue, inbound QoS 2 identifiers awaiting PUBREL, the will) so that a store can later persist
//! it as it stands.

use std::collections::{BTreeSet, VecDeque};
use std::time::Instant;

use ahash::AHashMap;
use bytestring::ByteString;

use super::conn::ConnId;
use super::inflight::InflightWindow;
use super::message::Delivery;
use crate::codec::{PacketId, Protocol, TopicFilter};
use crate::router::Subscription;

/// The will a connection left with its session, waiting for its delay.
#[derive(Debug)]
pub struct PendingWill {
    pub delivery_at: Instant,
    pub will: crate::codec::Will,
}

/// The limits a session's queue works within. For an online session they are its
/// high-water mark: a queue at or over them holds back the publishers that feed it (see
/// `flow`), and half of each is the low-water mark at which they go on. For an offline session
/// they are a ceiling, kept by the [`OfflinePolicy`].
#[derive(Clone, Copy, Debug)]
pub struct QueueLimits {
    pub max_messages: usize,
    pub max_bytes: usize,
}

impl QueueLimits {
    /// Whether a queue of `messages` holding `bytes` is at or over the high-water mark.
    pub fn reached(&self, messages: usize, bytes: usize) -> bool {
        messages >= self.max_messages || bytes >= self.max_bytes
    }

    /// Whether a queue of `messages` holding `bytes` is at or under the low-water mark, half
    /// of each limit.
    pub fn drained(&self, messages: usize, bytes: usize) -> bool {
        messages <= self.max_messages / 2 && bytes <= self.max_bytes / 2
    }
}

/// What an offline session's full queue gives up for a new message (`[limits]
/// offline_queue_policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OfflinePolicy {
    /// The oldest queued message makes room for the new one.
    #[default]
    DropOldest,
    /// The new message is dropped.
    DropNewest,
}

#[derive(Debug)]
pub struct Session {
    pub client_id: ByteString,
    /// The connection attached now, if any.
    pub conn: Option<ConnId>,
    /// The protocol of the last connection.
    pub protocol: Protocol,
    /// Session Expiry Interval in seconds; `u32::MAX` never expires.
    pub expiry_interval: u32,
    /// When an offline session ends; bumps of `generation` cancel older timers.
    pub expires_at: Option<Instant>,
    pub generation: u64,
    /// The subscriptions, by filter, for UNSUBSCRIBE and for cleaning the router up (boxed
    /// once there is one: many clients only publish).
    subscriptions: Option<Box<AHashMap<TopicFilter, Subscription>>>,
    /// Outbound QoS 1/2 deliveries in flight, in the order they were sent.
    pub inflight: InflightWindow,
    /// Deliveries waiting for the inflight window or for the client to come back.
    pub queue: VecDeque<Delivery>,
    pub queued_bytes: usize,
    /// Inbound QoS 2 packet identifiers whose PUBLISH has been received and PUBREC sent,
    /// awaiting PUBREL; a repeated PUBLISH with one of them is not delivered again. (A B-tree:
    /// nothing while empty, and small beside a hash set.)
    pub inbound_qos2: BTreeSet<u16>,
    /// A will waiting for its Will Delay Interval (5.0); boxed, as it is rare.
    pub pending_will: Option<Box<PendingWill>>,
    /// Messages dropped because the offline queue was full, for the logs and metrics.
    pub dropped: u64,
    /// The publishers held back while the queue is over its high-water mark (see `flow`);
    /// boxed, as it is rare.
    pub pressure: Option<Box<super::flow::Pressure>>,
    /// Whether the transport has more waiting to be written to the connection than it wants
    /// to hold: deliveries wait in the queue meanwhile. Kept here, not on the connection, so
    /// that delivering QoS 0 (the fan-out case) looks nothing else up.
    pub congested: bool,
    /// Whether the store keeps this session (see `store`): its changes are recorded.
    pub stored: bool,
    /// The number of the last message it was given while kept ([`Delivery::seq`]).
    pub next_seq: u64,
    /// The queued messages of a kept session that are on disk only, after those in `queue`
    /// (see `store`); boxed, as most sessions never have any.
    pub spill: Option<Box<Spill>>,
}

/// What a kept session's queue holds on disk only: each message's number and what it counts
/// against the queue's byte limit, in order, after everything in the session's `queue`.
#[derive(Debug, Default)]
pub struct Spill {
    pub entries: VecDeque<(u64, usize)>,
    pub bytes: usize,
    /// Whether the next of them have been asked of the store.
    pub loading: bool,
}

impl Session {
    pub fn new(client_id: ByteString, protocol: Protocol) -> Session {
        Session {
            client_id,
            conn: None,
            protocol,
            expiry_interval: 0,
            expires_at: None,
            generation: 0,
            subscriptions: None,
            inflight: InflightWindow::default(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            inbound_qos2: BTreeSet::new(),
            pending_will: None,
            dropped: 0,
            pressure: None,
            congested: false,
            stored: false,
            next_seq: 0,
            spill: None,
        }
    }

    /// Records a subscription, replacing any to the same filter.
    pub fn subscribe(&mut self, filter: TopicFilter, subscription: Subscription) {
        let all = self.subscriptions.get_or_insert_with(Default::default);
        all.insert(filter, subscription);
    }

    /// Forgets the subscription to `filter`; false if there was none.
    pub fn unsubscribe(&mut self, filter: &TopicFilter) -> bool {
        let all = self.subscriptions.as_mut();
        all.is_some_and(|all| all.remove(filter).is_some())
    }

    /// The subscriptions, by filter.
    pub fn subscriptions(&self) -> impl Iterator<Item = (&TopicFilter, &Subscription)> {
        self.subscriptions.iter().flat_map(|all| all.iter())
    }

    /// The filters subscribed to.
    pub fn filters(&self) -> impl Iterator<Item = &TopicFilter> {
        self.subscriptions.iter().flat_map(|all| all.keys())
    }

    /// A packet identifier not used by any outbound delivery in flight [MQTT-2.2.1-4].
    /// The caller keeps the window smaller than 65,535, so one is always free.
    pub fn allocate_packet_id(&mut self) -> PacketId {
        PacketId::new(self.inflight.next_id()).expect("the window never hands out 0")
    }

    /// Holds a delivery for an online session. Nothing is dropped here: what was routed to a
    /// session that has a connection is kept [MQTT-4.1.0-1], and the caller holds back the
    /// publishers while the queue is over its high-water mark.
    pub fn push(&mut self, delivery: Delivery) {
        self.queued_bytes += delivery.cost();
        self.queue.push_back(delivery);
    }

    /// Whether the queue is at or over its high-water mark.
    pub fn over_limits(&self, limits: QueueLimits) -> bool {
        let (messages, bytes) = self.held();
        limits.reached(messages, bytes)
    }

    /// The messages queued, in memory and on disk, and what they count against the byte
    /// limit.
    pub fn held(&self) -> (usize, usize) {
        let spilled = self
            .spill
            .as_ref()
            .map_or((0, 0), |s| (s.entries.len(), s.bytes));
        (self.queue.len() + spilled.0, self.queued_bytes + spilled.1)
    }

    /// Whether part of the queue is on disk only: what comes next goes there too, to keep the
    /// order.
    pub fn spilling(&self) -> bool {
        self.spill.as_ref().is_some_and(|s| !s.entries.is_empty())
    }

    /// Queues a message on disk only (it is written already): its number and size stay.
    pub fn spill(&mut self, seq: u64, cost: usize) {
        let spill = self.spill.get_or_insert_with(Default::default);
        spill.entries.push_back((seq, cost));
        spill.bytes += cost;
    }

    /// Takes the oldest message on disk out of the queue; its number.
    fn unspill_oldest(&mut self) -> Option<u64> {
        let spill = self.spill.as_mut()?;
        let (seq, cost) = spill.entries.pop_front()?;
        spill.bytes -= cost;
        Some(seq)
    }

    /// Queues a delivery for an offline session within its limits, making room as `policy`
    /// says. With `resident`, a kept session holds at most that many queued messages in
    /// memory: a written message beyond them stays on disk only ([`Spill`]). Returns the
    /// messages dropped, and the numbers of those dropped from disk (counted in `dropped`
    /// too).
    pub fn enqueue_offline(
        &mut self,
        delivery: Delivery,
        limits: QueueLimits,
        policy: OfflinePolicy,
        resident: Option<usize>,
    ) -> (Vec<Delivery>, Vec<u64>) {
        let cost = delivery.cost();
        let fits = |s: &Session| {
            let (messages, bytes) = s.held();
            messages < limits.max_messages && bytes + cost <= limits.max_bytes
        };
        let (mut dropped, mut gone) = (Vec::new(), Vec::new());
        if policy == OfflinePolicy::DropNewest && !fits(self) {
            self.dropped += 1;
            return (vec![delivery], gone);
        }
        while !fits(self) {
            match self.dequeue() {
                Some(d) => dropped.push(d),
                None => match self.unspill_oldest() {
                    Some(seq) => gone.push(seq),
                    None => break,
                },
            }
        }
        let on_disk =
            delivery.seq != 0 && resident.is_some_and(|r| self.queue.len() >= r || self.spilling());
        if !fits(self) {
            // Larger than the whole queue may hold.
            dropped.push(delivery);
        } else if on_disk {
            self.spill(delivery.seq, cost);
        } else {
            self.push(delivery);
        }
        self.dropped += (dropped.len() + gone.len()) as u64;
        (dropped, gone)
    }

    /// Brings the queue of a session gone offline within its limits, dropping the oldest or
    /// the newest messages as `policy` says. Returns the messages dropped.
    pub fn trim(&mut self, limits: QueueLimits, policy: OfflinePolicy) -> Vec<Delivery> {
        let mut dropped = Vec::new();
        while self.queue.len() > limits.max_messages || self.queued_bytes > limits.max_bytes {
            let d = match policy {
                OfflinePolicy::DropOldest => self.queue.pop_front(),
                OfflinePolicy::DropNewest => self.queue.pop_back(),
            };
            let Some(d) = d else { break };
            self.queued_bytes -= d.cost();
            dropped.push(d);
        }
        self.dropped += dropped.len() as u64;
        dropped
    }

    /// Takes out of the queue every delivery `take` selects, keeping the others in order.
    pub fn take_queued(&mut self, mut take: impl FnMut(&Delivery) -> bool) -> Vec<Delivery> {
        let mut taken = Vec::new();
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for d in self.queue.drain(..) {
            if take(&d) {
                self.queued_bytes -= d.cost();
                taken.push(d);
            } else {
                kept.push_back(d);
            }
        }
        self.queue = kept;
        taken
    }

    /// Takes the next queued delivery.
    pub fn dequeue(&mut self) -> Option<Delivery> {
        let d = self.queue.pop_front()?;
        self.queued_bytes -= d.cost();
        Some(d)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::codec::{QoS, TopicName};
    use crate::engine::message::Message;

    fn delivery(qos: QoS, payload: usize) -> Delivery {
        Delivery {
            message: Arc::new(Message {
                topic: TopicName::new("t").unwrap(),
                payload: vec![0; payload].into(),
                qos,
                retain: false,
                properties: Default::default(),
                expires_at: None,
                publisher: None,
            }),
            qos,
            retain: false,
            subscription_ids: vec![],
            shared: None,
            seq: 0,
        }
    }

    fn session() -> Session {
        Session::new("c".into(), Protocol::V5)
    }

    #[test]
    fn packet_ids_skip_those_in_flight_and_zero() {
        let mut s = session();
        let a = s.allocate_packet_id();
        assert_eq!(a.get(), 1);
        s.inflight.start(a.get(), delivery(QoS::AtLeastOnce, 1));
        // A flight recorded with an identifier of its own, the one the next place would get.
        s.inflight.start(3, delivery(QoS::AtLeastOnce, 1));
        assert_eq!(s.allocate_packet_id().get(), 4, "skips the busy 3");
        assert!(s.inflight.finish(1).is_some());
        assert!(s.inflight.finish(1).is_none());
        assert_eq!(s.inflight.ids().collect::<Vec<_>>(), [3]);
        s.inflight.check().unwrap();
    }

    #[test]
    fn an_online_queue_holds_everything_and_reports_its_marks() {
        let limits = QueueLimits {
            max_messages: 4,
            max_bytes: usize::MAX,
        };
        let mut s = session();
        for _ in 0..6 {
            s.push(delivery(QoS::AtLeastOnce, 1));
        }
        assert_eq!(
            s.queue.len(),
            6,
            "nothing routed to an online session is dropped"
        );
        assert_eq!(s.dropped, 0);
        assert!(s.over_limits(limits));
        while !limits.drained(s.queue.len(), s.queued_bytes) {
            s.dequeue();
        }
        assert_eq!(s.queue.len(), 2, "the low-water mark is half the limit");
        assert!(!s.over_limits(limits));
    }

    #[test]
    fn an_offline_queue_keeps_its_limits_by_its_policy() {
        let limits = QueueLimits {
            max_messages: 2,
            max_bytes: usize::MAX,
        };
        let numbered = |n: usize| delivery(QoS::AtLeastOnce, n);
        let sizes = |s: &Session| {
            s.queue
                .iter()
                .map(|d| d.message.payload.len())
                .collect::<Vec<_>>()
        };

        let mut oldest = session();
        for n in 1..=4 {
            oldest.enqueue_offline(numbered(n), limits, OfflinePolicy::DropOldest, None);
        }
        assert_eq!(sizes(&oldest), [3, 4]);
        assert_eq!(oldest.dropped, 2);

        let mut newest = session();
        for n in 1..=4 {
            newest.enqueue_offline(numbered(n), limits, OfflinePolicy::DropNewest, None);
        }
        assert_eq!(sizes(&newest), [1, 2]);
        assert_eq!(newest.dropped, 2);

        // A session that goes offline over its limits is trimmed the same way.
        let mut trimmed = session();
        for n in 1..=5 {
            trimmed.push(numbered(n));
        }
        assert_eq!(trimmed.trim(limits, OfflinePolicy::DropOldest).len(), 3);
        assert_eq!(sizes(&trimmed), [4, 5]);
        let mut trimmed = session();
        for n in 1..=5 {
            trimmed.push(numbered(n));
        }
        assert_eq!(trimmed.trim(limits, OfflinePolicy::DropNewest).len(), 3);
        assert_eq!(sizes(&trimmed), [1, 2]);
    }

    #[test]
    fn byte_limit_counts_and_releases() {
        let limits = QueueLimits {
            max_messages: 100,
            max_bytes: 200,
        };
        let policy = OfflinePolicy::DropNewest;
        let mut s = session();
        assert_eq!(
            s.enqueue_offline(delivery(QoS::AtLeastOnce, 100), limits, policy, None)
                .0
                .len(),
            0
        );
        assert_eq!(
            s.enqueue_offline(delivery(QoS::AtLeastOnce, 100), limits, policy, None)
                .0
                .len(),
            1
        );
        assert!(s.dequeue().is_some());
        assert_eq!(s.queued_bytes, 0);
        assert_eq!(
            s.enqueue_offline(delivery(QoS::AtLeastOnce, 100), limits, policy, None)
                .0
                .len(),
            0
        );
    }
}
