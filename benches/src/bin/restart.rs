//! `restart`: how long Tern takes to come back after SIGKILL with many messages queued for
//! offline sessions, and what that costs in memory.
//!
//! It starts the `tern` binary with its store in a fresh directory, connects `--sessions`
//! persistent sessions (3.1.1, Clean Session 0), each subscribed at QoS 1 to a topic of its
//! own, disconnects them, then publishes `--messages` QoS 1 messages spread evenly over their
//! topics (each acknowledged: held for its offline session and written), kills the broker
//! with SIGKILL, starts it again on the same directory and times it until a CONNECT is
//! answered. Then it drains a sample of the sessions to check that their queues came back
//! whole. It prints the figures; nothing is asserted on time.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use tern::codec::{Ack, Packet, PacketId, Protocol, Publish, QoS, TopicName};
use tern_benches::loadgen::client::Connection;

#[derive(Parser)]
#[command(about = "Tern's restart with many queued messages: time to serve, memory")]
struct Args {
    /// The tern binary.
    #[arg(long, default_value = "target/release/tern")]
    tern: PathBuf,
    /// A directory of the run's own (emptied first).
    #[arg(long, default_value = "target/restart-bench")]
    dir: PathBuf,
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// Sessions drained after the restart to check their queues.
    #[arg(long, default_value_t = 100)]
    check: usize,
}

const KEEP_ALIVE: u16 = 600;

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    if let Err(e) = local.block_on(&runtime, run(args)) {
        eprintln!("restart: {e}");
        std::process::exit(1);
    }
}

/// The broker process.
struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A kernel figure of the process, in KiB (`VmRSS`, `VmHWM`).
fn kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn start(args: &Args, config: &std::path::Path) -> Result<Broker, String> {
    let child = Command::new(&args.tern)
        .args(["start", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", args.tern.display()))?;
    Ok(Broker(child))
}

/// Waits until the broker answers a CONNECT (its listeners take connections before the
/// restore is done; the CONNACK comes from the engine, after it).
async fn until_served(addr: SocketAddr, deadline: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        let session = (KEEP_ALIVE, false);
        if Connection::connect(addr, Protocol::V3_1_1, "probe", session, 256)
            .await
            .is_ok()
        {
            return Ok(started.elapsed());
        }
        if started.elapsed() > deadline {
            return Err(format!("not served within {deadline:?}"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn run(args: Args) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir).map_err(|e| format!("{}: {e}", args.dir.display()))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let config = args.dir.join("tern.toml");
    let data = args.dir.join("data");
    let text = format!(
        "[[listener]]\nbind = \"{addr}\"\n\n[limits]\nmax_connections = {}\n\
         max_sessions = {}\n\n[log]\nlevel = \"warn\"\n\n[http]\nenabled = false\n[grpc]\nenabled = false\n\n[storage]\npath = {:?}\n",
        args.sessions + 100,
        args.sessions + 100,
        data.display().to_string()
    );
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    let broker = start(&args, &config)?;
    until_served(addr, Duration::from_secs(10)).await?;

    // The sessions, subscribed and gone offline.
    let started = Instant::now();
    let ids: Vec<String> = (0..args.sessions).map(|i| format!("rs-{i}")).collect();
    for batch in ids.chunks(200) {
        let tasks: Vec<_> = batch
            .iter()
            .map(|id| {
                let id = id.clone();
                tokio::task::spawn_local(async move {
                    let mut c =
                        Connection::connect(addr, Protocol::V3_1_1, &id, (KEEP_ALIVE, true), 256)
                            .await?;
                    c.subscribe(&format!("restart/{id}"), QoS::AtLeastOnce)
                        .await?;
                    c.send(&Packet::Disconnect(Default::default())).await
                })
            })
            .collect();
        for t in tasks {
            t.await.map_err(|e| e.to_string())??;
        }
    }
    println!(
        "{} sessions subscribed and offline in {:.1} s",
        args.sessions,
        started.elapsed().as_secs_f64()
    );

    // The messages, each acknowledged, a window of 100 at a time.
    let started = Instant::now();
    let mut p =
        Connection::connect(addr, Protocol::V3_1_1, "rs-pub", (KEEP_ALIVE, false), 4096).await?;
    let payload = bytes::Bytes::from(vec![b'x'; args.payload]);
    let topics: Vec<TopicName> = ids
        .iter()
        .map(|id| TopicName::new(format!("restart/{id}")).expect("a topic"))
        .collect();
    let (mut sent, mut acked) = (0usize, 0usize);
    while acked < args.messages {
        while sent < args.messages && sent - acked < 100 {
            let mut publish = Publish::new(topics[sent % topics.len()].clone(), payload.clone());
            publish.qos = QoS::AtLeastOnce;
            publish.packet_id = PacketId::new((sent % 60_000 + 1) as u16);
            p.send(&Packet::Publish(publish)).await?;
            sent += 1;
        }
        if let Packet::PubAck(_) = p.read_packet().await? {
            acked += 1;
        }
    }
    let fill = started.elapsed();
    let pid = broker.0.id();
    let (rss, hwm) = (kib(pid, "VmRSS"), kib(pid, "VmHWM"));
    println!(
        "{} messages acknowledged in {:.1} s ({:.0} msg/s); broker RSS {:.1} MiB, peak {:.1} MiB",
        args.messages,
        fill.as_secs_f64(),
        args.messages as f64 / fill.as_secs_f64(),
        mib(rss),
        mib(hwm)
    );
    let disk = du(&data);
    println!("data directory: {:.1} MiB", disk as f64 / (1024.0 * 1024.0));

    // SIGKILL, and back.
    drop(p);
    drop(broker);
    let started = Instant::now();
    let broker = start(&args, &config)?;
    let ready = until_served(addr, Duration::from_secs(120)).await?;
    let pid = broker.0.id();
    let (rss, hwm) = (kib(pid, "VmRSS"), kib(pid, "VmHWM"));
    println!(
        "after SIGKILL: serving again {:.2} s after the start ({:.2} s to CONNACK); \
         RSS {:.1} MiB, peak {:.1} MiB",
        started.elapsed().as_secs_f64(),
        ready.as_secs_f64(),
        mib(rss),
        mib(hwm)
    );

    // A sample of the sessions drains what it was owed.
    let owed = args.messages / args.sessions;
    let mut short = 0;
    for id in ids.iter().take(args.check) {
        let mut c =
            Connection::connect(addr, Protocol::V3_1_1, id, (KEEP_ALIVE, true), 4096).await?;
        let mut got = 0;
        while got < owed {
            let packet = tokio::time::timeout(Duration::from_secs(5), c.read_packet()).await;
            match packet {
                Ok(Ok(Packet::Publish(m))) => {
                    got += 1;
                    if let Some(id) = m.packet_id {
                        c.send(&Packet::PubAck(Ack::new(id))).await?;
                    }
                }
                Ok(Ok(_)) => {}
                _ => break,
            }
        }
        short += owed - got;
    }
    println!(
        "{} sessions drained: {} of {} messages missing",
        args.check,
        short,
        owed * args.check
    );
    Ok(())
}

fn du(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => du(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
