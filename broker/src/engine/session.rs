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
use crate::codec::{PacketId, Protocol, QoS, TopicFilter};
use crate::router::Subscription;

/// The will a connection left with its session, waiting for its delay.
#[derive(Debug)]
pub struct PendingWill {
    pub delivery_at: Instant,
    pub will: crate::codec::Will,
}

/// The limits a session's queue works within.
#[derive(Clone, Copy, Debug)]
pub struct QueueLimits {
    pub max_messages: usize,
    pub max_bytes: usize,
}

/// What became of a delivery offered to a full queue.
#[derive(Debug, PartialEq, Eq)]
pub enum Enqueued {
    Queued,
    /// The new delivery was dropped.
    DroppedNew,
    /// An older QoS 0 delivery was dropped to make room.
    DroppedOldQoS0,
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
    next_packet_id: u16,
    /// A will waiting for its Will Delay Interval (5.0); boxed, as it is rare.
    pub pending_will: Option<Box<PendingWill>>,
    /// Messages dropped because a queue was full, for the logs and metrics.
    pub dropped: u64,
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
            next_packet_id: 1,
            pending_will: None,
            dropped: 0,
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

    /// The filters subscribed to.
    pub fn filters(&self) -> impl Iterator<Item = &TopicFilter> {
        self.subscriptions.iter().flat_map(|all| all.keys())
    }

    /// A packet identifier not used by any outbound delivery in flight [MQTT-2.2.1-4].
    /// The caller keeps the window smaller than 65,535, so one is always free.
    pub fn allocate_packet_id(&mut self) -> PacketId {
        loop {
            let id = self.next_packet_id;
            self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
            if !self.inflight.contains(id) {
                if let Some(id) = PacketId::new(id) {
                    return id;
                }
            }
        }
    }

    /// Queues a delivery within the limits. The policy, in order: a full queue drops a new QoS
    /// 0 delivery; otherwise it drops its oldest QoS 0 delivery to make room; otherwise it drops
    /// the new delivery. Every drop is counted.
    pub fn enqueue(&mut self, delivery: Delivery, limits: QueueLimits) -> Enqueued {
        let cost = delivery.cost();
        let fits = |s: &Session| {
            s.queue.len() < limits.max_messages && s.queued_bytes + cost <= limits.max_bytes
        };
        let mut outcome = Enqueued::Queued;
        if !fits(self) {
            if delivery.qos == QoS::AtMostOnce {
                self.dropped += 1;
                return Enqueued::DroppedNew;
            }
            if let Some(pos) = self.queue.iter().position(|d| d.qos == QoS::AtMostOnce) {
                let old = self.queue.remove(pos).expect("position is in range");
                self.queued_bytes -= old.cost();
                self.dropped += 1;
                outcome = Enqueued::DroppedOldQoS0;
            }
            if !fits(self) {
                self.dropped += 1;
                return Enqueued::DroppedNew;
            }
        }
        self.queued_bytes += cost;
        self.queue.push_back(delivery);
        outcome
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
    use crate::codec::TopicName;
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
        }
    }

    fn session() -> Session {
        Session::new("c".into(), Protocol::V5)
    }

    #[test]
    fn packet_ids_skip_those_in_flight_and_zero() {
        let mut s = session();
        s.next_packet_id = u16::MAX;
        let a = s.allocate_packet_id();
        assert_eq!(a.get(), u16::MAX);
        s.inflight.start(a.get(), delivery(QoS::AtLeastOnce, 1));
        s.inflight.start(1, delivery(QoS::AtLeastOnce, 1));
        assert_eq!(
            s.allocate_packet_id().get(),
            2,
            "wraps past 0 and the busy 1"
        );
        assert!(s.inflight.finish(1).is_some());
        assert!(s.inflight.finish(1).is_none());
        assert_eq!(s.inflight.ids().collect::<Vec<_>>(), [u16::MAX]);
    }

    #[test]
    fn full_queue_drops_qos0_first() {
        let limits = QueueLimits {
            max_messages: 2,
            max_bytes: usize::MAX,
        };
        let mut s = session();
        assert_eq!(
            s.enqueue(delivery(QoS::AtMostOnce, 1), limits),
            Enqueued::Queued
        );
        assert_eq!(
            s.enqueue(delivery(QoS::AtLeastOnce, 1), limits),
            Enqueued::Queued
        );
        assert_eq!(
            s.enqueue(delivery(QoS::AtMostOnce, 1), limits),
            Enqueued::DroppedNew
        );
        assert_eq!(
            s.enqueue(delivery(QoS::ExactlyOnce, 1), limits),
            Enqueued::DroppedOldQoS0
        );
        assert_eq!(
            s.enqueue(delivery(QoS::AtLeastOnce, 1), limits),
            Enqueued::DroppedNew
        );
        assert_eq!(s.queue.len(), 2);
        assert_eq!(s.dropped, 3);
        assert!(s.queue.iter().all(|d| d.qos != QoS::AtMostOnce));
    }

    #[test]
    fn byte_limit_counts_and_releases() {
        let limits = QueueLimits {
            max_messages: 100,
            max_bytes: 200,
        };
        let mut s = session();
        assert_eq!(
            s.enqueue(delivery(QoS::AtLeastOnce, 100), limits),
            Enqueued::Queued
        );
        assert_eq!(
            s.enqueue(delivery(QoS::AtLeastOnce, 100), limits),
            Enqueued::DroppedNew
        );
        assert!(s.dequeue().is_some());
        assert_eq!(s.queued_bytes, 0);
        assert_eq!(
            s.enqueue(delivery(QoS::AtLeastOnce, 100), limits),
            Enqueued::Queued
        );
    }
}
