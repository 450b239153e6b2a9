//! The admin REST API under `/api/v1`, described by the OpenAPI 3 document it serves at
//! `/api/v1/openapi.json` (utoipa).
//!
//! Reading: the clients (searchable), one client's session and subscriptions, the
//! subscriptions, the topics subscribed to, the retained messages, the broker's
//! configuration (secrets left out) and its statistics. Lists are paginated (`page` from 1,
//! `per_page` up to 1,000). They are read from the engine's last [`Directory`], which the
//! engine task takes at most once a second while someone reads the API (the first request
//! after a quiet spell waits for it, up to a second): the engine is never asked per request.
//!
//! Changing (a bearer token required, `http.token`; without one configured these are
//! refused): disconnect a client, delete a session, delete a retained message, publish.
//! Each is an event into the engine, applied in arrival order like a client's packet.
//!
//! Every error is JSON: `{"message": "..."}`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::Shared;
use crate::codec::{QoS, TopicName};
use crate::engine::{ClientEntry, Command, Directory, Outcome};

/// The OpenAPI document of this API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tern admin API",
        description = "Clients, sessions, subscriptions, retained messages, publishing, configuration and statistics of a Tern MQTT broker."
    ),
    paths(
        clients,
        client,
        disconnect,
        delete_session,
        subscriptions,
        topics,
        retained,
        retained_message,
        delete_retained,
        publish,
        config,
        stats,
        conformance
    ),
    components(schemas(
        ErrorBody,
        ClientView,
        ClientPage,
        ClientDetail,
        SubscriptionView,
        SubscriptionPage,
        TopicView,
        TopicPage,
        RetainedView,
        RetainedPage,
        RetainedMessage,
        PublishRequest,
        Stats
    ))
)]
pub struct ApiDoc;

/// An error: what went wrong, in words.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub message: String,
}

/// An error response with its status.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = ErrorBody {
        message: message.into(),
    };
    (status, Json(body)).into_response()
}

/// Which page of a list, and what to look for.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only entries whose text contains this (client identifier, user name, address, filter
    /// or topic).
    pub search: Option<String>,
    /// The page, from 1 (default 1).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Entries per page, 1 to 1,000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<u32>,
}

impl ListQuery {
    fn page<T: Clone>(&self, all: Vec<T>) -> Result<(Vec<T>, u32, u32, usize), String> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(100);
        if !(1..=1_000_000).contains(&page) || !(1..=1000).contains(&per_page) {
            return Err("page is 1 to 1000000, and per_page is 1 to 1000".into());
        }
        let total = all.len();
        let start = (page as usize - 1).saturating_mul(per_page as usize);
        let items = all
            .into_iter()
            .skip(start)
            .take(per_page as usize)
            .collect();
        Ok((items, page, per_page, total))
    }

    /// One page of `all`, as the JSON `make` builds from it (items, page, per page, total);
    /// a bad page is a 400.
    fn respond<T: Clone, P: Serialize>(
        &self,
        all: Vec<T>,
        make: impl FnOnce(Vec<T>, u32, u32, usize) -> P,
    ) -> Response {
        match self.page(all) {
            Ok((items, page, per_page, total)) => {
                Json(make(items, page, per_page, total)).into_response()
            }
            Err(e) => error(StatusCode::BAD_REQUEST, e),
        }
    }

    fn matches(&self, texts: &[&str]) -> bool {
        self.search
            .as_deref()
            .is_none_or(|s| texts.iter().any(|t| t.contains(s)))
    }
}

/// A client: its session and, when online, its connection.
#[derive(Clone, Serialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub username: Option<String>,
    /// "3.1", "3.1.1" or "5.0".
    pub protocol: String,
    pub address: Option<String>,
    pub connected: bool,
    /// When its connection opened (RFC 3339), if it is online.
    pub connected_since: Option<String>,
    /// The keep alive in force, in seconds.
    pub keep_alive: u16,
    /// Session Expiry Interval in seconds; 4294967295: never.
    pub session_expiry: u32,
    pub inflight: usize,
    pub queued: usize,
    pub subscriptions: usize,
}

/// A page of clients.
#[derive(Serialize, ToSchema)]
pub struct ClientPage {
    pub items: Vec<ClientView>,
    pub page: u32,
    pub per_page: u32,
    pub total: usize,
}

/// A client with its subscriptions.
#[derive(Serialize, ToSchema)]
pub struct ClientDetail {
    pub client: ClientView,
    pub subscriptions: Vec<SubscriptionView>,
}

/// A subscription.
#[derive(Clone, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub client_id: String,
    pub filter: String,
    pub qos: u8,
    pub no_local: bool,
    pub retain_as_published: bool,
    pub retain_handling: u8,
    pub identifier: Option<u32>,
}

/// A page of subscriptions.
#[derive(Serialize, ToSchema)]
pub struct SubscriptionPage {
    pub items: Vec<SubscriptionView>,
    pub page: u32,
    pub per_page: u32,
    pub total: usize,
}

/// A topic filter subscribed to, and by how many sessions.
#[derive(Clone, Serialize, ToSchema)]
pub struct TopicView {
    pub filter: String,
    pub subscribers: usize,
}

/// A page of topic filters.
#[derive(Serialize, ToSchema)]
pub struct TopicPage {
    pub items: Vec<TopicView>,
    pub page: u32,
    pub per_page: u32,
    pub total: usize,
}

/// A retained message, without its payload.
#[derive(Clone, Serialize, ToSchema)]
pub struct RetainedView {
    pub topic: String,
    pub qos: u8,
    /// Bytes of payload.
    pub size: usize,
    /// Seconds left of its Message Expiry Interval, if it has one.
    pub expires_in: Option<u64>,
}

/// A page of retained messages.
#[derive(Serialize, ToSchema)]
pub struct RetainedPage {
    pub items: Vec<RetainedView>,
    pub page: u32,
    pub per_page: u32,
    pub total: usize,
}

/// A retained message with its payload.
#[derive(Serialize, ToSchema)]
pub struct RetainedMessage {
    pub topic: String,
    pub qos: u8,
    /// The payload as text, if it is UTF-8.
    pub payload: Option<String>,
    /// The payload, base64.
    pub payload_base64: String,
    pub expires_in: Option<u64>,
}

/// The topic a request names.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopicQuery {
    /// The topic name.
    #[param(min_length = 1)]
    pub topic: String,
}

/// A message to publish as the broker.
#[derive(Deserialize, ToSchema)]
pub struct PublishRequest {
    /// The topic name: not empty, no wildcards (`+`, `#`), no NUL, at most 16,383
    /// characters (so that it fits MQTT's 65,535 bytes whatever the characters).
    #[schema(min_length = 1, max_length = 16383, pattern = "^[^+#\\u0000]+$")]
    pub topic: String,
    /// The payload as text (default empty).
    #[serde(default)]
    pub payload: Option<String>,
    /// The payload, base64; when given, `payload` is ignored.
    #[serde(default)]
    #[schema(format = Byte)]
    pub payload_base64: Option<String>,
    /// 0, 1 or 2 (default 0).
    #[serde(default, deserialize_with = "integer")]
    #[schema(minimum = 0, maximum = 2)]
    pub qos: u8,
    #[serde(default)]
    pub retain: bool,
}

/// A small whole number, written as JSON writes numbers (`1` or `1.0`).
fn integer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let n = f64::deserialize(d)?;
    if n.fract() != 0.0 || !(0.0..=255.0).contains(&n) {
        return Err(serde::de::Error::custom(format!("{n} is not a QoS")));
    }
    Ok(n as u8)
}

/// The broker's statistics: its counters and what it holds.
#[derive(Serialize, ToSchema)]
pub struct Stats {
    pub uptime_seconds: u64,
    /// The same, in milliseconds: when the engine took these figures (once a second).
    pub uptime_ms: u64,
    pub connections: usize,
    pub sessions_online: usize,
    pub sessions_offline: usize,
    pub subscriptions: usize,
    pub retained_messages: usize,
    pub queued_messages: usize,
    pub queued_bytes: usize,
    pub inflight_messages: usize,
    pub connections_accepted: u64,
    pub auth_failures: u64,
    /// Re-authentications (MQTT 5.0 AUTH 0x19) that succeeded, and that failed.
    pub reauthentications: u64,
    pub reauth_failures: u64,
    /// PUBLISH packets received, by QoS (0, 1, 2).
    pub messages_received: [u64; 3],
    /// PUBLISH packets sent, by QoS (0, 1, 2).
    pub messages_sent: [u64; 3],
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub dropped_queue_full: u64,
    pub dropped_expired: u64,
    pub dropped_too_large: u64,
    pub slow_subscribers_closed: u64,
}

fn view(c: &ClientEntry) -> ClientView {
    ClientView {
        client_id: c.client_id.to_string(),
        username: c.username.as_ref().map(|u| u.to_string()),
        protocol: match c.protocol {
            crate::codec::Protocol::V3_1 => "3.1",
            crate::codec::Protocol::V3_1_1 => "3.1.1",
            crate::codec::Protocol::V5 => "5.0",
        }
        .to_string(),
        address: c.address.map(|a| a.to_string()),
        connected: c.connected_since.is_some(),
        connected_since: c
            .connected_since
            .map(|t| humantime::format_rfc3339_seconds(t).to_string()),
        keep_alive: c.keep_alive,
        session_expiry: c.session_expiry,
        inflight: c.inflight,
        queued: c.queued,
        subscriptions: c.subscriptions,
    }
}

/// The engine's directory, no older than a second or so: asked for (the engine task takes
/// one at its next snapshot while it is wanted), and waited for if the last is stale.
async fn directory(shared: &Shared) -> Result<Arc<Directory>, Response> {
    shared.wanted.now();
    let mut rx = shared.directory.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        if let Some(d) = rx.borrow_and_update().as_ref() {
            if d.0.elapsed() <= FRESH && shared.wanted.after_last_change(d.0) {
                return Ok(d.1.clone());
            }
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => continue,
            _ => {
                return Err(error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the engine has not published its directory in 3 s",
                ))
            }
        }
    }
}

/// The query of a request and the directory it is read from; a bad query is a 400.
async fn listing<Q>(
    shared: &Shared,
    q: Result<Query<Q>, QueryRejection>,
) -> Result<(Q, Arc<Directory>), Response> {
    let Query(q) = q.map_err(|e| error(StatusCode::BAD_REQUEST, e.body_text()))?;
    Ok((q, directory(shared).await?))
}

/// How old a directory may be and still answer a request.
pub const FRESH: Duration = Duration::from_millis(1500);

/// List and search clients.
#[utoipa::path(get, path = "/api/v1/clients", params(ListQuery),
    responses((status = 200, body = ClientPage), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn clients(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let (q, d) = match listing(&shared, q).await {
        Ok(listing) => listing,
        Err(e) => return e,
    };
    let all: Vec<ClientView> = d
        .clients
        .iter()
        .map(view)
        .filter(|c| {
            let address = c.address.clone().unwrap_or_default();
            let user = c.username.clone().unwrap_or_default();
            q.matches(&[&c.client_id, &user, &address])
        })
        .collect();
    q.respond(all, |items, page, per_page, total| ClientPage {
        items,
        page,
        per_page,
        total,
    })
}

/// One client's session and subscriptions.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}",
    params(("client_id" = String, Path, description = "The client identifier")),
    responses((status = 200, body = ClientDetail), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn client(
    State(shared): State<Arc<Shared>>,
    Path(client_id): Path<String>,
) -> Response {
    let d = match directory(&shared).await {
        Ok(d) => d,
        Err(e) => return e,
    };
    let Some(c) = d.clients.iter().find(|c| *c.client_id == *client_id) else {
        return error(StatusCode::NOT_FOUND, format!("no client {client_id:?}"));
    };
    let subscriptions = d
        .subscriptions
        .iter()
        .filter(|s| *s.client_id == *client_id)
        .map(subscription_view)
        .collect();
    Json(ClientDetail {
        client: view(c),
        subscriptions,
    })
    .into_response()
}

fn subscription_view(s: &crate::engine::SubscriptionEntry) -> SubscriptionView {
    SubscriptionView {
        client_id: s.client_id.to_string(),
        filter: s.filter.to_string(),
        qos: s.qos as u8,
        no_local: s.no_local,
        retain_as_published: s.retain_as_published,
        retain_handling: s.retain_handling,
        identifier: s.identifier,
    }
}

/// Close a client's connection (5.0: DISCONNECT 0x98 Administrative action). Its session
/// stays as its expiry says; its will is published.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/disconnect",
    params(("client_id" = String, Path, description = "The client identifier")),
    responses((status = 204, description = "Disconnected"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn disconnect(
    State(shared): State<Arc<Shared>>,
    Path(client_id): Path<String>,
) -> Response {
    command(
        &shared,
        Command::Disconnect(client_id.as_str().into()),
        &client_id,
    )
    .await
}

/// End a client's session (closing its connection first).
#[utoipa::path(delete, path = "/api/v1/sessions/{client_id}",
    params(("client_id" = String, Path, description = "The client identifier")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn delete_session(
    State(shared): State<Arc<Shared>>,
    Path(client_id): Path<String>,
) -> Response {
    command(
        &shared,
        Command::DeleteSession(client_id.as_str().into()),
        &client_id,
    )
    .await
}

async fn command(shared: &Shared, command: Command, what: &str) -> Response {
    match shared.command(command).await {
        Some(Outcome::Done) => StatusCode::NO_CONTENT.into_response(),
        Some(Outcome::NotFound) => error(StatusCode::NOT_FOUND, format!("no such thing: {what:?}")),
        None => error(StatusCode::SERVICE_UNAVAILABLE, "the broker is stopping"),
    }
}

/// List the subscriptions.
#[utoipa::path(get, path = "/api/v1/subscriptions", params(ListQuery),
    responses((status = 200, body = SubscriptionPage), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn subscriptions(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let (q, d) = match listing(&shared, q).await {
        Ok(listing) => listing,
        Err(e) => return e,
    };
    let all: Vec<SubscriptionView> = d
        .subscriptions
        .iter()
        .filter(|s| q.matches(&[&s.client_id, s.filter.as_str()]))
        .map(subscription_view)
        .collect();
    q.respond(all, |items, page, per_page, total| SubscriptionPage {
        items,
        page,
        per_page,
        total,
    })
}

/// List the topic filters subscribed to, with how many sessions subscribe to each.
#[utoipa::path(get, path = "/api/v1/topics", params(ListQuery),
    responses((status = 200, body = TopicPage), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn topics(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let (q, d) = match listing(&shared, q).await {
        Ok(listing) => listing,
        Err(e) => return e,
    };
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in &d.subscriptions {
        *counts.entry(s.filter.as_str()).or_default() += 1;
    }
    let all: Vec<TopicView> = counts
        .into_iter()
        .filter(|(f, _)| q.matches(&[f]))
        .map(|(filter, subscribers)| TopicView {
            filter: filter.to_string(),
            subscribers,
        })
        .collect();
    q.respond(all, |items, page, per_page, total| TopicPage {
        items,
        page,
        per_page,
        total,
    })
}

/// List the retained messages (without their payloads).
#[utoipa::path(get, path = "/api/v1/retained", params(ListQuery),
    responses((status = 200, body = RetainedPage), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn retained(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let (q, d) = match listing(&shared, q).await {
        Ok(listing) => listing,
        Err(e) => return e,
    };
    let all: Vec<RetainedView> = d
        .retained
        .iter()
        .filter(|r| q.matches(&[r.topic.as_str()]))
        .map(|r| RetainedView {
            topic: r.topic.to_string(),
            qos: r.qos as u8,
            size: r.payload.len(),
            expires_in: r.expires_in.map(|d| d.as_secs()),
        })
        .collect();
    q.respond(all, |items, page, per_page, total| RetainedPage {
        items,
        page,
        per_page,
        total,
    })
}

/// Read one retained message.
#[utoipa::path(get, path = "/api/v1/retained/message", params(TopicQuery),
    responses((status = 200, body = RetainedMessage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn retained_message(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<TopicQuery>, QueryRejection>,
) -> Response {
    let (q, d) = match listing(&shared, q).await {
        Ok(listing) => listing,
        Err(e) => return e,
    };
    let Some(r) = d.retained.iter().find(|r| r.topic.as_str() == q.topic) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no retained message on {:?}", q.topic),
        );
    };
    Json(RetainedMessage {
        topic: r.topic.to_string(),
        qos: r.qos as u8,
        payload: std::str::from_utf8(&r.payload).ok().map(str::to_owned),
        payload_base64: base64::engine::general_purpose::STANDARD.encode(&r.payload),
        expires_in: r.expires_in.map(|d| d.as_secs()),
    })
    .into_response()
}

/// Clear the retained message of a topic.
#[utoipa::path(delete, path = "/api/v1/retained/message", params(TopicQuery),
    responses((status = 204, description = "Deleted"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn delete_retained(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<TopicQuery>, QueryRejection>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    // A topic that is no topic name holds no retained message.
    let Ok(topic) = TopicName::new(q.topic.clone()) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no retained message on {:?}", q.topic),
        );
    };
    command(&shared, Command::DeleteRetained(topic), &q.topic).await
}

/// Publish a message as the broker.
#[utoipa::path(post, path = "/api/v1/publish", request_body = PublishRequest,
    responses((status = 204, description = "Published"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn publish(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<PublishRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(p) = match body {
        Ok(body) => body,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let topic = (p.topic.chars().count() <= 16_383)
        .then(|| TopicName::new(p.topic.clone()).ok())
        .flatten();
    let Some(topic) = topic else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "{:?} is not a topic name (not empty, no wildcards, at most 16,383 characters)",
                p.topic
            ),
        );
    };
    let Some(qos) = QoS::from_u8(p.qos) else {
        return error(StatusCode::BAD_REQUEST, "qos is 0, 1 or 2");
    };
    let payload = match (p.payload, p.payload_base64) {
        (_, Some(b64)) => match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(bytes) => bytes.into(),
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("payload_base64: {e}")),
        },
        (Some(text), None) => bytes::Bytes::from(text),
        (None, None) => bytes::Bytes::new(),
    };
    command(
        &shared,
        Command::Publish {
            topic,
            payload,
            qos,
            retain: p.retain,
        },
        &p.topic,
    )
    .await
}

/// The broker's configuration, secrets left out.
#[utoipa::path(get, path = "/api/v1/config",
    responses((status = 200, description = "The configuration, as `tern default-config` spells it, with secrets replaced by \"(redacted)\"", body = Object)))]
pub(super) async fn config(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.config.clone()).into_response()
}

/// The conformance coverage of this build, built into the binary: what the whole Cucumber
/// suite proved of the source tree it was built from (`cargo xtask conformance` writes it, and
/// `cargo xtask ci` fails while the committed copy differs from its own run).
#[utoipa::path(get, path = "/api/v1/conformance",
    responses((status = 200, description = "Scenario totals; per MQTT version the statement totals and each statement that binds the server, with its result (passed, failed, skipped, not-testable, untested) and how many scenarios prove it", body = Object)))]
pub(super) async fn conformance() -> Response {
    let json = include_str!("conformance.json");
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
}

/// The broker's statistics.
#[utoipa::path(get, path = "/api/v1/stats", responses((status = 200, body = Stats)))]
pub(super) async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let p = shared.snapshot.borrow().clone();
    let s = &p.snapshot;
    let st = &s.stats;
    Json(Stats {
        uptime_seconds: s.uptime.as_secs(),
        uptime_ms: u64::try_from(s.uptime.as_millis()).unwrap_or(u64::MAX),
        connections: s.connections,
        sessions_online: s.sessions_online,
        sessions_offline: s.sessions_offline,
        subscriptions: s.subscriptions,
        retained_messages: s.retained,
        queued_messages: s.queued_messages,
        queued_bytes: s.queued_bytes,
        inflight_messages: s.inflight,
        connections_accepted: st.connections_accepted,
        auth_failures: st.auth_failures,
        reauthentications: st.reauthentications,
        reauth_failures: st.reauth_failures,
        messages_received: st.messages_received,
        messages_sent: st.messages_sent,
        bytes_received: st.bytes_received,
        bytes_sent: st.bytes_sent,
        dropped_queue_full: st.offline_dropped,
        dropped_expired: st.expired_dropped,
        dropped_too_large: st.too_large_dropped,
        slow_subscribers_closed: st.slow_subscribers_closed,
    })
    .into_response()
}
