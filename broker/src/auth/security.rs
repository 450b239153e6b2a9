//! Everything `[auth]` names, loaded together: the authenticator (password file, JWT key) and
//! the ACL. The server loads it at start and again on SIGHUP, off the engine task, and hands
//! it to the engine, which swaps it in between two events.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Context;

use super::acl::Acl;
use super::jwt::JwtVerifier;
use super::options::{AclDefault, Auth};
use super::PasswordFile;
use crate::engine::Authenticator;

/// The authenticator and ACL of an `[auth]` section.
pub struct Security {
    pub authenticator: Box<dyn Authenticator>,
    /// `None` without `acl_file`: everything is allowed.
    pub acl: Option<Arc<Acl>>,
    /// Whom the broker's own authentication knows, for the order of sources.
    pub local: Arc<LocalUsers>,
}

/// Whom the broker's own authentication (the password file, JWT) can decide about: where
/// `[auth] order` puts it before other sources, it takes these logins and hands the others
/// on.
#[derive(Debug, Default)]
pub struct LocalUsers {
    users: HashSet<String>,
    jwt: bool,
}

impl LocalUsers {
    /// Whether a login with this user name and password is the broker's own to decide: a
    /// user of the password file, or a token while JWT logins are on.
    pub fn claims(&self, user: Option<&str>, password: Option<&[u8]>) -> bool {
        user.is_some_and(|u| self.users.contains(u))
            || (self.jwt && password.is_some_and(JwtVerifier::is_token))
    }
}

impl Security {
    /// Reads the password file, the JWT key and the ACL file that `auth` names. The error
    /// names the key whose file does not load.
    pub fn load(auth: &Auth) -> anyhow::Result<Security> {
        let file = match &auth.password_file {
            None => None,
            Some(path) => {
                let file = PasswordFile::load(path)
                    .with_context(|| format!("auth.password_file: {}", path.display()))?;
                tracing::info!(
                    users = file.users().count(),
                    "password file {} loaded",
                    path.display()
                );
                Some(file)
            }
        };
        let authenticator = super::from_config(auth, file.as_ref())?;
        let local = Arc::new(LocalUsers {
            users: (file.iter().flat_map(|f| f.users()))
                .map(|(user, _)| user.to_owned())
                .collect(),
            jwt: auth.jwt.is_some(),
        });
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
        Ok(Security {
            authenticator,
            acl,
            local,
        })
    }
}
