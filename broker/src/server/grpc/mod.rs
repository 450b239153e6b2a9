//! The gRPC API (`broker/proto/tern.proto`): applications publish to MQTT clients and
//! stream what they publish, beside MQTT. Served by tonic on its own listener (`[grpc]`,
//! default `127.0.0.1:50051`), with server reflection so that generic tools (grpcurl,
//! Postman) discover it.
//!
//! Calls act through in-process MQTT clients (see `service`), so that authentication, the
//! ACL and the bounds on slow subscribers are the broker's own. The listener only adds the
//! bearer token rule of the HTTP API: when `[grpc] token` is set, every call carries it.

pub mod options;
mod service;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Status};

use super::listen;
use super::tls::TlsListener;
use super::Connector;

/// The code `tonic-prost-build` generated from `proto/tern.proto`: the messages, the server
/// trait and a client (`messages_client::MessagesClient`) for Rust callers.
pub mod proto {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("tern.v1");
}

/// The descriptors of `proto/tern.proto`, for server reflection.
const DESCRIPTOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tern_descriptor.bin"));

/// Handshakes done and not yet taken by tonic, at most (TLS).
const READY: usize = 64;

/// A bound gRPC listener, ready to serve.
pub struct GrpcListener {
    listener: TcpListener,
    tls: Option<Arc<TlsListener>>,
    token: Arc<str>,
}

impl GrpcListener {
    /// Binds `[grpc]`, or gives `None` if it is off.
    pub async fn bind(grpc: &options::Grpc) -> anyhow::Result<Option<GrpcListener>> {
        if !grpc.enabled {
            return Ok(None);
        }
        let tls = match &grpc.tls {
            Some(settings) => Some(Arc::new(
                TlsListener::with_alpn(settings, &[b"h2"]).context("grpc.tls")?,
            )),
            None => None,
        };
        let listener = TcpListener::bind(grpc.bind)
            .await
            .with_context(|| format!("cannot listen for gRPC on {}", grpc.bind))?;
        Ok(Some(GrpcListener {
            listener,
            tls,
            token: grpc.token.as_str().into(),
        }))
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Its TLS side, whose certificates a SIGHUP reloads.
    pub fn tls(&self) -> Option<Arc<TlsListener>> {
        self.tls.clone()
    }

    /// Serves until `shutdown` is cancelled, in a task of the current runtime.
    pub fn spawn(self, connector: Connector, shutdown: CancellationToken) -> anyhow::Result<()> {
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(DESCRIPTOR)
            .build_v1()
            .context("gRPC reflection")?;
        let reflection_alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(DESCRIPTOR)
            .build_v1alpha()
            .context("gRPC reflection")?;
        let token = self.token.clone();
        let messages =
            proto::messages_server::MessagesServer::new(service::Service::new(connector));
        let router = tonic::transport::Server::builder()
            .layer(tonic::service::InterceptorLayer::new(
                move |request: Request<()>| authorize(&token, request),
            ))
            .add_service(messages)
            .add_service(reflection)
            .add_service(reflection_alpha);
        let local = self.listener.local_addr()?;
        let over = if self.tls.is_some() { " over TLS" } else { "" };
        tracing::info!("gRPC API on {local}{over}");
        let stop = shutdown.clone();
        match self.tls {
            None => {
                let incoming = tokio_stream::wrappers::TcpListenerStream::new(self.listener);
                tokio::spawn(async move {
                    let served = router
                        .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
                        .await;
                    if let Err(e) = served {
                        tracing::error!("the gRPC listener stopped: {e}");
                    }
                });
            }
            Some(tls) => {
                let incoming = handshakes(self.listener, tls, shutdown);
                tokio::spawn(async move {
                    let served = router
                        .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
                        .await;
                    if let Err(e) = served {
                        tracing::error!("the gRPC listener stopped: {e}");
                    }
                });
            }
        }
        Ok(())
    }
}

/// Refuses a call without the token, when one is set.
fn authorize(token: &str, request: Request<()>) -> Result<Request<()>, Status> {
    if token.is_empty() {
        return Ok(request);
    }
    let given = (request.metadata().get("authorization"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Ok(request),
        Some(_) => Err(Status::unauthenticated("wrong bearer token")),
        None => Err(Status::unauthenticated(
            "this listener needs `authorization: Bearer <token>` metadata",
        )),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A TLS stream that tonic accepts as a connection.
struct TlsConn(tokio_rustls::server::TlsStream<tokio::net::TcpStream>);

impl tonic::transport::server::Connected for TlsConn {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

impl tokio::io::AsyncRead for TlsConn {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TlsConn {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Accepts on `listener` and shakes hands in a task per connection (a slow client holds up
/// no one); what completed comes out of the stream.
fn handshakes(
    listener: TcpListener,
    tls: Arc<TlsListener>,
    shutdown: CancellationToken,
) -> tokio_stream::wrappers::ReceiverStream<std::io::Result<TlsConn>> {
    let (done, ready) = tokio::sync::mpsc::channel(READY);
    tokio::spawn(async move {
        let name = match listener.local_addr() {
            Ok(addr) => format!("gRPC listener {addr}"),
            Err(_) => "gRPC listener".to_owned(),
        };
        while let Some((stream, peer)) = listen::next(&shutdown, &name, || listener.accept()).await
        {
            let (tls, done) = (tls.clone(), done.clone());
            tokio::spawn(async move {
                match tls.accept(stream).await {
                    Ok((stream, _)) => {
                        let _ = done.send(Ok(TlsConn(stream))).await;
                    }
                    Err(why) => tracing::info!(%peer, "gRPC connection closed: {why}"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(ready)
}
