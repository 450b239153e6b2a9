//! Guards the link between the scenarios and the statement catalogs: a scenario may only cite
//! statements that exist in the versions it runs under, every statement marked `scenario` has
//! one, and every statement that binds the server is either proven by a scenario or marked
//! not-testable with a reason.

use std::collections::{BTreeMap, BTreeSet};

use tern_conformance::catalog::{load, Spec};
use tern_conformance::features::{features_dir, load_all, ScenarioInfo};

fn scenarios() -> Vec<ScenarioInfo> {
    load_all(&features_dir()).expect("every feature file parses")
}

/// Ids per specification.
fn ids() -> BTreeMap<Spec, BTreeSet<String>> {
    Spec::ALL
        .iter()
        .map(|&spec| {
            let c = load(spec).expect("catalog");
            (spec, c.statement.into_iter().map(|s| s.id).collect())
        })
        .collect()
}

#[test]
fn every_cited_id_is_in_the_catalog_of_every_version_it_runs_under() {
    let ids = ids();
    let mut problems = Vec::new();
    for sc in scenarios() {
        let versions: Vec<&str> = sc.versions().collect();
        if versions.is_empty() {
            problems.push(format!("{}:{} has no version tag", sc.file, sc.line));
        }
        if sc.statement_ids().next().is_none() {
            problems.push(format!("{}:{} cites no statement", sc.file, sc.line));
        }
        for id in sc.statement_ids() {
            for v in &versions {
                let spec = Spec::of_version_tag(v).expect("version tag");
                if !ids[&spec].contains(id) {
                    problems.push(format!(
                        "{}:{} cites {id}, which MQTT {} does not have (tagged @{v})",
                        sc.file,
                        sc.line,
                        spec.name()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn tags_are_statements_versions_or_capabilities() {
    let mut problems = Vec::new();
    for sc in scenarios() {
        for tag in &sc.tags {
            let known = tag.starts_with("MQTT-")
                || matches!(tag.as_str(), "v3.1" | "v3.1.1" | "v5" | "serial")
                || tag.starts_with("needs-");
            if !known {
                problems.push(format!("{}:{} has unknown tag @{tag}", sc.file, sc.line));
            }
        }
        let configures = sc
            .steps
            .iter()
            .any(|s| s.starts_with("the broker is configured with"));
        if configures && !sc.tags.contains("needs-config") {
            problems.push(format!(
                "{}:{} configures the broker but is not tagged @needs-config",
                sc.file, sc.line
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn scenario_names_are_unique_within_a_feature() {
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for sc in scenarios() {
        if !seen.insert(sc.key()) {
            problems.push(format!(
                "{}:{} repeats the name {:?}",
                sc.file, sc.line, sc.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn statuses_agree_with_the_scenarios() {
    let scenarios = scenarios();
    let mut problems = Vec::new();
    for spec in Spec::ALL {
        let catalog = load(spec).expect("catalog");
        let cited: BTreeSet<&str> = scenarios
            .iter()
            .filter(|sc| sc.versions().any(|v| Spec::of_version_tag(v) == Some(spec)))
            .flat_map(|sc| sc.statement_ids())
            .collect();
        let mut not_testable = 0;
        let mut server = 0;
        for st in &catalog.statement {
            let has = cited.contains(st.id.as_str());
            if st.binds_server() {
                server += 1;
            }
            match st.status.as_str() {
                "scenario" if !has => problems.push(format!(
                    "{} {}: status scenario, but no @{} scenario cites it",
                    spec.name(),
                    st.id,
                    spec.version_tags().join("/@")
                )),
                "pending" if has => problems.push(format!(
                    "{} {}: has scenarios; set its status to scenario (spec/sync_status.py)",
                    spec.name(),
                    st.id
                )),
                "pending" if st.binds_server() => problems.push(format!(
                    "{} {}: binds the server but has neither a scenario nor a not-testable reason",
                    spec.name(),
                    st.id
                )),
                "not-testable" => {
                    not_testable += 1;
                    if st.reason.as_deref().unwrap_or("").len() < 20 {
                        problems.push(format!(
                            "{} {}: not-testable needs a specific reason",
                            spec.name(),
                            st.id
                        ));
                    }
                }
                _ => {}
            }
        }
        // Not-testable stays under 5% of the statements that bind the server.
        if not_testable * 20 >= server {
            problems.push(format!(
                "{}: {not_testable} of {server} server statements are not-testable (5% or more)",
                spec.name()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
