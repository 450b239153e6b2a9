//! SUBSCRIBE and UNSUBSCRIBE (sections 3.8 to 3.11), and the retained messages a new
//! subscription receives.

use std::sync::Arc;
use std::time::Instant;

use super::conn::ConnId;
use super::message::{Delivery, Message};
use super::store::Change;
use super::Engine;
use crate::codec::{
    Packet, Property, PropertyId, Protocol, ReasonCode, RetainHandling, SubAck, Subscribe,
    SubscriptionOptions, TopicFilter, UnsubAck, Unsubscribe,
};
use crate::router::{SubscriberId, Subscription};

impl Engine {
    /// Handles each filter as if it came in a SUBSCRIBE of its own and answers them all in
    /// one SUBACK, in order [MQTT-3.8.4-5] [MQTT-3.9.3-1]. Retained messages follow the
    /// SUBACK.
    pub(super) fn handle_subscribe(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        sub: Subscribe,
        now: Instant,
    ) {
        let protocol = self.conns[&conn].protocol;
        let identifier = match sub.properties.get(PropertyId::SubscriptionIdentifier) {
            Some(Property::SubscriptionIdentifier(id)) => Some(*id),
            _ => None,
        };
        if protocol.is_v5() {
            // A 5.0 client was told in CONNACK which features are off: using one anyway is a
            // Protocol Error with its own reason code (sections 3.2.2.3.11 to 3.2.2.3.13).
            if let Some(code) = self.unavailable_feature(&sub, identifier) {
                let what = format!("SUBSCRIBE uses a feature the server does not offer ({code:?})");
                tracing::warn!(conn = %conn, "closed: {what}");
                return self.close_with(conn, code, Some(what), now);
            }
        }
        if self.interest().subscribe {
            return self.ask_subscribe(conn, sid, sub);
        }
        self.subscribe_answered(conn, sid, sub, &[], now);
    }

    /// Subscribes to each filter the broker's rules, the ACL and the hooks (`refusals`, one
    /// per filter, when they were asked) allow, and answers with SUBACK.
    pub(super) fn subscribe_answered(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        sub: Subscribe,
        refusals: &[Option<ReasonCode>],
        now: Instant,
    ) {
        let protocol = self.conns[&conn].protocol;
        let identifier = match sub.properties.get(PropertyId::SubscriptionIdentifier) {
            Some(Property::SubscriptionIdentifier(id)) => Some(*id),
            _ => None,
        };
        let mut reasons = Vec::with_capacity(sub.filters.len());
        let mut retained_for = Vec::new();
        for (i, (filter, options)) in sub.filters.into_iter().enumerate() {
            if let Err(code) = self.check_subscription(&filter, identifier) {
                tracing::debug!(conn = %conn, filter = %filter, reason = ?code, "subscription refused");
                reasons.push(code);
                continue;
            }
            // The ACL: every topic the filter matches must be readable, so retained messages
            // sent below are too.
            if !self.may_subscribe(conn, &filter) {
                reasons.push(ReasonCode::NOT_AUTHORIZED);
                continue;
            }
            if let Some(Some(code)) = refusals.get(i) {
                tracing::debug!(conn = %conn, filter = %filter, reason = ?code, "subscription refused by a hook");
                reasons.push(match code.is_error() {
                    true => *code,
                    false => ReasonCode::NOT_AUTHORIZED,
                });
                continue;
            }
            // The server may grant less than requested [MQTT-3.8.4-7].
            let granted = options.qos.min(self.settings.maximum_qos);
            let subscription = Subscription {
                options: SubscriptionOptions {
                    qos: granted,
                    ..options
                },
                identifier,
            };
            // A subscription to an identical filter replaces the old one [MQTT-3.8.4-3].
            let existed = self.router.subscribe(sid, &filter, subscription.clone());
            let shared = matches!(filter.shared(), Ok(Some(_)));
            let session = self.sessions.get_mut(&sid).expect("session exists");
            session.subscribe(filter.clone(), subscription.clone());
            if session.stored {
                let client_id = session.client_id.clone();
                self.record(Change::PutSubscription {
                    client_id,
                    filter: filter.clone(),
                    subscription: subscription.clone(),
                });
            }
            reasons.push(ReasonCode(granted as u8));
            // Shared subscriptions get no retained messages (section 4.8.2).
            let send_retained = !shared
                && match options.retain_handling {
                    RetainHandling::SendAtSubscribe => true, // [MQTT-3.3.1-9]
                    RetainHandling::SendIfNew => !existed,   // [MQTT-3.3.1-10]
                    RetainHandling::DoNotSend => false,      // [MQTT-3.3.1-11]
                };
            if send_retained {
                retained_for.push((filter, subscription));
            }
        }
        if protocol == Protocol::V3_1 && reasons.iter().any(|r| r.is_error()) {
            // MQTT 3.1 has no way to refuse one filter: the connection is closed instead.
            return self.close_with(conn, ReasonCode::UNSPECIFIED_ERROR, None, now);
        }
        let ack = SubAck {
            packet_id: sub.packet_id,
            properties: Default::default(),
            reasons,
        };
        // [MQTT-3.8.4-1] [MQTT-3.8.4-2]
        self.send(conn, &Packet::SubAck(ack));
        for (filter, subscription) in retained_for {
            self.send_retained(sid, &filter, &subscription, now);
        }
    }

    /// The first feature a SUBSCRIBE uses that the server has switched off and said so in
    /// CONNACK: wildcards (0xA2), shared subscriptions (0x9E), subscription identifiers (0xA1).
    fn unavailable_feature(&self, sub: &Subscribe, identifier: Option<u32>) -> Option<ReasonCode> {
        let s = &self.settings;
        if identifier.is_some() && !s.subscription_identifiers {
            return Some(ReasonCode::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED);
        }
        sub.filters.iter().find_map(|(filter, _)| {
            if !s.shared_subscriptions && matches!(filter.shared(), Ok(Some(_))) {
                Some(ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED)
            } else if !s.wildcard_subscriptions && filter.has_wildcards() {
                Some(ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED)
            } else {
                None
            }
        })
    }

    /// The reason a filter is refused, if it is: the configured deny list (0x87 Not
    /// authorized), and, for 3.x clients that were never told, the features switched off.
    fn check_subscription(
        &self,
        filter: &TopicFilter,
        identifier: Option<u32>,
    ) -> Result<(), ReasonCode> {
        let s = &self.settings;
        if s.deny_subscriptions.iter().any(|d| d == filter) {
            return Err(ReasonCode::NOT_AUTHORIZED);
        }
        match filter.shared() {
            // A `$share/` filter that breaks section 4.8.2 (only 3.x lets one through).
            Err(_) => return Err(ReasonCode::TOPIC_FILTER_INVALID),
            Ok(Some(_)) if !s.shared_subscriptions => {
                return Err(ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED)
            }
            _ => {}
        }
        if filter.has_wildcards() && !s.wildcard_subscriptions {
            return Err(ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED);
        }
        if identifier.is_some() && !s.subscription_identifiers {
            return Err(ReasonCode::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED);
        }
        Ok(())
    }

    /// Sends the retained messages matching a new subscription, with RETAIN set (3.1.1
    /// [MQTT-3.3.1-8]) at the lower of their QoS and the granted one.
    fn send_retained(
        &mut self,
        sid: SubscriberId,
        filter: &TopicFilter,
        subscription: &Subscription,
        now: Instant,
    ) {
        let mut found: Vec<Arc<Message>> = Vec::new();
        self.retained.for_each_match(filter, |_, m| {
            if !m.is_expired(now) {
                found.push(m.clone());
            }
        });
        for message in found {
            let delivery = Delivery {
                qos: subscription.options.qos.min(message.qos),
                retain: true,
                subscription_ids: subscription.identifier.into_iter().collect(),
                shared: None,
                seq: 0,
                message,
            };
            self.deliver(sid, delivery, now);
        }
    }

    /// Removes each filter that matches a subscription character for character
    /// [MQTT-3.10.4-1] and answers with one reason code per filter [MQTT-3.10.4-5]. Messages
    /// already in flight complete [MQTT-3.10.4-3].
    pub(super) fn handle_unsubscribe(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        unsub: Unsubscribe,
    ) {
        let mut reasons = Vec::with_capacity(unsub.filters.len());
        for filter in &unsub.filters {
            let session = self.sessions.get_mut(&sid).expect("session exists");
            let existed = session.unsubscribe(filter);
            if existed && session.stored {
                let client_id = session.client_id.clone();
                let filter = filter.clone();
                self.record(Change::DeleteSubscription { client_id, filter });
            }
            self.router.unsubscribe(sid, filter);
            reasons.push(if existed {
                ReasonCode::SUCCESS
            } else {
                ReasonCode::NO_SUBSCRIPTION_EXISTED
            });
        }
        let ack = UnsubAck {
            packet_id: unsub.packet_id,
            properties: Default::default(),
            reasons,
        };
        self.send(conn, &Packet::UnsubAck(ack));
    }
}
