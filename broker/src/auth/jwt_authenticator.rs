//! The engine's [`Authenticator`] when `[auth.jwt]` is configured: JWT logins, with the
//! password file (if any) for everything else.
//!
//! - A CONNECT whose password is a token ([`JwtVerifier::is_token`]) is verified. A bad
//!   signature, an expired token, a token without `sub` or for another user name than the
//!   CONNECT's, or an unusable `topics` claim: 0x86 Bad User Name or Password (3.x: 0x04),
//!   after the failed-login delay like a wrong password. A good one lets the client in as
//!   `sub`, limited to its `topics`, until its `exp`.
//! - Any other CONNECT goes to the password file's authenticator when there is a file. Without
//!   one, a CONNECT with a user name or a password that is not a token has credentials nothing
//!   can check: 0x86 (3.x: 0x04) after the delay, so that no one can claim a user name the
//!   ACL trusts; one with neither is anonymous (`auth.allow_anonymous`: else 0x87, 3.x 0x05).
//! - An Authentication Method (5.0) goes to the password file's SCRAM-SHA-256; without a
//!   file, 0x8C Bad authentication method.
//!
//! A token's signature is verified away from the engine ([`AuthDecision::Offload`]: an RSA
//! or ECDSA verification takes about as long as a password's PBKDF2), as passwords are.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use bytestring::ByteString;

use super::authenticator::PasswordAuthenticator;
use super::jwt::JwtVerifier;
use crate::codec::{Auth, Connect, PropertyId, ReasonCode};
use crate::engine::{AuthDecision, Authenticator, Check, ConnId, Offloaded};

/// JWT logins, then the password file.
pub struct JwtAuthenticator {
    verifier: Arc<JwtVerifier>,
    passwords: Option<PasswordAuthenticator>,
    allow_anonymous: bool,
}

impl JwtAuthenticator {
    pub fn new(
        verifier: JwtVerifier,
        passwords: Option<PasswordAuthenticator>,
        allow_anonymous: bool,
    ) -> JwtAuthenticator {
        JwtAuthenticator {
            verifier: Arc::new(verifier),
            passwords,
            allow_anonymous,
        }
    }
}

/// A token's signature and claims, checked away from the engine.
struct TokenCheck {
    verifier: Arc<JwtVerifier>,
    conn: ConnId,
    token: Bytes,
    user: Option<ByteString>,
    /// The wall-clock time of the CONNECT, which `exp` is checked against.
    now: SystemTime,
}

impl Check for TokenCheck {
    fn run(self: Box<Self>) -> AuthDecision {
        let (conn, user) = (self.conn, self.user.as_deref());
        match self.verifier.verify(&self.token, user, self.now) {
            Ok(grant) => {
                tracing::debug!(conn = %conn, user = ?grant.username, "JWT accepted");
                AuthDecision::AcceptAs(Box::new(grant))
            }
            Err(e) => {
                tracing::info!(conn = %conn, user = ?user, "JWT login failed: {e}");
                AuthDecision::Fail(ReasonCode::BAD_USER_NAME_OR_PASSWORD)
            }
        }
    }
}

impl Authenticator for JwtAuthenticator {
    fn connect(&mut self, conn: ConnId, connect: &Connect, now: SystemTime) -> AuthDecision {
        let enhanced = connect
            .properties
            .get(PropertyId::AuthenticationMethod)
            .is_some();
        let token = connect
            .password
            .as_deref()
            .filter(|p| !enhanced && JwtVerifier::is_token(p));
        if let Some(token) = token {
            return AuthDecision::Offload(Offloaded(Box::new(TokenCheck {
                verifier: self.verifier.clone(),
                conn,
                token: Bytes::copy_from_slice(token),
                user: connect.username.clone(),
                now,
            })));
        }
        if let Some(passwords) = &mut self.passwords {
            return passwords.connect(conn, connect, now);
        }
        if enhanced {
            AuthDecision::Refuse(ReasonCode::BAD_AUTHENTICATION_METHOD)
        } else if connect.username.is_some() || connect.password.is_some() {
            tracing::info!(conn = %conn, user = ?connect.username.as_deref(),
                "login failed: the password is not a JWT and there is no password file");
            AuthDecision::Fail(ReasonCode::BAD_USER_NAME_OR_PASSWORD)
        } else if self.allow_anonymous {
            AuthDecision::Accept
        } else {
            AuthDecision::Refuse(ReasonCode::NOT_AUTHORIZED)
        }
    }

    fn auth(&mut self, conn: ConnId, connect: &Connect, auth: &Auth) -> AuthDecision {
        match &mut self.passwords {
            Some(passwords) => passwords.auth(conn, connect, auth),
            None => AuthDecision::Refuse(ReasonCode::PROTOCOL_ERROR),
        }
    }

    fn closed(&mut self, conn: ConnId) {
        if let Some(passwords) = &mut self.passwords {
            passwords.closed(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::auth::jwt::{generate, SigningKey};
    use crate::auth::options::{Jwt, JwtAlgorithm};
    use crate::auth::PasswordFile;
    use crate::codec::{Property, Protocol};

    const SECRET: &str = "an HS256 secret of at least 32 bytes";

    fn verifier() -> JwtVerifier {
        JwtVerifier::new(&Jwt {
            algorithm: JwtAlgorithm::HS256,
            secret: Some(SECRET.into()),
            public_key_file: None,
            issuer: None,
            audience: None,
        })
        .unwrap()
    }

    fn token(user: &str) -> String {
        let key = SigningKey::Secret(SECRET.as_bytes());
        generate(
            JwtAlgorithm::HS256,
            key,
            user,
            Duration::from_secs(60),
            None,
        )
        .unwrap()
    }

    fn login(protocol: Protocol, user: Option<&str>, password: Option<&str>) -> Connect {
        let mut c = Connect::new(protocol, "c");
        c.username = user.map(Into::into);
        c.password = password.map(|p| Bytes::from(p.to_owned()));
        c
    }

    fn granted(d: AuthDecision) -> Option<String> {
        match d {
            AuthDecision::AcceptAs(g) => g.username.map(|u| u.to_string()),
            other => panic!("expected AcceptAs, got {other:?}"),
        }
    }

    #[test]
    fn tokens_without_a_password_file() {
        let mut a = JwtAuthenticator::new(verifier(), None, false);
        let c = ConnId(1);
        let alice = token("alice");
        // 5.0 may leave the user name out; 3.1.1 must send one, the token's.
        let d = a
            .connect(
                c,
                &login(Protocol::V5, None, Some(&alice)),
                SystemTime::now(),
            )
            .settle();
        assert_eq!(granted(d).as_deref(), Some("alice"));
        let d = a
            .connect(
                c,
                &login(Protocol::V3_1_1, Some("alice"), Some(&alice)),
                SystemTime::now(),
            )
            .settle();
        assert_eq!(granted(d).as_deref(), Some("alice"));
        let fail = AuthDecision::Fail(ReasonCode::BAD_USER_NAME_OR_PASSWORD);
        for (user, password) in [
            (Some("bob"), Some(alice.as_str())),
            (Some("alice"), Some("a password")),
            (Some("alice"), None),
            (None, Some("a password")),
        ] {
            assert_eq!(
                a.connect(c, &login(Protocol::V5, user, password), SystemTime::now())
                    .settle(),
                fail
            );
        }
        assert_eq!(
            a.connect(c, &login(Protocol::V5, None, None), SystemTime::now())
                .settle(),
            AuthDecision::Refuse(ReasonCode::NOT_AUTHORIZED)
        );
        let mut open = JwtAuthenticator::new(verifier(), None, true);
        assert_eq!(
            open.connect(c, &login(Protocol::V5, None, None), SystemTime::now())
                .settle(),
            AuthDecision::Accept
        );
        let mut scram = Connect::new(Protocol::V5, "c");
        scram
            .properties
            .push(Property::AuthenticationMethod("SCRAM-SHA-256".into()));
        assert_eq!(
            a.connect(c, &scram, SystemTime::now()).settle(),
            AuthDecision::Refuse(ReasonCode::BAD_AUTHENTICATION_METHOD)
        );
    }

    #[test]
    fn tokens_beside_a_password_file() {
        let mut file = PasswordFile::default();
        file.set_password("bob", b"secret", 4096).unwrap();
        let passwords = PasswordAuthenticator::new(&file, false).unwrap();
        let mut a = JwtAuthenticator::new(verifier(), Some(passwords), false);
        let c = ConnId(1);
        let d = a
            .connect(
                c,
                &login(Protocol::V5, None, Some(&token("alice"))),
                SystemTime::now(),
            )
            .settle();
        assert_eq!(granted(d).as_deref(), Some("alice"));
        assert_eq!(
            a.connect(
                c,
                &login(Protocol::V5, Some("bob"), Some("secret")),
                SystemTime::now()
            )
            .settle(),
            AuthDecision::Accept
        );
        assert_eq!(
            a.connect(
                c,
                &login(Protocol::V5, Some("bob"), Some("wrong")),
                SystemTime::now()
            )
            .settle(),
            AuthDecision::Fail(ReasonCode::BAD_USER_NAME_OR_PASSWORD)
        );
    }
}
