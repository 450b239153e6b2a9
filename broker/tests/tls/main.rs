//! TLS listeners end to end: a real broker on an ephemeral loopback port, certificates made in
//! the test by rcgen, and real clients: rustls (tokio-rustls) speaking raw MQTT, WebSocket
//! over TLS (tokio-tungstenite), the mosquitto command-line clients and Python paho-mqtt
//! (skipped, with the reason printed, where they are not installed). Also the per-listener
//! protocol versions, and the reload of certificates on SIGHUP by the `tern` binary.
//!
//! Every wait is bounded.

#[path = "../common/mod.rs"]
mod common;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, SupportedProtocolVersion};
use tern::config::{Config, Listener, Tls, TlsVersion};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use pki::{Pem, Pki};

mod pki;

mod config_keys;
mod grpc;
mod https;
mod interop;
mod mtls;
mod protocols;
mod readme_example;
mod reload;
mod server_tls;
mod websocket;

/// The longest any single wait may take.
const WAIT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------
// The broker
// ---------------------------------------------------------------------------------------------

/// A listener on 127.0.0.1, port 0.
fn listener() -> Listener {
    Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Listener::default()
    }
}

/// `[listener.tls]` serving a fresh certificate of `pki`, without client certificates.
fn tls(pki: &Pki) -> Tls {
    let (cert_file, key_file) = pki.write_pair("server", &pki.server("main"));
    Tls {
        cert_file,
        key_file,
        min_version: TlsVersion::V1_2,
        client_ca_file: None,
        client_auth: None,
        identity_as_username: None,
    }
}

/// A configuration with these listeners, otherwise the defaults (no failed-login delay).
fn config(listeners: Vec<Listener>) -> Config {
    let mut config = Config {
        listeners,
        ..Config::default()
    };
    config.auth.failed_login_delay_ms = 0;
    config
}

struct Broker {
    addrs: Vec<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Broker {
    async fn start(config: Config) -> Broker {
        config.validate().expect("valid test configuration");
        let server = tern::wiring::bind(common::in_memory(config))
            .await
            .expect("bind");
        let addrs = server.local_addrs();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Broker {
            addrs,
            stop: Some(stop),
            handle,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    async fn shutdown(self) {
        self.shutdown_within(WAIT + WAIT).await
    }

    async fn shutdown_within(mut self, limit: Duration) {
        self.stop.take().unwrap().send(()).unwrap();
        timeout(limit, self.handle)
            .await
            .expect("shutdown in time")
            .expect("server task")
            .expect("server run");
    }
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

/// A rustls client trusting `pki`'s CA, offering these TLS versions and, if given, a client
/// certificate.
fn client_config(
    pki: &Pki,
    identity: Option<&Pem>,
    versions: &[&'static SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(pki.roots());
    let config = match identity {
        Some(pem) => builder
            .with_client_auth_cert(vec![pem.der()], pem.key_der())
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// Both TLS versions.
const BOTH: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Connects and completes the client side of the handshake.
async fn tls_connect(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    timeout(WAIT, TlsConnector::from(config).connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("the TLS handshake took too long"))?
}

/// A CONNECT of protocol level `level` (3, 4 or 5) with a clean session, keep alive 60, and
/// the given user name, password and (5.0 only) property bytes.
fn connect_packet(
    level: u8,
    client_id: &str,
    user: Option<&str>,
    password: Option<&str>,
    properties: &[u8],
) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let mut body = Vec::new();
    string(&mut body, if level == 3 { "MQIsdp" } else { "MQTT" });
    body.push(level);
    let flags =
        0x02 | if user.is_some() { 0x80 } else { 0 } | if password.is_some() { 0x40 } else { 0 };
    body.push(flags);
    body.extend_from_slice(&60u16.to_be_bytes());
    if level == 5 {
        body.push(properties.len() as u8);
        body.extend_from_slice(properties);
    }
    string(&mut body, client_id);
    if let Some(user) = user {
        string(&mut body, user);
    }
    if let Some(password) = password {
        string(&mut body, password);
    }
    assert!(body.len() < 128, "a short CONNECT");
    let mut packet = vec![0x10, body.len() as u8];
    packet.extend(body);
    packet
}

/// Reads one MQTT packet (a short one: remaining length below 128), or says why none came.
async fn read_packet<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Vec<u8>, String> {
    let read = async {
        let mut header = [0u8; 2];
        stream.read_exact(&mut header).await?;
        let mut rest = vec![0u8; usize::from(header[1])];
        stream.read_exact(&mut rest).await?;
        Ok::<_, std::io::Error>([&header[..], &rest].concat())
    };
    match timeout(WAIT, read).await {
        Ok(Ok(packet)) => Ok(packet),
        Ok(Err(e)) => Err(format!("closed: {e}")),
        Err(_) => Err("nothing arrived in time".into()),
    }
}

/// Sends `packet` and returns the packet that comes back, or why none did.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    packet: &[u8],
) -> Result<Vec<u8>, String> {
    stream
        .write_all(packet)
        .await
        .map_err(|e| format!("write: {e}"))?;
    read_packet(stream).await
}

/// Connects over TLS, sends `connect` and returns the CONNACK, or why there was none (the
/// handshake failed, or the server closed the connection after it: a TLS 1.3 client learns
/// that its certificate was refused only when it next reads).
async fn mqtt_over_tls(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    connect: &[u8],
) -> Result<(Vec<u8>, TlsStream<TcpStream>), String> {
    let mut stream = tls_connect(addr, config)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let connack = exchange(&mut stream, connect).await?;
    Ok((connack, stream))
}

/// The 3.1.1 CONNACK accepting a clean session.
const ACCEPTED_V4: [u8; 4] = [0x20, 0x02, 0x00, 0x00];

/// The reason code of a CONNACK (3.x: the return code).
fn connack_code(connack: &[u8]) -> u8 {
    assert_eq!(connack[0], 0x20, "not a CONNACK: {connack:02x?}");
    connack[3]
}

/// Where a third-party client is missing, the reason the test skips (printed), else `None`.
fn missing(program: &str) -> Option<String> {
    let found = std::process::Command::new(program)
        .arg("--help")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    (!found).then(|| format!("skipped: {program} is not installed"))
}
