//! The coverage report: per statement its status, scenarios and result; per version, chapter
//! and section the totals. Written as `report.json`, `report.md` and a self-contained
//! `report.html`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::catalog::{Catalog, Spec};
use crate::features::ScenarioInfo;
use crate::runner::{Outcome, ScenarioRun};

/// A statement's result in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Passed,
    Failed,
    /// Its scenarios were all skipped (a capability the broker lacks).
    Skipped,
    NotTestable,
    ClientOnly,
    /// Binds the server, but no scenario proves it.
    Untested,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Skipped => "skipped",
            Verdict::NotTestable => "not-testable",
            Verdict::ClientOnly => "client-only",
            Verdict::Untested => "untested",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ScenarioRef {
    pub file: String,
    pub line: usize,
    pub name: String,
    /// Version tag → `passed`, `failed: why` or `skipped: why`.
    pub runs: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct StatementReport {
    pub id: String,
    pub section: String,
    pub level: String,
    pub actor: String,
    pub summary: String,
    pub link: String,
    pub status: String,
    pub reason: Option<String>,
    pub result: Verdict,
    pub scenarios: Vec<ScenarioRef>,
}

/// Counts over the statements that bind the server, except `statements` and `client_only`.
#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub statements: usize,
    pub server_statements: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_testable: usize,
    pub untested: usize,
    pub client_only: usize,
}

impl Totals {
    fn add(&mut self, s: &StatementReport) {
        self.statements += 1;
        if s.actor == "client" {
            self.client_only += 1;
            return;
        }
        self.server_statements += 1;
        match s.result {
            Verdict::Passed => self.passed += 1,
            Verdict::Failed => self.failed += 1,
            Verdict::Skipped => self.skipped += 1,
            Verdict::NotTestable => self.not_testable += 1,
            Verdict::Untested | Verdict::ClientOnly => self.untested += 1,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct VersionReport {
    pub version: String,
    pub document: String,
    #[serde(flatten)]
    pub totals: Totals,
    /// Chapter number → totals.
    pub chapters: BTreeMap<String, Totals>,
    pub statement_list: Vec<StatementReport>,
}

#[derive(Debug, Serialize)]
pub struct ScenarioTotals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub broker: String,
    pub scenarios: ScenarioTotals,
    /// `3.1.1` and `5.0`.
    pub versions: BTreeMap<String, VersionReport>,
    /// Every scenario run that did not pass, for reading first.
    pub problems: Vec<String>,
}

fn chapter(section: &str) -> String {
    section.split('.').next().unwrap_or(section).to_owned()
}

/// Puts the catalogs, the scenarios and the run's outcomes together.
pub fn build(
    broker: &str,
    catalogs: &[(Spec, Catalog)],
    scenarios: &[ScenarioInfo],
    runs: &[ScenarioRun],
) -> Report {
    let mut outcomes: BTreeMap<(String, String), BTreeMap<&str, &Outcome>> = BTreeMap::new();
    for r in runs {
        outcomes
            .entry((r.file.clone(), r.name.clone()))
            .or_default()
            .insert(r.version, &r.outcome);
    }
    let mut versions = BTreeMap::new();
    for (spec, catalog) in catalogs {
        let mut totals = Totals::default();
        let mut chapters: BTreeMap<String, Totals> = BTreeMap::new();
        let mut list = Vec::new();
        for st in &catalog.statement {
            let mut refs = Vec::new();
            let (mut passed, mut failed, mut skipped) = (0, 0, 0);
            for sc in scenarios {
                if !sc.statement_ids().any(|id| id == st.id) {
                    continue;
                }
                let mut runs_of = BTreeMap::new();
                for v in sc.versions() {
                    if Spec::of_version_tag(v) != Some(*spec) {
                        continue;
                    }
                    let text = match outcomes.get(&sc.key()).and_then(|o| o.get(v)) {
                        Some(Outcome::Passed) => {
                            passed += 1;
                            "passed".to_owned()
                        }
                        Some(Outcome::Failed(why)) => {
                            failed += 1;
                            format!("failed: {why}")
                        }
                        Some(Outcome::Skipped(why)) => {
                            skipped += 1;
                            format!("skipped: {why}")
                        }
                        None => "not run".to_owned(),
                    };
                    runs_of.insert(v.to_owned(), text);
                }
                if !runs_of.is_empty() {
                    refs.push(ScenarioRef {
                        file: sc.file.clone(),
                        line: sc.line,
                        name: sc.name.clone(),
                        runs: runs_of,
                    });
                }
            }
            let result = if st.status == "client-only" {
                Verdict::ClientOnly
            } else if st.status == "not-testable" {
                Verdict::NotTestable
            } else if failed > 0 {
                Verdict::Failed
            } else if passed > 0 {
                Verdict::Passed
            } else if skipped > 0 {
                Verdict::Skipped
            } else {
                Verdict::Untested
            };
            let report = StatementReport {
                id: st.id.clone(),
                section: st.section.clone(),
                level: st.level.clone(),
                actor: st.actor.clone(),
                summary: st.summary.clone(),
                link: st.link.clone(),
                status: st.status.clone(),
                reason: st.reason.clone(),
                result,
                scenarios: refs,
            };
            totals.add(&report);
            chapters
                .entry(chapter(&st.section))
                .or_default()
                .add(&report);
            list.push(report);
        }
        versions.insert(
            spec.name().to_owned(),
            VersionReport {
                version: spec.name().to_owned(),
                document: catalog.catalog.document.clone(),
                totals,
                chapters,
                statement_list: list,
            },
        );
    }
    let count = |f: fn(&Outcome) -> bool| runs.iter().filter(|r| f(&r.outcome)).count();
    let mut problems: Vec<String> = runs
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(why) => Some(format!(
                "FAILED {} @{}: {} — {why}",
                r.file, r.version, r.name
            )),
            _ => None,
        })
        .collect();
    problems.sort();
    Report {
        broker: broker.to_owned(),
        scenarios: ScenarioTotals {
            passed: count(|o| *o == Outcome::Passed),
            failed: count(|o| matches!(o, Outcome::Failed(_))),
            skipped: count(|o| matches!(o, Outcome::Skipped(_))),
        },
        versions,
        problems,
    }
}

/// What the broker's dashboard shows of a report (`GET /api/v1/conformance`): the scenario
/// totals, and per version the statement totals and each statement that binds the server,
/// with its result and how many scenarios prove it. No time, date or path goes in: the same
/// tree gives the same text, so the copy built into the broker can be checked against a run.
pub fn coverage(r: &Report) -> Result<String> {
    let versions: Vec<_> = r
        .versions
        .values()
        .map(|v| {
            let statements: Vec<_> = v
                .statement_list
                .iter()
                .filter(|s| s.actor != "client")
                .map(|s| {
                    serde_json::json!({
                        "id": s.id,
                        "section": s.section,
                        "summary": s.summary,
                        "result": s.result,
                        "scenarios": s.scenarios.len(),
                    })
                })
                .collect();
            serde_json::json!({
                "version": v.version,
                "document": v.document,
                "totals": v.totals,
                "statements": statements,
            })
        })
        .collect();
    let coverage = serde_json::json!({ "scenarios": r.scenarios, "versions": versions });
    Ok(serde_json::to_string_pretty(&coverage)? + "\n")
}

/// Writes `report.json`, `report.md` and `report.html` into `dir`.
pub fn write(report: &Report, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(report)?,
    )?;
    std::fs::write(dir.join("report.md"), markdown(report))?;
    std::fs::write(dir.join("report.html"), html(report))?;
    Ok(())
}

fn totals_row(name: &str, t: &Totals) -> String {
    format!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} |\n",
        t.statements,
        t.server_statements,
        t.passed,
        t.failed,
        t.skipped,
        t.not_testable,
        t.untested
    )
}

const TOTALS_HEAD: &str = "| | statements | bind the server | passed | failed | skipped | not testable | untested |\n|---|---|---|---|---|---|---|---|\n";

fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# MQTT conformance report\n");
    let _ = writeln!(s, "Broker: {}\n", r.broker);
    let _ = writeln!(
        s,
        "Scenario runs: {} passed, {} failed, {} skipped.\n",
        r.scenarios.passed, r.scenarios.failed, r.scenarios.skipped
    );
    s.push_str("## Totals by version\n\nCounts are over the statements that bind the server (actor server or both), except the first column.\n\n");
    s.push_str(TOTALS_HEAD);
    for v in r.versions.values() {
        s.push_str(&totals_row(&format!("MQTT {}", v.version), &v.totals));
    }
    for v in r.versions.values() {
        let _ = writeln!(s, "\n## MQTT {} by chapter\n", v.version);
        s.push_str(TOTALS_HEAD);
        for (ch, t) in &v.chapters {
            s.push_str(&totals_row(&format!("chapter {ch}"), t));
        }
    }
    if !r.problems.is_empty() {
        s.push_str("\n## Failures\n\n");
        for p in &r.problems {
            let _ = writeln!(s, "- {p}");
        }
    }
    for v in r.versions.values() {
        let _ = writeln!(s, "\n## MQTT {} statements\n", v.version);
        s.push_str("| statement | actor | result | scenarios |\n|---|---|---|---|\n");
        for st in &v.statement_list {
            let scenarios: Vec<String> = st
                .scenarios
                .iter()
                .map(|sc| format!("{}:{} {}", sc.file, sc.line, sc.name))
                .collect();
            let detail = match (&st.reason, scenarios.is_empty()) {
                (Some(reason), true) => reason.clone(),
                _ => scenarios.join("<br>"),
            };
            let _ = writeln!(
                s,
                "| [{}]({}) | {} | {} | {} |",
                st.id,
                st.link,
                st.actor,
                st.result.label(),
                detail.replace('|', "\\|")
            );
        }
    }
    s
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(r: &Report) -> String {
    let mut s = String::new();
    s.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>MQTT conformance report</title><style>");
    s.push_str("body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}.passed{background:#dff5df}.failed{background:#f9d6d6}.skipped{background:#fff3cd}.untested{background:#f9d6d6}.not-testable,.client-only{background:#eee}details{margin:0}code{font-size:12px}");
    s.push_str("</style></head><body><h1>MQTT conformance report</h1>");
    let _ = write!(
        s,
        "<p>Broker: {}. Scenario runs: {} passed, {} failed, {} skipped.</p>",
        esc(&r.broker),
        r.scenarios.passed,
        r.scenarios.failed,
        r.scenarios.skipped
    );
    let head = "<tr><th></th><th>statements</th><th>bind the server</th><th>passed</th><th>failed</th><th>skipped</th><th>not testable</th><th>untested</th></tr>";
    let row = |name: &str, t: &Totals| {
        format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name), t.statements, t.server_statements, t.passed, t.failed, t.skipped, t.not_testable, t.untested
        )
    };
    let _ = write!(s, "<h2>Totals by version</h2><table>{head}");
    for v in r.versions.values() {
        s.push_str(&row(&format!("MQTT {}", v.version), &v.totals));
    }
    s.push_str("</table>");
    if !r.problems.is_empty() {
        s.push_str("<h2>Failures</h2><ul>");
        for p in &r.problems {
            let _ = write!(s, "<li>{}</li>", esc(p));
        }
        s.push_str("</ul>");
    }
    for v in r.versions.values() {
        let _ = write!(s, "<h2>MQTT {}</h2><table>{head}", esc(&v.version));
        for (ch, t) in &v.chapters {
            s.push_str(&row(&format!("chapter {ch}"), t));
        }
        s.push_str("</table><table><tr><th>statement</th><th>actor</th><th>summary</th><th>result</th><th>scenarios</th></tr>");
        for st in &v.statement_list {
            let mut detail = String::new();
            if st.scenarios.is_empty() {
                if let Some(reason) = &st.reason {
                    detail.push_str(&esc(reason));
                }
            }
            for sc in &st.scenarios {
                let runs: Vec<String> = sc.runs.iter().map(|(v, o)| format!("{v}: {o}")).collect();
                let _ = write!(
                    detail,
                    "<details><summary>{}</summary><code>{}:{}</code><br>{}</details>",
                    esc(&sc.name),
                    esc(&sc.file),
                    sc.line,
                    esc(&runs.join("; "))
                );
            }
            let _ = write!(
                s,
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
                esc(&st.link),
                esc(&st.id),
                esc(&st.actor),
                esc(&st.summary),
                st.result.label(),
                st.result.label(),
                detail
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</body></html>\n");
    s
}
