//! Everything `[auth]` names, loaded together: the authenticator (password file, JWT key) and
//! the ACL. The server loads it at start and again on SIGHUP, off the engine task, and hands
//! it to the engine, which swaps it in between two events.

use std::sync::Arc;

use anyhow::Context;

use super::acl::Acl;
use super::options::{AclDefault, Auth};
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
