//! The engine driven with no sockets and a clock of the test's own: clients are simulated by
//! feeding packets in and decoding what comes out, as quinn-proto's tests do.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::codec::{
    decode_exact, Ack, Auth, ConnAck, Connect, Disconnect, Packet, PacketId, PacketType,
    Properties, Property, PropertyId, Protocol, Publish, QoS, ReasonCode, RetainHandling, SubAck,
    Subscribe, SubscriptionOptions, TopicFilter, TopicName, Unsubscribe, Will,
};

const V5: Protocol = Protocol::V5;
const V311: Protocol = Protocol::V3_1_1;

/// The engine and everything the simulated clients received.
struct Harness {
    engine: Engine,
    now: Instant,
    next_conn: u64,
    protocols: HashMap<ConnId, Protocol>,
    inbox: HashMap<ConnId, VecDeque<Packet>>,
    closed: HashSet<ConnId>,
    /// Connections the engine paused (as the transport would, it stops taking PUBLISHes).
    paused: HashSet<ConnId>,
    /// Reads from the store the engine asked for, not yet answered.
    loads: Vec<Output>,
    /// Questions to the hooks, not yet answered (see tests/hooks.rs).
    questions: VecDeque<(ConnId, u64, Question)>,
    /// What the engine told the hooks.
    notices: Vec<Notice>,
    /// Whether a takeover's wait for the old connection is answered at once (as a transport
    /// whose sockets hold nothing more would), or left to the test (see tests/takeover.rs).
    hold_drains: bool,
    /// The connections whose input a takeover waits for, when the test answers.
    drains: Vec<ConnId>,
}

impl Harness {
    fn new() -> Harness {
        Harness::with(Settings::default())
    }

    fn with(settings: Settings) -> Harness {
        Harness::with_engine(Engine::new(settings))
    }

    fn with_engine(engine: Engine) -> Harness {
        Harness {
            engine,
            now: Instant::now(),
            next_conn: 1,
            protocols: HashMap::new(),
            inbox: HashMap::new(),
            closed: HashSet::new(),
            paused: HashSet::new(),
            loads: Vec::new(),
            questions: VecDeque::new(),
            notices: Vec::new(),
            hold_drains: false,
            drains: Vec::new(),
        }
    }

    /// Opens a connection and sends CONNECT; returns it with the CONNACK.
    fn connect_with(&mut self, connect: Connect) -> (ConnId, ConnAck) {
        let conn = self.open(connect.protocol);
        self.send(conn, Packet::Connect(Box::new(connect)));
        match self.recv(conn) {
            Some(Packet::ConnAck(ack)) => (conn, ack),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// A clean 5.0 or 3.1.1 connection that must succeed.
    fn client(&mut self, protocol: Protocol, id: &str) -> ConnId {
        let (conn, ack) = self.connect_with(Connect::new(protocol, id));
        assert_eq!(ack.code, ReasonCode::SUCCESS);
        conn
    }

    fn open(&mut self, protocol: Protocol) -> ConnId {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.protocols.insert(conn, protocol);
        self.engine.open(conn, self.now);
        conn
    }

    fn send(&mut self, conn: ConnId, packet: Packet) {
        // Each packet goes through the real encoder and decoder, as on the wire.
        let protocol = self.protocols[&conn];
        let bytes = packet.to_bytes(protocol).expect("test packet encodes");
        let packet = decode_exact(&bytes, protocol).expect("test packet decodes");
        self.engine.handle(conn, Input::Packet(packet), self.now);
        self.collect();
    }

    fn input(&mut self, conn: ConnId, input: Input) {
        self.engine.handle(conn, input, self.now);
        self.collect();
    }

    fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.engine.handle_timeout(self.now);
        self.collect();
    }

    fn collect(&mut self) {
        if let Err(broken) = self.engine.check_invariants() {
            panic!("engine invariant broken: {broken}");
        }
        let outputs: Vec<Output> = self.engine.drain_outputs().collect();
        let mut checks = Vec::new();
        let mut drains = Vec::new();
        for out in outputs {
            match out {
                Output::Send { conn, frame, .. } => {
                    assert!(
                        !self.closed.contains(&conn),
                        "sent to {conn} after its close"
                    );
                    let packet = decode_exact(&frame, self.protocols[&conn])
                        .unwrap_or_else(|e| panic!("engine sent an undecodable frame: {e}"));
                    self.inbox.entry(conn).or_default().push_back(packet);
                }
                Output::Close { conn } => {
                    self.closed.insert(conn);
                }
                Output::Pause { conn } => {
                    assert!(self.paused.insert(conn), "{conn} paused twice");
                }
                Output::Resume { conn } => {
                    assert!(self.paused.remove(&conn), "{conn} resumed but not paused");
                }
                // Answered by the test, as a store would (see tests/store.rs).
                load @ Output::Load { .. } => self.loads.push(load),
                Output::Ask { conn, id, question } => {
                    assert!(self.paused.contains(&conn), "asked about {conn} unpaused");
                    self.questions.push_back((conn, id, question));
                }
                Output::Notice(notice) => self.notices.push(notice),
                // Run at once, as the transport runs them on a blocking thread.
                Output::Check { conn, id, check } => {
                    assert!(self.paused.contains(&conn), "a check for {conn} unpaused");
                    checks.push((conn, id, check));
                }
                Output::Drain { conn } if self.hold_drains => self.drains.push(conn),
                Output::Drain { conn } => drains.push(conn),
            }
        }
        for (conn, id, check) in checks {
            let decision = check.0.run();
            self.engine.checked(conn, id, decision, self.now);
            self.collect();
        }
        for conn in drains {
            self.engine.handle(conn, Input::Quiet, self.now);
            self.collect();
        }
    }

    fn recv(&mut self, conn: ConnId) -> Option<Packet> {
        self.inbox.get_mut(&conn)?.pop_front()
    }

    fn recv_all(&mut self, conn: ConnId) -> Vec<Packet> {
        self.inbox.remove(&conn).map(Vec::from).unwrap_or_default()
    }

    fn recv_publish(&mut self, conn: ConnId) -> Publish {
        match self.recv(conn) {
            Some(Packet::Publish(p)) => p,
            other => panic!("expected PUBLISH on {conn}, got {other:?}"),
        }
    }

    fn is_closed(&self, conn: ConnId) -> bool {
        self.closed.contains(&conn)
    }

    fn subscribe(&mut self, conn: ConnId, filter: &str, qos: QoS) -> Vec<ReasonCode> {
        self.subscribe_with(
            conn,
            filter,
            SubscriptionOptions::qos(qos),
            Properties::new(),
        )
    }

    fn subscribe_with(
        &mut self,
        conn: ConnId,
        filter: &str,
        options: SubscriptionOptions,
        properties: Properties,
    ) -> Vec<ReasonCode> {
        self.send(
            conn,
            Packet::Subscribe(Subscribe {
                packet_id: pid(1),
                properties,
                filters: vec![(TopicFilter::new(filter).unwrap(), options)],
            }),
        );
        match self.recv(conn) {
            Some(Packet::SubAck(SubAck { reasons, .. })) => reasons,
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    fn publish(&mut self, conn: ConnId, topic: &str, payload: &str, qos: QoS, id: u16) {
        let mut p = Publish::new(
            TopicName::new(topic).unwrap(),
            Bytes::from(payload.to_owned()),
        );
        p.qos = qos;
        p.packet_id = (qos != QoS::AtMostOnce).then(|| pid(id));
        self.send(conn, Packet::Publish(p));
    }
}

fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn disconnect_reason(packet: Option<Packet>) -> ReasonCode {
    match packet {
        Some(Packet::Disconnect(d)) => d.reason,
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
}

fn with_will(protocol: Protocol, id: &str, delay: Option<u32>) -> Connect {
    let mut c = Connect::new(protocol, id);
    let mut properties = Properties::new();
    if let Some(d) = delay {
        properties.push(Property::WillDelayInterval(d));
    }
    c.will = Some(Will {
        qos: QoS::AtLeastOnce,
        retain: false,
        properties,
        topic: TopicName::new("wills").unwrap(),
        payload: Bytes::from(format!("{id} is gone")),
    });
    c
}

mod acks;
mod admission;
mod alias;
mod auth;
mod authz;
mod conn_info;
mod connect;
mod flow;
mod footprint;
mod hooks;
mod lifecycle;
mod publish;
mod session;
mod store;
mod subscribe;
mod takeover;
