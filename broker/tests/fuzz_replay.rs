//! Replays every fuzz corpus file and every past crash input through the checks of the fuzz
//! targets, so that a plain `cargo test` keeps what the fuzzers found fixed.
//!
//! The checks are the same file the fuzz targets call (`fuzz/src/checks.rs`); libFuzzer is not
//! needed here. Each target has its corpus in `fuzz/corpus/<target>/` and its minimised crash
//! inputs in `fuzz/regressions/<target>/`; a missing directory holds no files.

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use std::fs;
use std::path::{Path, PathBuf};

/// The files of `fuzz/<kind>/<target>/`, sorted; none if the directory does not exist.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"))
        .join("../fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` on every corpus file and regression of `target`; a panic names the file.
fn replay(target: &str, check: fn(&[u8])) {
    let corpus = inputs("corpus", target);
    let regressions = inputs("regressions", target);
    for path in corpus.iter().chain(&regressions) {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        if let Err(panic) = outcome {
            eprintln!("{target}: {} fails", path.display());
            std::panic::resume_unwind(panic);
        }
    }
    let total = corpus.len() + regressions.len();
    eprintln!(
        "{target}: replayed {} corpus files and {} regressions",
        corpus.len(),
        regressions.len()
    );
    if Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"))
        .join("../fuzz/corpus")
        .is_dir()
    {
        assert!(
            total > 0,
            "{target}: no corpus file and no regression to replay"
        );
    }
}

#[test]
fn decode() {
    replay("decode", checks::decode);
}

#[test]
fn roundtrip() {
    replay("roundtrip", checks::roundtrip);
}

#[test]
fn stream() {
    replay("stream", checks::stream);
}

#[test]
fn topic() {
    replay("topic", checks::topic);
}

#[test]
fn session() {
    replay("session", checks::session);
}
