//! The checks behind the fuzz targets, one public function per target, each taking the fuzzer's
//! bytes. A check fails by panicking.
//!
//! This file is plain Rust with no libFuzzer in it. `fuzz/fuzz_targets/*.rs` call it, and
//! `broker/tests/fuzz_replay.rs` compiles this same file (`#[path]`) to replay every corpus file
//! and every past crash in `cargo test`. It depends only on `tern`, `bytes` and `arbitrary`.
//!
//! Structure comes from the bytes through [`arbitrary::Unstructured`], with generators written
//! by hand: they build packets through the codec's public types, valid-looking but not always
//! valid, so the checks state what must hold *if* the encoder accepts a packet.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use arbitrary::{Result, Unstructured};
use bytes::{Bytes, BytesMut};
use tern::codec::{
    self, decode_exact, Ack, Auth, ConnAck, Connect, Disconnect, Packet, PacketId, PacketType,
    Properties, Property, PropertyContext, PropertyId, Protocol, Publish, QoS, ReasonCode,
    RetainHandling, SubAck, Subscribe, SubscriptionOptions, TopicFilter, TopicName, UnsubAck,
    Unsubscribe, Will, MAX_PACKET_SIZE,
};
use tern::engine::{ConnId, Engine, Input, Output, Settings};
use tern::router::{RetainedStore, SubscriberId, Subscription, SubscriptionTree};

// =============================================================================================
// decode: arbitrary bytes
// =============================================================================================

/// Any bytes, decoded as a stream at each protocol level: no panic; an incomplete frame
/// consumes nothing; every packet decoded encodes again, to a frame that decodes back to the
/// same packet.
pub fn decode(data: &[u8]) {
    for protocol in Protocol::ALL {
        let mut buf = BytesMut::from(data);
        loop {
            let before = buf.len();
            match codec::decode(&mut buf, protocol, MAX_PACKET_SIZE) {
                Ok(Some(packet)) => {
                    assert!(buf.len() < before, "{protocol}: a packet consumed no bytes");
                    let bytes = packet.to_bytes(protocol).unwrap_or_else(|e| {
                        panic!("{protocol}: decoded {packet:?} does not encode: {e}")
                    });
                    assert_eq!(
                        packet.encoded_len(protocol).ok(),
                        Some(bytes.len()),
                        "{protocol}: encoded_len of {packet:?}"
                    );
                    let again = decode_exact(&bytes, protocol).unwrap_or_else(|e| {
                        panic!("{protocol}: re-encoded {packet:?} does not decode: {e}")
                    });
                    assert_eq!(again, packet, "{protocol}: decode(encode(p)) != p");
                }
                Ok(None) => {
                    // "Nothing is consumed" while the frame is incomplete. (After an error the
                    // doc says `src` is left as it was, but a frame whose body is malformed
                    // has been split off already: see the README's findings.)
                    assert_eq!(&buf[..], &data[data.len() - before..], "{protocol}");
                    break;
                }
                Err(_) => break,
            }
        }
        let _ = decode_exact(data, protocol);
    }
}

// =============================================================================================
// roundtrip: generated packets
// =============================================================================================

/// Generated packets of every type at every protocol level: if `to_bytes` succeeds,
/// `decode_exact` succeeds, re-encoding gives identical bytes, and in MQTT 5.0 the decoded
/// packet equals the original. `encoded_len` agrees with `to_bytes`, and a failed `encode`
/// writes nothing.
pub fn roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = roundtrip_inner(&mut u);
}

fn roundtrip_inner(u: &mut Unstructured) -> Result<()> {
    for _ in 0..64 {
        if u.is_empty() {
            break;
        }
        let protocol = *u.choose(&Protocol::ALL)?;
        let p = packet(u, protocol)?;
        check_roundtrip(&p, protocol);
    }
    Ok(())
}

/// The protocol a packet's bytes are in: a CONNECT names its own.
fn wire_protocol(packet: &Packet, protocol: Protocol) -> Protocol {
    match packet {
        Packet::Connect(c) => c.protocol,
        _ => protocol,
    }
}

/// Checks one packet; returns its bytes if it encodes.
fn check_roundtrip(packet: &Packet, protocol: Protocol) -> Option<Bytes> {
    let mut dst = BytesMut::from(&b"xy"[..]);
    let encoded = packet.encode(protocol, &mut dst);
    let bytes = packet.to_bytes(protocol);
    assert_eq!(
        encoded.is_ok(),
        bytes.is_ok(),
        "{protocol}: encode and to_bytes disagree on {packet:?}"
    );
    let Ok(bytes) = bytes else {
        assert_eq!(&dst[..], b"xy", "{protocol}: a failed encode wrote bytes");
        assert!(
            packet.encoded_len(protocol).is_err(),
            "{protocol}: encoded_len accepts {packet:?}, which does not encode"
        );
        return None;
    };
    assert_eq!(&dst[2..], &bytes[..], "{protocol}: encode != to_bytes");
    assert_eq!(
        packet.encoded_len(protocol).ok(),
        Some(bytes.len()),
        "{protocol}: encoded_len of {packet:?}"
    );
    let decoded = decode_exact(&bytes, protocol).unwrap_or_else(|e| {
        panic!("{protocol}: {packet:?} encodes to {bytes:02X?}, which does not decode: {e}")
    });
    let again = decoded
        .to_bytes(protocol)
        .unwrap_or_else(|e| panic!("{protocol}: decoded {decoded:?} does not encode: {e}"));
    assert_eq!(
        again, bytes,
        "{protocol}: {packet:?} decoded as {decoded:?}, which encodes differently"
    );
    if wire_protocol(packet, protocol).is_v5() {
        assert_eq!(&decoded, packet, "{protocol}: decode(encode(p)) != p");
    }
    Some(bytes)
}

// =============================================================================================
// stream: generated packets, fed in chunks
// =============================================================================================

/// A sequence of generated packets that encode, concatenated and fed to `decode` in chunks of
/// arbitrary sizes, comes out as the same sequence, with nothing left over.
pub fn stream(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = stream_inner(&mut u);
}

fn stream_inner(u: &mut Unstructured) -> Result<()> {
    let protocol = *u.choose(&Protocol::ALL)?;
    let count = u.int_in_range(1..=8u8)?;
    let mut sent = Vec::new();
    let mut wire = Vec::new();
    for _ in 0..count {
        let p = packet(u, protocol)?;
        if let Some(bytes) = check_roundtrip(&p, protocol) {
            wire.extend_from_slice(&bytes);
            sent.push((p, bytes));
        }
    }
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    let mut pos = 0;
    while pos < wire.len() {
        let n = u.int_in_range(1..=wire.len() - pos)?;
        buf.extend_from_slice(&wire[pos..pos + n]);
        pos += n;
        loop {
            match codec::decode(&mut buf, protocol, MAX_PACKET_SIZE) {
                Ok(Some(p)) => got.push(p),
                Ok(None) => break,
                Err(e) => panic!(
                    "{protocol}: stream of {sent:?} fails at packet {}: {e}",
                    got.len()
                ),
            }
        }
    }
    assert!(buf.is_empty(), "{protocol}: {} bytes left over", buf.len());
    assert_eq!(
        got.len(),
        sent.len(),
        "{protocol}: packets lost or invented"
    );
    for ((original, bytes), decoded) in sent.iter().zip(&got) {
        let again = decoded
            .to_bytes(protocol)
            .expect("a decoded packet encodes");
        assert_eq!(&again, bytes, "{protocol}: {decoded:?} in a stream");
        if wire_protocol(original, protocol).is_v5() {
            assert_eq!(decoded, original, "{protocol}: packet changed in a stream");
        }
    }
    Ok(())
}

// =============================================================================================
// topic: names, filters and matching
// =============================================================================================

/// Arbitrary strings: `TopicName::new` and `TopicFilter::new` never panic; for every valid
/// filter and name, `matches` agrees with [`reference_matches`]; and a `SubscriptionTree` and a
/// `RetainedStore` holding them report exactly the matches the reference predicts.
pub fn topic(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = topic_inner(&mut u);
}

/// The matching rules of section 4.7, written as plainly as possible: split on `/`; `#`
/// matches its parent level and anything below; `+` matches one level (possibly empty); a
/// filter starting with a wildcard never matches a name starting with `$` [MQTT-4.7.2-1].
fn reference_matches(filter: &str, name: &str) -> bool {
    if name.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let f: Vec<&str> = filter.split('/').collect();
    let n: Vec<&str> = name.split('/').collect();
    let mut i = 0;
    loop {
        match (f.get(i), n.get(i)) {
            (Some(&"#"), _) => return i + 1 == f.len(),
            (None, None) => return true,
            (Some(&"+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
        i += 1;
    }
}

/// Pieces of topic strings: levels, separators, wildcards in and out of place, `$` prefixes.
const TOPIC_PIECES: &[&str] = &[
    "a", "b", "/", "/", "+", "#", "$", "$SYS", "$share", "$share/", "g", "", " ", "é", "//", "a+",
    "#/", "\u{FEFF}",
];

fn topic_text(u: &mut Unstructured) -> Result<String> {
    if u.ratio(1u8, 8)? {
        return u.arbitrary();
    }
    let n = u.int_in_range(1..=6u8)?;
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(u.choose(TOPIC_PIECES)?);
    }
    Ok(s)
}

fn topic_inner(u: &mut Unstructured) -> Result<()> {
    let count = u.int_in_range(1..=6u8)?;
    let mut texts = Vec::new();
    for _ in 0..count {
        texts.push(topic_text(u)?);
    }
    let mut filters = Vec::new();
    let mut names = Vec::new();
    for t in &texts {
        if let Ok(f) = TopicFilter::new(t.as_str()) {
            let _ = f.shared();
            let _ = f.has_wildcards();
            filters.push(f);
        }
        if let Ok(n) = TopicName::new(t.as_str()) {
            names.push(n);
        }
        for other in &texts {
            let _ = codec::matches(t, other);
        }
    }
    for f in &filters {
        for n in &names {
            let expected = reference_matches(f, n);
            assert_eq!(codec::matches(f, n), expected, "matches({f:?}, {n:?})");
            assert_eq!(f.matches(n), expected, "{f:?}.matches({n:?})");
            assert_eq!(n.matches(f), expected, "{n:?}.matches({f:?})");
        }
    }

    // The subscription tree: subscriber i holds filter i.
    let mut tree = SubscriptionTree::new();
    for (i, f) in filters.iter().enumerate() {
        let sub = Subscription {
            options: SubscriptionOptions::default(),
            identifier: None,
        };
        assert!(!tree.subscribe(SubscriberId(i as u64), f, sub), "{f:?}");
    }
    assert_eq!(tree.len(), filters.len());
    // The filter the tree matches with: the inner one of a shared subscription.
    let inner = |f: &TopicFilter| -> String {
        match f.shared() {
            Ok(Some(s)) => s.filter.to_string(),
            _ => f.to_string(),
        }
    };
    for n in &names {
        let mut out = Vec::new();
        tree.matches(n, |_| true, &mut out);
        let mut plain_expected = HashSet::new();
        let mut groups_expected: HashMap<String, HashSet<u64>> = HashMap::new();
        for (i, f) in filters.iter().enumerate() {
            if !reference_matches(&inner(f), n) {
                continue;
            }
            if matches!(f.shared(), Ok(Some(_))) {
                groups_expected
                    .entry(f.to_string())
                    .or_default()
                    .insert(i as u64);
            } else {
                plain_expected.insert(i as u64);
            }
        }
        let mut plain_got = HashSet::new();
        let mut groups_got: HashMap<String, u64> = HashMap::new();
        for m in &out {
            match m.shared {
                None => assert!(
                    plain_got.insert(m.subscriber.0),
                    "{n:?}: {:?} reported twice",
                    m.subscriber
                ),
                Some(g) => assert!(
                    groups_got.insert(g.to_string(), m.subscriber.0).is_none(),
                    "{n:?}: group {g:?} delivered twice"
                ),
            }
        }
        let show = || format!("name {n:?}, filters {filters:?}");
        assert_eq!(plain_got, plain_expected, "{}", show());
        assert_eq!(
            groups_got.keys().collect::<HashSet<_>>(),
            groups_expected.keys().collect::<HashSet<_>>(),
            "{}",
            show()
        );
        for (g, who) in &groups_got {
            assert!(groups_expected[g].contains(who), "{}", show());
        }
    }
    for (i, f) in filters.iter().enumerate() {
        assert!(tree.unsubscribe(SubscriberId(i as u64), f), "{f:?}");
    }
    assert!(
        tree.is_empty(),
        "the tree is not empty after every unsubscribe"
    );

    // The retained store: one message per distinct name, found by every non-shared filter.
    let mut store = RetainedStore::new();
    let distinct: HashSet<&str> = names.iter().map(|n| n.as_str()).collect();
    for n in &names {
        store.insert(n, n.to_string());
    }
    assert_eq!(store.len(), distinct.len());
    for f in &filters {
        if matches!(f.shared(), Ok(Some(_))) {
            continue;
        }
        let mut got = Vec::new();
        store.for_each_match(f, |topic, message: &String| {
            assert_eq!(topic, message);
            got.push(topic.to_string());
        });
        let expected: HashSet<&str> = distinct
            .iter()
            .copied()
            .filter(|n| reference_matches(f, n))
            .collect();
        let got_set: HashSet<&str> = got.iter().map(String::as_str).collect();
        assert_eq!(got.len(), got_set.len(), "{f:?}: a retained message twice");
        assert_eq!(got_set, expected, "retained messages for {f:?}");
    }
    for n in &distinct {
        assert!(store.remove(n).is_some(), "{n:?}");
    }
    assert!(store.is_empty());
    Ok(())
}

// =============================================================================================
// session: the engine driven by a few simulated clients
// =============================================================================================

/// The engine, with small limits, driven by up to four simulated connections that open, send
/// generated (sometimes corrupted) packets, close, let time pass, and see the server shut
/// down. After every step: every frame sent decodes in the protocol of the connection's
/// CONNECT (before one, only the 3.1.1-shaped refusal `20 02 00 01` may be sent), the first
/// frame is CONNACK (or AUTH), nothing follows a refusing CONNACK, only QoS 0 PUBLISH frames
/// are droppable, nothing is sent after a connection's Close and no connection is closed twice,
/// `connection_count()` never exceeds the connections still open, and the engine's own
/// invariants hold (inflight windows and queues within their limits). Nothing panics.
pub fn session(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = session_inner(&mut u);
}

/// The 3.1.1 CONNACK "unacceptable protocol version" that answers any unknown level.
const UNSUPPORTED_LEVEL: [u8; 4] = [0x20, 0x02, 0x00, 0x01];

const SLOTS: usize = 4;

/// One simulated connection, as the client sees it.
struct Client {
    /// The protocol the client encodes in: chosen at open, then the one its CONNECT names.
    protocol: Protocol,
    /// The protocol the server answers in, once a CONNECT (decoded or malformed) said it.
    answered_in: Option<Protocol>,
    /// Whether a CONNECT that decoded has been handed to the engine.
    connect_sent: bool,
    /// Frames received so far.
    received: usize,
    /// A CONNACK with a failure code was received.
    refused: bool,
    /// The engine said Close.
    closed: bool,
    /// The engine said Pause (and not Resume since).
    paused: bool,
}

struct Sim {
    /// Print every step and frame (set `TERN_FUZZ_TRACE` to reproduce a failure readably).
    trace: bool,
    engine: Engine,
    now: Instant,
    next_conn: u64,
    slots: [Option<ConnId>; SLOTS],
    clients: HashMap<ConnId, Client>,
}

fn settings(u: &mut Unstructured) -> Result<Settings> {
    let defaults = Settings::default();
    let mut queue = defaults.queue;
    queue.max_messages = 8;
    queue.max_bytes = *u.choose(&[256, 4096, 1 << 20])?;
    let deny_subscriptions = if u.ratio(1u8, 4)? {
        vec![topic_filter(u)?]
    } else {
        Vec::new()
    };
    Ok(Settings {
        max_connections: u.int_in_range(1..=4)?,
        max_packet_size: *u.choose(&[128, 65_536])?,
        receive_maximum: u.int_in_range(1..=4)?,
        max_inflight: 4,
        queue,
        topic_alias_maximum: u.int_in_range(0..=4)?,
        max_session_expiry_interval: *u.choose(&[0, 30, 300, 7 * 86_400])?,
        max_keep_alive: *u.choose(&[0, 10, 60])?,
        retain_available: u.ratio(3u8, 4)?,
        wildcard_subscriptions: u.ratio(3u8, 4)?,
        shared_subscriptions: u.ratio(3u8, 4)?,
        subscription_identifiers: u.ratio(3u8, 4)?,
        maximum_qos: qos(u)?,
        assign_client_ids: u.ratio(7u8, 8)?,
        deny_subscriptions,
        max_message_expiry_interval: *u.choose(&[None, Some(30), Some(600)])?,
        // Drawn from nothing new, so that the corpus keeps its meaning: half the runs record
        // the changes a store would write.
        persistence: even_bytes_left(u),
        ..defaults
    })
}

/// Whether the bytes left are an even number: a coin that draws nothing.
fn even_bytes_left(u: &Unstructured) -> bool {
    u.len().is_multiple_of(2)
}

fn session_inner(u: &mut Unstructured) -> Result<()> {
    let settings = settings(u)?;
    let trace = std::env::var_os("TERN_FUZZ_TRACE").is_some();
    if trace {
        eprintln!("settings: {settings:?}");
    }
    let mut sim = Sim {
        trace,
        engine: Engine::new(settings),
        now: Instant::now(),
        next_conn: 1,
        slots: [None; SLOTS],
        clients: HashMap::new(),
    };
    for _ in 0..256 {
        if u.is_empty() {
            break;
        }
        let k = u.int_in_range(0..=SLOTS - 1)?;
        match u.int_in_range(0..=31u8)? {
            0..=4 => sim.open(u, k)?,
            5..=24 => sim.send(u, k)?,
            25 => {
                if let Some(conn) = sim.slots[k] {
                    sim.log(format_args!("{conn}: closed by the client"));
                    sim.engine.handle(conn, Input::Closed, sim.now);
                }
            }
            26 => {
                if let Some(conn) = sim.slots[k] {
                    // The transport's writes back up, or drain.
                    let input = if u.arbitrary()? {
                        Input::Congested
                    } else {
                        Input::Drained
                    };
                    sim.log(format_args!("{conn}: the transport says {input:?}"));
                    sim.engine.handle(conn, input, sim.now);
                }
            }
            27..=29 => {
                let secs = u.int_in_range(0..=120)?;
                sim.log(format_args!("{secs} s pass"));
                sim.now += Duration::from_secs(secs);
                sim.engine.handle_timeout(sim.now);
            }
            30 => {
                if let Some(at) = sim.engine.poll_timeout() {
                    sim.now = sim.now.max(at);
                }
                sim.log(format_args!("time moves to the next timer"));
                sim.engine.handle_timeout(sim.now);
            }
            _ => {
                sim.log(format_args!("shutdown"));
                sim.engine.shutdown(sim.now);
            }
        }
        sim.collect();
    }
    Ok(())
}

impl Sim {
    fn log(&self, what: std::fmt::Arguments) {
        if self.trace {
            eprintln!("{what}");
        }
    }

    fn open(&mut self, u: &mut Unstructured, k: usize) -> Result<()> {
        if let Some(conn) = self.slots[k] {
            if !self.clients[&conn].closed {
                return Ok(());
            }
        }
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.slots[k] = Some(conn);
        self.clients.insert(
            conn,
            Client {
                protocol: *u.choose(&Protocol::ALL)?,
                answered_in: None,
                connect_sent: false,
                received: 0,
                refused: false,
                closed: false,
                paused: false,
            },
        );
        self.log(format_args!(
            "{conn}: opened ({})",
            self.clients[&conn].protocol
        ));
        self.engine.open(conn, self.now);
        Ok(())
    }

    /// A generated packet from slot `k`, through the real encoder and decoder; sometimes its
    /// bytes are corrupted first, and then the engine may be told the input is malformed.
    fn send(&mut self, u: &mut Unstructured, k: usize) -> Result<()> {
        let Some(conn) = self.slots[k] else {
            return Ok(());
        };
        let client = self.clients.get_mut(&conn).expect("slot holds a client");
        let protocol = client.protocol;
        let packet = client_packet(u, protocol)?;
        let Ok(bytes) = packet.to_bytes(protocol) else {
            return Ok(());
        };
        let mut bytes = bytes.to_vec();
        if u.ratio(1u8, 16)? {
            corrupt(u, &mut bytes)?;
        }
        let input = match decode_exact(&bytes, protocol) {
            Ok(packet) => {
                if let Packet::Connect(c) = &packet {
                    if !client.connect_sent && client.answered_in.is_none() {
                        client.protocol = c.protocol;
                        client.answered_in = Some(c.protocol);
                    }
                    client.connect_sent = true;
                }
                Input::Packet(packet)
            }
            Err(e) => {
                if e.packet == Some(PacketType::Connect) && client.answered_in.is_none() {
                    client.answered_in = Some(e.protocol);
                }
                Input::Malformed(e)
            }
        };
        self.log(format_args!("{conn}: sends {input:?}"));
        self.engine.handle(conn, input, self.now);
        Ok(())
    }

    /// Drains the engine's outputs and checks them.
    fn collect(&mut self) {
        // What a store would write: recorded only when the broker keeps state.
        let changes = self.engine.take_changes();
        assert!(
            changes.is_empty() || self.engine.settings().persistence,
            "changes recorded without a store: {changes:?}"
        );
        let outputs: Vec<Output> = self.engine.drain_outputs().collect();
        let mut drains = Vec::new();
        for output in outputs {
            match output {
                Output::Send {
                    conn,
                    frame,
                    droppable,
                    ..
                } => {
                    let c = self
                        .clients
                        .get_mut(&conn)
                        .unwrap_or_else(|| panic!("frame for unknown connection {conn}"));
                    assert!(
                        !c.closed,
                        "frame {frame:02X?} sent to {conn} after its Close"
                    );
                    assert!(
                        !c.refused,
                        "frame {frame:02X?} sent to {conn} after a refusing CONNACK"
                    );
                    c.received += 1;
                    if self.trace {
                        eprintln!("  -> {conn}: {frame:02X?}");
                    }
                    if !c.connect_sent && frame[..] == UNSUPPORTED_LEVEL {
                        assert!(!droppable);
                        continue;
                    }
                    let protocol = c.answered_in.unwrap_or_else(|| {
                        panic!("frame {frame:02X?} sent to {conn} before any CONNECT")
                    });
                    let packet = decode_exact(&frame, protocol).unwrap_or_else(|e| {
                        panic!("{protocol}: frame {frame:02X?} sent to {conn} does not decode: {e}")
                    });
                    if c.received == 1 {
                        assert!(
                            matches!(packet, Packet::ConnAck(_) | Packet::Auth(_)),
                            "the first frame sent to {conn} is {packet:?}"
                        );
                    }
                    if let Packet::ConnAck(ack) = &packet {
                        c.refused = ack.code.is_error();
                    }
                    if droppable {
                        assert!(
                            matches!(&packet, Packet::Publish(p) if p.qos == QoS::AtMostOnce),
                            "droppable frame {packet:?}"
                        );
                    }
                }
                Output::Close { conn } => {
                    let c = self
                        .clients
                        .get_mut(&conn)
                        .unwrap_or_else(|| panic!("Close for unknown connection {conn}"));
                    assert!(!c.closed, "{conn} closed twice");
                    c.closed = true;
                    if self.trace {
                        eprintln!("  -> {conn}: Close");
                    }
                }
                // Offline queues hold 8 messages here, fewer than a kept session keeps in memory:
                // nothing is ever left on disk to read back.
                Output::Load { .. } => panic!("a read from the store: {output:?}"),
                // Nothing is asked or told without hooks, and the fuzzed engine has none.
                Output::Ask { .. } | Output::Notice(_) => panic!("no hooks here: {output:?}"),
                // Anonymous access only: no credential is ever checked.
                Output::Check { .. } => panic!("no password file here: {output:?}"),
                // A takeover waits for the old connection's input: every packet of a
                // simulated client is handed over as it is sent, so it is all in.
                Output::Drain { conn } => drains.push(conn),
                Output::Pause { conn } | Output::Resume { conn } => {
                    let pause = matches!(output, Output::Pause { .. });
                    let c = self
                        .clients
                        .get_mut(&conn)
                        .unwrap_or_else(|| panic!("{output:?} for unknown connection {conn}"));
                    assert!(!c.closed, "{output:?} after the Close");
                    assert_ne!(c.paused, pause, "{output:?} twice in a row");
                    c.paused = pause;
                    if self.trace {
                        eprintln!("  -> {output:?}");
                    }
                }
            }
        }
        for conn in drains {
            self.log(format_args!("{conn}: quiet"));
            self.engine.handle(conn, Input::Quiet, self.now);
            self.collect();
        }
        let open = self.clients.values().filter(|c| !c.closed).count();
        let connected = self.engine.connection_count();
        assert!(
            connected <= open,
            "connection_count() is {connected} with {open} connections open"
        );
        // Inflight windows and queues stay within their limits.
        if let Err(broken) = self.engine.check_invariants() {
            panic!("engine invariant broken: {broken}");
        }
    }
}

/// Flips, cuts or extends the bytes of a packet.
fn corrupt(u: &mut Unstructured, bytes: &mut Vec<u8>) -> Result<()> {
    match u.int_in_range(0..=2u8)? {
        0 if !bytes.is_empty() => {
            let i = u.int_in_range(0..=bytes.len() - 1)?;
            bytes[i] ^= u.int_in_range(1..=255u8)?;
        }
        1 => {
            let n = u.int_in_range(0..=bytes.len())?;
            bytes.truncate(n);
        }
        _ => bytes.push(u.arbitrary()?),
    }
    Ok(())
}

// =============================================================================================
// Generators
// =============================================================================================

/// The packet types, in the order [`packet_of`] numbers them.
const KINDS: u8 = 15;

/// Any packet, valid-looking for `protocol` but not always valid.
pub fn packet(u: &mut Unstructured, protocol: Protocol) -> Result<Packet> {
    let kind = u.int_in_range(0..=KINDS - 1)?;
    packet_of(u, protocol, kind)
}

/// A packet a client would send, most often a PUBLISH; sometimes any packet at all.
fn client_packet(u: &mut Unstructured, protocol: Protocol) -> Result<Packet> {
    let kind = match u.int_in_range(0..=19u8)? {
        0..=2 => 0,   // CONNECT
        3..=8 => 2,   // PUBLISH
        9 => 3,       // PUBACK
        10 => 4,      // PUBREC
        11 => 5,      // PUBREL
        12 => 6,      // PUBCOMP
        13..=14 => 7, // SUBSCRIBE
        15 => 9,      // UNSUBSCRIBE
        16 => 11,     // PINGREQ
        17 => 13,     // DISCONNECT
        18 => 14,     // AUTH
        _ => u.int_in_range(0..=KINDS - 1)?,
    };
    packet_of(u, protocol, kind)
}

fn packet_of(u: &mut Unstructured, protocol: Protocol, kind: u8) -> Result<Packet> {
    use PropertyContext as Ctx;
    Ok(match kind {
        0 => Packet::Connect(Box::new(connect(u, protocol)?)),
        1 => Packet::ConnAck(ConnAck {
            session_present: u.arbitrary()?,
            code: reason(u, PacketType::ConnAck)?,
            properties: properties(u, Ctx::ConnAck, protocol)?,
        }),
        2 => Packet::Publish(publish(u, protocol)?),
        3 => Packet::PubAck(ack(u, PacketType::PubAck, protocol)?),
        4 => Packet::PubRec(ack(u, PacketType::PubRec, protocol)?),
        5 => Packet::PubRel(ack(u, PacketType::PubRel, protocol)?),
        6 => Packet::PubComp(ack(u, PacketType::PubComp, protocol)?),
        7 => {
            let packet_id = packet_id(u)?;
            let properties = properties(u, Ctx::Subscribe, protocol)?;
            let mut filters = Vec::new();
            for _ in 0..count(u)? {
                filters.push((topic_filter(u)?, options(u, protocol)?));
            }
            Packet::Subscribe(Subscribe {
                packet_id,
                properties,
                filters,
            })
        }
        8 => {
            let packet_id = packet_id(u)?;
            let properties = properties(u, Ctx::SubAck, protocol)?;
            let mut reasons = Vec::new();
            for _ in 0..count(u)? {
                reasons.push(reason(u, PacketType::SubAck)?);
            }
            Packet::SubAck(SubAck {
                packet_id,
                properties,
                reasons,
            })
        }
        9 => {
            let packet_id = packet_id(u)?;
            let properties = properties(u, Ctx::Unsubscribe, protocol)?;
            let mut filters = Vec::new();
            for _ in 0..count(u)? {
                filters.push(topic_filter(u)?);
            }
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                properties,
                filters,
            })
        }
        10 => {
            let packet_id = packet_id(u)?;
            let properties = properties(u, Ctx::UnsubAck, protocol)?;
            let mut reasons = Vec::new();
            if protocol.is_v5() || u.ratio(1u8, 8)? {
                for _ in 0..count(u)? {
                    reasons.push(reason(u, PacketType::UnsubAck)?);
                }
            }
            Packet::UnsubAck(UnsubAck {
                packet_id,
                properties,
                reasons,
            })
        }
        11 => Packet::PingReq,
        12 => Packet::PingResp,
        13 => Packet::Disconnect(Disconnect {
            reason: reason(u, PacketType::Disconnect)?,
            properties: properties(u, Ctx::Disconnect, protocol)?,
        }),
        _ => Packet::Auth(Auth {
            reason: reason(u, PacketType::Auth)?,
            properties: properties(u, Ctx::Auth, protocol)?,
        }),
    })
}

/// How many filters or reason codes: one to three, rarely none (which must not encode).
fn count(u: &mut Unstructured) -> Result<u8> {
    if u.ratio(1u8, 32)? {
        Ok(0)
    } else {
        u.int_in_range(1..=3)
    }
}

fn connect(u: &mut Unstructured, protocol: Protocol) -> Result<Connect> {
    let protocol = if u.ratio(1u8, 16)? {
        *u.choose(&Protocol::ALL)?
    } else {
        protocol
    };
    let client_id = match u.int_in_range(0..=7u8)? {
        0 => String::new(),
        1..=5 => (*u.choose(&["a", "b", "c", "tern-0000000000000001"])?).to_string(),
        _ => string(u)?,
    };
    let mut c = Connect::new(protocol, client_id);
    c.clean_start = u.arbitrary()?;
    c.keep_alive = match u.int_in_range(0..=3u8)? {
        0 => 0,
        1 => u.int_in_range(1..=10)?,
        2 => 60,
        _ => u.arbitrary()?,
    };
    c.properties = properties(u, PropertyContext::Connect, protocol)?;
    if u.ratio(1u8, 3)? {
        c.will = Some(Will {
            qos: qos(u)?,
            retain: u.arbitrary()?,
            properties: properties(u, PropertyContext::Will, protocol)?,
            topic: topic_name(u)?,
            payload: payload(u)?,
        });
    }
    if u.ratio(1u8, 4)? {
        c.username = Some(string(u)?.into());
    }
    if u.ratio(1u8, 4)? {
        c.password = Some(payload(u)?);
    }
    Ok(c)
}

fn publish(u: &mut Unstructured, protocol: Protocol) -> Result<Publish> {
    let mut p = Publish::new(topic_name(u)?, payload(u)?);
    p.qos = qos(u)?;
    p.packet_id = match p.qos {
        QoS::AtMostOnce => None,
        _ => Some(packet_id(u)?),
    };
    if u.ratio(1u8, 32)? {
        // The identifier where the QoS wants none, or none where it wants one.
        p.packet_id = p.packet_id.xor(Some(packet_id(u)?));
    }
    p.dup = if p.qos == QoS::AtMostOnce {
        u.ratio(1u8, 32)?
    } else {
        u.arbitrary()?
    };
    p.retain = u.arbitrary()?;
    p.properties = properties(u, PropertyContext::Publish, protocol)?;
    if protocol.is_v5() && u.ratio(1u8, 3)? {
        if p.properties.get(PropertyId::TopicAlias).is_none() {
            p.properties
                .push(Property::TopicAlias(u.int_in_range(1..=5)?));
        }
        if u.arbitrary()? {
            p.topic = TopicName::empty();
        }
    }
    Ok(p)
}

fn ack(u: &mut Unstructured, packet: PacketType, protocol: Protocol) -> Result<Ack> {
    Ok(Ack {
        packet_id: packet_id(u)?,
        reason: reason(u, packet)?,
        properties: properties(u, PropertyContext::Ack, protocol)?,
    })
}

fn options(u: &mut Unstructured, protocol: Protocol) -> Result<SubscriptionOptions> {
    let mut o = SubscriptionOptions::qos(qos(u)?);
    if protocol.is_v5() || u.ratio(1u8, 8)? {
        o.no_local = u.ratio(1u8, 4)?;
        o.retain_as_published = u.arbitrary()?;
        o.retain_handling = *u.choose(&[
            RetainHandling::SendAtSubscribe,
            RetainHandling::SendIfNew,
            RetainHandling::DoNotSend,
        ])?;
    }
    Ok(o)
}

fn qos(u: &mut Unstructured) -> Result<QoS> {
    Ok(*u.choose(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])?)
}

/// Small identifiers most of the time, so that acknowledgements find what they acknowledge.
fn packet_id(u: &mut Unstructured) -> Result<PacketId> {
    let n = if u.ratio(7u8, 8)? {
        u.int_in_range(1..=8u16)?
    } else {
        u.int_in_range(1..=u16::MAX)?
    };
    Ok(PacketId::new(n).expect("the range excludes 0"))
}

/// A code this packet type allows in MQTT 5.0, or rarely any byte at all.
fn reason(u: &mut Unstructured, packet: PacketType) -> Result<ReasonCode> {
    let allowed = ReasonCode::allowed_in(packet);
    if allowed.is_empty() || u.ratio(1u8, 16)? {
        Ok(ReasonCode(u.arbitrary()?))
    } else {
        Ok(ReasonCode(*u.choose(allowed)?))
    }
}

/// Properties for a context: mostly ones it allows, rarely any other; in 3.x, where they are
/// not sent, usually none.
fn properties(
    u: &mut Unstructured,
    ctx: PropertyContext,
    protocol: Protocol,
) -> Result<Properties> {
    if !protocol.is_v5() && !u.ratio(1u8, 8)? {
        return Ok(Properties::new());
    }
    let n = match u.int_in_range(0..=7u8)? {
        0..=3 => 0,
        4..=5 => 1,
        6 => 2,
        _ => u.int_in_range(3..=6)?,
    };
    let mut list = Properties::new();
    for _ in 0..n {
        let id = if u.ratio(15u8, 16)? {
            *u.choose(ctx.allowed())?
        } else {
            *u.choose(PropertyId::ALL)?
        };
        list.push(property(u, id)?);
    }
    Ok(list)
}

fn property(u: &mut Unstructured, id: PropertyId) -> Result<Property> {
    use Property as P;
    use PropertyId as Id;
    Ok(match id {
        Id::PayloadFormatIndicator => P::PayloadFormatIndicator(flag(u)?),
        Id::MessageExpiryInterval => P::MessageExpiryInterval(seconds(u)?),
        Id::ContentType => P::ContentType(string(u)?.into()),
        Id::ResponseTopic => P::ResponseTopic(topic_string(u, false)?.into()),
        Id::CorrelationData => P::CorrelationData(payload(u)?),
        Id::SubscriptionIdentifier => P::SubscriptionIdentifier(match u.int_in_range(0..=7u8)? {
            0 => 0,
            1 => u.arbitrary()?,
            2 => 268_435_455,
            _ => u.int_in_range(1..=5)?,
        }),
        Id::SessionExpiryInterval => P::SessionExpiryInterval(seconds(u)?),
        Id::AssignedClientIdentifier => P::AssignedClientIdentifier(string(u)?.into()),
        Id::ServerKeepAlive => P::ServerKeepAlive(small16(u)?),
        Id::AuthenticationMethod => P::AuthenticationMethod(string(u)?.into()),
        Id::AuthenticationData => P::AuthenticationData(payload(u)?),
        Id::RequestProblemInformation => P::RequestProblemInformation(flag(u)?),
        Id::WillDelayInterval => P::WillDelayInterval(seconds(u)?),
        Id::RequestResponseInformation => P::RequestResponseInformation(flag(u)?),
        Id::ResponseInformation => P::ResponseInformation(string(u)?.into()),
        Id::ServerReference => P::ServerReference(string(u)?.into()),
        Id::ReasonString => P::ReasonString(string(u)?.into()),
        Id::ReceiveMaximum => P::ReceiveMaximum(small16(u)?),
        Id::TopicAliasMaximum => P::TopicAliasMaximum(small16(u)?),
        Id::TopicAlias => P::TopicAlias(small16(u)?),
        Id::MaximumQoS => P::MaximumQoS(flag(u)?),
        Id::RetainAvailable => P::RetainAvailable(flag(u)?),
        Id::UserProperty => P::UserProperty((string(u)?.into(), string(u)?.into())),
        Id::MaximumPacketSize => P::MaximumPacketSize(match u.int_in_range(0..=5u8)? {
            0 => 0,
            1 => u.arbitrary()?,
            2 => u.int_in_range(1..=64)?,
            _ => u.int_in_range(16..=4096)?,
        }),
        Id::WildcardSubscriptionAvailable => P::WildcardSubscriptionAvailable(flag(u)?),
        Id::SubscriptionIdentifierAvailable => P::SubscriptionIdentifierAvailable(flag(u)?),
        Id::SharedSubscriptionAvailable => P::SharedSubscriptionAvailable(flag(u)?),
    })
}

/// 0 or 1 most of the time, as the one-byte flags must be.
fn flag(u: &mut Unstructured) -> Result<u8> {
    if u.ratio(7u8, 8)? {
        u.int_in_range(0..=1)
    } else {
        u.arbitrary()
    }
}

/// An interval in seconds: short ones, so that a session run sees them expire.
fn seconds(u: &mut Unstructured) -> Result<u32> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => 0,
        1 => u32::MAX,
        2 => u.arbitrary()?,
        _ => u.int_in_range(1..=200)?,
    })
}

/// A two-byte value: small ones (0 rarely), or any.
fn small16(u: &mut Unstructured) -> Result<u16> {
    Ok(match u.int_in_range(0..=7u8)? {
        0 => 0,
        1 => u.arbitrary()?,
        _ => u.int_in_range(1..=8)?,
    })
}

fn payload(u: &mut Unstructured) -> Result<Bytes> {
    let n = u.int_in_range(0..=24usize)?.min(u.len());
    Ok(Bytes::copy_from_slice(u.bytes(n)?))
}

/// Pieces of strings: ASCII, multi-byte UTF-8, a byte order mark, topic-like pieces.
const STRING_PIECES: &[&str] = &[
    "a", "b", "c", "x", "tern", "/", "+", "#", "$", "$SYS", " ", "é", "日本", "\u{FEFF}", "🦀",
];

/// A UTF-8 string without U+0000 (see the README: the encoder does not refuse U+0000, which
/// its decoder does, so a string holding one would be reported on every run).
fn string(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=7u8)? {
        0 => String::new(),
        1 => u.arbitrary::<String>()?.replace('\0', ""),
        _ => {
            let mut s = String::new();
            for _ in 0..u.int_in_range(1..=3u8)? {
                s.push_str(u.choose(STRING_PIECES)?);
            }
            s
        }
    })
}

/// Levels of topic names.
const LEVELS: &[&str] = &[
    "a", "b", "c", "sport", "tennis", "$SYS", "$share", "g", "", " ", "é",
];

/// `/`-separated levels; with `wild`, some are `+`, and the last may be `#`.
fn topic_string(u: &mut Unstructured, wild: bool) -> Result<String> {
    let n = u.int_in_range(1..=4u8)?;
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push('/');
        }
        if wild && u.ratio(1u8, 4)? {
            s.push(if i + 1 == n && u.arbitrary()? {
                '#'
            } else {
                '+'
            });
        } else {
            s.push_str(u.choose(LEVELS)?);
        }
    }
    Ok(s)
}

fn topic_name(u: &mut Unstructured) -> Result<TopicName> {
    let s = if u.ratio(1u8, 16)? {
        string(u)?
    } else {
        topic_string(u, false)?
    };
    Ok(TopicName::new(s).unwrap_or_else(|_| TopicName::new("a").expect("valid")))
}

fn topic_filter(u: &mut Unstructured) -> Result<TopicFilter> {
    let mut s = String::new();
    if u.ratio(1u8, 8)? {
        s.push_str("$share/");
        s.push_str(u.choose(&["g", "h", "", "+"])?);
        s.push('/');
    }
    if u.ratio(1u8, 16)? {
        s.push_str(&string(u)?);
    } else {
        s.push_str(&topic_string(u, true)?);
    }
    Ok(TopicFilter::new(s).unwrap_or_else(|_| TopicFilter::new("#").expect("valid")))
}
