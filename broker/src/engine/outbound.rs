//! Deliveries to a subscriber: the outbound inflight window (Receive Maximum,
//! [MQTT-3.3.4-9]), the PUBLISH each delivery becomes, what waits in the session queue, the
//! resend of unacknowledged messages on a resumed session [MQTT-4.4.0-1], and the client's
//! PUBACK, PUBREC and PUBCOMP that complete an outbound flow (section 4.3).

use std::time::Instant;

use super::conn::ConnId;
use super::hooks::DropReason;
use super::inflight::OutboundState;
use super::message::Delivery;
use super::shape::Shape;
use super::store::Held;
use super::Engine;
use crate::codec::{
    Ack, Packet, PacketId, Properties, Property, Protocol, Publish, QoS, ReasonCode, TopicName,
};
use crate::router::SubscriberId;

impl Engine {
    /// The outbound inflight window of a connection: the client's Receive Maximum
    /// [MQTT-3.3.4-9], bounded by the server's own limit.
    fn window(&self, conn: ConnId) -> usize {
        window(&self.conns[&conn], self.settings.max_inflight)
    }

    /// Sends a new delivery: QoS 0 goes out and is forgotten; QoS 1 and 2 get a fresh
    /// packet identifier and enter the inflight window. An expired message is dropped
    /// [MQTT-3.3.2-5]; one too large for the client is dropped as if sent [MQTT-3.1.2-25].
    pub(super) fn send_delivery(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        delivery: Delivery,
        now: Instant,
    ) {
        if delivery.message.is_expired(now) {
            self.stats.expired_dropped += 1;
            self.record_gone(sid, &delivery);
            self.notice_drop(sid, DropReason::Expired, 1);
            return;
        }
        let bytes = delivery.message.topic.len() + delivery.message.payload.len();
        if delivery.qos == QoS::AtMostOnce {
            // Out and forgotten: the session has nothing to record.
            match self.send_publish(conn, &delivery, None, false, now) {
                true => {
                    self.stats.sent(QoS::AtMostOnce, bytes);
                    let topic = delivery.message.topic.as_byte_string();
                    self.notice_delivery(sid, topic, QoS::AtMostOnce);
                }
                false => {
                    self.stats.too_large_dropped += 1;
                    self.notice_drop(sid, DropReason::TooLarge, 1);
                }
            }
            return;
        }
        let s = self.sessions.get_mut(&sid).expect("session exists");
        let id = s.allocate_packet_id();
        if self.send_publish(conn, &delivery, Some(id), false, now) {
            self.stats.sent(delivery.qos, bytes);
            self.notice_delivery(sid, delivery.message.topic.as_byte_string(), delivery.qos);
            let mut delivery = delivery;
            self.record_held(sid, &mut delivery, Held::Published(id.get()), now);
            let s = self.sessions.get_mut(&sid).expect("session exists");
            s.inflight.start(id.get(), delivery);
        } else {
            self.stats.too_large_dropped += 1;
            self.record_gone(sid, &delivery);
            self.notice_drop(sid, DropReason::TooLarge, 1);
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
            Some(id) => {
                let topic_len = delivery.message.topic.len();
                self.arena.with_packet_id(&encoded, topic_len, id)
            }
        };
        self.out.push(super::Output::Send {
            conn,
            frame,
            droppable: delivery.qos == QoS::AtMostOnce,
            early: delivery.qos != QoS::ExactlyOnce,
        });
        true
    }

    /// Sends queued deliveries while the window has room and the connection's writes are
    /// not backed up; then, if the queue got down to its low-water mark, the publishers it
    /// held back go on.
    pub(super) fn pump(&mut self, conn: ConnId, sid: SubscriberId, now: Instant) {
        self.send_queued(conn, sid, now);
        self.relieve(sid);
    }

    fn send_queued(&mut self, conn: ConnId, sid: SubscriberId, now: Instant) {
        let window = self.window(conn);
        loop {
            let s = self.sessions.get_mut(&sid).expect("session exists");
            if s.congested {
                return;
            }
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
            // The queue runs low and more of it is on disk: the next batch is asked for.
            if let Some(spill) = s.spill.as_mut() {
                let (from, _) = *spill.entries.front().expect("a spill is never empty");
                if !spill.loading && s.queue.len() < super::store::RESIDENT / 2 {
                    spill.loading = true;
                    let (session, client_id) = (sid, s.client_id.clone());
                    let max = super::store::LOAD_BATCH;
                    self.out.push(super::Output::Load {
                        session,
                        client_id,
                        from,
                        max,
                    });
                }
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

    // Acknowledgements of the server's PUBLISHes (sections 4.3.2, 4.3.3). Each message in
    // flight awaits one packet: PUBACK (QoS 1), PUBREC (QoS 2, published), PUBCOMP (QoS 2,
    // released). That packet moves it on. Another acknowledgement for a message in flight
    // is a Protocol Error, which closes the connection (5.0: DISCONNECT 0x82): ignoring it
    // would leave the two sides disagreeing about the session. A repeated PUBREC for a
    // released message gets its PUBREL again. An acknowledgement for no message in flight
    // is the client's late or stray one: PUBACK and PUBCOMP are ignored, PUBREC gets PUBREL
    // 0x92 Packet Identifier not found (`conformance/features/acks_by_state.feature` has
    // the whole table and why).

    pub(super) fn handle_puback(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        ack: Ack,
        now: Instant,
    ) {
        match self.complete_if(sid, ack.packet_id, |qos, _| qos == QoS::AtLeastOnce) {
            Ok(()) => self.pump(conn, sid, now),
            Err(Some(_)) => self.wrong_ack(conn, "PUBACK for a QoS 2 PUBLISH", QOS2, now),
            Err(None) => stray_ack(conn, "PUBACK", ack.packet_id),
        }
    }

    pub(super) fn handle_pubrec(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        ack: Ack,
        now: Instant,
    ) {
        let id = ack.packet_id;
        match self.awaiting(sid, id) {
            Some((QoS::AtLeastOnce, _)) => {
                return self.wrong_ack(conn, "PUBREC for a QoS 1 PUBLISH", QOS1, now)
            }
            Some(_) => {}
            None => {
                stray_ack(conn, "PUBREC", id);
                return self.ack(
                    conn,
                    Packet::PubRel,
                    id.get(),
                    ReasonCode::PACKET_IDENTIFIER_NOT_FOUND,
                );
            }
        }
        let s = self.sessions.get_mut(&sid).expect("session exists");
        if ack.reason.is_error() {
            // The client refused the message: the flow ends here (section 4.3.3).
            if let Some(done) = s.inflight.finish(id.get()) {
                self.record_gone(sid, &done.delivery);
            }
            return self.pump(conn, sid, now);
        }
        s.inflight.release(id.get());
        if s.stored {
            let mut delivery = s
                .inflight
                .get(id.get())
                .expect("in flight")
                .delivery
                .clone();
            self.record_held(sid, &mut delivery, Held::Released(id.get()), now);
        }
        self.send(conn, &Packet::PubRel(Ack::new(id)));
    }

    pub(super) fn handle_pubcomp(
        &mut self,
        conn: ConnId,
        sid: SubscriberId,
        ack: Ack,
        now: Instant,
    ) {
        let released = |_, state| state == OutboundState::Released;
        match self.complete_if(sid, ack.packet_id, released) {
            Ok(()) => self.pump(conn, sid, now),
            Err(Some((QoS::AtLeastOnce, _))) => {
                self.wrong_ack(conn, "PUBCOMP for a QoS 1 PUBLISH", QOS1, now)
            }
            Err(Some(_)) => self.wrong_ack(conn, "PUBCOMP before PUBREC", QOS2, now),
            Err(None) => stray_ack(conn, "PUBCOMP", ack.packet_id),
        }
    }

    /// The QoS and state of the message in flight as `id`, if there is one; the client is
    /// making progress either way.
    fn awaiting(&mut self, sid: SubscriberId, id: PacketId) -> Option<(QoS, OutboundState)> {
        let s = self.sessions.get_mut(&sid).expect("session exists");
        if let Some(p) = &mut s.pressure {
            p.note_progress();
        }
        s.inflight
            .get(id.get())
            .map(|i| (i.delivery.qos, i.state()))
    }

    /// An acknowledgement of the wrong kind for a message in flight: a Protocol Error.
    fn wrong_ack(&mut self, conn: ConnId, what: &str, clauses: Clauses, now: Instant) {
        let clause = match self.conns[&conn].protocol.is_v5() {
            true => clauses.v5,
            false => clauses.v3,
        };
        self.protocol_error(conn, &format!("[{clause}] {what}"), now);
    }

    /// Ends the flight of `id` if `awaited` says this acknowledgement is the one it awaits
    /// (one lookup: this is every delivery's path); else the QoS and state of what is in
    /// flight as `id`, if anything is. The client is making progress either way.
    fn complete_if(
        &mut self,
        sid: SubscriberId,
        id: PacketId,
        awaited: impl Fn(QoS, OutboundState) -> bool,
    ) -> Result<(), Option<(QoS, OutboundState)>> {
        let s = self.sessions.get_mut(&sid).expect("session exists");
        if let Some(p) = &mut s.pressure {
            p.note_progress();
        }
        let found = (s.inflight.get(id.get())).map(|i| (i.delivery.qos, i.state()));
        match found {
            Some((qos, state)) if awaited(qos, state) => {
                if let Some(done) = s.inflight.finish(id.get()) {
                    self.record_gone(sid, &done.delivery);
                }
                Ok(())
            }
            other => Err(other),
        }
    }
}

/// An acknowledgement for no message in flight: the client's late or stray one.
fn stray_ack(conn: ConnId, what: &str, id: PacketId) {
    tracing::debug!(conn = %conn, id, "{what} for no message in flight");
}

/// The statements a wrong acknowledgement breaks, in 5.0 and in 3.1.1.
#[derive(Clone, Copy)]
struct Clauses {
    v5: &'static str,
    v3: &'static str,
}

/// A QoS 1 PUBLISH awaits its PUBACK [MQTT-4.3.2-3] (3.1.1: [MQTT-4.3.2-1]).
const QOS1: Clauses = Clauses {
    v5: "MQTT-4.3.2-3",
    v3: "MQTT-4.3.2-1",
};

/// A QoS 2 PUBLISH awaits its PUBREC, its PUBREL its PUBCOMP [MQTT-4.3.3-3] [MQTT-4.3.3-5]
/// (3.1.1: [MQTT-4.3.3-1]).
const QOS2: Clauses = Clauses {
    v5: "MQTT-4.3.3-3",
    v3: "MQTT-4.3.3-1",
};

/// The outbound inflight window of a connection: the client's Receive Maximum
/// [MQTT-3.3.4-9], bounded by the server's own limit.
pub(super) fn window(c: &super::conn::Conn, max_inflight: u16) -> usize {
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
