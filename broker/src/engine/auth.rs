//! The authentication extension point: who may connect, and the AUTH exchange of MQTT 5.0
//! enhanced authentication (section 4.12).
//!
//! The engine asks an [`Authenticator`] about every CONNECT and, while an exchange is under
//! way, every AUTH packet. Methods (passwords, JWT, SCRAM) plug in here; the built-in
//! [`AllowAnonymous`] knows no enhanced method.

use crate::codec::{Auth, Connect, Properties, ReasonCode};

/// The answer to a CONNECT or an AUTH.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthDecision {
    /// Let the client in.
    Accept,
    /// Refuse with this CONNACK reason (mapped to a 3.x return code for 3.x clients).
    Refuse(ReasonCode),
    /// Send AUTH 0x18 Continue authentication with these properties (Authentication Method
    /// and Data) and wait for the client's AUTH.
    Continue(Properties),
}

/// Decides who may connect.
pub trait Authenticator: Send {
    /// A CONNECT has arrived. An Authentication Method in its properties starts enhanced
    /// authentication.
    fn connect(&mut self, connect: &Connect) -> AuthDecision;
    /// The client answered a [`AuthDecision::Continue`] with this AUTH.
    fn auth(&mut self, connect: &Connect, auth: &Auth) -> AuthDecision;
}

/// The embedded default: anyone may connect when `.0` is true (as Mosquitto's local mode);
/// no one when false, since no credential store exists yet. No enhanced method is known, so
/// a CONNECT naming one is refused with 0x8C Bad authentication method.
#[derive(Clone, Copy, Debug)]
pub struct AllowAnonymous(pub bool);

impl Authenticator for AllowAnonymous {
    fn connect(&mut self, connect: &Connect) -> AuthDecision {
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

    fn auth(&mut self, _: &Connect, _: &Auth) -> AuthDecision {
        AuthDecision::Refuse(ReasonCode::BAD_AUTHENTICATION_METHOD)
    }
}
