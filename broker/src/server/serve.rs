//! One accepted connection, from its socket to MQTT: the PROXY protocol header, the TLS
//! handshake and the WebSocket upgrade its listener asks for, in that order, then the engine
//! hears of it and the connection runs.
//!
//! Everything here runs in the connection's own task, so a client that is slow to shake
//! hands holds up no one; each handshake has its own timeout. A failed handshake ends the
//! connection with one log line, and the engine never hears of it.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::{connection, proxy, websocket, ConnectionHandles};
use crate::config::Transport;
use crate::engine::{ConnId, ConnInfo};

impl ConnectionHandles {
    /// Serves a connection accepted from `socket` until it ends. With a PROXY protocol
    /// header, the client it names stands for the connection from then on.
    pub(super) async fn serve(self, mut stream: TcpStream, socket: SocketAddr, conn: ConnId) {
        // The PROXY header comes first, before any handshake, and names the real client.
        let peer = match proxy::client_address(&mut stream, self.proxy_protocol, socket).await {
            Ok(peer) => peer,
            Err(why) => return tracing::info!(conn = %conn, peer = %socket, "closed: {why}"),
        };
        if peer != socket {
            tracing::debug!(conn = %conn, %peer, via = %socket, "PROXY protocol header");
        }
        let mut info = ConnInfo {
            listener: self.listener,
            peer: Some(peer),
            protocols: self.protocols,
            ..ConnInfo::default()
        };
        let Some(tls) = self.tls.clone() else {
            return self.carry(stream, conn, info).await;
        };
        match tls.accept(stream).await {
            Ok((stream, identity)) => {
                info.cert_identity = identity.cert_identity.map(Into::into);
                info.cert_login = identity.cert_login;
                self.carry(stream, conn, info).await;
            }
            Err(why) => tracing::info!(conn = %conn, %peer, "closed: {why}"),
        }
    }

    /// Carries MQTT over `stream` as the listener's transport says: straight, or in
    /// WebSocket frames after the upgrade.
    pub(super) async fn carry<S>(self, stream: S, conn: ConnId, info: ConnInfo)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        match self.transport {
            Transport::Tcp | Transport::Unix => self.run(stream, conn, info).await,
            Transport::Websocket => match websocket::accept(stream, &self.path).await {
                Ok(stream) => self.run(stream, conn, info).await,
                Err(why) => {
                    let peer = info.peer.map(|p| p.to_string()).unwrap_or_default();
                    tracing::info!(conn = %conn, %peer, "closed: {why}");
                }
            },
        }
    }

    /// Tells the engine about the connection and runs it.
    async fn run<S>(self, stream: S, conn: ConnId, info: ConnInfo)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let Some(outbox) = self.open(conn, info).await else {
            return; // The engine has stopped.
        };
        connection::run(stream, conn, outbox, self.events, self.max_packet_size).await;
    }
}
