//! Authentication: the password file, password checks in CONNECT, and SCRAM-SHA-256 enhanced
//! authentication (MQTT 5.0 section 4.12).
//!
//! - [`password_file`]: the file `tern passwd` writes and the broker reads;
//! - [`scram`]: the keys a password gives, and the server's side of a SCRAM exchange;
//! - [`PasswordAuthenticator`]: the engine's [`Authenticator`] when a password file is
//!   configured.
//!
//! [`from_config`] picks the authenticator the `[auth]` section asks for.

mod authenticator;
pub mod password_file;
pub mod scram;

pub use authenticator::PasswordAuthenticator;
pub use password_file::{PasswordFile, PasswordFileError};

use crate::engine::{AllowAnonymous, Authenticator};

/// The authenticator `[auth]` asks for: the password file's, or, without one, anonymous
/// access on or off.
pub fn from_config(auth: &crate::config::Auth) -> anyhow::Result<Box<dyn Authenticator>> {
    use anyhow::Context;
    let Some(path) = &auth.password_file else {
        return Ok(Box::new(AllowAnonymous(auth.allow_anonymous)));
    };
    let file = PasswordFile::load(path)
        .with_context(|| format!("auth.password_file: {}", path.display()))?;
    tracing::info!(
        users = file.users().count(),
        "password file {} loaded",
        path.display()
    );
    let authenticator = PasswordAuthenticator::new(&file, auth.allow_anonymous)
        .context("no randomness for the authenticator")?;
    Ok(Box::new(authenticator))
}
