use super::{preflight, settings};
use crate::config::{AclDefault, Config, ConfigError};

fn temp(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("tern-wiring-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

/// The key and message `text` is refused with, by the configuration or by the pre-flight.
fn key_of(text: &str) -> (String, String) {
    let checked = Config::from_toml_str(text).and_then(|config| preflight(&config));
    match checked {
        Err(ConfigError::Invalid { key, message }) => (key, message),
        other => panic!("expected an invalid key, got {other:?}"),
    }
}

#[test]
fn the_password_file_must_load() {
    let (key, message) = key_of("[auth]\npassword_file = \"/nonexistent/passwd\"\n");
    assert_eq!(key, "auth.password_file");
    assert!(message.contains("/nonexistent/passwd"), "{message}");
    let path = temp("users.passwd", "# users\nalice:plain\n");
    let text = format!("[auth]\npassword_file = {:?}\n", path.display().to_string());
    let (key, message) = key_of(&text);
    assert_eq!(key, "auth.password_file");
    assert!(message.contains("line 2:"), "{message}");
    std::fs::write(&path, "# no users yet\n").unwrap();
    let config = Config::from_toml_str(&text).unwrap();
    preflight(&config).unwrap();
    assert_eq!(config.auth.password_file.as_deref(), Some(path.as_path()));
    std::fs::remove_file(&path).ok();
}

#[test]
fn the_acl_file_must_load_and_errors_name_its_line() {
    let good = temp("good.acl", "user alice\ntopic readwrite home/alice/#\n");
    let text = format!(
        "[auth]\nacl_file = {:?}\nacl_default = \"allow\"\n",
        good.display().to_string()
    );
    let config = Config::from_toml_str(&text).unwrap();
    preflight(&config).unwrap();
    assert_eq!(config.auth.acl_default, AclDefault::Allow);
    let security = crate::auth::Security::load(&config.auth).unwrap();
    assert_eq!(security.acl.unwrap().len(), 1);

    let bad = temp("bad.acl", "topic read a\ntopic often b\n");
    let text = format!("[auth]\nacl_file = {:?}\n", bad.display().to_string());
    let (key, message) = key_of(&text);
    assert_eq!(key, "auth.acl_file");
    assert!(message.contains("line 2:"), "{message}");
    let (key, message) = key_of("[auth]\nacl_file = \"/nonexistent/acl\"\n");
    assert_eq!(key, "auth.acl_file");
    assert!(message.contains("/nonexistent/acl"), "{message}");
    let (key, _) = key_of("[auth]\nacl_default = \"maybe\"\n");
    assert_eq!(key, "auth.acl_default");
    for p in [good, bad] {
        std::fs::remove_file(p).ok();
    }
}

#[test]
fn jwt_settings_are_checked() {
    let ok = "[auth.jwt]\nalgorithm = \"HS256\"\nsecret = \"0123456789abcdef0123456789abcdef\"\n";
    let config = Config::from_toml_str(ok).unwrap();
    preflight(&config).unwrap();
    assert!(crate::auth::Security::load(&config.auth).is_ok());
    for (text, key) in [
        ("[auth.jwt]\nalgorithm = \"HS256\"\nsecret = \"short\"\n", "auth.jwt.secret"),
        ("[auth.jwt]\nalgorithm = \"HS256\"\n", "auth.jwt.secret"),
        ("[auth.jwt]\nalgorithm = \"RS256\"\n", "auth.jwt.public_key_file"),
        (
            "[auth.jwt]\nalgorithm = \"ES256\"\npublic_key_file = \"/nonexistent.pem\"\n",
            "auth.jwt.public_key_file",
        ),
        ("[auth.jwt]\nalgorithm = \"HS512\"\n", "auth.jwt.algorithm"),
        ("[auth.jwt]\nsecret = \"x\"\n", "auth.jwt"),
        (
            "[auth.jwt]\nalgorithm = \"HS256\"\nsecret = \"0123456789abcdef0123456789abcdef\"\nkid = 1\n",
            "auth.jwt.kid",
        ),
    ] {
        assert_eq!(key_of(text).0, key, "{text}");
    }
}

#[test]
fn tls_files_must_load() {
    let text = "[[listener]]\nbind = \"127.0.0.1:0\"\n[listener.tls]\n\
                cert_file = \"/nonexistent/cert.pem\"\nkey_file = \"/nonexistent/key.pem\"\n";
    let (key, message) = key_of(text);
    assert_eq!(key, "listener[0].tls.cert_file");
    assert!(message.contains("/nonexistent/cert.pem"), "{message}");
}

#[test]
fn settings_follow_the_configuration() {
    let config = Config::from_toml_str(
        "[limits]\nmax_publish_rate = 10\nmax_publish_bandwidth = 1000\nmax_queued_messages = 7\n\
         [auth]\nfailed_login_delay_ms = 250\n\
         [[listener]]\nbind = \"127.0.0.1:0\"\nmax_connections = 3\n\
         [[listener]]\nbind = \"127.0.0.1:0\"\nallow_anonymous = false\n",
    )
    .unwrap();
    let settings = settings(&config);
    assert_eq!(settings.max_publish_rate, 10);
    assert_eq!(settings.max_publish_bandwidth, 1000);
    assert_eq!(settings.queue.max_messages, 7);
    assert_eq!(settings.failed_login_delay.as_millis(), 250);
    assert_eq!(settings.listeners.len(), 2);
    assert_eq!(settings.listeners[0].max_connections, Some(3));
    assert_eq!(settings.listeners[1].allow_anonymous, Some(false));
    assert_eq!(
        key_of("[limits]\nmax_publish_rate = -1\n").0,
        "limits.max_publish_rate"
    );
}
