//! A client's PUBLISH (section 3.3) and what the broker answers it with: Topic Aliases
//! [MQTT-3.3.2-7], PUBACK, and the inbound QoS 2 exchange (PUBREC, PUBREL, PUBCOMP, section
//! 4.3.3). An accepted message is handed to routing.

use std::sync::Arc;
use std::time::Instant;

use super::conn::ConnId;
use super::flow::AckKind;
use super::message::Message;
use super::{CloseReason, Engine};
use crate::codec::{
    Ack, Packet, PacketId, Property, PropertyId, Publish, QoS, ReasonCode, TopicName,
};
use crate::router::SubscriberId;

impl Engine {
    pub(super) fn handle_publish(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        publish: Publish,
        now: Instant,
    ) {
        // A client never sends Subscription Identifiers [MQTT-3.3.4-6].
        if publish
            .properties
            .get(PropertyId::SubscriptionIdentifier)
            .is_some()
        {
            return self.protocol_error(
                conn,
                "[MQTT-3.3.4-6] Subscription Identifier in PUBLISH",
                now,
            );
        }
        if self
            .check_publish_limits(conn, publish.topic.len() + publish.payload.len(), now)
            .is_err()
        {
            return; // Over the rate or bandwidth: closed.
        }
        let topic = match self.resolve_topic_alias(conn, &publish) {
            Ok(topic) => topic,
            Err((code, what)) => {
                tracing::warn!(conn = %conn, "closed: {what}");
                return self.close_with(conn, code, Some(what.to_string()), now);
            }
        };
        if publish.qos > self.settings.maximum_qos {
            return self.close_with(conn, ReasonCode::QOS_NOT_SUPPORTED, None, now);
        }
        if publish.retain && !self.settings.retain_available {
            return self.close_with(conn, ReasonCode::RETAIN_NOT_SUPPORTED, None, now);
        }
        self.stats
            .received(publish.qos, publish.topic.len() + publish.payload.len());
        let packet_id = publish.packet_id;
        if publish.qos == QoS::ExactlyOnce {
            let id = packet_id.expect("QoS 2 has a packet identifier").get();
            let s = self.sessions.get_mut(&sid).expect("session exists");
            if s.inbound_qos2.contains(&id) {
                // A resent PUBLISH before PUBREL: acknowledge again, deliver nothing twice.
                return self.acknowledge(conn, AckKind::PubRec, id, ReasonCode::SUCCESS);
            }
            // Receive Maximum is 5.0's [MQTT-3.3.4-7]; 3.x has no such window (the packet
            // identifiers bound what a 3.x client can leave unreleased).
            let v5 = self.conns[&conn].protocol.is_v5();
            if v5 && s.inbound_qos2.len() >= usize::from(self.settings.receive_maximum) {
                return self.close_with(conn, ReasonCode::RECEIVE_MAXIMUM_EXCEEDED, None, now);
            }
        }
        let bad_format = self.conns[&conn].protocol.is_v5()
            && Message::payload_format_invalid(&publish.properties, &publish.payload);
        let refused = if bad_format {
            Some(ReasonCode::PAYLOAD_FORMAT_INVALID)
        } else if !self.may_publish(conn, topic.as_str()) {
            Some(ReasonCode::NOT_AUTHORIZED)
        } else {
            None
        };
        if refused.is_none() && self.interest().publish {
            // The hooks see the message as it will be routed: its topic, not an alias.
            let mut publish = publish;
            publish.topic = topic;
            publish.properties.remove(PropertyId::TopicAlias);
            return self.ask_publish(conn, sid, publish);
        }
        let publish = match refused {
            Some(code) => Err((publish, code)),
            None => Ok(Publish { topic, ..publish }),
        };
        self.publish_answered(conn, sid, publish, now);
    }

    /// Routes a PUBLISH that may go (`Ok`) or refuses one (`Err`, with the reason), and
    /// acknowledges it. Its topic is resolved (no alias); the hooks, if asked, have answered.
    pub(super) fn publish_answered(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        publish: Result<Publish, (Publish, ReasonCode)>,
        now: Instant,
    ) {
        let (qos, packet_id) = match &publish {
            Ok(p) | Err((p, _)) => (p.qos, p.packet_id),
        };
        if let Err((_, ReasonCode::UNSPECIFIED_ERROR)) = &publish {
            if !self.conns[&conn].protocol.is_v5() && qos != QoS::AtMostOnce {
                // Not a refusal but no decision (a hook missed its deadline, a backend did
                // not answer). A 3.x acknowledgement cannot say so, and one would be a promise
                // broken: the connection is closed instead, the other answer [MQTT-3.3.5-2]
                // allows, and the client sends the message again when it reconnects.
                let c = &self.conns[&conn];
                tracing::warn!(conn = %conn, client_id = %c.client_id,
                    "closed: no decision about a QoS {} PUBLISH (a hook or an [auth] source did \
                     not answer); not acknowledged, so the client resends it", qos as u8);
                self.stats.undecided_closed += 1;
                return self.close(conn, CloseReason::Transport, now);
            }
        }
        let reason = match publish {
            Err((_, code)) if code == ReasonCode::PAYLOAD_FORMAT_INVALID => code,
            Err((_, code)) => {
                // Dropped. 5.0 is told; 3.x gets the normal acknowledgement [MQTT-3.3.5-2].
                match self.conns[&conn].protocol.is_v5() {
                    true if code.is_error() => code,
                    true => ReasonCode::NOT_AUTHORIZED,
                    false => ReasonCode::SUCCESS,
                }
            }
            Ok(publish) => {
                let topic = publish.topic.clone();
                let message = Arc::new(Message::from_publish(
                    publish,
                    topic,
                    Some(sid),
                    self.settings.max_message_expiry_interval,
                    now,
                ));
                let routed = self.route(message, now);
                if !self.full.is_empty() {
                    // Held for every session it went to, but some are full: the publisher waits.
                    let full = std::mem::take(&mut self.full);
                    self.hold_back(conn, &full, now);
                    self.full = full;
                }
                match routed {
                    0 => ReasonCode::NO_MATCHING_SUBSCRIBERS,
                    _ => ReasonCode::SUCCESS,
                }
            }
        };
        match (qos, packet_id) {
            (QoS::AtLeastOnce, Some(id)) => {
                self.acknowledge(conn, AckKind::PubAck, id.get(), reason)
            }
            (QoS::ExactlyOnce, Some(id)) => {
                if !reason.is_error() {
                    // Recorded now, even if PUBREC is withheld: a resend of this PUBLISH
                    // from a new connection is acknowledged, not delivered twice.
                    let s = self.sessions.get_mut(&sid).expect("session exists");
                    s.inbound_qos2.insert(id.get());
                    self.record_inbound(sid, id.get(), true);
                }
                self.acknowledge(conn, AckKind::PubRec, id.get(), reason)
            }
            _ => {}
        }
    }

    /// The topic a PUBLISH is for: its Topic Name, or the one its Topic Alias stands for. An
    /// alias outside 1..=Topic Alias Maximum is 0x94 [MQTT-3.3.2-12]; an empty name with an
    /// alias never set is a Protocol Error (section 3.3.2.3.4).
    fn resolve_topic_alias(
        &mut self,
        conn: ConnId,
        publish: &Publish,
    ) -> Result<TopicName, (ReasonCode, &'static str)> {
        let alias = match publish.properties.get(PropertyId::TopicAlias) {
            Some(Property::TopicAlias(a)) => *a,
            _ => return Ok(publish.topic.clone()),
        };
        if alias > self.settings.topic_alias_maximum {
            return Err((
                ReasonCode::TOPIC_ALIAS_INVALID,
                "[MQTT-3.3.2-12] Topic Alias above the Topic Alias Maximum",
            ));
        }
        let c = self.conns.get_mut(&conn).expect("connection exists");
        if publish.topic.is_empty() {
            let known = c.aliases.as_ref().and_then(|a| a.inbound.get(&alias));
            known.cloned().ok_or((
                ReasonCode::PROTOCOL_ERROR,
                "[§3.3.2.3.4] Topic Alias used before it was set",
            ))
        } else {
            c.aliases_mut().inbound.insert(alias, publish.topic.clone());
            Ok(publish.topic.clone())
        }
    }

    pub(super) fn ack(
        &mut self,
        conn: ConnId,
        kind: fn(Ack) -> Packet,
        id: u16,
        reason: ReasonCode,
    ) {
        let Some(id) = PacketId::new(id) else { return };
        let mut ack = Ack::new(id);
        ack.reason = reason;
        self.send(conn, &kind(ack));
    }

    /// PUBREL releases an inbound QoS 2 identifier; PUBCOMP answers it either way, with 0x92
    /// when the identifier was unknown.
    pub(super) fn handle_pubrel(&mut self, conn: ConnId, sid: SubscriberId, ack: Ack) {
        let s = self.sessions.get_mut(&sid).expect("session exists");
        let reason = if s.inbound_qos2.remove(&ack.packet_id.get()) {
            self.record_inbound(sid, ack.packet_id.get(), false);
            ReasonCode::SUCCESS
        } else {
            ReasonCode::PACKET_IDENTIFIER_NOT_FOUND
        };
        self.ack(conn, Packet::PubComp, ack.packet_id.get(), reason);
    }
}
