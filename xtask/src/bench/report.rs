//! `target/bench/report.md`: medians, ranges, ratios, targets and configurations.

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
         100 ms, over the rounds; *steal*: the largest share of the machine's CPU time its \
         host took away during a round (`/proc/stat`), when the machine is a virtual one. \
         A run with much of it measured the host as much as the broker.\n"
    );
    let _ = writeln!(
        r,
        "| scenario | broker | expected | delivered | lost | dup | peak RSS | steal | errors |"
    );
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|");
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
            let steal = values(runs, &s.id, &b.name)
                .filter_map(|j| j["host_steal_pct"].as_f64())
                .reduce(f64::max)
                .map_or("?".into(), |p| format!("{p:.0}%"));
            if s.metric == Metric::RssPerConnection {
                let _ = writeln!(
                    r,
                    "| {} | {} | {} connections | {} held | {} failed | – | {} | {} | {} |",
                    s.id,
                    b.name,
                    sum_u64(runs, &s.id, &b.name, "connections"),
                    sum_u64(runs, &s.id, &b.name, "connected"),
                    sum_u64(runs, &s.id, &b.name, "failed"),
                    peak,
                    steal,
                    errors.join("; ")
                );
                continue;
            }
            let _ = writeln!(
                r,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.id,
                b.name,
                sum_u64(runs, &s.id, &b.name, "expected"),
                sum_u64(runs, &s.id, &b.name, "unique"),
                sum_u64(runs, &s.id, &b.name, "lost"),
                sum_u64(runs, &s.id, &b.name, "duplicates"),
                peak,
                steal,
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
