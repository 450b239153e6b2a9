//! The sources of logins and rights of `[auth]` (`[auth.http]`, the user stores
//! `[auth.postgres]` and `[auth.redis]`, and the broker's own: the password file, JWT and the
//! anonymous rule) as hooks of the engine: asked with the engine's questions, answered off the
//! engine task, in the order `[auth] order` gives, after the application's own hooks.
//!
//! The first source that decides (allow or deny) decides; one that does not know the user,
//! or has no rule for the topic, hands on ("ignore"). The broker's own sources ("local") are
//! applied by the engine: where the order reaches them, a login they can decide (a user of
//! the password file, a token, an enhanced authentication) is handed to the engine, which
//! decides it; the others go on to the next source. When no source decides a login, the
//! engine's own rules do (an unknown user is refused). A PUBLISH or SUBSCRIBE reaches the
//! sources after the ACL file allowed it; if none decides, it goes through.

use std::sync::{Arc, RwLock};

use super::hooks::Hooks;
use crate::auth::http::{
    peerhost, AccessRequest, Decision, HttpBackend, LoginRequest, WhenUnavailable,
};
use crate::auth::source::UserSource;
use crate::auth::LocalUsers;
use crate::codec::{Publish, QoS, ReasonCode, TopicFilter};
use crate::engine::{ClientInfo, ConnectVerdict, Interest, Notice, PublishVerdict, Question};

/// A decision, with a backend that did not answer turned into what its
/// `when_unavailable` says.
fn settle(decision: Decision, when: WhenUnavailable) -> Decision {
    match (decision, when) {
        (Decision::Unavailable, WhenUnavailable::Allow) => Decision::Allow,
        (Decision::Unavailable, WhenUnavailable::Ignore) => Decision::Ignore,
        (decision, _) => decision,
    }
}

/// The user name-and-password CONNECT a question is about; `None` for anything else
/// (enhanced authentication is the broker's own: SCRAM).
fn plain_login(question: &Question) -> Option<(&ClientInfo, Option<&bytes::Bytes>)> {
    match question {
        Question::Connect {
            client,
            password,
            method: None,
            ..
        } => Some((client, password.as_ref())),
        _ => None,
    }
}

/// What a backend's (settled) decision about a login says to the engine, logged.
fn login_verdict(source: &str, client: &ClientInfo, decision: Decision) -> ConnectVerdict {
    match decision {
        Decision::Allow => ConnectVerdict::Allow { username: None },
        Decision::Ignore => ConnectVerdict::Ignore,
        Decision::Deny => {
            tracing::info!(client_id = %client.client_id, user = ?client.username,
                "login refused by {source}");
            ConnectVerdict::Deny(ReasonCode::BAD_USER_NAME_OR_PASSWORD)
        }
        Decision::Unavailable => {
            tracing::warn!(client_id = %client.client_id, user = ?client.username,
                "login refused: {source} is unavailable (0x88 Server unavailable)");
            ConnectVerdict::Deny(ReasonCode::SERVER_UNAVAILABLE)
        }
    }
}

/// The refusal a backend's (settled) decision about `action` on `topic` makes, logged.
fn refusal(
    source: &str,
    client: &ClientInfo,
    topic: &str,
    action: &str,
    decision: Decision,
) -> Option<ReasonCode> {
    match decision {
        Decision::Allow | Decision::Ignore => None,
        Decision::Deny => {
            tracing::info!(client_id = %client.client_id, topic, action, "refused by {source}");
            Some(ReasonCode::NOT_AUTHORIZED)
        }
        Decision::Unavailable => {
            tracing::warn!(client_id = %client.client_id, topic, action,
                "refused: {source} is unavailable");
            Some(ReasonCode::UNSPECIFIED_ERROR)
        }
    }
}

fn publish_verdict(refused: Option<ReasonCode>) -> PublishVerdict {
    match refused {
        None => PublishVerdict::Allow,
        Some(code) => PublishVerdict::Refuse(code),
    }
}

/// Whom the broker's own authentication knows, replaced when SIGHUP reloads the password
/// file.
pub type LocalHandle = Arc<RwLock<Arc<LocalUsers>>>;

/// One source of `[auth] order`.
pub enum Source {
    Http(Arc<HttpBackend>),
    Store(Arc<dyn UserSource>),
    /// The password file, JWT and the anonymous rule, which the engine applies.
    Local(LocalHandle),
}

/// What a source says about a login.
enum Login {
    /// It decided (allowed or refused).
    Decided(ConnectVerdict),
    /// Not its user: the next source.
    HandOn,
    /// The broker's own to decide: handed to the engine now.
    Local,
}

impl Source {
    fn name(&self) -> &str {
        match self {
            Source::Http(_) => "auth.http",
            Source::Store(store) => store.name(),
            Source::Local(_) => "local",
        }
    }

    fn interest(&self) -> Interest {
        let (connect, rights) = match self {
            Source::Http(http) => {
                let s = http.settings();
                (s.authenticate_url.is_some(), s.authorize_url.is_some())
            }
            Source::Store(store) => (store.checks_logins(), store.checks_rights()),
            Source::Local(_) => (false, false),
        };
        Interest {
            connect,
            publish: rights,
            subscribe: rights,
            ..Interest::default()
        }
    }

    async fn login(&self, question: &Question) -> Login {
        let plain = plain_login(question);
        if let Source::Local(local) = self {
            // Enhanced authentication (SCRAM) and re-authentication are the engine's.
            let Some((client, password)) = plain else {
                return Login::Local;
            };
            let local = local.read().unwrap_or_else(|e| e.into_inner()).clone();
            return match local.claims(client.username.as_deref(), password.map(|p| &p[..])) {
                true => Login::Local,
                false => Login::HandOn,
            };
        }
        if !self.interest().connect {
            return Login::HandOn;
        }
        let Some((client, password)) = plain else {
            return Login::HandOn;
        };
        let decision = match self {
            Source::Http(http) => {
                let password = password.map(|p| String::from_utf8_lossy(p));
                let request = LoginRequest {
                    clientid: &client.client_id,
                    username: client.username.as_deref(),
                    password: password.as_deref(),
                    peerhost: peerhost(client.peer),
                    protocol: client.protocol.name(),
                };
                let when = http.settings().when_unavailable;
                settle(http.authenticate(&request).await, when)
            }
            Source::Store(store) => {
                // No user name: not a login a user store can check.
                let Some(user) = client.username.as_deref() else {
                    return Login::HandOn;
                };
                let password = password.map(|p| &p[..]).unwrap_or_default();
                settle(
                    store.authenticate(user, password).await,
                    store.when_unavailable(),
                )
            }
            Source::Local(_) => unreachable!("answered above"),
        };
        match login_verdict(self.name(), client, decision) {
            ConnectVerdict::Ignore => Login::HandOn,
            verdict => Login::Decided(verdict),
        }
    }

    /// Its (settled) decision about `action` on `topic`.
    async fn access(
        &self,
        client: &ClientInfo,
        topic: &str,
        action: &str,
        qos: QoS,
        retain: bool,
    ) -> Decision {
        if !self.interest().publish {
            return Decision::Ignore;
        }
        match self {
            Source::Http(http) => {
                let request = AccessRequest {
                    clientid: &client.client_id,
                    username: client.username.as_deref(),
                    peerhost: peerhost(client.peer),
                    topic,
                    action,
                    qos: qos as u8,
                    retain,
                };
                let when = http.settings().when_unavailable;
                settle(http.authorize(&request).await, when)
            }
            Source::Store(store) => {
                let Some(user) = client.username.as_deref() else {
                    return Decision::Ignore;
                };
                let decision = store.authorize(user, topic, action).await;
                settle(decision, store.when_unavailable())
            }
            // The ACL file was applied by the engine before any source was asked.
            Source::Local(_) => Decision::Ignore,
        }
    }
}

/// The sources of `[auth]`, asked in their order.
pub(crate) struct Sources(pub Vec<Source>);

impl Sources {
    /// The refusal of the first source that decides about `action` on `topic`, if it
    /// refuses; `None` if it allows or none decides.
    async fn access(
        &self,
        client: &ClientInfo,
        topic: &str,
        action: &str,
        qos: QoS,
        retain: bool,
    ) -> Option<ReasonCode> {
        for source in &self.0 {
            match source.access(client, topic, action, qos, retain).await {
                Decision::Ignore => continue,
                decision => return refusal(source.name(), client, topic, action, decision),
            }
        }
        None
    }
}

#[async_trait::async_trait]
impl Hooks for Sources {
    fn interest(&self) -> Interest {
        self.0
            .iter()
            .map(Source::interest)
            .fold(Interest::default(), either)
    }

    async fn authenticate(&self, question: &Question) -> ConnectVerdict {
        for source in &self.0 {
            match source.login(question).await {
                Login::Decided(verdict) => return verdict,
                Login::HandOn => continue,
                Login::Local => return ConnectVerdict::Ignore,
            }
        }
        ConnectVerdict::Ignore
    }

    async fn on_publish(&self, client: &ClientInfo, publish: &Publish) -> PublishVerdict {
        let (topic, qos) = (publish.topic.as_str(), publish.qos);
        let refused = self
            .access(client, topic, "publish", qos, publish.retain)
            .await;
        publish_verdict(refused)
    }

    async fn authorize_subscribe(
        &self,
        client: &ClientInfo,
        filters: &[(TopicFilter, QoS)],
    ) -> Vec<Option<ReasonCode>> {
        let mut answers = Vec::with_capacity(filters.len());
        for (filter, qos) in filters {
            let topic = filter.as_str();
            answers.push(self.access(client, topic, "subscribe", *qos, false).await);
        }
        answers
    }
}

/// What either of two sets of hooks wants.
fn either(a: Interest, b: Interest) -> Interest {
    Interest {
        connect: a.connect || b.connect,
        publish: a.publish || b.publish,
        subscribe: a.subscribe || b.subscribe,
        events: a.events || b.events,
        deliveries: a.deliveries || b.deliveries,
    }
}

/// Several hooks asked in turn: the application's, then the sources of `[auth]`.
pub(crate) struct Chain(pub Vec<Arc<dyn Hooks>>);

#[async_trait::async_trait]
impl Hooks for Chain {
    fn interest(&self) -> Interest {
        (self.0.iter()).fold(Interest::default(), |a, h| either(a, h.interest()))
    }

    /// The first hook that decides (anything but "ignore") decides.
    async fn authenticate(&self, question: &Question) -> ConnectVerdict {
        for hooks in self.0.iter().filter(|h| h.interest().connect) {
            match hooks.authenticate(question).await {
                ConnectVerdict::Ignore => continue,
                verdict => return verdict,
            }
        }
        ConnectVerdict::Ignore
    }

    /// Each hook sees the message as the ones before it left it; the first refusal stops.
    async fn on_publish(&self, client: &ClientInfo, publish: &Publish) -> PublishVerdict {
        let mut current: Option<Publish> = None;
        for hooks in self.0.iter().filter(|h| h.interest().publish) {
            let seen = current.as_ref().unwrap_or(publish);
            match hooks.on_publish(client, seen).await {
                PublishVerdict::Allow => {}
                PublishVerdict::Replace(new) => current = Some(new),
                refuse @ PublishVerdict::Refuse(_) => return refuse,
            }
        }
        match current {
            Some(new) => PublishVerdict::Replace(new),
            None => PublishVerdict::Allow,
        }
    }

    /// A filter any hook refuses is refused (with the first refusal's code).
    async fn authorize_subscribe(
        &self,
        client: &ClientInfo,
        filters: &[(TopicFilter, QoS)],
    ) -> Vec<Option<ReasonCode>> {
        let mut answers = vec![None; filters.len()];
        for hooks in self.0.iter().filter(|h| h.interest().subscribe) {
            let theirs = hooks.authorize_subscribe(client, filters).await;
            for (answer, their) in answers.iter_mut().zip(theirs) {
                if answer.is_none() {
                    *answer = their;
                }
            }
        }
        answers
    }

    fn on_notice(&self, notice: &Notice) {
        for hooks in &self.0 {
            hooks.on_notice(notice);
        }
    }
}
