//! Re-authentication (MQTT 5.0 section 4.12.1): a client that logged in with an
//! Authentication Method may, at any time after CONNACK, authenticate its connection again
//! with AUTH 0x19 (fresh credentials, a token about to expire).
//!
//! - The AUTH must name the method the client logged in with [MQTT-4.12.1-1]. Another method,
//!   none, an AUTH from a client that logged in without a method [MQTT-4.12.0-7], an AUTH
//!   0x18 with no exchange under way or a second 0x19 during one: Protocol Error, DISCONNECT
//!   0x82.
//! - The exchange is decided as a CONNECT's is: the hooks first ([`Question::Reauth`]), then
//!   the authenticator (SCRAM-SHA-256), with AUTH 0x18 both ways until it is over. Success
//!   is AUTH 0x00 with the method and any final data [MQTT-4.12.0-5].
//! - Meanwhile the connection goes on with its previous authentication (section 4.12.1). It
//!   is paused only while a hook or an offloaded check decides, as at CONNECT.
//! - A failed re-authentication closes the connection, with DISCONNECT 0x87 Not authorized
//!   [MQTT-4.12.1-2]: wrong credentials, a refusal, a hook that timed out. So does one that
//!   proves another user: the session, the ACL and the will belong to the user name the
//!   client logged in as, which the spec lets a server keep (the non-normative comment of
//!   4.12.1).
//! - A success may carry new rights: a grant's topic limits and validity replace the old.
//!
//! While an exchange is under way its state is the connection's `pending_connect`, as during
//! a login: a CONNECT made up of the client's identity and the AUTH's method and data, which
//! is what authenticators and hooks read.
//!
//! [`Question::Reauth`]: super::hooks::Question::Reauth

use std::time::Instant;

use super::auth::{AuthDecision, Grant};
use super::conn::ConnId;
use super::Engine;
use crate::codec::{Auth, Connect, Packet, Properties, Property, PropertyId, ReasonCode};

impl Engine {
    /// An AUTH from a connected client.
    pub(super) fn handle_reauth(&mut self, conn: ConnId, auth: Auth, now: Instant) {
        let c = &self.conns[&conn];
        let Some(method) = c.rights.method().cloned() else {
            return self.protocol_error(
                conn,
                "[MQTT-4.12.0-7] AUTH from a client that logged in without an Authentication Method",
                now,
            );
        };
        match auth.properties.get(PropertyId::AuthenticationMethod) {
            Some(Property::AuthenticationMethod(m)) if *m == method => {}
            _ => {
                return self.protocol_error(
                    conn,
                    "[MQTT-4.12.1-1] AUTH must name the Authentication Method of the CONNECT",
                    now,
                )
            }
        }
        let under_way = c.pending_connect.is_some();
        match (auth.reason, under_way) {
            (ReasonCode::RE_AUTHENTICATE, false) => self.start_reauth(conn, &auth, now),
            (ReasonCode::CONTINUE_AUTHENTICATION, true) => self.continue_reauth(conn, auth, now),
            (ReasonCode::RE_AUTHENTICATE, true) => self.protocol_error(
                conn,
                "[MQTT-4.12.1-1] AUTH 0x19 while a re-authentication is under way",
                now,
            ),
            (ReasonCode::CONTINUE_AUTHENTICATION, false) => self.protocol_error(
                conn,
                "[MQTT-4.12.0-3] AUTH 0x18 with no authentication under way",
                now,
            ),
            _ => self.protocol_error(conn, "[MQTT-3.15.2-1] a client's AUTH is 0x18 or 0x19", now),
        }
    }

    /// AUTH 0x19: the exchange begins, with the hooks or the broker's own authentication.
    fn start_reauth(&mut self, conn: ConnId, auth: &Auth, now: Instant) {
        let c = &self.conns[&conn];
        // No user name: the one the credentials prove is compared with the client's when
        // the exchange is over (`reauthenticated`).
        let mut connect = Connect::new(c.protocol, c.client_id.clone());
        for p in auth.properties.iter() {
            if let Property::AuthenticationMethod(_) | Property::AuthenticationData(_) = p {
                connect.properties.push(p.clone());
            }
        }
        tracing::debug!(conn = %conn, client_id = %c.client_id, "re-authentication begins");
        if self.interest().connect {
            return self.ask_reauth(conn, connect);
        }
        let wall = self.wall_clock(now);
        let decision = self.authenticator.connect(conn, &connect, wall);
        self.reauth_decided(conn, connect, decision, now);
    }

    /// AUTH 0x18: the client's next step.
    fn continue_reauth(&mut self, conn: ConnId, auth: Auth, now: Instant) {
        let c = self.conns.get_mut(&conn).expect("connection exists");
        let connect = c.pending_connect.take().expect("an exchange under way");
        // `decide`, at its end, hands a connected client's decision to `reauth_decided`.
        self.auth_step(conn, connect, &auth, now);
    }

    /// What the authenticator, a hook or an offloaded check decided about a
    /// re-authentication.
    pub(super) fn reauth_decided(
        &mut self,
        conn: ConnId,
        connect: Connect,
        decision: AuthDecision,
        now: Instant,
    ) {
        match decision {
            AuthDecision::Offload(check) => self.offload(conn, connect, check),
            AuthDecision::Accept => {
                self.reauthenticated(conn, &connect, None, Properties::new(), now)
            }
            AuthDecision::AcceptWith(p) => self.reauthenticated(conn, &connect, None, p, now),
            AuthDecision::AcceptAs(mut grant) => {
                let properties = std::mem::take(&mut grant.properties);
                self.reauthenticated(conn, &connect, Some(*grant), properties, now)
            }
            AuthDecision::Refuse(code) | AuthDecision::Fail(code) => {
                self.reauth_failed(conn, code, "the credentials were refused", now)
            }
            AuthDecision::Continue(properties) => {
                let auth = Auth {
                    reason: ReasonCode::CONTINUE_AUTHENTICATION,
                    properties,
                };
                // The AUTH must fit the client's Maximum Packet Size [MQTT-3.1.2-24].
                if !self.send(conn, &Packet::Auth(auth)) {
                    self.exchange_over(conn);
                    self.hook_exchanges.remove(&conn);
                    return self.reauth_failed(
                        conn,
                        ReasonCode::PACKET_TOO_LARGE,
                        "the client's Maximum Packet Size cannot hold AUTH",
                        now,
                    );
                }
                let c = self.conns.get_mut(&conn).expect("connection exists");
                c.pending_connect = Some(Box::new(connect));
            }
        }
    }

    /// The re-authentication succeeded: AUTH 0x00, and the credentials' rights, if they
    /// name the user the client already is.
    fn reauthenticated(
        &mut self,
        conn: ConnId,
        connect: &Connect,
        grant: Option<Grant>,
        mut properties: Properties,
        now: Instant,
    ) {
        self.hook_exchanges.remove(&conn);
        let c = &self.conns[&conn];
        let proven = grant.as_ref().and_then(|g| g.username.as_ref());
        if proven.is_some_and(|user| Some(user) != c.rights.username.as_ref()) {
            return self.reauth_failed(
                conn,
                ReasonCode::NOT_AUTHORIZED,
                "the credentials are another user's",
                now,
            );
        }
        if properties.get(PropertyId::AuthenticationMethod).is_none() {
            if let Some(Property::AuthenticationMethod(m)) =
                connect.properties.get(PropertyId::AuthenticationMethod)
            {
                properties.push(Property::AuthenticationMethod(m.clone()));
            }
        }
        if let Some(grant) = grant {
            self.grant_rights(conn, grant.topics, grant.valid_for, now);
        }
        let auth = Auth {
            reason: ReasonCode::SUCCESS,
            properties,
        };
        if !self.send(conn, &Packet::Auth(auth)) {
            return self.reauth_failed(
                conn,
                ReasonCode::PACKET_TOO_LARGE,
                "the client's Maximum Packet Size cannot hold AUTH",
                now,
            );
        }
        self.stats.reauthentications += 1;
        let c = &self.conns[&conn];
        tracing::info!(conn = %conn, client_id = %c.client_id, user = ?c.rights.username,
            "re-authenticated");
    }

    /// The re-authentication failed: the connection is closed, with DISCONNECT 0x87 Not
    /// authorized (0x82 for a Protocol Error in the exchange, 0x95 for an AUTH the client's
    /// limit cannot hold) [MQTT-4.12.1-2].
    pub(super) fn reauth_failed(
        &mut self,
        conn: ConnId,
        code: ReasonCode,
        why: &str,
        now: Instant,
    ) {
        self.stats.reauth_failures += 1;
        let reason = match code {
            ReasonCode::PROTOCOL_ERROR | ReasonCode::PACKET_TOO_LARGE => code,
            _ => ReasonCode::NOT_AUTHORIZED,
        };
        let c = &self.conns[&conn];
        tracing::info!(conn = %conn, client_id = %c.client_id, user = ?c.rights.username,
            decided = ?code, "closed: re-authentication failed: {why} [MQTT-4.12.1-2]");
        let text = format!("re-authentication failed: {why}");
        self.close_with(conn, reason, Some(text), now);
    }
}
