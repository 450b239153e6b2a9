//! `cargo xtask conformance`: the statement guards, then the Cucumber suite, against Tern or
//! another broker.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::procs::{find_mosquitto, free_port};
use crate::{cargo, root};

/// The file the whole suite's run against Tern rewrites, and the broker builds into its
/// dashboard.
const COVERAGE: &str = "broker/src/server/http/conformance.json";

/// Fails if the run just made left the dashboard's coverage different from the committed
/// one: the binary would show what this tree's suite no longer gives.
pub fn coverage_is_committed() -> Result<(), String> {
    let status = Command::new("git")
        .args(["status", "--porcelain", "--", COVERAGE])
        .current_dir(root())
        .output();
    match status {
        Ok(out) if out.status.success() => {
            if out.stdout.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{COVERAGE} changed with this run of the conformance suite: the dashboard \
                     shows the committed one, so commit it"
                ))
            }
        }
        _ => {
            println!("xtask: not a git checkout, {COVERAGE} not compared with the run");
            Ok(())
        }
    }
}

/// Runs the guards and the suite. `--mosquitto` starts Mosquitto on a free loopback port and
/// runs the suite against it (report in `target/conformance/mosquitto/`); every other argument
/// goes to the suite (`--broker HOST:PORT`, `--without CAP`, `--version TAG`, `--name TEXT`).
pub fn run(args: &[String]) -> Result<(), String> {
    cargo(&[
        "test",
        "-p",
        "tern-conformance",
        "--lib",
        "--test",
        "guard",
        "--test",
        "catalog",
        "--locked",
    ])?;
    let mut suite: Vec<String> = Vec::new();
    let mut mosquitto = None;
    for arg in args {
        if arg == "--mosquitto" {
            let (child, addr, ws) = start_mosquitto()?;
            mosquitto = Some(Guard(child));
            let report = root().join("target/conformance/mosquitto");
            suite.extend([
                "--broker".into(),
                addr.to_string(),
                "--websocket".into(),
                format!("{ws}/mqtt"),
                "--report".into(),
                report.display().to_string(),
            ]);
        } else {
            suite.push(arg.clone());
        }
    }
    let mut command: Vec<&str> = vec![
        "test",
        "-p",
        "tern-conformance",
        "--test",
        "conformance",
        "--locked",
        "--",
    ];
    command.extend(suite.iter().map(String::as_str));
    // Run without the closing timing line of `cargo()`, so that the suite's own
    // `N passed, M failed` stays the last line of the output.
    println!("\n==> cargo {}", command.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(&command)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    drop(mosquitto);
    if status.success() {
        Ok(())
    } else {
        Err(format!("the conformance suite failed ({status})"))
    }
}

/// Kills the broker it holds when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `mosquitto` with a configuration that listens on a free loopback port, lets anyone
/// in, persists nothing and queues enough that no scenario loses a message to a limit.
fn start_mosquitto() -> Result<(Child, SocketAddr, SocketAddr), String> {
    let port = free_port()?;
    let ws_port = free_port()?;
    let dir = root().join("target/conformance");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "per_listener_settings false\nallow_anonymous true\npersistence false\n\
             max_queued_messages 1000\nmax_inflight_messages 32\nlog_dest stderr\n\
             log_type error\nlistener {port} 127.0.0.1\nlistener {ws_port} 127.0.0.1\n\
             protocol websockets\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let child = Command::new(find_mosquitto())
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!("cannot start mosquitto ({e}); install it with `apt-get install mosquitto`")
        })?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("mosquitto did not listen on {addr} within 10 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("mosquitto listening on {addr} ({})", conf.display());
    Ok((
        child,
        addr,
        SocketAddr::from((Ipv4Addr::LOCALHOST, ws_port)),
    ))
}
