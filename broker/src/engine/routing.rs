//! Routing: a message matched against the subscription tree (section 4.7), each matching
//! session's subscriptions merged into one delivery [MQTT-3.3.4-2] [MQTT-3.3.4-3], shared
//! subscriptions given to one member, and the retained store updated.

use std::sync::Arc;
use std::time::Instant;

use super::message::{Delivery, Message};
use super::outbound::window;
use super::store::{Change, Held, RESIDENT};
use super::Engine;
use crate::codec::QoS;
use crate::router::SubscriberId;

impl Engine {
    /// Routes a message: updates the retained store, then delivers to every matching
    /// session, once per session with the highest QoS of its matching subscriptions
    /// [MQTT-3.3.4-2] and all their identifiers [MQTT-3.3.4-3]. Returns how many sessions
    /// it went to; the online sessions it found over their high-water marks are left in
    /// `self.full`, for the caller to hold the publisher back (see `flow`).
    pub(super) fn route(&mut self, message: Arc<Message>, now: Instant) -> usize {
        self.full.clear();
        if message.retain && self.settings.retain_available {
            if message.payload.is_empty() {
                // [MQTT-3.3.1-6] [MQTT-3.3.1-7]
                if self.retained.remove(message.topic.as_str()).is_some() {
                    self.record(Change::DeleteRetained(message.topic.clone()));
                }
            } else if (self.retained.len() >= self.settings.max_retained || self.store_full)
                && self.retained.get(message.topic.as_str()).is_none()
            {
                // A new topic past the limit: delivered as usual, not retained; counted, and
                // logged at the first refusal and each power of two after.
                self.stats.retained_refused += 1;
                let refused = self.stats.retained_refused;
                if refused.is_power_of_two() {
                    tracing::warn!(topic = %message.topic, refused,
                        "retained message not kept: [limits] max_retained_messages reached \
                         or the store is full");
                }
            } else {
                // [MQTT-3.3.1-5]
                self.retained.insert(&message.topic, message.clone());
                // `$SYS` values are the running broker's: not kept across restarts.
                let sys = message.publisher.is_none()
                    && message.topic.as_str().starts_with(super::sys::SYS_PREFIX);
                if !sys {
                    let topic = message.topic.as_byte_string().clone();
                    self.notice(|| super::hooks::Notice::RetainedStored { topic });
                }
                if self.settings.persistence && !sys {
                    let stored = self.stored_message(&message, now);
                    self.record(Change::PutRetained(stored));
                }
            }
        }
        // The list of targets is kept between messages, so that routing allocates nothing
        // for it (taken out, in case delivering routes a message in turn).
        let mut targets = std::mem::take(&mut self.targets);
        self.match_subscribers(&message, &mut targets);
        let count = targets.len();
        // Shared frames pay off from the second subscriber on; one subscriber gets its
        // PUBLISH encoded directly, with its own packet identifier.
        if count > 1 {
            self.shapes.begin();
        }
        for t in targets.drain(..) {
            let delivery = Delivery {
                qos: t.qos.min(message.qos),
                retain: t.retain_as_published && message.retain,
                subscription_ids: t.subscription_ids,
                shared: t.shared,
                seq: 0,
                message: message.clone(),
            };
            self.deliver(t.session, delivery, now);
        }
        if count > 1 {
            self.shapes.end();
        }
        self.targets = targets;
        count
    }

    /// The sessions a message goes to, one entry per session with its matching subscriptions
    /// merged, into `targets` (empty).
    fn match_subscribers(&self, message: &Message, targets: &mut Vec<Target>) {
        let mut matches = Vec::new();
        let sessions = &self.sessions;
        self.router.matches(
            &message.topic,
            |sid| sessions.get(&sid).is_some_and(|s| s.conn.is_some()),
            &mut matches,
        );
        matches.sort_by_key(|m| m.subscriber);
        for m in matches {
            let options = &m.subscription.options;
            // No Local: never back to the publishing connection's session [MQTT-3.8.3-3].
            if options.no_local && message.publisher == Some(m.subscriber) {
                continue;
            }
            match targets.last_mut() {
                Some(t) if t.session == m.subscriber => {
                    t.qos = t.qos.max(options.qos);
                    t.retain_as_published |= options.retain_as_published;
                    t.subscription_ids.extend(m.subscription.identifier);
                    // Wanted for more than one subscription: no longer a shared group's alone.
                    t.shared = None;
                }
                _ => targets.push(Target {
                    session: m.subscriber,
                    qos: options.qos,
                    retain_as_published: options.retain_as_published,
                    subscription_ids: m.subscription.identifier.into_iter().collect(),
                    shared: m.shared.cloned(),
                }),
            }
        }
    }

    /// Hands a delivery to a session: sent now if its connection has room in the inflight
    /// window, its writes are not backed up and nothing is queued ahead of it; queued
    /// otherwise. An online session keeps everything it is given [MQTT-4.1.0-1]; one whose
    /// queue is over its high-water mark is noted in `self.full`. Offline sessions keep QoS 1
    /// and 2 messages only (3.1.1 [MQTT-3.1.2-5]; QoS 0 may be dropped), within their limits.
    pub(super) fn deliver(&mut self, sid: SubscriberId, mut delivery: Delivery, now: Instant) {
        let limits = self.settings.queue;
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        // A kept session's QoS 1/2 message is numbered and recorded as it enters the queue
        // (`send_delivery` records what goes straight into the inflight window).
        let kept = s.stored && delivery.qos != QoS::AtMostOnce;
        let Some(conn) = s.conn else {
            if delivery.qos == QoS::AtMostOnce {
                return;
            }
            let s = self.sessions.get_mut(&sid).expect("session exists");
            if kept && self.store_full {
                // A full store keeps no more: the offline queue counts as full, and a full
                // offline queue drops the new message (counted, logged at powers of two).
                s.dropped += 1;
                self.stats.offline_dropped += 1;
                if s.dropped.is_power_of_two() {
                    tracing::warn!(client_id = %s.client_id, dropped = s.dropped,
                        "offline session's message dropped: the store is full");
                }
                self.notice_drop(sid, super::hooks::DropReason::QueueFull, 1);
                return;
            }
            if kept {
                self.record_held(sid, &mut delivery, Held::Queued, now);
            }
            let s = self.sessions.get_mut(&sid).expect("session exists");
            // A kept session's queue past its first messages stays on disk.
            let resident = kept.then_some(RESIDENT);
            let policy = self.settings.offline_policy;
            let (dropped, gone) = s.enqueue_offline(delivery, limits, policy, resident);
            if !dropped.is_empty() || !gone.is_empty() {
                self.stats.offline_dropped += (dropped.len() + gone.len()) as u64;
                let count = (dropped.len() + gone.len()) as u64;
                // One line per session going over, not one per message.
                if s.dropped == 1 || s.dropped.is_power_of_two() {
                    tracing::info!(client_id = %s.client_id, dropped = s.dropped,
                        policy = ?self.settings.offline_policy,
                        "offline session's queue full: a message dropped");
                }
                for d in &dropped {
                    self.record_gone(sid, d);
                }
                for seq in gone {
                    self.record_gone_seq(sid, seq);
                }
                self.notice_drop(sid, super::hooks::DropReason::QueueFull, count);
            }
            return;
        };
        if s.spilling() {
            // Part of its queue is still on disk, being read back: this one goes after it.
            self.record_held(sid, &mut delivery, Held::Queued, now);
            let s = self.sessions.get_mut(&sid).expect("session exists");
            s.spill(delivery.seq, delivery.cost());
            if s.over_limits(limits) {
                self.full.push(sid);
            }
            return;
        }
        // Only QoS 1 and 2 need the connection's window (one lookup less for QoS 0, the
        // fan-out case).
        let full = || s.inflight.len() >= window(&self.conns[&conn], self.settings.max_inflight);
        let qos0 = delivery.qos == QoS::AtMostOnce;
        if !s.queue.is_empty() || s.congested || (!qos0 && full()) {
            if kept {
                self.record_held(sid, &mut delivery, Held::Queued, now);
            }
            let s = self.sessions.get_mut(&sid).expect("session exists");
            s.push(delivery);
            if s.over_limits(limits) {
                self.full.push(sid);
            }
            return;
        }
        self.send_delivery(conn, sid, delivery, now);
    }
}

/// One session a routed message goes to, its matching subscriptions merged: the highest
/// granted QoS [MQTT-3.3.4-2] and every identifier [MQTT-3.3.4-3].
#[derive(Debug)]
pub(super) struct Target {
    session: SubscriberId,
    qos: QoS,
    retain_as_published: bool,
    subscription_ids: Vec<u32>,
    shared: Option<crate::codec::TopicFilter>,
}
