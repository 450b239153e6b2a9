//! Finding and reading the crates: the crate directories of the workspace, each crate's `.rs`
//! files and floors file, and the few TOML values that needs. The only part that touches the
//! disk.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::CrateSource;

/// The file, next to a crate's `Cargo.toml`, that declares the floors of its modules.
const FLOORS_FILE: &str = "layers.txt";

/// The crate directories, relative to the root with `/` separators, sorted: the workspace
/// members, the directories it excludes (`fuzz` is a crate of its own workspace), and any crate
/// one level inside those (a crate split out of the broker, such as `broker/codec`, is checked
/// even before it is listed). Only directories with a `Cargo.toml` and a `src/` count.
pub(super) fn crate_dirs(root: &Path) -> Result<Vec<String>, String> {
    let manifest = read_text(&root.join("Cargo.toml"))?;
    let mut listed = toml_array(&manifest, "workspace", "members");
    listed.extend(toml_array(&manifest, "workspace", "exclude"));
    let mut dirs = BTreeSet::new();
    for dir in listed {
        let dir = dir.trim_end_matches('/').to_string();
        let Ok(entries) = fs::read_dir(root.join(&dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.path().join("Cargo.toml").is_file() {
                dirs.insert(format!("{dir}/{}", entry.file_name().to_string_lossy()));
            }
        }
        dirs.insert(dir);
    }
    Ok(dirs
        .into_iter()
        .filter(|dir| {
            let dir = root.join(dir);
            dir.join("Cargo.toml").is_file() && dir.join("src").is_dir()
        })
        .collect())
}

/// Reads the crate in `dir` (relative to `root`): its package name, its `.rs` files under
/// `src/`, and its floors file if it has one.
pub(super) fn read_crate(root: &Path, dir: &str) -> Result<CrateSource, String> {
    let manifest = read_text(&root.join(dir).join("Cargo.toml"))?;
    let name = toml_string(&manifest, "package", "name").unwrap_or_else(|| dir.to_string());
    let mut files = Vec::new();
    collect_rust_files(&root.join(dir).join("src"), "", &mut files)?;
    files.sort();
    let floors_path = root.join(dir).join(FLOORS_FILE);
    let floors = if floors_path.is_file() {
        Some((format!("{dir}/{FLOORS_FILE}"), read_text(&floors_path)?))
    } else {
        None
    };
    Ok(CrateSource {
        name,
        src: format!("{dir}/src"),
        files,
        floors,
    })
}

/// Appends every `.rs` file under `dir` to `files`, as (path under `src/`, text); `prefix` is
/// the path of `dir` under `src/` (empty or ending with `/`).
fn collect_rust_files(
    dir: &Path,
    prefix: &str,
    files: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            collect_rust_files(&path, &format!("{prefix}{name}/"), files)?;
        } else if name.ends_with(".rs") {
            files.push((format!("{prefix}{name}"), read_text(&path)?));
        }
    }
    Ok(())
}

fn read_text(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The strings of `key = [ ... ]` (possibly over several lines) in `[section]` of a TOML file.
/// Enough for Cargo manifests; not a TOML parser.
pub(super) fn toml_array(toml: &str, section: &str, key: &str) -> Vec<String> {
    let mut lines = toml.lines();
    let mut value = match find_toml_value(&mut lines, section, key) {
        Some(value) => value,
        None => return Vec::new(),
    };
    while !value.contains(']') {
        match lines.next() {
            Some(line) => value.push_str(strip_toml_comment(line)),
            None => break,
        }
    }
    // In `["a", "b"]`, the strings are every other piece between quotes.
    value
        .split('"')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

/// The string value of `key = "..."` in `[section]` of a TOML file.
pub(super) fn toml_string(toml: &str, section: &str, key: &str) -> Option<String> {
    let value = find_toml_value(&mut toml.lines(), section, key)?;
    Some(value.trim().trim_matches('"').to_string())
}

/// Advances `lines` past the line `key = VALUE` of `[section]` and returns VALUE (the rest of
/// that line, without its comment).
fn find_toml_value<'a>(
    lines: &mut impl Iterator<Item = &'a str>,
    section: &str,
    key: &str,
) -> Option<String> {
    let header = format!("[{section}]");
    let mut in_section = false;
    for line in lines {
        let line = strip_toml_comment(line).trim();
        if line.starts_with('[') {
            in_section = line == header;
        } else if in_section {
            if let Some((name, value)) = line.split_once('=') {
                if name.trim() == key {
                    return Some(value.to_string());
                }
            }
        }
    }
    None
}

/// `line` without its `#` comment (a `#` inside a string is kept).
fn strip_toml_comment(line: &str) -> &str {
    let mut in_string = false;
    for (at, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..at],
            _ => {}
        }
    }
    line
}
