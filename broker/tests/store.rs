//! The store (`[storage] mode = "disk"`): what a broker keeps is there after a restart, a
//! graceful one in-process, and after SIGKILL of the `tern` binary.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{publish, Broker, Client};
use tern::codec::{Ack, Connect, Packet, Properties, Property, Protocol, QoS};

/// A 5.0 CONNECT of a session that outlives its connection by an hour.
fn persistent(id: &str, clean_start: bool) -> Connect {
    let mut c = Connect::new(Protocol::V5, id);
    c.clean_start = clean_start;
    let mut p = Properties::new();
    p.push(Property::SessionExpiryInterval(3600));
    c.properties = p;
    c
}

fn storage(dir: &std::path::Path) -> String {
    format!(
        "[storage]\nmode = \"disk\"\npath = {:?}\nsync = \"os\"\n",
        dir.display().to_string()
    )
}

/// The payload of the next PUBLISH the client receives, acknowledging it if it asks.
async fn next_message(c: &mut Client) -> (String, Vec<u8>) {
    loop {
        match c.recv().await {
            Some(Packet::Publish(p)) => {
                if let Some(id) = p.packet_id {
                    let ack = Ack::new(id);
                    c.send(&Packet::PubAck(ack)).await;
                }
                return (p.topic.to_string(), p.payload.to_vec());
            }
            Some(_) => continue,
            None => panic!("the connection ended"),
        }
    }
}

async fn publish_acked(c: &mut Client, topic: &str, payload: &[u8], retain: bool, id: u16) {
    let mut packet = publish(topic, payload.to_vec(), QoS::AtLeastOnce, id);
    if let Packet::Publish(p) = &mut packet {
        p.retain = retain;
    }
    c.send(&packet).await;
    match c.recv().await {
        Some(Packet::PubAck(a)) => assert_eq!(a.packet_id.get(), id),
        other => panic!("expected PUBACK, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_gives_back_sessions_subscriptions_and_retained_messages() {
    let dir = tempfile::tempdir().unwrap();
    let config = storage(dir.path());

    let broker = Broker::start_with(&config).await;
    let (mut sub, present) = Client::connect_with(broker.addr, persistent("sub", true)).await;
    assert!(!present);
    sub.subscribe("t/#", QoS::AtLeastOnce).await;
    drop(sub);
    let mut publisher = Client::connect(broker.addr, "pub").await;
    publish_acked(&mut publisher, "r/1", b"kept", true, 1).await;
    publish_acked(&mut publisher, "r/2", b"gone", true, 2).await;
    publish_acked(&mut publisher, "r/2", b"", true, 3).await;
    // A session that ends with its connection is not kept.
    let (clean, _) = Client::connect_with(broker.addr, Connect::new(Protocol::V5, "clean")).await;
    drop((clean, publisher));
    broker.stop().await;

    let broker = Broker::start_with(&config).await;
    let (mut sub, present) = Client::connect_with(broker.addr, persistent("sub", false)).await;
    assert!(present, "the session came back [MQTT-3.2.2-2]");
    let (_, present) = Client::connect_with(broker.addr, persistent("clean", false)).await;
    assert!(
        !present,
        "a session that ended with its connection stays ended"
    );
    let mut publisher = Client::connect(broker.addr, "pub").await;
    publish_acked(&mut publisher, "t/x", b"after", false, 1).await;
    assert_eq!(
        next_message(&mut sub).await,
        ("t/x".into(), b"after".to_vec())
    );

    let mut reader = Client::connect(broker.addr, "reader").await;
    reader.subscribe("r/#", QoS::AtLeastOnce).await;
    assert_eq!(
        next_message(&mut reader).await,
        ("r/1".into(), b"kept".to_vec())
    );
    // r/2 was cleared: nothing else comes.
    publish_acked(&mut publisher, "r/end", b"end", false, 2).await;
    assert_eq!(
        next_message(&mut reader).await,
        ("r/end".into(), b"end".to_vec())
    );
    broker.stop().await;

    // What the directory holds, read offline.
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["inspect", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "sub", and "clean", kept since it came back asking to be.
    assert!(text.contains("sessions: 2\n"), "{text}");
    assert!(text.contains("\"sub\" (MQTT 5.0)"), "{text}");
    assert!(text.contains("t/# (QoS 1)"), "{text}");
    assert!(
        text.contains("retained messages: 1 (4 bytes of payload)"),
        "{text}"
    );
}

/// `tern start` with a configuration file, as a user runs it.
struct Tern {
    child: Child,
    addr: SocketAddr,
}

/// The `tern` binary's configuration in a directory of the test's own: a port, and a data
/// directory that outlives every start.
struct Binary {
    config: std::path::PathBuf,
    port: u16,
}

impl Binary {
    fn in_dir(dir: &std::path::Path) -> Binary {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("tern.toml");
        // Offline queues long enough for every test's messages (the default drops the
        // oldest past 1,000).
        let text = format!(
            "[[listener]]\nbind = \"127.0.0.1:{port}\"\n\n[limits]\nmax_queued_messages = 100000\n\
             max_queued_bytes = 1000000000\n\n[http]\nenabled = false\n[grpc]\nenabled = false\n\n{}",
            storage(&dir.join("data"))
        );
        std::fs::write(&config, text).unwrap();
        Binary { config, port }
    }

    fn start(&self) -> Tern {
        Tern::start(&self.config, self.port)
    }
}

impl Tern {
    fn start(config: &std::path::Path, port: u16) -> Tern {
        Tern::spawn(config, port, Stdio::null())
    }

    /// Started with its log (standard error) going to `log`.
    fn start_logged(config: &std::path::Path, port: u16, log: &std::path::Path) -> Tern {
        let file = std::fs::File::create(log).unwrap();
        Tern::spawn(config, port, Stdio::from(file))
    }

    fn spawn(config: &std::path::Path, port: u16, stderr: Stdio) -> Tern {
        let child = Command::new(env!("CARGO_BIN_EXE_tern"))
            .args(["start", "--config", config.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start tern");
        let mut tern = Tern {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(tern.addr).is_err() {
            if let Ok(Some(exit)) = tern.child.try_wait() {
                panic!("tern exited before listening: {exit:?}");
            }
            assert!(Instant::now() < deadline, "tern did not listen in time");
            std::thread::sleep(Duration::from_millis(20));
        }
        tern
    }

    /// SIGKILL: no shutdown, no flush, nothing but what was written.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Tern {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Retained values and a persistent subscription survive SIGKILL at moments the test does not
/// choose: a publisher sends retained QoS 1 messages as fast as its acknowledgements come
/// back, and the broker is killed after a varying number of them, five times. After each
/// restart the retained value is the last one acknowledged or a later one (never an older
/// one), and the subscription is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_state_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let binary = Binary::in_dir(dir.path());
    let tern = binary.start();
    let (mut sub, _) = Client::connect_with(tern.addr, persistent("sub", true)).await;
    sub.subscribe("t/#", QoS::AtLeastOnce).await;
    drop(sub);
    let mut tern = tern;
    let mut last_acked = 0u32;
    // Different counts per round, from the clock: the kill lands somewhere else each time.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        ^ std::process::id();
    for round in 0..5u32 {
        let mut publisher = Client::connect(tern.addr, "pub").await;
        let count = 50 + (seed.rotate_left(round * 5) % 400);
        let mut packet_id = 1u16;
        for _ in 0..count {
            let value = last_acked + 1;
            let payload = value.to_be_bytes();
            let mut packet = publish("r/counter", payload.to_vec(), QoS::AtLeastOnce, packet_id);
            if let Packet::Publish(p) = &mut packet {
                p.retain = true;
            }
            publisher.send(&packet).await;
            match publisher.recv().await {
                Some(Packet::PubAck(_)) => last_acked = value,
                other => panic!("expected PUBACK, got {other:?}"),
            }
            packet_id = packet_id % 60_000 + 1;
        }
        // One more, sent and not waited for: it may or may not be kept.
        let payload = (last_acked + 1).to_be_bytes().to_vec();
        let mut packet = publish("r/counter", payload, QoS::AtLeastOnce, packet_id);
        if let Packet::Publish(p) = &mut packet {
            p.retain = true;
        }
        publisher.send(&packet).await;
        tern.kill();
        tern = binary.start();

        let mut reader = Client::connect(tern.addr, "reader").await;
        reader.subscribe("r/counter", QoS::AtLeastOnce).await;
        let (_, payload) = next_message(&mut reader).await;
        let kept = u32::from_be_bytes(payload[..4].try_into().unwrap());
        assert!(
            kept == last_acked || kept == last_acked + 1,
            "round {round}: {last_acked} was acknowledged, {kept} is retained"
        );
        last_acked = kept;
        let (mut sub, present) = Client::connect_with(tern.addr, persistent("sub", false)).await;
        assert!(present, "round {round}: the persistent session is gone");
        let mut publisher = Client::connect(tern.addr, "pub2").await;
        publish_acked(&mut publisher, "t/ping", &round.to_be_bytes(), false, 1).await;
        assert_eq!(next_message(&mut sub).await.0, "t/ping");
    }
    tern.kill();
}

/// Receives until nothing comes for a while, acknowledging as a client must (PUBACK; PUBREC
/// then PUBCOMP): the payloads of the PUBLISHes, with their QoS and DUP flag.
async fn receive_all(c: &mut Client) -> Vec<(Vec<u8>, QoS, bool)> {
    let mut got = Vec::new();
    loop {
        let packet = match tokio::time::timeout(Duration::from_millis(1500), c.recv()).await {
            Ok(Some(p)) => p,
            Ok(None) | Err(_) => return got,
        };
        match packet {
            Packet::Publish(p) => {
                match (p.qos, p.packet_id) {
                    (QoS::AtLeastOnce, Some(id)) => c.send(&Packet::PubAck(Ack::new(id))).await,
                    (QoS::ExactlyOnce, Some(id)) => c.send(&Packet::PubRec(Ack::new(id))).await,
                    _ => {}
                }
                got.push((p.payload.to_vec(), p.qos, p.dup));
            }
            Packet::PubRel(a) => c.send(&Packet::PubComp(Ack::new(a.packet_id))).await,
            _ => {}
        }
    }
}

/// Publishes `n` messages at `qos` with payloads `tag:i`, waiting for each acknowledgement
/// (PUBACK, or PUBREC then PUBCOMP); returns how many were acknowledged, then sends one more
/// that nobody waits for.
async fn publish_counted(c: &mut Client, tag: &str, qos: QoS, n: u32) -> u32 {
    for i in 0..n {
        let id = (i % 60_000 + 1) as u16;
        let payload = format!("{tag}:{i}").into_bytes();
        c.send(&publish("m/x", payload, qos, id)).await;
        loop {
            match c.recv().await {
                Some(Packet::PubAck(_)) if qos == QoS::AtLeastOnce => break,
                Some(Packet::PubRec(a)) if qos == QoS::ExactlyOnce => {
                    c.send(&Packet::PubRel(Ack::new(a.packet_id))).await;
                }
                Some(Packet::PubComp(_)) if qos == QoS::ExactlyOnce => break,
                other => panic!("{tag}: unexpected {other:?}"),
            }
        }
    }
    let id = (n % 60_000 + 1) as u16;
    c.send(&publish("m/x", format!("{tag}:{n}").into_bytes(), qos, id))
        .await;
    n
}

/// Every QoS 1 and QoS 2 message acknowledged to its publisher reaches the persistent
/// subscribers across SIGKILL: one offline (its queue), one online that has not acknowledged
/// what it was sent (its inflight window, resent with DUP). QoS 2 arrives once. Two rounds,
/// killed after a number of messages the test does not fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_reach_persistent_subscribers_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let binary = Binary::in_dir(dir.path());
    let mut tern = binary.start();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    for round in 0..2u32 {
        let (mut offline, _) =
            Client::connect_with(tern.addr, persistent("offline", round == 0)).await;
        offline.subscribe("m/#", QoS::ExactlyOnce).await;
        drop(offline);
        let (mut online, _) =
            Client::connect_with(tern.addr, persistent("online", round == 0)).await;
        online.subscribe("m/#", QoS::ExactlyOnce).await;

        let n1 = 100 + seed.rotate_left(round * 7) % 150;
        let n2 = 100 + seed.rotate_left(round * 7 + 3) % 150;
        let mut p1 = Client::connect(tern.addr, "p1").await;
        let mut p2 = Client::connect(tern.addr, "p2").await;
        let (tag1, tag2) = (format!("q1r{round}"), format!("q2r{round}"));
        let (acked1, acked2) = tokio::join!(
            publish_counted(&mut p1, &tag1, QoS::AtLeastOnce, n1),
            publish_counted(&mut p2, &tag2, QoS::ExactlyOnce, n2),
        );
        // The online subscriber read (some of) what it was sent, and acknowledged nothing.
        tern.kill();
        drop(online);
        tern = binary.start();

        for id in ["offline", "online"] {
            let (mut c, present) = Client::connect_with(tern.addr, persistent(id, false)).await;
            assert!(present, "round {round}: {id}'s session is gone");
            let got = receive_all(&mut c).await;
            let payloads: Vec<String> = got
                .iter()
                .map(|(p, _, _)| String::from_utf8_lossy(p).into_owned())
                .collect();
            for (tag, acked) in [
                (format!("q1r{round}"), acked1),
                (format!("q2r{round}"), acked2),
            ] {
                for i in 0..acked {
                    let want = format!("{tag}:{i}");
                    let times = payloads.iter().filter(|p| **p == want).count();
                    assert!(
                        times >= 1,
                        "round {round}: {id} never got {want}, acknowledged to its publisher"
                    );
                    if tag.starts_with("q2") {
                        assert_eq!(
                            times, 1,
                            "round {round}: {id} got QoS 2 {want} {times} times"
                        );
                    }
                }
            }
        }
    }
    tern.kill();
}

/// A will is released by a restart when its client was connected at SIGKILL: that
/// connection ended without DISCONNECT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_will_of_a_client_connected_at_kill_9_is_published_at_restart() {
    let dir = tempfile::tempdir().unwrap();
    let binary = Binary::in_dir(dir.path());
    let tern = binary.start();
    let mut connect = persistent("w", true);
    connect.will = Some(tern::codec::Will {
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties::new(),
        topic: tern::codec::TopicName::new("wills/w").unwrap(),
        payload: bytes::Bytes::from_static(b"w died"),
    });
    // CONNACK comes once the session and its will are written.
    let (w, _) = Client::connect_with(tern.addr, connect).await;
    tern.kill();
    drop(w);
    let tern = binary.start();
    let mut reader = Client::connect(tern.addr, "reader").await;
    reader.subscribe("wills/#", QoS::AtLeastOnce).await;
    assert_eq!(
        next_message(&mut reader).await,
        ("wills/w".into(), b"w died".to_vec())
    );
    tern.kill();
}

/// `[storage] max_disk_bytes`: over it, a new kept session is refused with 0x97, a clean one
/// is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_over_its_size_limit_refuses_new_kept_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!("{}max_disk_bytes = 1\n", storage(dir.path()));
    let broker = Broker::start_with(&config).await;
    let mut c = Client {
        stream: tokio::net::TcpStream::connect(broker.addr).await.unwrap(),
        buf: Default::default(),
    };
    c.send(&Packet::Connect(Box::new(persistent("kept", true))))
        .await;
    match c.recv().await {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code, tern::codec::ReasonCode::QUOTA_EXCEEDED),
        other => panic!("expected CONNACK, got {other:?}"),
    }
    // A session that ends with its connection needs no store.
    let _clean = Client::connect(broker.addr, "clean").await;
    broker.stop().await;
}

/// A tmpfs of `size` mounted on a directory for as long as it lives: a disk that fills up.
struct SmallDisk {
    dir: std::path::PathBuf,
}

impl SmallDisk {
    /// `None` where mounting is not permitted (not root, or no CAP_SYS_ADMIN).
    fn mount(dir: &std::path::Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| SmallDisk {
            dir: dir.to_owned(),
        })
    }

    fn grow(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// A full disk: the broker stops with an error that names the data directory and says what
/// to do, and every message it acknowledged before is there when it starts again with room.
/// Needs a tmpfs mount (root); says so and passes where mounting is not permitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_broker_loudly_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let Some(disk) = SmallDisk::mount(&data, "4m") else {
        eprintln!("skipped: mounting a small tmpfs is not permitted here");
        return;
    };
    let binary = Binary::in_dir(dir.path());
    let log = dir.path().join("tern.log");
    let mut tern = Tern::start_logged(&binary.config, binary.port, &log);
    let (mut sub, _) = Client::connect_with(tern.addr, persistent("sub", true)).await;
    sub.subscribe("m/#", QoS::AtLeastOnce).await;
    drop(sub);

    // QoS 1 messages of 1 KiB for the offline session, each waiting for its PUBACK, until
    // the broker stops answering: 4 MiB hold fewer than 4,000 of them.
    let mut p = Client::connect(tern.addr, "p").await;
    let mut acked = 0u32;
    for i in 0..20_000u32 {
        let mut payload = format!("{i}:").into_bytes();
        payload.resize(1024, b'.');
        let id = (i % 60_000 + 1) as u16;
        p.send(&publish("m/x", payload, QoS::AtLeastOnce, id)).await;
        match tokio::time::timeout(Duration::from_secs(5), p.recv()).await {
            Ok(Some(Packet::PubAck(a))) if a.packet_id.get() == id => acked += 1,
            _ => break,
        }
    }
    assert!(acked > 100, "only {acked} acknowledged");
    assert!(acked < 20_000, "the disk never filled");
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = tern.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "the broker did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!exit.success());
    let text = std::fs::read_to_string(&log).unwrap();
    let shown = data.display().to_string();
    assert!(
        text.contains(&shown) && text.contains("the disk is full") && text.contains("free space"),
        "{text}"
    );

    disk.grow("64m");
    let tern = Tern::start_logged(&binary.config, binary.port, &dir.path().join("again.log"));
    let (mut sub, present) = Client::connect_with(tern.addr, persistent("sub", false)).await;
    assert!(present);
    let got = receive_all(&mut sub).await;
    let mut seen = std::collections::HashSet::new();
    for (payload, _, _) in &got {
        let text = String::from_utf8_lossy(payload);
        seen.insert(text.split(':').next().unwrap().parse::<u32>().unwrap());
    }
    for i in 0..acked {
        assert!(
            seen.contains(&i),
            "message {i} was acknowledged and is gone ({acked} acknowledged, {} received)",
            got.len()
        );
    }
    tern.kill();
}
