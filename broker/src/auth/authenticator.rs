//! The engine's [`Authenticator`] for a password file.
//!
//! - A CONNECT with a user name is checked against the file: the password's PBKDF2 must give
//!   the user's StoredKey. A wrong password and an unknown user both get 0x86 Bad User Name
//!   or Password (3.x: 0x04) after the failed-login delay, with the same work done: an unknown
//!   user's password goes through PBKDF2 too, with made-up credentials.
//! - A CONNECT without one is let in only if anonymous access is allowed (else 0x87, 3.x:
//!   0x05, at once: no credential was tried).
//! - A 5.0 CONNECT with Authentication Method `SCRAM-SHA-256` runs that exchange: AUTH 0x18
//!   with server-first, the client's AUTH 0x18 with client-final, then CONNACK 0x00 with
//!   server-final [MQTT-4.12.0-5]. An unknown user gets a server-first like any other, with a
//!   salt made up from the user name (the same one each time), and fails only at the proof, so
//!   the exchange does not tell which users exist. Any other method gets 0x8C at once.
//!
//! The state of an exchange lives here, per connection, from CONNECT to the client's AUTH; the
//! engine's `closed` call drops it if the client goes away in between.
//!
//! PBKDF2 (4096 iterations: about a millisecond in a release build) never runs in the engine:
//! a CONNECT with a user name gets [`AuthDecision::Offload`], a [`PasswordCheck`] that owns
//! the shared users and the password given, which the transport runs on a blocking thread
//! while every other client goes on. SCRAM costs the server only a few HMACs, and runs here.

use std::sync::Arc;
use std::time::SystemTime;

use ahash::AHashMap;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use bytestring::ByteString;

use super::password_file::PasswordFile;
use super::scram::{self, ClientFirst, Credentials, Key, ScramError, ServerExchange, MECHANISM};
use crate::codec::{Auth, Connect, Properties, Property, PropertyId, ReasonCode};
use crate::engine::{AuthDecision, Authenticator, Check, ConnId, Grant, Offloaded};

/// Checks user names and passwords, and runs SCRAM-SHA-256, against a password file.
pub struct PasswordAuthenticator {
    /// The users, shared with the password checks on their way (see [`PasswordCheck`]).
    passwords: Arc<Passwords>,
    allow_anonymous: bool,
    /// The key of the salts and keys made up for unknown users.
    secret: Key,
    /// SCRAM exchanges waiting for the client's final message.
    exchanges: AHashMap<ConnId, Pending>,
}

/// The users of the file and what an unknown user is checked against.
struct Passwords {
    users: AHashMap<String, Credentials>,
    /// Credentials no password matches, checked for an unknown user so that it costs what a
    /// known one does. Their iteration count is the file's most common one.
    dummy: Credentials,
}

impl Passwords {
    /// Whether `password` is `user`'s. The same PBKDF2 runs for an unknown user, on the dummy
    /// credentials, and for a missing password, as an empty one.
    fn check(&self, user: &str, password: Option<&[u8]>) -> bool {
        let (credentials, known) = match self.users.get(user) {
            Some(c) => (c, true),
            None => (&self.dummy, false),
        };
        let matches = credentials.verify_password(password.unwrap_or_default());
        matches && known && password.is_some()
    }
}

/// A CONNECT's password, checked away from the engine (PBKDF2 takes about a millisecond).
pub struct PasswordCheck {
    passwords: Arc<Passwords>,
    conn: ConnId,
    user: ByteString,
    password: Option<Bytes>,
}

impl Check for PasswordCheck {
    fn run(self: Box<Self>) -> AuthDecision {
        let (conn, user) = (self.conn, &self.user);
        if self.passwords.check(user, self.password.as_deref()) {
            tracing::debug!(conn = %conn, user = %user, "password accepted");
            AuthDecision::Accept
        } else {
            tracing::info!(conn = %conn, user = %user,
                "login failed: wrong password or unknown user");
            AuthDecision::Fail(ReasonCode::BAD_USER_NAME_OR_PASSWORD)
        }
    }
}

/// A SCRAM exchange between server-first and client-final.
struct Pending {
    user: String,
    exchange: ServerExchange,
}

impl PasswordAuthenticator {
    /// An authenticator for the users of `file`, letting clients without a user name in if
    /// `allow_anonymous`.
    pub fn new(
        file: &PasswordFile,
        allow_anonymous: bool,
    ) -> Result<PasswordAuthenticator, getrandom::Error> {
        let users: AHashMap<String, Credentials> = file
            .users()
            .map(|(u, c)| (u.to_owned(), c.clone()))
            .collect();
        let mut counts: AHashMap<u32, usize> = AHashMap::new();
        for c in users.values() {
            *counts.entry(c.iterations).or_default() += 1;
        }
        let iterations = counts
            .into_iter()
            .max_by_key(|&(iterations, n)| (n, iterations))
            .map_or(scram::DEFAULT_ITERATIONS, |(iterations, _)| iterations);
        let mut random = [0; scram::SALT_LEN + 64];
        getrandom::fill(&mut random)?;
        let (salt, keys) = random.split_at(scram::SALT_LEN);
        let key = |bytes: &[u8]| -> Key { bytes.try_into().expect("32 bytes") };
        let dummy = Credentials {
            iterations,
            salt: salt.to_vec(),
            stored_key: key(&keys[..32]),
            server_key: key(&keys[32..]),
        };
        Ok(PasswordAuthenticator {
            passwords: Arc::new(Passwords { users, dummy }),
            allow_anonymous,
            secret: scram::sha256(&random),
            exchanges: AHashMap::new(),
        })
    }

    /// The check of `user`'s `password`, to run away from the engine.
    pub(super) fn password_check(
        &self,
        conn: ConnId,
        user: &ByteString,
        password: Option<&Bytes>,
    ) -> AuthDecision {
        AuthDecision::Offload(Offloaded(Box::new(PasswordCheck {
            passwords: self.passwords.clone(),
            conn,
            user: user.clone(),
            password: password.cloned(),
        })))
    }

    /// `user`'s credentials, or, for a user the file does not have, credentials made up
    /// from the user name: the same salt every time, keys no password gives.
    fn credentials(&self, user: &str) -> (Credentials, bool) {
        if let Some(c) = self.passwords.users.get(user) {
            return (c.clone(), true);
        }
        let made_up =
            |label: &str| scram::hmac(&self.secret, format!("{label}\0{user}").as_bytes());
        let fake = Credentials {
            iterations: self.passwords.dummy.iterations,
            salt: made_up("salt")[..scram::SALT_LEN].to_vec(),
            stored_key: made_up("stored"),
            server_key: made_up("server"),
        };
        (fake, false)
    }

    /// client-first in the CONNECT: answer with server-first.
    fn scram_start(&mut self, conn: ConnId, connect: &Connect) -> AuthDecision {
        let data = match connect.properties.get(PropertyId::AuthenticationData) {
            Some(Property::AuthenticationData(d)) => &d[..],
            _ => &[],
        };
        let first = match ClientFirst::parse(data) {
            Ok(first) => first,
            Err(e) => {
                tracing::info!(conn = %conn, "SCRAM login failed: client-first: {e}");
                return AuthDecision::Fail(ReasonCode::NOT_AUTHORIZED);
            }
        };
        // The user name, if CONNECT also carries one, must be the one being authenticated.
        if connect.username.as_ref().is_some_and(|u| *u != first.user) {
            tracing::info!(conn = %conn, user = %first.user,
                "SCRAM login failed: CONNECT names another user");
            return AuthDecision::Fail(ReasonCode::NOT_AUTHORIZED);
        }
        let mut random = [0; scram::NONCE_LEN];
        if let Err(e) = getrandom::fill(&mut random) {
            tracing::error!(conn = %conn, "no randomness for a SCRAM nonce: {e}");
            return AuthDecision::Refuse(ReasonCode::UNSPECIFIED_ERROR);
        }
        let (credentials, known) = self.credentials(&first.user);
        let (exchange, server_first) =
            ServerExchange::start(&first, &credentials, known, &BASE64.encode(random));
        let user = first.user;
        self.exchanges.insert(conn, Pending { user, exchange });
        AuthDecision::Continue(method_and_data(server_first))
    }
}

/// The Authentication Method `SCRAM-SHA-256` and this Authentication Data: what every AUTH
/// and the successful CONNACK carry [MQTT-4.12.0-5].
fn method_and_data(data: String) -> Properties {
    vec![
        Property::AuthenticationMethod(MECHANISM.into()),
        Property::AuthenticationData(Bytes::from(data)),
    ]
    .into()
}

impl Authenticator for PasswordAuthenticator {
    fn connect(&mut self, conn: ConnId, connect: &Connect, _: SystemTime) -> AuthDecision {
        if let Some(method) = connect.properties.get(PropertyId::AuthenticationMethod) {
            return match method {
                Property::AuthenticationMethod(m) if m == MECHANISM => {
                    self.scram_start(conn, connect)
                }
                _ => AuthDecision::Refuse(ReasonCode::BAD_AUTHENTICATION_METHOD),
            };
        }
        match &connect.username {
            Some(user) => self.password_check(conn, user, connect.password.as_ref()),
            None if self.allow_anonymous => AuthDecision::Accept,
            None => AuthDecision::Refuse(ReasonCode::NOT_AUTHORIZED),
        }
    }

    fn auth(&mut self, conn: ConnId, _: &Connect, auth: &Auth) -> AuthDecision {
        let Some(Pending { user, exchange }) = self.exchanges.remove(&conn) else {
            return AuthDecision::Refuse(ReasonCode::PROTOCOL_ERROR);
        };
        // The client must name the method of its CONNECT again [MQTT-4.12.0-5].
        match auth.properties.get(PropertyId::AuthenticationMethod) {
            Some(Property::AuthenticationMethod(m)) if m == MECHANISM => {}
            _ => return AuthDecision::Refuse(ReasonCode::PROTOCOL_ERROR),
        }
        let data = match auth.properties.get(PropertyId::AuthenticationData) {
            Some(Property::AuthenticationData(d)) => &d[..],
            _ => &[],
        };
        match exchange.finish(data) {
            Ok(server_final) => {
                tracing::debug!(conn = %conn, user = %user, "SCRAM-SHA-256 login");
                // The user proven is the connection's, for the ACL, whatever CONNECT said.
                AuthDecision::AcceptAs(Box::new(Grant {
                    username: Some(user.into()),
                    properties: method_and_data(server_final),
                    ..Grant::default()
                }))
            }
            Err(e) => {
                tracing::info!(conn = %conn, user = %user, "SCRAM login failed: {e}");
                AuthDecision::Fail(match e {
                    ScramError::BadProof => ReasonCode::BAD_USER_NAME_OR_PASSWORD,
                    _ => ReasonCode::NOT_AUTHORIZED,
                })
            }
        }
    }

    fn closed(&mut self, conn: ConnId) {
        self.exchanges.remove(&conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::scram::client_final;
    use crate::codec::Protocol;

    /// RFC 7677's user "user" (password "pencil"), and "alice" with password "secret".
    fn authenticator(allow_anonymous: bool) -> PasswordAuthenticator {
        let mut file = PasswordFile::parse(
            "user:SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$\
             WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:\
             wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\n",
        )
        .unwrap();
        file.set_password("alice", b"secret", 4096).unwrap();
        PasswordAuthenticator::new(&file, allow_anonymous).unwrap()
    }

    fn login(user: Option<&str>, password: Option<&str>, protocol: Protocol) -> Connect {
        let mut c = Connect::new(protocol, "c");
        c.username = user.map(Into::into);
        c.password = password.map(|p| Bytes::from(p.to_owned()));
        c
    }

    fn scram_connect(data: &str) -> Connect {
        let mut c = Connect::new(Protocol::V5, "c");
        c.properties = method_and_data(data.to_owned());
        c
    }

    fn scram_auth(data: &str) -> Auth {
        Auth {
            reason: ReasonCode::CONTINUE_AUTHENTICATION,
            properties: method_and_data(data.to_owned()),
        }
    }

    fn data(p: &Properties) -> String {
        assert_eq!(
            p.get(PropertyId::AuthenticationMethod),
            Some(&Property::AuthenticationMethod(MECHANISM.into()))
        );
        match p.get(PropertyId::AuthenticationData) {
            Some(Property::AuthenticationData(d)) => String::from_utf8(d.to_vec()).unwrap(),
            other => panic!("no Authentication Data: {other:?}"),
        }
    }

    #[test]
    fn passwords_in_connect() {
        let mut a = authenticator(false);
        let c = ConnId(1);
        for protocol in [Protocol::V3_1_1, Protocol::V5] {
            let ok = login(Some("alice"), Some("secret"), protocol);
            assert_eq!(
                a.connect(c, &ok, SystemTime::now()).settle(),
                AuthDecision::Accept
            );
            let ok = login(Some("user"), Some("pencil"), protocol);
            assert_eq!(
                a.connect(c, &ok, SystemTime::now()).settle(),
                AuthDecision::Accept
            );
            for (user, password) in [
                (Some("alice"), Some("wrong")),
                (Some("alice"), None),
                (Some("bob"), Some("secret")),
                (Some("bob"), None),
            ] {
                assert_eq!(
                    a.connect(c, &login(user, password, protocol), SystemTime::now())
                        .settle(),
                    AuthDecision::Fail(ReasonCode::BAD_USER_NAME_OR_PASSWORD),
                    "{user:?} {password:?}"
                );
            }
            assert_eq!(
                a.connect(c, &login(None, None, protocol), SystemTime::now())
                    .settle(),
                AuthDecision::Refuse(ReasonCode::NOT_AUTHORIZED)
            );
        }
        let mut open = authenticator(true);
        assert_eq!(
            open.connect(c, &login(None, None, Protocol::V5), SystemTime::now())
                .settle(),
            AuthDecision::Accept
        );
    }

    #[test]
    fn scram_login_end_to_end() {
        let mut a = authenticator(false);
        let conn = ConnId(7);
        let AuthDecision::Continue(p) = a
            .connect(
                conn,
                &scram_connect("n,,n=alice,r=abcdef"),
                SystemTime::now(),
            )
            .settle()
        else {
            panic!("no challenge");
        };
        let server_first = data(&p);
        assert!(server_first.starts_with("r=abcdef"), "{server_first}");
        assert!(server_first.ends_with(",i=4096"), "{server_first}");
        let answer = client_final("n=alice,r=abcdef", &server_first, "secret");
        let connect = scram_connect("n,,n=alice,r=abcdef");
        let AuthDecision::AcceptAs(grant) = a.auth(conn, &connect, &scram_auth(&answer)) else {
            panic!("not accepted");
        };
        assert_eq!(grant.username.as_deref(), Some("alice"));
        assert!(data(&grant.properties).starts_with("v="));
        assert!(a.exchanges.is_empty());
    }

    #[test]
    fn scram_failures_are_refusals() {
        let mut a = authenticator(false);
        let connect = scram_connect("n,,n=alice,r=abcdef");
        let start = |a: &mut PasswordAuthenticator, user: &str| {
            let first = format!("n,,n={user},r=abcdef");
            match a
                .connect(ConnId(1), &scram_connect(&first), SystemTime::now())
                .settle()
            {
                AuthDecision::Continue(p) => data(&p),
                other => panic!("{other:?}"),
            }
        };
        // Wrong password.
        let server_first = start(&mut a, "alice");
        let answer = client_final("n=alice,r=abcdef", &server_first, "wrong");
        assert_eq!(
            a.auth(ConnId(1), &connect, &scram_auth(&answer)),
            AuthDecision::Fail(ReasonCode::BAD_USER_NAME_OR_PASSWORD)
        );
        // An unknown user gets a challenge shaped like anyone's, the same salt each time,
        // and fails at the proof.
        let first = start(&mut a, "bob");
        let again = start(&mut a, "bob");
        assert_eq!(first.split(',').nth(1), again.split(',').nth(1));
        assert_eq!(first.len(), server_first.len());
        let answer = client_final("n=bob,r=abcdef", &again, "secret");
        assert_eq!(
            a.auth(ConnId(1), &connect, &scram_auth(&answer)),
            AuthDecision::Fail(ReasonCode::BAD_USER_NAME_OR_PASSWORD)
        );
        // Malformed client-final, and a malformed or missing client-first.
        start(&mut a, "alice");
        assert_eq!(
            a.auth(ConnId(1), &connect, &scram_auth("garbage")),
            AuthDecision::Fail(ReasonCode::NOT_AUTHORIZED)
        );
        assert_eq!(
            a.connect(ConnId(1), &scram_connect("n,,r=x"), SystemTime::now())
                .settle(),
            AuthDecision::Fail(ReasonCode::NOT_AUTHORIZED)
        );
        let mut bare = Connect::new(Protocol::V5, "c");
        bare.properties
            .push(Property::AuthenticationMethod(MECHANISM.into()));
        assert_eq!(
            a.connect(ConnId(1), &bare, SystemTime::now()).settle(),
            AuthDecision::Fail(ReasonCode::NOT_AUTHORIZED)
        );
        // Another method in AUTH, and an AUTH with no exchange.
        start(&mut a, "alice");
        let mut other = scram_auth("x");
        other.properties = vec![Property::AuthenticationMethod("PLAIN".into())].into();
        assert_eq!(
            a.auth(ConnId(1), &connect, &other),
            AuthDecision::Refuse(ReasonCode::PROTOCOL_ERROR)
        );
        assert_eq!(
            a.auth(ConnId(2), &connect, &scram_auth("x")),
            AuthDecision::Refuse(ReasonCode::PROTOCOL_ERROR)
        );
        // Another method in CONNECT.
        let mut plain = Connect::new(Protocol::V5, "c");
        plain
            .properties
            .push(Property::AuthenticationMethod("PLAIN".into()));
        assert_eq!(
            a.connect(ConnId(1), &plain, SystemTime::now()).settle(),
            AuthDecision::Refuse(ReasonCode::BAD_AUTHENTICATION_METHOD)
        );
    }

    #[test]
    fn a_connection_that_goes_leaves_nothing_behind() {
        let mut a = authenticator(false);
        a.connect(
            ConnId(3),
            &scram_connect("n,,n=alice,r=abc"),
            SystemTime::now(),
        )
        .settle();
        assert_eq!(a.exchanges.len(), 1);
        a.closed(ConnId(3));
        assert!(a.exchanges.is_empty());
    }
}
