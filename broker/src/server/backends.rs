//! The authentication and authorization backends of `[auth]` (`[auth.http]`, the user
//! stores `[auth.postgres]` and `[auth.redis]`) as hooks
//! of the engine: asked with the engine's questions, answered off the engine task, chained
//! after the application's own hooks.
//!
//! A backend's "ignore" hands the decision on: to the next hook, then to the broker's own
//! authentication (password file, JWT, anonymous rule) for a login; for a PUBLISH or a
//! SUBSCRIBE, the ACL file has already allowed it when a backend is asked, so "ignore"
//! lets it through.

use std::sync::Arc;

use super::hooks::Hooks;
use crate::auth::http::{
    peerhost, AccessRequest, Decision, HttpBackend, LoginRequest, WhenUnavailable,
};
use crate::auth::source::UserSource;
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

/// `[auth.http]` as a hook.
pub(crate) struct HttpHooks(pub Arc<HttpBackend>);

impl HttpHooks {
    async fn access(
        &self,
        client: &ClientInfo,
        topic: &str,
        action: &str,
        qos: QoS,
        retain: bool,
    ) -> Option<ReasonCode> {
        let request = AccessRequest {
            clientid: &client.client_id,
            username: client.username.as_deref(),
            peerhost: peerhost(client.peer),
            topic,
            action,
            qos: qos as u8,
            retain,
        };
        let when = self.0.settings().when_unavailable;
        let decision = settle(self.0.authorize(&request).await, when);
        refusal("auth.http", client, topic, action, decision)
    }
}

#[async_trait::async_trait]
impl Hooks for HttpHooks {
    fn interest(&self) -> Interest {
        let s = self.0.settings();
        Interest {
            connect: s.authenticate_url.is_some(),
            publish: s.authorize_url.is_some(),
            subscribe: s.authorize_url.is_some(),
            ..Interest::default()
        }
    }

    async fn authenticate(&self, question: &Question) -> ConnectVerdict {
        let Some((client, password)) = plain_login(question) else {
            return ConnectVerdict::Ignore;
        };
        let password = password.map(|p| String::from_utf8_lossy(p));
        let request = LoginRequest {
            clientid: &client.client_id,
            username: client.username.as_deref(),
            password: password.as_deref(),
            peerhost: peerhost(client.peer),
            protocol: client.protocol.name(),
        };
        let when = self.0.settings().when_unavailable;
        let decision = settle(self.0.authenticate(&request).await, when);
        login_verdict("auth.http", client, decision)
    }

    async fn on_publish(&self, client: &ClientInfo, publish: &Publish) -> PublishVerdict {
        let topic = publish.topic.as_str();
        let refused = (self.access(client, topic, "publish", publish.qos, publish.retain)).await;
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

/// A user store of `[auth]` (`[auth.postgres]`, `[auth.redis]`) as a hook.
pub(crate) struct SourceHooks(pub Arc<dyn UserSource>);

impl SourceHooks {
    /// A refusal of `action` on `topic` by `client`'s rules, if they refuse it.
    async fn access(&self, client: &ClientInfo, topic: &str, action: &str) -> Option<ReasonCode> {
        let user = client.username.as_deref()?;
        let when = self.0.when_unavailable();
        let decision = settle(self.0.authorize(user, topic, action).await, when);
        refusal(self.0.name(), client, topic, action, decision)
    }
}

#[async_trait::async_trait]
impl Hooks for SourceHooks {
    fn interest(&self) -> Interest {
        Interest {
            connect: self.0.checks_logins(),
            publish: self.0.checks_rights(),
            subscribe: self.0.checks_rights(),
            ..Interest::default()
        }
    }

    async fn authenticate(&self, question: &Question) -> ConnectVerdict {
        // No user name: not a login a user store can check.
        let Some((client, password)) = plain_login(question) else {
            return ConnectVerdict::Ignore;
        };
        let Some(user) = client.username.as_deref() else {
            return ConnectVerdict::Ignore;
        };
        let password = password.map(|p| &p[..]).unwrap_or_default();
        let when = self.0.when_unavailable();
        let decision = settle(self.0.authenticate(user, password).await, when);
        login_verdict(self.0.name(), client, decision)
    }

    async fn on_publish(&self, client: &ClientInfo, publish: &Publish) -> PublishVerdict {
        publish_verdict(self.access(client, publish.topic.as_str(), "publish").await)
    }

    async fn authorize_subscribe(
        &self,
        client: &ClientInfo,
        filters: &[(TopicFilter, QoS)],
    ) -> Vec<Option<ReasonCode>> {
        let mut answers = Vec::with_capacity(filters.len());
        for (filter, _) in filters {
            answers.push(self.access(client, filter.as_str(), "subscribe").await);
        }
        answers
    }
}

/// Several hooks asked in turn: the application's, then the backends'.
pub(crate) struct Chain(pub Vec<Arc<dyn Hooks>>);

#[async_trait::async_trait]
impl Hooks for Chain {
    fn interest(&self) -> Interest {
        self.0.iter().fold(Interest::default(), |a, h| {
            let b = h.interest();
            Interest {
                connect: a.connect || b.connect,
                publish: a.publish || b.publish,
                subscribe: a.subscribe || b.subscribe,
                events: a.events || b.events,
                deliveries: a.deliveries || b.deliveries,
            }
        })
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
