//! `[listener.tls]` in a configuration file: the keys, and errors that name them.

use super::*;

/// The key and message of the error `text` gets from the configuration or the pre-flight,
/// which loads the certificate files (as `tern check-config` and the start both do).
fn error_key(text: &str) -> (String, String) {
    let e = Config::from_toml_str(text)
        .and_then(|config| tern::wiring::preflight(&config))
        .expect_err("the configuration should be refused");
    (e.key().unwrap_or_default().to_owned(), e.to_string())
}

#[test]
fn a_tls_table_in_the_file() {
    let pki = Pki::new("config");
    let (cert, key) = pki.write_pair("server", &pki.server("config"));
    let ca = pki.ca_file();
    let text = format!(
        "[[listener]]\nbind = \"127.0.0.1:8883\"\n[listener.tls]\ncert_file = {cert:?}\n\
         key_file = {key:?}\nclient_ca_file = {ca:?}\nclient_auth = \"optional\"\n\
         identity_as_username = \"subject\"\nmin_version = \"1.3\"\n\n\
         [[listener]]\nbind = \"127.0.0.1:8884\"\ntransport = \"websocket\"\n\
         [listener.tls]\ncert_file = {cert:?}\nkey_file = {key:?}\n"
    );
    let config = Config::from_toml_str(&text).unwrap();
    let tls = config.listeners[0].tls.as_ref().unwrap();
    assert_eq!(tls.client_auth, Some(tern::config::ClientAuth::Optional));
    assert_eq!(
        tls.identity_as_username,
        Some(tern::config::CertIdentity::Subject)
    );
    assert_eq!(tls.min_version, TlsVersion::V1_3);
    let wss = config.listeners[1].tls.as_ref().unwrap();
    assert_eq!(
        (wss.client_ca_file.as_ref(), wss.min_version),
        (None, TlsVersion::V1_2)
    );

    // What serializes reads back the same.
    let again = Config::from_toml_str(&toml::to_string(&config).unwrap()).unwrap();
    assert_eq!(again, config);
}

#[test]
fn tls_errors_name_their_key() {
    let pki = Pki::new("config-errors");
    let (cert, key) = pki.write_pair("server", &pki.server("config"));
    let head = "[[listener]]\nbind = \"127.0.0.1:8883\"\n[listener.tls]\n";

    let (k, shown) = error_key(&format!("{head}cert_file = {cert:?}\n"));
    assert_eq!(k, "listener[0].tls", "{shown}");
    assert!(shown.contains("key_file"), "{shown}");

    let (k, shown) = error_key(&format!(
        "{head}cert_file = \"/nonexistent/c.pem\"\nkey_file = {key:?}\n"
    ));
    assert_eq!(k, "listener[0].tls.cert_file", "{shown}");
    assert!(shown.contains("/nonexistent/c.pem"), "{shown}");

    let (k, _) = error_key(&format!(
        "{head}cert_file = {cert:?}\nkey_file = {cert:?}\n"
    ));
    assert_eq!(k, "listener[0].tls.key_file");

    let (k, _) = error_key(&format!(
        "{head}cert_file = {cert:?}\nkey_file = {key:?}\nclient_auth = \"required\"\n"
    ));
    assert_eq!(k, "listener[0].tls.client_auth");
    let (k, _) = error_key(&format!(
        "{head}cert_file = {cert:?}\nkey_file = {key:?}\nidentity_as_username = \"cn\"\n"
    ));
    assert_eq!(k, "listener[0].tls.identity_as_username");
    let (k, _) = error_key(&format!(
        "{head}cert_file = {cert:?}\nkey_file = {key:?}\nidentity_as_username = \"email\"\n"
    ));
    assert_eq!(k, "listener[0].tls.identity_as_username");
    let (k, _) = error_key(&format!(
        "{head}cert_file = {cert:?}\nkey_file = {key:?}\nmin_version = \"1.1\"\n"
    ));
    assert_eq!(k, "listener[0].tls.min_version");
    let (k, _) = error_key(&format!(
        "{head}cert_file = {cert:?}\nkey_file = {key:?}\nciphers = \"all\"\n"
    ));
    assert_eq!(k, "listener[0].tls.ciphers");
}
