//! Password logins against a password file: rumqttc's 3.1.1 client with the right password,
//! a wrong one and none, and the refusal's bytes and delay on the wire.

use super::*;
use tern::auth::PasswordFile;
use tern::codec::{Connect, Packet, Protocol};

/// How long refusals wait in these tests (the default is a second).
const DELAY: Duration = Duration::from_millis(300);

/// A broker whose password file has "alice" with password "secret", no anonymous access.
async fn broker_with_alice(name: &str) -> (Broker, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!(
        "tern-behaviour-{}-{name}.passwd",
        std::process::id()
    ));
    let mut file = PasswordFile::default();
    file.set_password("alice", b"secret", 4096).unwrap();
    file.save(&path).unwrap();
    let mut config = test_config();
    config.auth.password_file = Some(path.clone());
    config.auth.allow_anonymous = false;
    config.auth.failed_login_delay_ms = DELAY.as_millis() as u32;
    (Broker::start_with(config).await, path)
}

fn v311_login(client_id: &str, user: &str, password: &str) -> Vec<u8> {
    let mut c = Connect::new(Protocol::V3_1_1, client_id);
    c.username = Some(user.into());
    c.password = Some(password.to_owned().into());
    Packet::Connect(Box::new(c))
        .to_bytes(Protocol::V3_1_1)
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn v4_client_logs_in_with_its_password_and_is_refused_without_it() {
    let (broker, path) = broker_with_alice("v4").await;
    let mut alice = v4::connect(broker.addr, "alice", |o| {
        o.set_credentials("alice", "secret");
    })
    .await;
    alice
        .client
        .subscribe("news", v4::QoS::AtLeastOnce)
        .await
        .unwrap();
    v4::wait_for(&mut alice, "SUBACK", |p| {
        matches!(p, v4::Packet::SubAck(_)).then_some(())
    })
    .await;

    for (user, password) in [("alice", "wrong"), ("mallory", "secret")] {
        let refused = v4::try_connect(broker.addr, "guess", |o| {
            o.set_credentials(user, password);
        })
        .await;
        match refused {
            Err(v4::ConnectionError::ConnectionRefused(code)) => {
                assert_eq!(
                    code,
                    rumqttc::ConnectReturnCode::BadUserNamePassword,
                    "{user}"
                )
            }
            Err(e) => panic!("{user}: expected CONNACK 0x04, got {e:?}"),
            Ok(_) => panic!("{user}: logged in with a wrong password"),
        }
    }
    match v4::try_connect(broker.addr, "anonymous", |_| {}).await {
        Err(v4::ConnectionError::ConnectionRefused(code)) => {
            assert_eq!(code, rumqttc::ConnectReturnCode::NotAuthorized)
        }
        other => panic!("expected CONNACK 0x05, got {:?}", other.map(|_| ())),
    }

    // The logged-in client was not disturbed.
    alice
        .client
        .publish("news", v4::QoS::AtLeastOnce, false, "still here")
        .await
        .unwrap();
    let got = v4::wait_for(&mut alice, "PUBLISH", |p| match p {
        v4::Packet::Publish(p) => Some(p.payload.clone()),
        _ => None,
    })
    .await;
    assert_eq!(&got[..], b"still here");
    broker.shutdown().await;
    std::fs::remove_file(&path).ok();
}

#[tokio::test]
async fn a_wrong_password_is_answered_0x04_after_the_delay() {
    let (broker, path) = broker_with_alice("raw").await;
    for (user, password) in [("alice", "wrong"), ("mallory", "secret")] {
        let mut c = raw::Conn::open(broker.addr).await;
        let started = Instant::now();
        c.send(&v311_login("guess", user, password)).await;
        assert_eq!(c.rest_bytes().await, [0x20, 0x02, 0x00, 0x04], "{user}");
        assert!(
            started.elapsed() >= DELAY - Duration::from_millis(20),
            "{user}"
        );
    }
    let mut c = raw::Conn::open(broker.addr).await;
    c.send(&v311_login("alice", "alice", "secret")).await;
    let ack = c.recv().await.expect("CONNACK");
    assert_eq!(ack.bytes(), [0x20, 0x02, 0x00, 0x00]);
    broker.shutdown().await;
    std::fs::remove_file(&path).ok();
}
