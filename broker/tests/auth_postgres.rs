//! `[auth.postgres]` against a real PostgreSQL (Debian's, installed by `interop/setup.sh`):
//! each test starts a server of its own in a temporary directory on a loopback port, fills
//! the tables, and logs real MQTT clients in. Users it does not know go on to the password
//! file; its ACL rules apply at SUBSCRIBE and PUBLISH; a database that is not there denies
//! with 0x88.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use common::{publish, Client};
use tern::codec::{Connect, Packet, Protocol, QoS, ReasonCode};
use tern::config::{Config, Listener};
use tern::embed::Broker;

/// A PostgreSQL server of the test's own, stopped and removed when dropped.
struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// PostgreSQL refuses to run as root: then its commands run as the `postgres` user.
    as_postgres: bool,
}

impl Postgres {
    /// Starts one, or says why it cannot (not installed).
    fn start(name: &str) -> Result<Postgres, String> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| "PostgreSQL is not installed (interop/setup.sh installs it)".to_owned())?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()
            .ok_or("no initdb under /usr/lib/postgresql")?;
        let dir = std::env::temp_dir().join(format!("tern-pg-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: geteuid only reads the process's user id.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Postgres {
            dir,
            bin,
            port,
            as_postgres,
        };
        if as_postgres {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&pg.dir)
                .status()
                .map_err(|e| e.to_string())?;
            if !chown.success() {
                return Err("cannot give the directory to the postgres user".into());
            }
        }
        let data = pg.dir.join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        )?;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            pg.port,
            pg.dir.display()
        );
        let log = pg.dir.join("log");
        pg.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        )?;
        Ok(pg)
    }

    /// Runs a PostgreSQL program, as the postgres user when running as root.
    fn run(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn sql(&self, sql: &str) {
        let port = self.port.to_string();
        self.run(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                sql,
            ],
        )
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn connection(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The hash `tern passwd` would store for `password` (after `user:` in a password file).
fn hash(user: &str, password: &str) -> String {
    let mut file = tern::auth::PasswordFile::default();
    file.set_password(user, password.as_bytes(), 4096).unwrap();
    let text = file.to_string();
    text.trim()
        .strip_prefix(&format!("{user}:"))
        .unwrap()
        .to_owned()
}

/// Starts PostgreSQL, or prints why not and gives `None`; in CI (`CI` set), not having it is
/// a failure: the setup script installs it.
fn postgres(name: &str) -> Option<Postgres> {
    match Postgres::start(name) {
        Ok(pg) => Some(pg),
        Err(why) if std::env::var_os("CI").is_none() => {
            println!("skipped: {why}");
            None
        }
        Err(why) => panic!("{why}"),
    }
}

/// A broker asking `pg`, with a password file holding bob ("pw"), anonymous access off.
async fn broker(connection: &str, extra: &str) -> Broker {
    let passwd = std::env::temp_dir().join(format!(
        "tern-auth-pg-{}-{}",
        std::process::id(),
        connection.len() + extra.len()
    ));
    let mut file = tern::auth::PasswordFile::default();
    file.set_password("bob", b"pw", 4096).unwrap();
    file.save(&passwd).unwrap();
    let toml = format!(
        "[auth]\nallow_anonymous = false\nfailed_login_delay_ms = 0\npassword_file = {:?}\n\n\
         [auth.postgres]\nconnection = {connection:?}\ntimeout_ms = 2000\n{extra}",
        passwd.display().to_string()
    );
    let mut config = common::in_memory(Config::from_toml_str(&toml).expect("configuration"));
    config.listeners = vec![Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Listener::default()
    }];
    Broker::start(config).await.expect("the broker starts")
}

async fn login(addr: SocketAddr, user: &str, password: &str) -> (ReasonCode, Option<Client>) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut client = Client {
        stream,
        buf: Default::default(),
    };
    let mut connect = Connect::new(Protocol::V5, format!("c-{user}"));
    connect.username = Some(user.into());
    connect.password = Some(password.as_bytes().to_vec().into());
    client.send(&Packet::Connect(Box::new(connect))).await;
    match client.recv().await {
        Some(Packet::ConnAck(ack)) => {
            let ok = !ack.code.is_error();
            (ack.code, ok.then_some(client))
        }
        other => panic!("{user}: {other:?}"),
    }
}

fn tables(pg: &Postgres) {
    pg.sql(
        "CREATE TABLE mqtt_user (username text PRIMARY KEY, password_hash text NOT NULL); \
         CREATE TABLE mqtt_acl (id serial PRIMARY KEY, username text NOT NULL, \
         permission text NOT NULL, action text NOT NULL, topic text NOT NULL);",
    );
    pg.sql(&format!(
        "INSERT INTO mqtt_user VALUES ('alice', '{}'), ('broken', 'not a hash');",
        hash("alice", "wonderland")
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_users_log_in_and_unknown_ones_go_on_to_the_password_file() {
    let Some(pg) = postgres("users") else { return };
    tables(&pg);
    let broker = broker(&pg.connection(), "acl_query = \"\"").await;
    let addr = broker.local_addrs()[0];
    assert_eq!(
        login(addr, "alice", "wonderland").await.0,
        ReasonCode::SUCCESS
    );
    assert_eq!(
        login(addr, "alice", "guess").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    // Not in the table: the password file decides.
    assert_eq!(login(addr, "bob", "pw").await.0, ReasonCode::SUCCESS);
    assert_eq!(
        login(addr, "mallory", "x").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    // A hash the broker cannot read refuses, and is logged and counted.
    assert_eq!(
        login(addr, "broken", "x").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    broker.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_acl_rules_apply_at_subscribe_and_publish() {
    let Some(pg) = postgres("acl") else { return };
    tables(&pg);
    pg.sql(
        "INSERT INTO mqtt_acl (username, permission, action, topic) VALUES \
         ('alice', 'deny', 'all', 'home/alice/secret/#'), \
         ('alice', 'allow', 'all', 'home/alice/#'), \
         ('alice', 'allow', 'subscribe', 'public/#'), \
         ('alice', 'deny', 'all', '#');",
    );
    let broker = broker(&pg.connection(), "").await;
    let addr = broker.local_addrs()[0];
    let (_, alice) = login(addr, "alice", "wonderland").await;
    let mut alice = alice.expect("alice logs in");

    let granted = |packet: Option<Packet>| match packet {
        Some(Packet::SubAck(ack)) => ack.reasons[0],
        other => panic!("{other:?}"),
    };
    alice.send_subscribe("home/alice/#", QoS::AtLeastOnce).await;
    // Shares topics with the deny rule before it: refused.
    assert_eq!(granted(alice.recv().await), ReasonCode::NOT_AUTHORIZED);
    alice
        .send_subscribe("home/alice/lamp", QoS::AtLeastOnce)
        .await;
    assert_eq!(granted(alice.recv().await), ReasonCode(1));
    alice.send_subscribe("public/news", QoS::AtMostOnce).await;
    assert_eq!(granted(alice.recv().await), ReasonCode(0));
    alice.send_subscribe("elsewhere/#", QoS::AtMostOnce).await;
    assert_eq!(granted(alice.recv().await), ReasonCode::NOT_AUTHORIZED);

    let acked = |packet: Option<Packet>| match packet {
        Some(Packet::PubAck(ack)) => ack.reason,
        other => panic!("{other:?}"),
    };
    alice
        .send(&publish(
            "home/alice/secret/x",
            b"no".to_vec(),
            QoS::AtLeastOnce,
            1,
        ))
        .await;
    assert_eq!(acked(alice.recv().await), ReasonCode::NOT_AUTHORIZED);
    alice
        .send(&publish("public/news", b"no".to_vec(), QoS::AtLeastOnce, 2))
        .await;
    assert_eq!(acked(alice.recv().await), ReasonCode::NOT_AUTHORIZED);
    alice
        .send(&publish(
            "home/alice/lamp",
            b"on".to_vec(),
            QoS::AtLeastOnce,
            3,
        ))
        .await;
    // Delivered to her own subscription, then acknowledged.
    let mut reason = None;
    for _ in 0..2 {
        match alice.recv().await {
            Some(Packet::PubAck(ack)) => {
                reason = Some(ack.reason);
                break;
            }
            Some(Packet::Publish(p)) => assert_eq!(p.payload, "on"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(reason, Some(ReasonCode::SUCCESS));
    broker.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_that_does_not_answer_denies_with_0x88() {
    // A port no database listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = format!("host=127.0.0.1 port={port} user=postgres dbname=postgres");
    let broker = broker(&nowhere, "").await;
    let addr = broker.local_addrs()[0];
    assert_eq!(
        login(addr, "alice", "wonderland").await.0,
        ReasonCode::SERVER_UNAVAILABLE
    );
    broker.stop().await.unwrap();
    let ignore = broker_with_ignore(&nowhere).await;
    let addr = ignore.local_addrs()[0];
    assert_eq!(
        login(addr, "bob", "pw").await.0,
        ReasonCode::SUCCESS,
        "on to the file"
    );
    ignore.stop().await.unwrap();
}

async fn broker_with_ignore(connection: &str) -> Broker {
    broker(connection, "when_unavailable = \"ignore\"").await
}
