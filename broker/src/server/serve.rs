//! One accepted connection, from its socket to MQTT: the PROXY protocol header, the TLS
//! handshake and the WebSocket upgrade its listener asks for, in that order, then the engine
//! hears of it and the connection runs.
//!
//! Everything here runs in the connection's own task, so a client that is slow to shake
//! hands holds up no one; each handshake has its own timeout. A failed handshake ends the
//! connection with one log line, and the engine never hears of it.
//!
//! The future of a connection lives as long as the connection, so its size is memory every
//! idle client costs. Plain MQTT over TCP runs inline in [`ConnectionHandles::serve`] (every
//! layer of `async fn` stores its arguments once more), on the socket's borrowed halves; the
//! PROXY header, the TLS handshake and the WebSocket upgrade (large, rarely used states) run
//! in boxed futures of their own.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::options::{ProxyProtocol, Transport};
use super::stamp::{Socket, Stamp};
use super::timed::{Timed, TimedRead};
use super::{connection, proxy, websocket, ConnectionHandles};
use crate::engine::{ConnId, ConnInfo};

impl ConnectionHandles {
    /// What the engine is told about a connection from `peer`, boxed so that only a pointer
    /// passes down the layers of `async fn` below.
    pub(super) fn info(&self, peer: Option<SocketAddr>) -> Box<ConnInfo> {
        Box::new(ConnInfo {
            listener: self.listener,
            peer,
            protocols: self.protocols,
            ..ConnInfo::default()
        })
    }

    /// What stamps a new connection's reads (see `stamp`).
    pub(super) fn stamp(&self) -> Arc<Stamp> {
        Arc::new(Stamp::new(self.to_engine.arriving.clone()))
    }

    /// Serves a connection accepted on a TCP socket until it ends; `info` names the socket's
    /// peer. With a PROXY protocol header, the client it names stands for the connection from
    /// then on.
    pub(super) async fn serve(
        self: Arc<Self>,
        mut stream: TcpStream,
        mut info: Box<ConnInfo>,
        conn: ConnId,
    ) {
        // The PROXY header comes first, before any handshake, and names the real client.
        if let (mode @ (ProxyProtocol::Optional | ProxyProtocol::Required), Some(socket)) =
            (self.proxy_protocol, info.peer)
        {
            let header = self.unless_shutdown(proxy::client_address(&mut stream, mode, socket));
            let Some(header) = Box::pin(header).await else {
                return;
            };
            match header {
                Ok(peer) if peer != socket => {
                    tracing::debug!(conn = %conn, %peer, via = %socket, "PROXY protocol header");
                    info.peer = Some(peer);
                }
                Ok(_) => {}
                Err(why) => return tracing::info!(conn = %conn, peer = %socket, "closed: {why}"),
            }
        }
        let arrival = self.stamp();
        let _socket = Socket::new(&arrival, &stream);
        if self.tls.is_some() || self.transport == Transport::Websocket {
            let stream = Timed {
                stream,
                stamp: arrival.clone(),
            };
            return Box::pin(self.shake_hands(stream, conn, info, arrival)).await;
        }
        let Some(outbox) = self.open(conn, info, &arrival).await else {
            return; // The engine has stopped.
        };
        let (half, writer) = stream.split();
        let reader = TimedRead {
            half,
            stamp: arrival.clone(),
        };
        let to_engine = &self.to_engine;
        connection::run(
            reader,
            writer,
            conn,
            &outbox,
            to_engine,
            self.max_packet_size,
            arrival,
        )
        .await;
    }

    /// The TLS handshake, if the listener has TLS, then [`ConnectionHandles::carry`].
    async fn shake_hands(
        self: Arc<Self>,
        stream: Timed,
        conn: ConnId,
        mut info: Box<ConnInfo>,
        arrival: Arc<Stamp>,
    ) {
        let Some(tls) = self.tls.clone() else {
            return self.carry(stream, conn, info, arrival).await;
        };
        let Some(accepted) = self.unless_shutdown(tls.accept(stream)).await else {
            return;
        };
        match accepted {
            Ok((stream, identity)) => {
                info.cert_identity = identity.cert_identity.map(Into::into);
                info.cert_login = identity.cert_login;
                self.carry(stream, conn, info, arrival).await;
            }
            Err(why) => {
                let peer = info.peer.map(|p| p.to_string()).unwrap_or_default();
                tracing::info!(conn = %conn, %peer, "closed: {why}");
            }
        }
    }

    /// Carries MQTT over `stream` as the listener's transport says: straight, or in
    /// WebSocket frames after the upgrade (boxed, like every rarely used state).
    pub(super) async fn carry<S>(
        self: Arc<Self>,
        stream: S,
        conn: ConnId,
        info: Box<ConnInfo>,
        arrival: Arc<Stamp>,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        match self.transport {
            Transport::Tcp | Transport::Unix => self.run(stream, conn, info, arrival).await,
            Transport::Websocket => Box::pin(self.upgrade(stream, conn, info, arrival)).await,
        }
    }

    async fn upgrade<S>(
        self: Arc<Self>,
        stream: S,
        conn: ConnId,
        info: Box<ConnInfo>,
        arrival: Arc<Stamp>,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Some(upgraded) = self
            .unless_shutdown(websocket::accept(stream, &self.path))
            .await
        else {
            return;
        };
        match upgraded {
            Ok(stream) => self.run(stream, conn, info, arrival).await,
            Err(why) => {
                let peer = info.peer.map(|p| p.to_string()).unwrap_or_default();
                tracing::info!(conn = %conn, %peer, "closed: {why}");
            }
        }
    }

    /// Runs one stage before MQTT (a handshake), or gives `None` if the server shuts down
    /// first: a connection the engine has not heard of yet has nothing to flush.
    async fn unless_shutdown<F: std::future::Future>(&self, stage: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            _ = self.shutdown.cancelled() => None,
            done = stage => Some(done),
        }
    }

    /// Tells the engine about the connection and runs it over any stream.
    async fn run<S>(
        self: Arc<Self>,
        stream: S,
        conn: ConnId,
        info: Box<ConnInfo>,
        arrival: Arc<Stamp>,
    ) where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let Some(outbox) = self.open(conn, info, &arrival).await else {
            return; // The engine has stopped.
        };
        let (reader, writer) = tokio::io::split(stream);
        let to_engine = &self.to_engine;
        connection::run(
            reader,
            writer,
            conn,
            &outbox,
            to_engine,
            self.max_packet_size,
            arrival,
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::server::outbox::Outbox;

    /// The future of a plain TCP connection is what every idle client costs besides the
    /// engine's state (plus the task around it): it must stay small. The bound leaves some
    /// room; something large added to it belongs in a boxed future of its own.
    #[tokio::test]
    async fn the_future_of_a_tcp_connection_stays_small() {
        let (to_engine, _from) = crate::server::to_engine::channels();
        let handles = Arc::new(ConnectionHandles {
            to_engine,
            listener: 0,
            transport: Transport::Tcp,
            tls: None,
            protocols: Default::default(),
            proxy_protocol: ProxyProtocol::Off,
            path: "/".into(),
            outbox_limit: 1,
            max_packet_size: 1,
            shutdown: Default::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stream = TcpStream::connect(addr).await.unwrap();
        let info = handles.info(Some(addr));
        let serve = handles.clone().serve(stream, info, ConnId(1));
        let size = std::mem::size_of_val(&serve);
        // 816 bytes since reads carry the kernel's receive times (the stamp is made before
        // the handshakes, which share it with the TCP stream below them).
        assert!(size <= 832, "the connection future is {size} bytes");
        let outbox = Outbox::new(1);
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let (reader, writer) = stream.split();
        let arrival = handles.stamp();
        let run = connection::run(
            reader,
            writer,
            ConnId(2),
            &outbox,
            &handles.to_engine,
            1,
            arrival,
        );
        let size = std::mem::size_of_val(&run);
        // 608 bytes since the reader holds back paused publishers, stamps its reads, batches
        // the acknowledgements a read brings, and the writer reports that it drained (flow
        // control and arrival order); 656 since the reader is handed its stamp and stops
        // counting as arriving while it holds a paused publisher back. The rest of the wait
        // states are boxed.
        assert!(size <= 664, "connection::run is {size} bytes");
    }
}
