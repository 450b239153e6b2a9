//! Certificates for the services the broker reaches over TLS (`[auth.http]`,
//! `[auth.postgres.tls]`, `[auth.redis.tls]`), made by rcgen and written to a directory.

use std::path::{Path, PathBuf};

/// A CA; the service's certificate for 127.0.0.1 and localhost, and the broker's client
/// certificate, both signed by it; and another CA, which signs nothing here.
pub struct ServicePki {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub other_ca: PathBuf,
}

impl ServicePki {
    /// Makes them and writes them to `dir`.
    pub fn new(dir: &Path) -> ServicePki {
        std::fs::create_dir_all(dir).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        (ca_params.distinguished_name).push(rcgen::DnType::CommonName, "tern test CA");
        let ca = ca_params.self_signed(&key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, key);

        let server_key = rcgen::KeyPair::generate().unwrap();
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let server = (rcgen::CertificateParams::new(names).unwrap())
            .signed_by(&server_key, &issuer)
            .unwrap();

        let client_key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        (params.distinguished_name).push(rcgen::DnType::CommonName, "tern");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let client = params.signed_by(&client_key, &issuer).unwrap();

        let other = rcgen::generate_simple_self_signed(vec!["elsewhere".to_owned()]).unwrap();
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        ServicePki {
            ca: write("ca.pem", ca.pem()),
            server_cert: write("server.pem", server.pem()),
            server_key: write("server.key", server_key.serialize_pem()),
            client_cert: write("client.pem", client.pem()),
            client_key: write("client.key", client_key.serialize_pem()),
            other_ca: write("other-ca.pem", other.cert.pem()),
        }
    }

    /// A `[<section>.tls]` trusting `ca`, with the client certificate if `client`.
    pub fn section(&self, section: &str, ca: &Path, client: bool) -> String {
        let mut toml = format!(
            "[{section}.tls]\nca_file = {:?}\n",
            ca.display().to_string()
        );
        if client {
            toml += &format!(
                "cert_file = {:?}\nkey_file = {:?}\n",
                self.client_cert.display().to_string(),
                self.client_key.display().to_string()
            );
        }
        toml
    }
}
