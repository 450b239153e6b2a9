//! `[auth.http]`: users and rights from an HTTP service, in the convention EMQX made common,
//! so that services written for it work unchanged.
//!
//! - **Authentication**: `authenticate_url` gets a POST of JSON `{"clientid", "username",
//!   "password", "peerhost", "protocol"}`.
//! - **Authorization**: `authorize_url` gets `{"clientid", "username", "peerhost", "topic",
//!   "action": "publish" | "subscribe", "qos", "retain"}`.
//! - **The answer**: 200 with `{"result": "allow" | "deny" | "ignore"}`, or 204 (allow).
//!   Any other status, or a 200 whose body says none of the three, is "ignore": the next
//!   source decides (the broker's own authentication, the ACL file), as in EMQX.
//! - **A service that does not answer** (refused connection, timeout, a 5xx) decides as
//!   `when_unavailable` says: `"deny"` (the default: CONNACK 0x88 Server unavailable, not a
//!   "bad password"; PUBACK/SUBACK 0x80), `"allow"` or `"ignore"`.
//!
//! Requests go through one pooled client with a timeout; TLS (an `https://` URL) trusts the
//! CA of `ca_file`. Decisions may be cached for `cache_ms`. Every refusal and every failure is
//! one log line and a counter ([`HttpStats`]). Nothing here runs on the engine task: the
//! server calls these from the tasks that answer the engine's questions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::client_tls::client_config;

/// `[auth.http]` as the configuration file spells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpAuth {
    /// Where CONNECTs are checked (POST). `None`: logins are not asked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticate_url: Option<String>,
    /// Where PUBLISHes and SUBSCRIBEs are checked (POST). `None`: not asked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_url: Option<String>,
    /// How long a request may take, in milliseconds (default 5000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u32,
    /// What a service that does not answer decides (default deny).
    #[serde(default)]
    pub when_unavailable: WhenUnavailable,
    /// How long a decision is kept and reused, in milliseconds (default 0: not kept).
    #[serde(default)]
    pub cache_ms: u32,
    /// The CA that signs an `https://` service's certificate (PEM). Required for https.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

fn default_timeout_ms() -> u32 {
    5000
}

/// `auth.http.when_unavailable`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenUnavailable {
    #[default]
    Deny,
    Allow,
    Ignore,
}

/// What the service decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
    /// Not the service's to decide: the next source decides.
    Ignore,
    /// The service did not answer; `when_unavailable` turned into a decision by the caller.
    Unavailable,
}

/// What the service is asked about a login.
#[derive(Debug, Serialize)]
pub struct LoginRequest<'a> {
    pub clientid: &'a str,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub peerhost: Option<String>,
    pub protocol: &'a str,
}

/// What the service is asked about a PUBLISH or a SUBSCRIBE.
#[derive(Debug, Serialize)]
pub struct AccessRequest<'a> {
    pub clientid: &'a str,
    pub username: Option<&'a str>,
    pub peerhost: Option<String>,
    pub topic: &'a str,
    pub action: &'a str,
    pub qos: u8,
    pub retain: bool,
}

/// Counters of what the service answered.
#[derive(Debug, Default)]
pub struct HttpStats {
    pub allowed: AtomicU64,
    pub denied: AtomicU64,
    pub ignored: AtomicU64,
    /// Requests that got no usable answer (refused, timed out, 5xx).
    pub unavailable: AtomicU64,
    /// 200s whose body was not `{"result": ...}`.
    pub garbage: AtomicU64,
}

/// The HTTP service, and a cache of its decisions.
pub struct HttpBackend {
    client: reqwest::Client,
    settings: HttpAuth,
    cache: Mutex<HashMap<String, (Decision, Instant)>>,
    pub stats: Arc<HttpStats>,
}

/// Decisions cached at most, per backend: one more empties the cache.
const MAX_CACHED: usize = 100_000;

impl HttpBackend {
    /// A client for `settings`: the CA file read now.
    pub fn new(settings: &HttpAuth) -> anyhow::Result<HttpBackend> {
        let timeout = Duration::from_millis(u64::from(settings.timeout_ms));
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(16);
        let https = [&settings.authenticate_url, &settings.authorize_url]
            .into_iter()
            .flatten()
            .any(|u| u.starts_with("https://"));
        if https && settings.ca_file.is_none() {
            anyhow::bail!("auth.http.ca_file: an https:// service needs the CA that signs it");
        }
        // Always a ring configuration of our own: reqwest, built without a crypto provider
        // (its default would be aws-lc), panics when it has to pick one itself. Without a CA
        // file it trusts nothing, and only http:// URLs are allowed then.
        let tls = client_config(settings.ca_file.as_deref(), None, "auth.http.ca_file")?;
        builder = builder.tls_backend_preconfigured(tls);
        let client = builder.build().context("auth.http: the HTTP client")?;
        Ok(HttpBackend {
            client,
            settings: settings.clone(),
            cache: Mutex::new(HashMap::new()),
            stats: Arc::default(),
        })
    }

    pub fn settings(&self) -> &HttpAuth {
        &self.settings
    }

    /// Asks `authenticate_url` about a login; `Ignore` without one.
    pub async fn authenticate(&self, request: &LoginRequest<'_>) -> Decision {
        let Some(url) = &self.settings.authenticate_url else {
            return Decision::Ignore;
        };
        self.ask(url, request).await
    }

    /// Asks `authorize_url` about a PUBLISH or SUBSCRIBE; `Ignore` without one.
    pub async fn authorize(&self, request: &AccessRequest<'_>) -> Decision {
        let Some(url) = &self.settings.authorize_url else {
            return Decision::Ignore;
        };
        self.ask(url, request).await
    }

    /// Posts `body` to `url` (or reuses a cached decision for the same body).
    async fn ask<T: Serialize>(&self, url: &str, body: &T) -> Decision {
        let Ok(json) = serde_json::to_string(body) else {
            return Decision::Unavailable;
        };
        let key = format!("{url}\n{json}");
        let ttl = Duration::from_millis(u64::from(self.settings.cache_ms));
        if !ttl.is_zero() {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((decision, at)) = cache.get(&key) {
                if at.elapsed() < ttl {
                    return *decision;
                }
            }
        }
        let decision = self.post(url, json).await;
        let counter = match decision {
            Decision::Allow => &self.stats.allowed,
            Decision::Deny => &self.stats.denied,
            Decision::Ignore => &self.stats.ignored,
            Decision::Unavailable => &self.stats.unavailable,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        // A service that did not answer is asked again next time.
        if !ttl.is_zero() && decision != Decision::Unavailable {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(key, (decision, Instant::now()));
        }
        decision
    }

    async fn post(&self, url: &str, json: String) -> Decision {
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(json)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                tracing::warn!(url, "auth.http: no answer: {e}");
                return Decision::Unavailable;
            }
        };
        let status = response.status().as_u16();
        match status {
            204 => Decision::Allow,
            200 => {
                let body = match response.bytes().await {
                    Ok(body) => body,
                    Err(e) => {
                        tracing::warn!(url, "auth.http: the answer broke off: {e}");
                        return Decision::Unavailable;
                    }
                };
                match result(&body) {
                    Some(decision) => decision,
                    None => {
                        self.stats.garbage.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            url,
                            "auth.http: a 200 without {{\"result\": \"allow\" | \
                            \"deny\" | \"ignore\"}}: taken as ignore"
                        );
                        Decision::Ignore
                    }
                }
            }
            500.. => {
                tracing::warn!(url, status, "auth.http: the service failed");
                Decision::Unavailable
            }
            _ => Decision::Ignore,
        }
    }
}

/// The `result` of a 200's JSON body.
fn result(body: &[u8]) -> Option<Decision> {
    #[derive(Deserialize)]
    struct Answer {
        result: String,
    }
    let answer: Answer = serde_json::from_slice(body).ok()?;
    match answer.result.as_str() {
        "allow" => Some(Decision::Allow),
        "deny" => Some(Decision::Deny),
        "ignore" => Some(Decision::Ignore),
        _ => None,
    }
}

/// The peer's IP address as the service is told it.
pub fn peerhost(peer: Option<SocketAddr>) -> Option<String> {
    peer.map(|p| p.ip().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_of_a_body_follows_the_convention() {
        assert_eq!(result(br#"{"result": "allow"}"#), Some(Decision::Allow));
        assert_eq!(
            result(br#"{"result": "deny", "is_superuser": false}"#),
            Some(Decision::Deny)
        );
        assert_eq!(result(br#"{"result": "ignore"}"#), Some(Decision::Ignore));
        assert_eq!(result(br#"{"result": "maybe"}"#), None);
        assert_eq!(result(b"<html>"), None);
        assert_eq!(result(b""), None);
    }
}
