//! SIGHUP for `[auth]`: the password file, the JWT key and the ACL file are read again and
//! handed to the engine, which uses them for what comes next. Open connections stay as they
//! are: a client logged in stays logged in, and its granted subscriptions stay; new CONNECTs,
//! SUBSCRIBEs and PUBLISHes meet the new files. A file that does not load keeps everything as
//! it was, with one error line. (The configuration file itself is not read again.)

use tokio_util::sync::CancellationToken;

use super::backends::LocalHandle;
use super::reload::Reloads;
use super::to_engine::{Event, ToEngine};
use crate::auth::options::Auth;
use crate::auth::Security;

/// Reloads `[auth]`'s files on each reload until `stop`, if it names any; `local` (who the
/// password file has, for the order of sources) follows.
pub(super) async fn reload_security(
    mut reloads: Reloads,
    auth: Auth,
    local: Option<LocalHandle>,
    to_engine: ToEngine,
    stop: CancellationToken,
) {
    if auth.password_file.is_none() && auth.acl_file.is_none() && auth.jwt.is_none() {
        return;
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            next = reloads.next() => if next.is_none() { return },
        }
        let loaded = {
            let auth = auth.clone();
            tokio::task::spawn_blocking(move || Security::load(&auth)).await
        };
        match loaded {
            Ok(Ok(security)) => {
                tracing::info!("authentication and ACL files reloaded");
                if let Some(local) = &local {
                    *local.write().unwrap_or_else(|e| e.into_inner()) = security.local.clone();
                }
                let security = Event::Security(Box::new(security));
                if !to_engine.send(security, std::time::Instant::now()).await {
                    return;
                }
            }
            Ok(Err(e)) => {
                tracing::error!("[auth] files not reloaded, the old ones stay in use: {e:#}")
            }
            Err(e) => tracing::error!("[auth] files not reloaded: {e}"),
        }
    }
}
