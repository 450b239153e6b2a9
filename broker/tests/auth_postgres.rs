//! `[auth.postgres]` against a real PostgreSQL (Debian's, installed by `interop/setup.sh`):
//! each test starts a server of its own in a temporary directory on a loopback port, fills
//! the tables, and logs real MQTT clients in. Users it does not know go on to the password
//! file; its ACL rules apply at SUBSCRIBE and PUBLISH; a database that is not there denies
//! with 0x88.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::login;
use tern::codec::{QoS, ReasonCode};
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

/// A broker asking PostgreSQL at `connection`, then `extra` (TOML lines of `[auth.postgres]`).
async fn broker(connection: &str, extra: &str) -> Broker {
    let section =
        format!("[auth.postgres]\nconnection = {connection:?}\ntimeout_ms = 2000\n{extra}");
    common::auth_broker(&section).await
}

fn tables(pg: &Postgres) {
    pg.sql(
        "CREATE TABLE mqtt_user (username text PRIMARY KEY, password_hash text NOT NULL); \
         CREATE TABLE mqtt_acl (id serial PRIMARY KEY, username text NOT NULL, \
         permission text NOT NULL, action text NOT NULL, topic text NOT NULL);",
    );
    pg.sql(&format!(
        "INSERT INTO mqtt_user VALUES ('alice', '{}'), ('carol', '{}'), ('broken', 'not a hash');",
        common::password_hash("alice", "wonderland"),
        common::CAROL_BCRYPT
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_users_log_in_and_unknown_ones_go_on_to_the_password_file() {
    let Some(pg) = postgres("users") else { return };
    tables(&pg);
    let broker = broker(&pg.connection(), "acl_query = \"\"").await;
    let addr = broker.local_addrs()[0];
    common::assert_user_store_logins(addr).await;
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

    common::assert_user_store_subscriptions(&mut alice).await;
    // The last rule denies everything else.
    let elsewhere = alice.subscribe_reason("elsewhere/#", QoS::AtMostOnce).await;
    assert_eq!(elsewhere, ReasonCode::NOT_AUTHORIZED);
    // Only subscribe is allowed on public/#, and the last rule denies everything else.
    let news = alice.publish_reason("public/news", b"no", 2).await;
    assert_eq!(news, ReasonCode::NOT_AUTHORIZED);
    // Delivered to her own subscription, then acknowledged.
    assert_eq!(
        alice.publish_reason("home/alice/lamp", b"on", 3).await,
        ReasonCode::SUCCESS
    );
    broker.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_that_does_not_answer_denies_with_0x88() {
    // A port no database listens on.
    let port = common::closed_port();
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
