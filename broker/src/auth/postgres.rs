//! `[auth.postgres]`: users and ACL rules kept in PostgreSQL.
//!
//! - **Users**: `password_query` (default `SELECT password_hash FROM mqtt_user WHERE username
//!   = $1`) gives a user's hash in the password file's format (what `tern passwd` writes after
//!   `user:`: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, salted PBKDF2).
//!   A user the query does not find is not this source's: the next one decides.
//! - **Rights**: `acl_query` (default `SELECT permission, action, topic FROM mqtt_acl WHERE
//!   username = $1 ORDER BY id`) gives rules in order: `permission` `allow` or `deny`,
//!   `action` `publish`, `subscribe` or `all`, `topic` a filter. The first rule that applies
//!   decides; none: not this source's. A rule applies to a PUBLISH whose topic it matches;
//!   an allow rule to a SUBSCRIBE whose every topic it matches, a deny rule to one that shares
//!   any topic with it (as the ACL file's rules do).
//!
//! Connections come from a pool (`pool_size`), each query within `timeout_ms`; a database
//! that does not answer decides as `when_unavailable` says (deny by default: CONNACK 0x88).
//! With `[auth.postgres.tls]` every connection is TLS (`sslmode=require` unless the
//! connection says otherwise; the server's certificate must chain to `ca_file` and name the
//! host), with a client certificate if one is given; without it, none is (`sslmode=require`
//! alone is refused at start rather than failing at the first login).
//! PBKDF2 runs on a blocking thread. Nothing here runs on the engine task.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde::{Deserialize, Serialize};
use tokio_postgres::config::SslMode;
use tokio_postgres::NoTls;

use super::client_tls::ClientTls;
use super::http::{Decision, HttpStats, WhenUnavailable};
use super::source::{applies, count, verify, UserSource};

/// `[auth.postgres]` as the configuration file spells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresAuth {
    /// The connection, as libpq spells it: `"host=127.0.0.1 port=5432 user=tern
    /// dbname=mqtt password=..."` (or a `postgresql://` URL).
    pub connection: String,
    /// The query that gives a user's password hash; `$1` is the user name.
    #[serde(default = "default_password_query")]
    pub password_query: String,
    /// The query that gives a user's rules; `$1` is the user name. Empty: rights are not
    /// asked here.
    #[serde(default = "default_acl_query")]
    pub acl_query: String,
    /// How long getting a connection and running a query may take, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u32,
    /// Connections kept open at most.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// What a database that does not answer decides (default deny).
    #[serde(default)]
    pub when_unavailable: WhenUnavailable,
    /// TLS to the database: the CA that signs its certificate, and a client certificate.
    #[serde(default)]
    pub tls: Option<ClientTls>,
}

fn default_password_query() -> String {
    "SELECT password_hash FROM mqtt_user WHERE username = $1".into()
}

fn default_acl_query() -> String {
    "SELECT permission, action, topic FROM mqtt_acl WHERE username = $1 ORDER BY id".into()
}

fn default_timeout_ms() -> u32 {
    5000
}

fn default_pool_size() -> usize {
    8
}

/// The pool, and counters of what the database decided.
pub struct PostgresBackend {
    pool: Pool,
    settings: PostgresAuth,
    pub stats: Arc<HttpStats>,
}

impl PostgresBackend {
    /// The pool for `settings` (no connection is made yet).
    pub fn new(settings: &PostgresAuth) -> anyhow::Result<PostgresBackend> {
        let timeout = Duration::from_millis(u64::from(settings.timeout_ms));
        let mut config: tokio_postgres::Config = settings
            .connection
            .parse()
            .context("auth.postgres.connection")?;
        config.connect_timeout(timeout);
        let manager_config = || ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &settings.tls {
            Some(tls) => {
                match config.get_ssl_mode() {
                    SslMode::Disable => anyhow::bail!(
                        "auth.postgres: sslmode=disable in the connection, and [auth.postgres.tls]"
                    ),
                    // "prefer" would fall back to a plain connection without a word.
                    SslMode::Prefer => {
                        config.ssl_mode(SslMode::Require);
                    }
                    _ => {}
                }
                let tls = tls.config("auth.postgres.tls")?;
                let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
                Manager::from_config(config, connector, manager_config())
            }
            None => {
                if config.get_ssl_mode() == SslMode::Require {
                    anyhow::bail!(
                        "auth.postgres: sslmode=require needs [auth.postgres.tls] (the CA to trust)"
                    );
                }
                Manager::from_config(config, NoTls, manager_config())
            }
        };
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .context("auth.postgres: the connection pool")?;
        Ok(PostgresBackend {
            pool,
            settings: settings.clone(),
            stats: Arc::default(),
        })
    }

    pub fn settings(&self) -> &PostgresAuth {
        &self.settings
    }

    /// Runs `query` with the user name, within the timeout; `None` if the database did not
    /// answer (logged).
    async fn rows(&self, query: &str, user: &str) -> Option<Vec<tokio_postgres::Row>> {
        let timeout = Duration::from_millis(u64::from(self.settings.timeout_ms));
        let run = async {
            let client = self.pool.get().await.map_err(|e| e.to_string())?;
            client
                .query(query, &[&user])
                .await
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(Ok(rows)) => Some(rows),
            Ok(Err(e)) => {
                tracing::warn!("auth.postgres: {e}");
                None
            }
            Err(_) => {
                tracing::warn!("auth.postgres: no answer within {timeout:?}");
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl UserSource for PostgresBackend {
    fn name(&self) -> &'static str {
        "auth.postgres"
    }

    fn when_unavailable(&self) -> WhenUnavailable {
        self.settings.when_unavailable
    }

    fn checks_logins(&self) -> bool {
        !self.settings.password_query.is_empty()
    }

    fn checks_rights(&self) -> bool {
        !self.settings.acl_query.is_empty()
    }

    fn stats(&self) -> &HttpStats {
        &self.stats
    }

    async fn authenticate(&self, user: &str, password: &[u8]) -> Decision {
        let Some(rows) = self.rows(&self.settings.password_query, user).await else {
            return count(&self.stats, Decision::Unavailable);
        };
        let Some(row) = rows.first() else {
            return count(&self.stats, Decision::Ignore);
        };
        let hash: String = row.try_get(0).unwrap_or_default();
        verify(self.name(), &self.stats, user, &hash, password).await
    }

    async fn authorize(&self, user: &str, topic: &str, action: &str) -> Decision {
        if self.settings.acl_query.is_empty() {
            return Decision::Ignore;
        }
        let Some(rows) = self.rows(&self.settings.acl_query, user).await else {
            return count(&self.stats, Decision::Unavailable);
        };
        for row in rows {
            let (Ok(permission), Ok(rule_action), Ok(rule)) = (
                row.try_get::<_, String>(0),
                row.try_get::<_, String>(1),
                row.try_get::<_, String>(2),
            ) else {
                continue;
            };
            if rule_action != "all" && rule_action != action {
                continue;
            }
            let allow = permission == "allow";
            if applies(&rule, allow, action, topic) {
                let decision = if allow {
                    Decision::Allow
                } else {
                    Decision::Deny
                };
                return count(&self.stats, decision);
            }
        }
        count(&self.stats, Decision::Ignore)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn settings(connection: &str, tls: Option<ClientTls>) -> PostgresAuth {
        let mut s: PostgresAuth = toml::from_str(&format!("connection = {connection:?}")).unwrap();
        s.tls = tls;
        s
    }

    #[test]
    fn tls_and_sslmode_must_agree() {
        let tls = ClientTls {
            ca_file: PathBuf::from("/nonexistent/ca.pem"),
            cert_file: None,
            key_file: None,
        };
        let error = |s: PostgresAuth| PostgresBackend::new(&s).err().map(|e| format!("{e:#}"));
        let e = error(settings("host=h sslmode=require", None)).unwrap();
        assert!(e.contains("needs [auth.postgres.tls]"), "{e}");
        let e = error(settings("host=h sslmode=disable", Some(tls.clone()))).unwrap();
        assert!(e.contains("sslmode=disable"), "{e}");
        // A CA file that is not there is named.
        let e = error(settings("host=h", Some(tls.clone()))).unwrap();
        assert!(
            e.contains("auth.postgres.tls") && e.contains("/nonexistent/ca.pem"),
            "{e}"
        );
        let half = ClientTls {
            cert_file: Some(PathBuf::from("c.pem")),
            ..tls
        };
        let e = error(settings("host=h", Some(half))).unwrap();
        assert!(e.contains("cert_file and key_file go together"), "{e}");
        assert!(error(settings("host=h", None)).is_none());
    }
}
