//! Will Messages (section 3.1.2.5): stored with the connection, published when it ends
//! without DISCONNECT 0x00, after the Will Delay Interval or when the session ends, whichever
//! comes first [MQTT-3.1.2-8].

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::message::Message;
use super::session::PendingWill;
use super::{Engine, Timer};
use crate::codec::{Publish, Will};
use crate::router::SubscriberId;

impl Engine {
    /// The connection of session `sid` ended in a way that releases its will.
    pub(super) fn leave_will(&mut self, sid: SubscriberId, will: Will, now: Instant) {
        let delay = will.delay_interval();
        let Some(s) = self.sessions.get_mut(&sid).filter(|_| delay > 0) else {
            return self.publish_will(sid, will, now);
        };
        let delivery_at = now + Duration::from_secs(u64::from(delay));
        s.pending_will = Some(Box::new(PendingWill { delivery_at, will }));
        let generation = s.generation;
        self.schedule(delivery_at, Timer::Will(sid, generation));
    }

    pub(super) fn will_timer(&mut self, sid: SubscriberId, generation: u64, now: Instant) {
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let due = s.generation == generation
            && s.conn.is_none()
            && s.pending_will
                .as_ref()
                .is_some_and(|w| w.delivery_at <= now);
        if due {
            let pending = s.pending_will.take().expect("checked above");
            let stored = s.stored;
            self.publish_will(sid, pending.will, now);
            if stored {
                // Published: the kept session no longer holds it.
                self.record_session(sid, now);
            }
        }
    }

    /// Publishes a will as its own client would have, retained if Will Retain says so
    /// [MQTT-3.1.2-14] [MQTT-3.1.2-15], with its properties minus the Will Delay Interval and
    /// its User Properties in order [MQTT-3.1.3-10].
    pub(super) fn publish_will(&mut self, sid: SubscriberId, will: Will, now: Instant) {
        let mut properties = will.properties;
        properties.remove(crate::codec::PropertyId::WillDelayInterval);
        let publish = Publish {
            dup: false,
            qos: will.qos,
            retain: will.retain,
            topic: will.topic.clone(),
            packet_id: None,
            properties,
            payload: will.payload,
        };
        tracing::debug!(topic = %will.topic, "publishing will");
        // A session ended with its will says so itself (it is gone by now).
        if let Some(client_id) = self.sessions.get(&sid).map(|s| s.client_id.clone()) {
            let topic = will.topic.as_byte_string().clone();
            self.notice(|| super::hooks::Notice::WillPublished { client_id, topic });
        }
        let message = Message::from_publish(
            publish,
            will.topic,
            Some(sid),
            self.settings.max_message_expiry_interval,
            now,
        );
        self.route(Arc::new(message), now);
    }
}
