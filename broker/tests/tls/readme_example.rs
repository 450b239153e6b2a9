//! The secure configuration the README shows (`examples/secure/`: TLS, a password file, an
//! ACL) does what the README says: alice and bob log in over TLS with their passwords, a wrong
//! password is refused, alice may publish the public topics and bob may not read alice's.
//!
//! The files are used as they are in the repository; only the listener's address (port 0 on
//! loopback) and the paths of the certificate, password and ACL files (a temporary directory)
//! are changed, since the README runs it from the example's own directory.

use std::io::Write;
use std::process::{Command, Stdio};

use super::*;

/// The example's folder.
fn example(file: &str) -> std::path::PathBuf {
    let broker = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo");
    std::path::Path::new(&broker)
        .join("../examples/secure")
        .join(file)
}

/// `tern passwd add FILE USER`, the password on standard input, as the README does it.
fn add_user(file: &std::path::Path, user: &str, password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["passwd", "add"])
        .arg(file)
        .arg(user)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("tern passwd");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    assert!(child.wait().unwrap().success(), "tern passwd add {user}");
}

/// A 5.0 packet with a one-byte Remaining Length.
fn packet(header: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    [&[header, body.len() as u8][..], body].concat()
}

fn string(s: &str) -> Vec<u8> {
    [&(s.len() as u16).to_be_bytes()[..], s.as_bytes()].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_secure_example_works() {
    let pki = Pki::new("readme-example");
    let text = std::fs::read_to_string(example("tern.toml")).unwrap();
    // Parsed without `validate`, which would look for the files relative to this process.
    let mut config: Config = toml::from_str(&text).expect("the example parses as it is");
    std::fs::copy(example("acl"), pki.path("acl")).unwrap();
    let (cert, key) = pki.write_pair("server", &pki.server("main"));
    let passwd = pki.path("passwd");
    add_user(&passwd, "alice", "s3cret");
    add_user(&passwd, "bob", "hunter2");

    let tls = config.listeners[0]
        .tls
        .as_mut()
        .expect("the example listens with TLS");
    tls.cert_file = cert;
    tls.key_file = key;
    config.listeners[0].bind = "127.0.0.1:0".parse().unwrap();
    config.auth.password_file = Some(passwd);
    config.auth.acl_file = Some(pki.path("acl"));
    config.auth.failed_login_delay_ms = 0;
    let broker = Broker::start(config).await;
    let client = client_config(&pki, None, BOTH);

    // A wrong password: 0x86 Bad User Name or Password.
    let connect = connect_packet(5, "bob-1", Some("bob"), Some("wrong"), &[]);
    let (connack, _) = mqtt_over_tls(broker.addr(), client.clone(), &connect)
        .await
        .unwrap();
    assert_eq!(connack_code(&connack), 0x86);

    // No credentials: anonymous access is off.
    let connect = connect_packet(5, "anon", None, None, &[]);
    let (connack, _) = mqtt_over_tls(broker.addr(), client.clone(), &connect)
        .await
        .unwrap();
    assert_eq!(connack_code(&connack), 0x87);

    // bob gets in, reads the public topics, and may not read alice's own topics.
    let connect = connect_packet(5, "bob-2", Some("bob"), Some("hunter2"), &[]);
    let (connack, mut bob) = mqtt_over_tls(broker.addr(), client.clone(), &connect)
        .await
        .unwrap();
    assert_eq!(connack_code(&connack), 0x00);
    let sub = |id: u8, filter: &str| {
        let body = [&[0, id, 0][..], &string(filter), &[1]].concat();
        packet(0x82, &body)
    };
    let suback = exchange(&mut bob, &sub(1, "public/#")).await.unwrap();
    assert_eq!(
        suback,
        [0x90, 0x04, 0, 1, 0, 0x01],
        "public/# granted at QoS 1"
    );
    let suback = exchange(&mut bob, &sub(2, "users/alice/#")).await.unwrap();
    assert_eq!(
        suback,
        [0x90, 0x04, 0, 2, 0, 0x87],
        "alice's topics refused to bob"
    );

    // alice publishes to a public topic, which bob receives; bob may not publish there.
    let connect = connect_packet(5, "alice-1", Some("alice"), Some("s3cret"), &[]);
    let (connack, mut alice) = mqtt_over_tls(broker.addr(), client.clone(), &connect)
        .await
        .unwrap();
    assert_eq!(connack_code(&connack), 0x00);
    let publish = |id: u8, topic: &str, payload: &str| {
        let body = [&string(topic)[..], &[0, id, 0], payload.as_bytes()].concat();
        packet(0x32, &body)
    };
    let puback = exchange(&mut alice, &publish(1, "public/news", "hello"))
        .await
        .unwrap();
    // A success PUBACK may leave out its reason code (0x00).
    assert_eq!(puback[0], 0x40, "{puback:02x?}");
    assert_eq!(puback[2..4], [0, 1], "{puback:02x?}");
    assert_eq!(
        puback.get(4).copied().unwrap_or(0),
        0x00,
        "alice may publish: {puback:02x?}"
    );
    let delivered = read_packet(&mut bob).await.unwrap();
    assert_eq!(
        delivered[0] & 0xF0,
        0x30,
        "bob receives a PUBLISH: {delivered:02x?}"
    );
    assert!(delivered.ends_with(b"hello"));
    let answer = exchange(&mut bob, &publish(2, "public/news", "spam"))
        .await
        .unwrap();
    assert_eq!(
        answer,
        [0x40, 0x04, 0, 2, 0x87, 0],
        "bob may not publish public topics"
    );

    broker.shutdown().await;
}
