//! `[http]` as the configuration file spells it: the broker's HTTP surface (dashboard, health
//! checks, Prometheus metrics, admin API). The configuration (`crate::config`) embeds this type and checks it;
//! the server binds and serves it.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use serde::{Deserialize, Serialize};

use crate::server::options::Tls;

/// `[http]`: where the broker answers HTTP (or HTTPS, with `[http.tls]`).
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
    /// `[http.tls]`: HTTPS instead of HTTP, with the same keys and the same rustls setup as
    /// `[listener.tls]` (certificates read again on SIGHUP). With `client_ca_file`, clients
    /// must also show a certificate that CA signed; the token rules stay the same. `None`
    /// (the default): plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

impl Default for Http {
    fn default() -> Http {
        Http {
            enabled: true,
            bind: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080)),
            token: String::new(),
            tls: None,
        }
    }
}

impl Http {
    /// Why this configuration cannot start, if it cannot: a listener reachable from other
    /// machines with nothing to stop anyone who reaches it.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(tls) = &self.tls {
            if tls.identity_as_username.is_some() {
                return Err((
                    "http.tls.identity_as_username",
                    "HTTP has no MQTT user to name: leave it out (the token rules apply)"
                        .to_owned(),
                ));
            }
        }
        if self.enabled && !self.bind.ip().is_loopback() && self.token.is_empty() {
            return Err((
                "http.token",
                format!(
                    "{} is reachable from other machines: set http.token (a long random string; \
                 clients then send `Authorization: Bearer <token>`), or bind to 127.0.0.1",
                    self.bind
                ),
            ));
        }
        Ok(())
    }
}
