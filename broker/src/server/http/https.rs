//! HTTPS: `[http.tls]` puts TLS under the HTTP listener, with the same rustls setup as the
//! MQTT listeners (`server::tls`: the ring provider, TLS 1.2 and 1.3, optional client
//! certificates, the certificates read again on SIGHUP).
//!
//! The accept loop only accepts: each handshake runs in a task of its own with the MQTT
//! listeners' timeout, so a slow or silent client holds up no one, and the streams whose
//! handshake completed are handed to axum through a channel. A failed handshake is one log
//! line; the client gets no HTTP answer (it never got as far as asking).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::server::listen;
use crate::server::tls::TlsListener;

/// Connections whose handshake is done and that axum has not taken yet, at most.
const READY: usize = 64;

/// What axum accepts HTTPS connections from.
pub(super) struct Https {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl Https {
    /// Accepts on `listener` until `shutdown`, shaking hands with `tls`.
    pub fn accept(
        listener: TcpListener,
        tls: Arc<TlsListener>,
        shutdown: CancellationToken,
    ) -> io::Result<Https> {
        let local = listener.local_addr()?;
        let (done, ready) = mpsc::channel(READY);
        tokio::spawn(async move {
            let name = format!("HTTPS listener {local}");
            while let Some((stream, peer)) =
                listen::next(&shutdown, &name, || listener.accept()).await
            {
                let (tls, done) = (tls.clone(), done.clone());
                tokio::spawn(async move {
                    match tls.accept(stream).await {
                        Ok((stream, _)) => {
                            let _ = done.send((stream, peer)).await;
                        }
                        Err(why) => tracing::info!(%peer, "HTTPS connection closed: {why}"),
                    }
                });
            }
        });
        Ok(Https { local, ready })
    }
}

impl axum::serve::Listener for Https {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accept loop has stopped (shutdown): nothing more comes.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
