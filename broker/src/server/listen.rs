//! What a listener is bound to: a TCP port (plain MQTT, WebSocket, either under TLS) or a
//! Unix domain socket.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::options::{Listener, Transport};
use super::unix::UnixSocket;

/// How long an accept loop pauses after a failed accept.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

/// The next connection `accept` gives, or `None` once `stop` is cancelled. A failed accept
/// (out of file descriptors and the like) is logged, naming `listener`, and tried again after
/// [`ACCEPT_PAUSE`] rather than in a spin.
pub(super) async fn next<T, A>(
    stop: &CancellationToken,
    listener: &str,
    mut accept: impl FnMut() -> A,
) -> Option<T>
where
    A: Future<Output = io::Result<T>>,
{
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return None,
            accepted = accept() => accepted,
        };
        match accepted {
            Ok(accepted) => return Some(accepted),
            Err(e) => {
                tracing::warn!("{listener}: accept failed: {e}");
                tokio::time::sleep(ACCEPT_PAUSE).await;
            }
        }
    }
}

/// Where a listener can be reached, as [`Server::local_endpoints`](super::Server) reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP address, with the real port where the configuration said 0.
    Tcp(SocketAddr),
    /// The path of a Unix socket.
    Unix(PathBuf),
}

/// A bound listener, not yet accepting.
pub(super) enum Bound {
    Tcp(TcpListener),
    Unix(UnixSocket),
}

impl Bound {
    /// Binds what `listener` configures.
    pub async fn bind(listener: &Listener) -> anyhow::Result<Bound> {
        if listener.transport == Transport::Unix {
            let path = listener
                .socket
                .as_deref()
                .context("a unix listener needs `socket`")?;
            return Ok(Bound::Unix(UnixSocket::bind(path, listener.socket_mode)?));
        }
        let tcp = TcpListener::bind(listener.bind)
            .await
            .with_context(|| format!("cannot listen on {}", listener.bind))?;
        super::timed::enable(&tcp);
        Ok(Bound::Tcp(tcp))
    }

    /// The TCP address bound, if this is a TCP listener.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Bound::Tcp(l) => l.local_addr().ok(),
            Bound::Unix(_) => None,
        }
    }

    /// Where clients reach this listener, if it can tell.
    pub fn endpoint(&self) -> Option<Endpoint> {
        match self {
            Bound::Tcp(l) => l.local_addr().ok().map(Endpoint::Tcp),
            Bound::Unix(s) => Some(Endpoint::Unix(s.path().to_owned())),
        }
    }
}
