//! Authorization in the engine: the ACL and a connection's credential limits applied to
//! PUBLISH, SUBSCRIBE and wills, the per-connection publish limits, and the reload of the
//! rules and the authenticator (SIGHUP), which reaches the engine as an input like any other.
//!
//! What happens when something is not allowed:
//!
//! - **SUBSCRIBE** to a filter that is not readable in full (an [`Authorizer`] decides;
//!   the ACL file's rules are in `crate::auth::acl`): that filter's SUBACK code is 0x87
//!   Not authorized (3.1.1: 0x80 Failure); MQTT 3.1 has no
//!   failure code, so the connection is closed, as for the deny list.
//! - **PUBLISH** to a topic that is not writable: the message is dropped. A 5.0 client is told
//!   with PUBACK or PUBREC 0x87 Not authorized (a PUBREC with an error code ends the QoS 2 flow,
//!   section 4.3.3); QoS 0 has no acknowledgement, so nothing is said. A 3.x client cannot be
//!   told: of the two answers [MQTT-3.3.5-2] allows, the normal acknowledgement (PUBACK, or
//!   PUBREC then PUBCOMP) is chosen, so that a client with one forbidden topic keeps its
//!   connection and its other traffic.
//! - **Will** to a topic the client may not write: the CONNECT is refused with CONNACK 0x87
//!   Not authorized (3.x: 0x05), as the authorization checks of [MQTT-3.1.4-2] allow, so the
//!   client learns at once that its will could never be published. The will is checked again
//!   when the connection ends, against the rules then in force, and dropped (one log line) if
//!   a reload has taken the right away.
//! - **Credentials that expire** (a JWT's `exp`): the connection is closed when they do, with
//!   DISCONNECT 0xA0 Maximum connect time for a 5.0 client.
//! - **Publish rate or bandwidth** above `limits.max_publish_rate` or
//!   `limits.max_publish_bandwidth` (see [`super::rate`]): the PUBLISH is not processed and
//!   the connection is closed, with DISCONNECT 0x96 Message rate too high for a 5.0 client
//!   (both limits; the Reason String says which), and its will is published.

use std::sync::Arc;
use std::time::Instant;

use bytestring::ByteString;

use super::auth::{Authenticator, Grant};
use super::conn::{Conn, ConnId};
use super::policy::{Authorizer, TopicLimits, Who};
use super::rate::Exceeded;
use super::{Engine, Timer};
use crate::codec::{Connect, Property, PropertyId, ReasonCode, TopicFilter, Will};

/// What a connection may do beyond its ACL section: the user name it is known by and the
/// limits its credentials carry.
#[derive(Clone, Debug, Default)]
pub struct Rights {
    /// The user name that stands for the client in the ACL (`user`, `%u`).
    pub username: Option<ByteString>,
    /// PUBLISHes refused so far: the first is logged at info level, the rest at debug.
    pub denied: u32,
    /// The terms of its login, for the few connections that have any (boxed).
    pub terms: Option<Box<Terms>>,
}

/// What a login may carry beyond a user name.
#[derive(Clone, Debug, Default)]
pub struct Terms {
    /// The topics its credentials limit it to.
    pub topics: Option<Arc<TopicLimits>>,
    /// The Authentication Method the client logged in with: the one a re-authentication
    /// must name [MQTT-4.12.1-1]; `None` if it used none (and so may not re-authenticate).
    pub method: Option<ByteString>,
    /// When the credentials stop being valid (a grant's `valid_for`): a re-authentication
    /// may move it.
    pub valid_until: Option<Instant>,
}

impl Rights {
    /// The Authentication Method of the login, if it had one.
    pub fn method(&self) -> Option<&ByteString> {
        self.terms.as_ref()?.method.as_ref()
    }

    /// The topics its credentials limit it to, if they do.
    pub fn topics(&self) -> Option<&TopicLimits> {
        self.terms.as_ref()?.topics.as_deref()
    }

    fn terms_mut(&mut self) -> &mut Terms {
        self.terms.get_or_insert_with(Box::default)
    }
}

/// An authenticator replaced by a reload, kept until the enhanced authentication exchanges it
/// started are over.
pub(super) struct Retired {
    authenticator: Box<dyn Authenticator>,
    conns: Vec<ConnId>,
}

fn who<'a>(c: &'a Conn, client_id: &'a str) -> Who<'a> {
    Who {
        username: c.rights.username.as_deref(),
        client_id,
        identity: c.info.cert_identity.as_deref(),
        address: c.info.peer.map(|p| super::admission::canonical(p.ip())),
    }
}

impl Engine {
    /// Uses `acl` for SUBSCRIBEs, PUBLISHes and wills from now on (`None`: everything is
    /// allowed). Subscriptions already granted stay.
    pub fn set_acl(&mut self, acl: Option<Arc<dyn Authorizer>>) {
        self.acl = acl;
    }

    /// Asks `authenticator` about every CONNECT from now on. An enhanced authentication
    /// exchange already under way finishes with the authenticator that started it.
    pub fn replace_authenticator(&mut self, authenticator: Box<dyn Authenticator>) {
        let old = std::mem::replace(&mut self.authenticator, authenticator);
        let conns: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.pending_connect.is_some())
            .map(|(id, _)| *id)
            .collect();
        if !conns.is_empty() {
            self.retired.push(Retired {
                authenticator: old,
                conns,
            });
        }
    }

    /// The authenticator of `conn`'s exchange: a retired one if it started it.
    pub(super) fn authenticator_for(&mut self, conn: ConnId) -> &mut dyn Authenticator {
        match self.retired.iter().position(|r| r.conns.contains(&conn)) {
            Some(i) => self.retired[i].authenticator.as_mut(),
            None => self.authenticator.as_mut(),
        }
    }

    /// `conn` is gone: its authenticator forgets it.
    pub(super) fn auth_closed(&mut self, conn: ConnId) {
        self.authenticator.closed(conn);
        for r in &mut self.retired {
            if r.conns.contains(&conn) {
                r.authenticator.closed(conn);
            }
        }
        self.exchange_over(conn);
        self.hook_exchanges.remove(&conn);
    }

    /// The exchange of `conn` is over (or the connection is gone): a retired authenticator
    /// with no exchange left goes.
    pub(super) fn exchange_over(&mut self, conn: ConnId) {
        for r in &mut self.retired {
            r.conns.retain(|c| *c != conn);
        }
        self.retired.retain(|r| !r.conns.is_empty());
    }

    /// A CONNECT accepted with what its credentials say: the proven user name replaces the
    /// CONNECT's, and the topic limits and expiry apply to the connection.
    pub(super) fn accept_as(
        &mut self,
        conn: ConnId,
        mut connect: Connect,
        grant: Grant,
        now: Instant,
    ) {
        if let Some(user) = grant.username {
            connect.username = Some(user);
        }
        self.grant_rights(conn, grant.topics, grant.valid_for, now);
        self.accept(conn, connect, grant.properties, now);
    }

    /// Gives `conn` the topic limits and the validity its credentials carry.
    pub(super) fn grant_rights(
        &mut self,
        conn: ConnId,
        topics: Option<Arc<TopicLimits>>,
        valid_for: Option<std::time::Duration>,
        now: Instant,
    ) {
        let c = self.conns.get_mut(&conn).expect("connection exists");
        if topics.is_some() || valid_for.is_some() || c.rights.terms.is_some() {
            let terms = c.rights.terms_mut();
            terms.topics = topics;
            terms.valid_until = valid_for.map(|v| now + v);
        }
        if let Some(valid_for) = valid_for {
            self.schedule(now + valid_for, Timer::Credentials(conn));
        }
    }

    /// Records who the client is and checks its will, as CONNECT is accepted: `Err` with the
    /// reason to log when the will's topic is not writable.
    pub(super) fn authorize_connect(
        &mut self,
        conn: ConnId,
        connect: &Connect,
        client_id: &str,
    ) -> Result<(), String> {
        let c = self.conns.get_mut(&conn).expect("connection exists");
        c.rights.username = connect.username.clone();
        if let Some(Property::AuthenticationMethod(m)) =
            connect.properties.get(PropertyId::AuthenticationMethod)
        {
            c.rights.terms_mut().method = Some(m.clone());
        }
        let c = &self.conns[&conn];
        match &connect.will {
            Some(will) if !self.may_write(&who(c, client_id), c, will.topic.as_str()) => Err(
                format!("not authorized to publish its will to {}", will.topic),
            ),
            _ => Ok(()),
        }
    }

    /// Whether a will may still be published when its connection ends (the rules may have
    /// been reloaded since CONNECT).
    pub(super) fn will_still_authorized(&self, c: &Conn, will: &Will) -> bool {
        let ok = self.may_write(&who(c, &c.client_id), c, will.topic.as_str());
        if !ok {
            tracing::info!(client_id = %c.client_id, topic = %will.topic,
                "will dropped: no longer authorized to publish to its topic");
        }
        ok
    }

    fn may_write(&self, who: &Who<'_>, c: &Conn, topic: &str) -> bool {
        self.acl
            .as_ref()
            .is_none_or(|acl| acl.may_publish(who, topic))
            && c.rights.topics().is_none_or(|t| t.may_publish(who, topic))
    }

    /// Whether `conn` may publish to `topic`; a refusal is logged (the first at info level).
    pub(super) fn may_publish(&mut self, conn: ConnId, topic: &str) -> bool {
        let c = &self.conns[&conn];
        if self.may_write(&who(c, &c.client_id), c, topic) {
            return true;
        }
        let c = self.conns.get_mut(&conn).expect("connection exists");
        c.rights.denied += 1;
        if c.rights.denied == 1 {
            tracing::info!(conn = %conn, client_id = %c.client_id, topic,
                "PUBLISH not authorized: dropped (further refusals on this connection are logged at debug level)");
        } else {
            tracing::debug!(conn = %conn, client_id = %c.client_id, topic, "PUBLISH not authorized: dropped");
        }
        false
    }

    /// Whether `conn` may subscribe to `filter`: every topic it (or, for a shared
    /// subscription, the filter inside it) matches must be readable.
    pub(super) fn may_subscribe(&self, conn: ConnId, filter: &TopicFilter) -> bool {
        let c = &self.conns[&conn];
        let inner = match filter.shared() {
            Ok(Some(shared)) => shared.filter,
            _ => filter.as_str(),
        };
        let who = who(c, &c.client_id);
        let ok = self
            .acl
            .as_ref()
            .is_none_or(|acl| acl.may_subscribe(&who, inner))
            && c.rights
                .topics()
                .is_none_or(|t| t.may_subscribe(&who, inner));
        if !ok {
            tracing::info!(conn = %conn, client_id = %c.client_id, filter = %filter,
                "SUBSCRIBE not authorized");
        }
        ok
    }

    /// Counts a PUBLISH of `size` bytes against the connection's limits; `Err` (the connection
    /// has been closed) when it goes over one.
    pub(super) fn check_publish_limits(
        &mut self,
        conn: ConnId,
        size: usize,
        now: Instant,
    ) -> Result<(), ()> {
        let (rate, bandwidth) = (
            self.settings.max_publish_rate,
            self.settings.max_publish_bandwidth,
        );
        if rate == 0 && bandwidth == 0 {
            return Ok(());
        }
        let c = self.conns.get_mut(&conn).expect("connection exists");
        let Err(exceeded) = c.limiter.check(rate, bandwidth, size, now) else {
            return Ok(());
        };
        let what = match exceeded {
            Exceeded::Rate(n) => {
                format!("publish rate above {n} messages/s (limits.max_publish_rate)")
            }
            Exceeded::Bandwidth(n) => {
                format!("publish bandwidth above {n} bytes/s (limits.max_publish_bandwidth)")
            }
        };
        tracing::warn!(conn = %conn, client_id = %c.client_id, "closed: {what}");
        self.close_with(conn, ReasonCode::MESSAGE_RATE_TOO_HIGH, Some(what), now);
        Err(())
    }

    /// The credentials of `conn` have expired.
    pub(super) fn credentials_timer(&mut self, conn: ConnId, now: Instant) {
        // A re-authentication may have moved the end of the credentials' validity: this
        // timer is for the deadline it was set for, and a later one has its own.
        let Some(c) = (self.conns.get(&conn))
            .filter(|c| c.session().is_some())
            .filter(|c| {
                let until = c.rights.terms.as_ref().and_then(|t| t.valid_until);
                until.is_some_and(|t| t <= now)
            })
        else {
            return;
        };
        tracing::info!(conn = %conn, client_id = %c.client_id, "closed: credentials expired");
        self.close_with(
            conn,
            ReasonCode::MAXIMUM_CONNECT_TIME,
            Some("credentials expired".into()),
            now,
        );
    }
}
