//! Floors: reading a crate's floors file (`layers.txt`), and finding the modules on no floor
//! and the imports that reach up to a higher floor.

use std::collections::BTreeMap;

use super::{Graph, Place};

/// The floor of each module (1 is the lowest), and the problems with the file: one floor a
/// line, lowest first, module names separated by spaces, `#` starting a comment.
pub(super) fn parse_floors(text: &str, path: &str) -> (BTreeMap<String, usize>, Vec<String>) {
    let mut floors = BTreeMap::new();
    let mut problems = Vec::new();
    let mut floor = 0;
    for (at, line) in text.lines().enumerate() {
        let line_text = line.split('#').next().unwrap_or("");
        let names: Vec<&str> = line_text.split_whitespace().collect();
        if names.is_empty() {
            continue;
        }
        floor += 1;
        for name in names {
            let place = Place {
                file: path.to_string(),
                line: at + 1,
            };
            if !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                problems.push(format!("{place}: {name:?} is not a module name"));
            } else if let Some(first) = floors.get(name) {
                problems.push(format!(
                    "{place}: module {name} is on floor {first} already"
                ));
            } else {
                floors.insert(name.to_string(), floor);
            }
        }
    }
    (floors, problems)
}

/// The modules on no floor, and every import from a floor to a higher one (once per file).
pub(super) fn floor_problems(
    graph: &Graph,
    floors: &BTreeMap<String, usize>,
    path: &str,
) -> Vec<String> {
    let mut problems: Vec<String> = graph
        .modules
        .iter()
        .filter(|module| !floors.contains_key(*module))
        .map(|module| format!("module {module} is on no floor: add it to {path}"))
        .collect();
    for ((from, to), places) in &graph.imports {
        let (Some(&low), Some(&high)) = (floors.get(from), floors.get(to)) else {
            continue; // On no floor: reported above.
        };
        if low < high {
            for place in places {
                problems.push(format!(
                    "{place}: {from} (floor {low}) imports {to} (floor {high}), a higher floor"
                ));
            }
        }
    }
    problems
}
