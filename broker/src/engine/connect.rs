//! CONNECT, CONNACK and the AUTH exchange before it (sections 3.1, 3.2, 4.12).

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::auth::AuthDecision;
use super::conn::{ConnId, Phase};
use super::conn_info::CertLogin;
use super::session::Session;
use super::{CloseReason, Engine, Output, Timer};
use crate::codec::{
    Auth, ConnAck, Connect, DecodeError, Packet, Properties, Property, PropertyId, Protocol, QoS,
    ReasonCode,
};
use crate::router::SubscriberId;

/// The most client identifier bytes MQTT 3.1 allows.
const V3_1_CLIENT_ID_MAX: usize = 23;

impl Engine {
    pub(super) fn handle_connect(&mut self, conn: ConnId, mut connect: Connect, now: Instant) {
        let c = self.conns.get_mut(&conn).expect("connection exists");
        if c.pending_connect.is_some() {
            // A CONNECT in the middle of an AUTH exchange.
            return self.refuse(
                conn,
                ReasonCode::PROTOCOL_ERROR,
                "a second CONNECT [MQTT-3.1.0-2]",
                now,
            );
        }
        c.protocol = connect.protocol;
        c.client_id = connect.client_id.clone();
        if let Some(code) = c.refused_on_open {
            // The listener's admission rules refused it at open, and logged why.
            return self.refuse_quietly(conn, code, now);
        }
        // A listener may accept only some versions; the refusal is the one for a protocol
        // level the server does not support [MQTT-3.1.2-2].
        if !c.info.protocols.contains(connect.protocol) {
            let why = format!(
                "{} is not enabled on this listener (it accepts {})",
                connect.protocol, c.info.protocols
            );
            return self.refuse(conn, ReasonCode::UNSUPPORTED_PROTOCOL_VERSION, &why, now);
        }
        if let Err(code) = self.check_client_id(&connect) {
            return self.refuse(conn, code, "client identifier not accepted", now);
        }
        // Authentication Data without an Authentication Method is a Protocol Error (section
        // 3.1.2.11.10): the CONNECT does not match section 3.1 [MQTT-3.1.4-1].
        if connect
            .properties
            .get(PropertyId::AuthenticationData)
            .is_some()
            && connect
                .properties
                .get(PropertyId::AuthenticationMethod)
                .is_none()
        {
            return self.refuse(
                conn,
                ReasonCode::PROTOCOL_ERROR,
                "Authentication Data without Authentication Method",
                now,
            );
        }
        if let Some(will) = &connect.will {
            // A will the server could not publish as asked is refused up front: QoS above
            // Maximum QoS [MQTT-3.2.2-12], or retained when retain is off [MQTT-3.2.2-13].
            if will.qos > self.settings.maximum_qos {
                return self.refuse(
                    conn,
                    ReasonCode::QOS_NOT_SUPPORTED,
                    "Will QoS too high",
                    now,
                );
            }
            if will.retain && !self.settings.retain_available {
                return self.refuse(
                    conn,
                    ReasonCode::RETAIN_NOT_SUPPORTED,
                    "Will Retain unsupported",
                    now,
                );
            }
        }
        let decision = match &self.conns[&conn].info.cert_login {
            CertLogin::Off => match self.listener_anonymous_decision(conn, &connect) {
                Some(decision) => decision,
                None => self.authenticator.connect(conn, &connect),
            },
            // The TLS layer verified the certificate: that is the authentication.
            CertLogin::User(user) => {
                if connect
                    .properties
                    .get(PropertyId::AuthenticationMethod)
                    .is_some()
                {
                    return self.refuse(
                        conn,
                        ReasonCode::BAD_AUTHENTICATION_METHOD,
                        "this listener authenticates by client certificate",
                        now,
                    );
                }
                connect.username = Some(user.clone());
                connect.password = None;
                AuthDecision::Accept
            }
            CertLogin::Missing(field) => {
                let why = format!("the client certificate has no {field} to use as user name");
                return self.refuse(conn, ReasonCode::NOT_AUTHORIZED, &why, now);
            }
        };
        self.decide(conn, connect, decision, now);
    }

    /// An AUTH while enhanced authentication is under way.
    pub(super) fn handle_auth_during_connect(&mut self, conn: ConnId, auth: Auth, now: Instant) {
        let c = self.conns.get_mut(&conn).expect("connection exists");
        let Some(connect) = c.pending_connect.take() else {
            tracing::info!(conn = %conn, "closed: AUTH before CONNECT [MQTT-3.1.0-1]");
            return self.close(conn, CloseReason::Transport, now);
        };
        if auth.reason != ReasonCode::CONTINUE_AUTHENTICATION {
            return self.refuse(
                conn,
                ReasonCode::PROTOCOL_ERROR,
                "AUTH reason is not 0x18",
                now,
            );
        }
        let decision = self.authenticator_for(conn).auth(conn, &connect, &auth);
        if !matches!(decision, AuthDecision::Continue(_)) {
            self.exchange_over(conn);
        }
        self.decide(conn, *connect, decision, now);
    }

    fn decide(&mut self, conn: ConnId, connect: Connect, decision: AuthDecision, now: Instant) {
        match decision {
            AuthDecision::Accept => self.accept(conn, connect, Properties::new(), now),
            AuthDecision::AcceptWith(properties) => self.accept(conn, connect, properties, now),
            AuthDecision::AcceptAs(grant) => self.accept_as(conn, connect, *grant, now),
            AuthDecision::Refuse(code) => self.refuse(conn, code, "authentication refused", now),
            AuthDecision::Fail(code) => self.refuse_later(conn, code, now),
            AuthDecision::Continue(properties) if connect.protocol.is_v5() => {
                // The AUTH must fit the client's Maximum Packet Size [MQTT-3.1.2-24]; it
                // carries no Reason String or User Property that could be left out
                // [MQTT-3.15.2-2] [MQTT-3.15.2-3], so one too large ends the exchange.
                if let Some(Property::MaximumPacketSize(max)) =
                    connect.properties.get(PropertyId::MaximumPacketSize)
                {
                    let c = self.conns.get_mut(&conn).expect("connection exists");
                    c.client_max_packet_size = *max;
                }
                let auth = Auth {
                    reason: ReasonCode::CONTINUE_AUTHENTICATION,
                    properties,
                };
                if !self.send(conn, &Packet::Auth(auth)) {
                    return self.refuse(
                        conn,
                        ReasonCode::PACKET_TOO_LARGE,
                        "the client's Maximum Packet Size cannot hold AUTH",
                        now,
                    );
                }
                let c = self.conns.get_mut(&conn).expect("connection exists");
                c.pending_connect = Some(Box::new(connect));
            }
            AuthDecision::Continue(_) => self.refuse(
                conn,
                ReasonCode::BAD_AUTHENTICATION_METHOD,
                "no AUTH in 3.x",
                now,
            ),
        }
    }

    /// The client identifier rules of each version: 3.1 allows 1 to 23 bytes; 3.1.1 allows
    /// a zero-length one only with a clean session [MQTT-3.1.3-8]; 5.0 assigns one to a
    /// zero-length identifier [MQTT-3.1.3-6].
    fn check_client_id(&self, connect: &Connect) -> Result<(), ReasonCode> {
        let len = connect.client_id.len();
        let refused = ReasonCode::CLIENT_IDENTIFIER_NOT_VALID;
        let ok = match connect.protocol {
            Protocol::V3_1 => (1..=V3_1_CLIENT_ID_MAX).contains(&len),
            Protocol::V3_1_1 if len == 0 => connect.clean_start && self.settings.assign_client_ids,
            Protocol::V5 if len == 0 => self.settings.assign_client_ids,
            _ => true,
        };
        if ok && len <= self.settings.max_client_id_len {
            Ok(())
        } else {
            Err(refused)
        }
    }

    /// Sends CONNACK with a refusal and closes. A non-zero code never comes with Session
    /// Present [MQTT-3.2.2-6] (3.1.1: [MQTT-3.2.2-4]) and is followed by the close
    /// [MQTT-3.2.2-7] (3.1.1: [MQTT-3.2.2-5]).
    fn refuse(&mut self, conn: ConnId, code: ReasonCode, why: &str, now: Instant) {
        let c = &self.conns[&conn];
        tracing::info!(conn = %conn, client_id = %c.client_id, reason = ?code, "connection refused: {why}");
        self.send(conn, &Packet::ConnAck(ConnAck::new(code)));
        self.close(conn, CloseReason::Transport, now);
    }

    /// A login whose credentials are wrong: CONNACK with `code` comes after the failed-login
    /// delay, through a timer, so that the engine and every other connection carry on
    /// meanwhile; nothing the client sends before then is processed.
    fn refuse_later(&mut self, conn: ConnId, code: ReasonCode, now: Instant) {
        let delay = self.settings.failed_login_delay;
        if delay.is_zero() {
            return self.refuse(conn, code, "login failed", now);
        }
        let c = self.conns.get_mut(&conn).expect("connection exists");
        c.refusal = Some(code);
        c.pending_connect = None;
        tracing::debug!(conn = %conn, reason = ?code, "login failed; refusing in {delay:?}");
        self.schedule(now + delay, Timer::Refuse(conn));
    }

    /// The failed-login delay of `conn` is over: its refusal is sent.
    pub(super) fn refusal_timer(&mut self, conn: ConnId, now: Instant) {
        if let Some(code) = self.conns.get(&conn).and_then(|c| c.refusal) {
            self.refuse(conn, code, "login failed", now);
        }
    }

    /// A CONNECT that did not decode. A wrong protocol level is answered with the return code
    /// every version reads, 3.1.1's 0x01 (5.0: 0x84) [MQTT-3.1.2-2]; other errors close the
    /// connection, after a CONNACK with the reason code for a 5.0 client (section 4.13.1) and
    /// without one for 3.x [MQTT-3.1.4-1].
    pub(super) fn refuse_bad_connect(&mut self, conn: ConnId, error: &DecodeError, now: Instant) {
        use crate::codec::Violation;
        match &error.violation {
            Violation::UnsupportedProtocolLevel(_) => {
                let frame = Bytes::from_static(&[0x20, 0x02, 0x00, 0x01]);
                self.out.push(Output::Send {
                    conn,
                    frame,
                    droppable: false,
                });
            }
            Violation::InvalidProtocolName(_) => {}
            // Found in the fixed header, before the CONNECT says which protocol it speaks
            // (`error.protocol` is only the reader's guess): a 3.x client must get no CONNACK
            // [MQTT-3.1.4-1] [MQTT-2.2.2-2], and a 5.0 one only may, so none is sent.
            Violation::ReservedFlags { .. }
            | Violation::PacketTooLarge { .. }
            | Violation::RemainingLengthTooLong => {}
            _ if error.protocol.is_v5() => {
                let c = self.conns.get_mut(&conn).expect("connection exists");
                c.protocol = Protocol::V5;
                self.send(conn, &Packet::ConnAck(ConnAck::new(error.reason_code())));
            }
            _ => {}
        }
        self.close(conn, CloseReason::Transport, now);
    }

    /// Accepts a CONNECT; `auth_properties` (the outcome of an AUTH exchange) go into a 5.0
    /// CONNACK.
    pub(super) fn accept(
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

        let s = self.sessions.get_mut(&sid).expect("session exists");
        s.conn = Some(conn);
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
        let listener = self.conns[&conn].info.listener;
        self.admission.connected(listener);

        let ack = ConnAck {
            session_present,
            code: ReasonCode::SUCCESS,
            properties,
        };
        self.send(conn, &Packet::ConnAck(ack));
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
