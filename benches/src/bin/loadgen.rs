//! `loadgen`: Tern's MQTT load generator. `loadgen --help` lists the options; see
//! `benches/README.md` for the scenarios and how `cargo xtask bench` uses it.

use clap::Parser;

fn main() {
    let args = tern_benches::loadgen::args::Args::parse();
    std::process::exit(tern_benches::loadgen::main(args));
}
