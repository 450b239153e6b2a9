//! `tern-interop`: the interoperability driver of the Rust MQTT clients (rumqttc v4 and v5
//! APIs, paho-mqtt v3 and v5), following the driver contract of `interop/README.md`:
//!
//! ```text
//! tern-interop suite --client NAME --host H --port P [--ws-port W]
//! tern-interop sub   --client NAME --host H --port P --filter F --count N --timeout S [--qos Q] [--id ID]
//! tern-interop pub   --client NAME --host H --port P --topic T --qos Q --payload-hex X [--count N] [--props]
//! ```
//!
//! Output is JSON lines on standard output. (`will-child` is internal: the will scenario's
//! client A, which the suite kills.)

mod client;
mod paho;
mod pump;
mod rumqttc_v4;
mod rumqttc_v5;
mod scenario;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};

use client::{ConnectOpts, Library, Msg, Props};

static RUMQTTC_V4: rumqttc_v4::RumqttcV4 = rumqttc_v4::RumqttcV4;
static RUMQTTC_V5: rumqttc_v5::RumqttcV5 = rumqttc_v5::RumqttcV5;
static PAHO_V3: paho::Paho = paho::Paho { v5: false };
static PAHO_V5: paho::Paho = paho::Paho { v5: true };

fn library(name: &str) -> Result<&'static dyn Library> {
    Ok(match name {
        "rumqttc-v4" => &RUMQTTC_V4,
        "rumqttc-v5" => &RUMQTTC_V5,
        "paho-rust-v3" => &PAHO_V3,
        "paho-rust-v5" => &PAHO_V5,
        other => {
            bail!("unknown client {other:?} (rumqttc-v4, rumqttc-v5, paho-rust-v3, paho-rust-v5)")
        }
    })
}

/// `--flag value` pairs, and `--props` (the only flag without a value).
struct Args(HashMap<String, String>);

impl Args {
    fn parse(args: &[String]) -> Result<Args> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let key = flag
                .strip_prefix("--")
                .with_context(|| format!("unexpected argument {flag:?}"))?;
            let value = if key == "props" {
                String::new()
            } else {
                it.next()
                    .with_context(|| format!("{flag} needs a value"))?
                    .clone()
            };
            map.insert(key.to_owned(), value);
        }
        Ok(Args(map))
    }

    fn get(&self, key: &str) -> Result<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .with_context(|| format!("missing --{key}"))
    }

    fn num<T: std::str::FromStr>(&self, key: &str, default: Option<T>) -> Result<T> {
        match (self.0.get(key), default) {
            (Some(v), _) => v.parse().ok().with_context(|| format!("bad --{key} {v:?}")),
            (None, Some(d)) => Ok(d),
            (None, None) => bail!("missing --{key}"),
        }
    }
}

fn emit(v: Value) {
    println!("{v}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        bail!("odd-length hex {s:?}");
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).with_context(|| format!("bad hex {s:?}")))
        .collect()
}

/// A received message as the `sub` mode prints it.
fn message_json(m: &Msg) -> Value {
    let p = &m.props;
    let mut props = Map::new();
    if !p.user.is_empty() {
        props.insert("user_property".into(), json!(p.user));
    }
    if let Some(ct) = &p.content_type {
        props.insert("content_type".into(), json!(ct));
    }
    if let Some(rt) = &p.response_topic {
        props.insert("response_topic".into(), json!(rt));
    }
    if let Some(cd) = &p.correlation {
        props.insert("correlation_data_hex".into(), json!(hex(cd)));
    }
    if let Some(pfi) = p.payload_format {
        props.insert("payload_format_indicator".into(), json!(pfi));
    }
    if let Some(e) = p.expiry {
        props.insert("message_expiry_interval".into(), json!(e));
    }
    json!({
        "event": "message", "topic": m.topic, "qos": m.qos, "retain": m.retain,
        "payload_hex": hex(&m.payload), "properties": props,
    })
}

/// The standard property set of `pub --props`.
fn standard_props(client: &str) -> Props {
    Props {
        user: vec![("origin".into(), client.into()), ("k".into(), "v".into())],
        content_type: Some("application/x-tern-interop".into()),
        response_topic: Some(format!("interop/reply/{client}")),
        correlation: Some(format!("corr-{client}").into_bytes()),
        payload_format: Some(1),
        expiry: Some(300),
        ..Props::default()
    }
}

fn suite(lib: &'static dyn Library, host: &str, port: u16) {
    let ctx = scenario::Ctx {
        lib,
        host: host.to_owned(),
        port,
        scenario: "",
    };
    scenario::run_suite(&ctx, |scenario, result, detail| {
        emit(
            json!({"client": lib.name(), "scenario": scenario, "result": result, "detail": detail}),
        );
    });
}

fn sub(lib: &'static dyn Library, host: &str, port: u16, a: &Args) -> Result<()> {
    let filter = a.get("filter")?;
    let count: usize = a.num("count", None)?;
    let timeout: f64 = a.num("timeout", None)?;
    let qos: u8 = a.num("qos", Some(2))?;
    let id = match a.get("id") {
        Ok(id) => id.to_owned(),
        Err(_) => format!("{}-sub-{}", lib.name(), std::process::id()),
    };
    let mut conn = lib.connect(host, port, &ConnectOpts::new(id))?;
    let code = conn.subscribe(filter, qos, None)?;
    if code >= 0x80 {
        bail!("subscription to {filter} refused: 0x{code:02x}");
    }
    emit(json!({"event": "ready"}));
    let deadline = Instant::now() + Duration::from_secs_f64(timeout);
    let mut received = 0;
    while received < count {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        match conn.recv(left.min(Duration::from_millis(500)))? {
            Some(m) => {
                emit(message_json(&m));
                received += 1;
            }
            None if !conn.is_connected() => {
                eprintln!("tern-interop: connection lost after {received} messages");
                break;
            }
            None => {}
        }
    }
    emit(json!({"event": "done", "received": received}));
    let _ = conn.disconnect();
    Ok(())
}

fn publish(lib: &'static dyn Library, host: &str, port: u16, a: &Args) -> Result<()> {
    let topic = a.get("topic")?;
    let qos: u8 = a.num("qos", None)?;
    let payload = unhex(a.get("payload-hex")?)?;
    let count: usize = a.num("count", Some(1))?;
    let props = if a.0.contains_key("props") {
        if !lib.v5() {
            bail!("--props needs a v5 client");
        }
        standard_props(lib.name())
    } else {
        Props::default()
    };
    let id = format!("{}-pub-{}", lib.name(), std::process::id());
    let mut conn = lib.connect(host, port, &ConnectOpts::new(id))?;
    for i in 0..count {
        let mut p = payload.clone();
        if count > 1 {
            p.push(i as u8);
        }
        conn.publish(topic, &p, qos, false, &props)
            .with_context(|| format!("publish {} of {count}", i + 1))?;
    }
    emit(json!({"event": "published", "count": count}));
    conn.disconnect()?;
    Ok(())
}

/// Client A of the will scenario: connects with a will, says so, then waits to be killed.
fn will_child(lib: &'static dyn Library, host: &str, port: u16, a: &Args) -> Result<()> {
    let mut o = ConnectOpts::new(a.get("id")?);
    o.will = Some((
        a.get("topic")?.to_owned(),
        scenario::will_payload(lib.name()).into_bytes(),
    ));
    let _conn = lib.connect(host, port, &o)?;
    emit(json!({"event": "ready"}));
    std::thread::sleep(Duration::from_secs(30));
    Ok(())
}

fn run() -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (mode, rest) = argv
        .split_first()
        .context("usage: tern-interop suite|sub|pub --client NAME ...")?;
    let a = Args::parse(rest)?;
    let lib = library(a.get("client")?)?;
    let host = a.get("host")?.to_owned();
    let port: u16 = a.num("port", None)?;
    match mode.as_str() {
        "suite" => {
            suite(lib, &host, port);
            Ok(())
        }
        "sub" => sub(lib, &host, port, &a),
        "pub" => publish(lib, &host, port, &a),
        "will-child" => will_child(lib, &host, port, &a),
        other => bail!("unknown mode {other:?} (suite, sub, pub)"),
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("tern-interop: {e:#}");
        std::process::exit(1);
    }
    // Paho and tokio threads may still hold connections: leave without waiting for them.
    std::process::exit(0);
}
