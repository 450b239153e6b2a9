//! The tokio layer: listeners, one task per connection, and the task that owns the engine.
//!
//! Connection tasks decode what they read and send it to the engine task over a bounded
//! channel (a slow engine slows readers down instead of growing a queue). The engine task
//! feeds the [`Engine`], gathers the frames it produces per connection, and moves each
//! connection's batch into its outbox under one lock; the connection's writer sends
//! everything waiting with one write.

mod connection;
mod engine_task;
mod listen;
pub mod options;
mod outbox;
mod proxy;
mod reload;
mod reload_auth;
mod serve;
pub mod tls;
mod unix;
mod websocket;

pub use listen::Endpoint;
pub use reload::{ReloadHandle, Reloads};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::options::Auth;
use crate::auth::Security;
use crate::engine::policy::Authorizer;
use crate::engine::{ConnId, ConnInfo, Engine, Input, ProtocolSet, Settings};
use options::{Listener, ProxyProtocol, Transport};
use outbox::Outbox;
use tls::TlsListener;

/// How many events the engine's channel holds before readers wait.
const EVENT_QUEUE: usize = 4096;
/// How long a shutdown waits for connections to flush before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What connection tasks and the server tell the engine task.
pub(crate) enum Event {
    Open(ConnId, Box<ConnInfo>, Arc<Outbox>),
    Input(ConnId, Input),
    Shutdown(oneshot::Sender<()>),
    /// The files of `[auth]` were read again (SIGHUP): new authenticator and ACL.
    Security(Box<Security>),
}

/// What a server is made of, as the wiring (`crate::wiring`) assembles it from a
/// configuration: the engine's settings, the adapters `[auth]` loaded, and the listeners.
pub struct Setup {
    /// The engine's limits and switches; `settings.listeners` follows `listeners`' order.
    pub settings: Settings,
    /// The authenticator and ACL `[auth]` names.
    pub security: Security,
    /// `[auth]` itself, whose files are read again on a reload (SIGHUP).
    pub auth: Auth,
    /// Where clients connect, and how.
    pub listeners: Vec<Listener>,
}

/// A broker with its listeners bound, ready to run.
pub struct Server {
    settings: Settings,
    security: Security,
    auth: Auth,
    /// What each listener was asked to be, in the order of `bound`.
    listeners: Vec<Listener>,
    bound: Vec<listen::Bound>,
    /// The TLS side of each listener, in the same order.
    tls: Vec<Option<Arc<TlsListener>>>,
    reload: ReloadHandle,
}

impl Server {
    /// Loads the certificates of TLS listeners and binds every listener.
    pub async fn bind(setup: Setup) -> anyhow::Result<Server> {
        let mut bound = Vec::with_capacity(setup.listeners.len());
        let mut tls = Vec::with_capacity(setup.listeners.len());
        for (i, l) in setup.listeners.iter().enumerate() {
            let acceptor = match &l.tls {
                Some(settings) => Some(Arc::new(
                    TlsListener::new(settings).with_context(|| format!("listener[{i}]"))?,
                )),
                None => None,
            };
            tls.push(acceptor);
            bound.push(listen::Bound::bind(l).await?);
        }
        Ok(Server {
            settings: setup.settings,
            security: setup.security,
            auth: setup.auth,
            listeners: setup.listeners,
            bound,
            tls,
            reload: ReloadHandle::new(),
        })
    }

    /// The handle that asks this server to reload what it can without a restart (the
    /// certificates of TLS listeners, the files of `[auth]`); `tern start` calls it on
    /// SIGHUP. It stays
    /// usable for the life of the server, before and during [`Server::run`].
    pub fn reload_handle(&self) -> ReloadHandle {
        self.reload.clone()
    }

    /// The TCP addresses actually bound (a port 0 in the configuration becomes a real one),
    /// in the order of the configuration; Unix socket listeners are left out (see
    /// [`Server::local_endpoints`]).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.bound.iter().filter_map(|l| l.local_addr()).collect()
    }

    /// Where each listener can be reached, in the order of the configuration: its TCP
    /// address or the path of its Unix socket.
    pub fn local_endpoints(&self) -> Vec<Endpoint> {
        self.bound.iter().filter_map(|l| l.endpoint()).collect()
    }

    /// Serves until `shutdown` completes, then stops accepting, tells 5.0 clients 0x8B Server
    /// shutting down, flushes every connection and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let settings = self.settings;
        let outbox_limit = settings.queue.max_bytes;
        let max_packet_size = settings.max_packet_size;
        let (events, rx) = mpsc::channel(EVENT_QUEUE);
        let mut engine = Engine::with_authenticator(settings, self.security.authenticator);
        engine.set_acl(self.security.acl.map(|acl| acl as Arc<dyn Authorizer>));
        let engine = tokio::spawn(engine_task::run(engine, rx));

        let token = CancellationToken::new();
        let tracker = TaskTracker::new();
        let next_id = Arc::new(AtomicU64::new(1));
        tokio::spawn(reload_auth::reload_security(
            self.reload.subscribe(),
            self.auth,
            events.clone(),
            token.clone(),
        ));
        tokio::spawn(reload::reload_certificates(
            self.reload.subscribe(),
            self.tls.clone(),
            token.clone(),
        ));
        let listeners = self.bound.into_iter().zip(self.tls);
        for (index, ((listener, tls), config)) in listeners.zip(&self.listeners).enumerate() {
            let handles = Arc::new(ConnectionHandles {
                events: events.clone(),
                listener: index,
                transport: config.transport,
                tls,
                protocols: config.protocols.iter().map(|&v| v.into()).collect(),
                proxy_protocol: config.proxy_protocol,
                path: config.path.clone().into(),
                outbox_limit,
                max_packet_size,
                shutdown: token.clone(),
            });
            let listener = match listener {
                listen::Bound::Tcp(listener) => listener,
                listen::Bound::Unix(socket) => {
                    let path = socket.path().display();
                    tracing::info!("listening on {path} (MQTT over a Unix socket)");
                    let accept =
                        socket.run(handles, tracker.clone(), token.clone(), next_id.clone());
                    tracker.spawn(accept);
                    continue;
                }
            };
            if let Ok(addr) = listener.local_addr() {
                let over = if handles.tls.is_some() {
                    " over TLS"
                } else {
                    ""
                };
                let proxy = match config.proxy_protocol {
                    ProxyProtocol::Off => "",
                    ProxyProtocol::Optional => ", PROXY protocol optional",
                    ProxyProtocol::Required => ", PROXY protocol required",
                };
                match config.transport {
                    Transport::Tcp | Transport::Unix => {
                        let carrier = if over.is_empty() { "TCP" } else { "TLS" };
                        tracing::info!("listening on {addr} (MQTT over {carrier}{proxy})")
                    }
                    Transport::Websocket => tracing::info!(
                        "listening on {addr} (MQTT over WebSocket{over} at {}{proxy})",
                        config.path
                    ),
                }
            }
            let accept = Acceptor {
                listener,
                tracker: tracker.clone(),
                token: token.clone(),
                next_id: next_id.clone(),
                handles,
            };
            tracker.spawn(accept.run());
        }

        shutdown.await;
        tracing::info!("shutting down");
        token.cancel();
        let (done, finished) = oneshot::channel();
        if events.send(Event::Shutdown(done)).await.is_ok() {
            let _ = finished.await;
        }
        tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not finish flushing in time");
        }
        drop(events);
        // A connection that did not flush in time (a client that stopped reading) still holds
        // a sender of the engine's events: the engine is not waited for beyond a second grace.
        match tokio::time::timeout(SHUTDOWN_GRACE, engine).await {
            Ok(finished) => finished.context("engine task failed")?,
            Err(_) => tracing::warn!("stopped without waiting for the last connections"),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Accepts connections on one listener until cancelled.
struct Acceptor {
    listener: TcpListener,
    tracker: TaskTracker,
    token: CancellationToken,
    next_id: Arc<AtomicU64>,
    handles: Arc<ConnectionHandles>,
}

impl Acceptor {
    async fn run(self) {
        loop {
            let accepted = tokio::select! {
                _ = self.token.cancelled() => return,
                accepted = self.listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(ok) => ok,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let conn = ConnId(self.next_id.fetch_add(1, Ordering::Relaxed));
            tracing::debug!(conn = %conn, %peer, "accepted");
            // Handshakes (TLS, the WebSocket upgrade) run in the connection's own task, so
            // that a slow client does not hold up the accept loop; the engine hears of the
            // connection only once it speaks MQTT.
            let info = self.handles.info(Some(peer));
            self.tracker
                .spawn(self.handles.clone().serve(stream, info, conn));
        }
    }
}

/// What a connection task needs of its acceptor: how its listener carries MQTT and the way
/// to the engine. Shared by the listener's connections (each holds a pointer, not a copy).
struct ConnectionHandles {
    events: mpsc::Sender<Event>,
    /// The listener's position in the configuration.
    listener: usize,
    transport: Transport,
    /// The listener's TLS, if it has some.
    tls: Option<Arc<TlsListener>>,
    /// The protocol versions the listener accepts.
    protocols: ProtocolSet,
    /// Whether connections start with a PROXY protocol header (TCP listeners).
    proxy_protocol: ProxyProtocol,
    /// The upgrade path of a WebSocket listener.
    path: Arc<str>,
    outbox_limit: usize,
    max_packet_size: u32,
    /// Cancelled at shutdown: a connection still in its PROXY header, TLS handshake or
    /// WebSocket upgrade is dropped then, rather than holding the shutdown up until its
    /// handshake times out. Connections that speak MQTT are closed by the engine instead.
    shutdown: CancellationToken,
}

impl ConnectionHandles {
    /// Tells the engine about a new connection and returns its outbox, or `None` once the
    /// engine has stopped.
    async fn open(&self, conn: ConnId, info: Box<ConnInfo>) -> Option<Arc<Outbox>> {
        let outbox = Arc::new(Outbox::new(self.outbox_limit));
        let open = Event::Open(conn, info, outbox.clone());
        connection::send(&self.events, open).await.then_some(outbox)
    }
}
