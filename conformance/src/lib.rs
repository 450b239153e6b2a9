//! The compliance harness: Cucumber scenarios, each tagged with the normative statements of
//! MQTT 3.1.1 / 5.0 it proves, run against Tern or any other broker, and a coverage report per
//! statement.
//!
//! - [`client`]: the raw-packet test connection;
//! - [`fields`] and [`packets`]: the notation scenarios write packets in;
//! - [`scope`]: keeps concurrent scenarios apart on one broker;
//! - [`world`] and [`steps`]: the scenario world and the steps that drive it ([`steps::auth`]:
//!   password files and SCRAM);
//! - [`target`]: the broker under test, in-process or by address;
//! - [`catalog`] and [`features`]: the statement catalogs and the scenarios on disk;
//! - [`runner`] and [`report`]: the version passes and what they write.
//!
//! `cargo xtask conformance [--broker HOST:PORT]` is the way in; `cargo test -p
//! tern-conformance` runs the same thing.

pub mod catalog;
pub mod client;
pub mod features;
pub mod fields;
pub mod packets;
pub mod pass;
pub mod report;
pub mod runner;
pub mod scope;
pub mod state;
pub mod steps;
pub mod target;
pub mod world;

use std::net::ToSocketAddrs;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};

use crate::catalog::Spec;
use crate::runner::{Outcome, Selection};
use crate::target::{RunSettings, Target};

/// Where the report goes: the workspace's `target/conformance/`, whatever `CARGO_TARGET_DIR`
/// says, so that a reader finds it at the documented place.
pub fn default_report_dir() -> PathBuf {
    crate_dir().join("../target/conformance")
}

/// This crate's folder. Cargo names it at run time; the path compiled in is only the
/// fallback, because a binary reused from a shared target directory may have been built in
/// another clone of the repository.
pub fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The coverage the broker builds into its dashboard (see [`report::coverage`]), rewritten by
/// every run of the whole suite against Tern.
pub fn coverage_file() -> PathBuf {
    crate_dir().join("../broker/src/server/http/conformance.json")
}

const USAGE: &str = "\
usage: conformance [--broker HOST:PORT] [--without CAP,...] [--version v3.1|v3.1.1|v5]...
                   [--name TEXT] [--report DIR]

  --broker HOST:PORT  run against a broker already listening there (default: a Tern started
                      in this process for each scenario)
  --websocket HOST:PORT/PATH
                      the other broker's MQTT-over-WebSocket listener (scenarios tagged
                      @needs-websocket are skipped without it)
  --without CAP,...   the broker lacks these capabilities: scenarios tagged @needs-CAP are
                      reported as skipped (e.g. shared-subscriptions, v3.1)
  --version TAG       run only this version's pass (repeatable)
  --name TEXT         run only scenarios whose name or feature file contains TEXT
  --report DIR        where report.{json,md,html} go (default: target/conformance)";

fn resolve(addr: &str) -> Result<std::net::SocketAddr> {
    addr.to_socket_addrs()
        .with_context(|| format!("address {addr}"))?
        .next()
        .ok_or_else(|| anyhow!("{addr}: no address"))
}

/// Runs the suite as the command line asks and returns the process exit code.
pub async fn main_with_args(args: impl IntoIterator<Item = String>) -> Result<i32> {
    let mut settings = RunSettings {
        target: Target::InProcess,
        without: Vec::new(),
    };
    let mut selection = Selection::default();
    let mut report_dir = default_report_dir();
    let mut broker_name = "Tern (in-process, one per scenario)".to_owned();
    let mut websocket = None;
    let mut args = args.into_iter().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--broker" => {
                let addr = value()?;
                let resolved = resolve(&addr)?;
                settings.target = Target::External {
                    addr: resolved,
                    websocket: websocket.clone(),
                };
                broker_name = addr;
            }
            "--websocket" => {
                let text = value()?;
                let (host, path) = match text.find('/') {
                    Some(i) => (&text[..i], &text[i..]),
                    None => (text.as_str(), "/mqtt"),
                };
                let addr = resolve(host)?;
                websocket = Some((addr, path.to_owned()));
                if let Target::External { websocket: ws, .. } = &mut settings.target {
                    *ws = websocket.clone();
                }
            }
            "--without" => settings
                .without
                .extend(value()?.split(',').map(|s| s.trim().to_owned())),
            "--version" => selection.versions.push(value()?),
            "--name" => selection.name = Some(value()?),
            "--report" => report_dir = PathBuf::from(value()?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(0);
            }
            // What cargo test hands every test binary: a filter, or libtest's own flags.
            other if other.starts_with('-') => {
                eprintln!("conformance: ignoring {other}");
            }
            other => selection.name = Some(other.to_owned()),
        }
    }
    for v in &selection.versions {
        if !runner::VERSIONS.iter().any(|(tag, _)| tag == v) {
            bail!("--version {v}: one of v3.1, v3.1.1, v5");
        }
    }
    // Only a run of everything against Tern itself speaks for the tree it was built from.
    let whole_tern_run = matches!(settings.target, Target::InProcess)
        && settings.without.is_empty()
        && selection.versions.is_empty()
        && selection.name.is_none();
    target::install(settings);

    let runs = runner::run(&selection, &report_dir).await?;
    let scenarios = features::load_all(&features::features_dir())?;
    let mut catalogs = Vec::new();
    for spec in Spec::ALL {
        catalogs.push((spec, catalog::load(spec)?));
    }
    let report = report::build(&broker_name, &catalogs, &scenarios, &runs);
    report::write(&report, &report_dir)?;
    if whole_tern_run {
        let path = coverage_file();
        std::fs::write(&path, report::coverage(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("coverage built into the dashboard: {}", path.display());
    }

    for p in &report.problems {
        println!("{p}");
    }
    for v in report.versions.values() {
        let t = &v.totals;
        println!(
            "MQTT {}: {} of {} server statements passed, {} failed, {} skipped, {} not testable, {} untested",
            v.version, t.passed, t.server_statements, t.failed, t.skipped, t.not_testable, t.untested
        );
    }
    let skipped = runs
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
        .count();
    println!(
        "report: {}/report.{{json,md,html}}; {skipped} scenario runs skipped",
        report_dir.display()
    );
    println!(
        "{} passed, {} failed",
        report.scenarios.passed, report.scenarios.failed
    );
    Ok(if report.scenarios.failed > 0 { 1 } else { 0 })
}
