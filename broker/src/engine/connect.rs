//! CONNECT and the AUTH exchange before CONNACK (sections 3.1, 4.12): what a CONNECT must be,
//! who may connect, and refusals (at once, or after the failed-login delay). An accepted
//! CONNECT continues in `accept`.

use std::time::Instant;

use bytes::Bytes;

use super::auth::{AuthDecision, Grant};
use super::conn::ConnId;
use super::conn_info::CertLogin;
use super::hooks::ConnectVerdict;
use super::{CloseReason, Engine, Output, Timer};
use crate::codec::{
    Auth, ConnAck, Connect, DecodeError, Packet, Properties, Property, PropertyId, Protocol,
    ReasonCode,
};

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
            // The hooks first: they may decide, or hand the CONNECT on (see `hooks`).
            CertLogin::Off if self.interest().connect => return self.ask_connect(conn, connect),
            CertLogin::Off => self.own_authentication(conn, &connect, now),
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

    /// The broker's own authentication: the listener's anonymous rule, then the
    /// authenticator (password file, JWT, SCRAM).
    fn own_authentication(
        &mut self,
        conn: ConnId,
        connect: &Connect,
        now: Instant,
    ) -> AuthDecision {
        match self.listener_anonymous_decision(conn, connect) {
            Some(decision) => decision,
            None => {
                let wall = self.wall_clock(now);
                self.authenticator.connect(conn, connect, wall)
            }
        }
    }

    /// The hooks answered about a CONNECT (or an AUTH of an exchange they carry on).
    pub(super) fn connect_answered(
        &mut self,
        conn: ConnId,
        connect: Connect,
        verdict: ConnectVerdict,
        mid_exchange: bool,
        now: Instant,
    ) {
        let decision = match verdict {
            ConnectVerdict::Allow { username: None } => AuthDecision::Accept,
            ConnectVerdict::Allow { username } => AuthDecision::AcceptAs(Box::new(Grant {
                username,
                ..Grant::default()
            })),
            ConnectVerdict::Deny(code) => AuthDecision::Fail(refusal(code)),
            // An exchange a hook began is the hook's to finish.
            ConnectVerdict::Ignore if mid_exchange => {
                AuthDecision::Fail(ReasonCode::BAD_AUTHENTICATION_METHOD)
            }
            ConnectVerdict::Ignore => self.own_authentication(conn, &connect, now),
            ConnectVerdict::Continue(data) => {
                let mut properties = Properties::new();
                if let Some(Property::AuthenticationMethod(m)) =
                    connect.properties.get(PropertyId::AuthenticationMethod)
                {
                    properties.push(Property::AuthenticationMethod(m.clone()));
                }
                if let Some(data) = data {
                    properties.push(Property::AuthenticationData(data));
                }
                self.hook_exchanges.insert(conn);
                AuthDecision::Continue(properties)
            }
        };
        if !matches!(decision, AuthDecision::Continue(_)) {
            self.hook_exchanges.remove(&conn);
        }
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
        self.auth_step(conn, connect, &auth, now);
    }

    /// The client's AUTH 0x18 in an exchange under way (at CONNECT, or a re-authentication
    /// in `reauth`): to the hook that carries it, or to the authenticator that began it.
    pub(super) fn auth_step(
        &mut self,
        conn: ConnId,
        connect: Box<Connect>,
        auth: &Auth,
        now: Instant,
    ) {
        if self.hook_exchanges.contains(&conn) {
            let data = match auth.properties.get(PropertyId::AuthenticationData) {
                Some(Property::AuthenticationData(d)) => Some(d.clone()),
                _ => None,
            };
            return self.ask_auth(conn, connect, data);
        }
        let decision = self.authenticator_for(conn).auth(conn, &connect, auth);
        if !matches!(decision, AuthDecision::Continue(_)) {
            self.exchange_over(conn);
        }
        self.decide(conn, *connect, decision, now);
    }

    pub(super) fn decide(
        &mut self,
        conn: ConnId,
        connect: Connect,
        decision: AuthDecision,
        now: Instant,
    ) {
        if self.conns[&conn].session().is_some() {
            // A hook's or a check's answer in a re-authentication (see `reauth`).
            return self.reauth_decided(conn, connect, decision, now);
        }
        match decision {
            AuthDecision::Offload(check) => self.offload(conn, connect, check),
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
    pub(super) fn refuse(&mut self, conn: ConnId, code: ReasonCode, why: &str, now: Instant) {
        let c = &self.conns[&conn];
        if c.session().is_some() {
            // A re-authentication: CONNACK is long gone (see `reauth`).
            return self.reauth_failed(conn, code, why, now);
        }
        self.stats.refused(code);
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
        self.stats.refused(error.reason_code());
        match &error.violation {
            Violation::UnsupportedProtocolLevel(_) => {
                let frame = Bytes::from_static(&[0x20, 0x02, 0x00, 0x01]);
                self.out.push(Output::Send {
                    conn,
                    frame,
                    droppable: false,
                    early: false,
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
}

/// A hook's refusal as a CONNACK reason: an error code, or 0x87 Not authorized if it gave
/// a success code by mistake.
fn refusal(code: ReasonCode) -> ReasonCode {
    match code.is_error() {
        true => code,
        false => ReasonCode::NOT_AUTHORIZED,
    }
}
