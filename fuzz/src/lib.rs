//! The checks behind the fuzz targets, as a library so that the targets stay five lines long.
//! `broker/tests/fuzz_replay.rs` compiles the same `checks.rs` into `cargo test`.

pub mod checks;
