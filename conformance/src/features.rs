//! The scenarios on disk: every `.feature` file under `conformance/features/`, read with the
//! same Gherkin parser cucumber uses, so the guard and the report see what the runner runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use cucumber::gherkin::{self, GherkinEnv};

/// One scenario and the tags that apply to it (its feature's, its rule's and its own).
#[derive(Clone, Debug)]
pub struct ScenarioInfo {
    /// The feature file, relative to the features folder.
    pub file: String,
    pub feature: String,
    pub name: String,
    pub line: usize,
    pub tags: BTreeSet<String>,
    /// The text of every step, for checks such as "configures the broker".
    pub steps: Vec<String>,
}

impl ScenarioInfo {
    /// The statement ids it proves: tags of the form `MQTT-x.y.z-n`.
    pub fn statement_ids(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| t.starts_with("MQTT-"))
    }

    /// The versions it runs under: `v3.1`, `v3.1.1`, `v5`.
    pub fn versions(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| matches!(*t, "v3.1" | "v3.1.1" | "v5"))
    }

    /// The key results are recorded under.
    pub fn key(&self) -> (String, String) {
        (self.file.clone(), self.name.clone())
    }
}

/// The folder the features live in.
pub fn features_dir() -> PathBuf {
    crate::crate_dir().join("features")
}

/// Every scenario of every feature file, in file order.
pub fn load_all(dir: &Path) -> Result<Vec<ScenarioInfo>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "feature"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let feature = gherkin::Feature::parse_path(&path, GherkinEnv::default())
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let scenarios = feature.scenarios.iter().map(|s| (None, s)).chain(
            feature
                .rules
                .iter()
                .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
        );
        for (rule, s) in scenarios {
            let mut tags: BTreeSet<String> = feature.tags.iter().cloned().collect();
            tags.extend(rule.iter().flat_map(|r| r.tags.iter().cloned()));
            tags.extend(s.tags.iter().cloned());
            for examples in &s.examples {
                tags.extend(examples.tags.iter().cloned());
            }
            let mut steps: Vec<String> = Vec::new();
            if let Some(bg) = &feature.background {
                steps.extend(bg.steps.iter().map(|st| st.value.clone()));
            }
            steps.extend(s.steps.iter().map(|st| st.value.clone()));
            out.push(ScenarioInfo {
                file: file.clone(),
                feature: feature.name.clone(),
                name: s.name.clone(),
                line: s.position.line,
                tags,
                steps,
            });
        }
    }
    Ok(out)
}
