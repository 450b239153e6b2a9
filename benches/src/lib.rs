//! Tern's benchmarks. The criterion micro-benchmarks live in `benches/`; the load generator
//! that compares Tern with other brokers will live here.
