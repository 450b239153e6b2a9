//! `[auth]` as the configuration file spells it: what the adapters of this floor load. The
//! configuration (`crate::config`) embeds these types, and checks their ranges; the files
//! they name are loaded here ([`super::Security::load`]) and checked before start by the
//! wiring's pre-flight.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[auth]`: authentication: a password file (user names and passwords in CONNECT, and
/// SCRAM-SHA-256 enhanced authentication in 5.0), anonymous access, and the failed-login
/// delay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// Whether clients may connect without a user name (default true). Without a password
    /// file, false refuses every CONNECT with CONNACK 0x87 Not authorized (5.0) or 0x05
    /// (3.x); with one, only those without a user name.
    pub allow_anonymous: bool,
    /// The password file (`tern passwd` writes it), relative to the working directory. `None`
    /// (the default): no credential store, user names and passwords are not checked, and
    /// `allow_anonymous` alone decides. With a file, a CONNECT with a user name must give its
    /// password (else CONNACK 0x86 Bad User Name or Password, 3.x: 0x04), and a 5.0 CONNECT
    /// with Authentication Method `SCRAM-SHA-256` runs that exchange (another method: 0x8C).
    /// The file must load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// How long, in milliseconds, the refusal of a wrong password or unknown user waits
    /// before its CONNACK is sent (default 1000), to slow down guessing; other clients are
    /// not held up. At most [`MAX_FAILED_LOGIN_DELAY_MS`].
    pub failed_login_delay_ms: u32,
    /// The ACL file (`crate::auth::acl` describes its format): who may publish and subscribe
    /// to what. `None` (the default): every client may publish and subscribe to any topic.
    /// The file must load; it is read again on SIGHUP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl_file: Option<PathBuf>,
    /// What the ACL file decides for a topic none of its rules matches: `"deny"` (the
    /// default) or `"allow"`. Only with `acl_file`.
    pub acl_default: AclDefault,
    /// `[auth.jwt]`: logins with a JSON Web Token as the CONNECT password. `None` (the
    /// default): passwords are never taken for tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<Jwt>,
    /// `[auth.http]`: logins and rights from an HTTP service (see `crate::auth::http`).
    /// Asked where `order` says (by default first); its "ignore" hands the decision on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<super::http::HttpAuth>,
    /// `[auth.postgres]`: users and ACL rules from PostgreSQL (see `crate::auth::postgres`).
    /// Asked where `order` says (by default after `[auth.http]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres: Option<super::postgres::PostgresAuth>,
    /// `[auth.redis]`: users and ACL rules from Redis (see `crate::auth::redis`). Asked
    /// where `order` says (by default after `[auth.postgres]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<super::redis::RedisAuth>,
    /// The order in which the sources are asked about a login, a PUBLISH and a SUBSCRIBE:
    /// each configured one of `"http"`, `"postgres"`, `"redis"`, and `"local"` (the password
    /// file, JWT and the anonymous rule), once. The first that decides (allow or deny)
    /// decides; one that does not know the user (or has no rule for the topic) hands on.
    /// `"local"` takes the logins of its password file's users and of tokens, and hands the
    /// others on; when no source decides, it decides (an unknown user is refused). The ACL
    /// file is checked before any source, in the engine. `None` (the default): http,
    /// postgres, redis, then local.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<Vec<SourceKind>>,
}

/// A source of logins and rights, as `auth.order` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Http,
    Postgres,
    Redis,
    Local,
}

impl Auth {
    /// The sources in the order they are asked: `order` as given, or the default order of
    /// those configured.
    pub fn order(&self) -> Vec<SourceKind> {
        match &self.order {
            Some(order) => order.clone(),
            None => [
                SourceKind::Http,
                SourceKind::Postgres,
                SourceKind::Redis,
                SourceKind::Local,
            ]
            .into_iter()
            .filter(|k| self.configures(*k))
            .collect(),
        }
    }

    /// Whether the source `kind` has its section (the local one always has).
    pub fn configures(&self, kind: SourceKind) -> bool {
        match kind {
            SourceKind::Http => self.http.is_some(),
            SourceKind::Postgres => self.postgres.is_some(),
            SourceKind::Redis => self.redis.is_some(),
            SourceKind::Local => true,
        }
    }

    /// What is wrong with an explicit `order`: a source named twice or not configured, or
    /// a configured one left out.
    pub fn order_error(&self) -> Option<String> {
        let order = self.order.as_ref()?;
        for (i, kind) in order.iter().enumerate() {
            let name = format!("{kind:?}").to_lowercase();
            if order[..i].contains(kind) {
                return Some(format!("\"{name}\" is named twice"));
            }
            if !self.configures(*kind) {
                return Some(format!("\"{name}\" has no [auth.{name}] section"));
            }
        }
        let all = [
            SourceKind::Http,
            SourceKind::Postgres,
            SourceKind::Redis,
            SourceKind::Local,
        ];
        let missing = all
            .into_iter()
            .find(|k| self.configures(*k) && !order.contains(k))?;
        let name = format!("{missing:?}").to_lowercase();
        Some(format!("\"{name}\" is configured but not in the order"))
    }
}

impl Default for Auth {
    fn default() -> Auth {
        Auth {
            allow_anonymous: true,
            password_file: None,
            failed_login_delay_ms: 1000,
            acl_file: None,
            acl_default: AclDefault::Deny,
            jwt: None,
            http: None,
            postgres: None,
            redis: None,
            order: None,
        }
    }
}

/// `auth.acl_default`: what the ACL decides when no rule matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AclDefault {
    Allow,
    #[default]
    Deny,
}

/// `[auth.jwt]`: how a token in a CONNECT's password is verified. A token must be signed with
/// `algorithm`, carry `exp` (not past, with 60 s allowed for clock skew) and `sub` (the user
/// name: a CONNECT with a user name must give the same one; one without gets it), and, if
/// `issuer` or `audience` is set, that `iss` or `aud`. An optional `topics` claim,
/// `{"read": [filters], "write": [filters]}`, limits the connection on top of the ACL. The
/// connection is closed when `exp` passes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jwt {
    /// `"HS256"` (a shared secret), `"RS256"` (RSA) or `"ES256"` (ECDSA P-256).
    pub algorithm: JwtAlgorithm,
    /// The HS256 secret, at least 32 bytes. Only for HS256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The PEM public key (SPKI, or PKCS#1 for RSA) that verifies RS256 or ES256 tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_file: Option<PathBuf>,
    /// The `iss` every token must carry. `None` (the default): not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The `aud` every token must carry. `None` (the default): a token with an `aud` claim is
    /// refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

/// A JWT signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    HS256,
    RS256,
    ES256,
}

/// Largest accepted `auth.failed_login_delay_ms`: a minute.
pub const MAX_FAILED_LOGIN_DELAY_MS: u32 = 60_000;
