//! The `tern` binary as a user runs it.

use std::process::Command;

/// `tern jwt-gen` and the `[auth]` files of a running broker.
#[path = "cli/auth.rs"]
mod auth;

fn tern(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(args)
        .output()
        .expect("run tern");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn decode_prints_the_packet() {
    let (code, out) = tern(&["decode", "--protocol", "3.1.1", "30 05 00 01 61 68 69"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Publish"), "{out}");
    assert!(out.contains("\"a\""), "{out}");
}

#[test]
fn decode_names_the_broken_rule() {
    let (code, out) = tern(&["decode", "30 06 00 03 61 00 62 00"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[MQTT-1.5.4-2]"), "{out}");
    assert!(out.contains("0x81 (Malformed Packet)"), "{out}");
}

/// A path under the temporary directory that no other test (or test run) uses.
fn temp_file(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "tern-cli-{}-{nanos}-{n}-{name}",
        std::process::id()
    ))
}

#[test]
fn default_config_passes_check_config() {
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("default-config")
        .output()
        .expect("run tern");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(text.contains("[limits]"), "{text}");

    let file = temp_file("default.toml");
    std::fs::write(&file, &text).expect("write the config file");
    let (code, out) = tern(&["check-config", file.to_str().unwrap()]);
    std::fs::remove_file(&file).ok();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(": ok"), "{out}");
}

#[test]
fn check_config_names_the_offending_key() {
    let file = temp_file("bad.toml");
    std::fs::write(&file, "[limits]\nreceive_maximum = 0\n").expect("write the config file");
    let (code, out) = tern(&["check-config", file.to_str().unwrap()]);
    std::fs::remove_file(&file).ok();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("limits.receive_maximum"), "{out}");
    assert!(out.contains("must be at least 1 (got 0)"), "{out}");
}

#[test]
fn start_checks_its_config_first() {
    let file = temp_file("unknown.toml");
    std::fs::write(&file, "[mqtt]\ncolour = \"blue\"\n").expect("write the config file");
    let (code, out) = tern(&["start", "--config", file.to_str().unwrap()]);
    std::fs::remove_file(&file).ok();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("mqtt.colour"), "{out}");
}

/// `tern start` serves MQTT on the address given and stops gracefully on SIGTERM.
#[cfg(unix)]
#[test]
fn start_serves_until_sigterm() {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    // A free loopback port (released just before the broker takes it).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    // The defaults keep state in ./tern-data: a directory of the test's own.
    let dir = temp_file("start-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["start", "--listen", &addr])
        .current_dir(&dir)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tern");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stream = loop {
        match TcpStream::connect(&addr) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                let _ = child.kill();
                panic!("tern did not listen on {addr}: {e}");
            }
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // The defaults serve HTTP on 127.0.0.1:8080 too.
    let mut http = TcpStream::connect("127.0.0.1:8080").expect("HTTP on 127.0.0.1:8080");
    http.write_all(b"GET /healthz HTTP/1.1\r\nHost: tern\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    http.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok\n"),
        "{answer}"
    );
    // An MQTT 3.1.1 CONNECT; the answer must be CONNACK "accepted".
    stream
        .write_all(&[
            0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 1, b'c',
        ])
        .unwrap();
    let mut connack = [0u8; 4];
    stream.read_exact(&mut connack).unwrap();
    assert_eq!(connack, [0x20, 0x02, 0x00, 0x00]);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tern did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(exit.success(), "exit {exit:?}\n{log}");
    assert!(log.contains("listening on"), "{log}");
    assert!(log.contains("client connected"), "{log}");
    assert!(log.contains("shutting down"), "{log}");
    // The 3.1.1 client was closed by the shutdown.
    let mut rest = Vec::new();
    assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0);
    // State is kept by default, in ./tern-data, and readable offline.
    assert!(log.contains("state restored from the store"), "{log}");
    let (code, out) = tern(&["inspect", dir.join("tern-data").to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("sessions: 0"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn version_is_printed() {
    let (code, out) = tern(&["--version"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
}

/// `tern` with `input` on standard input.
fn tern_with_input(args: &[&str], input: &str) -> (i32, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tern");
    // A command that fails early may exit before it reads its input: a broken pipe here is
    // part of what is being tested, not a failure of the test.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().expect("tern ends");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn passwd_adds_lists_and_removes_users() {
    let file = temp_file("passwd");
    let path = file.to_str().unwrap();
    let (code, out) = tern_with_input(&["passwd", "add", path, "alice"], "secret\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("alice: added to"), "{out}");
    let (code, out) = tern_with_input(
        &["passwd", "add", path, "bob", "--iterations", "5000"],
        "hunter2\r\n",
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = tern_with_input(&["passwd", "add", path, "alice"], "other\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("alice: password changed in"), "{out}");

    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("alice:SCRAM-SHA-256$4096:"), "{text}");
    assert!(lines[1].starts_with("bob:SCRAM-SHA-256$5000:"), "{text}");
    let passwords = tern::auth::PasswordFile::parse(&text).unwrap();
    assert!(passwords.get("alice").unwrap().verify_password(b"other"));
    assert!(passwords.get("bob").unwrap().verify_password(b"hunter2"));

    let (code, out) = tern(&["passwd", "list", path]);
    assert_eq!((code, out.as_str()), (0, "alice\nbob\n"));
    let (code, out) = tern(&["passwd", "remove", path, "alice"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = tern(&["passwd", "list", path]);
    assert_eq!((code, out.as_str()), (0, "bob\n"));

    // The file is one a configuration can use.
    let config = temp_file("auth.toml");
    std::fs::write(&config, format!("[auth]\npassword_file = {path:?}\n")).unwrap();
    let (code, out) = tern(&["check-config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    std::fs::remove_file(&config).ok();
    std::fs::remove_file(&file).ok();
}

#[test]
fn passwd_errors_are_clear() {
    let file = temp_file("passwd-errors");
    let path = file.to_str().unwrap();
    let (code, out) = tern(&["passwd", "list", path]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cannot read"), "{out}");
    let (code, out) = tern_with_input(&["passwd", "add", path, "alice"], "");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no password"), "{out}");
    let (code, out) = tern_with_input(&["passwd", "add", path, "a:b"], "x\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cannot contain ':'"), "{out}");
    let (code, out) = tern_with_input(
        &["passwd", "add", path, "alice", "--iterations", "100"],
        "x\n",
    );
    assert_eq!(code, 2, "{out}");
    assert!(!file.exists());

    std::fs::write(&file, "# users\nalice:plain\n").unwrap();
    let (code, out) = tern_with_input(&["passwd", "add", path, "bob"], "x\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("line 2:"), "{out}");
    let (code, out) = tern(&["passwd", "remove", path, "bob"]);
    assert_eq!(code, 1, "{out}");
    let config = temp_file("bad-auth.toml");
    std::fs::write(&config, format!("[auth]\npassword_file = {path:?}\n")).unwrap();
    let (code, out) = tern(&["check-config", config.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("auth.password_file"), "{out}");
    assert!(out.contains("line 2:"), "{out}");

    std::fs::write(&file, "# users\n").unwrap();
    let (code, out) = tern(&["passwd", "remove", path, "bob"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("has no user \"bob\""), "{out}");
    std::fs::remove_file(&config).ok();
    std::fs::remove_file(&file).ok();
}

#[test]
fn logs_can_be_json_lines() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let config = temp_file("json-log.toml");
    std::fs::write(
        &config,
        "[[listener]]\nbind = \"127.0.0.1:0\"\n\n[log]\nformat = \"json\"\n\n\
         [storage]\nmode = \"memory\"\n\n[http]\nenabled = false\n[grpc]\nenabled = false\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["start", "--config", config.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tern");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = stderr.lines().map_while(Result::ok);
    // Up to the line that says where it listens: every line one JSON object.
    let mut found = false;
    for line in lines.by_ref().take(20) {
        let value: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            value["timestamp"].is_string() && value["level"].is_string(),
            "{line}"
        );
        let message = value["fields"]["message"].as_str().unwrap_or_default();
        if message.starts_with("listening on ") {
            found = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    std::fs::remove_file(&config).ok();
    assert!(found, "no \"listening on\" line");
}
