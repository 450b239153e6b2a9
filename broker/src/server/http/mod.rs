//! The broker's HTTP surface (`[http]`, on `127.0.0.1:8080` by default): health checks for
//! supervisors and load balancers, and Prometheus metrics.
//!
//! - `GET /healthz`: 200 while the process serves HTTP at all.
//! - `GET /readyz`: 200 once the listeners are bound, the store is open and the engine has
//!   answered within the last [`STALE`]; 503 with the reason otherwise.
//! - `GET /metrics`: see `metrics`.
//!
//! Every handler reads the engine's last snapshot (published by the engine task once a
//! second, see [`Published`]); none sends the engine anything, so requests, however many,
//! never slow routing. A listener reachable from other machines needs `http.token` (the
//! configuration refuses one without), and every request but the health checks must carry it
//! as a bearer token; on loopback, reading needs none.

pub mod metrics;
pub mod options;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::engine::Snapshot;
use options::Http;

/// How old the engine's last snapshot may be for the broker to be ready: three missed
/// publications.
pub const STALE: Duration = Duration::from_secs(3);

/// The engine's snapshot, and when the engine task took it.
#[derive(Debug)]
pub struct Published {
    pub at: Instant,
    pub snapshot: Snapshot,
}

/// What the handlers share.
struct Shared {
    snapshot: watch::Receiver<Arc<Published>>,
    registry: Registry,
    /// Set once everything the broker serves with is up (listeners, store, engine task).
    started: Arc<AtomicBool>,
    /// The bearer token every request must carry, if the listener requires one.
    token: Option<String>,
}

/// The HTTP listener, bound.
pub struct HttpListener {
    listener: TcpListener,
    token: Option<String>,
}

impl HttpListener {
    /// Binds `[http]`; `None` if it is turned off.
    pub async fn bind(options: &Http) -> anyhow::Result<Option<HttpListener>> {
        if !options.enabled {
            return Ok(None);
        }
        let listener = TcpListener::bind(options.bind).await.with_context(|| {
            format!(
                "cannot listen for HTTP on {} (http.bind; set http.enabled = false to run \
                 without it)",
                options.bind
            )
        })?;
        // On loopback, only this machine reaches it: reading needs no token there.
        let token = (!options.bind.ip().is_loopback()).then(|| options.token.clone());
        Ok(Some(HttpListener { listener, token }))
    }

    /// The address bound (a port 0 in the configuration becomes a real one).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `shutdown` is cancelled.
    pub async fn serve(
        self,
        snapshot: watch::Receiver<Arc<Published>>,
        measured: Arc<metrics::Measured>,
        started: Arc<AtomicBool>,
        shutdown: CancellationToken,
    ) {
        let registry = metrics::registry(snapshot.clone(), measured);
        let shared = Arc::new(Shared {
            snapshot,
            registry,
            started,
            token: self.token,
        });
        let app = Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .layer(middleware::from_fn_with_state(shared.clone(), authorize))
            .with_state(shared);
        if let Ok(addr) = self.listener.local_addr() {
            tracing::info!("serving HTTP on {addr}: /healthz, /readyz, /metrics");
        }
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::warn!("the HTTP listener stopped: {e}");
        }
    }
}

/// Refuses a request without the bearer token, where one is required (the health checks
/// never need it: probes do not send one, and they tell nothing).
async fn authorize(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let probe = matches!(request.uri().path(), "/healthz" | "/readyz");
    if let Some(token) = shared.token.as_ref().filter(|_| !probe) {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let matches = given.is_some_and(|given| {
            subtle::ConstantTimeEq::ct_eq(given.as_bytes(), token.as_bytes()).into()
        });
        if !matches {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a bearer token is required (http.token)\n",
            )
                .into_response();
        }
    }
    next.run(request).await
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

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &shared.registry) {
        let why = format!("cannot encode the metrics: {e}\n");
        return (StatusCode::INTERNAL_SERVER_ERROR, why).into_response();
    }
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}
