//! Loading `[listener.tls]`: what works, and that each kind of bad file or setting is named
//! by its key. The handshakes themselves are tested end to end in `tests/tls/`.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use super::*;

/// Files under a directory of their own, removed at the end.
struct Files(PathBuf);

impl Files {
    fn new(name: &str) -> Files {
        let dir = std::env::temp_dir().join(format!("tern-tls-unit-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Files(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// A CA, and a server certificate for `localhost` it signed: (CA PEM, cert PEM, key PEM).
fn pki() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "unit CA");
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca_pem, cert.pem(), key.serialize_pem())
}

fn settings(files: &Files) -> Tls {
    let (ca, cert, key) = pki();
    Tls {
        cert_file: files.write("cert.pem", &cert),
        key_file: files.write("key.pem", &key),
        min_version: TlsVersion::V1_2,
        client_ca_file: Some(files.write("ca.pem", &ca)),
        client_auth: None,
        identity_as_username: None,
    }
}

fn key_of(result: Result<(), TlsError>) -> (&'static str, String) {
    let e = result.expect_err("the settings should be refused");
    (e.key, e.message)
}

#[test]
fn good_files_load() {
    let files = Files::new("good");
    let mut tls = settings(&files);
    check(&tls).unwrap();
    tls.client_auth = Some(ClientAuth::Optional);
    tls.identity_as_username = Some(crate::server::options::CertIdentity::Cn);
    tls.min_version = TlsVersion::V1_3;
    check(&tls).unwrap();
    tls.client_ca_file = None;
    tls.client_auth = None;
    tls.identity_as_username = None;
    check(&tls).unwrap();
}

#[test]
fn each_bad_file_is_named() {
    let files = Files::new("bad");
    let good = settings(&files);

    let mut tls = good.clone();
    tls.cert_file = files.0.join("missing.pem");
    let (key, message) = key_of(check(&tls));
    assert_eq!(key, "cert_file");
    assert!(
        message.contains("cannot read") && message.contains("missing.pem"),
        "{message}"
    );

    tls.cert_file = files.write("empty.pem", "# nothing here\n");
    let (key, message) = key_of(check(&tls));
    assert_eq!(key, "cert_file");
    assert!(message.contains("no certificate"), "{message}");

    let mut tls = good.clone();
    tls.key_file = tls.cert_file.clone();
    let (key, message) = key_of(check(&tls));
    assert_eq!(key, "key_file");
    assert!(message.contains("no private key"), "{message}");

    // A key that is not the certificate's.
    let other = KeyPair::generate().unwrap().serialize_pem();
    tls.key_file = files.write("other.key", &other);
    let (key, message) = key_of(check(&tls));
    assert_eq!(key, "key_file");
    assert!(message.contains("cannot serve"), "{message}");

    let mut tls = good.clone();
    tls.client_ca_file = Some(files.write("ca-empty.pem", ""));
    assert_eq!(key_of(check(&tls)).0, "client_ca_file");
    tls.client_ca_file = Some(files.write(
        "ca-bad.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ));
    assert_eq!(key_of(check(&tls)).0, "client_ca_file");
}

#[test]
fn client_settings_need_a_client_ca() {
    let files = Files::new("needs-ca");
    let mut tls = settings(&files);
    tls.client_ca_file = None;
    tls.client_auth = Some(ClientAuth::Required);
    assert_eq!(key_of(check(&tls)).0, "client_auth");
    tls.client_auth = None;
    tls.identity_as_username = Some(crate::server::options::CertIdentity::San);
    assert_eq!(key_of(check(&tls)).0, "identity_as_username");
}

#[test]
fn a_failed_reload_keeps_what_was_loaded() {
    let files = Files::new("reload");
    let tls = settings(&files);
    let listener = TlsListener::new(&tls).unwrap();
    listener.reload().unwrap();
    std::fs::write(&tls.cert_file, "garbage").unwrap();
    let e = listener.reload().unwrap_err();
    assert_eq!(e.key, "cert_file");
    assert!(e.to_string().starts_with("tls.cert_file: "), "{e}");
}
