//! The Cucumber suite (a `harness = false` test): `cargo test -p tern-conformance --test
//! conformance -- [--broker HOST:PORT] ...`, or `cargo xtask conformance`.

#[tokio::main]
async fn main() {
    match tern_conformance::main_with_args(std::env::args()).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("conformance: {e:#}");
            std::process::exit(2);
        }
    }
}
