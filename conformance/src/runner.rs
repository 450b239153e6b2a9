//! Runs the scenarios: one pass per protocol version, each pass running the scenarios tagged
//! with that version, and records every scenario's outcome for the report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Result;
use cucumber::event::ScenarioFinished;
use cucumber::writer::{Coloring, Verbosity};
use cucumber::{World, WriterExt};
use futures::FutureExt;
use tern::codec::Protocol;

use crate::features::{features_dir, load_all};
use crate::pass::set_current_protocol;
use crate::target::{settings, Target};
use crate::world::MqttWorld;

/// How many scenarios run at once. Each waits mostly on the network or on a quiet period, so
/// many fit on two cores.
const CONCURRENCY: usize = 32;

/// What happened to one scenario in one version's pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed(String),
    /// Not run, and why (a capability the broker under test lacks).
    Skipped(String),
}

/// One scenario's outcome in one version's pass.
#[derive(Clone, Debug)]
pub struct ScenarioRun {
    pub file: String,
    pub name: String,
    /// `v3.1`, `v3.1.1` or `v5`.
    pub version: &'static str,
    pub outcome: Outcome,
}

/// The version passes, in order.
pub const VERSIONS: [(&str, Protocol); 3] = [
    ("v3.1", Protocol::V3_1),
    ("v3.1.1", Protocol::V3_1_1),
    ("v5", Protocol::V5),
];

static RUNS: Mutex<Vec<ScenarioRun>> = Mutex::new(Vec::new());

fn record(run: ScenarioRun) {
    RUNS.lock().unwrap_or_else(|e| e.into_inner()).push(run);
}

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Only these version tags (all when empty).
    pub versions: Vec<String>,
    /// Only scenarios whose name or file contains this text.
    pub name: Option<String>,
}

/// Runs every selected scenario under every version it is tagged with.
pub async fn run(selection: &Selection, log_dir: &PathBuf) -> Result<Vec<ScenarioRun>> {
    std::fs::create_dir_all(log_dir)?;
    // Fail early, with the file named, on a feature that does not parse.
    load_all(&features_dir())?;
    for (tag, protocol) in VERSIONS {
        if !selection.versions.is_empty() && !selection.versions.iter().any(|v| v == tag) {
            continue;
        }
        set_current_protocol(protocol);
        let log = std::fs::File::create(log_dir.join(format!("cucumber-{tag}.log")))?;
        let name = selection.name.clone();
        MqttWorld::cucumber()
            .with_writer(
                cucumber::writer::Basic::new(log, Coloring::Never, Verbosity::Default).summarized(),
            )
            .with_default_cli()
            .max_concurrent_scenarios(CONCURRENCY)
            .after(move |feature, _rule, scenario, finished, _world| {
                let outcome = match finished {
                    ScenarioFinished::StepPassed => Outcome::Passed,
                    ScenarioFinished::StepSkipped => {
                        Outcome::Failed("a step matches no step definition".into())
                    }
                    ScenarioFinished::StepFailed(_, _, e) => Outcome::Failed(
                        e.to_string()
                            .trim_start_matches("Step panicked. Captured output: ")
                            .to_owned(),
                    ),
                    ScenarioFinished::BeforeHookFailed(_) => {
                        Outcome::Failed("the before hook failed".into())
                    }
                };
                record(ScenarioRun {
                    file: file_of(feature),
                    name: scenario.name.clone(),
                    version: tag,
                    outcome,
                });
                async {}.boxed_local()
            })
            .filter_run(features_dir(), move |feature, rule, scenario| {
                let mut tags = feature.tags.iter().chain(rule.iter().flat_map(|r| &r.tags));
                let mut all: Vec<&String> = tags.by_ref().collect();
                all.extend(&scenario.tags);
                all.extend(scenario.examples.iter().flat_map(|e| &e.tags));
                if !all.iter().any(|t| *t == tag) {
                    return false;
                }
                if let Some(name) = &name {
                    if !scenario.name.contains(name.as_str()) && !file_of(feature).contains(name) {
                        return false;
                    }
                }
                if let Some(reason) = skip_reason(&all) {
                    record(ScenarioRun {
                        file: file_of(feature),
                        name: scenario.name.clone(),
                        version: tag,
                        outcome: Outcome::Skipped(reason),
                    });
                    return false;
                }
                true
            })
            .await;
    }
    let mut runs = std::mem::take(&mut *RUNS.lock().unwrap_or_else(|e| e.into_inner()));
    merge_outline_rows(&mut runs);
    Ok(runs)
}

fn file_of(feature: &cucumber::gherkin::Feature) -> String {
    feature
        .path
        .as_ref()
        .and_then(|p| p.file_name())
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Why a scenario cannot run against the broker under test, if it cannot.
fn skip_reason(tags: &[&String]) -> Option<String> {
    let s = settings();
    for tag in tags {
        let Some(cap) = tag.strip_prefix("needs-") else {
            continue;
        };
        if let Target::External { websocket, .. } = &s.target {
            if cap == "config" {
                return Some("configures the broker, which only works in-process".into());
            }
            if cap == "websocket" && websocket.is_none() {
                return Some("no WebSocket listener given (--websocket HOST:PORT/PATH)".into());
            }
        }
        if s.without.iter().any(|w| w == cap) {
            return Some(format!("the broker lacks `{cap}` (--without {cap})"));
        }
    }
    None
}

/// A Scenario Outline reports once per Examples row: keep one outcome, the worst.
fn merge_outline_rows(runs: &mut Vec<ScenarioRun>) {
    let mut merged: BTreeMap<(String, String, &'static str), ScenarioRun> = BTreeMap::new();
    for run in runs.drain(..) {
        let key = (run.file.clone(), run.name.clone(), run.version);
        match merged.get(&key) {
            Some(ScenarioRun {
                outcome: Outcome::Failed(_),
                ..
            }) => {}
            _ => {
                merged.insert(key, run);
            }
        }
    }
    runs.extend(merged.into_values());
}
