//! The broker under test: a Tern started inside the test process for each scenario, or another
//! broker given by address.
//!
//! An in-process Tern per scenario keeps scenarios apart and lets a scenario configure the
//! broker (`Given the broker is configured with mqtt.maximum_qos = 1`). Another broker is one
//! shared process that cannot be configured, so scenarios tagged `@needs-config` are reported
//! as skipped against it.

use std::net::SocketAddr;
use std::sync::OnceLock;

use anyhow::{anyhow, Context, Result};
use tern::config::{Config, Listener, Transport};
use tokio::sync::oneshot;

/// Where the scenarios of this run connect.
#[derive(Clone, Debug)]
pub enum Target {
    /// A Tern started in this process for each scenario.
    InProcess,
    /// Another broker, already running: its MQTT-over-TCP address, and its WebSocket
    /// listener (address and path) if it has one.
    External {
        addr: SocketAddr,
        websocket: Option<(SocketAddr, String)>,
    },
}

/// The path the in-process broker's WebSocket listener answers on.
pub const WEBSOCKET_PATH: &str = "/mqtt";

/// How this run was asked to go.
#[derive(Clone, Debug)]
pub struct RunSettings {
    pub target: Target,
    /// Capabilities the broker under test lacks: scenarios tagged `@needs-<capability>` are
    /// skipped.
    pub without: Vec<String>,
}

static SETTINGS: OnceLock<RunSettings> = OnceLock::new();

/// Fixes the settings of this process's run (first call wins).
pub fn install(settings: RunSettings) {
    let _ = SETTINGS.set(settings);
}

pub fn settings() -> &'static RunSettings {
    SETTINGS.get_or_init(|| RunSettings {
        target: Target::InProcess,
        without: Vec::new(),
    })
}

/// A Tern running inside the test process, stopped when dropped.
#[derive(Debug)]
pub struct InProcessBroker {
    pub addr: SocketAddr,
    /// Its WebSocket listener, at [`WEBSOCKET_PATH`].
    pub websocket: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl InProcessBroker {
    /// Starts Tern with its embedded defaults on an ephemeral loopback port, with each
    /// `dotted.key = value` override applied.
    pub async fn start(overrides: &[String]) -> Result<InProcessBroker> {
        let config = configure(overrides)?;
        let server = tern::wiring::bind(config).await?;
        let addrs = server.local_addrs();
        let (addr, websocket) = (addrs[0], addrs[1]);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Ok(InProcessBroker {
            addr,
            websocket,
            stop: Some(stop),
        })
    }
}

impl Drop for InProcessBroker {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The embedded defaults with the overrides applied, listening on two ephemeral loopback
/// ports: MQTT over TCP, then MQTT over WebSocket.
pub fn configure(overrides: &[String]) -> Result<Config> {
    let mut value = toml::Table::try_from(Config::default())?;
    for line in overrides {
        let (path, raw) = line
            .split_once('=')
            .ok_or_else(|| anyhow!("`{line}`: write a setting as dotted.key = value"))?;
        let parsed: toml::Table = toml::from_str(&format!("v = {}", raw.trim()))
            .with_context(|| format!("the value of `{line}`"))?;
        let mut table = &mut value;
        let keys: Vec<&str> = path.trim().split('.').collect();
        for key in &keys[..keys.len() - 1] {
            table = table
                .get_mut(*key)
                .and_then(|v| v.as_table_mut())
                .ok_or_else(|| anyhow!("`{line}`: no section [{key}]"))?;
        }
        table.insert(keys[keys.len() - 1].to_owned(), parsed["v"].clone());
    }
    let mut config = Config::from_toml_str(&toml::to_string(&value)?)?;
    // Many brokers in one process, one per scenario: nothing kept across restarts (a data
    // directory takes one broker at a time; the store is tested in broker/tests/store.rs).
    if !overrides
        .iter()
        .any(|o| o.trim_start().starts_with("storage."))
    {
        config.storage.mode = tern::config::StorageMode::Memory;
    }
    // Nor an HTTP listener: each would want the same port.
    if !overrides
        .iter()
        .any(|o| o.trim_start().starts_with("http."))
    {
        config.http.enabled = false;
    }
    // Nor a gRPC listener, for the same reason.
    config.grpc.enabled = false;
    let loopback = "127.0.0.1:0".parse().expect("loopback address");
    config.listeners = vec![
        Listener {
            bind: loopback,
            ..Listener::default()
        },
        Listener {
            bind: loopback,
            transport: Transport::Websocket,
            path: WEBSOCKET_PATH.to_owned(),
            ..Listener::default()
        },
    ];
    config.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::configure;

    #[test]
    fn overrides_reach_the_configuration() {
        let c = configure(&[
            "mqtt.maximum_qos = 1".into(),
            "limits.receive_maximum=2".into(),
        ])
        .unwrap();
        assert_eq!(c.mqtt.maximum_qos, 1);
        assert_eq!(c.limits.receive_maximum, 2);
        assert!(c.listeners[0].bind.ip().is_loopback());
        assert!(configure(&["mqtt.nonsense = 1".into()]).is_err());
        assert!(configure(&["nosection.x = 1".into()]).is_err());
    }
}
