//! The scenario world: the connections of one scenario, its variables and its broker.
//!
//! Every step names a connection by a short label (`"a"`, `"sub"`) and speaks the field
//! notation of [`crate::packets`] or the raw-bytes notation of [`crate::fields`]. The protocol
//! version comes from the run (scenarios tagged `@v5` run in the 5.0 pass, and so on), so one
//! scenario tagged with several versions is run once under each. A CONNECT field
//! `protocol=3.1|3.1.1|5` puts one connection on another version, for cross-version scenarios.
//!
//! Vocabulary (any of Given/When/Then/And may start a step):
//! - `the broker is configured with limits.receive_maximum = 2` (tag the scenario
//!   `@needs-config`)
//! - `client "a" is connected` / `client "a" is connected with clean_start=0 ...`: opens a
//!   connection, sends CONNECT (client id `a`, clean start, keep alive 60), expects CONNACK
//!   success
//! - `"a" opens a connection`, `"a" closes the connection`
//! - `"a" sends PUBLISH topic=x qos=1 id=1 payload=hi`, `"a" sends raw 30 * t"x" "hi"`
//! - `"a" sends, 1 byte at a time, raw ...` (or `..., PUBLISH ...`)
//! - `"a" receives SUBACK id=1 reasons=0x01`, `"a" receives raw 20 02 00 00`
//! - `"a" receives, in any order:` with one packet per line of the doc string
//! - `"a" receives nothing` (for 0.5 s), `"a" is disconnected`, `"a" is still connected`
//! - `2 seconds pass`, `300 milliseconds pass`

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use cucumber::World;
use tern::codec::{decode_exact, Protocol};

use crate::client::{Connection, Event};
use crate::fields::{encode_hex, Fields};
use crate::packets::{build, compare, describe, Context};
use crate::scope::Scope;
use crate::target::{settings, InProcessBroker, Target};

/// The longest a step waits for something that must happen.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long a step watches for something that must not happen.
pub const QUIET: Duration = Duration::from_millis(500);

/// One test connection and the protocol it speaks.
pub(crate) struct Client {
    pub(crate) conn: Connection,
    pub(crate) protocol: Protocol,
}

#[derive(World)]
#[world(init = Self::new)]
pub struct MqttWorld {
    pub(crate) protocol: Protocol,
    pub(crate) scope: Scope,
    pub(crate) overrides: Vec<String>,
    /// The subprotocol each WebSocket connection's upgrade selected.
    pub(crate) subprotocols: HashMap<String, Option<String>>,
    pub(crate) broker: Option<InProcessBroker>,
    pub(crate) clients: HashMap<String, Client>,
    pub(crate) vars: HashMap<String, String>,
    /// Password file and SCRAM client state, kept by the authentication steps.
    pub(crate) auth: crate::state::AuthState,
    /// The ACL file, written by the authorization steps.
    pub(crate) acl_file: crate::state::AclFile,
}

impl fmt::Debug for MqttWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttWorld")
            .field("protocol", &self.protocol)
            .field("scope", &self.scope)
            .field("clients", &self.clients.keys().collect::<Vec<_>>())
            .field("vars", &self.vars)
            .finish()
    }
}

impl MqttWorld {
    fn new() -> MqttWorld {
        MqttWorld {
            protocol: crate::pass::current_protocol(),
            scope: Scope::fresh(),
            overrides: Vec::new(),
            subprotocols: HashMap::new(),
            broker: None,
            clients: HashMap::new(),
            vars: HashMap::new(),
            auth: Default::default(),
            acl_file: Default::default(),
        }
    }

    pub(crate) async fn addr(&mut self) -> Result<SocketAddr> {
        match &settings().target {
            Target::External { addr, .. } => Ok(*addr),
            Target::InProcess => {
                if self.broker.is_none() {
                    self.broker = Some(InProcessBroker::start(&self.overrides).await?);
                }
                Ok(self.broker.as_ref().expect("started").addr)
            }
        }
    }

    pub(crate) async fn open(&mut self, name: &str) -> Result<()> {
        let addr = self.addr().await?;
        let conn = Connection::open(addr, WAIT).await?;
        self.clients.insert(
            name.to_owned(),
            Client {
                conn,
                protocol: self.protocol,
            },
        );
        Ok(())
    }

    /// Opens a WebSocket connection to the broker's WebSocket listener, offering
    /// `subprotocol`, and returns the subprotocol the broker selected.
    pub(crate) async fn open_websocket(
        &mut self,
        name: &str,
        subprotocol: Option<&str>,
    ) -> Result<Option<String>> {
        self.addr().await?;
        let (addr, path) = match &settings().target {
            Target::External { websocket, .. } => websocket.clone().ok_or_else(|| {
                anyhow!("no WebSocket listener: tag the scenario @needs-websocket")
            })?,
            Target::InProcess => (
                self.broker.as_ref().expect("started").websocket,
                crate::target::WEBSOCKET_PATH.to_owned(),
            ),
        };
        let (conn, selected) = Connection::open_websocket(addr, &path, subprotocol, WAIT).await?;
        self.clients.insert(
            name.to_owned(),
            Client {
                conn,
                protocol: self.protocol,
            },
        );
        Ok(selected)
    }

    /// Sends one WebSocket text frame on a connection.
    pub(crate) async fn send_text(&mut self, name: &str, text: &str) -> Result<()> {
        self.client(name)?.conn.send_text(text).await;
        Ok(())
    }

    pub(crate) fn client(&mut self, name: &str) -> Result<&mut Client> {
        self.clients
            .get_mut(name)
            .ok_or_else(|| anyhow!("no connection \"{name}\": open or connect it first"))
    }

    /// Replaces `$var` values with the variables captured so far.
    pub(crate) fn substitute(&self, fields: Fields) -> Result<Fields> {
        let mut out = Vec::new();
        for (k, v) in fields.0 {
            let v = match crate::fields::variable(&v) {
                Some(var) => self
                    .vars
                    .get(var)
                    .cloned()
                    .ok_or_else(|| anyhow!("{k}=${var}: ${var} was never captured"))?,
                None => v,
            };
            out.push((k, v));
        }
        Ok(Fields(out))
    }

    /// The bytes of `TYPE fields...`, built in the connection's protocol.
    pub(crate) fn packet_bytes(&mut self, name: &str, kind: &str, fields: &str) -> Result<Vec<u8>> {
        let mut fields = self.substitute(Fields::parse(fields)?)?;
        let mut protocol = self.client(name)?.protocol;
        if kind == "CONNECT" {
            if let Some(p) = fields.get("protocol") {
                protocol = parse_protocol(p)?;
                fields.0.retain(|(k, _)| k != "protocol");
                self.client(name)?.protocol = protocol;
            }
        }
        let cx = Context {
            protocol,
            scope: &self.scope,
            default_client_id: name,
        };
        let packet = build(kind, &fields, &cx)?;
        Ok(packet
            .to_bytes(protocol)
            .map_err(|e| anyhow!("{kind} cannot be encoded: {e} (write it in raw bytes)"))?
            .to_vec())
    }

    pub(crate) async fn send(&mut self, name: &str, bytes: &[u8], piece: usize) -> Result<()> {
        let conn = &mut self.client(name)?.conn;
        for chunk in bytes.chunks(piece.max(1)) {
            conn.send(chunk).await;
            if piece < bytes.len() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Ok(())
    }

    /// The next frame on a connection, or an error saying what came instead.
    pub(crate) async fn next_frame(&mut self, name: &str, expected: &str) -> Result<Vec<u8>> {
        match self.client(name)?.conn.next(WAIT).await {
            Some(Event::Frame(frame)) => Ok(frame),
            Some(Event::Closed) => bail!("\"{name}\" was disconnected, expected {expected}"),
            None => bail!("\"{name}\" received nothing in {WAIT:?}, expected {expected}"),
        }
    }

    /// Decodes a frame in the connection's protocol and describes it as fields.
    pub(crate) fn describe(&mut self, name: &str, frame: &[u8]) -> Result<Vec<(String, String)>> {
        let protocol = self.client(name)?.protocol;
        let packet = decode_exact(frame, protocol).map_err(|e| {
            anyhow!(
                "\"{name}\" received a packet that breaks the protocol: {e}; bytes {}",
                encode_hex(frame)
            )
        })?;
        self.auth.saw(name, &packet, frame.len());
        Ok(describe(&packet, protocol, &self.scope))
    }

    pub(crate) async fn expect(&mut self, name: &str, kind: &str, fields: &str) -> Result<()> {
        let expected = Fields::parse(fields)?;
        let what = format!("{kind} {fields}");
        let frame = self.next_frame(name, &what).await?;
        let got = self.describe(name, &frame)?;
        let shown = show(&got);
        if got[0].1 != kind {
            bail!("\"{name}\" received {shown}, expected {what}");
        }
        compare(&expected, &got, &mut self.vars)
            .map_err(|e| anyhow!("\"{name}\" received {shown}: {e}"))
    }
}

pub(crate) fn parse_protocol(text: &str) -> Result<Protocol> {
    Ok(match text.trim_start_matches('v') {
        "3.1" => Protocol::V3_1,
        "3.1.1" => Protocol::V3_1_1,
        "5" | "5.0" => Protocol::V5,
        other => bail!("unknown protocol version {other}"),
    })
}

pub(crate) fn show(fields: &[(String, String)]) -> String {
    let mut out = fields[0].1.clone();
    for (k, v) in &fields[1..] {
        if v.contains(' ') || v.is_empty() {
            out.push_str(&format!(" {k}={v:?}"));
        } else {
            out.push_str(&format!(" {k}={v}"));
        }
    }
    out
}
