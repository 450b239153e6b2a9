//! The load generator: a single-threaded tokio program that drives an MQTT broker through the
//! scenarios of [`scenario`] and prints one JSON line per run on standard output (and a
//! sentence on standard error). See `benches/README.md`.

pub mod args;
pub mod client;
pub mod scenario;
pub mod stats;

use std::time::Duration;

use args::Args;
use scenario::Common;

/// Runs the scenario the arguments name; returns the process's exit code.
pub fn main(args: Args) -> i32 {
    raise_nofile_limit();
    let _ = stats::epoch();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: cannot start the runtime: {e}");
            return 2;
        }
    };
    let local = tokio::task::LocalSet::new();
    let report = local.block_on(&runtime, async {
        let scrapes = std::rc::Rc::new(std::cell::Cell::new((0u64, 0u64)));
        let scraper = (args.scrape)
            .map(|addr| tokio::task::spawn_local(scrape(addr, args.scrape_rate, scrapes.clone())));
        let logins = std::rc::Rc::new(std::cell::Cell::new((0u64, 0u64)));
        let storm = (args.logins > 0).then(|| {
            let login = Login {
                addr: args.addr,
                user: args.login_user.clone(),
                password: args.login_password.clone(),
            };
            tokio::task::spawn_local(log_in(login, args.logins, logins.clone()))
        });
        let mut report = run(&args).await;
        if let Some(scraper) = scraper {
            scraper.abort();
            let keys = ("scrapes", "scrape_errors", "HTTP requests answered");
            side_load(&mut report, keys, scrapes.get());
        }
        if let Some(storm) = storm {
            storm.abort();
            side_load(
                &mut report,
                ("logins", "login_errors", "logins accepted"),
                logins.get(),
            );
        }
        report
    });
    println!("{}", report.json);
    eprintln!("{}", report.line);
    i32::from(report.json.get("error").is_some())
}

/// Adds what a load beside the scenario did (`(ok, failed)`) to its report, under the JSON
/// keys and the words of `(ok key, failed key, sentence)`.
fn side_load(report: &mut scenario::Report, keys: (&str, &str, &str), (ok, failed): (u64, u64)) {
    let (ok_key, failed_key, words) = keys;
    report.json[ok_key] = ok.into();
    report.json[failed_key] = failed.into();
    report
        .line
        .push_str(&format!(", {words} {ok}, failed {failed}"));
}

async fn run(a: &Args) -> scenario::Report {
    let common = Common {
        addr: a.addr,
        protocol: a.protocol(),
        qos: a.qos(),
        payload: a.payload,
        count: a.count(),
        window: a.window,
        inflight: a.inflight,
        deadline: Duration::from_secs_f64(a.deadline),
        idle: Duration::from_secs_f64(a.idle),
        broker_pid: a.broker_pid,
        label: a.label.clone(),
        persistent: a.persistent,
    };
    use args::Scenario::*;
    match a.scenario {
        Fanin => scenario::run(&common, scenario::fanin(&common, a.publishers.unwrap_or(8))).await,
        Fanout => {
            scenario::run(
                &common,
                scenario::fanout(&common, a.subscribers.unwrap_or(100)),
            )
            .await
        }
        Pairs => scenario::run(&common, scenario::pairs(&common, a.pairs)).await,
        Shared => {
            let shape = scenario::shared(
                &common,
                a.publishers.unwrap_or(8),
                a.subscribers.unwrap_or(4),
            );
            scenario::run(&common, shape).await
        }
        Latency => {
            let shape = scenario::latency(a.rate, Duration::from_secs_f64(a.duration));
            scenario::run(&common, shape).await
        }
        Million => scenario::run(&common, scenario::million(&common)).await,
        Connections => {
            scenario::connections(&common, a.connections, Duration::from_secs_f64(a.hold())).await
        }
        Slow => {
            let shape = scenario::slow(
                &common,
                a.subscribers.unwrap_or(100),
                a.stuck_after,
                Duration::from_secs_f64(a.hold()),
            );
            scenario::run(&common, shape).await
        }
    }
}

/// Asks `addr` for `/metrics` and `/api/v1/clients` in turn, `rate` times a second, until
/// aborted; counts the answers with status 200 and the rest.
async fn scrape(
    addr: std::net::SocketAddr,
    rate: u32,
    counts: std::rc::Rc<std::cell::Cell<(u64, u64)>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for n in 0u64.. {
        tick.tick().await;
        let path = if n % 2 == 0 {
            "/metrics"
        } else {
            "/api/v1/clients?per_page=1000"
        };
        let answered = async {
            let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
            let request = format!("GET {path} HTTP/1.1\r\nHost: tern\r\nConnection: close\r\n\r\n");
            s.write_all(request.as_bytes()).await.ok()?;
            let mut answer = Vec::new();
            s.read_to_end(&mut answer).await.ok()?;
            Some(answer.starts_with(b"HTTP/1.1 200"))
        };
        let ok = tokio::time::timeout(Duration::from_secs(5), answered)
            .await
            .ok()
            .flatten()
            .unwrap_or(false);
        let (good, bad) = counts.get();
        counts.set(if ok { (good + 1, bad) } else { (good, bad + 1) });
    }
}

/// Who the login storm logs in as, and where.
struct Login {
    addr: std::net::SocketAddr,
    user: String,
    password: String,
}

/// Logs in `rate` times a second until aborted, each login on a connection of its own (a
/// task each: a slow answer does not hold the next login back); counts the logins
/// accepted and the rest.
async fn log_in(login: Login, rate: u32, counts: std::rc::Rc<std::cell::Cell<(u64, u64)>>) {
    let login = std::rc::Rc::new(login);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for n in 0u64.. {
        tick.tick().await;
        let (login, counts) = (login.clone(), counts.clone());
        tokio::task::spawn_local(async move {
            let ok = tokio::time::timeout(Duration::from_secs(10), once(&login, n))
                .await
                .ok()
                .flatten()
                .unwrap_or(false);
            let (good, bad) = counts.get();
            counts.set(if ok { (good + 1, bad) } else { (good, bad + 1) });
        });
    }
}

/// One login: CONNECT (3.1.1, with the credentials), CONNACK, DISCONNECT. Whether the broker
/// accepted it.
async fn once(login: &Login, n: u64) -> Option<bool> {
    use tern::codec::{Connect, Packet, Protocol};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut connect = Connect::new(Protocol::V3_1_1, format!("login-{n}"));
    connect.username = Some(login.user.as_str().into());
    connect.password = Some(login.password.clone().into_bytes().into());
    let bytes = Packet::Connect(Box::new(connect))
        .to_bytes(Protocol::V3_1_1)
        .ok()?;
    let mut s = tokio::net::TcpStream::connect(login.addr).await.ok()?;
    s.write_all(&bytes).await.ok()?;
    let mut connack = [0u8; 4];
    s.read_exact(&mut connack).await.ok()?;
    let accepted = connack[0] == 0x20 && connack[3] == 0;
    let _ = s.write_all(&[0xE0, 0x00]).await;
    Some(accepted)
}

/// Ten thousand connections need ten thousand descriptors: lift the soft limit to the hard one.
fn raise_nofile_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
