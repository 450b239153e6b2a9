//! The broker's HTTP surface (`[http]`, on `127.0.0.1:8080` by default; HTTPS with
//! `[http.tls]`, see `https`): a dashboard, health checks for supervisors and load balancers,
//! Prometheus metrics and the admin API.
//!
//! - `GET /`: the dashboard (`dashboard.html`, built in): live counts and rates, clients
//!   (searchable, disconnect), subscriptions, retained messages, and the conformance
//!   coverage of this build (`conformance.json`, built in; see `api::conformance`).
//! - `GET /healthz`: 200 while the process serves HTTP at all.
//! - `GET /readyz`: 200 once the listeners are bound, the store is open and the engine has
//!   answered within the last [`STALE`]; 503 with the reason otherwise.
//! - `GET /metrics`: see `metrics`.
//! - `/api/v1/...`: see `api`.
//!
//! Every handler reads the engine's last snapshot (published by the engine task once a
//! second, see [`Published`]); none sends the engine anything, so requests, however many,
//! never slow routing. A listener reachable from other machines needs `http.token` (the
//! configuration refuses one without), and every request but the health checks must carry it
//! as a bearer token; on loopback, reading needs none.

mod api;
mod https;
pub mod metrics;
pub mod options;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;

use super::tls::TlsListener;
use super::to_engine::{Event, ToEngine};
use crate::engine::{Command, Directory, Outcome, Snapshot};
use api::error;
use options::Http;

/// How old the engine's last snapshot may be for the broker to be ready: three missed
/// publications.
pub const STALE: Duration = Duration::from_secs(3);

/// How long after the last request for it the engine task keeps taking its directory.
const WANTED_FOR: Duration = Duration::from_secs(10);

/// The engine's snapshot, and when the engine task took it.
#[derive(Debug)]
pub struct Published {
    pub at: Instant,
    pub snapshot: Snapshot,
}

/// When the admin API last wanted the engine's directory, and when it last changed
/// something (a directory taken before that is not shown: a client reads its own writes).
#[derive(Debug)]
pub struct Wanted {
    epoch: Instant,
    /// Milliseconds after `epoch`, plus one (0: never).
    at: AtomicU64,
    changed: AtomicU64,
}

impl Default for Wanted {
    fn default() -> Wanted {
        Wanted {
            epoch: Instant::now(),
            at: AtomicU64::new(0),
            changed: AtomicU64::new(0),
        }
    }
}

impl Wanted {
    fn stamp(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    fn now(&self) {
        self.at.store(self.stamp(), Ordering::Relaxed);
    }

    /// A command was carried out now.
    fn changed(&self) {
        self.changed.store(self.stamp(), Ordering::Relaxed);
    }

    /// Whether a directory taken at `at` shows the last command's effect.
    fn after_last_change(&self, at: Instant) -> bool {
        match self.changed.load(Ordering::Relaxed) {
            0 => true,
            changed => at >= self.epoch + Duration::from_millis(changed),
        }
    }

    /// Whether it was wanted within `WANTED_FOR` (10 s) of `now`.
    pub fn recently(&self, now: Instant) -> bool {
        match self.at.load(Ordering::Relaxed) {
            0 => false,
            at => {
                let then = self.epoch + Duration::from_millis(at - 1);
                now.saturating_duration_since(then) <= WANTED_FOR
            }
        }
    }
}

/// What the engine task publishes for the HTTP surface, and what the server measures.
pub(crate) struct Feeds {
    pub snapshot: watch::Receiver<Arc<Published>>,
    pub directory: watch::Receiver<Option<(Instant, Arc<Directory>)>>,
    pub wanted: Arc<Wanted>,
    pub measured: Arc<metrics::Measured>,
    /// Set once everything the broker serves with is up (listeners, store, engine task).
    pub started: Arc<AtomicBool>,
    /// Where the admin API's commands go.
    pub to_engine: ToEngine,
}

/// What the handlers share.
pub(crate) struct Shared {
    snapshot: watch::Receiver<Arc<Published>>,
    directory: watch::Receiver<Option<(Instant, Arc<Directory>)>>,
    wanted: Arc<Wanted>,
    registry: Registry,
    started: Arc<AtomicBool>,
    to_engine: ToEngine,
    /// The token reading requires (off loopback), and the one changing requires (if set).
    read_token: Option<String>,
    token: Option<String>,
    /// The configuration as JSON, secrets redacted.
    config: serde_json::Value,
    /// `/metrics` as last encoded, and the snapshot it was encoded from.
    metrics: std::sync::Mutex<Option<(Instant, bytes::Bytes)>>,
}

impl Shared {
    /// Hands `command` to the engine; `None` if the engine is gone (the broker stops).
    async fn command(&self, command: Command) -> Option<Outcome> {
        let (done, outcome) = oneshot::channel();
        if !self
            .to_engine
            .send(Event::Command(command, done), Instant::now())
            .await
        {
            return None;
        }
        let outcome = outcome.await.ok();
        self.wanted.changed();
        outcome
    }
}

/// The HTTP listener, bound.
pub struct HttpListener {
    listener: TcpListener,
    /// `[http.tls]`, loaded.
    tls: Option<Arc<TlsListener>>,
    read_token: Option<String>,
    token: Option<String>,
    config: serde_json::Value,
}

impl HttpListener {
    /// Binds `[http]`; `None` if it is turned off. `config` is what `GET /api/v1/config`
    /// shows (secrets already redacted).
    pub async fn bind(
        options: &Http,
        config: serde_json::Value,
    ) -> anyhow::Result<Option<HttpListener>> {
        if !options.enabled {
            return Ok(None);
        }
        let tls = match &options.tls {
            Some(settings) => Some(Arc::new(TlsListener::new(settings).context("http")?)),
            None => None,
        };
        let listener = TcpListener::bind(options.bind).await.with_context(|| {
            format!(
                "cannot listen for HTTP on {} (http.bind; set http.enabled = false to run \
                 without it)",
                options.bind
            )
        })?;
        let token = (!options.token.is_empty()).then(|| options.token.clone());
        // On loopback, only this machine reaches it: reading needs no token there.
        let read_token = token.clone().filter(|_| !options.bind.ip().is_loopback());
        Ok(Some(HttpListener {
            listener,
            tls,
            read_token,
            token,
            config,
        }))
    }

    /// The address bound (a port 0 in the configuration becomes a real one).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// The TLS under it (`[http.tls]`), whose certificates a reload reads again.
    pub fn tls(&self) -> Option<Arc<TlsListener>> {
        self.tls.clone()
    }

    /// Serves until `shutdown` is cancelled, on a thread of its own at the lowest priority.
    ///
    /// The HTTP work (parsing, encoding pages, TLS) must not delay routing: a scrape storm
    /// served on the broker's runtime moved the latency scenario's p99 from 179 to 294 µs. On
    /// its own thread with a runtime of its own, at nice 19, the kernel runs it when the
    /// broker's threads leave the CPU and preempts it when they wake; under full load it
    /// still gets a small share, so the probes are answered (the lowest class, SCHED_IDLE,
    /// could starve them). Everything it reads is published by the engine task already.
    pub(crate) fn spawn(self, feeds: Feeds, shutdown: CancellationToken) -> anyhow::Result<()> {
        // The socket was registered with the broker's runtime: it moves to the thread's.
        let listener = self.listener.into_std()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("tern-http".into())
            .spawn(move || {
                lowest_priority();
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            HttpListener { listener, ..self }
                                .serve(feeds, shutdown)
                                .await
                        }
                        Err(e) => tracing::error!("the HTTP listener cannot run: {e}"),
                    }
                });
            })?;
        Ok(())
    }

    /// Serves until `shutdown` is cancelled.
    async fn serve(self, feeds: Feeds, shutdown: CancellationToken) {
        let registry = metrics::registry(feeds.snapshot.clone(), feeds.measured);
        let shared = Arc::new(Shared {
            snapshot: feeds.snapshot,
            directory: feeds.directory,
            wanted: feeds.wanted,
            registry,
            started: feeds.started,
            to_engine: feeds.to_engine,
            read_token: self.read_token,
            token: self.token,
            config: self.config,
            metrics: Default::default(),
        });
        let app = Router::new()
            .route("/", get(dashboard))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .route("/api/v1/openapi.json", get(openapi))
            .route("/api/v1/clients", get(api::clients))
            .route("/api/v1/clients/{client_id}", get(api::client))
            .route(
                "/api/v1/clients/{client_id}/disconnect",
                post(api::disconnect),
            )
            .route("/api/v1/sessions/{client_id}", delete(api::delete_session))
            .route("/api/v1/subscriptions", get(api::subscriptions))
            .route("/api/v1/topics", get(api::topics))
            .route("/api/v1/retained", get(api::retained))
            .route(
                "/api/v1/retained/message",
                get(api::retained_message).delete(api::delete_retained),
            )
            .route("/api/v1/publish", post(api::publish))
            .route("/api/v1/config", get(api::config))
            .route("/api/v1/stats", get(api::stats))
            .route("/api/v1/conformance", get(api::conformance))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
            .method_not_allowed_fallback(|| async {
                error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "this endpoint does not take that method",
                )
            })
            .layer(middleware::from_fn_with_state(shared.clone(), authorize))
            .with_state(shared);
        if let Ok(addr) = self.listener.local_addr() {
            let (name, scheme) = match self.tls {
                Some(_) => ("HTTPS", "https"),
                None => ("HTTP", "http"),
            };
            tracing::info!(
                "serving {name} on {addr}: the dashboard at {scheme}://{addr}/, /healthz, \
                 /readyz, /metrics, /api/v1"
            );
        }
        let stopped = shutdown.clone().cancelled_owned();
        let served = match self.tls {
            None => {
                axum::serve(self.listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
            }
            Some(tls) => match https::Https::accept(self.listener, tls, shutdown) {
                Ok(https) => {
                    axum::serve(https, app)
                        .with_graceful_shutdown(stopped)
                        .await
                }
                Err(e) => Err(e),
            },
        };
        if let Err(e) = served {
            tracing::warn!("the HTTP listener stopped: {e}");
        }
    }
}

/// Lowers the calling thread to nice 19 (Linux: `setpriority` applies to one thread). A
/// refusal costs only the isolation: it is logged and the thread serves at normal priority.
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread, with no pointers.
        let done = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19)
        };
        if done != 0 {
            tracing::warn!(
                "the HTTP thread runs at normal priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Checks the bearer token where one is required: to change anything (and changing is
/// refused when no token is configured), and to read anything but the health checks when
/// the listener is reachable from other machines.
async fn authorize(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    // The probes, and the dashboard's page, which holds no data: it reads the API with the
    // token typed into it.
    let probe = matches!(request.uri().path(), "/healthz" | "/readyz" | "/");
    let required = match reading {
        true if probe => None,
        true => shared.read_token.as_deref(),
        false => match shared.token.as_deref() {
            Some(token) => Some(token),
            None => {
                return error(
                    StatusCode::FORBIDDEN,
                    "changing anything over HTTP needs a bearer token: set http.token",
                )
            }
        },
    };
    if let Some(token) = required {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let matches = given.is_some_and(|given| {
            subtle::ConstantTimeEq::ct_eq(given.as_bytes(), token.as_bytes()).into()
        });
        if !matches {
            let mut response = error(
                StatusCode::UNAUTHORIZED,
                "a bearer token is required (Authorization: Bearer <http.token>)",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                "Bearer".parse().expect("a header value"),
            );
            return response;
        }
    }
    next.run(request).await
}

/// The dashboard: one page, built into the binary, that reads this API every second. Its
/// Content-Security-Policy lets it reach nothing but this server.
async fn dashboard() -> Response {
    let csp = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
               connect-src 'self'; img-src 'self' data:";
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, csp),
        ],
        include_str!("dashboard.html"),
    )
        .into_response()
}

async fn openapi() -> Response {
    let mut doc = api::ApiDoc::openapi();
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            utoipa::openapi::security::SecurityScheme::Http(utoipa::openapi::security::Http::new(
                utoipa::openapi::security::HttpAuthScheme::Bearer,
            )),
        );
    axum::Json(doc).into_response()
}
async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if !shared.started.load(Ordering::Acquire) {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response();
    }
    let age = shared.snapshot.borrow().at.elapsed();
    if age > STALE {
        let why = format!("the engine has not answered for {} ms\n", age.as_millis());
        return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    }
    (StatusCode::OK, "ready\n").into_response()
}

/// The exposition, encoded once per snapshot: scrapes between two snapshots get the same
/// bytes (the histograms, observed continuously, are as fresh as the snapshot).
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let at = shared.snapshot.borrow().at;
    let cached = {
        let cache = shared.metrics.lock().expect("not poisoned");
        cache
            .as_ref()
            .filter(|(when, _)| *when == at)
            .map(|(_, text)| text.clone())
    };
    let text = match cached {
        Some(text) => text,
        None => {
            let mut text = String::new();
            if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &shared.registry) {
                let why = format!("cannot encode the metrics: {e}\n");
                return (StatusCode::INTERNAL_SERVER_ERROR, why).into_response();
            }
            let text = bytes::Bytes::from(text);
            *shared.metrics.lock().expect("not poisoned") = Some((at, text.clone()));
            text
        }
    };
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}
