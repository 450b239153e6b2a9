//! Application messages as the broker holds them, and their deliveries to subscribers.
//!
//! A PUBLISH is decoded once into a [`Message`] behind an `Arc`; every queue, inflight window
//! and the retained store share that one allocation. What differs per subscriber (QoS, RETAIN,
//! Subscription Identifiers) is a small [`Delivery`] beside it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::codec::{Properties, Property, PropertyId, Publish, QoS, TopicName};
use crate::router::SubscriberId;

/// An Application Message.
#[derive(Clone, Debug)]
pub struct Message {
    pub topic: TopicName,
    pub payload: Bytes,
    /// The QoS it was published with.
    pub qos: QoS,
    /// The RETAIN flag it was published with.
    pub retain: bool,
    /// The properties forwarded unaltered to subscribers ([MQTT-3.3.2-4], [MQTT-3.3.2-15] to
    /// [MQTT-3.3.2-20]): everything the publisher sent except the Topic Alias (a per-connection
    /// mapping [MQTT-3.3.2-7]), Subscription Identifiers (set per subscriber) and the Message
    /// Expiry Interval (recomputed on every send [MQTT-3.3.2-6]).
    pub properties: Properties,
    /// When the Message Expiry Interval runs out, if it was set.
    pub expires_at: Option<Instant>,
    /// The session that published it, for No Local [MQTT-3.8.3-3]; `None` for wills of
    /// sessions that are gone.
    pub publisher: Option<SubscriberId>,
}

impl Message {
    /// Takes the message out of a PUBLISH whose topic has been resolved. `max_expiry` is the
    /// server's longest Message Expiry Interval, if it has one.
    pub fn from_publish(
        publish: Publish,
        topic: TopicName,
        publisher: Option<SubscriberId>,
        max_expiry: Option<u32>,
        now: Instant,
    ) -> Message {
        let mut properties = publish.properties;
        let mut expires_at = None;
        properties.0.retain(|p| match p {
            Property::MessageExpiryInterval(secs) => {
                expires_at = Some(now + Duration::from_secs(u64::from(*secs)));
                false
            }
            Property::TopicAlias(_) | Property::SubscriptionIdentifier(_) => false,
            _ => true,
        });
        if let Some(max) = max_expiry {
            let cap = now + Duration::from_secs(u64::from(max));
            expires_at = Some(expires_at.map_or(cap, |t| t.min(cap)));
        }
        Message {
            topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            properties,
            expires_at,
            publisher,
        }
    }

    /// Whether the Message Expiry Interval has passed [MQTT-3.3.2-5].
    pub fn is_expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|t| now >= t)
    }

    /// The Message Expiry Interval to send now: what remains, rounded up so that a message
    /// with time left never goes out claiming zero [MQTT-3.3.2-6].
    pub fn remaining_expiry(&self, now: Instant) -> Option<u32> {
        self.expires_at.map(|t| {
            let left = t.saturating_duration_since(now);
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            u32::try_from(secs).unwrap_or(u32::MAX)
        })
    }

    /// The size a queue charges for holding the message.
    pub fn cost(&self) -> usize {
        self.topic.len() + self.payload.len() + 64
    }

    /// Whether the payload claims to be UTF-8 and is not (checked at PUBLISH time, where 5.0
    /// allows the server to refuse it with 0x99 Payload format invalid).
    pub fn payload_format_invalid(properties: &Properties, payload: &[u8]) -> bool {
        matches!(
            properties.get(PropertyId::PayloadFormatIndicator),
            Some(Property::PayloadFormatIndicator(1))
        ) && std::str::from_utf8(payload).is_err()
    }
}

/// One message on its way to one session.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub message: Arc<Message>,
    /// The lower of the published QoS and the subscription's maximum [MQTT-3.8.4-8].
    pub qos: QoS,
    /// The RETAIN flag to send: the published flag under Retain As Published, 1 for a
    /// retained message sent because of a new subscription, 0 otherwise.
    pub retain: bool,
    /// The identifiers of every matching subscription that has one [MQTT-3.3.4-3].
    pub subscription_ids: Vec<u32>,
    /// The shared subscription (`$share/{g}/{f}`) that chose this session, when that is the
    /// only reason it gets the message: another member may take it over (section 4.8.2).
    pub shared: Option<crate::codec::TopicFilter>,
    /// Its number in a session the store keeps (its key there), from 1; 0 while it has none.
    pub seq: u64,
}

impl Delivery {
    /// The size a queue charges for holding this delivery.
    pub fn cost(&self) -> usize {
        self.message.cost()
    }
}
