//! An MQTT 5.0 client over any byte stream: what `crate::embed::Broker::connect` hands an
//! embedding application (over an in-process pipe), and what the gRPC API uses for its
//! callers.
//!
//! Two tasks carry a connection: a writer, which owns the stream's write half and a bounded
//! queue of packets, and a reader, which decodes what the broker sends and hands each
//! packet to whoever waits for it (a publish for its PUBACK, a subscribe for its SUBACK) or
//! to the application's [`Deliveries`].
//!
//! The reader never waits for the application. Deliveries at QoS 1 and 2 cannot outgrow
//! their queue: the client announces a Receive Maximum equal to the room it keeps for them,
//! and the broker sends no more unacknowledged than that [MQTT-3.3.4-9]; a slow application
//! slows the broker's sending to it, which then applies its slow-subscriber rules as it does
//! to any client. QoS 0 deliveries take what room is left and are dropped (and counted)
//! when there is none, as the broker drops QoS 0 for a slow network client.

use std::collections::HashMap;
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_util::sync::CancellationToken;

use super::message::Message;
use crate::codec::{
    decode, Ack, ConnAck, Connect, Disconnect, Packet, PacketId, Properties, Property, PropertyId,
    Protocol, QoS, ReasonCode, Subscribe, SubscriptionOptions, TopicFilter, Unsubscribe,
};

/// How a client logs in and what it asks of its session.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The client identifier; empty: the broker assigns one ([`Connected::client_id`]).
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<Bytes>,
    /// Start a new session (true, the default) or resume the one kept for `client_id`.
    pub clean_start: bool,
    /// Seconds the session is kept after the connection ends (0, the default: not kept).
    pub session_expiry_interval: u32,
    /// Deliveries at QoS 1 and 2 the application may hold unacknowledged (default 64).
    pub receive_maximum: u16,
    /// QoS 0 deliveries waiting for the application before more are dropped (default 1024).
    pub qos0_buffer: usize,
    /// Whether the application acknowledges deliveries itself ([`Delivery::ack`]); off (the
    /// default), [`Deliveries::recv`] acknowledges each one as it hands it over.
    pub manual_acks: bool,
    /// The message the broker publishes if the connection ends without a DISCONNECT.
    pub will: Option<Message>,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            client_id: String::new(),
            username: None,
            password: None,
            clean_start: true,
            session_expiry_interval: 0,
            receive_maximum: 64,
            qos0_buffer: 1024,
            manual_acks: false,
            will: None,
        }
    }
}

/// Why a client operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The broker refused the CONNECT with this reason code (0x86 bad user name or
    /// password, 0x87 not authorized, ...).
    #[error("connection refused: {}", reason_text(*.0))]
    Refused(ReasonCode),
    /// The connection is over: the broker closed it (with this reason code, if it sent a
    /// DISCONNECT) or it broke.
    #[error("connection closed{}", .0.map(|r| format!(": {}", reason_text(r))).unwrap_or_default())]
    Closed(Option<ReasonCode>),
    /// The request cannot be sent as it is (a topic with a wildcard, an empty filter...).
    #[error("{0}")]
    Invalid(String),
    /// The broker answered something the protocol does not allow here.
    #[error("protocol error: {0}")]
    Protocol(String),
}

fn reason_text(code: ReasonCode) -> String {
    match code.name() {
        Some(name) => format!("{:#04x} {name}", code.0),
        None => format!("{:#04x}", code.0),
    }
}

/// What the broker said when it accepted the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connected {
    /// Whether a kept session was resumed.
    pub session_present: bool,
    /// The client identifier in use: the one asked for, or the one the broker assigned.
    pub client_id: String,
}

/// The sending side of a connection; cheap to clone, usable from many tasks at once. The
/// connection ends (with DISCONNECT 0x00) at [`Client::disconnect`], or once every clone of
/// it and its [`Deliveries`] are dropped.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    _open: Arc<Open>,
}

/// Messages the broker delivers, in order.
pub struct Deliveries {
    rx: mpsc::Receiver<Delivery>,
    manual_acks: bool,
    shared: Arc<Shared>,
    _open: Arc<Open>,
}

/// Held by the application's handles: when the last one goes, the writer says DISCONNECT
/// and ends the connection (the client's tasks hold the shared state, and would otherwise
/// keep it open for ever).
struct Open(CancellationToken);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// One delivered message and, at QoS 1 and 2, the acknowledgement the broker waits for.
pub struct Delivery {
    pub message: Message,
    ack: Option<(PacketId, QoS)>,
    shared: Arc<Shared>,
}

/// What the two tasks and the handles share.
struct Shared {
    /// Packets for the writer task.
    out: mpsc::Sender<Packet>,
    /// Requests waiting for their answer, by packet identifier.
    waiting: Mutex<Waiting>,
    /// The broker's Receive Maximum: QoS 1 and 2 publications unacknowledged at once.
    window: Semaphore,
    /// Why the connection ended, once it has.
    ended: Mutex<Option<Option<ReasonCode>>>,
    /// QoS 0 deliveries dropped for want of room.
    dropped: AtomicU64,
    /// Cancelled when the connection is over: the writer closes its side then, so that the
    /// broker, which waits a moment for the client to close after its DISCONNECT, need not.
    over: CancellationToken,
}

#[derive(Default)]
struct Waiting {
    next: u16,
    answers: HashMap<PacketId, oneshot::Sender<Packet>>,
}

/// Packets the writer task holds before senders wait.
const OUT_QUEUE: usize = 256;
/// The largest packet this client accepts.
const MAX_PACKET: u32 = 1 << 28;

/// Connects over `stream` and waits for CONNACK.
pub async fn connect<S>(
    stream: S,
    options: ClientOptions,
) -> Result<(Client, Deliveries, Connected), ClientError>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut connect = Connect::new(Protocol::V5, options.client_id.as_str());
    connect.clean_start = options.clean_start;
    // The broker may ask for one (Server Keep Alive); an in-process client needs none.
    connect.keep_alive = 0;
    connect.username = options.username.as_deref().map(Into::into);
    connect.password = options.password.clone();
    let receive_maximum = options.receive_maximum.max(1);
    connect.properties = Properties::from(vec![
        Property::SessionExpiryInterval(options.session_expiry_interval),
        Property::ReceiveMaximum(receive_maximum),
    ]);
    if let Some(will) = &options.will {
        let publish = will.to_publish().map_err(ClientError::Invalid)?;
        connect.will = Some(crate::codec::Will {
            qos: publish.qos,
            retain: publish.retain,
            properties: publish.properties,
            topic: publish.topic,
            payload: publish.payload,
        });
    }
    let bytes = Packet::Connect(Box::new(connect))
        .to_bytes(Protocol::V5)
        .map_err(|e| ClientError::Invalid(e.to_string()))?;
    let broken = |_| ClientError::Closed(None);
    writer.write_all(&bytes).await.map_err(broken)?;
    writer.flush().await.map_err(broken)?;
    let mut buf = BytesMut::with_capacity(4096);
    let ack = match read_packet(&mut reader, &mut buf).await? {
        Packet::ConnAck(ack) => ack,
        Packet::Disconnect(d) => return Err(ClientError::Closed(Some(d.reason))),
        other => {
            return Err(ClientError::Protocol(format!(
                "{} before CONNACK",
                other.packet_type().name()
            )))
        }
    };
    if ack.code.is_error() {
        return Err(ClientError::Refused(ack.code));
    }
    let connected = Connected {
        session_present: ack.session_present,
        client_id: assigned_id(&ack).unwrap_or(options.client_id),
    };
    let window = match ack.properties.get(PropertyId::ReceiveMaximum) {
        Some(Property::ReceiveMaximum(n)) => usize::from(*n),
        _ => usize::from(u16::MAX),
    };
    let keep_alive = match ack.properties.get(PropertyId::ServerKeepAlive) {
        Some(Property::ServerKeepAlive(s)) if *s > 0 => Some(Duration::from_secs(u64::from(*s))),
        _ => None,
    };
    let (out, queue) = mpsc::channel(OUT_QUEUE);
    let shared = Arc::new(Shared {
        out,
        waiting: Mutex::new(Waiting::default()),
        window: Semaphore::new(window),
        ended: Mutex::new(None),
        dropped: AtomicU64::new(0),
        over: CancellationToken::new(),
    });
    let room = usize::from(receive_maximum) + options.qos0_buffer.max(1);
    let (deliver, rx) = mpsc::channel(room);
    let dropped = CancellationToken::new();
    let open = Arc::new(Open(dropped.clone()));
    tokio::spawn(write_loop(
        writer,
        queue,
        keep_alive,
        dropped,
        shared.clone(),
    ));
    tokio::spawn(read_loop(
        reader,
        buf,
        deliver,
        usize::from(receive_maximum),
        shared.clone(),
    ));
    let deliveries = Deliveries {
        rx,
        manual_acks: options.manual_acks,
        shared: shared.clone(),
        _open: open.clone(),
    };
    let client = Client {
        shared,
        _open: open,
    };
    Ok((client, deliveries, connected))
}

fn assigned_id(ack: &ConnAck) -> Option<String> {
    match ack.properties.get(PropertyId::AssignedClientIdentifier) {
        Some(Property::AssignedClientIdentifier(id)) => Some(id.to_string()),
        _ => None,
    }
}

/// Reads one packet, or fails if the stream ends or breaks first.
async fn read_packet<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
) -> Result<Packet, ClientError> {
    loop {
        match decode(buf, Protocol::V5, MAX_PACKET) {
            Ok(Some(packet)) => return Ok(packet),
            Ok(None) => {}
            Err(e) => return Err(ClientError::Protocol(e.to_string())),
        }
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(4096);
        }
        match reader.read_buf(buf).await {
            Ok(1..) => {}
            _ => return Err(ClientError::Closed(None)),
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut queue: mpsc::Receiver<Packet>,
    keep_alive: Option<Duration>,
    dropped: CancellationToken,
    shared: Arc<Shared>,
) {
    let mut buf = BytesMut::new();
    // Half the keep alive: a PINGREQ goes out in time even if the previous one was late.
    let mut ping = keep_alive.map(|k| tokio::time::interval(k / 2));
    loop {
        let next = async {
            match &mut ping {
                Some(ping) => tokio::select! {
                    packet = queue.recv() => packet,
                    _ = ping.tick() => Some(Packet::PingReq),
                },
                None => queue.recv().await,
            }
        };
        let packet = tokio::select! {
            biased;
            _ = shared.over.cancelled() => {
                let _ = writer.shutdown().await;
                break;
            }
            packet = next => packet,
            _ = dropped.cancelled() => Some(Packet::Disconnect(Disconnect::default())),
        };
        let Some(packet) = packet else { break };
        let mut last = matches!(packet, Packet::Disconnect(_));
        let mut failed = packet.encode(Protocol::V5, &mut buf).is_err();
        // Everything already queued goes in the same write.
        while !last && buf.len() < 64 * 1024 {
            match queue.try_recv() {
                Ok(more) => {
                    failed |= more.encode(Protocol::V5, &mut buf).is_err();
                    if matches!(more, Packet::Disconnect(_)) {
                        last = true;
                    }
                }
                Err(_) => break,
            }
        }
        debug_assert!(!failed, "packets are checked before they are queued");
        if writer.write_all(&buf).await.is_err() || writer.flush().await.is_err() {
            break;
        }
        buf.clear();
        if last {
            let _ = writer.shutdown().await;
            break;
        }
    }
    shared.end(None);
}

async fn read_loop<R: AsyncRead + Unpin>(
    mut reader: R,
    mut buf: BytesMut,
    deliver: mpsc::Sender<Delivery>,
    reserved: usize,
    shared: Arc<Shared>,
) {
    let reason = loop {
        let packet = match read_packet(&mut reader, &mut buf).await {
            Ok(packet) => packet,
            Err(ClientError::Closed(_)) => break None,
            Err(e) => {
                tracing::warn!("in-process client: {e}");
                break None;
            }
        };
        match packet {
            Packet::Publish(publish) => {
                let ack = match (publish.qos, publish.packet_id) {
                    (QoS::AtMostOnce, _) => None,
                    (qos, Some(id)) => Some((id, qos)),
                    (_, None) => break None,
                };
                // QoS 0 leaves room for every unacknowledged QoS 1 and 2 delivery.
                if ack.is_none() && deliver.capacity() <= reserved {
                    shared.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let delivery = Delivery {
                    message: Message::from_publish(publish),
                    ack,
                    shared: shared.clone(),
                };
                match deliver.try_send(delivery) {
                    Ok(()) => {}
                    // The application dropped its Deliveries: nothing acknowledges any more.
                    Err(mpsc::error::TrySendError::Closed(_)) => break None,
                    // More unacknowledged than the Receive Maximum: the broker broke the rule.
                    Err(mpsc::error::TrySendError::Full(_)) => break None,
                }
            }
            Packet::PubRel(rel) => {
                let _ = shared
                    .out
                    .send(Packet::PubComp(Ack::new(rel.packet_id)))
                    .await;
            }
            Packet::PubAck(_)
            | Packet::PubRec(_)
            | Packet::PubComp(_)
            | Packet::SubAck(_)
            | Packet::UnsubAck(_) => {
                if let Some(id) = answers(&packet) {
                    shared.answer(id, packet);
                }
            }
            Packet::Disconnect(d) => break Some(d.reason),
            Packet::PingResp | Packet::Auth(_) => {}
            _ => break None,
        }
    };
    shared.end(reason);
}

/// The request a packet from the broker answers, by its packet identifier.
fn answers(packet: &Packet) -> Option<PacketId> {
    match packet {
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubComp(a) => Some(a.packet_id),
        Packet::SubAck(a) => Some(a.packet_id),
        Packet::UnsubAck(a) => Some(a.packet_id),
        _ => None,
    }
}

impl Shared {
    /// Hands `packet` to whoever waits for the answer to `id`.
    fn answer(&self, id: PacketId, packet: Packet) {
        let waiter = self.waiting.lock().unwrap().answers.remove(&id);
        if let Some(waiter) = waiter {
            let _ = waiter.send(packet);
        }
    }

    /// A packet identifier no request in flight uses, and the way its answer comes back.
    fn register(&self) -> (PacketId, oneshot::Receiver<Packet>) {
        let mut waiting = self.waiting.lock().unwrap();
        let (tx, rx) = oneshot::channel();
        loop {
            waiting.next = waiting.next.wrapping_add(1);
            let Some(id) = NonZeroU16::new(waiting.next) else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(e) = waiting.answers.entry(id) {
                e.insert(tx);
                return (id, rx);
            }
        }
    }

    /// Waits for the answer to `id` again (QoS 2: PUBCOMP after PUBREC).
    fn rearm(&self, id: PacketId) -> oneshot::Receiver<Packet> {
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().unwrap().answers.insert(id, tx);
        rx
    }

    /// The connection is over: every waiting request fails.
    fn end(&self, reason: Option<ReasonCode>) {
        {
            let mut ended = self.ended.lock().unwrap();
            if ended.is_none() || reason.is_some() {
                *ended = Some(reason);
            }
        }
        self.waiting.lock().unwrap().answers.clear();
        self.window.close();
        self.over.cancel();
    }

    fn closed(&self) -> ClientError {
        ClientError::Closed(self.ended.lock().unwrap().flatten())
    }

    async fn send(&self, packet: Packet) -> Result<(), ClientError> {
        self.out.send(packet).await.map_err(|_| self.closed())
    }

    /// The answer to `id`, or the reason the connection ended first.
    async fn answer_to(&self, rx: oneshot::Receiver<Packet>) -> Result<Packet, ClientError> {
        rx.await.map_err(|_| self.closed())
    }
}

impl Client {
    /// Publishes `message` and waits until the broker has it: at QoS 0 once it is on its
    /// way, at QoS 1 for PUBACK, at QoS 2 for PUBCOMP. Gives the broker's reason code:
    /// 0x00, 0x10 No matching subscribers, or a refusal (0x87 Not authorized, 0x97 Quota
    /// exceeded...). At QoS 1 and 2, waits first while the broker's Receive Maximum of
    /// publications are unacknowledged.
    pub async fn publish(&self, message: &Message) -> Result<ReasonCode, ClientError> {
        let mut publish = message.to_publish().map_err(ClientError::Invalid)?;
        if publish.qos == QoS::AtMostOnce {
            self.shared.send(Packet::Publish(publish)).await?;
            return Ok(ReasonCode::SUCCESS);
        }
        let _permit = (self.shared.window.acquire().await).map_err(|_| self.shared.closed())?;
        let (id, answer) = self.shared.register();
        publish.packet_id = Some(id);
        let qos = publish.qos;
        self.shared.send(Packet::Publish(publish)).await?;
        let ack = match (qos, self.shared.answer_to(answer).await?) {
            (QoS::AtLeastOnce, Packet::PubAck(ack)) => return Ok(ack.reason),
            (QoS::ExactlyOnce, Packet::PubRec(ack)) if ack.reason.is_error() => {
                return Ok(ack.reason)
            }
            (QoS::ExactlyOnce, Packet::PubRec(ack)) => ack,
            (_, other) => return Err(wrong_answer(&other, "PUBLISH")),
        };
        // QoS 2: PUBREL, then PUBCOMP.
        let answer = self.shared.rearm(id);
        self.shared.send(Packet::PubRel(Ack::new(id))).await?;
        match self.shared.answer_to(answer).await? {
            Packet::PubComp(_) => Ok(ack.reason),
            other => Err(wrong_answer(&other, "PUBREL")),
        }
    }

    /// Subscribes to each filter at its QoS; gives the broker's answer for each, in order
    /// (the granted QoS, or a refusal such as 0x87 Not authorized).
    pub async fn subscribe(&self, filters: &[(&str, QoS)]) -> Result<Vec<ReasonCode>, ClientError> {
        let filters = (filters.iter())
            .map(|(f, qos)| Ok((filter(f)?, SubscriptionOptions::qos(*qos))))
            .collect::<Result<Vec<_>, ClientError>>()?;
        if filters.is_empty() {
            return Err(ClientError::Invalid("no topic filter".into()));
        }
        let (id, answer) = self.shared.register();
        let subscribe = Subscribe {
            packet_id: id,
            properties: Properties::new(),
            filters,
        };
        self.shared.send(Packet::Subscribe(subscribe)).await?;
        match self.shared.answer_to(answer).await? {
            Packet::SubAck(ack) => Ok(ack.reasons),
            other => Err(wrong_answer(&other, "SUBSCRIBE")),
        }
    }

    /// Unsubscribes from each filter; gives the broker's answer for each, in order.
    pub async fn unsubscribe(&self, filters: &[&str]) -> Result<Vec<ReasonCode>, ClientError> {
        let filters = (filters.iter())
            .map(|f| filter(f))
            .collect::<Result<Vec<_>, _>>()?;
        if filters.is_empty() {
            return Err(ClientError::Invalid("no topic filter".into()));
        }
        let (id, answer) = self.shared.register();
        let unsubscribe = Unsubscribe {
            packet_id: id,
            properties: Properties::new(),
            filters,
        };
        self.shared.send(Packet::Unsubscribe(unsubscribe)).await?;
        match self.shared.answer_to(answer).await? {
            Packet::UnsubAck(ack) => Ok(ack.reasons),
            other => Err(wrong_answer(&other, "UNSUBSCRIBE")),
        }
    }

    /// Ends the connection with DISCONNECT 0x00: the will is not published, and a session
    /// with no expiry interval ends.
    pub async fn disconnect(&self) -> Result<(), ClientError> {
        self.shared
            .send(Packet::Disconnect(Disconnect::default()))
            .await
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        self.shared.out.is_closed() || self.shared.ended.lock().unwrap().is_some()
    }
}

fn wrong_answer(packet: &Packet, to: &str) -> ClientError {
    ClientError::Protocol(format!("{} in answer to {to}", packet.packet_type().name()))
}

fn filter(f: &str) -> Result<TopicFilter, ClientError> {
    TopicFilter::new(f).map_err(|v| ClientError::Invalid(format!("topic filter {f:?}: {v}")))
}

impl Deliveries {
    /// The next delivered message, or `None` once the connection is over. Without manual
    /// acknowledgements, the message is acknowledged as it is handed over.
    pub async fn recv(&mut self) -> Option<Delivery> {
        let mut delivery = self.rx.recv().await?;
        if !self.manual_acks {
            delivery.acknowledge().await;
        }
        Some(delivery)
    }

    /// QoS 0 deliveries dropped because the application had not taken the earlier ones.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Why the connection ended (the broker's DISCONNECT reason code, if it sent one), or
    /// `None` while it lasts.
    pub fn ended(&self) -> Option<Option<ReasonCode>> {
        *self.shared.ended.lock().unwrap()
    }
}

impl Delivery {
    /// Acknowledges the message (PUBACK at QoS 1, PUBREC at QoS 2): the broker may then send
    /// another in its place. Only needed with [`ClientOptions::manual_acks`]; at QoS 0, and
    /// a second time, it does nothing.
    pub async fn ack(mut self) {
        self.acknowledge().await;
    }

    /// Whether the broker waits for this delivery's acknowledgement.
    pub fn needs_ack(&self) -> bool {
        self.ack.is_some()
    }

    async fn acknowledge(&mut self) {
        let Some((id, qos)) = self.ack.take() else {
            return;
        };
        let packet = match qos {
            QoS::ExactlyOnce => Packet::PubRec(Ack::new(id)),
            _ => Packet::PubAck(Ack::new(id)),
        };
        let _ = self.shared.out.send(packet).await;
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("message", &self.message)
            .field("needs_ack", &self.ack.is_some())
            .finish()
    }
}
