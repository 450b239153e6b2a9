//! `[http]` as the configuration file spells it: the broker's HTTP surface (dashboard, health
//! checks, Prometheus metrics, admin API). The configuration (`crate::config`) embeds this type and checks it;
//! the server binds and serves it.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use serde::{Deserialize, Serialize};

/// `[http]`: where the broker answers HTTP (plain HTTP: no TLS yet).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    /// Whether the HTTP listener runs (default true).
    pub enabled: bool,
    /// The address and port it listens on (default `127.0.0.1:8080`: this machine only).
    /// Port 0 picks a free port. An address other than a loopback one needs `token`.
    pub bind: SocketAddr,
    /// The bearer token (`Authorization: Bearer <token>`) that endpoints changing something
    /// require (refused while it is empty), and that every endpoint but the dashboard page
    /// and the probes requires when `bind` is not a loopback address (default empty: none
    /// set). Required when `bind` is not a loopback address.
    pub token: String,
}

impl Default for Http {
    fn default() -> Http {
        Http {
            enabled: true,
            bind: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080)),
            token: String::new(),
        }
    }
}

impl Http {
    /// Why this configuration cannot start, if it cannot: a listener reachable from other
    /// machines with nothing to stop anyone who reaches it.
    pub fn check(&self) -> Result<(), String> {
        if self.enabled && !self.bind.ip().is_loopback() && self.token.is_empty() {
            return Err(format!(
                "{} is reachable from other machines: set http.token (a long random string; \
                 clients then send `Authorization: Bearer <token>`), or bind to 127.0.0.1",
                self.bind
            ));
        }
        Ok(())
    }
}
