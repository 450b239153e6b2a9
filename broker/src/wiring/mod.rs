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
    let http_auth = match &config.auth.http {
        Some(http) => Some(std::sync::Arc::new(crate::auth::http::HttpBackend::new(
            http,
        )?)),
        None => None,
    };
    let mut user_sources: Vec<std::sync::Arc<dyn crate::auth::source::UserSource>> = Vec::new();
    if let Some(pg) = &config.auth.postgres {
        let backend = crate::auth::postgres::PostgresBackend::new(pg)?;
        user_sources.push(std::sync::Arc::new(backend));
    }
    if let Some(redis) = &config.auth.redis {
        let backend = crate::auth::redis::RedisBackend::new(redis)?;
        user_sources.push(std::sync::Arc::new(backend));
    }
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
        http_auth,
        user_sources,
    })
    .await
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
