//! Broker behaviour, group by group, against the real broker on an ephemeral loopback port:
//! CONNECT handling, PUBLISH, SUBSCRIBE/UNSUBSCRIBE, wills, DISCONNECT/AUTH/errors, and limits.
//!
//! Clients are rumqttc 0.25 (the v4 API for MQTT 3.1.1, the v5 API for MQTT 5.0) wherever it can
//! express the case, and raw TCP with hand-written packets where a client library would not
//! misbehave on purpose or hides the bytes that matter. Every wait is bounded.
//!
//! "Nothing arrived" is proven with a sentinel rather than a sleep wherever possible: the broker
//! handles the packets of one connection in order and writes to one connection in order, so once
//! a PUBLISH sent after the packets under test comes back, anything they caused has arrived too.

#[path = "../common/mod.rs"]
mod common;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tern::config::{Config, Listener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout};

/// The longest any single wait may take.
const WAIT: Duration = Duration::from_secs(5);
/// How long "nothing more arrives" is watched where no sentinel can prove it.
const QUIET: Duration = Duration::from_millis(300);

// ---------------------------------------------------------------------------------------------
// Harness: the broker, rumqttc clients, raw connections
// ---------------------------------------------------------------------------------------------

/// A configuration listening on 127.0.0.1 port 0, otherwise the defaults.
fn test_config() -> Config {
    Config {
        listeners: vec![Listener {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..Listener::default()
        }],
        ..Config::default()
    }
}

struct Broker {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Broker {
    async fn start() -> Broker {
        Broker::start_with(test_config()).await
    }

    async fn start_with(config: Config) -> Broker {
        config.validate().expect("valid test configuration");
        let server = tern::wiring::bind(common::in_memory(config))
            .await
            .expect("bind");
        let addr = server.local_addrs()[0];
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Broker {
            addr,
            stop: Some(stop),
            handle,
        }
    }

    async fn shutdown(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        timeout(WAIT + WAIT, self.handle)
            .await
            .expect("shutdown in time")
            .expect("server task")
            .expect("server run");
    }
}

fn payloads() -> [Vec<u8>; 3] {
    [
        vec![],
        vec![0x5A],
        (0..256 * 1024).map(|i| (i % 251) as u8).collect(),
    ]
}

mod raw;
mod v4;
mod v5;

mod acl;
mod connect_handling;
mod disconnect_auth_errors;
mod jwt;
mod limits;
mod passwords;
mod publish;
mod subscribe;
mod wills;
mod wills_and_takeover;
