//! `[grpc]` as the configuration file spells it: where the gRPC API listens, and who may
//! call it. The configuration (`crate::config`) embeds this type and checks it.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use serde::{Deserialize, Serialize};

use crate::server::options::Tls;

/// `[grpc]`: the gRPC publish/subscribe API (`broker/proto/tern.proto`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Grpc {
    /// Whether the gRPC listener runs (default true).
    pub enabled: bool,
    /// The address and port it listens on (default `127.0.0.1:50051`: this machine only).
    /// Port 0 picks a free port. An address other than a loopback one needs `token`.
    pub bind: SocketAddr,
    /// The bearer token every call must carry (`authorization: Bearer <token>` metadata)
    /// when it is set (default empty: none). Required when `bind` is not a loopback address.
    /// Calls also log in as MQTT clients do (`username` and `password` metadata), and the
    /// ACL applies to them.
    pub token: String,
    /// `[grpc.tls]`: gRPC over TLS, with the keys and the rustls setup of `[listener.tls]`
    /// (certificates read again on SIGHUP). `None` (the default): plain HTTP/2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

impl Default for Grpc {
    fn default() -> Grpc {
        Grpc {
            enabled: true,
            bind: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 50051)),
            token: String::new(),
            tls: None,
        }
    }
}

impl Grpc {
    /// Why this configuration cannot start, if it cannot: the key and the reason.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(tls) = &self.tls {
            if tls.identity_as_username.is_some() {
                return Err((
                    "grpc.tls.identity_as_username",
                    "gRPC callers log in with `username` and `password` metadata: leave it out"
                        .to_owned(),
                ));
            }
        }
        if self.enabled && !self.bind.ip().is_loopback() && self.token.is_empty() {
            return Err((
                "grpc.token",
                format!(
                    "{} is reachable from other machines: set grpc.token (a long random \
                     string; callers then send `authorization: Bearer <token>`), or bind to \
                     127.0.0.1",
                    self.bind
                ),
            ));
        }
        Ok(())
    }
}
