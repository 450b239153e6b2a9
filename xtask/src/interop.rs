//! `cargo xtask interop`: real third-party clients against a live Tern (or another broker).
//!
//! Every library has a driver that follows the contract in `interop/README.md`; this file only
//! starts processes, reads their JSON lines and puts the results in a matrix. Runs:
//! 1. each client's own `suite` (four at a time, each bounded);
//! 2. the cross-library matrix: a QoS 2 message with the standard properties from every v5
//!    library to a subscriber of every v5 library;
//! 3. a shared subscription whose members come from different libraries.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{cargo, root, target_dir};

/// Longest a client's whole suite may take.
const SUITE_TIMEOUT: Duration = Duration::from_secs(180);
/// Suites run at once (the machine may have two cores; most time is waiting).
const PARALLEL_SUITES: usize = 4;

/// The drivers and the client names each one serves, in matrix order.
const CLIENTS: &[(&str, Driver)] = &[
    ("rumqttc-v4", Driver::Rust),
    ("rumqttc-v5", Driver::Rust),
    ("paho-rust-v3", Driver::Rust),
    ("paho-rust-v5", Driver::Rust),
    ("paho-python-v3.1", Driver::Python),
    ("paho-python-v3.1.1", Driver::Python),
    ("paho-python-v5", Driver::Python),
    ("mqttjs-v3.1.1", Driver::Node),
    ("mqttjs-v5", Driver::Node),
    ("mosquitto-v3.1.1", Driver::Python),
    ("mosquitto-v5", Driver::Python),
];

/// One v5 client per library: the publishers and subscribers of the cross-library runs.
const V5_LIBRARIES: &[&str] = &[
    "rumqttc-v5",
    "paho-rust-v5",
    "paho-python-v5",
    "mqttjs-v5",
    "mosquitto-v5",
];

#[derive(Clone, Copy, Debug)]
enum Driver {
    Rust,
    Python,
    Node,
}

/// Where the broker under test listens.
struct Target {
    host: String,
    port: u16,
    ws_port: Option<u16>,
}

/// One result line.
#[derive(Clone, Debug)]
struct Outcome {
    client: String,
    scenario: String,
    result: String,
    detail: String,
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut external: Option<String> = None;
    let mut ws_port = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--broker" => external = Some(it.next().ok_or("--broker HOST:PORT")?.clone()),
            "--ws-port" => {
                ws_port = Some(
                    it.next()
                        .and_then(|p| p.parse().ok())
                        .ok_or("--ws-port PORT")?,
                )
            }
            other => return Err(format!("interop: unexpected argument {other:?}")),
        }
    }
    setup()?;
    cargo(&["build", "-p", "tern", "-p", "tern-interop", "--locked"])?;
    let out_dir = root().join("target/interop");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;

    let (broker, target, broker_name) = match external {
        Some(addr) => {
            let (host, port) = addr
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_owned(), p.parse().ok()?)))
                .ok_or("--broker HOST:PORT")?;
            let target = Target {
                host,
                port,
                ws_port,
            };
            (None, target, addr)
        }
        None => {
            let (child, target) = start_tern(&out_dir)?;
            let name = format!("Tern (target/debug/tern, port {})", target.port);
            (Some(KillOnDrop(child)), target, name)
        }
    };

    let started = Instant::now();
    let mut outcomes = run_suites(&target, &out_dir);
    let matrix = run_matrix(&target, &out_dir);
    let shared = run_shared(&target, &out_dir);
    drop(broker);

    outcomes.extend(
        matrix
            .iter()
            .map(|(publisher, subscriber, outcome)| Outcome {
                client: format!("matrix {publisher} -> {subscriber}"),
                scenario: "matrix".into(),
                result: outcome.result.clone(),
                detail: outcome.detail.clone(),
            }),
    );
    outcomes.push(shared.clone());
    let report = render(&broker_name, &outcomes, &matrix, &shared, started.elapsed());
    let path = out_dir.join("report.md");
    std::fs::write(&path, &report).map_err(|e| e.to_string())?;
    print!("{report}");
    let passed = outcomes.iter().filter(|o| o.result == "pass").count();
    let failed = outcomes.iter().filter(|o| o.result == "fail").count();
    println!("report: {}", path.display());
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        Err(format!("{failed} interop results failed"))
    } else {
        Ok(())
    }
}

/// Installs the clients and the Debian packages the workspace build needs (cmake for the Paho
/// C library): `interop/setup.sh`, which does only what is missing.
pub fn setup() -> Result<(), String> {
    let setup = root().join("interop/setup.sh");
    let status = Command::new(&setup)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", setup.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err("interop/setup.sh failed".into())
    }
}

/// Kills the broker it holds when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tern start --config interop/tern.toml` and reads its ports from the log.
fn start_tern(out_dir: &Path) -> Result<(Child, Target), String> {
    // A fresh store (interop/tern.toml keeps its state here): no session of an earlier run.
    let data = out_dir.join("tern-data");
    if data.exists() {
        std::fs::remove_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    }
    let bin = target_dir().join("debug/tern");
    let mut child = Command::new(&bin)
        .args(["start", "--config"])
        .arg(root().join("interop/tern.toml"))
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stderr = child.stderr.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    let log_path = out_dir.join("tern.log");
    thread::spawn(move || {
        let mut log = std::fs::File::create(log_path).ok();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(log) = log.as_mut() {
                use std::io::Write;
                let _ = writeln!(log, "{line}");
            }
            let _ = tx.send(line);
        }
    });
    let (mut port, mut ws_port) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(10);
    while port.is_none() || ws_port.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .map_err(|_| "tern did not report its listeners within 10 s".to_owned())?;
        let Some(rest) = line.split("listening on ").nth(1) else {
            continue;
        };
        let addr = rest.split_whitespace().next().unwrap_or_default();
        let p: Option<u16> = addr.rsplit(':').next().and_then(|p| p.parse().ok());
        if rest.contains("WebSocket") {
            ws_port = p;
        } else {
            port = p;
        }
    }
    let target = Target {
        host: "127.0.0.1".into(),
        port: port.expect("read above"),
        ws_port,
    };
    println!(
        "tern listening on 127.0.0.1:{} (WebSocket {})",
        target.port,
        target.ws_port.unwrap_or_default()
    );
    Ok((child, target))
}

/// The command that runs a driver.
fn driver_command(driver: Driver) -> Command {
    let interop = root().join("interop");
    match driver {
        Driver::Rust => Command::new(target_dir().join("debug/tern-interop")),
        Driver::Python => {
            let mut c = Command::new(interop.join(".venv/bin/python"));
            c.arg(interop.join("python/driver.py"));
            c
        }
        Driver::Node => {
            let mut c = Command::new("node");
            c.arg(interop.join("node/driver.mjs"));
            c
        }
    }
}

fn base_args(target: &Target, client: &str) -> Vec<String> {
    vec![
        "--client".into(),
        client.into(),
        "--host".into(),
        target.host.clone(),
        "--port".into(),
        target.port.to_string(),
    ]
}

/// A running driver whose stdout lines arrive on a channel and whose stderr is kept.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

fn spawn(mut command: Command) -> Result<Running, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped");
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let err = child.stderr.take().expect("piped");
    let keep = stderr.clone();
    thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let mut s = keep.lock().unwrap_or_else(|e| e.into_inner());
            if s.len() < 8192 {
                s.push_str(&line);
                s.push('\n');
            }
        }
    });
    Ok(Running {
        child,
        lines,
        stderr,
    })
}

impl Running {
    /// The next JSON line, or `None` at the end of output or the deadline.
    fn next_json(&self, deadline: Instant) -> Option<Value> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).ok()?;
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                return Some(v);
            }
        }
    }

    fn stderr_tail(&self) -> String {
        let s = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let lines: Vec<&str> = s.lines().rev().take(5).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Runs one suite to its end (or its timeout) and returns its result lines.
fn run_suite(label: &str, mut command: Command, target: &Target) -> Vec<Outcome> {
    if let Some(ws) = target.ws_port {
        command.args(["--ws-port", &ws.to_string()]);
    }
    let running = match spawn(command) {
        Ok(r) => r,
        Err(e) => return vec![failure(label, "(driver)", e)],
    };
    let deadline = Instant::now() + SUITE_TIMEOUT;
    let mut out = Vec::new();
    while let Some(v) = running.next_json(deadline) {
        if v.get("scenario").is_some() {
            out.push(Outcome {
                client: text(&v, "client"),
                scenario: text(&v, "scenario"),
                result: text(&v, "result"),
                detail: text(&v, "detail"),
            });
        }
    }
    if Instant::now() >= deadline {
        out.push(failure(
            label,
            "(driver)",
            format!("suite did not finish in {SUITE_TIMEOUT:?}"),
        ));
    } else if out.is_empty() {
        out.push(failure(
            label,
            "(driver)",
            format!("no results; stderr: {}", running.stderr_tail()),
        ));
    }
    running.stop();
    out
}

fn failure(client: &str, scenario: &str, detail: String) -> Outcome {
    Outcome {
        client: client.into(),
        scenario: scenario.into(),
        result: "fail".into(),
        detail,
    }
}

/// Every client's suite, and the clean-room Paho topics, a few at a time.
fn run_suites(target: &Target, out_dir: &Path) -> Vec<Outcome> {
    let mut jobs: Vec<(String, Command)> = CLIENTS
        .iter()
        .map(|(client, driver)| {
            let mut c = driver_command(*driver);
            c.arg("suite").args(base_args(target, client));
            (client.to_string(), c)
        })
        .collect();
    let interop = root().join("interop");
    let mut topics = Command::new(interop.join(".venv/bin/python"));
    topics.arg(interop.join("python/paho_topics.py")).args([
        "--host",
        &target.host,
        "--port",
        &target.port.to_string(),
    ]);
    jobs.push(("paho-topics".into(), topics));

    let (tx, rx) = mpsc::channel();
    let mut pending = jobs.into_iter();
    let mut running = 0;
    let mut results = Vec::new();
    loop {
        while running < PARALLEL_SUITES {
            let Some((label, command)) = pending.next() else {
                break;
            };
            let tx = tx.clone();
            let target = Target {
                host: target.host.clone(),
                port: target.port,
                ws_port: target.ws_port,
            };
            println!("interop: suite {label}");
            thread::spawn(move || {
                let _ = tx.send(run_suite(&label, command, &target));
            });
            running += 1;
        }
        if running == 0 {
            break;
        }
        if let Ok(batch) = rx.recv() {
            results.extend(batch);
        }
        running -= 1;
    }
    let _ = std::fs::write(
        out_dir.join("suites.txt"),
        results
            .iter()
            .map(|o| format!("{} {} {} {}\n", o.client, o.scenario, o.result, o.detail))
            .collect::<String>(),
    );
    results
}

/// Starts a `sub` for each library and waits until each is subscribed.
fn start_subscribers(
    target: &Target,
    filter: &str,
    count: usize,
    timeout_s: u64,
    qos: u8,
) -> Vec<(&'static str, Result<Running, String>)> {
    let mut subs = Vec::new();
    for name in V5_LIBRARIES {
        let driver = CLIENTS.iter().find(|(c, _)| c == name).expect("listed").1;
        let mut c = driver_command(driver);
        c.arg("sub")
            .args(base_args(target, name))
            .args(["--filter", filter])
            .args(["--count", &count.to_string()])
            .args(["--timeout", &timeout_s.to_string()])
            .args(["--qos", &qos.to_string()]);
        let running = spawn(c).and_then(|r| {
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                match r.next_json(deadline) {
                    Some(v) if text(&v, "event") == "ready" => return Ok(r),
                    Some(_) => continue,
                    None => {
                        let why = format!("never ready; stderr: {}", r.stderr_tail());
                        r.stop();
                        return Err(why);
                    }
                }
            }
        });
        subs.push((*name, running));
    }
    subs
}

/// Runs one `pub` to its end.
fn publish(target: &Target, name: &str, extra: &[&str]) -> Result<(), String> {
    let driver = CLIENTS.iter().find(|(c, _)| *c == name).expect("listed").1;
    let mut c = driver_command(driver);
    c.arg("pub").args(base_args(target, name)).args(extra);
    let r = spawn(c)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let result = loop {
        match r.next_json(deadline) {
            Some(v) if text(&v, "event") == "published" => break Ok(()),
            Some(_) => continue,
            None => break Err(format!("{name} pub failed; stderr: {}", r.stderr_tail())),
        }
    };
    r.stop();
    result
}

/// Reads a subscriber's messages until it is done.
fn collect(r: Running, timeout: Duration) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    let mut messages = Vec::new();
    while let Some(v) = r.next_json(deadline) {
        match text(&v, "event").as_str() {
            "message" => messages.push(v),
            "done" => break,
            _ => {}
        }
    }
    r.stop();
    messages
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a subscriber must see of a message `publisher` sent with `--props`.
fn check_properties(publisher: &str, m: &Value) -> Result<(), String> {
    let p = m.get("properties").cloned().unwrap_or(Value::Null);
    let want_users = serde_json::json!([["origin", publisher], ["k", "v"]]);
    let mut problems = Vec::new();
    if p.get("user_property") != Some(&want_users) {
        problems.push(format!("user_property {:?}", p.get("user_property")));
    }
    let expect = |key: &str, want: Value, problems: &mut Vec<String>| {
        if p.get(key) != Some(&want) {
            problems.push(format!("{key} {:?}", p.get(key)));
        }
    };
    expect(
        "content_type",
        "application/x-tern-interop".into(),
        &mut problems,
    );
    expect(
        "response_topic",
        format!("interop/reply/{publisher}").into(),
        &mut problems,
    );
    expect(
        "correlation_data_hex",
        hex(format!("corr-{publisher}").as_bytes()).into(),
        &mut problems,
    );
    expect("payload_format_indicator", 1.into(), &mut problems);
    match p.get("message_expiry_interval").and_then(Value::as_u64) {
        Some(e) if (1..=300).contains(&e) => {}
        other => problems.push(format!("message_expiry_interval {other:?}")),
    }
    if m.get("qos").and_then(Value::as_u64) != Some(2) {
        problems.push(format!("qos {:?}", m.get("qos")));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join(", "))
    }
}

/// Every v5 library publishes one QoS 2 message with the standard properties; every v5
/// library subscribes. Returns (publisher, subscriber, outcome) per cell.
fn run_matrix(target: &Target, out_dir: &Path) -> Vec<(String, String, Outcome)> {
    println!("interop: cross-library matrix");
    let n = V5_LIBRARIES.len();
    let subs = start_subscribers(target, "interop/matrix/#", n, 40, 2);
    let mut publish_errors = BTreeMap::new();
    for publisher in V5_LIBRARIES {
        let topic = format!("interop/matrix/{publisher}");
        let payload = hex(format!("from-{publisher}").as_bytes());
        let args = [
            "--topic",
            &topic,
            "--qos",
            "2",
            "--payload-hex",
            &payload,
            "--props",
        ];
        if let Err(e) = publish(target, publisher, &args) {
            publish_errors.insert(*publisher, e);
        }
    }
    let mut cells = Vec::new();
    let mut log = String::new();
    for (subscriber, running) in subs {
        let messages = match running {
            Ok(r) => Ok(collect(r, Duration::from_secs(45))),
            Err(e) => Err(e),
        };
        for publisher in V5_LIBRARIES {
            let outcome = match (&messages, publish_errors.get(publisher)) {
                (_, Some(e)) => failure("", "", format!("publisher failed: {e}")),
                (Err(e), _) => failure("", "", format!("subscriber failed: {e}")),
                (Ok(msgs), None) => {
                    let payload = hex(format!("from-{publisher}").as_bytes());
                    let found: Vec<&Value> = msgs
                        .iter()
                        .filter(|m| text(m, "payload_hex") == payload)
                        .collect();
                    match found.as_slice() {
                        [] => failure("", "", "not received".into()),
                        [m] => match check_properties(publisher, m) {
                            Ok(()) => Outcome {
                                client: String::new(),
                                scenario: String::new(),
                                result: "pass".into(),
                                detail: String::new(),
                            },
                            Err(e) => failure("", "", e),
                        },
                        more => failure("", "", format!("received {} times", more.len())),
                    }
                }
            };
            log.push_str(&format!(
                "{publisher} -> {subscriber}: {} {}\n",
                outcome.result, outcome.detail
            ));
            cells.push((publisher.to_string(), subscriber.to_string(), outcome));
        }
    }
    let _ = std::fs::write(out_dir.join("matrix.txt"), log);
    cells
}

/// Members from every v5 library share one subscription; 40 QoS 1 messages must each reach
/// exactly one of them.
fn run_shared(target: &Target, _out_dir: &Path) -> Outcome {
    println!("interop: shared subscription across libraries");
    const COUNT: usize = 40;
    let subs = start_subscribers(target, "$share/interop/interop/shared/#", COUNT, 12, 1);
    let mut members = 0;
    let mut running = Vec::new();
    let mut problems = Vec::new();
    for (name, r) in subs {
        match r {
            Ok(r) => {
                members += 1;
                running.push((name, r));
            }
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    let payload = hex(b"shared-");
    if let Err(e) = publish(
        target,
        "paho-python-v5",
        &[
            "--topic",
            "interop/shared/x",
            "--qos",
            "1",
            "--payload-hex",
            &payload,
            "--count",
            &COUNT.to_string(),
        ],
    ) {
        problems.push(e);
    }
    let mut seen: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut per_member = Vec::new();
    for (name, r) in running {
        let messages = collect(r, Duration::from_secs(20));
        per_member.push(format!("{name} {}", messages.len()));
        for m in messages {
            seen.entry(text(&m, "payload_hex")).or_default().push(name);
        }
    }
    let distinct: BTreeSet<&String> = seen.keys().collect();
    let duplicated = seen.values().filter(|v| v.len() > 1).count();
    if distinct.len() != COUNT {
        problems.push(format!("{} of {COUNT} messages arrived", distinct.len()));
    }
    if duplicated > 0 {
        problems.push(format!(
            "{duplicated} messages reached more than one member"
        ));
    }
    Outcome {
        client: format!("shared ({members} libraries)"),
        scenario: "shared-subscription".into(),
        result: if problems.is_empty() { "pass" } else { "fail" }.into(),
        detail: format!("{}; {}", per_member.join(", "), problems.join("; ")),
    }
}

fn render(
    broker: &str,
    outcomes: &[Outcome],
    matrix: &[(String, String, Outcome)],
    shared: &Outcome,
    elapsed: Duration,
) -> String {
    let mut s = format!(
        "# Interoperability report\n\nBroker: {broker}. Run time {:.0} s.\n\n## Client × scenario\n\n",
        elapsed.as_secs_f64()
    );
    let suites: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.scenario != "matrix" && o.scenario != "shared-subscription")
        .collect();
    let mut clients: Vec<&str> = Vec::new();
    let mut scenarios: Vec<&str> = Vec::new();
    for o in &suites {
        if !clients.contains(&o.client.as_str()) {
            clients.push(&o.client);
        }
        if !scenarios.contains(&o.scenario.as_str()) {
            scenarios.push(&o.scenario);
        }
    }
    // Client suites first, in the order of CLIENTS; the Paho topics after.
    clients.sort_by_key(|c| {
        CLIENTS
            .iter()
            .position(|(n, _)| n == c)
            .unwrap_or(usize::MAX)
    });
    let cell = |client: &str, scenario: &str| -> &str {
        match suites
            .iter()
            .find(|o| o.client == client && o.scenario == scenario)
            .map(|o| o.result.as_str())
        {
            Some("pass") => "pass",
            Some("fail") => "**FAIL**",
            Some("skip") => "skip",
            Some(_) => "?",
            None => "",
        }
    };
    let (libraries, topics): (Vec<&str>, Vec<&str>) =
        clients.iter().partition(|c| !c.starts_with("paho-topics"));
    for group in [libraries, topics] {
        if group.is_empty() {
            continue;
        }
        let rows: Vec<&str> = scenarios
            .iter()
            .copied()
            .filter(|sc| group.iter().any(|c| !cell(c, sc).is_empty()))
            .collect();
        s.push_str("| scenario |");
        for c in &group {
            s.push_str(&format!(" {c} |"));
        }
        s.push_str("\n|---|");
        s.push_str(&"---|".repeat(group.len()));
        s.push('\n');
        for sc in rows {
            s.push_str(&format!("| {sc} |"));
            for c in &group {
                s.push_str(&format!(" {} |", cell(c, sc)));
            }
            s.push('\n');
        }
        s.push('\n');
    }
    s.push_str("## Cross-library matrix (QoS 2, standard properties; rows publish, columns subscribe)\n\n| publisher |");
    for sub in V5_LIBRARIES {
        s.push_str(&format!(" {sub} |"));
    }
    s.push_str("\n|---|");
    s.push_str(&"---|".repeat(V5_LIBRARIES.len()));
    s.push('\n');
    for publisher in V5_LIBRARIES {
        s.push_str(&format!("| {publisher} |"));
        for sub in V5_LIBRARIES {
            let r = matrix
                .iter()
                .find(|(p, q, _)| p == publisher && q == sub)
                .map(|(_, _, o)| {
                    if o.result == "pass" {
                        "pass"
                    } else {
                        "**FAIL**"
                    }
                })
                .unwrap_or("");
            s.push_str(&format!(" {r} |"));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "\n## Shared subscription across libraries\n\n{}: {} ({})\n",
        shared.client, shared.result, shared.detail
    ));
    let problems: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.result == "fail" || o.result == "skip")
        .collect();
    if !problems.is_empty() {
        s.push_str("\n## Failures and skips\n\n");
        for o in problems {
            s.push_str(&format!(
                "- {} {} {}: {}\n",
                o.result, o.client, o.scenario, o.detail
            ));
        }
    }
    s.push('\n');
    s
}
