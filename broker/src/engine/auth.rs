//! The authentication extension point: who may connect, and the AUTH exchange of MQTT 5.0
//! enhanced authentication (section 4.12).
//!
//! The engine asks an [`Authenticator`] about every CONNECT and, while an exchange is under
//! way, every AUTH packet, naming the connection so that an authenticator can keep the state
//! of an exchange per connection; it is told when a connection is gone, so that such state
//! never outlives it. Methods (passwords, JWT, SCRAM) plug in here: the built-in
//! [`AllowAnonymous`] knows no enhanced method; the adapters in `crate::auth` check a
//! password file and run SCRAM-SHA-256.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytestring::ByteString;

use super::conn::ConnId;
use super::policy::TopicLimits;
use crate::codec::{Auth, Connect, Properties, ReasonCode};

/// The answer to a CONNECT or an AUTH.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthDecision {
    /// Let the client in.
    Accept,
    /// Let the client in, with these properties added to CONNACK: the Authentication Method
    /// and the final Authentication Data of an enhanced exchange [MQTT-4.12.0-5].
    AcceptWith(Properties),
    /// Refuse now with this CONNACK reason (mapped to a 3.x return code for 3.x clients).
    Refuse(ReasonCode),
    /// The credentials were checked and are wrong: refuse with this CONNACK reason after the
    /// failed-login delay (`Settings::failed_login_delay`), so that guessing is slow.
    Fail(ReasonCode),
    /// Send AUTH 0x18 Continue authentication with these properties (Authentication Method
    /// and Data) and wait for the client's AUTH.
    Continue(Properties),
    /// Let the client in with what its credentials say about it (a JWT's claims).
    AcceptAs(Box<Grant>),
    /// The answer takes work the engine must not do (a password's PBKDF2, a token's
    /// signature): run this check elsewhere and bring its decision back
    /// ([`super::Output::Check`], [`super::Engine::checked`]). The CONNECT waits meanwhile;
    /// every other client goes on.
    Offload(Offloaded),
}

impl AuthDecision {
    /// The decision with any offloaded check run here, at once: for tests and tools that
    /// drive an authenticator without a transport.
    pub fn settle(self) -> AuthDecision {
        match self {
            AuthDecision::Offload(Offloaded(check)) => check.run().settle(),
            decision => decision,
        }
    }
}

/// Work an authenticator hands out of the engine: it owns what it needs (shared credentials,
/// the password given), and gives the decision.
pub trait Check: Send + 'static {
    /// Does the work (on a blocking thread: it may take milliseconds) and decides. An
    /// offloaded check must not offload again.
    fn run(self: Box<Self>) -> AuthDecision;
}

/// A check on its way out of the engine.
pub struct Offloaded(pub Box<dyn Check>);

impl std::fmt::Debug for Offloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Offloaded(..)")
    }
}

/// The same check, not an equal one: a check is work, not a value.
impl PartialEq for Offloaded {
    fn eq(&self, other: &Offloaded) -> bool {
        std::ptr::addr_eq(&*self.0, &*other.0)
    }
}

impl Eq for Offloaded {}

/// What credentials vouch for beyond "let in": who the client is, what it may touch, and
/// for how long.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    /// The user name the credentials prove (a JWT's `sub`): it becomes the connection's user
    /// name, for a CONNECT that carried none as for one that carried the same.
    pub username: Option<ByteString>,
    /// Topics the connection is limited to, on top of the ACL.
    pub topics: Option<Arc<TopicLimits>>,
    /// How long the credentials stay valid from now: the connection is closed then, with
    /// DISCONNECT 0xA0 Maximum connect time for a 5.0 client.
    pub valid_for: Option<Duration>,
    /// What the successful CONNACK (or the AUTH 0x00 of a re-authentication) carries: the
    /// Authentication Method and final Authentication Data of an enhanced exchange
    /// [MQTT-4.12.0-5].
    pub properties: Properties,
}

/// Decides who may connect. It runs inside the engine, so it must not block for long.
pub trait Authenticator: Send {
    /// A CONNECT has arrived on `conn` at wall-clock time `now` (what credentials with an
    /// expiry are checked against: the engine reads no clock, it passes on the one it is
    /// given). An Authentication Method in its properties starts enhanced authentication.
    fn connect(&mut self, conn: ConnId, connect: &Connect, now: SystemTime) -> AuthDecision;
    /// The client on `conn` answered a [`AuthDecision::Continue`] with this AUTH.
    fn auth(&mut self, conn: ConnId, connect: &Connect, auth: &Auth) -> AuthDecision;
    /// `conn` is gone (refused, accepted and later closed, or dropped mid-exchange): forget
    /// anything kept for it.
    fn closed(&mut self, conn: ConnId) {
        let _ = conn;
    }
}

/// The default without a password file: anyone may connect when `.0` is true (as Mosquitto's
/// local mode); no one when false. No enhanced method is known, so a CONNECT naming one is
/// refused with 0x8C Bad authentication method.
#[derive(Clone, Copy, Debug)]
pub struct AllowAnonymous(pub bool);

impl Authenticator for AllowAnonymous {
    fn connect(&mut self, _: ConnId, connect: &Connect, _: SystemTime) -> AuthDecision {
        if connect
            .properties
            .get(crate::codec::PropertyId::AuthenticationMethod)
            .is_some()
        {
            AuthDecision::Refuse(ReasonCode::BAD_AUTHENTICATION_METHOD)
        } else if self.0 {
            AuthDecision::Accept
        } else {
            AuthDecision::Refuse(ReasonCode::NOT_AUTHORIZED)
        }
    }

    fn auth(&mut self, _: ConnId, _: &Connect, _: &Auth) -> AuthDecision {
        AuthDecision::Refuse(ReasonCode::BAD_AUTHENTICATION_METHOD)
    }
}
