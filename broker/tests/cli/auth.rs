//! `tern jwt-gen`, and the `[auth]` files of a running `tern start`: a token it prints logs in,
//! and SIGHUP reloads the ACL without dropping connections.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{temp_file, tern};

/// The RSA key pair of `tests/data/jwt`.
fn rsa_keys() -> (String, String) {
    let dir =
        std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"))
            .join("tests/data/jwt");
    let file = |name: &str| dir.join(name).display().to_string();
    (file("rsa-private.pem"), file("rsa-public.pem"))
}

/// `tern start` with this configuration (its listener goes on a free loopback port), killed
/// when dropped.
struct Running {
    child: Child,
    addr: String,
    config: std::path::PathBuf,
}

impl Running {
    fn start(name: &str, config: &str) -> Running {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let file = temp_file(name);
        // Nothing kept: these brokers run side by side, and a data directory takes one.
        let text = format!(
            "[[listener]]\nbind = \"{addr}\"\n\n{config}\n\n[storage]\nmode = \"memory\"\n\n[http]\nenabled = false\n[grpc]\nenabled = false\n"
        );
        std::fs::write(&file, text).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_tern"))
            .args(["start", "--config", file.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tern");
        let mut running = Running {
            child,
            addr,
            config: file,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&running.addr).is_err() {
            if let Ok(Some(exit)) = running.child.try_wait() {
                panic!("tern exited before listening: {exit:?}");
            }
            assert!(Instant::now() < deadline, "tern did not listen in time");
            std::thread::sleep(Duration::from_millis(50));
        }
        running
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
    }

    fn hangup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::remove_file(&self.config).ok();
    }
}

fn string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(s.as_bytes());
    out
}

/// An MQTT 3.1.1 CONNECT, with a user name and password if given.
fn connect_packet(client_id: &str, login: Option<(&str, &str)>) -> Vec<u8> {
    let mut body = string("MQTT");
    body.push(4);
    body.push(if login.is_some() { 0xC2 } else { 0x02 });
    body.extend([0, 60]);
    body.extend(string(client_id));
    if let Some((user, password)) = login {
        body.extend(string(user));
        body.extend(string(password));
    }
    packet(0x10, &body)
}

fn packet(header: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// The CONNACK return code for this login.
fn login(running: &Running, user: &str, password: &str) -> u8 {
    let mut stream = running.connect();
    stream
        .write_all(&connect_packet("jwt", Some((user, password))))
        .unwrap();
    let mut connack = [0u8; 4];
    stream.read_exact(&mut connack).unwrap();
    assert_eq!(connack[..2], [0x20, 0x02], "a CONNACK");
    connack[3]
}

#[test]
fn jwt_gen_prints_tokens_the_broker_accepts() {
    let (private, public) = rsa_keys();
    let (code, token) = tern(&[
        "jwt-gen",
        "--algorithm",
        "RS256",
        "--private-key",
        &private,
        "--user",
        "alice",
        "--expires-in",
        "300",
        "--read",
        "news/#",
    ]);
    assert_eq!(code, 0, "{token}");
    let token = token.trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let running = Running::start(
        "jwt.toml",
        &format!(
            "[auth]\nallow_anonymous = false\nfailed_login_delay_ms = 0\n\n\
             [auth.jwt]\nalgorithm = \"RS256\"\npublic_key_file = {public:?}\n"
        ),
    );
    assert_eq!(
        login(&running, "alice", &token),
        0x00,
        "the token logs alice in"
    );
    assert_eq!(login(&running, "bob", &token), 0x04, "but not bob");
    // One character of the signature changed.
    let at = token.rfind('.').unwrap() + 10;
    let mut tampered = token.clone();
    let other = if &token[at..=at] == "A" { "B" } else { "A" };
    tampered.replace_range(at..=at, other);
    assert_eq!(
        login(&running, "alice", &tampered),
        0x04,
        "a broken signature"
    );
}

#[test]
fn jwt_gen_errors_are_clear() {
    let (code, out) = tern(&["jwt-gen", "--user", "a", "--secret", "short"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("at least 32 bytes"), "{out}");
    let (code, out) = tern(&[
        "jwt-gen",
        "--algorithm",
        "ES256",
        "--private-key",
        "/nonexistent/key.pem",
        "--user",
        "a",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("/nonexistent/key.pem"), "{out}");
    let (code, out) = tern(&[
        "jwt-gen",
        "--user",
        "a",
        "--secret",
        "0123456789abcdef0123456789abcdef",
        "--write",
        "a/#/b",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("a/#/b"), "{out}");
    let (code, out) = tern(&[
        "jwt-gen",
        "--algorithm",
        "HS512",
        "--user",
        "a",
        "--secret",
        "x",
    ]);
    assert_eq!(code, 2, "{out}");
}

/// Sends SUBSCRIBE (packet identifier `id`, QoS 0) and returns the SUBACK's return code.
fn subscribe(stream: &mut TcpStream, id: u16, filter: &str) -> u8 {
    let mut body = id.to_be_bytes().to_vec();
    body.extend(string(filter));
    body.push(0);
    stream.write_all(&packet(0x82, &body)).unwrap();
    let mut suback = [0u8; 5];
    stream.read_exact(&mut suback).unwrap();
    assert_eq!(
        suback[..4],
        [0x90, 0x03, (id >> 8) as u8, id as u8],
        "a SUBACK"
    );
    suback[4]
}

#[cfg(unix)]
#[test]
fn sighup_reloads_the_acl_without_dropping_connections() {
    let acl = temp_file("reload.acl");
    std::fs::write(&acl, "topic readwrite a/#\n").unwrap();
    let running = Running::start(
        "acl.toml",
        &format!("[auth]\nacl_file = {:?}\n", acl.display().to_string()),
    );
    let mut stream = running.connect();
    stream.write_all(&connect_packet("keeper", None)).unwrap();
    let mut connack = [0u8; 4];
    stream.read_exact(&mut connack).unwrap();
    assert_eq!(connack, [0x20, 0x02, 0x00, 0x00]);
    assert_eq!(subscribe(&mut stream, 1, "a/b"), 0x00);
    assert_eq!(subscribe(&mut stream, 2, "b/c"), 0x80);

    std::fs::write(&acl, "topic read b/#\n").unwrap();
    running.hangup();
    // The reload happens in the background: new SUBSCRIBEs see it within a bounded time.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut id = 3;
    while subscribe(&mut stream, id, "b/c") != 0x00 {
        assert!(Instant::now() < deadline, "the ACL was not reloaded");
        std::thread::sleep(Duration::from_millis(50));
        id += 1;
    }
    assert_eq!(subscribe(&mut stream, id + 1, "a/b"), 0x80);
    // Still the same connection, answering.
    stream.write_all(&[0xC0, 0x00]).unwrap();
    let mut pong = [0u8; 2];
    stream.read_exact(&mut pong).unwrap();
    assert_eq!(pong, [0xD0, 0x00]);
    std::fs::remove_file(acl).ok();
}
