//! The scenario world and its steps.
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
use cucumber::gherkin::Step;
use cucumber::{given, then, when, World};
use tern::codec::{decode_exact, Protocol};

use crate::client::{Connection, Event};
use crate::fields::{encode_hex, raw_bytes, Fields};
use crate::packets::{build, compare, describe, Context};
use crate::scope::Scope;
use crate::target::{settings, InProcessBroker, Target};

/// The longest a step waits for something that must happen.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long a step watches for something that must not happen.
pub const QUIET: Duration = Duration::from_millis(500);

/// One test connection and the protocol it speaks.
struct Client {
    conn: Connection,
    protocol: Protocol,
}

#[derive(World)]
#[world(init = Self::new)]
pub struct MqttWorld {
    protocol: Protocol,
    scope: Scope,
    overrides: Vec<String>,
    /// The subprotocol each WebSocket connection's upgrade selected.
    pub(crate) subprotocols: HashMap<String, Option<String>>,
    broker: Option<InProcessBroker>,
    clients: HashMap<String, Client>,
    vars: HashMap<String, String>,
    /// Password file and SCRAM client state of [`crate::auth_steps`].
    pub(crate) auth: crate::auth_steps::AuthState,
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
            protocol: crate::runner::current_protocol(),
            scope: Scope::fresh(),
            overrides: Vec::new(),
            subprotocols: HashMap::new(),
            broker: None,
            clients: HashMap::new(),
            vars: HashMap::new(),
            auth: Default::default(),
        }
    }

    async fn addr(&mut self) -> Result<SocketAddr> {
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

    async fn open(&mut self, name: &str) -> Result<()> {
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

    fn client(&mut self, name: &str) -> Result<&mut Client> {
        self.clients
            .get_mut(name)
            .ok_or_else(|| anyhow!("no connection \"{name}\": open or connect it first"))
    }

    /// Replaces `$var` values with the variables captured so far.
    fn substitute(&self, fields: Fields) -> Result<Fields> {
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
    async fn next_frame(&mut self, name: &str, expected: &str) -> Result<Vec<u8>> {
        match self.client(name)?.conn.next(WAIT).await {
            Some(Event::Frame(frame)) => Ok(frame),
            Some(Event::Closed) => bail!("\"{name}\" was disconnected, expected {expected}"),
            None => bail!("\"{name}\" received nothing in {WAIT:?}, expected {expected}"),
        }
    }

    /// Decodes a frame in the connection's protocol and describes it as fields.
    fn describe(&mut self, name: &str, frame: &[u8]) -> Result<Vec<(String, String)>> {
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

    async fn expect(&mut self, name: &str, kind: &str, fields: &str) -> Result<()> {
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

fn parse_protocol(text: &str) -> Result<Protocol> {
    Ok(match text.trim_start_matches('v') {
        "3.1" => Protocol::V3_1,
        "3.1.1" => Protocol::V3_1_1,
        "5" | "5.0" => Protocol::V5,
        other => bail!("unknown protocol version {other}"),
    })
}

fn show(fields: &[(String, String)]) -> String {
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

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

#[given(regex = r"^the broker is configured with (.+)$")]
#[when(regex = r"^the broker is configured with (.+)$")]
#[then(regex = r"^the broker is configured with (.+)$")]
pub(crate) async fn configured(w: &mut MqttWorld, setting: String) -> Result<()> {
    if w.broker.is_some() {
        bail!("configure the broker before the first connection");
    }
    if let Target::External { .. } = settings().target {
        bail!("another broker cannot be configured: tag the scenario @needs-config");
    }
    w.overrides.push(setting);
    Ok(())
}

#[given(regex = r#"^client "([^"]+)" is connected(?: with (.*))?$"#)]
#[when(regex = r#"^client "([^"]+)" is connected(?: with (.*))?$"#)]
#[then(regex = r#"^client "([^"]+)" is connected(?: with (.*))?$"#)]
async fn connected(w: &mut MqttWorld, name: String, fields: String) -> Result<()> {
    w.open(&name).await?;
    let bytes = w.packet_bytes(&name, "CONNECT", &fields)?;
    w.send(&name, &bytes, usize::MAX).await?;
    w.expect(&name, "CONNACK", "reason=0").await
}

#[given(regex = r#"^"([^"]+)" opens a connection$"#)]
#[when(regex = r#"^"([^"]+)" opens a connection$"#)]
#[then(regex = r#"^"([^"]+)" opens a connection$"#)]
async fn opens(w: &mut MqttWorld, name: String) -> Result<()> {
    w.open(&name).await
}

#[given(regex = r#"^"([^"]+)" closes the connection$"#)]
#[when(regex = r#"^"([^"]+)" closes the connection$"#)]
#[then(regex = r#"^"([^"]+)" closes the connection$"#)]
async fn closes(w: &mut MqttWorld, name: String) -> Result<()> {
    w.client(&name)?.conn.close().await;
    Ok(())
}

#[given(regex = r#"^"([^"]+)" sends ([A-Z]+)(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" sends ([A-Z]+)(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" sends ([A-Z]+)(?: (.*))?$"#)]
async fn sends(w: &mut MqttWorld, name: String, kind: String, fields: String) -> Result<()> {
    let bytes = w.packet_bytes(&name, &kind, &fields)?;
    w.send(&name, &bytes, usize::MAX).await
}

#[given(regex = r#"^"([^"]+)" sends raw (.+)$"#)]
#[when(regex = r#"^"([^"]+)" sends raw (.+)$"#)]
#[then(regex = r#"^"([^"]+)" sends raw (.+)$"#)]
async fn sends_raw(w: &mut MqttWorld, name: String, text: String) -> Result<()> {
    let bytes = raw_bytes(&text, &w.scope)?;
    w.send(&name, &bytes, usize::MAX).await
}

#[given(regex = r#"^"([^"]+)" sends, (\d+) bytes? at a time, (?:raw (.+)|([A-Z]+)(?: (.*))?)$"#)]
#[when(regex = r#"^"([^"]+)" sends, (\d+) bytes? at a time, (?:raw (.+)|([A-Z]+)(?: (.*))?)$"#)]
#[then(regex = r#"^"([^"]+)" sends, (\d+) bytes? at a time, (?:raw (.+)|([A-Z]+)(?: (.*))?)$"#)]
async fn sends_in_pieces(
    w: &mut MqttWorld,
    name: String,
    piece: usize,
    raw: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let bytes = if !raw.is_empty() {
        raw_bytes(&raw, &w.scope)?
    } else {
        w.packet_bytes(&name, &kind, &fields)?
    };
    w.send(&name, &bytes, piece).await
}

#[given(regex = r"^(\d+) (seconds?|milliseconds?) pass(?:es)?$")]
#[when(regex = r"^(\d+) (seconds?|milliseconds?) pass(?:es)?$")]
#[then(regex = r"^(\d+) (seconds?|milliseconds?) pass(?:es)?$")]
async fn time_passes(_w: &mut MqttWorld, n: u64, unit: String) {
    let d = if unit.starts_with("milli") {
        Duration::from_millis(n)
    } else {
        Duration::from_secs(n)
    };
    tokio::time::sleep(d).await;
}

#[given(regex = r#"^"([^"]+)" receives ([A-Z]+)(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" receives ([A-Z]+)(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" receives ([A-Z]+)(?: (.*))?$"#)]
async fn receives(w: &mut MqttWorld, name: String, kind: String, fields: String) -> Result<()> {
    w.expect(&name, &kind, &fields).await
}

#[given(regex = r#"^"([^"]+)" receives raw (.+)$"#)]
#[when(regex = r#"^"([^"]+)" receives raw (.+)$"#)]
#[then(regex = r#"^"([^"]+)" receives raw (.+)$"#)]
async fn receives_raw(w: &mut MqttWorld, name: String, text: String) -> Result<()> {
    let want = raw_bytes(&text, &w.scope)?;
    let frame = w.next_frame(&name, &text).await?;
    if frame != want {
        bail!(
            "\"{name}\" received {}, expected {}",
            encode_hex(&frame),
            encode_hex(&want)
        );
    }
    Ok(())
}

#[given(regex = r#"^"([^"]+)" receives, in any order:$"#)]
#[when(regex = r#"^"([^"]+)" receives, in any order:$"#)]
#[then(regex = r#"^"([^"]+)" receives, in any order:$"#)]
async fn receives_any_order(w: &mut MqttWorld, name: String, step: &Step) -> Result<()> {
    let text = step
        .docstring
        .as_deref()
        .ok_or_else(|| anyhow!("list the packets in a doc string"))?;
    let mut wanted: Vec<(String, String)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (kind, fields) = line.split_once(' ').unwrap_or((line, ""));
        wanted.push((kind.to_owned(), fields.to_owned()));
    }
    while !wanted.is_empty() {
        let frame = w
            .next_frame(&name, &format!("{} more packets", wanted.len()))
            .await?;
        let got = w.describe(&name, &frame)?;
        let position = wanted.iter().position(|(kind, fields)| {
            let mut vars = w.vars.clone();
            got[0].1 == *kind
                && Fields::parse(fields)
                    .map(|f| compare(&f, &got, &mut vars).is_ok())
                    .unwrap_or(false)
        });
        match position {
            Some(i) => {
                let (_, fields) = wanted.remove(i);
                compare(&Fields::parse(&fields)?, &got, &mut w.vars).map_err(|e| anyhow!(e))?;
            }
            None => bail!(
                "\"{name}\" received {}, which is none of those expected",
                show(&got)
            ),
        }
    }
    Ok(())
}

#[given(regex = r#"^"([^"]+)" receives nothing$"#)]
#[when(regex = r#"^"([^"]+)" receives nothing$"#)]
#[then(regex = r#"^"([^"]+)" receives nothing$"#)]
async fn receives_nothing(w: &mut MqttWorld, name: String) -> Result<()> {
    let protocol = w.client(&name)?.protocol;
    match w.client(&name)?.conn.next(QUIET).await {
        None => Ok(()),
        Some(Event::Closed) => bail!("\"{name}\" was disconnected, expected nothing"),
        Some(Event::Frame(frame)) => {
            let shown = match decode_exact(&frame, protocol) {
                Ok(p) => show(&describe(&p, protocol, &w.scope)),
                Err(_) => encode_hex(&frame),
            };
            bail!("\"{name}\" received {shown}, expected nothing")
        }
    }
}

#[given(regex = r#"^"([^"]+)" is disconnected$"#)]
#[when(regex = r#"^"([^"]+)" is disconnected$"#)]
#[then(regex = r#"^"([^"]+)" is disconnected$"#)]
async fn is_disconnected(w: &mut MqttWorld, name: String) -> Result<()> {
    let protocol = w.client(&name)?.protocol;
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => Ok(()),
        None => bail!("\"{name}\" is still connected after {WAIT:?}"),
        Some(Event::Frame(frame)) => {
            let shown = match decode_exact(&frame, protocol) {
                Ok(p) => show(&describe(&p, protocol, &w.scope)),
                Err(_) => encode_hex(&frame),
            };
            bail!("\"{name}\" received {shown}, expected the connection to close")
        }
    }
}

#[given(regex = r#"^"([^"]+)" is still connected$"#)]
#[when(regex = r#"^"([^"]+)" is still connected$"#)]
#[then(regex = r#"^"([^"]+)" is still connected$"#)]
async fn still_connected(w: &mut MqttWorld, name: String) -> Result<()> {
    w.send(&name, &[0xC0, 0x00], usize::MAX).await?;
    w.expect(&name, "PINGRESP", "").await
}

/// `"a" does not receive PUBLISH payload=old`: sends PINGREQ and reads until its PINGRESP; no
/// packet before it may be one with these fields (others are skipped, the connection must
/// stay open). For a rule that forbids one packet but lets the server choose between others.
#[given(regex = r#"^"([^"]+)" does not receive ([A-Z]+)(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" does not receive ([A-Z]+)(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" does not receive ([A-Z]+)(?: (.*))?$"#)]
async fn does_not_receive(
    w: &mut MqttWorld,
    name: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let unwanted = Fields::parse(&fields)?;
    w.send(&name, &[0xC0, 0x00], usize::MAX).await?;
    loop {
        let frame = w.next_frame(&name, "PINGRESP").await?;
        let got = w.describe(&name, &frame)?;
        if got[0].1 == "PINGRESP" {
            return Ok(());
        }
        let mut vars = w.vars.clone();
        if got[0].1 == kind && compare(&unwanted, &got, &mut vars).is_ok() {
            bail!("\"{name}\" received {}, which it must not", show(&got));
        }
    }
}

/// `"a" receives PUBLISH, lists in any order, subscription_identifier=1,2`: as `receives`, but
/// a comma-separated value matches the same items in any order (for lists whose order the
/// specification leaves open).
#[given(regex = r#"^"([^"]+)" receives ([A-Z]+), lists in any order,(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" receives ([A-Z]+), lists in any order,(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" receives ([A-Z]+), lists in any order,(?: (.*))?$"#)]
async fn receives_unordered(
    w: &mut MqttWorld,
    name: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let sorted = |v: &str| {
        let mut items: Vec<String> = v
            .split(',')
            .map(|i| match crate::fields::number(i) {
                Some(n) => n.to_string(),
                None => i.to_owned(),
            })
            .collect();
        items.sort();
        items.join(",")
    };
    let expected = Fields(
        Fields::parse(&fields)?
            .0
            .into_iter()
            .map(|(k, v)| {
                let v = if v.contains(',') { sorted(&v) } else { v };
                (k, v)
            })
            .collect(),
    );
    let what = format!("{kind} {fields}");
    let frame = w.next_frame(&name, &what).await?;
    let got = w.describe(&name, &frame)?;
    let shown = show(&got);
    if got[0].1 != kind {
        bail!("\"{name}\" received {shown}, expected {what}");
    }
    let got: Vec<(String, String)> = got
        .into_iter()
        .map(|(k, v)| {
            let v = if v.contains(',') { sorted(&v) } else { v };
            (k, v)
        })
        .collect();
    compare(&expected, &got, &mut w.vars).map_err(|e| anyhow!("\"{name}\" received {shown}: {e}"))
}

/// `"a" is disconnected, perhaps after DISCONNECT reason=0x81`: the broker closes the
/// connection, and may first send that one packet (with those fields), nothing else. For the
/// errors where the specification requires the close but leaves the packet before it to the
/// server (CONNACK in 4.13.1 "MAY", DISCONNECT "SHOULD").
#[given(regex = r#"^"([^"]+)" is disconnected, perhaps after ([A-Z]+)(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" is disconnected, perhaps after ([A-Z]+)(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" is disconnected, perhaps after ([A-Z]+)(?: (.*))?$"#)]
async fn disconnected_perhaps_after(
    w: &mut MqttWorld,
    name: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let what = format!("{kind} {fields} or the connection to close");
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => return Ok(()),
        None => bail!("\"{name}\" is still connected after {WAIT:?}, expected {what}"),
        Some(Event::Frame(frame)) => {
            let got = w.describe(&name, &frame)?;
            let shown = show(&got);
            if got[0].1 != kind {
                bail!("\"{name}\" received {shown}, expected {what}");
            }
            compare(&Fields::parse(&fields)?, &got, &mut w.vars)
                .map_err(|e| anyhow!("\"{name}\" received {shown}: {e}"))?;
        }
    }
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => Ok(()),
        None => bail!("\"{name}\" is still connected {WAIT:?} after its {kind}"),
        Some(Event::Frame(frame)) => {
            let protocol = w.client(&name)?.protocol;
            let shown = match decode_exact(&frame, protocol) {
                Ok(p) => show(&describe(&p, protocol, &w.scope)),
                Err(_) => encode_hex(&frame),
            };
            bail!("\"{name}\" received {shown} after its {kind}, expected the connection to close")
        }
    }
}

/// `$long is a topic of 65535 bytes`: captures, as variable `long`, a topic that is exactly
/// that many bytes once the scenario's scope is put in front of it, for the length limit of
/// section 4.7.3. Use it as `topic=$long` or `filter=$long`, sent or expected.
#[given(regex = r"^\$(\w+) is a topic of (\d+) bytes$")]
#[when(regex = r"^\$(\w+) is a topic of (\d+) bytes$")]
#[then(regex = r"^\$(\w+) is a topic of (\d+) bytes$")]
async fn topic_of_length(w: &mut MqttWorld, var: String, len: usize) -> Result<()> {
    let prefix = w.scope.topic("t").len() - 1;
    let Some(n) = len.checked_sub(prefix).filter(|n| *n > 0) else {
        bail!("a topic of {len} bytes cannot hold the scope's {prefix} bytes");
    };
    w.vars.insert(var, "t".repeat(n));
    Ok(())
}

/// `"a" is disconnected within 2 seconds` (or `..., perhaps after DISCONNECT reason=0x8D`):
/// the broker closes the connection before that much time has passed since the step began,
/// sending at most that one packet (with those fields) first. For the deadlines the
/// specification sets, such as one and a half times the Keep Alive.
#[given(
    regex = r#"^"([^"]+)" is disconnected within (\d+) (seconds?|milliseconds?)(?:, perhaps after ([A-Z]+)(?: (.*))?)?$"#
)]
#[when(
    regex = r#"^"([^"]+)" is disconnected within (\d+) (seconds?|milliseconds?)(?:, perhaps after ([A-Z]+)(?: (.*))?)?$"#
)]
#[then(
    regex = r#"^"([^"]+)" is disconnected within (\d+) (seconds?|milliseconds?)(?:, perhaps after ([A-Z]+)(?: (.*))?)?$"#
)]
async fn disconnected_within(
    w: &mut MqttWorld,
    name: String,
    n: u64,
    unit: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let limit = if unit.starts_with("milli") {
        Duration::from_millis(n)
    } else {
        Duration::from_secs(n)
    };
    let deadline = tokio::time::Instant::now() + limit;
    let mut allowed = (!kind.is_empty()).then_some((kind, fields));
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match w.client(&name)?.conn.next(left).await {
            Some(Event::Closed) => return Ok(()),
            None => bail!("\"{name}\" is still connected after {limit:?}"),
            Some(Event::Frame(frame)) => {
                let got = w.describe(&name, &frame)?;
                let shown = show(&got);
                match allowed.take() {
                    Some((kind, fields)) if got[0].1 == kind => {
                        compare(&Fields::parse(&fields)?, &got, &mut w.vars)
                            .map_err(|e| anyhow!("\"{name}\" received {shown}: {e}"))?;
                    }
                    _ => bail!("\"{name}\" received {shown}, expected the connection to close"),
                }
            }
        }
    }
}

/// `"a" is disconnected, perhaps after raw 20 03 00 84 00 or raw 20 02 00 01`: the broker
/// closes the connection, and may first send exactly one of these byte strings, nothing else.
/// For a refusal whose packet may be in another protocol's format than the scenario's (the
/// CONNACK answering a CONNECT of a protocol level the broker does not speak).
#[given(regex = r#"^"([^"]+)" is disconnected, perhaps after raw (.+)$"#)]
#[when(regex = r#"^"([^"]+)" is disconnected, perhaps after raw (.+)$"#)]
#[then(regex = r#"^"([^"]+)" is disconnected, perhaps after raw (.+)$"#)]
async fn disconnected_perhaps_after_raw(
    w: &mut MqttWorld,
    name: String,
    text: String,
) -> Result<()> {
    let mut allowed = Vec::new();
    for alternative in text.split(" or raw ") {
        allowed.push(raw_bytes(alternative, &w.scope)?);
    }
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => return Ok(()),
        None => bail!("\"{name}\" is still connected after {WAIT:?}"),
        Some(Event::Frame(frame)) if allowed.contains(&frame) => {}
        Some(Event::Frame(frame)) => bail!(
            "\"{name}\" received {}, expected {text} or the connection to close",
            encode_hex(&frame)
        ),
    }
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => Ok(()),
        None => bail!("\"{name}\" is still connected {WAIT:?} after its packet"),
        Some(Event::Frame(frame)) => bail!(
            "\"{name}\" received {} after its packet, expected the connection to close",
            encode_hex(&frame)
        ),
    }
}

/// `"a" receives PUBLISH, with topic_alias absent or at most 2, payload=x`: as `receives`, and
/// the named numeric field, when present, is at most that value. For limits the receiver set
/// and the sender may use as it likes (Topic Alias Maximum).
#[given(
    regex = r#"^"([^"]+)" receives ([A-Z]+), with ([a-z_]+) absent or at most (\d+)(?:, (.*))?$"#
)]
#[when(
    regex = r#"^"([^"]+)" receives ([A-Z]+), with ([a-z_]+) absent or at most (\d+)(?:, (.*))?$"#
)]
#[then(
    regex = r#"^"([^"]+)" receives ([A-Z]+), with ([a-z_]+) absent or at most (\d+)(?:, (.*))?$"#
)]
async fn receives_at_most(
    w: &mut MqttWorld,
    name: String,
    kind: String,
    key: String,
    max: u64,
    fields: String,
) -> Result<()> {
    let what = format!("{kind} {fields}");
    let frame = w.next_frame(&name, &what).await?;
    let got = w.describe(&name, &frame)?;
    let shown = show(&got);
    if got[0].1 != kind {
        bail!("\"{name}\" received {shown}, expected {what}");
    }
    compare(&Fields::parse(&fields)?, &got, &mut w.vars)
        .map_err(|e| anyhow!("\"{name}\" received {shown}: {e}"))?;
    if let Some((_, value)) = got.iter().find(|(k, _)| *k == key) {
        match crate::fields::number(value) {
            Some(n) if n <= max => {}
            _ => bail!("\"{name}\" received {shown}: {key} is {value}, at most {max} allowed"),
        }
    }
    Ok(())
}

/// `"a" is disconnected, perhaps after one of:` + doc string, one packet per line: the broker
/// closes the connection, and may first send one packet matching one of the lines, nothing
/// else. For a choice the specification leaves the server between several packets before the
/// close (CONNACK 0x8C or 0x87 for an unsupported Authentication Method, section 4.12).
#[given(regex = r#"^"([^"]+)" is disconnected, perhaps after one of:$"#)]
#[when(regex = r#"^"([^"]+)" is disconnected, perhaps after one of:$"#)]
#[then(regex = r#"^"([^"]+)" is disconnected, perhaps after one of:$"#)]
async fn disconnected_perhaps_after_one_of(
    w: &mut MqttWorld,
    name: String,
    step: &Step,
) -> Result<()> {
    let text = step
        .docstring
        .as_deref()
        .ok_or_else(|| anyhow!("list the packets allowed before the close in a doc string"))?;
    let mut allowed: Vec<(String, Fields)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (kind, fields) = line.split_once(' ').unwrap_or((line, ""));
        allowed.push((kind.to_owned(), Fields::parse(fields)?));
    }
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => return Ok(()),
        None => bail!("\"{name}\" is still connected after {WAIT:?}"),
        Some(Event::Frame(frame)) => {
            let got = w.describe(&name, &frame)?;
            let matched = allowed.iter().position(|(kind, fields)| {
                let mut vars = w.vars.clone();
                got[0].1 == *kind && compare(fields, &got, &mut vars).is_ok()
            });
            match matched {
                Some(i) => compare(&allowed[i].1, &got, &mut w.vars).map_err(|e| anyhow!(e))?,
                None => bail!(
                    "\"{name}\" received {}, which is none of those allowed before the close",
                    show(&got)
                ),
            }
        }
    }
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => Ok(()),
        None => bail!("\"{name}\" is still connected {WAIT:?} after its packet"),
        Some(Event::Frame(frame)) => {
            let protocol = w.client(&name)?.protocol;
            let shown = match decode_exact(&frame, protocol) {
                Ok(p) => show(&describe(&p, protocol, &w.scope)),
                Err(_) => encode_hex(&frame),
            };
            bail!("\"{name}\" received {shown} after its packet, expected the connection to close")
        }
    }
}
