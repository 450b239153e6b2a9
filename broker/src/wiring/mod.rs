//! The wiring: the top floor of the library, where the configuration meets the parts it
//! configures. It turns a [`Config`] into the engine's [`Settings`](crate::engine::Settings)
//! (`settings`), checks everything the configuration names before anything starts
//! (`preflight`), loads the adapters (`[auth]`) and hands it all to the server (`bind`).
//!
//! Nothing below this floor reads the configuration as a whole: the engine defines its
//! settings and ports, the adapters and the server take the sections they own.

mod preflight;
mod settings;
#[cfg(test)]
mod tests;

pub use preflight::preflight;
pub use settings::settings;

use anyhow::Context;

use crate::auth::Security;
use crate::config::{Config, StorageMode};
use crate::engine::store::Store;
use crate::server::backends::Source;
use crate::server::{Server, Setup};
use crate::store::DiskStore;

/// Checks `config` (`preflight`), loads what `[auth]` names, loads the certificates of TLS
/// listeners and binds every listener: a server ready to run.
pub async fn bind(config: Config) -> anyhow::Result<Server> {
    preflight(&config).context("configuration")?;
    let security = Security::load(&config.auth)?;
    let storage = &config.storage;
    let store: Option<Box<dyn Store>> = match storage.mode {
        StorageMode::Memory => None,
        StorageMode::Disk => {
            let limit = (storage.max_disk_bytes > 0).then_some(storage.max_disk_bytes);
            let store = DiskStore::open(&storage.path, storage.sync_policy())?;
            Some(Box::new(store.with_max_bytes(limit)))
        }
    };
    let sources = sources(&config.auth, &security)?;
    let config_json = redacted(&config);
    Server::bind(Setup {
        settings: settings(&config),
        security,
        auth: config.auth,
        listeners: config.listeners,
        store,
        config_json,
        http: config.http,
        grpc: config.grpc,
        sources,
    })
    .await
}

/// The sources of `[auth]`, their clients built, in the order they are asked.
fn sources(auth: &crate::auth::options::Auth, security: &Security) -> anyhow::Result<Vec<Source>> {
    use crate::auth::options::SourceKind;
    use std::sync::{Arc, RwLock};
    let mut sources = Vec::new();
    for kind in auth.order() {
        let source = match (kind, &auth.http, &auth.postgres, &auth.redis) {
            (SourceKind::Http, Some(http), _, _) => {
                Source::Http(Arc::new(crate::auth::http::HttpBackend::new(http)?))
            }
            (SourceKind::Postgres, _, Some(pg), _) => {
                Source::Store(Arc::new(crate::auth::postgres::PostgresBackend::new(pg)?))
            }
            (SourceKind::Redis, _, _, Some(redis)) => {
                Source::Store(Arc::new(crate::auth::redis::RedisBackend::new(redis)?))
            }
            (SourceKind::Local, ..) => Source::Local(Arc::new(RwLock::new(security.local.clone()))),
            // `preflight` refused an order naming a source without its section.
            (kind, ..) => anyhow::bail!("auth.order: {kind:?} is not configured"),
        };
        sources.push(source);
    }
    Ok(sources)
}

/// The configuration as JSON for the admin API, with every secret replaced: the HTTP token,
/// the JWT secret. (Files are named, not read: a password file's path is no secret.)
fn redacted(config: &Config) -> serde_json::Value {
    let mut value = serde_json::to_value(config).unwrap_or_default();
    for pointer in [
        "/http/token",
        "/grpc/token",
        "/auth/jwt/secret",
        "/auth/postgres/connection",
        "/auth/redis/url",
    ] {
        if let Some(secret) = value.pointer_mut(pointer) {
            if secret.as_str().is_some_and(|s| !s.is_empty()) {
                *secret = serde_json::Value::from("(redacted)");
            }
        }
    }
    value
}
