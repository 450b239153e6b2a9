//! A custom authentication hook: logins are checked against the application's own user
//! table (here a map; in life a database or a service, which is why the hook is `async`:
//! the broker serves everyone else while it waits), before the broker's own rules.
//!
//! ```text
//! cargo run -p tern --example auth_hook
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use tern::codec::ReasonCode;
use tern::config::Config;
use tern::embed::{Broker, ClientError, ClientOptions, ConnectVerdict, Hooks, Interest, Question};

/// Users and their passwords, as the application keeps them.
struct Users(HashMap<&'static str, &'static str>);

#[async_trait::async_trait]
impl Hooks for Users {
    fn interest(&self) -> Interest {
        Interest {
            connect: true,
            ..Interest::default()
        }
    }

    async fn authenticate(&self, question: &Question) -> ConnectVerdict {
        let Question::Connect {
            client, password, ..
        } = question
        else {
            // No enhanced authentication method of ours.
            return ConnectVerdict::Deny(ReasonCode::BAD_AUTHENTICATION_METHOD);
        };
        let Some(user) = client.username.as_deref() else {
            return ConnectVerdict::Deny(ReasonCode::NOT_AUTHORIZED);
        };
        let given = password.as_deref().unwrap_or_default();
        match self.0.get(user) {
            Some(known) if known.as_bytes() == given => ConnectVerdict::Allow {
                username: Some(format!("{user}@app").into()),
            },
            Some(_) => ConnectVerdict::Deny(ReasonCode::BAD_USER_NAME_OR_PASSWORD),
            // Not one of ours: the broker's own authentication decides.
            None => ConnectVerdict::Ignore,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config = Config::default();
    config.listeners.clear();
    config.storage.mode = tern::config::StorageMode::Memory;
    config.http.enabled = false;
    config.grpc.enabled = false;
    config.auth.allow_anonymous = false;
    config.auth.failed_login_delay_ms = 0;
    let users = Users(HashMap::from([("alice", "wonderland")]));
    let broker = Broker::start_with_hooks(config, Arc::new(users)).await?;

    for (user, password) in [
        ("alice", "wonderland"),
        ("alice", "guess"),
        ("mallory", "x"),
    ] {
        let options = ClientOptions {
            username: Some(user.into()),
            password: Some(password.into()),
            ..ClientOptions::default()
        };
        match broker.connect(options).await {
            Ok(_) => println!("{user}/{password}: let in"),
            Err(ClientError::Refused(code)) => println!("{user}/{password}: refused, {code:?}"),
            Err(e) => return Err(e.into()),
        }
    }
    broker.stop().await
}
