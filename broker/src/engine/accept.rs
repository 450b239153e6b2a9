//! A CONNECT accepted (section 3.2): an existing connection with the same Client Identifier
//! taken over [MQTT-3.1.4-3], the session resumed or started anew [MQTT-3.1.2-4]
//! [MQTT-3.1.2-5], a Client Identifier assigned where the client gave none [MQTT-3.1.3-6],
//! and the CONNACK with what the server grants.

use std::time::{Duration, Instant};

use super::conn::{ConnId, Phase};
use super::hooks::Notice;
use super::session::Session;
use super::{CloseReason, Engine, Output, Timer};
use crate::codec::{ConnAck, Connect, Packet, Properties, Property, PropertyId, QoS, ReasonCode};
use crate::router::SubscriberId;

impl Engine {
    /// Accepts a CONNECT, no other connection holding its session any more (see
    /// `takeover`); `auth_properties` (the outcome of an AUTH exchange) go into a 5.0
    /// CONNACK.
    pub(super) fn take_session(
        &mut self,
        conn: ConnId,
        mut connect: Connect,
        auth_properties: Properties,
        now: Instant,
    ) {
        // A takeover replaces a connection rather than adding one.
        let takes_over = self
            .by_client_id
            .get(&connect.client_id)
            .is_some_and(|sid| self.sessions[sid].conn.is_some());
        if self.connected >= self.settings.max_connections && !takes_over {
            return self.refuse(
                conn,
                ReasonCode::QUOTA_EXCEEDED,
                "connection limit reached",
                now,
            );
        }
        if self.listener_is_full(conn, &connect) {
            return self.refuse(
                conn,
                ReasonCode::QUOTA_EXCEEDED,
                "the listener's connection limit reached",
                now,
            );
        }
        // Sessions, online and offline, are bounded too: a client that would start one more
        // is refused before anything changes (one coming back to its own is not).
        let new_session =
            connect.client_id.is_empty() || !self.by_client_id.contains_key(&connect.client_id);
        if new_session && self.sessions.len() >= self.settings.max_sessions {
            self.stats.sessions_refused += 1;
            return self.refuse(
                conn,
                ReasonCode::QUOTA_EXCEEDED,
                "session limit reached ([limits] max_sessions)",
                now,
            );
        }
        let assigned = connect.client_id.is_empty();
        if assigned {
            connect.client_id = self.assign_client_id();
        }
        let client_id = connect.client_id.clone();
        let v5 = connect.protocol.is_v5();
        if let Err(why) = self.authorize_connect(conn, &connect, &client_id) {
            return self.refuse(conn, ReasonCode::NOT_AUTHORIZED, &why, now);
        }

        let requested_expiry = match connect.properties.get(PropertyId::SessionExpiryInterval) {
            Some(Property::SessionExpiryInterval(secs)) => *secs,
            _ if v5 || connect.clean_start => 0,
            _ => u32::MAX, // A 3.x persistent session.
        };
        let expiry = requested_expiry.min(self.settings.max_session_expiry_interval);
        // A full store takes no new session to keep (one already kept goes on).
        if new_session && expiry > 0 && self.store_full {
            self.stats.sessions_refused += 1;
            return self.refuse(
                conn,
                ReasonCode::QUOTA_EXCEEDED,
                "the store is full ([storage] max_disk_bytes)",
                now,
            );
        }
        let max_ka = self.settings.max_keep_alive;
        let server_keep_alive =
            (v5 && max_ka > 0 && (connect.keep_alive == 0 || connect.keep_alive > max_ka))
                .then_some(max_ka);
        let keep_alive = server_keep_alive.unwrap_or(connect.keep_alive);
        let properties = if v5 {
            let mut p = self.connack_properties(
                &connect,
                assigned,
                requested_expiry,
                expiry,
                server_keep_alive,
            );
            for property in auth_properties.iter() {
                p.push(property.clone());
            }
            // A successful CONNACK names the CONNECT's method [MQTT-4.12.0-5], whoever
            // carried the exchange (a hook's answer carries no properties).
            if auth_properties
                .get(PropertyId::AuthenticationMethod)
                .is_none()
            {
                if let Some(m) = connect.properties.get(PropertyId::AuthenticationMethod) {
                    p.push(m.clone());
                }
            }
            p
        } else {
            Properties::new()
        };

        // The CONNACK must fit the client's Maximum Packet Size [MQTT-3.1.2-24], and none of
        // its properties can be left out without changing the rules the client must follow.
        // A client whose limit is too small for it is refused with the smallest CONNACK there
        // is, before anything about its session changes.
        let client_max = match connect.properties.get(PropertyId::MaximumPacketSize) {
            Some(Property::MaximumPacketSize(max)) => *max as usize,
            _ => usize::MAX,
        };
        let connack_len = Packet::ConnAck(ConnAck {
            session_present: true,
            code: ReasonCode::SUCCESS,
            properties: properties.clone(),
        })
        .encoded_len(connect.protocol)
        .unwrap_or(usize::MAX);
        if connack_len > client_max {
            let c = self.conns.get_mut(&conn).expect("connection exists");
            // Even the refusal must fit, or the connection just closes.
            c.client_max_packet_size = u32::try_from(client_max).unwrap_or(u32::MAX);
            return self.refuse(
                conn,
                ReasonCode::PACKET_TOO_LARGE,
                "the client's Maximum Packet Size cannot hold CONNACK",
                now,
            );
        }

        // Session takeover: the old connection is told 0x8E and closed [MQTT-3.1.4-3]
        // (3.1.1: [MQTT-3.1.4-2]); its will follows the usual rules.
        if let Some(old) = self
            .by_client_id
            .get(&client_id)
            .and_then(|sid| self.sessions[sid].conn)
        {
            // Other CONNECTs waiting for the old connection wait for this one now.
            if let Some(waiting) = self.takeovers.remove(&old) {
                self.out.push(Output::Drain { conn });
                self.takeovers.entry(conn).or_default().extend(waiting);
            }
            tracing::info!(conn = %old, client_id = %client_id, "session taken over by {conn}");
            self.close(
                old,
                CloseReason::Server(ReasonCode::SESSION_TAKEN_OVER),
                now,
            );
        }

        // Clean Start discards any existing session [MQTT-3.1.2-4]; otherwise an existing one
        // is resumed [MQTT-3.1.2-5] and a will it still holds is not sent [MQTT-3.1.3-9].
        let existing = self.by_client_id.get(&client_id).copied();
        let (sid, session_present) = match existing {
            Some(sid) if connect.clean_start => {
                self.end_session(sid, now);
                (self.new_session(&connect), false)
            }
            Some(sid) => (sid, true),
            None => (self.new_session(&connect), false),
        };

        let id = client_id.clone();
        self.notice(|| match session_present {
            true => Notice::SessionResumed { client_id: id },
            false => Notice::SessionCreated { client_id: id },
        });
        let s = self.sessions.get_mut(&sid).expect("session exists");
        s.conn = Some(conn);
        // A new connection, with nothing waiting to be written yet.
        s.congested = false;
        s.protocol = connect.protocol;
        s.expiry_interval = expiry;
        s.expires_at = None;
        s.generation += 1;
        s.pending_will = None;

        let c = self.conns.get_mut(&conn).expect("connection exists");
        // The connect deadline's timer is still pending; it checks the keep alive when it
        // fires, and schedules the next check then.
        let pending_timer = c.keep_alive_deadline();
        c.phase = Phase::Connected { session: sid };
        c.client_id = client_id.clone();
        c.keep_alive = (keep_alive > 0).then(|| Duration::from_secs(u64::from(keep_alive)));
        c.connect_session_expiry = requested_expiry;
        for p in connect.properties.iter() {
            match p {
                Property::ReceiveMaximum(v) => c.client_receive_maximum = *v,
                Property::MaximumPacketSize(v) => c.client_max_packet_size = *v,
                Property::TopicAliasMaximum(v) => c.client_topic_alias_maximum = *v,
                Property::RequestProblemInformation(v) => c.request_problem_information = *v == 1,
                _ => {}
            }
        }
        c.will = connect.will.take().map(Box::new);
        self.connected += 1;
        // Kept (with its will) before CONNACK goes: Session Present is a promise too.
        self.record_session(sid, now);
        let listener = self.conns[&conn].info.listener;
        self.admission.connected(listener);

        let ack = ConnAck {
            session_present,
            code: ReasonCode::SUCCESS,
            properties,
        };
        self.send(conn, &Packet::ConnAck(ack));
        self.stats.connections_accepted += 1;
        let peer = super::admission::peer_text(&self.conns[&conn].info);
        tracing::info!(conn = %conn, client_id = %client_id, protocol = %connect.protocol,
            %peer, session_present, keep_alive, "client connected");
        if let Some(deadline) = self.conns[&conn].keep_alive_deadline() {
            // One timer entry per connection is enough: a second only if the keep alive runs
            // out before the pending one fires.
            if pending_timer.is_none_or(|pending| deadline < pending) {
                self.schedule(deadline, Timer::Conn(conn));
            }
        }
        self.resume(conn, sid, now);
    }

    fn new_session(&mut self, connect: &Connect) -> SubscriberId {
        let sid = SubscriberId(self.next_session);
        self.next_session += 1;
        let session = Session::new(connect.client_id.clone(), connect.protocol);
        self.sessions.insert(sid, Box::new(session));
        self.by_client_id.insert(connect.client_id.clone(), sid);
        sid
    }

    /// A client identifier no session uses: the server's own for a client that sent none
    /// [MQTT-3.1.3-6].
    fn assign_client_id(&mut self) -> bytestring::ByteString {
        loop {
            let id: bytestring::ByteString = format!("tern-{:016x}", self.next_assigned_id).into();
            self.next_assigned_id += 1;
            if !self.by_client_id.contains_key(&id) {
                return id;
            }
        }
    }

    /// What a 5.0 CONNACK tells the client about the server's limits and choices. Values
    /// equal to the specification's defaults are left out.
    fn connack_properties(
        &self,
        connect: &Connect,
        assigned: bool,
        requested_expiry: u32,
        expiry: u32,
        server_keep_alive: Option<u16>,
    ) -> Properties {
        let s = &self.settings;
        let mut p = Properties::new();
        if s.receive_maximum != u16::MAX {
            p.push(Property::ReceiveMaximum(s.receive_maximum));
        }
        p.push(Property::MaximumPacketSize(s.max_packet_size));
        if s.topic_alias_maximum > 0 {
            p.push(Property::TopicAliasMaximum(s.topic_alias_maximum));
        }
        if !s.retain_available {
            p.push(Property::RetainAvailable(0));
        }
        if s.maximum_qos != QoS::ExactlyOnce {
            p.push(Property::MaximumQoS(s.maximum_qos as u8));
        }
        if !s.wildcard_subscriptions {
            p.push(Property::WildcardSubscriptionAvailable(0));
        }
        if !s.subscription_identifiers {
            p.push(Property::SubscriptionIdentifierAvailable(0));
        }
        if !s.shared_subscriptions {
            p.push(Property::SharedSubscriptionAvailable(0));
        }
        if assigned {
            // [MQTT-3.1.3-7]
            p.push(Property::AssignedClientIdentifier(
                connect.client_id.clone(),
            ));
        }
        if let Some(ka) = server_keep_alive {
            p.push(Property::ServerKeepAlive(ka));
        }
        if expiry != requested_expiry {
            p.push(Property::SessionExpiryInterval(expiry));
        }
        if let Some(Property::RequestResponseInformation(1)) = connect
            .properties
            .get(PropertyId::RequestResponseInformation)
        {
            // A prefix the client may use for response topics; 0 asks for none [MQTT-3.1.2-28].
            p.push(Property::ResponseInformation(
                format!("response/{}/", connect.client_id).into(),
            ));
        }
        p
    }
}
