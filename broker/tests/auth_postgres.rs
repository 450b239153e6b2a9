//! `[auth.postgres]` against a real PostgreSQL (Debian's, installed by `interop/setup.sh`):
//! each test starts a server of its own in a temporary directory on a loopback port, fills
//! the tables, and logs real MQTT clients in. Users it does not know go on to the password
//! file; its ACL rules apply at SUBSCRIBE and PUBLISH; a database that is not there denies
//! with 0x88; a database that takes only TLS with a client certificate is reached with
//! `[auth.postgres.tls]`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::login;
use common::service_pki::ServicePki;
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
    /// Starts one, or says why it cannot (not installed). With `tls`, it takes only TLS
    /// connections over TCP, from clients with a certificate its CA signed.
    fn start(name: &str, tls: Option<&ServicePki>) -> Result<Postgres, String> {
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
        if let Some(pki) = tls {
            // The server's files, readable by the server only (it insists on it for the key).
            for (from, to) in [
                (&pki.server_cert, "server.crt"),
                (&pki.server_key, "server.key"),
                (&pki.ca, "ca.crt"),
            ] {
                std::fs::copy(from, pg.dir.join(to)).unwrap();
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::Permissions::from_mode(0o600);
                std::fs::set_permissions(pg.dir.join(to), mode).unwrap();
            }
        }
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
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            pg.port,
            pg.dir.display()
        );
        if tls.is_some() {
            let dir = pg.dir.display();
            options += &format!(
                " -c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key \
                 -c ssl_ca_file={dir}/ca.crt"
            );
            // The socket for the test's own psql; over TCP, TLS with a client certificate.
            let hba = "local all all trust\n\
                       hostssl all all 127.0.0.1/32 trust clientcert=verify-ca\n";
            std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        }
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
                self.dir.to_str().unwrap(),
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
    postgres_with(name, None)
}

fn postgres_with(name: &str, tls: Option<&ServicePki>) -> Option<Postgres> {
    match Postgres::start(name, tls) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_with_a_client_certificate() {
    let dir = std::env::temp_dir().join(format!("tern-pg-pki-{}", std::process::id()));
    let pki = ServicePki::new(&dir);
    let Some(pg) = postgres_with("tls", Some(&pki)) else {
        return;
    };
    tables(&pg);
    let tls = |ca: &std::path::Path, client: bool| {
        format!(
            "acl_query = \"\"\n{}",
            pki.section("auth.postgres", ca, client)
        )
    };
    // Trusting its CA and with the client certificate: logins are checked.
    let trusting = broker(&pg.connection(), &tls(&pki.ca, true)).await;
    common::assert_user_store_logins(trusting.local_addrs()[0]).await;
    trusting.stop().await.unwrap();

    // No client certificate, another CA, or no TLS at all: the database is unavailable.
    for (what, extra) in [
        ("no client certificate", tls(&pki.ca, false)),
        ("another CA", tls(&pki.other_ca, true)),
        ("no TLS", "acl_query = \"\"".to_owned()),
    ] {
        let refused = broker(&pg.connection(), &extra).await;
        assert_eq!(
            login(refused.local_addrs()[0], "alice", "wonderland")
                .await
                .0,
            ReasonCode::SERVER_UNAVAILABLE,
            "{what}"
        );
        refused.stop().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
