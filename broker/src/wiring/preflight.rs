//! The pre-flight: every check of a configuration, including those that load the files it
//! names (certificates, the password file, the ACL, the JWT key). `tern check-config` and
//! the start both run it, so a configuration that checks is one that starts. The
//! configuration module itself reads no file; the adapters that load the files are below.

use crate::auth::acl::{Acl, AclError};
use crate::auth::jwt::JwtVerifier;
use crate::auth::{PasswordFile, PasswordFileError};
use crate::config::{Config, ConfigError};

/// Checks `config`: its own rules ([`Config::validate`]), then that every file it names
/// loads. The error names the first key at fault.
pub fn preflight(config: &Config) -> Result<(), ConfigError> {
    config.validate()?;
    for (i, l) in config.listeners.iter().enumerate() {
        if let Some(tls) = &l.tls {
            if let Err(e) = crate::server::tls::check(tls) {
                return Err(ConfigError::invalid(
                    format!("listener[{i}].tls.{}", e.key),
                    e.message,
                ));
            }
        }
    }
    let surfaces = [("http", &config.http.tls), ("grpc", &config.grpc.tls)];
    for (name, tls) in surfaces {
        if let Some(tls) = tls {
            if let Err(e) = crate::server::tls::check(tls) {
                return Err(ConfigError::invalid(
                    format!("{name}.tls.{}", e.key),
                    e.message,
                ));
            }
        }
    }
    let auth = &config.auth;
    if let Some(path) = &auth.password_file {
        if let Err(e) = PasswordFile::load(path) {
            let message = match e {
                PasswordFileError::Line { .. } => format!("{}: {e}", path.display()),
                _ => e.to_string(),
            };
            return Err(ConfigError::invalid("auth.password_file", message));
        }
    }
    if let Some(path) = &auth.acl_file {
        if let Err(e) = Acl::load(path, false) {
            let message = match e {
                AclError::Line { .. } => format!("{}: {e}", path.display()),
                _ => e.to_string(),
            };
            return Err(ConfigError::invalid("auth.acl_file", message));
        }
    }
    if let Some(http) = &auth.http {
        for (key, url) in [
            ("authenticate_url", &http.authenticate_url),
            ("authorize_url", &http.authorize_url),
        ] {
            if let Some(url) = url {
                if !url.starts_with("http://") && !url.starts_with("https://") {
                    return Err(ConfigError::invalid(
                        format!("auth.http.{key}"),
                        format!("{url:?}: an http:// or https:// URL"),
                    ));
                }
            }
        }
        if http.authenticate_url.is_none() && http.authorize_url.is_none() {
            return Err(ConfigError::invalid(
                "auth.http",
                "set authenticate_url, authorize_url or both",
            ));
        }
        if http.timeout_ms == 0 {
            return Err(ConfigError::invalid("auth.http.timeout_ms", "at least 1"));
        }
        if let Err(e) = crate::auth::http::HttpBackend::new(http) {
            return Err(ConfigError::invalid("auth.http", format!("{e:#}")));
        }
    }
    if let Some(pg) = &auth.postgres {
        if let Err(e) = pg.connection.parse::<tokio_postgres::Config>() {
            return Err(ConfigError::invalid(
                "auth.postgres.connection",
                e.to_string(),
            ));
        }
        if pg.timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "auth.postgres.timeout_ms",
                "at least 1",
            ));
        }
        if let Err(e) = crate::auth::postgres::PostgresBackend::new(pg) {
            return Err(ConfigError::invalid("auth.postgres", format!("{e:#}")));
        }
    }
    if let Some(redis) = &auth.redis {
        if let Err(e) = crate::auth::redis::RedisBackend::new(redis) {
            return Err(ConfigError::invalid("auth.redis.url", format!("{e:#}")));
        }
        if redis.timeout_ms == 0 {
            return Err(ConfigError::invalid("auth.redis.timeout_ms", "at least 1"));
        }
    }
    if let Some(message) = auth.order_error() {
        return Err(ConfigError::invalid("auth.order", message));
    }
    if let Some(jwt) = &auth.jwt {
        if let Err((key, message)) = JwtVerifier::new(jwt) {
            return Err(ConfigError::invalid(format!("auth.jwt.{key}"), message));
        }
    }
    Ok(())
}
