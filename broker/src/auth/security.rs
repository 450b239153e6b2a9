//! Everything `[auth]` names, loaded together: the authenticator (password file, JWT key) and
//! the ACL. The server loads it at start and again on SIGHUP, off the engine task, and hands
//! it to the engine, which swaps it in between two events.

use std::sync::Arc;

use anyhow::Context;

use super::acl::Acl;
use super::jwt::JwtVerifier;
use crate::config::{AclDefault, Auth, ConfigError};
use crate::engine::Authenticator;

/// The authenticator and ACL of an `[auth]` section.
pub struct Security {
    pub authenticator: Box<dyn Authenticator>,
    /// `None` without `acl_file`: everything is allowed.
    pub acl: Option<Arc<Acl>>,
}

impl Security {
    /// Reads the password file, the JWT key and the ACL file that `auth` names. The error
    /// names the key whose file does not load.
    pub fn load(auth: &Auth) -> anyhow::Result<Security> {
        let authenticator = super::from_config(auth)?;
        let acl = match &auth.acl_file {
            None => None,
            Some(path) => {
                let acl = Acl::load(path, auth.acl_default == AclDefault::Allow)
                    .with_context(|| format!("auth.acl_file: {}", path.display()))?;
                tracing::info!(
                    rules = acl.len(),
                    default = ?auth.acl_default,
                    "ACL file {} loaded",
                    path.display()
                );
                Some(Arc::new(acl))
            }
        };
        Ok(Security { authenticator, acl })
    }
}

/// The checks of `[auth]` that read files: the ACL file must parse and the JWT key must load.
/// (The password file is checked by `Config::validate` itself.)
pub fn check_config(auth: &Auth) -> Result<(), ConfigError> {
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        key: key.to_owned(),
        message,
    };
    if let Some(path) = &auth.acl_file {
        if let Err(e) = Acl::load(path, false) {
            let message = match e {
                super::acl::AclError::Line { .. } => format!("{}: {e}", path.display()),
                _ => e.to_string(),
            };
            return Err(invalid("auth.acl_file", message));
        }
    }
    if let Some(jwt) = &auth.jwt {
        if let Err((key, message)) = JwtVerifier::new(jwt) {
            return Err(invalid(&format!("auth.jwt.{key}"), message));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::{AclDefault, Config, ConfigError};

    fn temp(name: &str, contents: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("tern-security-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn key_of(text: &str) -> (String, String) {
        match Config::from_toml_str(text) {
            Err(ConfigError::Invalid { key, message }) => (key, message),
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn the_acl_file_must_load_and_errors_name_its_line() {
        let good = temp("good.acl", "user alice\ntopic readwrite home/alice/#\n");
        let text = format!(
            "[auth]\nacl_file = {:?}\nacl_default = \"allow\"\n",
            good.display().to_string()
        );
        let config = Config::from_toml_str(&text).unwrap();
        assert_eq!(config.auth.acl_default, AclDefault::Allow);
        let security = super::Security::load(&config.auth).unwrap();
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
        let ok =
            "[auth.jwt]\nalgorithm = \"HS256\"\nsecret = \"0123456789abcdef0123456789abcdef\"\n";
        let config = Config::from_toml_str(ok).unwrap();
        assert!(super::Security::load(&config.auth).is_ok());
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
    fn publish_limits_are_keys_of_limits() {
        let config = Config::from_toml_str(
            "[limits]\nmax_publish_rate = 10\nmax_publish_bandwidth = 1000\n",
        )
        .unwrap();
        let settings = crate::engine::Settings::from_config(&config);
        assert_eq!(settings.max_publish_rate, 10);
        assert_eq!(settings.max_publish_bandwidth, 1000);
        assert_eq!(
            key_of("[limits]\nmax_publish_rate = -1\n").0,
            "limits.max_publish_rate"
        );
    }
}
