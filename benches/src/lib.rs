//! Tern's benchmarks. The criterion micro-benchmarks live in `benches/`; the load generator
//! that compares Tern with other brokers lives in [`loadgen`] (the `loadgen` binary).

pub mod loadgen;
