//! SCRAM-SHA-256 (RFC 5802 with the hash of RFC 7677): the keys a password gives, and the
//! server's side of the exchange.
//!
//! ```text
//! client-first   n,,n=user,r=<client nonce>
//! server-first   r=<client nonce><server nonce>,s=<salt, base64>,i=<iterations>
//! client-final   c=biws,r=<both nonces>,p=<ClientProof, base64>
//! server-final   v=<ServerSignature, base64>
//! ```
//!
//! The server keeps only StoredKey and ServerKey (see [`Credentials`]); the client proves it
//! knows the password without sending it, and the server proves it holds the keys. Every
//! malformed message is a [`ScramError`], never a panic. Channel binding (`p=` in the GS2
//! header) and the reserved `m=` extension are refused; passwords are used as their UTF-8
//! bytes, without SASLprep (the same bytes for any ASCII password).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The name of the mechanism, as the MQTT 5.0 Authentication Method carries it.
pub const MECHANISM: &str = "SCRAM-SHA-256";
/// The iteration count new passwords get: the minimum RFC 7677 allows.
pub const DEFAULT_ITERATIONS: u32 = 4096;
/// Bytes of salt for a new password.
pub const SALT_LEN: usize = 16;
/// Bytes of randomness in a server nonce (24 characters once in base64).
pub const NONCE_LEN: usize = 18;

/// A SHA-256 output: a key, a signature or a proof.
pub type Key = [u8; 32];

/// What the server keeps of a password: the salt, the iteration count, StoredKey =
/// H(HMAC(SaltedPassword, "Client Key")) and ServerKey = HMAC(SaltedPassword, "Server Key").
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: Key,
    pub server_key: Key,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs.
        f.debug_struct("Credentials")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The credentials of `password` with this salt and iteration count (one PBKDF2: about a
    /// millisecond for 4096 iterations in a release build).
    pub fn derive(password: &[u8], salt: &[u8], iterations: u32) -> Credentials {
        let salted = salted_password(password, salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        Credentials {
            iterations,
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: hmac(&salted, b"Server Key"),
        }
    }

    /// Whether `password` is the one these credentials were derived from. The keys are
    /// compared in constant time.
    pub fn verify_password(&self, password: &[u8]) -> bool {
        let salted = salted_password(password, &self.salt, self.iterations);
        let stored_key = sha256(&hmac(&salted, b"Client Key"));
        bool::from(stored_key.ct_eq(&self.stored_key))
    }
}

/// SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations).
pub fn salted_password(password: &[u8], salt: &[u8], iterations: u32) -> Key {
    let mut out = [0; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations.max(1), &mut out);
    out
}

/// HMAC-SHA-256.
pub fn hmac(key: &[u8], data: &[u8]) -> Key {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> Key {
    Sha256::digest(data).into()
}

/// Why an exchange failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    /// A message does not follow the grammar of RFC 5802 section 7.
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    /// The client asked for channel binding (`p=`), or sent the reserved `m=` extension.
    #[error("unsupported SCRAM feature: {0}")]
    Unsupported(&'static str),
    /// The client-final message does not repeat the nonce the server sent.
    #[error("the client-final nonce is not the server's")]
    WrongNonce,
    /// The channel binding data (`c=`) does not repeat the GS2 header of client-first.
    #[error("the channel binding data does not match client-first")]
    ChannelBindingMismatch,
    /// The proof is wrong: a wrong password, or a user the server does not know.
    #[error("invalid proof")]
    BadProof,
}

/// The user name and nonce a client-first message carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientFirst {
    /// The GS2 header (`n,,` or `y,,`), which `c=` must repeat in client-final.
    pub gs2_header: String,
    /// The user name, with `=2C` and `=3D` decoded.
    pub user: String,
    pub nonce: String,
    /// client-first-message-bare: the part that goes into AuthMessage.
    pub bare: String,
}

impl ClientFirst {
    /// Parses `gs2-header client-first-message-bare` (RFC 5802 section 7).
    pub fn parse(message: &[u8]) -> Result<ClientFirst, ScramError> {
        let text = std::str::from_utf8(message).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        let mut parts = text.splitn(3, ',');
        let flag = parts.next().unwrap_or_default();
        let authzid = parts.next().ok_or(ScramError::Malformed("no GS2 header"))?;
        let bare = parts.next().ok_or(ScramError::Malformed("no GS2 header"))?;
        match flag {
            "n" | "y" => {}
            f if f.starts_with("p=") => return Err(ScramError::Unsupported("channel binding")),
            _ => return Err(ScramError::Malformed("bad GS2 channel binding flag")),
        }
        let gs2_header = text[..text.len() - bare.len()].to_owned();

        let mut attrs = bare.split(',');
        let first = attrs.next().unwrap_or_default();
        if first.starts_with("m=") {
            return Err(ScramError::Unsupported("mandatory extension m="));
        }
        let user = first
            .strip_prefix("n=")
            .ok_or(ScramError::Malformed("client-first lacks n="))?;
        let user = decode_saslname(user)?;
        if user.is_empty() {
            return Err(ScramError::Malformed("empty user name"));
        }
        if !authzid.is_empty() {
            // An authorization identity may only name the user itself.
            let authzid = authzid
                .strip_prefix("a=")
                .ok_or(ScramError::Malformed("bad authzid"))?;
            if decode_saslname(authzid)? != user {
                return Err(ScramError::Unsupported("authzid other than the user"));
            }
        }
        let nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or(ScramError::Malformed("client-first lacks r="))?;
        check_nonce(nonce)?;
        check_extensions(attrs)?;
        Ok(ClientFirst {
            gs2_header,
            user,
            nonce: nonce.to_owned(),
            bare: bare.to_owned(),
        })
    }
}

/// A server-side exchange between server-first and client-final.
#[derive(Clone)]
pub struct ServerExchange {
    gs2_header: String,
    nonce: String,
    /// client-first-message-bare "," server-first-message ","
    auth_message_prefix: String,
    stored_key: Key,
    server_key: Key,
    /// False for a user the server does not know: the exchange runs on made-up credentials
    /// and fails at the proof, as a wrong password does.
    known: bool,
}

impl std::fmt::Debug for ServerExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerExchange")
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

impl ServerExchange {
    /// Answers `client_first` with the server-first message. `credentials` are the user's,
    /// or made up (`known` false) for a user the server does not know, so that the answer
    /// looks the same. `server_nonce` must be fresh randomness in printable characters
    /// other than `,`.
    pub fn start(
        client_first: &ClientFirst,
        credentials: &Credentials,
        known: bool,
        server_nonce: &str,
    ) -> (ServerExchange, String) {
        let nonce = format!("{}{server_nonce}", client_first.nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            BASE64.encode(&credentials.salt),
            credentials.iterations
        );
        let exchange = ServerExchange {
            gs2_header: client_first.gs2_header.clone(),
            nonce,
            auth_message_prefix: format!("{},{server_first},", client_first.bare),
            stored_key: credentials.stored_key,
            server_key: credentials.server_key,
            known,
        };
        (exchange, server_first)
    }

    /// Checks client-final and returns the server-final message (`v=ServerSignature`).
    pub fn finish(&self, client_final: &[u8]) -> Result<String, ScramError> {
        let text =
            std::str::from_utf8(client_final).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or(ScramError::Malformed("client-final lacks p="))?;
        let mut attrs = without_proof.split(',');
        let binding = attrs
            .next()
            .and_then(|a| a.strip_prefix("c="))
            .ok_or(ScramError::Malformed("client-final lacks c="))?;
        let nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or(ScramError::Malformed("client-final lacks r="))?;
        check_extensions(attrs)?;
        let binding = BASE64
            .decode(binding)
            .map_err(|_| ScramError::Malformed("c= is not base64"))?;
        let proof: Key = BASE64
            .decode(proof)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or(ScramError::Malformed("p= is not a base64 SHA-256 value"))?;
        if binding != self.gs2_header.as_bytes() {
            return Err(ScramError::ChannelBindingMismatch);
        }
        if nonce != self.nonce {
            return Err(ScramError::WrongNonce);
        }

        let auth_message = format!("{}{without_proof}", self.auth_message_prefix);
        let client_signature = hmac(&self.stored_key, auth_message.as_bytes());
        let mut client_key = proof;
        for (k, s) in client_key.iter_mut().zip(client_signature) {
            *k ^= s;
        }
        let valid = bool::from(sha256(&client_key).ct_eq(&self.stored_key));
        if !(valid && self.known) {
            return Err(ScramError::BadProof);
        }
        let server_signature = hmac(&self.server_key, auth_message.as_bytes());
        Ok(format!("v={}", BASE64.encode(server_signature)))
    }
}

/// A nonce is one or more printable ASCII characters other than `,` (RFC 5802 section 7).
fn check_nonce(nonce: &str) -> Result<(), ScramError> {
    if nonce.is_empty()
        || !nonce
            .bytes()
            .all(|b| (0x21..=0x7E).contains(&b) && b != b',')
    {
        return Err(ScramError::Malformed("bad nonce"));
    }
    Ok(())
}

/// Extensions are ignored, but each must be `<letter>=<value>`.
fn check_extensions<'a>(mut attrs: impl Iterator<Item = &'a str>) -> Result<(), ScramError> {
    let well_formed = |a: &str| {
        let b = a.as_bytes();
        b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b'='
    };
    if attrs.all(well_formed) {
        Ok(())
    } else {
        Err(ScramError::Malformed("bad extension"))
    }
}

/// Decodes a saslname: `=2C` is `,` and `=3D` is `=`; any other `=` is an error.
fn decode_saslname(name: &str) -> Result<String, ScramError> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        match rest.get(i..i + 3) {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return Err(ScramError::Malformed("bad escape in user name")),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The client side of RFC 5802 section 3, written out for tests: client-final for `password`,
/// given client-first-message-bare and server-first (with the GS2 header `n,,`).
#[cfg(test)]
pub(crate) fn client_final(first_bare: &str, server_first: &str, password: &str) -> String {
    let mut attrs = server_first.split(',');
    let nonce = &attrs.next().expect("r=")[2..];
    let salt = BASE64
        .decode(&attrs.next().expect("s=")[2..])
        .expect("salt");
    let iterations = attrs.next().expect("i=")[2..].parse().expect("iterations");
    let salted = salted_password(password.as_bytes(), &salt, iterations);
    let client_key = hmac(&salted, b"Client Key");
    let without_proof = format!("c=biws,r={nonce}");
    let auth_message = format!("{first_bare},{server_first},{without_proof}");
    let signature = hmac(&sha256(&client_key), auth_message.as_bytes());
    let proof: Vec<u8> = client_key
        .iter()
        .zip(signature)
        .map(|(k, s)| k ^ s)
        .collect();
    format!("{without_proof},p={}", BASE64.encode(proof))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7677 section 3: user "user", password "pencil".
    const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
    const SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    fn pencil() -> Credentials {
        Credentials::derive(b"pencil", &BASE64.decode(SALT).unwrap(), 4096)
    }

    fn rfc_exchange() -> ServerExchange {
        let first = ClientFirst::parse(CLIENT_FIRST.as_bytes()).unwrap();
        assert_eq!(first.user, "user");
        let (exchange, server_first) = ServerExchange::start(&first, &pencil(), true, SERVER_NONCE);
        assert_eq!(server_first, SERVER_FIRST);
        exchange
    }

    #[test]
    fn rfc_7677_test_vector() {
        let exchange = rfc_exchange();
        assert_eq!(
            exchange.finish(CLIENT_FINAL.as_bytes()).unwrap(),
            SERVER_FINAL
        );
    }

    #[test]
    fn the_test_client_computes_the_rfc_proof() {
        assert_eq!(
            client_final("n=user,r=rOprNGfwEbeRWgbNEkqO", SERVER_FIRST, "pencil"),
            CLIENT_FINAL
        );
    }

    #[test]
    fn passwords_are_checked_against_the_keys() {
        let c = pencil();
        assert!(c.verify_password(b"pencil"));
        assert!(!c.verify_password(b"pencil "));
        assert!(!c.verify_password(b""));
    }

    #[test]
    fn a_bad_proof_is_refused() {
        let exchange = rfc_exchange();
        let bad = CLIENT_FINAL.replace("p=dHzb", "p=dHzc");
        assert_eq!(exchange.finish(bad.as_bytes()), Err(ScramError::BadProof));
        // The right proof for the wrong password.
        let first = ClientFirst::parse(CLIENT_FIRST.as_bytes()).unwrap();
        let wrong = Credentials::derive(b"pencil2", &BASE64.decode(SALT).unwrap(), 4096);
        let (exchange, _) = ServerExchange::start(&first, &wrong, true, SERVER_NONCE);
        assert_eq!(
            exchange.finish(CLIENT_FINAL.as_bytes()),
            Err(ScramError::BadProof)
        );
    }

    #[test]
    fn an_unknown_user_fails_even_with_a_valid_proof() {
        let first = ClientFirst::parse(CLIENT_FIRST.as_bytes()).unwrap();
        let (exchange, _) = ServerExchange::start(&first, &pencil(), false, SERVER_NONCE);
        assert_eq!(
            exchange.finish(CLIENT_FINAL.as_bytes()),
            Err(ScramError::BadProof)
        );
    }

    #[test]
    fn a_wrong_nonce_or_binding_is_refused() {
        let exchange = rfc_exchange();
        let other = CLIENT_FINAL.replace("k0,p=", "k1,p=");
        assert_eq!(
            exchange.finish(other.as_bytes()),
            Err(ScramError::WrongNonce)
        );
        let short = CLIENT_FINAL.replace("$k0,p=", ",p=");
        assert_eq!(
            exchange.finish(short.as_bytes()),
            Err(ScramError::WrongNonce)
        );
        let yflag = CLIENT_FINAL.replace("c=biws", "c=eSws");
        assert_eq!(
            exchange.finish(yflag.as_bytes()),
            Err(ScramError::ChannelBindingMismatch)
        );
    }

    #[test]
    fn malformed_client_final_messages_are_refused() {
        let exchange = rfc_exchange();
        for bad in [
            "",
            ",",
            "p=",
            "c=biws",
            "c=biws,r=x",
            "r=x,c=biws,p=AAAA",
            "c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "c=!!!!,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=not base64",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,x,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        ] {
            assert!(
                matches!(
                    exchange.finish(bad.as_bytes()),
                    Err(ScramError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            exchange.finish(&[0xFF, 0xFE]),
            Err(ScramError::Malformed(_))
        ));
    }

    #[test]
    fn malformed_client_first_messages_are_refused() {
        for bad in [
            "",
            "n",
            "n,",
            "x,,n=user,r=abc",
            "n,,r=abc",
            "n,,n=,r=abc",
            "n,,n=user",
            "n,,n=user,r=",
            "n,,n=user,x=abc",
            "n,,n=us=er,r=abc",
            "n,,n=user,r=a,b",
            "n,,n=user,r=a b",
            "n,b=x,n=user,r=abc",
        ] {
            assert!(
                matches!(
                    ClientFirst::parse(bad.as_bytes()),
                    Err(ScramError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        for unsupported in [
            "p=tls-unique,,n=user,r=abc",
            "n,,m=ext,n=user,r=abc",
            "n,a=admin,n=user,r=abc",
        ] {
            assert!(
                matches!(
                    ClientFirst::parse(unsupported.as_bytes()),
                    Err(ScramError::Unsupported(_))
                ),
                "{unsupported:?}"
            );
        }
    }

    #[test]
    fn client_first_variants_that_are_allowed() {
        let f = ClientFirst::parse(b"y,a=u=2Cv,n=u=2Cv,r=abc,x=ext").unwrap();
        assert_eq!(f.gs2_header, "y,a=u=2Cv,");
        assert_eq!(f.user, "u,v");
        assert_eq!(f.nonce, "abc");
        assert_eq!(f.bare, "n=u=2Cv,r=abc,x=ext");
        assert_eq!(ClientFirst::parse(b"n,,n=a=3Db,r=x").unwrap().user, "a=b");
    }
}
