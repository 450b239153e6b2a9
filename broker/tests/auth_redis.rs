//! `[auth.redis]` against a real Redis (Debian's `redis-server`, installed by
//! `interop/setup.sh`): each test starts a server of its own on a loopback port, fills the
//! keys with `redis-cli`, and logs real MQTT clients in. Users it does not know go on to the
//! password file; its rules apply at SUBSCRIBE and PUBLISH; a Redis that is not there denies
//! with 0x88; a Redis that takes only TLS with a client certificate is reached with a
//! `rediss://` URL and `[auth.redis.tls]`.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::login;
use common::service_pki::ServicePki;
use tern::codec::ReasonCode;
use tern::embed::Broker;

/// A Redis server of the test's own, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
    /// Its certificates, if it takes only TLS (with client certificates, Redis's default).
    tls: Option<(PathBuf, PathBuf, PathBuf)>,
}

impl Redis {
    /// Starts one (nothing saved to disk), or says why it cannot; with `tls`, on a TLS port
    /// only.
    fn start(tls: Option<&ServicePki>) -> Result<Redis, String> {
        let port = common::closed_port();
        let mut command = Command::new("redis-server");
        match tls {
            None => command.args(["--port", &port.to_string()]),
            Some(pki) => command
                .args(["--port", "0", "--tls-port", &port.to_string()])
                .arg("--tls-cert-file")
                .arg(&pki.server_cert)
                .arg("--tls-key-file")
                .arg(&pki.server_key)
                .arg("--tls-ca-cert-file")
                .arg(&pki.ca),
        };
        let child = command
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server: {e} (interop/setup.sh installs it)"))?;
        let tls = tls.map(|p| (p.ca.clone(), p.client_cert.clone(), p.client_key.clone()));
        let redis = Redis { child, port, tls };
        // Ready once it answers PING.
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.cli(&["PING"]).as_deref() != Ok("PONG") {
            if Instant::now() > deadline {
                return Err("redis-server did not answer within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(redis)
    }

    fn cli(&self, args: &[&str]) -> Result<String, String> {
        let mut command = Command::new("redis-cli");
        command.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some((ca, cert, key)) = &self.tls {
            command.arg("--tls").arg("--cacert").arg(ca);
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        let out = command
            .args(args)
            .output()
            .map_err(|e| format!("redis-cli: {e}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn set(&self, args: &[&str]) {
        self.cli(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }

    fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Redis, or prints why not and gives `None`; in CI (`CI` set), not having it is a
/// failure: the setup script installs it.
fn redis() -> Option<Redis> {
    redis_with(None)
}

fn redis_with(tls: Option<&ServicePki>) -> Option<Redis> {
    match Redis::start(tls) {
        Ok(redis) => Some(redis),
        Err(why) if std::env::var_os("CI").is_none() => {
            println!("skipped: {why}");
            None
        }
        Err(why) => panic!("{why}"),
    }
}

async fn broker(url: &str, extra: &str) -> Broker {
    common::auth_broker(&format!(
        "[auth.redis]\nurl = {url:?}\ntimeout_ms = 2000\n{extra}"
    ))
    .await
}

fn users(redis: &Redis) {
    let hash = common::password_hash("alice", "wonderland");
    redis.set(&["HSET", "mqtt_user:alice", "password_hash", &hash]);
    redis.set(&[
        "HSET",
        "mqtt_user:carol",
        "password_hash",
        common::CAROL_BCRYPT,
    ]);
    redis.set(&["HSET", "mqtt_user:broken", "password_hash", "not a hash"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_users_log_in_and_unknown_ones_go_on_to_the_password_file() {
    let Some(redis) = redis() else { return };
    users(&redis);
    let broker = broker(&redis.url(), "acl_key = \"\"").await;
    let addr = broker.local_addrs()[0];
    common::assert_user_store_logins(addr).await;
    broker.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_acl_rules_apply_at_subscribe_and_publish() {
    let Some(redis) = redis() else { return };
    users(&redis);
    redis.set(&[
        "HSET",
        "mqtt_acl:alice",
        "home/alice/#",
        "all",
        "home/alice/secret/#",
        "deny",
        "public/#",
        "subscribe",
    ]);
    let broker = broker(&redis.url(), "").await;
    let addr = broker.local_addrs()[0];
    let mut alice = login(addr, "alice", "wonderland")
        .await
        .1
        .expect("alice logs in");

    common::assert_user_store_subscriptions(&mut alice).await;
    // Allowed to read public/#, not said to write it; no rule denies it: handed on, and with
    // no ACL file, let through.
    assert_eq!(
        alice.publish_reason("public/news", b"hi", 2).await,
        ReasonCode::SUCCESS
    );
    broker.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_that_does_not_answer_denies_with_0x88() {
    let nowhere = format!("redis://127.0.0.1:{}/0", common::closed_port());
    let denying = broker(&nowhere, "").await;
    let addr = denying.local_addrs()[0];
    assert_eq!(
        login(addr, "alice", "wonderland").await.0,
        ReasonCode::SERVER_UNAVAILABLE
    );
    denying.stop().await.unwrap();
    let ignoring = broker(&nowhere, "when_unavailable = \"ignore\"").await;
    let addr = ignoring.local_addrs()[0];
    assert_eq!(
        login(addr, "bob", "pw").await.0,
        ReasonCode::SUCCESS,
        "on to the file"
    );
    ignoring.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_over_tls_with_a_client_certificate() {
    let dir = std::env::temp_dir().join(format!("tern-redis-pki-{}", std::process::id()));
    let pki = ServicePki::new(&dir);
    let Some(redis) = redis_with(Some(&pki)) else {
        return;
    };
    users(&redis);
    let tls = |ca: &std::path::Path, client: bool| {
        format!("acl_key = \"\"\n{}", pki.section("auth.redis", ca, client))
    };
    // Trusting its CA and with the client certificate: logins are checked.
    let trusting = broker(&redis.url(), &tls(&pki.ca, true)).await;
    common::assert_user_store_logins(trusting.local_addrs()[0]).await;
    trusting.stop().await.unwrap();

    // No client certificate, another CA, or no TLS at all: Redis is unavailable.
    let plain = redis.url().replace("rediss://", "redis://");
    for (what, url, extra) in [
        ("no client certificate", redis.url(), tls(&pki.ca, false)),
        ("another CA", redis.url(), tls(&pki.other_ca, true)),
        ("no TLS", plain, "acl_key = \"\"".to_owned()),
    ] {
        let refused = broker(&url, &extra).await;
        assert_eq!(
            login(refused.local_addrs()[0], "alice", "wonderland")
                .await
                .0,
            ReasonCode::SERVER_UNAVAILABLE,
            "{what}"
        );
        refused.stop().await.unwrap();
    }
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}
