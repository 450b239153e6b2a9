//! The authentication and authorization backends of `[auth]` (`[auth.http]` today) as hooks
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

/// `[auth.http]` as a hook.
pub(crate) struct HttpHooks(pub Arc<HttpBackend>);

impl HttpHooks {
    /// A decision, with a service that did not answer turned into what
    /// `when_unavailable` says.
    fn settle(&self, decision: Decision) -> Decision {
        match (decision, self.0.settings().when_unavailable) {
            (Decision::Unavailable, WhenUnavailable::Allow) => Decision::Allow,
            (Decision::Unavailable, WhenUnavailable::Ignore) => Decision::Ignore,
            (decision, _) => decision,
        }
    }

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
        match self.settle(self.0.authorize(&request).await) {
            Decision::Allow | Decision::Ignore => None,
            Decision::Deny => {
                tracing::info!(client_id = %client.client_id, topic, action,
                    "refused by auth.http");
                Some(ReasonCode::NOT_AUTHORIZED)
            }
            Decision::Unavailable => {
                tracing::warn!(client_id = %client.client_id, topic, action,
                    "refused: auth.http is unavailable");
                Some(ReasonCode::UNSPECIFIED_ERROR)
            }
        }
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
        let Question::Connect {
            client,
            password,
            method: None,
            ..
        } = question
        else {
            // Enhanced authentication is the broker's own (SCRAM).
            return ConnectVerdict::Ignore;
        };
        let password = password.as_deref().map(String::from_utf8_lossy);
        let request = LoginRequest {
            clientid: &client.client_id,
            username: client.username.as_deref(),
            password: password.as_deref(),
            peerhost: peerhost(client.peer),
            protocol: client.protocol.name(),
        };
        match self.settle(self.0.authenticate(&request).await) {
            Decision::Allow => ConnectVerdict::Allow { username: None },
            Decision::Ignore => ConnectVerdict::Ignore,
            Decision::Deny => {
                tracing::info!(client_id = %client.client_id, user = ?client.username,
                    "login refused by auth.http");
                ConnectVerdict::Deny(ReasonCode::BAD_USER_NAME_OR_PASSWORD)
            }
            Decision::Unavailable => {
                tracing::warn!(client_id = %client.client_id, user = ?client.username,
                    "login refused: auth.http is unavailable (0x88 Server unavailable)");
                ConnectVerdict::Deny(ReasonCode::SERVER_UNAVAILABLE)
            }
        }
    }

    async fn on_publish(&self, client: &ClientInfo, publish: &Publish) -> PublishVerdict {
        let topic = publish.topic.as_str();
        match self
            .access(client, topic, "publish", publish.qos, publish.retain)
            .await
        {
            None => PublishVerdict::Allow,
            Some(code) => PublishVerdict::Refuse(code),
        }
    }

    async fn authorize_subscribe(
        &self,
        client: &ClientInfo,
        filters: &[(TopicFilter, QoS)],
    ) -> Vec<Option<ReasonCode>> {
        let mut answers = Vec::with_capacity(filters.len());
        for (filter, qos) in filters {
            answers.push(
                self.access(client, filter.as_str(), "subscribe", *qos, false)
                    .await,
            );
        }
        answers
    }
}

/// A user store of `[auth]` (`[auth.postgres]`, `[auth.redis]`) as a hook.
pub(crate) struct SourceHooks(pub Arc<dyn UserSource>);

impl SourceHooks {
    fn settle(&self, decision: Decision) -> Decision {
        match (decision, self.0.when_unavailable()) {
            (Decision::Unavailable, WhenUnavailable::Allow) => Decision::Allow,
            (Decision::Unavailable, WhenUnavailable::Ignore) => Decision::Ignore,
            (decision, _) => decision,
        }
    }

    /// A refusal of `action` on `topic` by `client`'s rules, if they refuse it.
    async fn access(&self, client: &ClientInfo, topic: &str, action: &str) -> Option<ReasonCode> {
        let user = client.username.as_deref()?;
        let source = self.0.name();
        match self.settle(self.0.authorize(user, topic, action).await) {
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
        let Question::Connect {
            client,
            password,
            method: None,
            ..
        } = question
        else {
            return ConnectVerdict::Ignore;
        };
        // No user name: not a login a user store can check.
        let Some(user) = client.username.as_deref() else {
            return ConnectVerdict::Ignore;
        };
        let password = password.as_deref().unwrap_or_default();
        let source = self.0.name();
        match self.settle(self.0.authenticate(user, password).await) {
            Decision::Allow => ConnectVerdict::Allow { username: None },
            Decision::Ignore => ConnectVerdict::Ignore,
            Decision::Deny => {
                tracing::info!(client_id = %client.client_id, user,
                    "login refused by {source}: wrong password");
                ConnectVerdict::Deny(ReasonCode::BAD_USER_NAME_OR_PASSWORD)
            }
            Decision::Unavailable => {
                tracing::warn!(client_id = %client.client_id, user,
                    "login refused: {source} is unavailable (0x88 Server unavailable)");
                ConnectVerdict::Deny(ReasonCode::SERVER_UNAVAILABLE)
            }
        }
    }

    async fn on_publish(&self, client: &ClientInfo, publish: &Publish) -> PublishVerdict {
        match self.access(client, publish.topic.as_str(), "publish").await {
            None => PublishVerdict::Allow,
            Some(code) => PublishVerdict::Refuse(code),
        }
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
