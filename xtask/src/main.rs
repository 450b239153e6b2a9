//! `cargo xtask`: the project's orchestration, in Rust so that it runs wherever cargo does.
//!
//! `ci` runs every check CI runs; `layers` checks the imports between the modules of each
//! crate; `conformance` runs the clause-tagged scenarios; `interop` runs real third-party
//! clients; `fuzz` runs the cargo-fuzz targets; `bench` compares Tern with other brokers under
//! load.

mod bench;
mod conformance;
mod interop;
mod layers;
mod procs;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{exit, Command};
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci      everything CI checks: `layers`, formatting, clippy (warnings are errors), every
          test (unit, snapshot, property, spec-example, broker and fuzz-corpus replay tests,
          benches in test mode), then `conformance`, then `interop`
  layers  reads the sources (no build): no crate's top-level modules import each other in
          a cycle, and the broker's modules import only from their own floor or below, as
          broker/layers.txt lists them (test code is exempt); names file:line of each problem
  conformance [--mosquitto | --broker HOST:PORT] [--without CAP,...] [--version TAG]
              [--name TEXT]
          the statement guards, then the Cucumber scenarios against a Tern started
          in-process (or Mosquitto on a free port, or any broker); writes
          target/conformance/report.{json,md,html}; ends with `N passed, M failed`
  interop [--broker HOST:PORT [--ws-port PORT]]
          installs the clients (interop/setup.sh), starts tern (or uses the broker
          given), runs every client's suite, the cross-library matrix and a shared
          subscription across libraries; writes target/interop/report.md; ends with
          `N passed, M failed`
  fuzz [--time SECONDS] [--asan] [TARGET]
          run the cargo-fuzz targets in fuzz/ (all, or TARGET) for SECONDS each
          (default 60) on the stable toolchain; --asan adds AddressSanitizer
          (through RUSTC_BOOTSTRAP=1). Installs cargo-fuzz if it is missing.
  bench [--quick] [--rounds N] [--scenarios A,B] [--compare mosquitto,rumqttd|none]
        [--payload BYTES] [--window N] [--inflight N] [--tern-set KEY=VALUE]...
        [--storage] [--scrape RATE] [--logins RATE] [--broker-cpus LIST] [--load-cpus LIST]
        [--no-pin]
        [--list]
          builds tern and the load generator in release, runs each scenario against
          Tern and each peer installed (alternately, 3 rounds, a fresh broker per
          run, broker and load pinned to separate cores), writes
          target/bench/report.md, results.jsonl and plot.svg. --quick: small counts,
          one round. --scenarios takes ids or families (--list shows them).
          --tern-set overrides a [limits] key of Tern's benchmark configuration.
          --storage: persistent sessions (subscribers with Clean Session 0); Tern
          with its store on disk, Tern in memory (tern-memory), Mosquitto with
          persistence; rumqttd, which keeps nothing, is left out. --scrape RATE: the
          load generator also asks Tern's HTTP listener for /metrics and
          /api/v1/clients, RATE times a second (a scrape storm). --logins RATE: it also
          logs in with a password RATE times a second (Tern gets a password file).
";

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("layers") => layers::run(&args[1..]),
        Some("conformance") => conformance::run(&args[1..]),
        Some("interop") => interop::run(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
        None => Err(USAGE.to_string()),
    };
    if let Err(message) = result {
        eprintln!("xtask: {message}");
        exit(1);
    }
}

/// The repository root: the parent of this crate's directory. `cargo run` names that
/// directory at run time; the path compiled in is only the fallback, because a binary reused
/// from a shared target directory may have been built in another clone.
fn root() -> PathBuf {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR` (relative to the root, where cargo
/// runs), or the root's `target/`. Reports stay in the root's `target/` either way.
fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Runs `cargo` with `args` at the root, echoing the command and its duration.
fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_in(&root(), args)
}

/// Runs `cargo` with `args` in `dir`, echoing the command and its duration.
fn cargo_in(dir: &Path, args: &[&str]) -> Result<(), String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("\n==> cargo {}", args.join(" "));
    let started = Instant::now();
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    println!(
        "<== cargo {} ({:.1} s)",
        args.first().unwrap_or(&""),
        started.elapsed().as_secs_f64()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

fn ci() -> Result<(), String> {
    // First, because it needs no build and fails in a second.
    layers::run(&[])?;
    // insta fails on a missing snapshot instead of writing one when CI is set.
    env::set_var("CI", "true");
    // The workspace build needs cmake (paho-mqtt builds the Paho C library), and the interop
    // run needs its clients: install what is missing first.
    interop::setup()?;
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    // The conformance suite runs last, on its own, so that its summary ends the output.
    cargo(&[
        "test",
        "--workspace",
        "--exclude",
        "tern-conformance",
        "--all-targets",
        "--locked",
    ])?;
    // Doc tests are not part of --all-targets.
    cargo(&["test", "--workspace", "--doc", "--locked"])?;
    // The library's reference (`tern::embed` and what it re-exports) builds without a broken
    // link or a warning.
    env::set_var("RUSTDOCFLAGS", "-D warnings");
    cargo(&["doc", "-p", "tern", "--no-deps", "--locked"])?;
    env::remove_var("RUSTDOCFLAGS");
    conformance::run(&[])?;
    conformance::coverage_is_committed()?;
    interop::run(&[])
}

fn fuzz(args: &[String]) -> Result<(), String> {
    let mut seconds: u64 = 60;
    let mut asan = false;
    let mut only = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--time" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--time takes a number of seconds")?;
            }
            "--asan" => asan = true,
            target if !target.starts_with('-') && only.is_none() => only = Some(target.to_string()),
            other => return Err(format!("unexpected argument {other:?}\n\n{USAGE}")),
        }
    }
    let dir = root().join("fuzz");
    let cargo_bin = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let has_cargo_fuzz = Command::new(&cargo_bin)
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        cargo(&["install", "cargo-fuzz", "--locked"])?;
    }
    let targets = match only {
        Some(t) => vec![t],
        None => {
            let out = Command::new(&cargo_bin)
                .args(["fuzz", "list"])
                .current_dir(&dir)
                .output()
                .map_err(|e| format!("cannot run cargo fuzz list: {e}"))?;
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        }
    };
    if asan {
        // AddressSanitizer needs unstable flags; this lets the stable toolchain pass them.
        env::set_var("RUSTC_BOOTSTRAP", "1");
    }
    let time = format!("-max_total_time={seconds}");
    let dict = dir.join("mqtt.dict");
    for target in &targets {
        let corpus = format!("corpus/{target}");
        std::fs::create_dir_all(dir.join(&corpus)).map_err(|e| format!("{corpus}: {e}"))?;
        let mut run: Vec<&str> = vec!["fuzz", "run"];
        if !asan {
            run.extend(["--sanitizer", "none"]);
        }
        run.extend([target.as_str(), corpus.as_str(), "--", time.as_str()]);
        let dict_arg = format!("-dict={}", dict.display());
        if dict.exists() {
            run.push(&dict_arg);
        }
        cargo_in(&dir, &run)?;
    }
    println!(
        "\nxtask fuzz: {} target(s) ran {seconds} s each without a finding",
        targets.len()
    );
    Ok(())
}
