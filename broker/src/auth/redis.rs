//! `[auth.redis]`: users and ACL rules kept in Redis, in the key layout EMQX made common.
//!
//! - **Users**: the hash at `user_key` (default `mqtt_user:{username}`), field
//!   `password_hash`, in the password file's format (salted PBKDF2, checked on a blocking
//!   thread). A user without that key is not this source's: the next one decides.
//! - **Rights**: the hash at `acl_key` (default `mqtt_acl:{username}`; empty: not asked), one
//!   field per topic filter, whose value is `publish`, `subscribe` or `all` (allowed) or
//!   `deny` (refused, for every action). A deny field decides first; then an allowing one;
//!   none: not this source's.
//!
//! One multiplexed connection, reconnecting by itself; every command within `timeout_ms`; a
//! Redis that does not answer decides as `when_unavailable` says (deny by default: 0x88).
//! A `rediss://` URL is TLS: with `[auth.redis.tls]` the server's certificate must chain to
//! its `ca_file` (and the broker presents its client certificate, which Redis asks for by
//! default); without it, to the system's CAs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::client_tls::ClientTls;
use super::http::{Decision, HttpStats, WhenUnavailable};
use super::source::{applies, count, verify, UserSource};

/// `[auth.redis]` as the configuration file spells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisAuth {
    /// `redis://[user:password@]host:port/db`.
    pub url: String,
    /// The key of a user's hash; `{username}` is replaced. Empty: logins are not asked here.
    #[serde(default = "default_user_key")]
    pub user_key: String,
    /// The key of a user's rules; `{username}` is replaced. Empty: rights are not asked here.
    #[serde(default = "default_acl_key")]
    pub acl_key: String,
    /// How long a command may take, in milliseconds (connecting included).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u32,
    /// What a Redis that does not answer decides (default deny).
    #[serde(default)]
    pub when_unavailable: WhenUnavailable,
    /// TLS (a `rediss://` URL): the CA that signs the server's certificate, and a client
    /// certificate.
    #[serde(default)]
    pub tls: Option<ClientTls>,
}

fn default_user_key() -> String {
    "mqtt_user:{username}".into()
}

fn default_acl_key() -> String {
    "mqtt_acl:{username}".into()
}

fn default_timeout_ms() -> u32 {
    5000
}

/// The connection (made at first use), and counters of what Redis decided.
pub struct RedisBackend {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    settings: RedisAuth,
    pub stats: Arc<HttpStats>,
}

impl RedisBackend {
    /// A backend for `settings`: the URL is checked now, the connection made at first use.
    pub fn new(settings: &RedisAuth) -> anyhow::Result<RedisBackend> {
        let rediss = settings.url.starts_with("rediss://");
        let client = match &settings.tls {
            Some(_) if !rediss => {
                anyhow::bail!("auth.redis: [auth.redis.tls] needs a rediss:// url")
            }
            Some(tls) => {
                let pem = tls.pem("auth.redis.tls")?;
                let certificates = redis::TlsCertificates {
                    client_tls: pem.identity.map(|(client_cert, client_key)| {
                        redis::ClientTlsConfig {
                            client_cert,
                            client_key,
                        }
                    }),
                    root_cert: Some(pem.ca),
                };
                // The redis crate builds its rustls configuration with the process's
                // default provider: make it ring, as everywhere in the broker (an
                // application that embeds Tern and chose one keeps its own).
                let _ = rustls::crypto::ring::default_provider().install_default();
                redis::Client::build_with_tls(settings.url.as_str(), certificates)
                    .context("auth.redis.url")?
            }
            None => {
                if rediss {
                    let _ = rustls::crypto::ring::default_provider().install_default();
                }
                redis::Client::open(settings.url.as_str()).context("auth.redis.url")?
            }
        };
        Ok(RedisBackend {
            client,
            connection: OnceCell::new(),
            settings: settings.clone(),
            stats: Arc::default(),
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.settings.timeout_ms))
    }

    /// Runs `command` within the timeout; `None` if Redis did not answer (logged).
    async fn run<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Option<T> {
        let work = async {
            let connection = self
                .connection
                .get_or_try_init(|| ConnectionManager::new(self.client.clone()))
                .await?;
            let mut connection = connection.clone();
            command.query_async::<T>(&mut connection).await
        };
        match tokio::time::timeout(self.timeout(), work).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                tracing::warn!("auth.redis: {e}");
                None
            }
            Err(_) => {
                tracing::warn!("auth.redis: no answer within {:?}", self.timeout());
                None
            }
        }
    }

    fn key(template: &str, user: &str) -> String {
        template.replace("{username}", user)
    }
}

#[async_trait::async_trait]
impl UserSource for RedisBackend {
    fn name(&self) -> &'static str {
        "auth.redis"
    }

    fn when_unavailable(&self) -> WhenUnavailable {
        self.settings.when_unavailable
    }

    fn checks_logins(&self) -> bool {
        !self.settings.user_key.is_empty()
    }

    fn checks_rights(&self) -> bool {
        !self.settings.acl_key.is_empty()
    }

    fn stats(&self) -> &HttpStats {
        &self.stats
    }

    async fn authenticate(&self, user: &str, password: &[u8]) -> Decision {
        let mut command = redis::cmd("HGET");
        command
            .arg(Self::key(&self.settings.user_key, user))
            .arg("password_hash");
        let Some(hash) = self.run::<Option<String>>(command).await else {
            return count(&self.stats, Decision::Unavailable);
        };
        let Some(hash) = hash else {
            return count(&self.stats, Decision::Ignore);
        };
        verify(self.name(), &self.stats, user, &hash, password).await
    }

    async fn authorize(&self, user: &str, topic: &str, action: &str) -> Decision {
        if self.settings.acl_key.is_empty() {
            return Decision::Ignore;
        }
        let mut command = redis::cmd("HGETALL");
        command.arg(Self::key(&self.settings.acl_key, user));
        let Some(rules) = self.run::<HashMap<String, String>>(command).await else {
            return count(&self.stats, Decision::Unavailable);
        };
        let denied = (rules.iter())
            .any(|(rule, value)| value == "deny" && applies(rule, false, action, topic));
        if denied {
            return count(&self.stats, Decision::Deny);
        }
        let allowed = rules.iter().any(|(rule, value)| {
            (value == "all" || value == action) && applies(rule, true, action, topic)
        });
        count(
            &self.stats,
            if allowed {
                Decision::Allow
            } else {
                Decision::Ignore
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_needs_a_rediss_url() {
        let mut settings: RedisAuth = toml::from_str("url = \"redis://127.0.0.1/0\"").unwrap();
        settings.tls = Some(ClientTls {
            ca_file: "/nonexistent/ca.pem".into(),
            cert_file: None,
            key_file: None,
        });
        let e = format!("{:#}", RedisBackend::new(&settings).err().unwrap());
        assert!(e.contains("rediss://"), "{e}");
        settings.url = "rediss://127.0.0.1/0".into();
        let e = format!("{:#}", RedisBackend::new(&settings).err().unwrap());
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }
}
