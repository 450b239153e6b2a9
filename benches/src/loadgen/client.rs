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

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tern::codec::{
    decode, Ack, Connect, Packet, Property, PropertyId, Protocol, Publish, QoS, Subscribe,
    SubscriptionOptions, TopicFilter, TopicName, MAX_PACKET_SIZE,
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
    /// Opens a TCP connection and completes the CONNECT exchange. `read_capacity` is the read
    /// buffer's initial size (small for idle connections).
    pub async fn connect(
        addr: SocketAddr,
        protocol: Protocol,
        client_id: &str,
        keep_alive: u16,
        read_capacity: usize,
    ) -> Result<Connection, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (reader, writer) = stream.into_split();
        let mut conn = Connection {
            reader,
            writer,
            rbuf: BytesMut::with_capacity(read_capacity),
            protocol,
            server_receive_maximum: u16::MAX,
            next_id: 1,
        };
        let mut connect = Connect::new(protocol, client_id.to_string());
        connect.keep_alive = keep_alive;
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

/// End-to-end flow control shared by the publishers of a run: at most `window` deliveries may
/// be outstanding (sent by a publisher, times the number of receivers that should get it, and
/// not yet seen by a subscriber). 0 turns it off: publishers then go as fast as their sockets
/// (and, at QoS 1 and 2, their in-flight windows) let them.
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
                        match (p.qos, p.packet_id) {
                            (QoS::AtLeastOnce, Some(id)) => {
                                let _ = Packet::PubAck(Ack::new(id)).encode(protocol, &mut out);
                            }
                            (QoS::ExactlyOnce, Some(id)) => {
                                let _ = Packet::PubRec(Ack::new(id)).encode(protocol, &mut out);
                            }
                            _ => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::stats::read_header;
    use tern::codec::decode_exact;

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
