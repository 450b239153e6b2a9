//! `cargo xtask layers`: the top-level modules of every crate import each other without
//! cycles, and the modules of a crate with a `layers.txt` (the broker) stay on their floors.
//!
//! It reads source text, not the compiler's view: an import is a path `crate::NAME` or a
//! `super::` chain that climbs to the crate root, outside comments, literals and test code,
//! where NAME is a top-level module (`src/NAME.rs` or `src/NAME/`) or a module named in the
//! floors file (which may be a re-exported crate: `pub use tern_codec as codec;`). Paths to
//! items of the crate root (`crate::root`) are not imports of a module. Not seen: names the
//! crate root re-exports from a module (`crate::Item` for `pub use module::Item`), glob imports
//! of the crate root, `self::super::` chains, paths that macros assemble.
//!
//! Test code is exempt, because tests may reach anything: files named `tests.rs`, `*_tests.rs`
//! or `proptests.rs`, files under a `tests/` directory, modules declared `#[cfg(test)] mod x;`
//! (and what they contain), and any item marked `#[cfg(test)]`.
//!
//! The analysis works on in-memory sources (see [`CrateSource`]); only [`run`] reads the disk.

mod cycles;
mod files;
mod floors;
mod rust;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::root;

use cycles::{cycles, describe_cycle};
use files::{crate_dirs, read_crate};
use floors::{floor_problems, parse_floors};
use rust::{lex, root_references, strip_test_code, TestModule, Token};

/// Checks every crate of the repository and prints one line per crate, after its problems.
pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("layers takes no arguments, got {arg:?}"));
    }
    let root = root();
    let dirs = crate_dirs(&root)?;
    let mut problems = 0;
    for dir in &dirs {
        let source = read_crate(&root, dir)?;
        let report = check(&source);
        for problem in &report.problems {
            println!("layers: {}: {problem}", source.name);
        }
        println!("layers: {}", report.summary);
        problems += report.problems.len();
    }
    println!(
        "layers: {} checked, {}",
        plural(dirs.len(), "crate"),
        plural(problems, "problem")
    );
    if problems == 0 {
        Ok(())
    } else {
        Err(format!(
            "the module layers do not hold: {} (listed above)",
            plural(problems, "problem")
        ))
    }
}

/// One crate's sources, read from disk by [`run`] or written by a test.
struct CrateSource {
    /// The package name, which names the crate in messages.
    name: String,
    /// The `src/` directory as messages show it, e.g. `broker/src`.
    src: String,
    /// Every `.rs` file: its path under `src/` (with `/` separators) and its text.
    files: Vec<(String, String)>,
    /// The floors file as messages show it, and its text, if the crate declares floors.
    floors: Option<(String, String)>,
}

/// What [`check`] found in a crate.
struct Report {
    /// `tern: 6 modules, 0 cycles, floors hold`.
    summary: String,
    /// One message per problem (a cycle spans several lines).
    problems: Vec<String>,
}

/// Where an import is.
#[derive(Clone, Debug, PartialEq)]
struct Place {
    file: String,
    line: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The top-level modules of a crate and the imports between them.
struct Graph {
    /// The modules with code outside tests, and the floor modules something imports.
    modules: BTreeSet<String>,
    /// For each (importer, imported): where, at most one place per file (its first).
    imports: BTreeMap<(String, String), Vec<Place>>,
}

/// Finds the cycles, and the floor problems if the crate declares floors.
fn check(source: &CrateSource) -> Report {
    let floors = source.floors.as_ref().map(|(path, text)| {
        let (floors, errors) = parse_floors(text, path);
        (path.as_str(), floors, errors)
    });
    let floor_modules: BTreeSet<String> = floors
        .iter()
        .flat_map(|(_, floors, _)| floors.keys().cloned())
        .collect();
    let graph = build_graph(source, &floor_modules);

    let cycles = cycles(&graph);
    let mut problems: Vec<String> = cycles
        .iter()
        .map(|cycle| describe_cycle(cycle, &graph))
        .collect();
    let mut summary = format!(
        "{}: {}, {}",
        source.name,
        plural(graph.modules.len(), "module"),
        plural(cycles.len(), "cycle")
    );
    if let Some((path, floors, errors)) = floors {
        let before = problems.len();
        problems.extend(errors);
        problems.extend(floor_problems(&graph, &floors, path));
        let holds = problems.len() == before;
        summary.push_str(if holds {
            ", floors hold"
        } else {
            ", floors broken"
        });
    }
    Report { summary, problems }
}

/// Reads every file of the crate and collects the imports between its top-level modules.
/// `floor_modules` are modules too, even without a file (a re-exported crate).
fn build_graph(source: &CrateSource, floor_modules: &BTreeSet<String>) -> Graph {
    let files: Vec<(&str, Vec<Token>, Vec<TestModule>)> = source
        .files
        .iter()
        .map(|(path, text)| {
            let (tokens, test_modules) = strip_test_code(&lex(text));
            (path.as_str(), tokens, test_modules)
        })
        .collect();
    let exempt = TestFiles::new(
        files
            .iter()
            .map(|(path, _, tests)| (*path, tests.as_slice())),
    );

    // The modules of the crate: those with a file that is neither a crate root nor a test.
    let importers: Vec<(&str, Vec<String>, &[Token])> = files
        .iter()
        .filter_map(|(path, tokens, _)| {
            let module = module_path(path)?;
            (!exempt.contains(path, &module)).then_some((*path, module, tokens.as_slice()))
        })
        .collect();
    let mut modules: BTreeSet<String> = importers.iter().map(|(_, m, _)| m[0].clone()).collect();
    let known: BTreeSet<String> = modules.union(floor_modules).cloned().collect();

    let mut imports: BTreeMap<(String, String), Vec<Place>> = BTreeMap::new();
    for (path, module, tokens) in &importers {
        for (name, line) in root_references(tokens, module) {
            if name == module[0] || !known.contains(&name) {
                continue;
            }
            let places = imports
                .entry((module[0].clone(), name.clone()))
                .or_default();
            let file = format!("{}/{path}", source.src);
            if !places.iter().any(|p| p.file == file) {
                places.push(Place { file, line });
            }
            modules.insert(name);
        }
    }
    Graph { modules, imports }
}

/// The module path of a file under `src/` (`foo/bar.rs` and `foo/bar/mod.rs` are
/// `["foo", "bar"]`), or `None` for a crate root: `lib.rs`, `main.rs` and `bin/*` only wire
/// the modules together, so they import from them all.
fn module_path(path: &str) -> Option<Vec<String>> {
    if path == "lib.rs" || path == "main.rs" || path.starts_with("bin/") {
        return None;
    }
    let mut segments: Vec<String> = path
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if segments.len() > 1 && segments.last().is_some_and(|s| s == "mod") {
        segments.pop();
    }
    Some(segments)
}

/// Which files hold only test code.
struct TestFiles {
    /// Modules declared `#[cfg(test)] mod x;`, or whose file is named as a test: all their
    /// files are test code.
    modules: Vec<Vec<String>>,
    /// Files that a `#[cfg(test)] #[path = "..."] mod x;` names, under `src/`.
    files: BTreeSet<String>,
}

impl TestFiles {
    /// Gathers them from every file's path and its `#[cfg(test)] mod x;` declarations.
    fn new<'a>(files: impl Iterator<Item = (&'a str, &'a [TestModule])>) -> TestFiles {
        let mut exempt = TestFiles {
            modules: Vec::new(),
            files: BTreeSet::new(),
        };
        for (path, declared) in files {
            let parent = module_path(path).unwrap_or_default();
            if is_test_file_name(path) {
                exempt.modules.push(parent.clone());
            }
            for test in declared {
                let mut module = parent.clone();
                module.push(test.name.clone());
                exempt.modules.push(module);
                if let Some(file) = &test.path {
                    // `#[path]` is relative to the directory of the declaring file.
                    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
                    exempt.files.insert(normalize(&format!("{dir}/{file}")));
                }
            }
        }
        exempt
    }

    fn contains(&self, path: &str, module: &[String]) -> bool {
        is_test_file_name(path)
            || self.files.contains(path)
            || self.modules.iter().any(|m| module.starts_with(m))
    }
}

/// Whether the file's path says it holds tests: `tests.rs`, `*_tests.rs`, `proptests.rs`, or
/// anything under a `tests/` directory.
fn is_test_file_name(path: &str) -> bool {
    let (dirs, file) = path.rsplit_once('/').unwrap_or(("", path));
    file == "tests.rs"
        || file == "proptests.rs"
        || file.ends_with("_tests.rs")
        || dirs.split('/').any(|dir| dir == "tests")
}

/// `a/./b/../c.rs` → `a/c.rs`; a leading `/` (from an empty directory) is dropped.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// `1 crate`, `2 crates`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests;
