//! `cargo xtask bench`: Tern against other brokers, side by side, in one run.
//!
//! Builds Tern and the load generator (`tern-benches`' `loadgen`) in release, then for every
//! scenario runs each broker in turn (A B A B ...) for several rounds. Each run gets a freshly
//! started broker on a free loopback port, pinned to one core while the load generator is
//! pinned to another (when the machine has two cores and `taskset`). The load generator prints
//! one JSON line per run; this collects them into `target/bench/results.jsonl`, then writes
//! `target/bench/report.md` (per scenario and broker: delivered and acknowledged rates, loss,
//! duplicates, p99 latency, peak RSS, the ratio Tern / each peer) and `target/bench/plot.svg`.
//!
//! Publishers are open loop, bounded only by their MQTT in-flight window (the load
//! generator's defaults); `--window N` opts into the load generator's end-to-end pacing. The
//! load generator is given the broker's PID (`taskset` execs, so the child's PID is the
//! broker's) and reports its peak RSS as the kernel's high-water mark, `VmHWM`.

mod brokers;
mod plot;
mod report;

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::procs::{find_mosquitto, free_port};
use crate::{cargo, root, target_dir};

use brokers::Broker;
use plot::plot;
use report::*;

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

/// The `slow` scenarios: what the stuck subscriber does, on top of their counts.
const SLOW_SHAPE: &[&str] = &[
    "--subscribers",
    "100",
    "--stuck-after",
    "100",
    "--hold",
    "8",
];

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "delivered msg/s",
            Metric::LatencyP99 => "p99 latency",
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
    for qos in ["0", "1"] {
        let base = ["--scenario", "slow", "--qos", qos];
        out.push(Scenario {
            id: format!("slow-q{qos}"),
            family: "slow",
            args: strings(&[&base[..], SLOW_SHAPE, &["--count", "50000"]].concat()),
            quick: strings(&[&base[..], SLOW_SHAPE, &["--count", "2000"]].concat()),
            metric: Metric::Throughput,
        });
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

#[derive(Default)]
struct Options {
    quick: bool,
    rounds: usize,
    scenarios: Vec<String>,
    compare: Vec<String>,
    payload: usize,
    /// The load generator's end-to-end pacing, passed only when asked for: without it the
    /// publishers are open loop, as real clients are.
    window: Option<u64>,
    /// Each publisher's QoS 1/2 in-flight window; the load generator's default (100) unless
    /// asked for.
    inflight: Option<u16>,
    tern_set: Vec<(String, String)>,
    /// Persistent sessions: subscribers keep their sessions, Tern keeps them on disk and runs
    /// in memory beside it (`tern-memory`), Mosquitto persists; rumqttd keeps nothing.
    storage: bool,
    /// HTTP requests per second the load generator sends Tern's HTTP listener meanwhile.
    scrape: Option<u32>,
    /// Password logins per second the load generator makes meanwhile (Tern gets a password
    /// file with the user it logs in as).
    pub(super) logins: Option<u32>,
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
        storage: false,
        scrape: None,
        logins: None,
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
            "--storage" => o.storage = true,
            "--scrape" => o.scrape = Some(number(it.next(), "--scrape")?),
            "--logins" => o.logins = Some(number(it.next(), "--logins")?),
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
        let from = target_dir().join("release").join(name);
        std::fs::copy(&from, bin.join(name)).map_err(|e| format!("{}: {e}", from.display()))?;
    }

    let mut brokers = vec![Broker::tern(&bin, &out, &opts)];
    if opts.storage {
        // The same clients, nothing kept: what the store costs.
        brokers.push(Broker::tern_memory(&bin, &out, &opts));
    }
    for peer in &opts.compare {
        match peer.as_str() {
            "rumqttd" if opts.storage => println!(
                "xtask bench: rumqttd keeps nothing across restarts, left out of --storage"
            ),
            "mosquitto" => match Broker::mosquitto(&out, opts.storage) {
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
                let http_port = free_port()?;
                let mut child = broker.start(port, v5_port, http_port, &opts, pin)?;
                let pid = child.0.id();
                // rumqttd speaks 5.0 on a listener of its own; `shared` uses 5.0.
                let addr_port = if scenario.family == "shared" {
                    v5_port
                } else {
                    port
                };
                let mut args = loadgen_args(scenario, &opts, &broker.name, addr_port, pid);
                if let (Some(rate), true) = (opts.scrape, broker.name.starts_with("tern")) {
                    let http = SocketAddr::from((Ipv4Addr::LOCALHOST, http_port));
                    args.extend(strings(&["--scrape", &http.to_string()]));
                    args.extend(strings(&["--scrape-rate", &rate.to_string()]));
                }
                if let (Some(rate), true) = (opts.logins, broker.name.starts_with("tern")) {
                    args.extend(strings(&["--logins", &rate.to_string()]));
                }
                println!(
                    "\n==> [{}/{}] {} round {}: {}",
                    scenario.id,
                    broker.name,
                    scenario.id,
                    round + 1,
                    args.join(" ")
                );
                let ticks = cpu_ticks();
                let result = run_loadgen(&bin.join("loadgen"), &args, pin, &opts.load_cpus);
                let steal = ticks
                    .zip(cpu_ticks())
                    .and_then(|(a, b)| steal_percent(a, b));
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
                if let Some(steal) = steal {
                    println!("host steal time during the run: {steal:.1}%");
                    json["host_steal_pct"] = Value::from((steal * 10.0).round() / 10.0);
                }
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
        load: load_description(&opts),
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

/// The load generator's arguments for one run of `scenario` against `broker`, listening on
/// `port` as process `pid`.
fn loadgen_args(
    scenario: &Scenario,
    opts: &Options,
    broker: &str,
    port: u16,
    pid: u32,
) -> Vec<String> {
    let mut args = if opts.quick {
        scenario.quick.clone()
    } else {
        scenario.args.clone()
    };
    args.extend(strings(&[
        "--addr",
        &SocketAddr::from((Ipv4Addr::LOCALHOST, port)).to_string(),
        "--broker-pid",
        &pid.to_string(),
        "--label",
        broker,
        "--payload",
        &opts.payload.to_string(),
    ]));
    if let Some(w) = opts.window {
        args.extend(strings(&["--window", &w.to_string()]));
    }
    if let Some(i) = opts.inflight {
        args.extend(strings(&["--inflight", &i.to_string()]));
    }
    if opts.storage {
        args.push("--persistent".into());
    }
    // The deadline also covers the `slow` runs' 8 s hold of their stuck subscriber.
    if opts.quick {
        args.extend(strings(&["--deadline", "30", "--idle", "3"]));
    } else {
        args.extend(strings(&["--deadline", "120", "--idle", "5"]));
    }
    args
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
    /// How the publishers were paced, in words.
    load: String,
    elapsed: Duration,
    brokers: Vec<(String, String, String, &'static str)>,
}

/// How the load generator's publishers were bounded, for the report.
fn load_description(opts: &Options) -> String {
    let inflight = opts.inflight.unwrap_or(100);
    match opts.window {
        Some(w) if w > 0 => format!(
            "publishers paced end to end (`--window {w}`: at most {w} deliveries outstanding), \
             QoS 1/2 in-flight window {inflight} per publisher"
        ),
        _ => format!(
            "publishers open loop, bounded only by their QoS 1/2 in-flight window of {inflight} \
             (and their sockets); subscribers read and acknowledge as fast as they can"
        ),
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
        assert!(all.iter().any(|s| s.id == "slow-q0"));
        assert!(all.iter().any(|s| s.id == "slow-q1"));
    }

    #[test]
    fn the_load_is_open_loop_unless_a_window_is_asked_for() {
        let all = scenarios();
        let fanin = all.iter().find(|s| s.id == "fanin-q1").unwrap();
        let opts = parse(&[]).unwrap().unwrap();
        let args = loadgen_args(fanin, &opts, "tern", 1883, 42);
        assert!(!args.iter().any(|a| a == "--window"), "{args:?}");
        assert!(!args.iter().any(|a| a == "--inflight"), "{args:?}");
        let opts = parse(&strings(&["--window", "10000", "--inflight", "1000"]))
            .unwrap()
            .unwrap();
        let args = loadgen_args(fanin, &opts, "tern", 1883, 42).join(" ");
        assert!(args.contains("--window 10000"), "{args}");
        assert!(args.contains("--inflight 1000"), "{args}");
    }

    #[test]
    fn a_slow_run_outlasts_its_hold() {
        let all = scenarios();
        let slow = all.iter().find(|s| s.id == "slow-q1").unwrap();
        let mut opts = parse(&[]).unwrap().unwrap();
        for quick in [false, true] {
            opts.quick = quick;
            let args = loadgen_args(slow, &opts, "tern", 1883, 42);
            let value = |flag: &str| -> f64 {
                let at = args.iter().position(|a| a == flag).unwrap();
                args[at + 1].parse().unwrap()
            };
            assert!(value("--deadline") >= value("--hold") + 10.0, "{args:?}");
        }
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

/// The machine's CPU time so far, all of it and the part stolen, in clock ticks (the first
/// line of `/proc/stat`). Steal is time a virtual machine wanted its CPUs while its host ran
/// something else: a run with much of it measured the host as much as the broker.
fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is counted in user).
    let all = ticks.iter().take(8).sum();
    Some((all, *ticks.get(7)?))
}

/// The share of the CPU time between two readings of [`cpu_ticks`] that was stolen.
fn steal_percent(before: (u64, u64), after: (u64, u64)) -> Option<f64> {
    let all = after.0.checked_sub(before.0)?;
    let stolen = after.1.checked_sub(before.1)?;
    (all > 0).then(|| 100.0 * stolen as f64 / all as f64)
}

#[cfg(test)]
mod steal_tests {
    use super::steal_percent;

    #[test]
    fn steal_is_the_stolen_share_of_the_time_between_readings() {
        assert_eq!(steal_percent((1000, 10), (1400, 110)), Some(25.0));
        assert_eq!(steal_percent((1000, 10), (1000, 10)), None);
        assert_eq!(steal_percent((1000, 10), (900, 10)), None);
    }
}
