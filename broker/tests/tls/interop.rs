//! Third-party clients over TLS: the mosquitto command-line clients with `--cafile` (and a
//! client certificate for mutual TLS), and Python paho-mqtt over WebSocket and WebSocket over
//! TLS. A client that is not installed makes its test print why it skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use tern::config::{CertIdentity, ClientAuth, Transport};

use super::*;

/// Runs `program` with `args`, killing it after `WAIT` twice over; returns its exit code and
/// what it printed. Runs on a blocking thread, so the broker's runtime carries on.
pub(super) async fn run(program: &str, args: Vec<String>) -> (i32, String) {
    let program = program.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(&program)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        let deadline = Instant::now() + WAIT + WAIT;
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// mosquitto_pub publishes a retained message over TLS, mosquitto_sub reads it back, in 3.1.1
/// and 5.0; on a mutual TLS listener that takes the user name from the certificate (anonymous
/// access off), they get in with `--cert`/`--key` and not without.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_clients_over_tls() {
    for program in ["mosquitto_pub", "mosquitto_sub"] {
        if let Some(why) = missing(program) {
            println!("{why}");
            return;
        }
    }
    let pki = Pki::new("mosquitto");
    let mut plain_tls = listener();
    plain_tls.tls = Some(tls(&pki));
    let mut mutual = listener();
    let mut settings = tls(&pki);
    settings.client_ca_file = Some(pki.ca_file());
    settings.client_auth = Some(ClientAuth::Required);
    settings.identity_as_username = Some(CertIdentity::Cn);
    mutual.tls = Some(settings);
    let mut config = config(vec![plain_tls, mutual]);
    config.auth.allow_anonymous = false;
    // Anonymous access is off broker-wide; the first listener checks no certificate, so it
    // gets a password file with one user.
    let mut passwords = tern::auth::PasswordFile::default();
    passwords.set_password("mosq", b"secret", 4096).unwrap();
    let passwd = pki.path("passwd");
    passwords.save(&passwd).unwrap();
    config.auth.password_file = Some(passwd);
    let broker = Broker::start(config).await;
    let ca = pki.ca_file();
    let (cert, key) = pki.write_pair("client", &pki.client("mosquitto-user", &[]));

    for (n, (version, port)) in [
        ("mqttv311", 0),
        ("mqttv5", 0),
        ("mqttv311", 1),
        ("mqttv5", 1),
    ]
    .into_iter()
    .enumerate()
    {
        let port = broker.addrs[port].port().to_string();
        let topic = format!("tern/tls/{n}");
        let mut common = args(&[
            "-h",
            "localhost",
            "-p",
            &port,
            "--cafile",
            path(&ca),
            "-V",
            version,
        ]);
        if port == broker.addrs[1].port().to_string() {
            common.extend(args(&["--cert", path(&cert), "--key", path(&key)]));
        } else {
            common.extend(args(&["-u", "mosq", "-P", "secret"]));
        }
        let mut publish = common.clone();
        publish.extend(args(&["-t", &topic, "-m", "over tls", "-r", "-q", "1"]));
        let (code, out) = run("mosquitto_pub", publish).await;
        assert_eq!(code, 0, "mosquitto_pub {version} on {port}: {out}");
        let mut subscribe = common.clone();
        subscribe.extend(args(&["-t", &topic, "-C", "1", "-W", "10"]));
        let (code, out) = run("mosquitto_sub", subscribe).await;
        assert_eq!(code, 0, "mosquitto_sub {version} on {port}: {out}");
        assert_eq!(out.trim(), "over tls");
    }

    // No client certificate on the mutual TLS listener: refused.
    let port = broker.addrs[1].port().to_string();
    let refused = args(&[
        "-h",
        "localhost",
        "-p",
        &port,
        "--cafile",
        path(&ca),
        "-t",
        "t",
        "-m",
        "x",
    ]);
    let (code, out) = run("mosquitto_pub", refused).await;
    assert_ne!(code, 0, "{out}");
    broker.shutdown().await;
}

/// The interop virtual environment's Python, where `interop/setup.sh` made it.
pub(super) fn interop_python() -> Option<PathBuf> {
    let python = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"))
        .join("../interop/.venv/bin/python");
    python.exists().then_some(python)
}

/// Python paho-mqtt 2.x over WebSocket, and over WebSocket over TLS with the CA file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paho_python_over_websocket_and_wss() {
    let Some(python) = interop_python() else {
        println!("skipped: interop/.venv is missing (run interop/setup.sh)");
        return;
    };
    let pki = Pki::new("paho");
    let mut ws = listener();
    ws.transport = Transport::Websocket;
    let broker = Broker::start(config(vec![ws, websocket::wss_listener(&pki)])).await;
    let script = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"))
        .join("tests/tls/paho_ws.py");
    let ca = pki.ca_file();
    let python = path(&python).to_owned();

    let ws_port = broker.addrs[0].port().to_string();
    let (code, out) = run(
        &python,
        args(&[path(&script), "localhost", &ws_port, "/mqtt"]),
    )
    .await;
    assert_eq!((code, out.trim()), (0, "ok"), "paho over WebSocket: {out}");

    let wss_port = broker.addrs[1].port().to_string();
    let (code, out) = run(
        &python,
        args(&[path(&script), "localhost", &wss_port, "/mqtt", path(&ca)]),
    )
    .await;
    assert_eq!((code, out.trim()), (0, "ok"), "paho over WSS: {out}");
    broker.shutdown().await;
}
