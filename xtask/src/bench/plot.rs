//! `target/bench/plot.svg`: throughput and latency per scenario and broker, drawn by hand.

use super::*;

/// A hand-written SVG: throughput bars (one panel row per scenario, scaled to that scenario's
/// best broker, with min–max whiskers) and latency percentiles (log scale).
pub(super) fn plot(chosen: &[&Scenario], brokers: &[Broker], runs: &[Run]) -> String {
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
