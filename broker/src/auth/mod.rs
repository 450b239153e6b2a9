//! Authentication and authorization: the password file, password checks in CONNECT,
//! SCRAM-SHA-256 enhanced authentication (MQTT 5.0 section 4.12), JWT logins, and the ACL.
//!
//! - [`password_file`]: the file `tern passwd` writes and the broker reads;
//! - [`scram`]: the keys a password gives, and the server's side of a SCRAM exchange;
//! - [`PasswordAuthenticator`]: the engine's [`Authenticator`] when a password file is
//!   configured;
//! - [`jwt`] and [`JwtAuthenticator`]: tokens as passwords (`[auth.jwt]`, `tern jwt-gen`);
//! - [`acl`]: the ACL file and the topic limits of a token.
//!
//! [`from_config`] picks the authenticator the `[auth]` section asks for; [`Security::load`]
//! reads everything `[auth]` names, at start and again on SIGHUP.

pub mod acl;
mod authenticator;
pub mod client_tls;
pub mod http;
pub mod jwt;
mod jwt_authenticator;
pub mod options;
pub mod password_file;
pub mod postgres;
pub mod redis;
pub mod scram;
mod security;
pub mod source;

pub use authenticator::PasswordAuthenticator;
pub use jwt_authenticator::JwtAuthenticator;
pub use password_file::{PasswordFile, PasswordFileError};
pub use security::{LocalUsers, Security};

use crate::engine::{AllowAnonymous, Authenticator};

/// The authenticator `[auth]` asks for, with `file` its password file as loaded: JWT logins
/// (with the password file, if any, for other CONNECTs), the password file's, or, with
/// neither, anonymous access on or off.
pub fn from_config(
    auth: &options::Auth,
    file: Option<&PasswordFile>,
) -> anyhow::Result<Box<dyn Authenticator>> {
    use anyhow::Context;
    let passwords = match file {
        None => None,
        Some(file) => {
            let authenticator = PasswordAuthenticator::new(file, auth.allow_anonymous)
                .context("no randomness for the authenticator")?;
            Some(authenticator)
        }
    };
    match (&auth.jwt, passwords) {
        (Some(config), passwords) => {
            let verifier = jwt::JwtVerifier::new(config)
                .map_err(|(key, message)| anyhow::anyhow!("auth.jwt.{key}: {message}"))?;
            tracing::info!("JWT logins: {:?} tokens", config.algorithm);
            let allow = auth.allow_anonymous;
            Ok(Box::new(JwtAuthenticator::new(verifier, passwords, allow)))
        }
        (None, Some(passwords)) => Ok(Box::new(passwords)),
        (None, None) => Ok(Box::new(AllowAnonymous(auth.allow_anonymous))),
    }
}
