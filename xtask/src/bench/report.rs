//! `target/bench/report.md`: per scenario and broker the delivered and acknowledged rates,
//! loss, duplicates, p99 and peak RSS, the ratio Tern / peer, flags for runs that lost or
//! duplicated; then the slow subscriber's fate, run details, latency percentiles, targets and
//! configurations.

use super::*;

/// Median, minimum and maximum.
pub(super) fn stats(values: &[f64]) -> Option<(f64, f64, f64)> {
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

pub(super) fn values<'a>(
    runs: &'a [Run],
    scenario: &'a str,
    broker: &'a str,
) -> impl Iterator<Item = &'a Value> {
    runs.iter()
        .filter(move |r| r.scenario == scenario && r.broker == broker)
        .map(|r| &r.json)
}

pub(super) fn metric_stats(runs: &[Run], s: &Scenario, broker: &str) -> Option<(f64, f64, f64)> {
    let v: Vec<f64> = values(runs, &s.id, broker)
        .filter_map(|j| s.metric.value(j))
        .collect();
    stats(&v)
}

pub(super) fn sum_u64(runs: &[Run], scenario: &str, broker: &str, key: &str) -> u64 {
    values(runs, scenario, broker)
        .filter_map(|j| j[key].as_u64())
        .sum()
}

/// Median, minimum and maximum over the rounds of a figure each run's JSON line may carry.
pub(super) fn field_stats(
    runs: &[Run],
    scenario: &str,
    broker: &str,
    field: impl Fn(&Value) -> Option<f64>,
) -> Option<(f64, f64, f64)> {
    let v: Vec<f64> = values(runs, scenario, broker).filter_map(field).collect();
    stats(&v)
}

pub(super) fn max_u64(runs: &[Run], scenario: &str, broker: &str, key: &str) -> Option<u64> {
    values(runs, scenario, broker)
        .filter_map(|j| j[key].as_u64())
        .max()
}

/// The ratio Tern / peer, and whether it favours Tern.
pub(super) fn ratio(metric: Metric, tern: f64, peer: f64) -> String {
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

pub(super) fn cell(metric: Metric, s: Option<(f64, f64, f64)>, runs: usize) -> String {
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

/// What is wrong with a scenario's runs, for every broker: any message lost, any duplicate
/// at QoS 2 (where the protocol promises exactly once; at QoS 1 duplicates are allowed and
/// only counted), any run that failed. Empty when nothing is.
pub(super) fn flags(runs: &[Run], scenario: &str) -> Vec<String> {
    let of_scenario: Vec<&Run> = runs.iter().filter(|r| r.scenario == scenario).collect();
    let with = |keep: &dyn Fn(&Value) -> bool| -> Vec<String> {
        let mut names: Vec<String> = of_scenario
            .iter()
            .filter(|r| keep(&r.json))
            .map(|r| r.broker.clone())
            .collect();
        names.dedup();
        names
    };
    let mut out = Vec::new();
    let lost = with(&|j| j["lost"].as_u64().unwrap_or(0) > 0);
    if !lost.is_empty() {
        out.push(format!("⚠ LOSS ({})", lost.join(", ")));
    }
    let dup = with(&|j| j["qos"].as_u64() == Some(2) && j["duplicates"].as_u64().unwrap_or(0) > 0);
    if !dup.is_empty() {
        out.push(format!("⚠ QoS 2 DUPLICATES ({})", dup.join(", ")));
    }
    let failed = with(&|j| j.get("error").is_some());
    if !failed.is_empty() {
        out.push(format!("⚠ FAILED ({})", failed.join(", ")));
    }
    out
}

/// Whether a broker's runs of a scenario lost or, at QoS 2, duplicated anything.
fn lost_or_duplicated(runs: &[Run], scenario: &str, broker: &str) -> bool {
    values(runs, scenario, broker).any(|j| {
        j["lost"].as_u64().unwrap_or(0) > 0
            || (j["qos"].as_u64() == Some(2) && j["duplicates"].as_u64().unwrap_or(0) > 0)
    })
}

pub(super) fn summary_table(chosen: &[&Scenario], brokers: &[Broker], runs: &[Run]) -> String {
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
            let mark = if lost_or_duplicated(runs, &s.id, &b.name) {
                "*"
            } else {
                ""
            };
            let _ = write!(t, " {:>14}", format!("{m}{mark}"));
        }
        t.push('\n');
    }
    if t.contains('*') {
        t.push_str("(* = messages lost, or duplicated at QoS 2; see the report)\n");
    }
    t
}

/// Reference figures for Mosquitto 2.0.11 and rumqttd 0.20 measured on this machine with an
/// independent load generator (same pinning, 64-byte payloads, medians), and the targets they
/// set for Tern: (scenario, metric, mosquitto, rumqttd).
pub(super) const REFERENCE: &[(&str, f64, f64)] = &[
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
pub(super) fn target(s: &Scenario) -> Option<(f64, String)> {
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

pub(super) fn report(
    chosen: &[&Scenario],
    brokers: &[Broker],
    runs: &[Run],
    c: &Context,
) -> String {
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
    let _ = writeln!(r, "- load: {}", c.load);
    for (name, version, _, _) in &c.brokers {
        let _ = writeln!(r, "- {name}: {version}");
    }
    let messaging: Vec<&Scenario> = chosen
        .iter()
        .copied()
        .filter(|s| s.metric != Metric::RssPerConnection)
        .collect();
    if !messaging.is_empty() {
        results_table(&mut r, &messaging, brokers, runs);
    }
    let idle: Vec<&Scenario> = chosen
        .iter()
        .copied()
        .filter(|s| s.metric == Metric::RssPerConnection)
        .collect();
    if !idle.is_empty() {
        connections_table(&mut r, &idle, brokers, runs);
    }
    let slow: Vec<&Scenario> = chosen
        .iter()
        .copied()
        .filter(|s| s.family == "slow")
        .collect();
    if !slow.is_empty() {
        slow_table(&mut r, &slow, brokers, runs);
    }
    details_table(&mut r, chosen, brokers, runs);

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
             peak RSS (VmHWM) under 64 MiB.\n"
        );
        let _ = writeln!(r, "| scenario | target | Tern (median) | reached |");
        let _ = writeln!(r, "|---|---|---|---|");
        for (s, (goal, text)) in with_targets {
            let tern = metric_stats(runs, s, "tern");
            let lost = sum_u64(runs, &s.id, "tern", "lost");
            let peak = max_u64(runs, &s.id, "tern", "vmhwm_kib").unwrap_or(0);
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

/// Per scenario and broker: the rates, loss, duplicates, p99 and peak memory, and the ratio
/// Tern / broker of the scenario's headline figure. A scenario's first row carries its id and
/// its flags; the rows of its other brokers leave the id out.
fn results_table(r: &mut String, chosen: &[&Scenario], brokers: &[Broker], runs: &[Run]) {
    let _ = writeln!(
        r,
        "\n## Results\n\n\
         Medians over the rounds (min–max when there were several).\n\n\
         - *delivered/s*: distinct expected messages received by the subscribers, over the time \
         from the first publish to the last delivery (`slow`: the 99 subscribers that read);\n\
         - *acked/s*: messages whose PUBACK (QoS 1) or PUBCOMP (QoS 2) came back to their \
         publisher, over the publishing phase; QoS 0 has no acknowledgement, so its cell is \
         the messages written per second, marked *(sent)*. A message counts once here and once \
         per subscriber in *delivered/s* (`fanout`, `slow`: 100 and 99 times);\n\
         - *lost*, *dup*: totals over the rounds of the expected deliveries that never arrived \
         and of second deliveries of a message; a scenario where any run lost, or duplicated at \
         QoS 2, is flagged ⚠;\n\
         - *p99*: end-to-end latency, publisher's write to subscriber's read;\n\
         - *peak RSS*: the broker's `VmHWM` read at the end of the run (the largest over the \
         rounds);\n\
         - *Tern / broker*: the ratio of the scenario's headline figure: {} (`latency-*`: {}; \
         `million-q1`: {}).\n",
        Metric::Throughput.name(),
        Metric::LatencyP99.name(),
        Metric::Completion.name(),
    );
    let _ = writeln!(
        r,
        "| scenario | broker | delivered/s | acked/s | lost | dup | p99 | peak RSS | Tern / broker |"
    );
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|");
    for s in chosen {
        let tern = metric_stats(runs, s, "tern");
        let flags = flags(runs, &s.id);
        for (i, b) in brokers.iter().enumerate() {
            let id = if i > 0 {
                String::new()
            } else if flags.is_empty() {
                format!("**{}**", s.id)
            } else {
                format!("**{}** {}", s.id, flags.join(" "))
            };
            let ratio_text = match (i, tern, metric_stats(runs, s, &b.name)) {
                (0, _, _) => String::new(),
                (_, Some((t, _, _)), Some((p, _, _))) => ratio(s.metric, t, p),
                _ => "–".into(),
            };
            let _ = writeln!(
                r,
                "| {id} | {} | {} | {} | {} | {} | {} | {} | {ratio_text} |",
                b.name,
                rate_cell(runs, &s.id, &b.name, "delivered_per_s"),
                acked_cell(runs, &s.id, &b.name),
                count_cell(runs, &s.id, &b.name, "lost", true),
                count_cell(
                    runs,
                    &s.id,
                    &b.name,
                    "duplicates",
                    qos_of(runs, &s.id) == Some(2)
                ),
                p99_cell(runs, &s.id, &b.name),
                peak_rss_cell(runs, &s.id, &b.name),
            );
        }
    }
}

/// The QoS a scenario's runs used.
fn qos_of(runs: &[Run], scenario: &str) -> Option<u64> {
    runs.iter()
        .filter(|r| r.scenario == scenario)
        .find_map(|r| r.json["qos"].as_u64())
}

/// Median (min–max) of a rate, or "failed" when no run has it.
fn rate_cell(runs: &[Run], scenario: &str, broker: &str, key: &str) -> String {
    let n = values(runs, scenario, broker).count();
    cell(
        Metric::Throughput,
        field_stats(runs, scenario, broker, |j| j[key].as_f64()),
        n,
    )
}

fn acked_cell(runs: &[Run], scenario: &str, broker: &str) -> String {
    let rate = rate_cell(runs, scenario, broker, "acked_per_s");
    if qos_of(runs, scenario) == Some(0) && rate != "failed" {
        format!("{rate} (sent)")
    } else {
        rate
    }
}

/// A total over the rounds, in bold when it is not 0 and `bad` says it should not be.
fn count_cell(runs: &[Run], scenario: &str, broker: &str, key: &str, bad: bool) -> String {
    if values(runs, scenario, broker).all(|j| j[key].is_null()) {
        return "–".into();
    }
    match sum_u64(runs, scenario, broker, key) {
        n if n > 0 && bad => format!("**{n}**"),
        n => n.to_string(),
    }
}

fn p99_cell(runs: &[Run], scenario: &str, broker: &str) -> String {
    field_stats(runs, scenario, broker, |j| j["latency_us"]["p99"].as_f64())
        .map_or("–".into(), |(m, _, _)| format_us(m))
}

fn peak_rss_cell(runs: &[Run], scenario: &str, broker: &str) -> String {
    max_u64(runs, scenario, broker, "vmhwm_kib").map_or("?".into(), mib)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The idle-connection scenarios: memory per connection, and the ratio.
fn connections_table(r: &mut String, chosen: &[&Scenario], brokers: &[Broker], runs: &[Run]) {
    let _ = writeln!(
        r,
        "\n## Idle connections\n\n*RSS / connection*: (broker RSS after connecting and 1 s \
         of settling − RSS before) / connections held, median over the rounds; *peak RSS*: \
         `VmHWM` at the end of the run.\n"
    );
    let _ = writeln!(
        r,
        "| scenario | broker | held | failed | RSS / connection | peak RSS | Tern / broker |"
    );
    let _ = writeln!(r, "|---|---|---|---|---|---|---|");
    for s in chosen {
        let tern = metric_stats(runs, s, "tern");
        for (i, b) in brokers.iter().enumerate() {
            let n = values(runs, &s.id, &b.name).count();
            let ratio_text = match (i, tern, metric_stats(runs, s, &b.name)) {
                (0, _, _) => String::new(),
                (_, Some((t, _, _)), Some((p, _, _))) => ratio(s.metric, t, p),
                _ => "–".into(),
            };
            let _ = writeln!(
                r,
                "| {} | {} | {} | {} | {} | {} | {ratio_text} |",
                if i == 0 { s.id.as_str() } else { "" },
                b.name,
                sum_u64(runs, &s.id, &b.name, "connected"),
                sum_u64(runs, &s.id, &b.name, "failed"),
                cell(s.metric, metric_stats(runs, s, &b.name), n),
                peak_rss_cell(runs, &s.id, &b.name),
            );
        }
    }
}

/// What became of each `slow` run's stuck subscriber. Its delivered rate, loss and memory
/// are in the results table; this is the rest of its story, one row per run.
fn slow_table(r: &mut String, chosen: &[&Scenario], brokers: &[Broker], runs: &[Run]) {
    let _ = writeln!(
        r,
        "\n## Slow subscriber\n\nOne publisher, open loop, to 100 subscribers of one topic; \
         one of them reads 100 messages, then stops reading and stays connected (it is left \
         out of the expected deliveries). *stopped at*: when it stopped, from the first \
         publish; *held*: how long it was left stuck before the end; *waiting*: messages \
         still readable on its connection at the end (read then, not acknowledged); *end*: \
         how its connection was found at the end (`open`, `closed` by the broker, \
         `DISCONNECT` with its reason code, or `failed`).\n"
    );
    let _ = writeln!(
        r,
        "| scenario | broker | round | read | stopped at | held | waiting | end |"
    );
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|");
    for s in chosen {
        for b in brokers {
            for run in runs
                .iter()
                .filter(|x| x.scenario == s.id && x.broker == b.name)
            {
                let stuck = &run.json["stuck"];
                let secs = |v: &Value| v.as_f64().map_or("–".into(), |x| format!("{x:.2} s"));
                let end = match stuck["end"].as_str() {
                    Some(e) if stuck["disconnected"].as_bool() == Some(true) => format!("**{e}**"),
                    Some(e) => e.to_string(),
                    None => "–".into(),
                };
                let _ = writeln!(
                    r,
                    "| {} | {} | {} | {} | {} | {} | {} | {end} |",
                    s.id,
                    b.name,
                    run.json["round"],
                    stuck["received"],
                    secs(&stuck["stopped_after_s"]),
                    secs(&stuck["held_s"]),
                    stuck["drained_at_end"],
                );
            }
        }
    }
}

/// Per scenario and broker: what was expected and delivered, the host's steal time, errors.
fn details_table(r: &mut String, chosen: &[&Scenario], brokers: &[Broker], runs: &[Run]) {
    let _ = writeln!(
        r,
        "\n## Run details\n\nSums over the rounds. *expected*: deliveries the subscribers \
         should have had, given what the publishers sent; *delivered*: distinct ones they \
         had; *steal*: the largest share of the machine's CPU time its host took away during a \
         round (`/proc/stat`), when the machine is a virtual one: a run with much of it \
         measured the host as much as the broker.\n"
    );
    let _ = writeln!(
        r,
        "| scenario | broker | expected | delivered | steal | errors |"
    );
    let _ = writeln!(r, "|---|---|---|---|---|---|");
    for s in chosen {
        for b in brokers {
            let (expected, delivered) = if s.metric == Metric::RssPerConnection {
                (
                    format!(
                        "{} connections",
                        sum_u64(runs, &s.id, &b.name, "connections")
                    ),
                    format!("{} held", sum_u64(runs, &s.id, &b.name, "connected")),
                )
            } else {
                (
                    sum_u64(runs, &s.id, &b.name, "expected").to_string(),
                    sum_u64(runs, &s.id, &b.name, "unique").to_string(),
                )
            };
            let steal = values(runs, &s.id, &b.name)
                .filter_map(|j| j["host_steal_pct"].as_f64())
                .reduce(f64::max)
                .map_or("?".into(), |p| format!("{p:.0}%"));
            let _ = writeln!(
                r,
                "| {} | {} | {expected} | {delivered} | {steal} | {} |",
                s.id,
                b.name,
                run_errors(runs, &s.id, &b.name).join("; ")
            );
        }
    }
}

/// Every error a broker's runs of a scenario reported, with the deadline and a broker that
/// exited.
fn run_errors(runs: &[Run], scenario: &str, broker: &str) -> Vec<String> {
    values(runs, scenario, broker)
        .flat_map(|j| {
            let mut e: Vec<String> = j["errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            format!("{} ×{}", x["message"].as_str().unwrap_or("?"), x["count"])
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
        .collect()
}

pub(super) fn cpu_model() -> String {
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

pub(super) fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

pub(super) fn format_us(v: f64) -> String {
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
    use serde_json::json;

    fn run(scenario: &str, broker: &str, json: Value) -> Run {
        Run {
            scenario: scenario.into(),
            broker: broker.into(),
            json,
        }
    }

    #[test]
    fn loss_and_qos2_duplicates_are_flagged_qos1_duplicates_are_not() {
        let runs = vec![
            run(
                "a-q1",
                "tern",
                json!({"qos": 1, "lost": 0, "duplicates": 5}),
            ),
            run(
                "a-q1",
                "mosquitto",
                json!({"qos": 1, "lost": 0, "duplicates": 0}),
            ),
            run(
                "b-q2",
                "tern",
                json!({"qos": 2, "lost": 0, "duplicates": 1}),
            ),
            run(
                "c-q0",
                "tern",
                json!({"qos": 0, "lost": 0, "duplicates": 0}),
            ),
            run(
                "c-q0",
                "tern",
                json!({"qos": 0, "lost": 7, "duplicates": 0}),
            ),
            run("d-q0", "rumqttd", json!({"error": "refused"})),
        ];
        assert!(flags(&runs, "a-q1").is_empty());
        assert_eq!(flags(&runs, "b-q2"), ["⚠ QoS 2 DUPLICATES (tern)"]);
        assert_eq!(flags(&runs, "c-q0"), ["⚠ LOSS (tern)"]);
        assert_eq!(flags(&runs, "d-q0"), ["⚠ FAILED (rumqttd)"]);
        assert!(lost_or_duplicated(&runs, "c-q0", "tern"));
        assert!(!lost_or_duplicated(&runs, "a-q1", "tern"));
    }

    #[test]
    fn cells() {
        let runs = vec![
            run(
                "x-q0",
                "tern",
                json!({"qos": 0, "lost": 3, "acked_per_s": 2000.0,
                "latency_us": {"p99": 1500.0}, "vmhwm_kib": 2048}),
            ),
            run(
                "x-q0",
                "tern",
                json!({"qos": 0, "lost": 0, "acked_per_s": 4000.0,
                "latency_us": {"p99": 2500.0}, "vmhwm_kib": 4096}),
            ),
        ];
        assert_eq!(acked_cell(&runs, "x-q0", "tern"), "3.0k (2.0k–4.0k) (sent)");
        assert_eq!(count_cell(&runs, "x-q0", "tern", "lost", true), "**3**");
        assert_eq!(count_cell(&runs, "x-q0", "tern", "duplicates", true), "–");
        assert_eq!(p99_cell(&runs, "x-q0", "tern"), "2.00 ms");
        assert_eq!(peak_rss_cell(&runs, "x-q0", "tern"), "4.0 MiB");
        assert_eq!(
            rate_cell(&runs, "x-q0", "mosquitto", "acked_per_s"),
            "failed"
        );
    }
}
