//! The tokio layer: listeners, one task per connection, and the task that owns the engine.
//!
//! Connection tasks decode what they read and send it to the engine task over bounded
//! channels (a slow engine slows readers down instead of growing a queue; see `to_engine`).
//! The engine task feeds the [`Engine`], gathers the frames it produces per connection, and
//! moves each connection's batch into its outbox under one lock; the connection's writer
//! sends everything waiting with one write.
//!
//! If the engine task ends before the shutdown (it panicked: a bug), the server stops
//! accepting, logs why and returns an error, and `tern start` exits non-zero so that a
//! supervisor restarts it: a broker that accepts connections it cannot serve helps no one.

pub mod backends;
mod commit;
mod connection;
mod engine_task;
pub mod grpc;
pub mod hooks;
pub mod http;
pub mod inline;
mod listen;
pub mod options;
mod outbox;
mod proxy;
mod reload;
mod reload_auth;
mod serve;
mod stamp;
mod timed;
pub mod tls;
mod to_engine;
mod unix;
mod websocket;

pub use inline::Connector;
pub use listen::Endpoint;
pub use reload::{ReloadHandle, Reloads};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::options::Auth;
use crate::auth::Security;
use crate::engine::policy::Authorizer;
use crate::engine::store::Store;
use crate::engine::{ConnId, ConnInfo, Engine, ProtocolSet, Settings};
use commit::Committer;
use options::{Listener, ProxyProtocol, Transport};
use outbox::Outbox;
use stamp::Stamp;
use tls::TlsListener;
use to_engine::{Event, ToEngine};

/// How long a shutdown waits for connections to flush before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

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
    /// The store that keeps state across restarts, if there is one.
    pub store: Option<Box<dyn Store>>,
    /// `[http]`: health checks, metrics and the admin API.
    pub http: http::options::Http,
    /// `[grpc]`: the gRPC publish/subscribe API.
    pub grpc: grpc::options::Grpc,
    /// The sources of logins and rights of `[auth]` (their clients built), in the order
    /// they are asked; the local one among them.
    pub sources: Vec<backends::Source>,
    /// What the admin API shows as the configuration (secrets already redacted).
    pub config_json: serde_json::Value,
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
    store: Option<Box<dyn Store>>,
    http: Option<http::HttpListener>,
    grpc: Option<grpc::GrpcListener>,
    /// The way to the engine, made at bind time so that in-process connections
    /// ([`Server::connector`]) can be opened before [`Server::run`].
    to_engine: ToEngine,
    from_connections: to_engine::FromConnections,
    /// Cancelled at shutdown.
    token: CancellationToken,
    /// Every connection's task, waited for at shutdown.
    tracker: TaskTracker,
    next_id: Arc<AtomicU64>,
    /// The engine's statistics, published by the engine task once a second.
    snapshots: tokio::sync::watch::Sender<Arc<http::Published>>,
    /// The application's hooks (`crate::embed`), if it gave some.
    hooks: Option<Arc<dyn hooks::Hooks>>,
    /// The sources of `[auth]`, asked in this order after the application's hooks.
    sources: Vec<backends::Source>,
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
        let http = http::HttpListener::bind(&setup.http, setup.config_json).await?;
        let grpc = grpc::GrpcListener::bind(&setup.grpc).await?;
        let (to_engine, from_connections) = to_engine::channels();
        Ok(Server {
            settings: setup.settings,
            security: setup.security,
            auth: setup.auth,
            listeners: setup.listeners,
            bound,
            tls,
            reload: ReloadHandle::new(),
            store: setup.store,
            http,
            grpc,
            to_engine,
            from_connections,
            token: CancellationToken::new(),
            tracker: TaskTracker::new(),
            next_id: Arc::new(AtomicU64::new(1)),
            snapshots: tokio::sync::watch::Sender::new(Arc::new(http::Published {
                at: std::time::Instant::now(),
                snapshot: Default::default(),
            })),
            hooks: None,
            sources: setup.sources,
        })
    }

    /// What opens connections from inside the process (an embedding application's clients,
    /// the gRPC API's): they speak MQTT like any other, through no socket. Usable before and
    /// during [`Server::run`]; a connection opened before it waits until the engine runs.
    pub fn connector(&self) -> Connector {
        let handles = ConnectionHandles {
            to_engine: self.to_engine.clone(),
            // After the configured listeners: no listener's rules apply to them.
            listener: self.listeners.len(),
            transport: Transport::Tcp,
            tls: None,
            protocols: ProtocolSet::ALL,
            proxy_protocol: ProxyProtocol::Off,
            path: "/".into(),
            outbox_limit: self.settings.queue.max_bytes,
            max_packet_size: self.settings.max_packet_size,
            shutdown: self.token.clone(),
        };
        Connector::new(
            Arc::new(handles),
            self.tracker.clone(),
            self.next_id.clone(),
        )
    }

    /// Extends the broker with `hooks` (see [`hooks::Hooks`]); before [`Server::run`].
    pub fn set_hooks(&mut self, hooks: Arc<dyn hooks::Hooks>) {
        self.hooks = Some(hooks);
    }

    /// The engine's counters and what it holds, as the engine task last published them
    /// (once a second while it runs; all zero before).
    pub fn statistics(&self) -> Statistics {
        Statistics(self.snapshots.subscribe())
    }

    /// The address of the HTTP listener (`[http]`), if it runs.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().and_then(|h| h.local_addr())
    }

    /// The address of the gRPC listener (`[grpc]`), if it runs.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc.as_ref().and_then(|g| g.local_addr())
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
        // Only what serves in-process clients holds a way in: a connector left here would keep
        // the engine waiting for it at the shutdown.
        let connector = self.grpc.is_some().then(|| self.connector());
        let settings = self.settings;
        let outbox_limit = settings.queue.max_bytes;
        let max_packet_size = settings.max_packet_size;
        let (to_engine, from_connections) = (self.to_engine, self.from_connections);
        let mut engine = Engine::with_authenticator(settings, self.security.authenticator);
        engine.set_acl(self.security.acl.map(|acl| acl as Arc<dyn Authorizer>));
        // What the store kept is back before the first client connects.
        let measured = Arc::new(http::metrics::Measured::default());
        let committer = match self.store {
            Some(mut store) => {
                let restored = store.load()?;
                let now = std::time::Instant::now();
                engine.set_wall_clock(now, std::time::SystemTime::now());
                engine.restore(restored, now);
                engine.set_store_full(store.is_full());
                let priority = to_engine.priority_sender();
                Some(Committer::spawn(store, priority, measured.clone()))
            }
            None => None,
        };
        let now = std::time::Instant::now();
        engine.start(now);
        let snapshots = self.snapshots;
        snapshots.send_replace(Arc::new(http::Published {
            at: now,
            snapshot: engine.snapshot(now),
        }));
        let snapshot = snapshots.subscribe();
        let (directories, directory) = tokio::sync::watch::channel(None);
        let wanted = Arc::new(http::Wanted::default());
        let observe = engine_task::Observe {
            snapshots,
            measured: measured.clone(),
            directory: directories,
            wanted: wanted.clone(),
        };
        // The application's hooks first, then the sources of `[auth]`, if any is more than
        // the engine's own.
        let mut chain: Vec<Arc<dyn hooks::Hooks>> = self.hooks.into_iter().collect();
        for source in &self.sources {
            match source {
                backends::Source::Http(http) => {
                    let _ = measured.auth_http.set(http.stats.clone());
                }
                backends::Source::Store(store) => measured.add_source(store.clone()),
                backends::Source::Local(_) => {}
            }
        }
        let local = self.sources.iter().find_map(|s| match s {
            backends::Source::Local(local) => Some(local.clone()),
            _ => None,
        });
        if (self.sources.iter()).any(|s| !matches!(s, backends::Source::Local(_))) {
            chain.push(Arc::new(backends::Sources(self.sources)));
        }
        let hooks: Option<Arc<dyn hooks::Hooks>> = match chain.len() {
            0 => None,
            1 => chain.pop(),
            _ => Some(Arc::new(backends::Chain(chain))),
        };
        let hooks = hooks.map(|hooks| {
            engine.set_interest(hooks.interest());
            hooks::HookRunner::new(hooks, to_engine.priority_sender(), measured.clone())
        });
        let mut engine = tokio::spawn(engine_task::run(
            engine,
            from_connections,
            committer,
            observe,
            hooks,
            to_engine.priority_sender(),
        ));

        let token = self.token;
        let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut certificates: Vec<(String, Arc<TlsListener>)> = (self.tls.iter().enumerate())
            .filter_map(|(i, tls)| Some((format!("listener[{i}]"), tls.clone()?)))
            .collect();
        if let Some(listener) = self.http {
            certificates.extend(listener.tls().map(|tls| ("http".to_owned(), tls)));
            let feeds = http::Feeds {
                snapshot,
                directory,
                wanted,
                measured,
                started: started.clone(),
                to_engine: to_engine.clone(),
            };
            listener
                .spawn(feeds, token.clone())
                .context("cannot start the HTTP listener's thread")?;
        }
        if let (Some(listener), Some(connector)) = (self.grpc, connector) {
            certificates.extend(listener.tls().map(|tls| ("grpc".to_owned(), tls)));
            listener.spawn(connector, token.clone())?;
        }
        let tracker = self.tracker;
        let next_id = self.next_id;
        tokio::spawn(reload_auth::reload_security(
            self.reload.subscribe(),
            self.auth,
            local,
            to_engine.clone(),
            token.clone(),
        ));
        tokio::spawn(reload::reload_certificates(
            self.reload.subscribe(),
            certificates,
            token.clone(),
        ));
        let listeners = self.bound.into_iter().zip(self.tls);
        for (index, ((listener, tls), config)) in listeners.zip(&self.listeners).enumerate() {
            let handles = Arc::new(ConnectionHandles {
                to_engine: to_engine.clone(),
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

        started.store(true, std::sync::atomic::Ordering::Release);
        if let Err(failure) = supervise(&mut engine, shutdown).await {
            // Nothing can be served any more: stop accepting, and let the connections go. The
            // caller says why (`tern start` logs it).
            token.cancel();
            tracker.close();
            return Err(failure);
        }
        tracing::info!("shutting down");
        token.cancel();
        let (done, finished) = oneshot::channel();
        let shutdown = Event::Shutdown(done);
        if to_engine.send(shutdown, std::time::Instant::now()).await {
            let _ = finished.await;
        }
        tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not finish flushing in time");
        }
        drop(to_engine);
        // A connection that did not flush in time (a client that stopped reading) still holds
        // a sender of the engine's events: the engine is not waited for beyond a second grace.
        match tokio::time::timeout(SHUTDOWN_GRACE, engine).await {
            Ok(finished) => finished.context("engine task failed")??,
            Err(_) => tracing::warn!("stopped without waiting for the last connections"),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Reads the statistics a running server publishes ([`Server::statistics`]).
#[derive(Clone)]
pub struct Statistics(tokio::sync::watch::Receiver<Arc<http::Published>>);

impl Statistics {
    /// The latest snapshot.
    pub fn now(&self) -> crate::engine::Snapshot {
        self.0.borrow().snapshot.clone()
    }

    /// How long ago the engine took the latest snapshot.
    pub fn age(&self) -> Duration {
        self.0.borrow().at.elapsed()
    }
}

/// Waits for `shutdown`; an engine task that ends first is a failure, with its cause.
async fn supervise(
    engine: &mut JoinHandle<anyhow::Result<()>>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::select! {
        _ = shutdown => Ok(()),
        ended = engine => Err(match ended {
            Err(e) if e.is_panic() => {
                let panic = e.into_panic();
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                anyhow::anyhow!("the engine task panicked: {why}")
            }
            Err(e) => anyhow::anyhow!("the engine task was cancelled: {e}"),
            Ok(Err(failure)) => failure,
            Ok(Ok(())) => anyhow::anyhow!("the engine task ended before the shutdown"),
        }),
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
        let name = match self.listener.local_addr() {
            Ok(addr) => format!("listener {addr}"),
            Err(_) => "listener".to_owned(),
        };
        while let Some((stream, peer)) =
            listen::next(&self.token, &name, || self.listener.accept()).await
        {
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
    to_engine: ToEngine,
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
    /// Tells the engine about a new connection, whose reads `arrival` stamps; its outbox, or
    /// `None` if the engine has stopped.
    async fn open(
        &self,
        conn: ConnId,
        info: Box<ConnInfo>,
        arrival: &Arc<Stamp>,
    ) -> Option<Arc<Outbox>> {
        let outbox = Arc::new(Outbox::with_arrival(self.outbox_limit, arrival.clone()));
        let open = Event::Open(conn, info, outbox.clone());
        let at = std::time::Instant::now();
        arrival.opened(at);
        let opened = self.to_engine.send(open, at).await;
        opened.then_some(outbox)
    }
}

#[cfg(test)]
mod tests {
    use super::supervise;

    #[tokio::test]
    async fn an_engine_that_panics_is_a_failure_that_names_the_cause() {
        let mut engine = tokio::spawn(async {
            panic!("an invariant broke");
            #[allow(unreachable_code)]
            Ok(())
        });
        let failure = supervise(&mut engine, std::future::pending())
            .await
            .unwrap_err();
        assert!(
            failure.to_string().contains("panicked: an invariant broke"),
            "{failure}"
        );
    }

    #[tokio::test]
    async fn a_shutdown_before_any_failure_is_not_one() {
        let mut engine = tokio::spawn(std::future::pending::<anyhow::Result<()>>());
        assert!(supervise(&mut engine, async {}).await.is_ok());
        engine.abort();
    }
}
