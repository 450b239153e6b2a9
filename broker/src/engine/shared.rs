//! Shared subscriptions when a member leaves (section 4.8.2): its QoS 1 messages from a
//! group go to another member, so a consumer that disappears does not hold work hostage.
//!
//! QoS 2 messages stay: their delivery must be completed with the same client when it
//! reconnects [MQTT-4.8.2-4], and never be sent to another one [MQTT-4.8.2-5]. QoS 0 messages
//! of an offline session are not kept at all.

use std::time::Instant;

use super::inflight::OutboundState;
use super::message::Delivery;
use super::store::Held;
use super::Engine;
use crate::codec::QoS;
use crate::router::SubscriberId;

impl Engine {
    /// The connection of session `sid` ended: hands its unacknowledged QoS 1 messages from
    /// shared subscriptions, in flight or queued, to a connected member of the same group.
    /// A message for which no other member is connected stays where it was.
    pub(super) fn redistribute_shared(&mut self, sid: SubscriberId, now: Instant) {
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let movable = |d: &Delivery| d.qos == QoS::AtLeastOnce && d.shared.is_some();
        let in_flight: Vec<u16> = s
            .inflight
            .ids()
            .filter(|&id| {
                s.inflight
                    .get(id)
                    .is_some_and(|i| i.state() == OutboundState::Published && movable(&i.delivery))
            })
            .collect();
        let mut moving: Vec<Delivery> = in_flight
            .into_iter()
            .filter_map(|id| s.inflight.finish(id).map(|i| i.delivery))
            .collect();
        moving.extend(s.take_queued(movable));
        if moving.is_empty() {
            return;
        }
        let mut handed = 0;
        for mut delivery in moving {
            // It leaves this session (and comes back at the back of its queue if no one else
            // takes it): it is numbered afresh wherever it goes.
            self.record_gone(sid, &delivery);
            delivery.seq = 0;
            let filter = delivery
                .shared
                .clone()
                .expect("only shared deliveries move");
            let sessions = &self.sessions;
            let other = self
                .router
                .pick_shared(&filter, |m| {
                    m != sid && sessions.get(&m).is_some_and(|s| s.conn.is_some())
                })
                .filter(|(m, _)| *m != sid && sessions.get(m).is_some_and(|s| s.conn.is_some()))
                .map(|(m, sub)| (m, sub.clone()));
            match other {
                Some((member, sub)) => {
                    delivery.qos = sub.options.qos.min(delivery.message.qos);
                    delivery.subscription_ids = sub.identifier.into_iter().collect();
                    delivery.retain = sub.options.retain_as_published && delivery.message.retain;
                    self.deliver(member, delivery, now);
                    handed += 1;
                }
                None => {
                    // No one else is there: it waits for this member, at the back of its queue
                    // (it was held already, so it is not dropped now).
                    self.record_held(sid, &mut delivery, Held::Queued, now);
                    let s = self.sessions.get_mut(&sid).expect("session exists");
                    s.push(delivery);
                }
            }
        }
        if handed > 0 {
            tracing::debug!(session = ?sid, handed, "shared-subscription messages handed to other members");
        }
    }
}
