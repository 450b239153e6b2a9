//! The `suite` scenarios of `interop/README.md`, written once against `client::Library`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::client::{Conn, ConnectOpts, Library, Msg, Props};

/// Longest one scenario may take.
pub const SCENARIO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a scenario waits for a message that should come.
const ARRIVE: Duration = Duration::from_secs(5);
/// How long a scenario waits to be sure a message does not come.
const QUIET: Duration = Duration::from_secs(1);

pub const SCENARIOS: &[&str] = &[
    "connect",
    "connect-credentials",
    "qos0-roundtrip",
    "qos1-roundtrip",
    "qos2-roundtrip",
    "qos1-roundtrip-empty",
    "qos2-roundtrip-1byte",
    "qos2-roundtrip-256k",
    "retained",
    "will",
    "persistent-session",
    "unsubscribe",
    "keepalive",
    "v5-user-properties",
    "v5-message-expiry",
    "v5-topic-alias",
    "v5-request-response",
    "v5-subscription-identifiers",
    "v5-refused-subscription",
];

/// A scenario that passed, with an optional note. (Every scenario of the list is expressible
/// with these APIs, so none is skipped beyond the v5 ones for 3.1.1 clients.)
type Done = String;

/// What a scenario knows: the library, the broker, its own name (for topics and client ids).
#[derive(Clone)]
pub struct Ctx {
    pub lib: &'static dyn Library,
    pub host: String,
    pub port: u16,
    pub scenario: &'static str,
}

impl Ctx {
    pub fn topic(&self, suffix: &str) -> String {
        format!("interop/{}/{}/{suffix}", self.lib.name(), self.scenario)
    }

    pub fn id(&self, suffix: &str) -> String {
        format!("{}-{}-{suffix}", self.lib.name(), self.scenario)
    }

    /// Connects client `<client>-<scenario>-<suffix>` with clean start and `tune`d options.
    fn connect(&self, suffix: &str, tune: impl FnOnce(&mut ConnectOpts)) -> Result<Box<dyn Conn>> {
        let mut o = ConnectOpts::new(self.id(suffix));
        tune(&mut o);
        self.lib
            .connect(&self.host, self.port, &o)
            .with_context(|| format!("connect {}", o.client_id))
    }
}

/// Runs every scenario, each in its own thread bounded by `SCENARIO_TIMEOUT`, and calls `report`
/// with (scenario, result, detail) as each ends.
pub fn run_suite(base: &Ctx, mut report: impl FnMut(&str, &str, &str)) {
    for &scenario in SCENARIOS {
        let ctx = Ctx {
            scenario,
            ..base.clone()
        };
        if scenario.starts_with("v5-") && !ctx.lib.v5() {
            report(
                scenario,
                "skip",
                "MQTT 5 scenario; this client speaks 3.1.1",
            );
            continue;
        }
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(run_one(&ctx));
        });
        match rx.recv_timeout(SCENARIO_TIMEOUT) {
            Ok(Ok(note)) => report(scenario, "pass", &note),
            Ok(Err(e)) => report(scenario, "fail", &format!("{e:#}")),
            Err(_) => report(
                scenario,
                "fail",
                &format!("timed out after {SCENARIO_TIMEOUT:?}"),
            ),
        }
    }
}

fn run_one(c: &Ctx) -> Result<Done> {
    let hello = b"hello".as_slice();
    match c.scenario {
        "connect" => connect(c, false),
        "connect-credentials" => connect(c, true),
        "qos0-roundtrip" => roundtrip(c, 0, hello),
        "qos1-roundtrip" => roundtrip(c, 1, hello),
        "qos2-roundtrip" => roundtrip(c, 2, hello),
        "qos1-roundtrip-empty" => roundtrip(c, 1, &[]),
        "qos2-roundtrip-1byte" => roundtrip(c, 2, &[0]),
        "qos2-roundtrip-256k" => roundtrip(
            c,
            2,
            &(0..262_144).map(|i| (i % 251) as u8).collect::<Vec<_>>(),
        ),
        "retained" => retained(c),
        "will" => will(c),
        "persistent-session" => persistent_session(c),
        "unsubscribe" => unsubscribe(c),
        "keepalive" => keepalive(c),
        "v5-user-properties" => user_properties(c),
        "v5-message-expiry" => message_expiry(c),
        "v5-topic-alias" => topic_alias(c),
        "v5-request-response" => request_response(c),
        "v5-subscription-identifiers" => subscription_identifiers(c),
        "v5-refused-subscription" => refused_subscription(c),
        other => bail!("unknown scenario {other}"),
    }
}

/// Subscribes and insists on the granted QoS.
fn subscribe(conn: &mut Box<dyn Conn>, filter: &str, qos: u8) -> Result<()> {
    let code = conn.subscribe(filter, qos, None)?;
    ensure!(
        code == qos,
        "SUBACK for {filter} at QoS {qos}: 0x{code:02x}"
    );
    Ok(())
}

/// The next message, which must come within `ARRIVE`.
fn expect(conn: &mut Box<dyn Conn>, what: &str) -> Result<Msg> {
    match conn.recv(ARRIVE)? {
        Some(m) => Ok(m),
        None if !conn.is_connected() => bail!("{what}: connection lost while waiting"),
        None => bail!("{what}: nothing received within {ARRIVE:?}"),
    }
}

/// Nothing may arrive within `QUIET`.
fn expect_nothing(conn: &mut Box<dyn Conn>, what: &str) -> Result<()> {
    if let Some(m) = conn.recv(QUIET)? {
        bail!(
            "{what}: received {} bytes on {} (retain {})",
            m.payload.len(),
            m.topic,
            m.retain
        );
    }
    Ok(())
}

fn same_payload(got: &[u8], want: &[u8]) -> Result<()> {
    if got != want {
        let at = got.iter().zip(want).position(|(a, b)| a != b);
        bail!(
            "payload differs: {} bytes received, {} sent, first difference at {:?}",
            got.len(),
            want.len(),
            at.unwrap_or(got.len().min(want.len()))
        );
    }
    Ok(())
}

fn connect(c: &Ctx, credentials: bool) -> Result<Done> {
    let mut conn = c.connect("a", |o| {
        if credentials {
            o.credentials = Some(("interop".into(), "secret".into()));
        }
    })?;
    ensure!(conn.is_connected(), "not connected after CONNACK");
    conn.disconnect()?;
    Ok(String::new())
}

fn roundtrip(c: &Ctx, qos: u8, payload: &[u8]) -> Result<Done> {
    let topic = c.topic("t");
    let mut conn = c.connect("a", |_| {})?;
    subscribe(&mut conn, &topic, qos)?;
    conn.publish(&topic, payload, qos, false, &Props::default())?;
    let m = expect(&mut conn, "own message")?;
    ensure!(m.topic == topic, "topic {:?}, expected {topic:?}", m.topic);
    ensure!(m.qos == qos, "delivered at QoS {}, expected {qos}", m.qos);
    same_payload(&m.payload, payload)?;
    conn.disconnect()?;
    Ok(String::new())
}

fn retained(c: &Ctx) -> Result<Done> {
    let topic = c.topic("t");
    let mut publisher = c.connect("pub", |_| {})?;
    publisher.publish(&topic, b"hello", 1, true, &Props::default())?;
    let mut first = c.connect("sub1", |_| {})?;
    subscribe(&mut first, &topic, 1)?;
    let m = expect(&mut first, "retained message")?;
    ensure!(
        m.retain,
        "retained message delivered without the retain flag"
    );
    same_payload(&m.payload, b"hello")?;
    publisher.publish(&topic, b"", 1, true, &Props::default())?;
    let mut second = c.connect("sub2", |_| {})?;
    subscribe(&mut second, &topic, 1)?;
    expect_nothing(&mut second, "after clearing the retained message")?;
    for conn in [publisher, first, second] {
        conn.disconnect()?;
    }
    Ok(String::new())
}

/// Client A is a child process of this driver (`will-child` mode) killed with SIGKILL, so its
/// socket closes without DISCONNECT whatever the library does on drop.
fn will(c: &Ctx) -> Result<Done> {
    let topic = c.topic("will");
    let mut watcher = c.connect("b", |_| {})?;
    subscribe(&mut watcher, &topic, 1)?;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["will-child", "--client", c.lib.name(), "--host", &c.host])
        .args([
            "--port",
            &c.port.to_string(),
            "--topic",
            &topic,
            "--id",
            &c.id("a"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("spawn will-child")?;
    let stdout = child.stdout.take().context("child stdout")?;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap_or_default());
        }
    });
    let ready = rx.recv_timeout(ARRIVE);
    let _ = child.kill();
    let _ = child.wait();
    match ready {
        Ok(line) if line.contains("ready") => {}
        _ => {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            bail!("client A never connected: {}", err.trim());
        }
    }
    let m = expect(&mut watcher, "will")?;
    ensure!(m.topic == topic, "will on {:?}", m.topic);
    same_payload(&m.payload, will_payload(c.lib.name()).as_bytes())?;
    watcher.disconnect()?;
    Ok("client A killed (SIGKILL) after its CONNACK".into())
}

pub fn will_payload(client: &str) -> String {
    format!("will-{client}")
}

fn persistent_session(c: &Ctx) -> Result<Done> {
    let topic = c.topic("t");
    let persistent = |o: &mut ConnectOpts| {
        o.clean = false;
        o.session_expiry = Some(300);
    };
    // Start from no session at all (a rerun against the same broker).
    c.connect("sub", |_| {})?.disconnect()?;
    let mut sub = c.connect("sub", persistent)?;
    subscribe(&mut sub, &topic, 1)?;
    sub.disconnect()?;
    let mut publisher = c.connect("pub", |_| {})?;
    let sent: [(&[u8], u8); 3] = [(b"m1", 1), (b"m2", 2), (b"m3", 1)];
    for (payload, qos) in sent {
        publisher.publish(&topic, payload, qos, false, &Props::default())?;
    }
    publisher.disconnect()?;
    let mut sub = c.connect("sub", persistent)?;
    ensure!(sub.session_present(), "CONNACK without session present");
    let mut got = Vec::new();
    while got.len() < sent.len() {
        match sub.recv(ARRIVE)? {
            Some(m) => got.push(String::from_utf8_lossy(&m.payload).into_owned()),
            None => break,
        }
    }
    sub.disconnect()?;
    // Leave no session behind.
    c.connect("sub", |_| {})?.disconnect()?;
    ensure!(
        got == ["m1", "m2", "m3"],
        "received {got:?}, expected [m1, m2, m3]"
    );
    Ok(String::new())
}

fn unsubscribe(c: &Ctx) -> Result<Done> {
    let topic = c.topic("t");
    let mut conn = c.connect("a", |_| {})?;
    subscribe(&mut conn, &topic, 1)?;
    conn.unsubscribe(&topic)?;
    conn.publish(&topic, b"hello", 1, false, &Props::default())?;
    expect_nothing(&mut conn, "after UNSUBSCRIBE")?;
    conn.disconnect()?;
    Ok(String::new())
}

fn keepalive(c: &Ctx) -> Result<Done> {
    let keep_alive = c.lib.min_keep_alive().max(2);
    // 2.5 keep alive periods, but never past 1.6 (the server may close after 1.5) so that the
    // scenario stays within its 10 s.
    let idle = if keep_alive == 2 {
        Duration::from_secs(5)
    } else {
        Duration::from_millis(u64::from(keep_alive) * 1600)
    };
    let topic = c.topic("t");
    let mut conn = c.connect("a", |o| o.keep_alive = keep_alive)?;
    thread::sleep(idle);
    ensure!(
        conn.is_connected(),
        "connection lost while idle for {idle:?}"
    );
    subscribe(&mut conn, &topic, 1)?;
    conn.publish(&topic, b"hello", 1, false, &Props::default())?;
    same_payload(
        &expect(&mut conn, "round trip after idling")?.payload,
        b"hello",
    )?;
    conn.disconnect()?;
    let note = if keep_alive == 2 {
        String::new()
    } else {
        format!("keep alive {keep_alive} s (the API's minimum), idle {idle:?}")
    };
    Ok(note)
}

fn user_properties(c: &Ctx) -> Result<Done> {
    let topic = c.topic("t");
    let mut conn = c.connect("a", |_| {})?;
    subscribe(&mut conn, &topic, 1)?;
    let props = Props {
        user: vec![("k".into(), "first".into()), ("k".into(), "second".into())],
        ..Props::default()
    };
    conn.publish(&topic, b"hello", 1, false, &props)?;
    let m = expect(&mut conn, "message with user properties")?;
    ensure!(
        m.props.user == props.user,
        "user properties {:?}",
        m.props.user
    );
    conn.disconnect()?;
    Ok(String::new())
}

fn message_expiry(c: &Ctx) -> Result<Done> {
    let (live, stale) = (c.topic("live"), c.topic("stale"));
    let mut conn = c.connect("a", |_| {})?;
    subscribe(&mut conn, &live, 1)?;
    let expiry = |s| Props {
        expiry: Some(s),
        ..Props::default()
    };
    conn.publish(&live, b"hello", 1, false, &expiry(60))?;
    let m = expect(&mut conn, "message with expiry 60")?;
    match m.props.expiry {
        Some(e) if e <= 60 => {}
        other => bail!("message expiry interval {other:?}, expected at most 60"),
    }
    conn.publish(&stale, b"stale", 1, true, &expiry(1))?;
    thread::sleep(Duration::from_millis(2500));
    subscribe(&mut conn, &stale, 1)?;
    let late = conn.recv(QUIET)?;
    conn.publish(&stale, b"", 1, true, &Props::default())?;
    conn.disconnect()?;
    if let Some(m) = late {
        bail!(
            "retained message with expiry 1 delivered 2.5 s later (expiry {:?})",
            m.props.expiry
        );
    }
    Ok(String::new())
}

fn topic_alias(c: &Ctx) -> Result<Done> {
    let topic = c.topic("t");
    let mut conn = c.connect("a", |_| {})?;
    subscribe(&mut conn, &topic, 1)?;
    let alias = Props {
        topic_alias: Some(1),
        ..Props::default()
    };
    conn.publish(&topic, b"one", 1, false, &alias)?;
    conn.publish("", b"two", 1, false, &alias)?;
    for want in ["one", "two"] {
        let m = expect(&mut conn, want)?;
        ensure!(m.topic == topic, "message {want:?} on {:?}", m.topic);
        same_payload(&m.payload, want.as_bytes())?;
    }
    conn.disconnect()?;
    Ok(String::new())
}

fn request_response(c: &Ctx) -> Result<Done> {
    let (request, reply) = (c.topic("request"), c.topic("reply"));
    let correlation = format!("corr-{}", c.lib.name()).into_bytes();
    let mut responder = c.connect("responder", |_| {})?;
    subscribe(&mut responder, &request, 1)?;
    let mut requester = c.connect("requester", |_| {})?;
    subscribe(&mut requester, &reply, 1)?;
    let props = Props {
        response_topic: Some(reply.clone()),
        correlation: Some(correlation.clone()),
        ..Props::default()
    };
    requester.publish(&request, b"question", 1, false, &props)?;
    let q = expect(&mut responder, "request")?;
    ensure!(
        q.props.response_topic.as_ref() == Some(&reply),
        "response topic {:?}",
        q.props.response_topic
    );
    ensure!(
        q.props.correlation.as_ref() == Some(&correlation),
        "correlation data {:?}",
        q.props.correlation
    );
    let answer = Props {
        correlation: q.props.correlation.clone(),
        ..Props::default()
    };
    responder.publish(&reply, b"answer", 1, false, &answer)?;
    let a = expect(&mut requester, "response")?;
    same_payload(&a.payload, b"answer")?;
    ensure!(
        a.props.correlation.as_ref() == Some(&correlation),
        "response correlation data {:?}",
        a.props.correlation
    );
    responder.disconnect()?;
    requester.disconnect()?;
    Ok(String::new())
}

fn subscription_identifiers(c: &Ctx) -> Result<Done> {
    let topic = c.topic("x");
    let mut conn = c.connect("a", |_| {})?;
    for (filter, id) in [(c.topic("+"), 7), (topic.clone(), 9)] {
        let code = conn.subscribe(&filter, 1, Some(id))?;
        ensure!(
            code == 1,
            "SUBACK for {filter} (identifier {id}): 0x{code:02x}"
        );
    }
    conn.publish(&topic, b"hello", 1, false, &Props::default())?;
    // One copy per subscription, or one copy with both identifiers: both are allowed.
    let mut copies = Vec::new();
    let deadline = Instant::now() + ARRIVE;
    let want = BTreeSet::from([7, 9]);
    let mut seen = BTreeSet::new();
    while seen != want {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        let Some(m) = conn.recv(left)? else { break };
        seen.extend(m.props.sub_ids.iter().copied());
        copies.push(m.props.sub_ids);
    }
    // A copy too many would come right after.
    if let Some(m) = conn.recv(Duration::from_millis(300))? {
        copies.push(m.props.sub_ids);
    }
    conn.disconnect()?;
    let ok = seen == want
        && copies.len() <= 2
        && copies
            .iter()
            .all(|ids| !ids.is_empty() && ids.iter().all(|i| want.contains(i)));
    ensure!(
        ok,
        "identifiers per delivered copy: {copies:?}, expected [7] and [9], or [7, 9]"
    );
    Ok(format!("identifiers per copy: {copies:?}"))
}

fn refused_subscription(c: &Ctx) -> Result<Done> {
    let mut conn = c.connect("a", |_| {})?;
    let code = conn.subscribe("interop/denied", 1, None)?;
    conn.disconnect()?;
    ensure!(
        code == 0x87,
        "SUBACK 0x{code:02x}, expected 0x87 (Not authorized)"
    );
    Ok(String::new())
}
