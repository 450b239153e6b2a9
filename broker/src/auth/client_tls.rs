//! TLS from the broker to the services of `[auth]`: the CA that signs a service's certificate
//! and, for a service that asks for one, the broker's own client certificate
//! (`[auth.postgres.tls]`, `[auth.redis.tls]`; `[auth.http] ca_file`). rustls with ring, as
//! everywhere else in the broker; the server's name is always checked against its certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

/// A `tls` subsection as the configuration file spells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTls {
    /// The CA (PEM) that signs the service's certificate: the only one trusted.
    pub ca_file: PathBuf,
    /// The broker's certificate chain (PEM), for a service that asks for one; with
    /// `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// The private key (PEM) of `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

impl ClientTls {
    /// The rustls configuration; `section` names it in errors (`auth.postgres.tls`).
    pub fn config(&self, section: &str) -> anyhow::Result<rustls::ClientConfig> {
        client_config(Some(&self.ca_file), self.identity(section)?, section)
    }

    /// The certificate chain and key, if both are given (one alone is an error).
    fn identity(&self, section: &str) -> anyhow::Result<Option<Identity>> {
        let (cert, key) = match (&self.cert_file, &self.key_file) {
            (None, None) => return Ok(None),
            (Some(cert), Some(key)) => (cert, key),
            _ => anyhow::bail!("{section}: cert_file and key_file go together"),
        };
        Ok(Some((
            certificates(cert, section)?,
            private_key(key, section)?,
        )))
    }

    /// The files as PEM bytes (for clients that take PEM rather than a rustls
    /// configuration: redis).
    pub fn pem(&self, section: &str) -> anyhow::Result<Pem> {
        // Parsed once here too, so that a bad file is named at start.
        self.config(section)?;
        let read = |path: &Path| {
            std::fs::read(path).with_context(|| format!("{section}: {}", path.display()))
        };
        let identity = match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => Some((read(cert)?, read(key)?)),
            _ => None,
        };
        Ok(Pem {
            ca: read(&self.ca_file)?,
            identity,
        })
    }
}

/// The files of a [`ClientTls`], read.
pub struct Pem {
    pub ca: Vec<u8>,
    /// The certificate chain and the key.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

/// A client certificate chain and its key.
type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// A rustls client configuration (ring) trusting only the CAs in `ca_file` (nothing without
/// one), presenting `identity` if given.
pub fn client_config(
    ca_file: Option<&Path>,
    identity: Option<Identity>,
    section: &str,
) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = ca_file {
        for cert in certificates(path, section)? {
            roots
                .add(cert)
                .with_context(|| format!("{section}: {}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .with_context(|| format!("{section}: TLS versions"))?
        .with_root_certificates(roots);
    Ok(match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .with_context(|| format!("{section}: the client certificate and key"))?,
        None => builder.with_no_client_auth(),
    })
}

fn certificates(path: &Path, section: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let context = || format!("{section}: {}", path.display());
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .with_context(context)?
        .collect::<Result<_, _>>()
        .with_context(context)?;
    if certs.is_empty() {
        anyhow::bail!("{}: no certificate in it", context());
    }
    Ok(certs)
}

fn private_key(path: &Path, section: &str) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).with_context(|| format!("{section}: {}", path.display()))
}
