//! JSON Web Tokens as CONNECT passwords (`[auth.jwt]`), and the tokens `tern jwt-gen` makes.
//!
//! A token is verified with jsonwebtoken (RustCrypto backend): its signature with the one
//! configured algorithm and key, `exp` (required; 60 s of clock skew allowed), `nbf` if
//! present, `iss` and `aud` as configured. Its claims then say who the client is (`sub`,
//! required) and, in an optional `topics` claim, which topics it may use:
//!
//! ```json
//! {"sub": "alice", "exp": 1767225600, "topics": {"read": ["news/#"], "write": ["home/%u/#"]}}
//! ```
//!
//! With `topics`, a PUBLISH must match one of `write` and a SUBSCRIBE filter must be covered
//! by one of `read` (a missing list allows nothing of its kind), on top of the ACL.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::acl::{Pattern, TopicLimits};
use super::options::{Jwt, JwtAlgorithm};
use crate::engine::Grant;

/// The shortest HS256 secret accepted: 256 bits, the size of the hash.
pub const MIN_SECRET_LEN: usize = 32;

/// The claims Tern reads and `tern jwt-gen` writes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Expiry, in seconds since 1970.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Issued at, in seconds since 1970.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not before, in seconds since 1970.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The topics the token limits its holder to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics: Option<TopicsClaim>,
}

/// The `topics` claim: topic filters, with `%u` and `%c` allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicsClaim {
    #[serde(default)]
    pub read: Vec<String>,
    #[serde(default)]
    pub write: Vec<String>,
}

/// Why a token was refused. Every refusal is a failed login (CONNACK 0x86, 3.x 0x04).
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("the token has no `sub` claim (the user name)")]
    NoSubject,
    #[error("the token is for {token:?}, the CONNECT names {connect:?}")]
    OtherUser { token: String, connect: String },
    #[error("the `topics` claim has {0}")]
    BadTopics(String),
}

fn algorithm(a: JwtAlgorithm) -> Algorithm {
    match a {
        JwtAlgorithm::HS256 => Algorithm::HS256,
        JwtAlgorithm::RS256 => Algorithm::RS256,
        JwtAlgorithm::ES256 => Algorithm::ES256,
    }
}

/// Checks tokens against `[auth.jwt]`.
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for `[auth.jwt]`; `Err` names the key at fault (`secret`,
    /// `public_key_file`) and why.
    pub fn new(config: &Jwt) -> Result<JwtVerifier, (&'static str, String)> {
        let key = match (config.algorithm, &config.secret, &config.public_key_file) {
            (JwtAlgorithm::HS256, Some(secret), None) => {
                if secret.len() < MIN_SECRET_LEN {
                    return Err((
                        "secret",
                        format!(
                            "must be at least {MIN_SECRET_LEN} bytes for HS256 (got {})",
                            secret.len()
                        ),
                    ));
                }
                DecodingKey::from_secret(secret.as_bytes())
            }
            (JwtAlgorithm::HS256, _, Some(_)) => {
                return Err((
                    "public_key_file",
                    "HS256 uses `secret`, not a key file".into(),
                ))
            }
            (JwtAlgorithm::HS256, None, None) => {
                return Err(("secret", "HS256 needs a secret".into()))
            }
            (_, Some(_), _) => {
                return Err(("secret", "RS256 and ES256 use `public_key_file`".into()))
            }
            (_, None, None) => {
                return Err((
                    "public_key_file",
                    "RS256 and ES256 need a public key".into(),
                ))
            }
            (a, None, Some(path)) => {
                let pem = std::fs::read(path)
                    .map_err(|e| ("public_key_file", format!("{}: {e}", path.display())))?;
                let key = match a {
                    JwtAlgorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
                    _ => DecodingKey::from_ec_pem(&pem),
                };
                key.map_err(|e| {
                    (
                        "public_key_file",
                        format!("{}: not a PEM public key for {a:?}: {e}", path.display()),
                    )
                })?
            }
        };
        let mut validation = Validation::new(algorithm(config.algorithm));
        // `exp` and `nbf` are checked by `verify` against the time it is given: jsonwebtoken
        // would read the system clock, and the engine, which asks, has none of its own.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = true;
        let mut required = vec!["exp"];
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        if let Some(audience) = &config.audience {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        Ok(JwtVerifier { key, validation })
    }

    /// Whether a password is meant as a token: three dot-separated parts whose first is a JWT
    /// header. A password that is not goes to the password file.
    pub fn is_token(password: &[u8]) -> bool {
        password.iter().filter(|b| **b == b'.').count() == 2
            && jsonwebtoken::decode_header(password).is_ok()
    }

    /// Verifies `token` for a CONNECT naming `connect_user` at wall-clock time `now`: the
    /// grant it gives, or why not.
    pub fn verify(
        &self,
        token: &[u8],
        connect_user: Option<&str>,
        now: SystemTime,
    ) -> Result<Grant, JwtError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)?;
        let claims = data.claims;
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        // The leeway for clock skew that jsonwebtoken's own checks would allow.
        let leeway = self.validation.leeway;
        if claims
            .exp
            .is_some_and(|exp| exp.saturating_add(leeway) < now)
        {
            return Err(JwtError::Invalid(ErrorKind::ExpiredSignature.into()));
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(JwtError::Invalid(ErrorKind::ImmatureSignature.into()));
        }
        let sub = claims.sub.ok_or(JwtError::NoSubject)?;
        if let Some(user) = connect_user.filter(|u| *u != sub) {
            return Err(JwtError::OtherUser {
                token: sub,
                connect: user.to_owned(),
            });
        }
        let topics = match claims.topics {
            None => None,
            Some(t) => {
                let parse = |list: &[String]| -> Result<Vec<Pattern>, JwtError> {
                    list.iter()
                        .map(|p| Pattern::new(p).map_err(JwtError::BadTopics))
                        .collect()
                };
                Some(Arc::new(TopicLimits {
                    read: parse(&t.read)?,
                    write: parse(&t.write)?,
                }))
            }
        };
        // `exp` is required; the token is good until it passes, with the leeway.
        let valid_for = claims
            .exp
            .map(|exp| Duration::from_secs(exp.saturating_add(leeway).saturating_sub(now)));
        Ok(Grant {
            username: Some(sub.into()),
            topics,
            valid_for,
            properties: Default::default(),
        })
    }
}

/// What `tern jwt-gen` signs with.
pub enum SigningKey<'a> {
    Secret(&'a [u8]),
    PrivateKeyFile(&'a Path),
}

/// A signed token for `user`, expiring `expires_in` from now, limited to `topics` if given.
pub fn generate(
    algorithm_name: JwtAlgorithm,
    key: SigningKey<'_>,
    user: &str,
    expires_in: Duration,
    topics: Option<TopicsClaim>,
) -> Result<String, String> {
    let key = match (algorithm_name, key) {
        (JwtAlgorithm::HS256, SigningKey::Secret(s)) => {
            if s.len() < MIN_SECRET_LEN {
                return Err(format!(
                    "the secret must be at least {MIN_SECRET_LEN} bytes for HS256"
                ));
            }
            EncodingKey::from_secret(s)
        }
        (JwtAlgorithm::HS256, SigningKey::PrivateKeyFile(_)) => {
            return Err("HS256 signs with --secret, not a key file".into())
        }
        (_, SigningKey::Secret(_)) => return Err("RS256 and ES256 sign with --private-key".into()),
        (a, SigningKey::PrivateKeyFile(path)) => {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let key = match a {
                JwtAlgorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
                _ => EncodingKey::from_ec_pem(&pem),
            };
            key.map_err(|e| {
                format!(
                    "{}: not a PEM private key for {a:?} (ES256 wants PKCS#8): {e}",
                    path.display()
                )
            })?
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let claims = Claims {
        sub: Some(user.to_owned()),
        exp: Some(now.saturating_add(expires_in.as_secs())),
        iat: Some(now),
        nbf: None,
        topics,
    };
    if let Some(t) = &claims.topics {
        for p in t.read.iter().chain(&t.write) {
            Pattern::new(p)?;
        }
    }
    jsonwebtoken::encode(&Header::new(algorithm(algorithm_name)), &claims, &key)
        .map_err(|e| format!("cannot sign the token: {e}"))
}

#[cfg(test)]
mod tests;
