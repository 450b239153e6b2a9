//! PUBLISH and its acknowledgements in both directions (sections 3.3 to 3.7 and 4.3), routing
//! to subscribers and the retained store, and the outbound inflight window.

use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::conn::ConnId;
use super::inflight::{Inflight, OutboundState};
use super::message::{Delivery, Message};
use super::session::Enqueued;
use super::shape::Shape;
use super::Engine;
use crate::codec::{
    Ack, Packet, PacketId, Properties, Property, PropertyId, Protocol, Publish, QoS, ReasonCode,
    TopicName,
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
        let packet_id = publish.packet_id;
        if publish.qos == QoS::ExactlyOnce {
            let id = packet_id.expect("QoS 2 has a packet identifier").get();
            let s = self.sessions.get_mut(&sid).expect("session exists");
            if s.inbound_qos2.contains(&id) {
                // A resent PUBLISH before PUBREL: acknowledge again, deliver nothing twice.
                return self.ack(conn, Packet::PubRec, id, ReasonCode::SUCCESS);
            }
            if s.inbound_qos2.len() >= usize::from(self.settings.receive_maximum) {
                return self.close_with(conn, ReasonCode::RECEIVE_MAXIMUM_EXCEEDED, None, now);
            }
        }
        let bad_format = self.conns[&conn].protocol.is_v5()
            && Message::payload_format_invalid(&publish.properties, &publish.payload);
        let qos = publish.qos;
        let reason = if bad_format {
            ReasonCode::PAYLOAD_FORMAT_INVALID
        } else if !self.may_publish(conn, topic.as_str()) {
            // Dropped. 5.0 is told; 3.x gets the normal acknowledgement [MQTT-3.3.5-2].
            if self.conns[&conn].protocol.is_v5() {
                ReasonCode::NOT_AUTHORIZED
            } else {
                ReasonCode::SUCCESS
            }
        } else {
            let message = Arc::new(Message::from_publish(
                publish,
                topic,
                Some(sid),
                self.settings.max_message_expiry_interval,
                now,
            ));
            match self.route(message, now) {
                0 => ReasonCode::NO_MATCHING_SUBSCRIBERS,
                _ => ReasonCode::SUCCESS,
            }
        };
        match (qos, packet_id) {
            (QoS::AtLeastOnce, Some(id)) => self.ack(conn, Packet::PubAck, id.get(), reason),
            (QoS::ExactlyOnce, Some(id)) => {
                if !reason.is_error() {
                    let s = self.sessions.get_mut(&sid).expect("session exists");
                    s.inbound_qos2.insert(id.get());
                }
                self.ack(conn, Packet::PubRec, id.get(), reason)
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

    fn ack(&mut self, conn: ConnId, kind: fn(Ack) -> Packet, id: u16, reason: ReasonCode) {
        let Some(id) = PacketId::new(id) else { return };
        let mut ack = Ack::new(id);
        ack.reason = reason;
        self.send(conn, &kind(ack));
    }

    /// Routes a message: updates the retained store, then delivers to every matching
    /// session, once per session with the highest QoS of its matching subscriptions
    /// [MQTT-3.3.4-2] and all their identifiers [MQTT-3.3.4-3]. Returns how many sessions
    /// it went to.
    pub(super) fn route(&mut self, message: Arc<Message>, now: Instant) -> usize {
        if message.retain && self.settings.retain_available {
            if message.payload.is_empty() {
                // [MQTT-3.3.1-6] [MQTT-3.3.1-7]
                self.retained.remove(message.topic.as_str());
            } else {
                // [MQTT-3.3.1-5]
                self.retained.insert(&message.topic, message.clone());
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
    /// window and nothing is queued ahead of it, queued otherwise. Offline sessions keep QoS
    /// 1 and 2 messages only (3.1.1 [MQTT-3.1.2-5]; QoS 0 may be dropped).
    pub(super) fn deliver(&mut self, sid: SubscriberId, delivery: Delivery, now: Instant) {
        let limits = self.settings.queue;
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let Some(conn) = s.conn else {
            if delivery.qos != QoS::AtMostOnce && s.enqueue(delivery, limits) != Enqueued::Queued {
                tracing::debug!(client_id = %s.client_id, dropped = s.dropped, "queue full: message dropped");
            }
            return;
        };
        // Only QoS 1 and 2 need the connection's window (one lookup less for QoS 0, the
        // fan-out case).
        let qos0 = delivery.qos == QoS::AtMostOnce;
        let full = || s.inflight.len() >= window(&self.conns[&conn], self.settings.max_inflight);
        if !s.queue.is_empty() || (!qos0 && full()) {
            if s.enqueue(delivery, limits) != Enqueued::Queued {
                tracing::debug!(client_id = %s.client_id, dropped = s.dropped, "queue full: message dropped");
            }
            return;
        }
        self.send_delivery(conn, sid, delivery, now);
    }

    /// The outbound inflight window of a connection: the client's Receive Maximum
    /// [MQTT-3.3.4-9], bounded by the server's own limit.
    fn window(&self, conn: ConnId) -> usize {
        window(&self.conns[&conn], self.settings.max_inflight)
    }

    /// Sends a new delivery: QoS 0 goes out and is forgotten; QoS 1 and 2 get a fresh
    /// packet identifier and enter the inflight window. An expired message is dropped
    /// [MQTT-3.3.2-5]; one too large for the client is dropped as if sent [MQTT-3.1.2-25].
    fn send_delivery(&mut self, conn: ConnId, sid: SubscriberId, delivery: Delivery, now: Instant) {
        if delivery.message.is_expired(now) {
            return;
        }
        if delivery.qos == QoS::AtMostOnce {
            // Out and forgotten: the session has nothing to record.
            self.send_publish(conn, &delivery, None, false, now);
            return;
        }
        let s = self.sessions.get_mut(&sid).expect("session exists");
        let packet_id = Some(s.allocate_packet_id());
        if self.send_publish(conn, &delivery, packet_id, false, now) {
            if let Some(id) = packet_id {
                let s = self.sessions.get_mut(&sid).expect("session exists");
                s.inflight.start(id.get(), delivery);
            }
        }
    }

    /// Encodes and sends one PUBLISH for a delivery. Returns false if it could not be sent
    /// (too large for the client).
    fn send_publish(
        &mut self,
        conn: ConnId,
        delivery: &Delivery,
        packet_id: Option<PacketId>,
        dup: bool,
        now: Instant,
    ) -> bool {
        let c = &self.conns[&conn];
        let aliases = c.protocol.is_v5() && c.client_topic_alias_maximum > 0;
        if self.shapes.is_active() && !aliases && !dup {
            let (protocol, max) = (c.protocol, c.client_max_packet_size as usize);
            return self.send_shared_shape(conn, (protocol, max), delivery, packet_id, now);
        }
        let message = &delivery.message;
        let c = self.conns.get_mut(&conn).expect("connection exists");
        let mut publish = publish_for(delivery, packet_id, dup, now);
        // Topic aliases toward clients that accept them [MQTT-3.1.2-26] [MQTT-3.3.2-11]: the
        // first PUBLISH of a topic sets the alias, later ones send an empty name.
        let mut new_alias = None;
        if aliases {
            let maximum = c.client_topic_alias_maximum;
            let a = c.aliases_mut();
            if let Some(&alias) = a.outbound.get(message.topic.as_byte_string()) {
                publish.properties.push(Property::TopicAlias(alias));
                publish.topic = TopicName::empty();
            } else if a.next_out <= maximum {
                new_alias = Some(a.next_out);
                publish.properties.push(Property::TopicAlias(a.next_out));
            }
        }
        let droppable = publish.qos == QoS::AtMostOnce;
        let sent = self.send_frame(conn, &Packet::Publish(publish), droppable);
        if let (true, Some(alias)) = (sent, new_alias) {
            let a = self
                .conns
                .get_mut(&conn)
                .expect("connection exists")
                .aliases_mut();
            a.outbound
                .insert(message.topic.as_byte_string().clone(), alias);
            a.next_out += 1;
        }
        sent
    }

    /// Sends a PUBLISH whose bytes other subscribers of the message being routed can share:
    /// it is encoded once per shape (rule 2 of the house), and QoS 1/2 copies only patch in
    /// their own packet identifier.
    ///
    /// The connection's protocol and Maximum Packet Size come from the caller, which has
    /// looked the connection up already.
    fn send_shared_shape(
        &mut self,
        conn: ConnId,
        (protocol, max): (Protocol, usize),
        delivery: &Delivery,
        packet_id: Option<PacketId>,
        now: Instant,
    ) -> bool {
        let shape = Shape {
            v5: protocol.is_v5(),
            qos: delivery.qos,
            retain: delivery.retain,
            subscription_ids: &delivery.subscription_ids,
        };
        let encoded = self.shapes.frame(shape, || {
            let publish = publish_for(delivery, packet_id, false, now);
            Packet::Publish(publish)
                .to_bytes(protocol)
                .inspect_err(|e| tracing::error!(conn = %conn, "cannot encode PUBLISH: {e}"))
                .ok()
        });
        let Some(encoded) = encoded else {
            return false;
        };
        if encoded.len() > max {
            tracing::debug!(conn = %conn, size = encoded.len(),
                "PUBLISH dropped: larger than the client's Maximum Packet Size [MQTT-3.1.2-25]");
            return false;
        }
        let frame = match packet_id {
            None => encoded,
            Some(id) => with_packet_id(&encoded, delivery.message.topic.len(), id),
        };
        self.out.push(super::Output::Send {
            conn,
            frame,
            droppable: delivery.qos == QoS::AtMostOnce,
        });
        true
    }

    /// Sends queued deliveries while the window has room.
    pub(super) fn pump(&mut self, conn: ConnId, sid: SubscriberId, now: Instant) {
        let window = self.window(conn);
        loop {
            let s = self.sessions.get_mut(&sid).expect("session exists");
            // First the resends that did not fit when the client came back, in order.
            let waiting = s.inflight.awaiting_resend();
            if waiting > 0 {
                if s.inflight.len() - waiting >= window {
                    return;
                }
                let (id, delivery) = s.inflight.take_resend().expect("one is waiting");
                let pid = PacketId::new(id).expect("identifiers in flight are not zero");
                self.send_publish(conn, &delivery, Some(pid), true, now);
                continue;
            }
            let Some(next) = s.queue.front() else { return };
            if next.qos != QoS::AtMostOnce && s.inflight.len() >= window {
                return;
            }
            let delivery = s.dequeue().expect("front exists");
            self.send_delivery(conn, sid, delivery, now);
        }
    }

    /// Resends what was in flight when the session's last connection ended, in order:
    /// PUBLISH with DUP set, or PUBREL for messages already past PUBREC [MQTT-4.4.0-1]; then
    /// the queue. The send quota starts afresh with the new connection (section 4.9): the
    /// PUBLISH resends beyond the client's Receive Maximum wait for acknowledgements
    /// [MQTT-4.9.0-2], and `pump` sends them before anything queued.
    pub(super) fn resume(&mut self, conn: ConnId, sid: SubscriberId, now: Instant) {
        let window = self.window(conn);
        let s = self.sessions.get_mut(&sid).expect("session exists");
        let order: Vec<u16> = s.inflight.ids().collect();
        s.inflight.clear_resends();
        // Messages past PUBREC count against the window until their PUBCOMP.
        let mut busy = order
            .iter()
            .filter(|&&id| {
                s.inflight
                    .get(id)
                    .is_some_and(|i| i.state() == OutboundState::Released)
            })
            .count();
        for id in order {
            let s = self.sessions.get_mut(&sid).expect("session exists");
            let Some(inflight) = s.inflight.get(id) else {
                continue;
            };
            let pid = PacketId::new(id).expect("identifiers in flight are not zero");
            match inflight.state() {
                OutboundState::Published => {
                    if busy >= window {
                        s.inflight.mark_resend(id);
                        continue;
                    }
                    busy += 1;
                    let delivery = inflight.delivery.clone();
                    self.send_publish(conn, &delivery, Some(pid), true, now);
                }
                OutboundState::Released => {
                    self.send(conn, &Packet::PubRel(Ack::new(pid)));
                }
            }
        }
        self.pump(conn, sid, now);
    }

    pub(super) fn handle_puback(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        ack: Ack,
        now: Instant,
    ) {
        let awaited = |i: &Inflight| {
            i.state() == OutboundState::Published && i.delivery.qos == QoS::AtLeastOnce
        };
        self.complete_flow(conn, sid, ack.packet_id, awaited, "PUBACK", now);
    }

    pub(super) fn handle_pubrec(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        ack: Ack,
        now: Instant,
    ) {
        let id = ack.packet_id;
        let s = self.sessions.get_mut(&sid).expect("session exists");
        match s.inflight.get(id.get()) {
            Some(i) if i.delivery.qos == QoS::ExactlyOnce => {
                if ack.reason.is_error() {
                    // The client refused the message: the flow ends here (section 4.3.3).
                    s.inflight.finish(id.get());
                    return self.pump(conn, sid, now);
                }
                s.inflight.release(id.get());
                self.send(conn, &Packet::PubRel(Ack::new(id)));
            }
            _ => self.ack(
                conn,
                Packet::PubRel,
                id.get(),
                ReasonCode::PACKET_IDENTIFIER_NOT_FOUND,
            ),
        }
    }

    pub(super) fn handle_pubcomp(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        ack: Ack,
        now: Instant,
    ) {
        let awaited = |i: &Inflight| i.state() == OutboundState::Released;
        self.complete_flow(conn, sid, ack.packet_id, awaited, "PUBCOMP", now);
    }

    /// Ends the flight of `id` if it stands where this acknowledgement belongs, then sends
    /// what the window has room for now. An acknowledgement for nothing in flight is ignored.
    fn complete_flow(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        id: PacketId,
        awaited: impl Fn(&Inflight) -> bool,
        what: &str,
        now: Instant,
    ) {
        let s = self.sessions.get_mut(&sid).expect("session exists");
        if s.inflight.get(id.get()).is_some_and(awaited) {
            s.inflight.finish(id.get());
            self.pump(conn, sid, now);
        } else {
            tracing::debug!(conn = %conn, id, "{what} for nothing awaiting it");
        }
    }

    /// PUBREL releases an inbound QoS 2 identifier; PUBCOMP answers it either way, with 0x92
    /// when the identifier was unknown.
    pub(super) fn handle_pubrel(&mut self, conn: ConnId, sid: SubscriberId, ack: Ack) {
        let s = self.sessions.get_mut(&sid).expect("session exists");
        let reason = if s.inbound_qos2.remove(&ack.packet_id.get()) {
            ReasonCode::SUCCESS
        } else {
            ReasonCode::PACKET_IDENTIFIER_NOT_FOUND
        };
        self.ack(conn, Packet::PubComp, ack.packet_id.get(), reason);
    }
}

/// The outbound inflight window of a connection: the client's Receive Maximum
/// [MQTT-3.3.4-9], bounded by the server's own limit.
fn window(c: &super::conn::Conn, max_inflight: u16) -> usize {
    usize::from(c.client_receive_maximum.min(max_inflight))
}

/// The PUBLISH a delivery becomes: the message's properties unaltered, the Message Expiry
/// Interval that remains [MQTT-3.3.2-6], and the identifiers of the matching subscriptions.
fn publish_for(
    delivery: &Delivery,
    packet_id: Option<PacketId>,
    dup: bool,
    now: Instant,
) -> Publish {
    let message = &delivery.message;
    let mut properties: Properties = message.properties.clone();
    if let Some(secs) = message.remaining_expiry(now) {
        properties.push(Property::MessageExpiryInterval(secs));
    }
    for id in &delivery.subscription_ids {
        properties.push(Property::SubscriptionIdentifier(*id));
    }
    Publish {
        // DUP only on a resend [MQTT-3.3.1-1], never at QoS 0 [MQTT-3.3.1-2].
        dup: dup && delivery.qos != QoS::AtMostOnce,
        qos: delivery.qos,
        retain: delivery.retain,
        topic: message.topic.clone(),
        packet_id,
        properties,
        payload: message.payload.clone(),
    }
}

/// A copy of an encoded QoS 1/2 PUBLISH with another packet identifier, which sits right after
/// the fixed header and the Topic Name.
fn with_packet_id(encoded: &Bytes, topic_len: usize, id: PacketId) -> Bytes {
    let header_len = 1 + encoded[1..]
        .iter()
        .position(|b| b & 0x80 == 0)
        .map_or(4, |p| p + 1);
    let at = header_len + 2 + topic_len;
    let mut frame = BytesMut::from(&encoded[..]);
    frame[at..at + 2].copy_from_slice(&id.get().to_be_bytes());
    frame.freeze()
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
