//! A lean MQTT client for load generation: tokio TCP, `tern::codec` for every packet, batched
//! reads and writes.
//!
//! A [`Connection`] does the CONNECT / CONNACK and SUBSCRIBE / SUBACK exchanges one packet at
//! a time; then [`publisher`] and [`subscriber`] take it over and stream. A publisher encodes
//! its PUBLISH once as a template and, for each message, copies the template into the write
//! buffer and patches the packet identifier and the payload header in place, so a message
//! costs a copy and a few stores; as many messages as the windows allow go out in one write.
//! A subscriber decodes everything one read returned, then writes all the acknowledgements it
//! owes with one write.
//!
//! Publishers are open loop by default: each is bounded only by its socket and, at QoS 1 and
//! 2, by its own in-flight window, as a real client is. [`Flow`] is an optional end-to-end
//! pacing on top of that (`loadgen --window N`).
//!
//! The `slow` scenario adds a [`stuck_subscriber`], which stops reading after a few messages,
//! and [`probe_end`], which finds out at the end whether the broker closed it.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tern::codec::{
    decode, Ack, Connect, Packet, PacketId, Property, PropertyId, Protocol, Publish, QoS,
    ReasonCode, Subscribe, SubscriptionOptions, TopicFilter, TopicName, MAX_PACKET_SIZE,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::stats::{now_ns, write_header, Tracker, HEADER_LEN};

/// Largest write a publisher or subscriber makes at once.
const WRITE_BATCH_BYTES: usize = 64 * 1024;
/// Room kept free in a read buffer before each read.
const READ_CHUNK: usize = 64 * 1024;

/// An MQTT connection whose CONNECT has been accepted.
pub struct Connection {
    pub reader: OwnedReadHalf,
    pub writer: OwnedWriteHalf,
    /// Bytes read but not yet decoded.
    pub rbuf: BytesMut,
    pub protocol: Protocol,
    /// The server's Receive Maximum (5.0), or 65535.
    pub server_receive_maximum: u16,
    next_id: u16,
}

fn pid(id: u16) -> NonZeroU16 {
    NonZeroU16::new(id).expect("packet identifiers start at 1")
}

impl Connection {
    /// Opens a TCP connection and completes the CONNECT exchange, with `(keep alive, whether
    /// the session is to be kept)`. `read_capacity` is the read buffer's initial size (small
    /// for idle connections).
    pub async fn connect(
        addr: SocketAddr,
        protocol: Protocol,
        client_id: &str,
        (keep_alive, persistent): (u16, bool),
        read_capacity: usize,
    ) -> Result<Connection, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let mut conn = Connection::from_stream(stream, protocol, read_capacity);
        let mut connect = Connect::new(protocol, client_id.to_string());
        connect.keep_alive = keep_alive;
        if persistent {
            // Clean Session 0; in 5.0, a session that outlives the connection by an hour.
            connect.clean_start = false;
            if protocol.is_v5() {
                connect
                    .properties
                    .push(Property::SessionExpiryInterval(3600));
            }
        }
        if protocol.is_v5() {
            // Let the broker have as many QoS 1/2 messages in flight towards us as it likes.
            connect.properties.push(Property::ReceiveMaximum(u16::MAX));
        }
        conn.send(&Packet::Connect(Box::new(connect))).await?;
        match conn.read_packet().await? {
            Packet::ConnAck(ack) if !ack.code.is_error() => {
                if let Some(Property::ReceiveMaximum(n)) =
                    ack.properties.get(PropertyId::ReceiveMaximum)
                {
                    conn.server_receive_maximum = *n;
                }
                Ok(conn)
            }
            Packet::ConnAck(ack) => Err(format!("CONNACK refused: {:?}", ack.code)),
            other => Err(format!("expected CONNACK, got {:?}", other.packet_type())),
        }
    }

    /// Wraps a TCP stream on which no packet has been exchanged yet.
    fn from_stream(stream: TcpStream, protocol: Protocol, read_capacity: usize) -> Connection {
        let _ = stream.set_nodelay(true);
        let (reader, writer) = stream.into_split();
        Connection {
            reader,
            writer,
            rbuf: BytesMut::with_capacity(read_capacity),
            protocol,
            server_receive_maximum: u16::MAX,
            next_id: 1,
        }
    }

    /// Subscribes to one filter and waits for a SUBACK that grants it.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), String> {
        let filter = TopicFilter::new(filter.to_string()).map_err(|e| format!("{filter}: {e}"))?;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let subscribe = Subscribe {
            packet_id: pid(id),
            properties: Default::default(),
            filters: vec![(filter, SubscriptionOptions::qos(qos))],
        };
        self.send(&Packet::Subscribe(subscribe)).await?;
        loop {
            match self.read_packet().await? {
                Packet::SubAck(ack) if ack.packet_id.get() == id => {
                    return match ack.reasons.first() {
                        Some(code) if !code.is_error() => Ok(()),
                        code => Err(format!("SUBSCRIBE refused: {code:?}")),
                    };
                }
                // Retained messages may come first: a benchmark topic has none, so ignore.
                Packet::Publish(_) => {}
                other => return Err(format!("expected SUBACK, got {:?}", other.packet_type())),
            }
        }
    }

    /// Encodes and writes one packet.
    pub async fn send(&mut self, packet: &Packet) -> Result<(), String> {
        let mut buf = BytesMut::new();
        packet
            .encode(self.protocol, &mut buf)
            .map_err(|e| format!("encode: {e}"))?;
        self.writer
            .write_all(&buf)
            .await
            .map_err(|e| format!("write: {e}"))
    }

    /// Reads until one whole packet is buffered, and decodes it.
    pub async fn read_packet(&mut self) -> Result<Packet, String> {
        loop {
            if let Some(packet) = decode(&mut self.rbuf, self.protocol, MAX_PACKET_SIZE)
                .map_err(|e| format!("decode: {e}"))?
            {
                return Ok(packet);
            }
            self.rbuf.reserve(1024);
            match self.reader.read_buf(&mut self.rbuf).await {
                Ok(0) => return Err("connection closed by the broker".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }
}

/// A PUBLISH encoded once, patched per message.
#[derive(Clone, Debug)]
pub struct Template {
    frame: Vec<u8>,
    id_at: Option<usize>,
    payload_at: usize,
}

impl Template {
    pub fn new(
        topic: &str,
        qos: QoS,
        payload_len: usize,
        protocol: Protocol,
    ) -> Result<Template, String> {
        let payload_len = payload_len.max(HEADER_LEN);
        let mut publish = Publish::new(
            TopicName::new(topic.to_string()).map_err(|e| format!("{topic}: {e}"))?,
            Bytes::from(vec![0x5a; payload_len]),
        );
        publish.qos = qos;
        publish.packet_id = (qos != QoS::AtMostOnce).then(|| pid(1));
        let frame = Packet::Publish(publish)
            .to_bytes(protocol)
            .map_err(|e| format!("encode: {e}"))?
            .to_vec();
        let payload_at = frame.len() - payload_len;
        // The packet identifier comes right before the properties (5.0: an empty property
        // list is one byte, 0) or the payload (3.x).
        let props = usize::from(protocol.is_v5());
        let id_at = (qos != QoS::AtMostOnce).then(|| payload_at - props - 2);
        Ok(Template {
            frame,
            id_at,
            payload_at,
        })
    }

    /// Appends one message to `buf`.
    pub fn put(&self, buf: &mut BytesMut, id: u16, publisher: u32, seq: u64, sent_ns: u64) {
        let start = buf.len();
        buf.extend_from_slice(&self.frame);
        let frame = &mut buf[start..];
        if let Some(at) = self.id_at {
            frame[at..at + 2].copy_from_slice(&id.to_be_bytes());
        }
        write_header(&mut frame[self.payload_at..], publisher, seq, sent_ns);
    }

    pub fn len(&self) -> usize {
        self.frame.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frame.is_empty()
    }
}

/// Optional end-to-end pacing shared by the publishers of a run (`loadgen --window N`): at
/// most `window` deliveries may be outstanding (sent by a publisher, times the number of
/// receivers that should get it, and not yet seen by a subscriber). It measures the rate a
/// broker sustains with short queues, which is not what real clients do, so it is off (0) by
/// default: publishers then go as fast as their sockets and, at QoS 1 and 2, their in-flight
/// windows let them.
pub struct Flow {
    window: u64,
    issued: Cell<u64>,
    delivered: Cell<u64>,
    waiting: Cell<u32>,
    notify: Notify,
    /// How often publishers gave up waiting for deliveries that never came (see `forgive`).
    pub stalls: Cell<u64>,
}

impl Flow {
    pub fn new(window: u64) -> Flow {
        Flow {
            window,
            issued: Cell::new(0),
            delivered: Cell::new(0),
            waiting: Cell::new(0),
            notify: Notify::new(),
            stalls: Cell::new(0),
        }
    }

    /// Deliveries that may still be issued.
    pub fn room(&self) -> u64 {
        if self.window == 0 {
            return u64::MAX;
        }
        let outstanding = self.issued.get().saturating_sub(self.delivered.get());
        self.window.saturating_sub(outstanding)
    }

    fn issue(&self, n: u64) {
        self.issued.set(self.issued.get() + n);
    }

    /// Called by subscribers after each batch of deliveries.
    pub fn delivered(&self, n: u64) {
        if n == 0 {
            return;
        }
        self.delivered.set(self.delivered.get() + n);
        if self.waiting.get() > 0 && self.room() >= self.window / 4 {
            self.notify.notify_waiters();
        }
    }

    /// A lost message would hold its place in the window for ever: when nothing has been
    /// delivered for a while, the outstanding deliveries are written off (they are counted as
    /// lost at the end anyway) and the stall is counted.
    fn forgive(&self) {
        self.stalls.set(self.stalls.get() + 1);
        self.delivered.set(self.issued.get());
        self.notify.notify_waiters();
    }
}

/// What one publisher does.
#[derive(Clone, Debug)]
pub struct PublishPlan {
    /// Index of the publisher (written into every payload).
    pub index: u32,
    pub topic: String,
    pub qos: QoS,
    pub payload: usize,
    /// Messages to publish.
    pub count: u64,
    /// Most QoS 1/2 messages unacknowledged at once (capped by the server's Receive Maximum).
    pub inflight: u16,
    /// Messages per second, or as fast as allowed.
    pub rate: Option<f64>,
    /// How many deliveries one message should produce (subscribers per message).
    pub fanout: u64,
    /// The run's start: the rate counts from it.
    pub start: Instant,
}

/// The state a publisher's writer and reader share.
struct Inflight {
    /// Per packet identifier: 0 free, 1 awaiting PUBACK / PUBREC, 2 awaiting PUBCOMP.
    slots: RefCell<Vec<u8>>,
    in_use: Cell<u32>,
    /// Packet identifiers whose PUBREL is owed.
    release: RefCell<Vec<u16>>,
    wake: Notify,
    closed: RefCell<Option<String>>,
}

/// How long a publisher waits for deliveries before it writes the outstanding ones off.
const STALL: Duration = Duration::from_millis(1000);

/// Publishes `plan.count` messages on `conn`, then waits for every acknowledgement. Returns the
/// connection's writer (kept open until the run ends, so no unread data is reset).
pub async fn publisher(
    conn: Connection,
    plan: PublishPlan,
    tracker: Rc<RefCell<Tracker>>,
    flow: Rc<Flow>,
) -> Result<OwnedWriteHalf, String> {
    let protocol = conn.protocol;
    let template = Template::new(&plan.topic, plan.qos, plan.payload, protocol)?;
    let window = u32::from(plan.inflight.min(conn.server_receive_maximum).max(1));
    let state = Rc::new(Inflight {
        slots: RefCell::new(vec![0; 65536]),
        in_use: Cell::new(0),
        release: RefCell::new(Vec::new()),
        wake: Notify::new(),
        closed: RefCell::new(None),
    });
    let Connection {
        reader,
        mut writer,
        rbuf,
        ..
    } = conn;
    let acks = tokio::task::spawn_local(ack_reader(
        reader,
        rbuf,
        protocol,
        plan.qos,
        plan.index as usize,
        state.clone(),
        tracker.clone(),
    ));
    let index = plan.index as usize;
    let per_batch = (WRITE_BATCH_BYTES / template.len()).max(1) as u64;
    let mut buf = BytesMut::with_capacity(WRITE_BATCH_BYTES + template.len() + 1024);
    let mut sent: u64 = 0;
    let mut next_id: u16 = 1;
    let result = loop {
        for id in state.release.borrow_mut().drain(..) {
            let _ = Packet::PubRel(Ack::new(pid(id))).encode(protocol, &mut buf);
        }
        let mut allowed = (plan.count - sent).min(per_batch);
        if plan.qos != QoS::AtMostOnce {
            allowed = allowed.min(u64::from(window - state.in_use.get().min(window)));
        }
        let flow_room = flow.room() / plan.fanout.max(1);
        allowed = allowed.min(flow_room);
        let mut next_due = None;
        if let Some(rate) = plan.rate {
            let due = (plan.start.elapsed().as_secs_f64() * rate) as u64 + 1;
            let due = due.min(plan.count);
            allowed = allowed.min(due.saturating_sub(sent));
            if allowed == 0 && sent < plan.count {
                next_due = Some(plan.start + Duration::from_secs_f64(sent as f64 / rate));
            }
        }
        if allowed > 0 {
            let now = now_ns();
            let mut slots = state.slots.borrow_mut();
            for _ in 0..allowed {
                let id = if plan.qos == QoS::AtMostOnce {
                    0
                } else {
                    while slots[usize::from(next_id)] != 0 {
                        next_id = next_id.wrapping_add(1).max(1);
                    }
                    let id = next_id;
                    slots[usize::from(id)] = 1;
                    next_id = next_id.wrapping_add(1).max(1);
                    id
                };
                template.put(&mut buf, id, plan.index, sent, now);
                sent += 1;
            }
            if plan.qos != QoS::AtMostOnce {
                state.in_use.set(state.in_use.get() + allowed as u32);
            }
            tracker.borrow().sent[index].set(sent);
            flow.issue(allowed * plan.fanout);
        }
        if !buf.is_empty() {
            if let Err(e) = writer.write_all(&buf).await {
                break Err(format!("publisher write: {e}"));
            }
            buf.clear();
            continue;
        }
        if sent == plan.count && state.in_use.get() == 0 {
            break Ok(());
        }
        if let Some(why) = state.closed.borrow().clone() {
            break Err(why);
        }
        // Wait for an acknowledgement, room in the flow window, or the next due message.
        let blocked_on_flow = flow_room == 0 && sent < plan.count;
        if blocked_on_flow {
            flow.waiting.set(flow.waiting.get() + 1);
        }
        let before = flow.delivered.get();
        tokio::select! {
            _ = state.wake.notified() => {}
            _ = flow.notify.notified(), if blocked_on_flow => {}
            _ = sleep_until(next_due), if next_due.is_some() => {}
            _ = tokio::time::sleep(STALL), if blocked_on_flow => {
                if flow.delivered.get() == before {
                    flow.forgive();
                }
            }
        }
        if blocked_on_flow {
            flow.waiting.set(flow.waiting.get() - 1);
        }
    };
    acks.abort();
    result.map(|()| writer)
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}

/// Reads a publisher's acknowledgements and answers PUBREC with PUBREL (through the writer).
async fn ack_reader(
    mut reader: OwnedReadHalf,
    mut buf: BytesMut,
    protocol: Protocol,
    qos: QoS,
    index: usize,
    state: Rc<Inflight>,
    tracker: Rc<RefCell<Tracker>>,
) {
    let why = loop {
        let mut acked = 0u64;
        let mut failed = None;
        {
            let mut slots = state.slots.borrow_mut();
            loop {
                let packet = match decode(&mut buf, protocol, MAX_PACKET_SIZE) {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some(format!("publisher decode: {e}"));
                        break;
                    }
                };
                match packet {
                    Packet::PubAck(a) if qos == QoS::AtLeastOnce => {
                        let slot = &mut slots[usize::from(a.packet_id.get())];
                        if *slot == 1 {
                            *slot = 0;
                            state.in_use.set(state.in_use.get() - 1);
                            acked += 1;
                        }
                        if a.reason.is_error() {
                            tracker.borrow_mut().error(format!("PUBACK {:?}", a.reason));
                        }
                    }
                    Packet::PubRec(a) if qos == QoS::ExactlyOnce => {
                        let id = a.packet_id.get();
                        let slot = &mut slots[usize::from(id)];
                        if a.reason.is_error() {
                            tracker.borrow_mut().error(format!("PUBREC {:?}", a.reason));
                            if *slot == 1 {
                                *slot = 0;
                                state.in_use.set(state.in_use.get() - 1);
                            }
                        } else if *slot == 1 {
                            *slot = 2;
                            state.release.borrow_mut().push(id);
                        }
                    }
                    Packet::PubComp(a) if qos == QoS::ExactlyOnce => {
                        let slot = &mut slots[usize::from(a.packet_id.get())];
                        if *slot == 2 {
                            *slot = 0;
                            state.in_use.set(state.in_use.get() - 1);
                            acked += 1;
                        }
                    }
                    Packet::Disconnect(d) => {
                        failed = Some(format!("publisher got DISCONNECT {:?}", d.reason));
                        break;
                    }
                    Packet::PingResp => {}
                    other => {
                        failed = Some(format!("publisher got {:?}", other.packet_type()));
                        break;
                    }
                }
            }
        }
        if acked > 0 {
            let t = tracker.borrow();
            let cell = &t.acked[index];
            cell.set(cell.get() + acked);
        }
        state.wake.notify_one();
        if let Some(why) = failed {
            break why;
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(READ_CHUNK);
        }
        match reader.read_buf(&mut buf).await {
            Ok(0) => break "publisher: connection closed by the broker".to_string(),
            Ok(_) => {}
            Err(e) => break format!("publisher read: {e}"),
        }
    };
    *state.closed.borrow_mut() = Some(why);
    state.wake.notify_one();
}

/// Receives messages for receiver group `group` until the connection ends (or the task is
/// dropped at the end of the run), acknowledging each as its QoS requires.
pub async fn subscriber(
    conn: Connection,
    group: usize,
    tracker: Rc<RefCell<Tracker>>,
    flow: Rc<Flow>,
) -> Result<(), String> {
    let Connection {
        mut reader,
        mut writer,
        rbuf: mut buf,
        protocol,
        ..
    } = conn;
    let mut out = BytesMut::with_capacity(16 * 1024);
    let mut now = Instant::now();
    let mut now_ns = now_ns();
    buf.reserve(READ_CHUNK);
    loop {
        let mut delivered = 0u64;
        let mut failed = None;
        {
            let mut t = tracker.borrow_mut();
            loop {
                let packet = match decode(&mut buf, protocol, MAX_PACKET_SIZE) {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some(format!("subscriber decode: {e}"));
                        break;
                    }
                };
                match packet {
                    Packet::Publish(p) => {
                        t.deliver(group, &p.payload, now, now_ns);
                        delivered += 1;
                        if let Some(ack) = acknowledgement(p.qos, p.packet_id) {
                            let _ = ack.encode(protocol, &mut out);
                        }
                    }
                    Packet::PubRel(a) => {
                        let _ = Packet::PubComp(Ack::new(a.packet_id)).encode(protocol, &mut out);
                    }
                    Packet::Disconnect(d) => {
                        failed = Some(format!("subscriber got DISCONNECT {:?}", d.reason));
                        break;
                    }
                    Packet::PingResp => {}
                    other => {
                        failed = Some(format!("subscriber got {:?}", other.packet_type()));
                        break;
                    }
                }
            }
            if let Some(why) = &failed {
                t.error(why.clone());
            }
        }
        flow.delivered(delivered);
        if let Some(why) = failed {
            return Err(why);
        }
        if !out.is_empty() {
            if let Err(e) = writer.write_all(&out).await {
                let why = format!("subscriber write: {e}");
                tracker.borrow_mut().error(why.clone());
                return Err(why);
            }
            out.clear();
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(READ_CHUNK);
        }
        match reader.read_buf(&mut buf).await {
            Ok(0) => {
                let why = "subscriber: connection closed by the broker".to_string();
                tracker.borrow_mut().error(why.clone());
                return Err(why);
            }
            Ok(_) => {}
            Err(e) => {
                let why = format!("subscriber read: {e}");
                tracker.borrow_mut().error(why.clone());
                return Err(why);
            }
        }
        now = Instant::now();
        now_ns = super::stats::now_ns();
    }
}

/// What a receiver owes for a PUBLISH: PUBACK at QoS 1, PUBREC at QoS 2 (whose PUBREL it
/// then answers with PUBCOMP), nothing at QoS 0.
fn acknowledgement(qos: QoS, packet_id: Option<PacketId>) -> Option<Packet> {
    match (qos, packet_id) {
        (QoS::AtLeastOnce, Some(id)) => Some(Packet::PubAck(Ack::new(id))),
        (QoS::ExactlyOnce, Some(id)) => Some(Packet::PubRec(Ack::new(id))),
        _ => None,
    }
}

/// What the stuck subscriber of the `slow` scenario did.
#[derive(Debug, Default)]
pub struct Stuck {
    /// Messages it read and acknowledged before it stopped reading.
    pub received: Cell<u64>,
    /// When it stopped reading; `None` while it still waits for its messages.
    pub stopped_at: Cell<Option<Instant>>,
}

/// A subscriber that reads and acknowledges `stop_after` messages like any other, then stops
/// reading for good and hands its connection back, still open: from then on the broker sees a
/// subscriber whose socket fills up and stays full. Give it a small read buffer, so that what
/// it takes off the socket beyond its `stop_after` messages is small too.
pub async fn stuck_subscriber(
    mut conn: Connection,
    stop_after: u64,
    stuck: Rc<Stuck>,
) -> Result<Connection, String> {
    while stuck.received.get() < stop_after {
        match conn.read_packet().await? {
            Packet::Publish(p) => {
                stuck.received.set(stuck.received.get() + 1);
                if let Some(ack) = acknowledgement(p.qos, p.packet_id) {
                    conn.send(&ack).await?;
                }
            }
            Packet::PubRel(a) => conn.send(&Packet::PubComp(Ack::new(a.packet_id))).await?,
            Packet::Disconnect(d) => return Err(format!("DISCONNECT {:?}", d.reason)),
            _ => {}
        }
    }
    stuck.stopped_at.set(Some(Instant::now()));
    Ok(conn)
}

/// How a connection that stopped reading turned out, found by [`probe_end`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// Still open: the probe read nothing more than messages, then silence.
    Open,
    /// The broker closed it (end of file after whatever it had sent before).
    Closed,
    /// The broker sent a DISCONNECT (5.0, or a broker that sends one anyway).
    Disconnect(ReasonCode),
    /// The connection was reset (closed by the broker with our data unread) or broke.
    Failed(String),
}

impl End {
    /// Whether the broker ended the connection.
    pub fn by_broker(&self) -> bool {
        *self != End::Open
    }

    /// A short word for the JSON line and the report.
    pub fn describe(&self) -> String {
        match self {
            End::Open => "open".into(),
            End::Closed => "closed".into(),
            End::Disconnect(code) => format!("DISCONNECT 0x{:02x}", code.0),
            End::Failed(why) => format!("failed: {why}"),
        }
    }
}

/// Reads what is left on a connection that stopped reading, to learn whether the broker closed
/// it: whatever the broker sent before closing comes first, so the probe reads (without
/// acknowledging) until end of file, a DISCONNECT, an error, `quiet` without a byte, or
/// `limit` in all. Returns how it ended and how many PUBLISHes were still on their way.
pub async fn probe_end(conn: Connection, quiet: Duration, limit: Duration) -> (End, u64) {
    let Connection {
        mut reader,
        rbuf: mut buf,
        protocol,
        ..
    } = conn;
    let give_up = Instant::now() + limit;
    let mut publishes = 0;
    loop {
        loop {
            match decode(&mut buf, protocol, MAX_PACKET_SIZE) {
                Ok(Some(Packet::Publish(_))) => publishes += 1,
                Ok(Some(Packet::Disconnect(d))) => return (End::Disconnect(d.reason), publishes),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return (End::Failed(format!("decode: {e}")), publishes),
            }
        }
        let left = give_up.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (End::Open, publishes);
        }
        buf.reserve(READ_CHUNK);
        match tokio::time::timeout(quiet.min(left), reader.read_buf(&mut buf)).await {
            Err(_) => return (End::Open, publishes),
            Ok(Ok(0)) => return (End::Closed, publishes),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return (End::Failed(e.to_string()), publishes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::stats::read_header;
    use std::future::Future;
    use tern::codec::{decode_exact, Disconnect};
    use tokio::net::TcpListener;

    /// Runs `f` on a current-thread runtime inside a `LocalSet`, as `loadgen` does.
    fn local<F: Future>(f: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, f)
    }

    /// A client connection (no CONNECT exchanged) and the fake broker's end of it.
    async fn pair(protocol: Protocol, read_capacity: usize) -> (Connection, Peer) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let conn = Connection::from_stream(client.unwrap(), protocol, read_capacity);
        let peer = Peer {
            stream: server.unwrap().0,
            buf: BytesMut::new(),
            protocol,
        };
        (conn, peer)
    }

    /// The fake broker's side: whole packets in and out.
    struct Peer {
        stream: TcpStream,
        buf: BytesMut,
        protocol: Protocol,
    }

    impl Peer {
        async fn read(&mut self) -> Packet {
            loop {
                if let Some(p) = decode(&mut self.buf, self.protocol, MAX_PACKET_SIZE).unwrap() {
                    return p;
                }
                assert_ne!(self.stream.read_buf(&mut self.buf).await.unwrap(), 0);
            }
        }

        async fn send(&mut self, packet: Packet) {
            let bytes = packet.to_bytes(self.protocol).unwrap();
            self.stream.write_all(&bytes).await.unwrap();
        }

        /// A PUBLISH whose payload carries the load generator's header.
        async fn publish(&mut self, qos: QoS, id: u16, publisher: u32, seq: u64) {
            let mut payload = vec![0; HEADER_LEN];
            write_header(&mut payload, publisher, seq, now_ns());
            let mut p = Publish::new(TopicName::new("t".to_string()).unwrap(), payload);
            p.qos = qos;
            p.packet_id = (qos != QoS::AtMostOnce).then(|| pid(id));
            self.send(Packet::Publish(p)).await;
        }
    }

    fn plan(qos: QoS, count: u64, inflight: u16) -> PublishPlan {
        PublishPlan {
            index: 0,
            topic: "t".into(),
            qos,
            payload: 64,
            count,
            inflight,
            rate: None,
            fanout: 1,
            start: Instant::now(),
        }
    }

    #[test]
    fn a_qos2_publisher_releases_on_pubrec_and_completes_on_pubcomp() {
        local(async {
            let (conn, mut broker) = pair(Protocol::V3_1_1, 4096).await;
            let tracker = Rc::new(RefCell::new(Tracker::new(1, &[vec![0]], 300)));
            let publishing = tokio::task::spawn_local(publisher(
                conn,
                plan(QoS::ExactlyOnce, 300, 100),
                tracker.clone(),
                Rc::new(Flow::new(0)),
            ));
            // Answer every PUBLISH with PUBREC and every PUBREL with PUBCOMP; never more than
            // the window may be unreleased at once.
            let (mut open, mut released) = (0u32, 0u64);
            while released < 300 {
                match broker.read().await {
                    Packet::Publish(p) => {
                        assert_eq!(p.qos, QoS::ExactlyOnce);
                        open += 1;
                        assert!(open <= 100, "in-flight window exceeded");
                        broker
                            .send(Packet::PubRec(Ack::new(p.packet_id.unwrap())))
                            .await;
                    }
                    Packet::PubRel(a) => {
                        open -= 1;
                        released += 1;
                        broker.send(Packet::PubComp(Ack::new(a.packet_id))).await;
                    }
                    other => panic!("unexpected {:?}", other.packet_type()),
                }
            }
            assert!(publishing.await.unwrap().is_ok());
            let t = tracker.borrow();
            assert_eq!((t.total_sent(), t.total_acked()), (300, 300));
        });
    }

    #[test]
    fn a_qos2_subscriber_answers_pubrec_and_pubcomp_and_counts_a_duplicate() {
        local(async {
            let (conn, mut broker) = pair(Protocol::V3_1_1, 4096).await;
            let tracker = Rc::new(RefCell::new(Tracker::new(1, &[vec![0]], 10)));
            tracker.borrow().sent[0].set(2);
            let receiving = tokio::task::spawn_local(subscriber(
                conn,
                0,
                tracker.clone(),
                Rc::new(Flow::new(0)),
            ));
            // Message 0, message 1, then message 0 again under another packet identifier.
            for (id, seq) in [(1, 0), (2, 1), (3, 0)] {
                broker.publish(QoS::ExactlyOnce, id, 0, seq).await;
                let Packet::PubRec(rec) = broker.read().await else {
                    panic!("expected PUBREC");
                };
                assert_eq!(rec.packet_id.get(), id);
                broker.send(Packet::PubRel(Ack::new(pid(id)))).await;
                let Packet::PubComp(comp) = broker.read().await else {
                    panic!("expected PUBCOMP");
                };
                assert_eq!(comp.packet_id.get(), id);
            }
            drop(broker);
            assert!(receiving.await.unwrap().is_err(), "the broker closed it");
            let t = tracker.borrow();
            assert_eq!((t.unique(), t.duplicates(), t.lost()), (2, 1, 0));
        });
    }

    #[test]
    fn the_stuck_subscriber_stops_after_its_messages_and_the_probe_finds_the_rest() {
        local(async {
            let (conn, mut broker) = pair(Protocol::V3_1_1, 256).await;
            for i in 0..10u16 {
                broker
                    .publish(QoS::AtLeastOnce, i + 1, 0, u64::from(i))
                    .await;
            }
            let stuck = Rc::new(Stuck::default());
            let conn = stuck_subscriber(conn, 4, stuck.clone()).await.unwrap();
            assert_eq!(stuck.received.get(), 4);
            assert!(stuck.stopped_at.get().is_some());
            for id in 1..=4 {
                let Packet::PubAck(a) = broker.read().await else {
                    panic!("expected PUBACK");
                };
                assert_eq!(a.packet_id.get(), id);
            }
            drop(broker);
            let quiet = Duration::from_secs(2);
            assert_eq!(probe_end(conn, quiet, quiet).await, (End::Closed, 6));
        });
    }

    #[test]
    fn the_probe_tells_open_from_disconnected() {
        local(async {
            let quiet = Duration::from_millis(100);
            let (conn, _broker) = pair(Protocol::V5, 256).await;
            assert_eq!(probe_end(conn, quiet, quiet * 10).await, (End::Open, 0));

            let (conn, mut broker) = pair(Protocol::V5, 256).await;
            broker.publish(QoS::AtMostOnce, 0, 0, 0).await;
            let quota = ReasonCode::QUOTA_EXCEEDED;
            broker
                .send(Packet::Disconnect(Disconnect::new(quota)))
                .await;
            let (end, publishes) = probe_end(conn, quiet, quiet * 10).await;
            assert_eq!((end.clone(), publishes), (End::Disconnect(quota), 1));
            assert!(end.by_broker());
            assert_eq!(end.describe(), "DISCONNECT 0x97");
        });
    }

    #[test]
    fn template_patches_id_and_header() {
        for protocol in [Protocol::V3_1_1, Protocol::V5] {
            for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                let t = Template::new("bench/x/1", qos, 64, protocol).unwrap();
                let mut buf = BytesMut::new();
                t.put(&mut buf, 513, 3, 77, 999);
                let Packet::Publish(p) = decode_exact(&buf, protocol).unwrap() else {
                    panic!("not a PUBLISH");
                };
                assert_eq!(p.qos, qos);
                assert_eq!(p.topic.as_str(), "bench/x/1");
                assert_eq!(p.payload.len(), 64);
                assert_eq!(read_header(&p.payload), Some((3, 77, 999)));
                if qos != QoS::AtMostOnce {
                    assert_eq!(p.packet_id.map(|id| id.get()), Some(513), "{protocol:?}");
                }
            }
        }
    }

    #[test]
    fn a_payload_is_never_shorter_than_its_header() {
        let t = Template::new("t", QoS::AtMostOnce, 4, Protocol::V3_1_1).unwrap();
        let mut buf = BytesMut::new();
        t.put(&mut buf, 0, 1, 2, 3);
        let Packet::Publish(p) = decode_exact(&buf, Protocol::V3_1_1).unwrap() else {
            panic!("not a PUBLISH");
        };
        assert_eq!(p.payload.len(), HEADER_LEN);
    }

    #[test]
    fn flow_window() {
        let f = Flow::new(100);
        assert_eq!(f.room(), 100);
        f.issue(80);
        assert_eq!(f.room(), 20);
        f.delivered(50);
        assert_eq!(f.room(), 70);
        f.forgive();
        assert_eq!(f.room(), 100);
        assert_eq!(f.stalls.get(), 1);
        assert_eq!(Flow::new(0).room(), u64::MAX);
    }
}
