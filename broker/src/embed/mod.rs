//! Tern as a library: a broker inside the application's own tokio runtime, with clients in
//! the same process.
//!
//! ```
//! use tern::embed::{Broker, ClientOptions, Message};
//! use tern::codec::QoS;
//!
//! # #[tokio::main] async fn main() -> anyhow::Result<()> {
//! // The embedded defaults, but no network listener and no HTTP: clients in this process only.
//! let mut config = tern::config::Config::default();
//! config.listeners.clear();
//! config.http.enabled = false;
//! config.grpc.enabled = false;
//! let broker = Broker::start(config).await?;
//!
//! let (subscriber, mut deliveries, _) = broker.connect(ClientOptions::default()).await?;
//! subscriber.subscribe(&[("sensors/+/temperature", QoS::AtLeastOnce)]).await?;
//!
//! let (publisher, _, _) = broker.connect(ClientOptions::default()).await?;
//! let message = Message::new("sensors/kitchen/temperature", "21.5").with_qos(QoS::AtLeastOnce);
//! publisher.publish(&message).await?;
//!
//! let delivery = deliveries.recv().await.expect("a delivery");
//! assert_eq!(delivery.message.payload, "21.5");
//! broker.stop().await?;
//! # Ok(()) }
//! ```
//!
//! An in-process client speaks MQTT 5.0 to the broker through a pipe instead of a socket,
//! so everything a network client meets applies to it unchanged: authentication and the
//! ACL, sessions and wills, flow control and the bounds on slow subscribers, statistics.

/// The hooks an application extends the broker with, and what they are asked and told.
pub use crate::engine::{
    ClientInfo, ConnectVerdict, DropReason, Interest, Notice, PublishVerdict, Question,
};
pub use crate::server::hooks::{Hooks, DEADLINE as HOOK_DEADLINE};
pub use crate::server::inline::client::{
    connect, Client, ClientError, ClientOptions, Connected, Deliveries, Delivery,
};
pub use crate::server::inline::message::{Message, MessageProperties};

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
/// The engine's counters and what it holds ([`Broker::stats`]).
pub use crate::engine::{Snapshot, Stats};
use crate::server::Statistics;
pub use crate::server::{Connector, Endpoint};

/// A running broker.
pub struct Broker {
    connector: Connector,
    statistics: Statistics,
    addrs: Vec<SocketAddr>,
    endpoints: Vec<Endpoint>,
    http: Option<SocketAddr>,
    grpc: Option<SocketAddr>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Broker {
    /// Checks `config` as `tern start` does (its rules and the files it names), binds its
    /// listeners and starts serving in the current tokio runtime.
    pub async fn start(config: Config) -> anyhow::Result<Broker> {
        Broker::start_inner(config, None).await
    }

    /// [`Broker::start`], with `hooks` extending the broker (see [`Hooks`]).
    pub async fn start_with_hooks(
        config: Config,
        hooks: std::sync::Arc<dyn Hooks>,
    ) -> anyhow::Result<Broker> {
        Broker::start_inner(config, Some(hooks)).await
    }

    async fn start_inner(
        config: Config,
        hooks: Option<std::sync::Arc<dyn Hooks>>,
    ) -> anyhow::Result<Broker> {
        let mut server = crate::wiring::bind(config).await?;
        if let Some(hooks) = hooks {
            server.set_hooks(hooks);
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let broker = Broker {
            connector: server.connector(),
            statistics: server.statistics(),
            addrs: server.local_addrs(),
            endpoints: server.local_endpoints(),
            http: server.http_addr(),
            grpc: server.grpc_addr(),
            stop,
            task: tokio::spawn(server.run(async {
                let _ = stopped.await;
            })),
        };
        Ok(broker)
    }

    /// The TCP addresses the MQTT listeners bound, in the order of the configuration (a
    /// port 0 there is a real port here).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Where each MQTT listener can be reached (TCP address or Unix socket path).
    pub fn local_endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The address of the HTTP listener (`[http]`), if it runs.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http
    }

    /// The address of the gRPC listener (`[grpc]`), if it runs.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc
    }

    /// Connects a client in this process and waits for the broker's CONNACK.
    pub async fn connect(
        &self,
        options: ClientOptions,
    ) -> Result<(Client, Deliveries, Connected), ClientError> {
        connect(self.connector.connect(), options).await
    }

    /// What opens in-process connections, for code that manages its own clients.
    pub fn connector(&self) -> Connector {
        self.connector.clone()
    }

    /// The broker's counters and what it holds, as of the engine's latest snapshot (taken
    /// once a second).
    pub fn stats(&self) -> Snapshot {
        self.statistics.now()
    }

    /// Stops gracefully: no new connections, 5.0 clients told 0x8B Server shutting down,
    /// every connection flushed, the store's last commit written. Gives the error that
    /// stopped the broker early, if one did.
    pub async fn stop(self) -> anyhow::Result<()> {
        let Broker {
            stop,
            task,
            connector,
            ..
        } = self;
        // The engine ends once nothing can reach it any more: this handle's way in goes first.
        drop(connector);
        let _ = stop.send(());
        task.await?
    }
}
