//! MQTT over a Unix domain socket (`transport = "unix"`), for clients on the same machine.
//!
//! The socket file is created at start with the listener's `socket_mode` (default 0o660:
//! connecting needs write permission on it, so the owner and the group may connect), which is
//! how access is controlled; the directory it lives in must exist and let the broker create
//! files. A file already at that path is handled so that a broker that did not stop cleanly
//! can start again, and a running one is never disturbed:
//!
//! - a socket no process listens on (connecting is refused) is stale: it is removed;
//! - a socket a process listens on, or a file that is not a socket, stops the start.
//!
//! The file is removed when the broker stops, if it is still the one this broker created.
//! Connections have no network address: logs show `local`, and the per-address connection
//! rate does not apply.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ConnectionHandles;
use crate::engine::ConnId;

/// A bound Unix socket and the file it lives at.
pub struct UnixSocket {
    listener: UnixListener,
    path: PathBuf,
    /// The device and inode of the file this broker created, to remove only that one.
    file: (u64, u64),
}

impl UnixSocket {
    /// Binds `path` with permissions `mode`, replacing a stale socket file.
    pub fn bind(path: &Path, mode: u32) -> anyhow::Result<UnixSocket> {
        remove_stale(path)?;
        let listener = UnixListener::bind(path)
            .with_context(|| format!("cannot listen on Unix socket {}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).with_context(
            || {
                format!(
                    "cannot set the permissions of {} to {mode:#o}",
                    path.display()
                )
            },
        )?;
        let meta = std::fs::symlink_metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(UnixSocket {
            listener,
            path: path.to_owned(),
            file: (meta.dev(), meta.ino()),
        })
    }

    /// The path of the socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts connections until `token` is cancelled, each served in a task of `tracker`;
    /// then removes the socket file.
    pub async fn run(
        self,
        handles: Arc<ConnectionHandles>,
        tracker: TaskTracker,
        token: CancellationToken,
        next_id: Arc<AtomicU64>,
    ) {
        let name = format!("Unix socket {}", self.path.display());
        while let Some((stream, _)) =
            super::listen::next(&token, &name, || self.listener.accept()).await
        {
            let conn = ConnId(next_id.fetch_add(1, Ordering::Relaxed));
            tracing::debug!(conn = %conn, socket = %self.path.display(), "accepted");
            tracker.spawn(handles.clone().serve_unix(stream, conn));
        }
        self.remove();
    }

    /// Removes the socket file if it is still the one this broker created.
    fn remove(&self) {
        let ours =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.file);
        if ours {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::warn!("cannot remove {}: {e}", self.path.display());
            }
        }
    }
}

/// Removes a socket file no process listens on; refuses to touch anything else.
fn remove_stale(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if !meta.file_type().is_socket() {
        bail!(
            "{} exists and is not a socket; not replacing it",
            path.display()
        );
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => bail!(
            "another process is listening on Unix socket {}",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            tracing::info!("removing stale Unix socket {}", path.display());
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove stale socket {}", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot check {}", path.display())),
    }
}

impl ConnectionHandles {
    /// Serves a connection accepted on a Unix socket: it has no network address and no TLS.
    async fn serve_unix(self: Arc<Self>, stream: UnixStream, conn: ConnId) {
        let info = self.info(None);
        let arrival = self.stamp();
        let _socket = super::stamp::Socket::new(&arrival, &stream);
        self.carry(stream, conn, info, arrival).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("tern-unix-{}-{name}.sock", std::process::id()))
    }

    #[tokio::test]
    async fn a_stale_socket_is_replaced_and_a_live_one_is_not() {
        let path = temp_path("stale");
        let _ = std::fs::remove_file(&path);
        // A socket file whose listener is gone.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let socket = UnixSocket::bind(&path, 0o600).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // This one is alive: a second broker must not take it over.
        let e = UnixSocket::bind(&path, 0o600).err().expect("refused");
        assert!(e.to_string().contains("another process"), "{e}");
        socket.remove();
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_socket_is_left_alone() {
        let path = temp_path("file");
        std::fs::write(&path, "precious").unwrap();
        let e = UnixSocket::bind(&path, 0o600).err().expect("refused");
        assert!(e.to_string().contains("not a socket"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
        std::fs::remove_file(&path).unwrap();
    }
}
