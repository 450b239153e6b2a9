//! TLS on a listener (`[listener.tls]`): the rustls server configuration built from PEM
//! files, the handshake of each connection, the identity of a client certificate, and the
//! reload of the files on SIGHUP.
//!
//! rustls runs with the ring provider, passed explicitly (never a process-wide default, so
//! that another crate enabling aws-lc cannot make building a configuration panic). TLS 1.2
//! and 1.3 are offered, or 1.3 alone with `min_version = "1.3"`.
//!
//! The handshake runs in the connection's own task with [`HANDSHAKE_TIMEOUT`], never in the
//! accept loop, so a slow or silent client holds up nobody. A reload builds a whole new
//! configuration from the files and swaps it in: handshakes that start afterwards use it,
//! connections already open keep the session they negotiated.

mod identity;

use std::io;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::options::{ClientAuth, Tls, TlsVersion};
use crate::engine::CertLogin;

pub use identity::PeerCert;

/// How long a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS file or setting that cannot be used, with the key of `[listener.tls]` it concerns.
#[derive(Debug, PartialEq, Eq)]
pub struct TlsError {
    /// `cert_file`, `key_file`, `client_ca_file`, ...
    pub key: &'static str,
    pub message: String,
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tls.{}: {}", self.key, self.message)
    }
}

impl std::error::Error for TlsError {}

fn error(key: &'static str, message: impl std::fmt::Display) -> TlsError {
    TlsError {
        key,
        message: message.to_string(),
    }
}

/// Checks that `[listener.tls]` is usable: the settings agree and every file loads.
pub fn check(tls: &Tls) -> Result<(), TlsError> {
    server_config(tls, &[]).map(drop)
}

/// What the TLS layer learnt about the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The verified certificate's subject (RFC 4514); `None` without a certificate.
    pub cert_identity: Option<String>,
    /// The user name the certificate gives, per `identity_as_username`.
    pub cert_login: CertLogin,
}

/// The TLS side of one listener: its settings and the rustls configuration in force.
pub struct TlsListener {
    settings: Tls,
    /// The application protocols offered in the handshake (ALPN); none for MQTT.
    alpn: &'static [&'static [u8]],
    current: RwLock<TlsAcceptor>,
}

impl TlsListener {
    /// Loads the files of `settings`.
    pub fn new(settings: &Tls) -> Result<TlsListener, TlsError> {
        TlsListener::with_alpn(settings, &[])
    }

    /// Loads the files of `settings`, and offers the application protocols `alpn` in the
    /// handshake (gRPC: HTTP/2, which its clients insist on).
    pub fn with_alpn(
        settings: &Tls,
        alpn: &'static [&'static [u8]],
    ) -> Result<TlsListener, TlsError> {
        let config = server_config(settings, alpn)?;
        Ok(TlsListener {
            settings: settings.clone(),
            alpn,
            current: RwLock::new(TlsAcceptor::from(Arc::new(config))),
        })
    }

    /// Reads the files again and, if they load, uses them for every handshake from now on.
    /// On error the configuration in force stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = server_config(&self.settings, self.alpn)?;
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        *current = TlsAcceptor::from(Arc::new(config));
        Ok(())
    }

    /// The settings the listener was configured with.
    pub fn settings(&self) -> &Tls {
        &self.settings
    }

    /// Runs the server side of the handshake on `stream`, within [`HANDSHAKE_TIMEOUT`].
    /// The error says why the connection ends, for the log.
    pub async fn accept<S>(&self, stream: S) -> Result<(TlsStream<S>, ClientIdentity), String>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let acceptor = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
            .await
            .map_err(|_| "the TLS handshake took too long".to_owned())?
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        let (_, session) = stream.get_ref();
        let identity = match session.peer_certificates().and_then(|chain| chain.first()) {
            None => ClientIdentity::default(),
            Some(der) => {
                let cert = PeerCert::parse(der)?;
                ClientIdentity {
                    cert_login: cert.login(self.settings.identity_as_username),
                    cert_identity: Some(cert.subject),
                }
            }
        };
        tracing::debug!(
            version = ?session.protocol_version(),
            cipher = ?session.negotiated_cipher_suite().map(|s| s.suite()),
            client = identity.cert_identity.as_deref().unwrap_or("-"),
            "TLS handshake done"
        );
        Ok((stream, identity))
    }
}

/// The rustls configuration `settings` describe.
fn server_config(settings: &Tls, alpn: &[&[u8]]) -> Result<ServerConfig, TlsError> {
    if settings.client_ca_file.is_none() {
        if settings.client_auth.is_some() {
            return Err(error(
                "client_auth",
                "needs client_ca_file, the CA that signs client certificates",
            ));
        }
        if settings.identity_as_username.is_some() {
            return Err(error(
                "identity_as_username",
                "needs client_ca_file: only a verified client certificate can name a user",
            ));
        }
    }
    let chain = load_certificates(&settings.cert_file).map_err(|e| error("cert_file", e))?;
    let key = load_key(&settings.key_file).map_err(|e| error("key_file", e))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match settings.min_version {
        TlsVersion::V1_2 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersion::V1_3 => &[&rustls::version::TLS13],
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| error("min_version", e))?;
    let builder = match &settings.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in load_certificates(path).map_err(|e| error("client_ca_file", e))? {
                roots.add(cert).map_err(|e| {
                    error(
                        "client_ca_file",
                        format_args!("{}: not a usable CA certificate: {e}", path.display()),
                    )
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = match settings.client_auth.unwrap_or(ClientAuth::Required) {
                ClientAuth::Required => verifier,
                ClientAuth::Optional => verifier.allow_unauthenticated(),
            };
            let verifier = verifier
                .build()
                .map_err(|e| error("client_ca_file", format_args!("{}: {e}", path.display())))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        error(
            "key_file",
            format_args!(
                "{} cannot serve {}: {e}",
                settings.key_file.display(),
                settings.cert_file.display()
            ),
        )
    })?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e: io::Error| format!("cannot read {}: {e}", path.display()))
}

/// Every certificate of a PEM file, in order; at least one.
fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate (a PEM \"BEGIN CERTIFICATE\" block)",
            path.display()
        ));
    }
    Ok(certs)
}

/// The first private key of a PEM file.
fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => format!(
            "{}: no private key (a PEM \"BEGIN PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC \
             PRIVATE KEY\" block)",
            path.display()
        ),
        e => format!("{}: not PEM: {e}", path.display()),
    })
}

#[cfg(test)]
mod tests;
