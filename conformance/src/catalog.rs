//! The statement catalogs in `spec/`: every numbered normative statement of MQTT 3.1.1 and 5.0
//! with its actor and its status in this harness.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Deserialize;

/// One specification's catalog, as `spec/catalog-v*.toml` holds it.
#[derive(Clone, Debug, Deserialize)]
pub struct Catalog {
    pub catalog: Header,
    pub statement: Vec<Statement>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Header {
    pub version: String,
    pub document: String,
    pub statements: usize,
}

/// One statement. Further keys in the file are ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct Statement {
    pub id: String,
    pub section: String,
    pub level: String,
    pub actor: String,
    pub summary: String,
    pub link: String,
    /// `scenario`, `not-testable`, `client-only` or `pending`.
    pub status: String,
    pub reason: Option<String>,
}

impl Statement {
    /// Whether the statement binds the server (actor `server` or `both`).
    pub fn binds_server(&self) -> bool {
        self.actor != "client"
    }
}

/// The two specifications, and the scenario tag of the runs each one's ids are proven in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Spec {
    V3_1_1,
    V5,
}

impl Spec {
    pub const ALL: [Spec; 2] = [Spec::V3_1_1, Spec::V5];

    pub fn file(self) -> &'static str {
        match self {
            Spec::V3_1_1 => "catalog-v3.1.1.toml",
            Spec::V5 => "catalog-v5.0.toml",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Spec::V3_1_1 => "3.1.1",
            Spec::V5 => "5.0",
        }
    }

    /// The version tags whose scenarios prove this specification's statements. MQTT 3.1 has no
    /// numbered statements of its own; its scenarios cite 3.1.1's ids.
    pub fn version_tags(self) -> &'static [&'static str] {
        match self {
            Spec::V3_1_1 => &["v3.1.1", "v3.1"],
            Spec::V5 => &["v5"],
        }
    }

    /// The specification whose ids a version tag's scenarios cite.
    pub fn of_version_tag(tag: &str) -> Option<Spec> {
        match tag {
            "v3.1" | "v3.1.1" => Some(Spec::V3_1_1),
            "v5" => Some(Spec::V5),
            _ => None,
        }
    }
}

/// The repository's `spec/` folder.
pub fn spec_dir() -> PathBuf {
    crate::crate_dir().join("../spec")
}

/// Reads one catalog.
pub fn load(spec: Spec) -> Result<Catalog> {
    let path = spec_dir().join(spec.file());
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}
