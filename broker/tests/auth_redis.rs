//! `[auth.redis]` against a real Redis (Debian's `redis-server`, installed by
//! `interop/setup.sh`): each test starts a server of its own on a loopback port, fills the
//! keys with `redis-cli`, and logs real MQTT clients in. Users it does not know go on to the
//! password file; its rules apply at SUBSCRIBE and PUBLISH; a Redis that is not there denies
//! with 0x88.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::login;
use tern::codec::ReasonCode;
use tern::embed::Broker;

/// A Redis server of the test's own, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    /// Starts one (nothing saved to disk), or says why it cannot.
    fn start() -> Result<Redis, String> {
        let port = common::closed_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server: {e} (interop/setup.sh installs it)"))?;
        let redis = Redis { child, port };
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
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .map_err(|e| format!("redis-cli: {e}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn set(&self, args: &[&str]) {
        self.cli(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
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
    match Redis::start() {
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
