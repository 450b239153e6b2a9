//! `cargo xtask bench`: Tern against other brokers, side by side, in one run.
//!
//! Builds Tern and the load generator (`tern-benches`' `loadgen`) in release, then for every
//! scenario runs each broker in turn (A B A B ...) for several rounds. Each run gets a freshly
//! started broker on a free loopback port, pinned to one core while the load generator is
//! pinned to another (when the machine has two cores and `taskset`). The load generator prints
//! one JSON line per run; this collects them into `target/bench/results.jsonl`, then writes
//! `target/bench/report.md` (median and min-max per broker and scenario, the ratio Tern / each
//! peer, loss and duplicates) and `target/bench/plot.svg`. The broker's RSS is sampled every
//! 100 ms by the load generator, which is given the broker's PID (`taskset` execs, so the
//! child's PID is the broker's).

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{cargo, root};

/// A scenario: an id, the load generator's arguments (full and quick), and its headline figure.
struct Scenario {
    id: String,
    family: &'static str,
    args: Vec<String>,
    quick: Vec<String>,
    metric: Metric,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Metric {
    /// Delivered messages per second (higher is better).
    Throughput,
    /// p99 end-to-end latency in microseconds (lower is better).
    LatencyP99,
    /// Seconds until every message arrived and every PUBACK came back (lower is better).
    Completion,
    /// Broker RSS per idle connection, KiB (lower is better).
    RssPerConnection,
}

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "delivered msg/s",
            Metric::LatencyP99 => "p99 latency (µs)",
            Metric::Completion => "time to deliver and acknowledge all (s)",
            Metric::RssPerConnection => "broker RSS per idle connection (KiB)",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Metric::Throughput => "msg/s",
            Metric::LatencyP99 => "p99",
            Metric::Completion => "seconds",
            Metric::RssPerConnection => "KiB/conn",
        }
    }

    fn higher_is_better(self) -> bool {
        self == Metric::Throughput
    }

    fn value(self, run: &Value) -> Option<f64> {
        match self {
            Metric::Throughput => run["delivered_per_s"].as_f64(),
            Metric::LatencyP99 => run["latency_us"]["p99"].as_f64(),
            Metric::Completion => run["complete_s"].as_f64(),
            Metric::RssPerConnection => run["rss_per_connection_kib"].as_f64(),
        }
    }

    fn format(self, v: f64) -> String {
        match self {
            Metric::Throughput => si(v),
            Metric::LatencyP99 => format_us(v),
            Metric::Completion => format!("{v:.2} s"),
            Metric::RssPerConnection => format!("{v:.2} KiB"),
        }
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for qos in ["0", "1", "2"] {
        let throughput = [
            (
                "fanin",
                vec!["--publishers", "8", "--count", "1000000"],
                vec!["--publishers", "8", "--count", "40000"],
            ),
            (
                "fanout",
                vec!["--subscribers", "100", "--count", "20000"],
                vec!["--subscribers", "100", "--count", "400"],
            ),
            (
                "pairs",
                vec!["--pairs", "50", "--count", "1000000"],
                vec!["--pairs", "50", "--count", "40000"],
            ),
            (
                "shared",
                vec![
                    "--publishers",
                    "8",
                    "--subscribers",
                    "4",
                    "--count",
                    "1000000",
                ],
                vec![
                    "--publishers",
                    "8",
                    "--subscribers",
                    "4",
                    "--count",
                    "40000",
                ],
            ),
        ];
        for (family, full, quick) in throughput {
            let base = ["--scenario", family, "--qos", qos];
            out.push(Scenario {
                id: format!("{family}-q{qos}"),
                family,
                args: strings(&[&base[..], &full[..]].concat()),
                quick: strings(&[&base[..], &quick[..]].concat()),
                metric: Metric::Throughput,
            });
        }
    }
    for qos in ["0", "1", "2"] {
        let base = ["--scenario", "latency", "--qos", qos, "--rate", "10000"];
        out.push(Scenario {
            id: format!("latency-q{qos}"),
            family: "latency",
            args: strings(&[&base[..], &["--duration", "10"]].concat()),
            quick: strings(&[&base[..], &["--duration", "2"]].concat()),
            metric: Metric::LatencyP99,
        });
    }
    out.push(Scenario {
        id: "million-q1".into(),
        family: "million",
        args: strings(&["--scenario", "million", "--qos", "1", "--count", "1000000"]),
        quick: strings(&["--scenario", "million", "--qos", "1", "--count", "50000"]),
        metric: Metric::Completion,
    });
    out.push(Scenario {
        id: "connections".into(),
        family: "connections",
        args: strings(&[
            "--scenario",
            "connections",
            "--connections",
            "10000",
            "--hold",
            "3",
        ]),
        quick: strings(&[
            "--scenario",
            "connections",
            "--connections",
            "1000",
            "--hold",
            "1.5",
        ]),
        metric: Metric::RssPerConnection,
    });
    out
}

struct Options {
    quick: bool,
    rounds: usize,
    scenarios: Vec<String>,
    compare: Vec<String>,
    payload: usize,
    window: Option<u64>,
    inflight: Option<u16>,
    tern_set: Vec<(String, String)>,
    broker_cpus: String,
    load_cpus: String,
    pin: bool,
}

fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options {
        quick: false,
        rounds: 0,
        scenarios: Vec::new(),
        compare: vec!["mosquitto".into(), "rumqttd".into()],
        payload: 64,
        window: None,
        inflight: None,
        tern_set: Vec::new(),
        broker_cpus: "0".into(),
        load_cpus: "1".into(),
        pin: true,
    };
    let mut it = args.iter();
    let list = |v: Option<&String>, flag: &str| -> Result<Vec<String>, String> {
        let v = v.ok_or(format!("{flag} takes a comma-separated list"))?;
        Ok(v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect())
    };
    fn number<T: std::str::FromStr>(v: Option<&String>, flag: &str) -> Result<T, String> {
        v.and_then(|s| s.parse().ok())
            .ok_or(format!("{flag} takes a number"))
    }
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => o.quick = true,
            "--rounds" => o.rounds = number(it.next(), "--rounds")?,
            "--scenarios" => o.scenarios = list(it.next(), "--scenarios")?,
            "--compare" => {
                o.compare = list(it.next(), "--compare")?;
                o.compare.retain(|b| b != "none");
            }
            "--payload" => o.payload = number(it.next(), "--payload")?,
            "--window" => o.window = Some(number(it.next(), "--window")?),
            "--inflight" => o.inflight = Some(number(it.next(), "--inflight")?),
            "--tern-set" => {
                let kv = it.next().ok_or("--tern-set takes KEY=VALUE")?;
                let (k, v) = kv.split_once('=').ok_or("--tern-set takes KEY=VALUE")?;
                o.tern_set.push((k.trim().into(), v.trim().into()));
            }
            "--broker-cpus" => {
                o.broker_cpus = it.next().ok_or("--broker-cpus takes a list")?.clone()
            }
            "--load-cpus" => o.load_cpus = it.next().ok_or("--load-cpus takes a list")?.clone(),
            "--no-pin" => o.pin = false,
            "--list" => {
                for s in scenarios() {
                    println!("{:<14} {:<12} {}", s.id, s.family, s.metric.name());
                }
                return Ok(None);
            }
            other => {
                return Err(format!(
                    "unexpected argument {other:?} (see `cargo xtask help`)"
                ))
            }
        }
    }
    for b in &o.compare {
        if b != "mosquitto" && b != "rumqttd" {
            return Err(format!("--compare knows mosquitto and rumqttd, not {b:?}"));
        }
    }
    if o.rounds == 0 {
        o.rounds = if o.quick { 1 } else { 3 };
    }
    Ok(Some(o))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let Some(opts) = parse(args)? else {
        return Ok(());
    };
    let all = scenarios();
    let chosen: Vec<&Scenario> = if opts.scenarios.is_empty() {
        all.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for want in &opts.scenarios {
            let found: Vec<&Scenario> = all
                .iter()
                .filter(|s| s.id == *want || s.family == want.as_str())
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "no scenario {want:?}; `cargo xtask bench --list` shows them"
                ));
            }
            for s in found {
                if !chosen.iter().any(|c: &&Scenario| c.id == s.id) {
                    chosen.push(s);
                }
            }
        }
        chosen
    };

    cargo(&[
        "build",
        "--release",
        "-p",
        "tern",
        "-p",
        "tern-benches",
        "--bin",
        "tern",
        "--bin",
        "loadgen",
    ])?;
    let out = root().join("target/bench");
    let bin = out.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    // Copies, so that a rebuild while the benchmark runs cannot change what is measured.
    for name in ["tern", "loadgen"] {
        let from = root().join("target/release").join(name);
        std::fs::copy(&from, bin.join(name)).map_err(|e| format!("{}: {e}", from.display()))?;
    }

    let mut brokers = vec![Broker::tern(&bin, &out, &opts)];
    for peer in &opts.compare {
        match peer.as_str() {
            "mosquitto" => match Broker::mosquitto(&out) {
                Some(b) => brokers.push(b),
                None => println!(
                    "xtask bench: mosquitto is not installed, skipped \
                     (install it with `apt-get install mosquitto`)"
                ),
            },
            "rumqttd" => match Broker::rumqttd(&out) {
                Some(b) => brokers.push(b),
                None => println!(
                    "xtask bench: rumqttd is not installed, skipped \
                     (install it with `cargo install rumqttd`)"
                ),
            },
            _ => unreachable!("checked in parse"),
        }
    }

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let taskset = Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    let pin = opts.pin && cores >= 2 && taskset;
    let pinning = if pin {
        format!(
            "broker on CPU {}, load generator on CPU {} (taskset)",
            opts.broker_cpus, opts.load_cpus
        )
    } else if !opts.pin {
        "none (--no-pin)".to_string()
    } else {
        format!(
            "none ({cores} core(s), taskset {})",
            if taskset { "found" } else { "missing" }
        )
    };
    println!("xtask bench: pinning: {pinning}");

    let results_path = out.join("results.jsonl");
    let mut results_file = String::new();
    let mut runs: Vec<Run> = Vec::new();
    let started = Instant::now();
    for scenario in &chosen {
        for round in 0..opts.rounds {
            for broker in &brokers {
                let port = free_port()?;
                let v5_port = if broker.v5_listener {
                    free_port()?
                } else {
                    port
                };
                let mut child = broker.start(port, v5_port, &opts, pin)?;
                let pid = child.0.id();
                let mut args = if opts.quick {
                    scenario.quick.clone()
                } else {
                    scenario.args.clone()
                };
                // rumqttd speaks 5.0 on a listener of its own; `shared` uses 5.0.
                let addr_port = if scenario.family == "shared" {
                    v5_port
                } else {
                    port
                };
                args.extend(strings(&[
                    "--addr",
                    &SocketAddr::from((Ipv4Addr::LOCALHOST, addr_port)).to_string(),
                    "--broker-pid",
                    &pid.to_string(),
                    "--label",
                    &broker.name,
                    "--payload",
                    &opts.payload.to_string(),
                ]));
                if let Some(w) = opts.window {
                    args.extend(strings(&["--window", &w.to_string()]));
                }
                if let Some(i) = opts.inflight {
                    args.extend(strings(&["--inflight", &i.to_string()]));
                }
                if opts.quick {
                    args.extend(strings(&["--deadline", "30", "--idle", "3"]));
                } else {
                    args.extend(strings(&["--deadline", "120", "--idle", "5"]));
                }
                println!(
                    "\n==> [{}/{}] {} round {}: {}",
                    scenario.id,
                    broker.name,
                    scenario.id,
                    round + 1,
                    args.join(" ")
                );
                let result = run_loadgen(&bin.join("loadgen"), &args, pin, &opts.load_cpus);
                let alive = child.0.try_wait().ok().flatten().is_none();
                child.stop();
                let mut json = match result {
                    Ok(json) => json,
                    Err(e) => serde_json::json!({ "error": e }),
                };
                if !alive {
                    json["broker_exited"] = Value::Bool(true);
                }
                json["id"] = Value::String(scenario.id.clone());
                json["broker"] = Value::String(broker.name.clone());
                json["round"] = Value::from(round + 1);
                results_file.push_str(&json.to_string());
                results_file.push('\n');
                runs.push(Run {
                    scenario: scenario.id.clone(),
                    broker: broker.name.clone(),
                    json,
                });
            }
        }
    }
    std::fs::write(&results_path, &results_file)
        .map_err(|e| format!("{}: {e}", results_path.display()))?;

    let context = Context {
        command: std::iter::once("cargo xtask bench".to_string())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" "),
        pinning,
        cpu: cpu_model(),
        cores,
        rounds: opts.rounds,
        quick: opts.quick,
        payload: opts.payload,
        elapsed: started.elapsed(),
        brokers: brokers
            .iter()
            .map(|b| {
                (
                    b.name.clone(),
                    b.version.clone(),
                    b.config_text.clone(),
                    b.config_notes,
                )
            })
            .collect(),
    };
    let report = report(&chosen, &brokers, &runs, &context);
    let report_path = out.join("report.md");
    std::fs::write(&report_path, &report).map_err(|e| format!("{}: {e}", report_path.display()))?;
    let svg = plot(&chosen, &brokers, &runs);
    let svg_path = out.join("plot.svg");
    std::fs::write(&svg_path, svg).map_err(|e| format!("{}: {e}", svg_path.display()))?;
    println!("\n{}", summary_table(&chosen, &brokers, &runs));
    println!(
        "xtask bench: {} runs in {:.0} s; wrote {}, {} and {}",
        runs.len(),
        started.elapsed().as_secs_f64(),
        report_path.display(),
        results_path.display(),
        svg_path.display()
    );
    let failed = runs
        .iter()
        .filter(|r| r.json.get("error").is_some())
        .count();
    if failed > 0 {
        return Err(format!(
            "{failed} run(s) failed; see {}",
            report_path.display()
        ));
    }
    Ok(())
}

/// One load generator run.
struct Run {
    scenario: String,
    broker: String,
    json: Value,
}

/// A broker under test.
struct Broker {
    name: String,
    version: String,
    /// The command, with `{conf}` where the configuration file goes.
    program: PathBuf,
    args: Vec<String>,
    /// The configuration, with `{port}` (and `{v5port}`) for the listening ports.
    config_text: String,
    config_file: PathBuf,
    config_notes: &'static str,
    /// Whether MQTT 5.0 has a listener of its own (`{v5port}` in the configuration).
    v5_listener: bool,
}

/// A running broker, killed when dropped.
struct Running(Child);

impl Running {
    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

const TERN_NOTES: &str = "\
- `max_connections = 20000`: room for the 10,000 idle connections and the clients of every scenario.
- `receive_maximum = 65535`: the inbound QoS 1/2 window of 5.0 publishers is never what limits them.
- `max_inflight = 1000`: outbound QoS 1/2 window per subscriber (the same as Mosquitto's below).
- `max_queued_messages = 10000000`, `max_queued_bytes = 4294967296`: a subscriber's queue never
  drops a message; the load generator's end-to-end window keeps it short anyway.
- `[log] level = \"warn\"`: no log line per connection.";

const MOSQUITTO_NOTES: &str = "\
- `persistence false`: nothing written to disk (Tern keeps nothing on disk either here).
- `max_queued_messages 0`, `max_queued_bytes 0`: no queue limit (0 means none), so no message is dropped.
- `max_inflight_messages 1000`: outbound QoS 1/2 window per client (the default, 20, would throttle it;
  0, unlimited, makes Mosquitto's in-flight lists, which it searches linearly, very slow).
- `max_connections -1`: no connection limit.
- `set_tcp_nodelay true`: no Nagle delay (Tern sets TCP_NODELAY on every connection).
- `log_type error`: no log line per connection.";

const RUMQTTD_NOTES: &str = "\
- `max_connections = 20010`, `next_connection_delay_ms = 0`: 10,000 connections are accepted without
  a pause between them.
- `max_segment_size = 104857600`, `max_segment_count = 10`: the router's commit log (1 GiB) never
  overwrites a message a subscriber has not read.
- `max_outgoing_packet_count = 1000`, `max_inflight_count = 1000`: per-connection windows (the same
  as Tern's and Mosquitto's outbound in-flight window).
- `max_payload_size = 1048576`. A 5.0 listener on a second port serves the `shared` scenarios.
- No console or Prometheus listener. Not run here yet: rumqttd was not installed.";

impl Broker {
    fn tern(bin: &Path, out: &Path, opts: &Options) -> Broker {
        let mut config = String::from(
            "[[listener]]\nbind = \"127.0.0.1:{port}\"\ntransport = \"tcp\"\n\n[limits]\n\
             max_connections = 20000\nreceive_maximum = 65535\nmax_inflight = 1000\n\
             max_queued_messages = 10000000\nmax_queued_bytes = 4294967296\n\n[log]\n\
             level = \"warn\"\n",
        );
        for (key, value) in &opts.tern_set {
            let line = format!("{key} = {value}\n");
            let prefix = format!("\n{key} = ");
            match config.find(&prefix) {
                Some(at) => {
                    let end = config[at + 1..]
                        .find('\n')
                        .map_or(config.len(), |e| at + 1 + e + 1);
                    config.replace_range(at + 1..end, &line);
                }
                None => {
                    let at = config.find("[limits]\n").expect("template has [limits]") + 9;
                    config.insert_str(at, &line);
                }
            }
        }
        let tern = bin.join("tern");
        let version = Command::new(&tern)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|_| "tern".into());
        Broker {
            name: "tern".into(),
            version,
            program: tern,
            args: strings(&["start", "--config", "{conf}"]),
            config_text: config,
            config_file: out.join("tern.toml"),
            config_notes: TERN_NOTES,
            v5_listener: false,
        }
    }

    fn mosquitto(out: &Path) -> Option<Broker> {
        let program = PathBuf::from(find_mosquitto());
        let output = Command::new(&program).arg("-h").output().ok()?;
        let version = String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or("mosquitto")
            .trim()
            .to_string();
        Some(Broker {
            name: "mosquitto".into(),
            version,
            program,
            args: strings(&["-c", "{conf}"]),
            config_text: "per_listener_settings false\nallow_anonymous true\npersistence false\n\
                 max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 1000\n\
                 max_connections -1\nset_tcp_nodelay true\nlog_dest stderr\nlog_type error\n\
                 listener {port} 127.0.0.1\n"
                .into(),
            config_file: out.join("mosquitto.conf"),
            config_notes: MOSQUITTO_NOTES,
            v5_listener: false,
        })
    }

    fn rumqttd(out: &Path) -> Option<Broker> {
        let mut candidates = vec![PathBuf::from("rumqttd")];
        if let Some(home) = std::env::var_os("HOME") {
            candidates.push(Path::new(&home).join(".cargo/bin/rumqttd"));
        }
        let program = candidates.into_iter().find(|p| {
            Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })?;
        let version = Command::new(&program)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|_| "rumqttd".into());
        let connections = "connection_timeout_ms = 60000\nmax_payload_size = 1048576\n\
                           max_inflight_count = 1000\ndynamic_filters = true\n";
        Some(Broker {
            name: "rumqttd".into(),
            version,
            program,
            args: strings(&["--config", "{conf}"]),
            config_text: format!(
                "id = 0\n\n[router]\nid = 0\nmax_connections = 20010\n\
                 max_outgoing_packet_count = 1000\nmax_segment_size = 104857600\n\
                 max_segment_count = 10\n\n[v4.1]\nname = \"v4-1\"\n\
                 listen = \"127.0.0.1:{{port}}\"\nnext_connection_delay_ms = 0\n\
                 [v4.1.connections]\n{connections}\n[v5.1]\nname = \"v5-1\"\n\
                 listen = \"127.0.0.1:{{v5port}}\"\nnext_connection_delay_ms = 0\n\
                 [v5.1.connections]\n{connections}"
            ),
            config_file: out.join("rumqttd.toml"),
            config_notes: RUMQTTD_NOTES,
            v5_listener: true,
        })
    }

    /// Writes the configuration for `port` and starts the broker; returns once it listens.
    fn start(&self, port: u16, v5_port: u16, opts: &Options, pin: bool) -> Result<Running, String> {
        let text = self
            .config_text
            .replace("{port}", &port.to_string())
            .replace("{v5port}", &v5_port.to_string());
        std::fs::write(&self.config_file, text)
            .map_err(|e| format!("{}: {e}", self.config_file.display()))?;
        let conf = self.config_file.display().to_string();
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.replace("{conf}", &conf))
            .collect();
        let mut command = if pin {
            let mut c = Command::new("taskset");
            c.args(["-c", &opts.broker_cpus]).arg(&self.program);
            c
        } else {
            Command::new(&self.program)
        };
        let log = self.config_file.with_extension("log");
        let log = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let child = command
            .args(&args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let mut running = Running(child);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = running.0.try_wait() {
                return Err(format!(
                    "{} exited at start ({status}); see {}",
                    self.name,
                    self.config_file.with_extension("log").display()
                ));
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!(
                    "{} did not listen on {addr} within 10 s",
                    self.name
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Let the probe connection's close settle before measuring anything.
        std::thread::sleep(Duration::from_millis(200));
        Ok(running)
    }
}

/// Runs the load generator; returns its JSON line.
fn run_loadgen(loadgen: &Path, args: &[String], pin: bool, cpus: &str) -> Result<Value, String> {
    let mut command = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", cpus]).arg(loadgen);
        c
    } else {
        Command::new(loadgen)
    };
    let output = command
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", loadgen.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("the load generator printed no result ({})", output.status))?;
    serde_json::from_str(line).map_err(|e| format!("bad result line: {e}: {line}"))
}

struct Context {
    command: String,
    pinning: String,
    cpu: String,
    cores: usize,
    rounds: usize,
    quick: bool,
    payload: usize,
    elapsed: Duration,
    brokers: Vec<(String, String, String, &'static str)>,
}

/// Median, minimum and maximum.
fn stats(values: &[f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((median, v[0], v[n - 1]))
}

fn values<'a>(
    runs: &'a [Run],
    scenario: &'a str,
    broker: &'a str,
) -> impl Iterator<Item = &'a Value> {
    runs.iter()
        .filter(move |r| r.scenario == scenario && r.broker == broker)
        .map(|r| &r.json)
}

fn metric_stats(runs: &[Run], s: &Scenario, broker: &str) -> Option<(f64, f64, f64)> {
    let v: Vec<f64> = values(runs, &s.id, broker)
        .filter_map(|j| s.metric.value(j))
        .collect();
    stats(&v)
}

fn sum_u64(runs: &[Run], scenario: &str, broker: &str, key: &str) -> u64 {
    values(runs, scenario, broker)
        .filter_map(|j| j[key].as_u64())
        .sum()
}

fn max_u64(runs: &[Run], scenario: &str, broker: &str, key: &str) -> Option<u64> {
    values(runs, scenario, broker)
        .filter_map(|j| j[key].as_u64())
        .max()
}

/// The ratio Tern / peer, and whether it favours Tern.
fn ratio(metric: Metric, tern: f64, peer: f64) -> String {
    if peer <= 0.0 || tern <= 0.0 {
        return "–".into();
    }
    let r = tern / peer;
    let better = if metric.higher_is_better() {
        r > 1.0
    } else {
        r < 1.0
    };
    format!(
        "{r:.2}× {}",
        if better {
            "(Tern better)"
        } else {
            "(Tern worse)"
        }
    )
}

fn cell(metric: Metric, s: Option<(f64, f64, f64)>, runs: usize) -> String {
    match s {
        Some((m, lo, hi)) if runs > 1 => format!(
            "{} ({}–{})",
            metric.format(m),
            metric.format(lo),
            metric.format(hi)
        ),
        Some((m, _, _)) => metric.format(m),
        None => "failed".into(),
    }
}

fn summary_table(chosen: &[&Scenario], brokers: &[Broker], runs: &[Run]) -> String {
    let mut t = String::new();
    let _ = write!(t, "{:<14} {:<9}", "scenario", "figure");
    for b in brokers {
        let _ = write!(t, " {:>14}", b.name);
    }
    t.push('\n');
    for s in chosen {
        let _ = write!(t, "{:<14} {:<9}", s.id, s.metric.short());
        for b in brokers {
            let m = metric_stats(runs, s, &b.name)
                .map(|(m, _, _)| s.metric.format(m))
                .unwrap_or_else(|| "failed".into());
            let lost = sum_u64(runs, &s.id, &b.name, "lost");
            let mark = if lost > 0 { "*" } else { "" };
            let _ = write!(t, " {:>14}", format!("{m}{mark}"));
        }
        t.push('\n');
    }
    if t.contains('*') {
        t.push_str("(* = some messages were lost; see the report)\n");
    }
    t
}

/// Reference figures for Mosquitto 2.0.11 and rumqttd 0.20 measured on this machine with an
/// independent load generator (same pinning, 64-byte payloads, medians), and the targets they
/// set for Tern: (scenario, metric, mosquitto, rumqttd).
const REFERENCE: &[(&str, f64, f64)] = &[
    ("fanin-q0", 165_000.0, 360_000.0),
    ("fanin-q1", 55_000.0, 260_000.0),
    ("fanout-q0", 167_000.0, 2_270_000.0),
    ("pairs-q1", 48_000.0, 335_000.0),
    ("latency-q0", 18_000.0, 2_300.0),
    ("latency-q1", 900.0, 1_700.0),
    ("million-q1", 22.3, 3.2),
    ("connections", 0.74, 46.0),
];

/// Tern's target for a scenario with a reference, as (value, text).
fn target(s: &Scenario) -> Option<(f64, String)> {
    let &(_, mosq, rumq) = REFERENCE.iter().find(|(id, _, _)| *id == s.id)?;
    Some(match s.metric {
        Metric::Throughput => {
            let t = 1.2 * mosq.max(rumq);
            (t, format!("≥ {} (1.2 × the better peer)", si(t)))
        }
        Metric::LatencyP99 => {
            let t = mosq.min(rumq);
            (t, format!("≤ {} (the better peer)", format_us(t)))
        }
        Metric::Completion => {
            let t = mosq.min(rumq) / 1.2;
            (t, format!("≤ {t:.2} s (1.2 × faster than the faster peer)"))
        }
        Metric::RssPerConnection => (2.0, "≤ 2 KiB with 10,000 held".into()),
    })
}

fn report(chosen: &[&Scenario], brokers: &[Broker], runs: &[Run], c: &Context) -> String {
    let mut r = String::new();
    let _ = writeln!(r, "# Tern benchmark report\n");
    let _ = writeln!(r, "- command: `{}`", c.command);
    let _ = writeln!(
        r,
        "- machine: {} × {}; pinning: {}",
        c.cores, c.cpu, c.pinning
    );
    let _ = writeln!(
        r,
        "- {} round(s) per broker and scenario, brokers alternating (A B A B), a fresh broker per run{}",
        c.rounds,
        if c.quick { "; **--quick: small counts, figures not comparable with full runs**" } else { "" }
    );
    let _ = writeln!(
        r,
        "- payload {} bytes; total time {:.0} s",
        c.payload,
        c.elapsed.as_secs_f64()
    );
    for (name, version, _, _) in &c.brokers {
        let _ = writeln!(r, "- {name}: {version}");
    }
    let _ = writeln!(
        r,
        "\nMedian (min–max over rounds) of each scenario's headline figure. The ratio is Tern / peer \
         of that figure; for throughput higher is better, for latency, time and memory lower is \
         better.\n"
    );
    let _ = write!(r, "| scenario | figure |");
    for b in brokers {
        let _ = write!(r, " {} |", b.name);
    }
    for b in brokers.iter().skip(1) {
        let _ = write!(r, " Tern / {} |", b.name);
    }
    let _ = write!(r, "\n|---|---|");
    for _ in 0..(2 * brokers.len() - 1) {
        r.push_str("---|");
    }
    r.push('\n');
    for s in chosen {
        let _ = write!(r, "| {} | {} |", s.id, s.metric.name());
        let tern = metric_stats(runs, s, "tern");
        for b in brokers {
            let n = values(runs, &s.id, &b.name).count();
            let _ = write!(
                r,
                " {} |",
                cell(s.metric, metric_stats(runs, s, &b.name), n)
            );
        }
        for b in brokers.iter().skip(1) {
            let text = match (tern, metric_stats(runs, s, &b.name)) {
                (Some((t, _, _)), Some((p, _, _))) => ratio(s.metric, t, p),
                _ => "–".into(),
            };
            let _ = write!(r, " {text} |");
        }
        r.push('\n');
    }

    let _ = writeln!(
        r,
        "\n## Loss, duplicates and memory\n\nSums over the rounds. *Lost*: expected deliveries \
         that never arrived before the run ended; *dup*: deliveries of a message a receiver \
         (group) already had; *peak RSS*: the broker's largest resident set, sampled every \
         100 ms, over the rounds.\n"
    );
    let _ = writeln!(
        r,
        "| scenario | broker | expected | delivered | lost | dup | peak RSS | errors |"
    );
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|");
    for s in chosen {
        for b in brokers {
            let errors: Vec<String> = values(runs, &s.id, &b.name)
                .flat_map(|j| {
                    let mut e: Vec<String> = j["errors"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|x| {
                                    format!(
                                        "{} ×{}",
                                        x["message"].as_str().unwrap_or("?"),
                                        x["count"]
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    if let Some(err) = j["error"].as_str() {
                        e.push(err.to_string());
                    }
                    if j["timed_out"].as_bool() == Some(true) {
                        e.push("deadline reached".into());
                    }
                    if j["broker_exited"].as_bool() == Some(true) {
                        e.push("broker exited".into());
                    }
                    e
                })
                .collect();
            let peak = max_u64(runs, &s.id, &b.name, "broker_rss_peak_kib")
                .map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
            if s.metric == Metric::RssPerConnection {
                let _ = writeln!(
                    r,
                    "| {} | {} | {} connections | {} held | {} failed | – | {} | {} |",
                    s.id,
                    b.name,
                    sum_u64(runs, &s.id, &b.name, "connections"),
                    sum_u64(runs, &s.id, &b.name, "connected"),
                    sum_u64(runs, &s.id, &b.name, "failed"),
                    peak,
                    errors.join("; ")
                );
                continue;
            }
            let _ = writeln!(
                r,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                s.id,
                b.name,
                sum_u64(runs, &s.id, &b.name, "expected"),
                sum_u64(runs, &s.id, &b.name, "unique"),
                sum_u64(runs, &s.id, &b.name, "lost"),
                sum_u64(runs, &s.id, &b.name, "duplicates"),
                peak,
                errors.join("; ")
            );
        }
    }

    let latency: Vec<&&Scenario> = chosen.iter().filter(|s| s.family == "latency").collect();
    if !latency.is_empty() {
        let _ = writeln!(
            r,
            "\n## Latency percentiles\n\nEnd to end (publisher's write to subscriber's read), \
             median over rounds of each percentile.\n"
        );
        let _ = writeln!(r, "| scenario | broker | p50 | p90 | p99 | p99.9 | max |");
        let _ = writeln!(r, "|---|---|---|---|---|---|---|");
        for s in &latency {
            for b in brokers {
                let mut row = format!("| {} | {} |", s.id, b.name);
                for p in ["p50", "p90", "p99", "p999", "max"] {
                    let v: Vec<f64> = values(runs, &s.id, &b.name)
                        .filter_map(|j| j["latency_us"][p].as_f64())
                        .collect();
                    let _ = write!(
                        row,
                        " {} |",
                        stats(&v).map_or("–".into(), |(m, _, _)| format_us(m))
                    );
                }
                let _ = writeln!(r, "{row}");
            }
        }
    }

    let with_targets: Vec<(&&Scenario, (f64, String))> = chosen
        .iter()
        .filter_map(|s| target(s).map(|t| (s, t)))
        .collect();
    if !with_targets.is_empty() {
        let _ = writeln!(
            r,
            "\n## Targets\n\nAgainst the reference figures measured on this machine with an \
             independent load generator (Mosquitto 2.0.11 and rumqttd 0.20, same pinning, \
             64-byte payloads, medians). Throughput targets also require zero loss and a broker \
             RSS under 64 MiB through the run.\n"
        );
        let _ = writeln!(r, "| scenario | target | Tern (median) | reached |");
        let _ = writeln!(r, "|---|---|---|---|");
        for (s, (goal, text)) in with_targets {
            let tern = metric_stats(runs, s, "tern");
            let lost = sum_u64(runs, &s.id, "tern", "lost");
            let peak = max_u64(runs, &s.id, "tern", "broker_rss_peak_kib").unwrap_or(0);
            let scaled_down =
                c.quick && matches!(s.metric, Metric::Completion | Metric::RssPerConnection);
            let verdict = match tern {
                None => "no figure".to_string(),
                Some(_) if scaled_down => "n/a (--quick runs fewer messages / connections)".into(),
                Some((m, _, _)) => {
                    let mut ok = if s.metric.higher_is_better() {
                        m >= goal
                    } else {
                        m <= goal
                    };
                    let mut why = Vec::new();
                    if s.metric == Metric::Throughput {
                        if lost > 0 {
                            ok = false;
                            why.push(format!("{lost} lost"));
                        }
                        if peak > 64 * 1024 {
                            ok = false;
                            why.push(format!("RSS {:.0} MiB", peak as f64 / 1024.0));
                        }
                    }
                    let base = if ok { "yes" } else { "**no**" };
                    if why.is_empty() {
                        base.to_string()
                    } else {
                        format!("{base} ({})", why.join(", "))
                    }
                }
            };
            let value = tern.map_or("–".into(), |(m, _, _)| s.metric.format(m));
            let _ = writeln!(r, "| {} | {} | {} | {} |", s.id, text, value, verdict);
        }
        if c.quick {
            let _ = writeln!(
                r,
                "\n(--quick: counts are too small for these verdicts to mean much.)"
            );
        }
    }

    let _ = writeln!(r, "\n## Configurations\n");
    for (name, _, config, notes) in &c.brokers {
        let _ = writeln!(r, "### {name}\n\n{notes}\n\n```\n{}```\n", config);
    }
    let _ = writeln!(
        r,
        "Load generator: `tern-benches`' `loadgen` (single-threaded tokio, MQTT 3.1.1 except \
         `shared`, which uses 5.0). Every run's arguments are in `results.jsonl` and were printed \
         as the run started; the scenarios are described in `benches/README.md`.\n\n\
         Plot: `plot.svg` beside this file."
    );
    r
}

/// A hand-written SVG: throughput bars (one panel row per scenario, scaled to that scenario's
/// best broker, with min–max whiskers) and latency percentiles (log scale).
fn plot(chosen: &[&Scenario], brokers: &[Broker], runs: &[Run]) -> String {
    const COLORS: [&str; 4] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"];
    let width = 900.0;
    let left = 130.0;
    let bar_w = width - left - 170.0;
    let bar_h = 14.0;
    let mut y = 50.0;
    let mut body = String::new();
    let throughput: Vec<&&Scenario> = chosen
        .iter()
        .filter(|s| s.metric == Metric::Throughput)
        .collect();
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    if !throughput.is_empty() {
        let _ = writeln!(
            body,
            r#"<text x="10" y="{}" font-size="15" font-weight="bold">Delivered messages per second (median; whiskers: min–max; each scenario scaled to its best)</text>"#,
            y - 20.0
        );
        for s in &throughput {
            let figures: Vec<Option<(f64, f64, f64)>> = brokers
                .iter()
                .map(|b| metric_stats(runs, s, &b.name))
                .collect();
            let best = figures
                .iter()
                .flatten()
                .map(|f| f.2)
                .fold(0.0f64, f64::max)
                .max(1.0);
            let _ = writeln!(
                body,
                r#"<text x="10" y="{}" font-size="12">{}</text>"#,
                y + bar_h * brokers.len() as f64 / 2.0 + 4.0,
                esc(&s.id)
            );
            for (i, (b, f)) in brokers.iter().zip(&figures).enumerate() {
                let color = COLORS[i % COLORS.len()];
                if let Some((m, lo, hi)) = f {
                    let w = bar_w * m / best;
                    let _ = writeln!(
                        body,
                        r#"<rect x="{left}" y="{y}" width="{w:.1}" height="{:.1}" fill="{color}"><title>{} {}: {}</title></rect>"#,
                        bar_h - 2.0,
                        esc(&b.name),
                        esc(&s.id),
                        si(*m)
                    );
                    let (x0, x1) = (left + bar_w * lo / best, left + bar_w * hi / best);
                    let ym = y + (bar_h - 2.0) / 2.0;
                    let _ = writeln!(
                        body,
                        r#"<line x1="{x0:.1}" y1="{ym:.1}" x2="{x1:.1}" y2="{ym:.1}" stroke="black" stroke-width="1"/>"#
                    );
                    let _ = writeln!(
                        body,
                        r#"<text x="{:.1}" y="{:.1}" font-size="11">{} {}</text>"#,
                        left + w.max(x1 - left) + 6.0,
                        y + bar_h - 4.0,
                        esc(&b.name),
                        si(*m)
                    );
                } else {
                    let _ = writeln!(
                        body,
                        r#"<text x="{left}" y="{:.1}" font-size="11">{} failed</text>"#,
                        y + bar_h - 4.0,
                        esc(&b.name)
                    );
                }
                y += bar_h;
            }
            y += 10.0;
        }
        y += 30.0;
    }
    let latency: Vec<&&Scenario> = chosen.iter().filter(|s| s.family == "latency").collect();
    if !latency.is_empty() {
        let _ = writeln!(
            body,
            r#"<text x="10" y="{}" font-size="15" font-weight="bold">End-to-end latency at 10,000 msg/s (median over rounds; log scale)</text>"#,
            y - 10.0
        );
        // Log axis from 10 µs to 10 s.
        let (lo, hi) = (1.0f64, 7.0f64);
        let x = |us: f64| left + bar_w * ((us.max(10.0).log10() - lo) / (hi - lo)).clamp(0.0, 1.0);
        y += 10.0;
        for (i, label) in ["10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s", "10 s"]
            .iter()
            .enumerate()
        {
            let xi = left + bar_w * i as f64 / 6.0;
            let _ = writeln!(
                body,
                r##"<line x1="{xi:.1}" y1="{y}" x2="{xi:.1}" y2="{}" stroke="#ddd"/><text x="{:.1}" y="{}" font-size="10">{label}</text>"##,
                y + 10.0 + (latency.len() * brokers.len()) as f64 * 5.0 * bar_h,
                xi - 12.0,
                y
            );
        }
        y += 10.0;
        for s in &latency {
            let _ = writeln!(
                body,
                r#"<text x="10" y="{}" font-size="12">{}</text>"#,
                y + 2.5 * bar_h * brokers.len() as f64,
                esc(&s.id)
            );
            for (i, b) in brokers.iter().enumerate() {
                let color = COLORS[i % COLORS.len()];
                for (k, p) in ["p50", "p90", "p99", "p999", "max"].iter().enumerate() {
                    let v: Vec<f64> = values(runs, &s.id, &b.name)
                        .filter_map(|j| j["latency_us"][*p].as_f64())
                        .collect();
                    if let Some((m, _, _)) = stats(&v) {
                        let opacity = 1.0 - 0.15 * k as f64;
                        let _ = writeln!(
                            body,
                            r#"<rect x="{left}" y="{y}" width="{:.1}" height="{:.1}" fill="{color}" fill-opacity="{opacity:.2}"><title>{} {} {}: {}</title></rect><text x="{:.1}" y="{:.1}" font-size="10">{} {} {}</text>"#,
                            x(m) - left,
                            bar_h - 3.0,
                            esc(&b.name),
                            esc(&s.id),
                            p,
                            format_us(m),
                            x(m) + 4.0,
                            y + bar_h - 5.0,
                            esc(&b.name),
                            p.replace("p999", "p99.9"),
                            format_us(m)
                        );
                    }
                    y += bar_h;
                }
            }
            y += 12.0;
        }
    }
    // Legend.
    let mut legend = String::new();
    for (i, b) in brokers.iter().enumerate() {
        let lx = left + 140.0 * i as f64;
        let _ = write!(
            legend,
            r#"<rect x="{lx}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            y + 10.0,
            COLORS[i % COLORS.len()],
            lx + 16.0,
            y + 20.0,
            esc(&b.name)
        );
    }
    let height = y + 40.0;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height:.0}\" \
         font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         {body}{legend}\n</svg>\n"
    )
}

fn free_port() -> Result<u16, String> {
    Ok(std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port())
}

/// Debian installs the broker in /usr/sbin, which is not on every PATH.
fn find_mosquitto() -> &'static str {
    if Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn format_us(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} s", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.2} ms", v / 1e3)
    } else {
        format!("{v:.0} µs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_range() {
        assert_eq!(stats(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(stats(&[4.0, 1.0, 2.0, 3.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(stats(&[]), None);
    }

    #[test]
    fn scenario_ids_are_unique_and_selectable() {
        let all = scenarios();
        let mut ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        assert!(all.iter().any(|s| s.id == "million-q1"));
        assert_eq!(all.iter().filter(|s| s.family == "fanin").count(), 3);
    }

    #[test]
    fn tern_set_replaces_or_adds_a_limit() {
        let mut o = parse(&strings(&[
            "--tern-set",
            "max_queued_messages=10",
            "--tern-set",
            "max_keep_alive=5",
        ]))
        .unwrap()
        .unwrap();
        o.compare.clear();
        let b = Broker::tern(Path::new("/nonexistent"), Path::new("/tmp"), &o);
        assert!(
            b.config_text.contains("\nmax_queued_messages = 10\n"),
            "{}",
            b.config_text
        );
        assert!(!b.config_text.contains("10000000"), "{}", b.config_text);
        assert!(
            b.config_text.contains("[limits]\nmax_keep_alive = 5\n"),
            "{}",
            b.config_text
        );
    }

    #[test]
    fn ratio_says_which_way() {
        assert!(ratio(Metric::Throughput, 2.0, 1.0).contains("Tern better"));
        assert!(ratio(Metric::LatencyP99, 2.0, 1.0).contains("Tern worse"));
    }
}
