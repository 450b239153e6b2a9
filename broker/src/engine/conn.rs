//! Network connection state: what lives exactly as long as one connection (section 4.1 keeps
//! it apart from the session): the negotiated limits, keep alive and topic aliases.

use std::time::{Duration, Instant};

use ahash::AHashMap;
use bytestring::ByteString;

use super::conn_info::ConnInfo;
use crate::codec::{Connect, Protocol, ReasonCode, TopicName, Will};
use crate::router::SubscriberId;

/// A network connection, numbered by the transport layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[derive(Debug)]
pub enum Phase {
    /// Waiting for CONNECT [MQTT-3.1.0-1].
    AwaitingConnect { deadline: Instant },
    /// CONNACK sent with success; the connection belongs to a session.
    Connected { session: SubscriberId },
}

/// The topic aliases of one connection; they die with it [MQTT-3.3.2-7].
#[derive(Debug)]
pub struct Aliases {
    /// Inbound aliases the client set [MQTT-3.3.2-12].
    pub inbound: AHashMap<u16, TopicName>,
    /// Outbound aliases the server set, by topic.
    pub outbound: AHashMap<ByteString, u16>,
    /// The next outbound alias to hand out.
    pub next_out: u16,
}

impl Default for Aliases {
    fn default() -> Aliases {
        Aliases {
            inbound: AHashMap::new(),
            outbound: AHashMap::new(),
            next_out: 1,
        }
    }
}

#[derive(Debug)]
pub struct Conn {
    pub phase: Phase,
    pub protocol: Protocol,
    pub client_id: ByteString,
    /// The effective keep alive (the client's, or the server's Server Keep Alive).
    pub keep_alive: Option<Duration>,
    pub last_packet: Instant,
    /// When the network connection opened, in seconds after the engine started (the admin
    /// API's "connected since"; a u32, not an Instant: every connection pays for it).
    pub opened: u32,
    /// The client's Receive Maximum: how many QoS 1/2 PUBLISH it takes unacknowledged.
    pub client_receive_maximum: u16,
    /// The client's Maximum Packet Size [MQTT-3.1.2-24].
    pub client_max_packet_size: u32,
    /// The client's Topic Alias Maximum: how many aliases the server may use toward it.
    pub client_topic_alias_maximum: u16,
    /// Request Problem Information: 0 forbids Reason Strings and User Properties except on
    /// CONNACK and DISCONNECT [MQTT-3.1.2-29].
    pub request_problem_information: bool,
    /// The topic aliases of the connection, once one is set either way (boxed: most
    /// connections never use one).
    pub aliases: Option<Box<Aliases>>,
    /// The will of this connection, until it is published or discarded [MQTT-3.1.2-7].
    pub will: Option<Box<Will>>,
    /// The Session Expiry Interval given at CONNECT; 0 there forbids raising it at DISCONNECT.
    pub connect_session_expiry: u32,
    /// A CONNECT waiting for its enhanced authentication exchange to finish.
    pub pending_connect: Option<Box<Connect>>,
    /// A failed login waiting out the failed-login delay: the CONNACK reason it will get.
    /// Nothing the client sends meanwhile is processed [MQTT-3.1.4-6].
    pub refusal: Option<ReasonCode>,
    /// The listener's admission rules refused the connection when it opened (its address
    /// opened connections too fast): its CONNECT gets CONNACK with this reason.
    pub refused_on_open: Option<ReasonCode>,
    /// What the listener told about the connection: allowed protocol versions, the client's
    /// address, its certificate.
    pub info: ConnInfo,
    /// Who the client is for authorization, and what its credentials limit it to.
    pub rights: super::authz::Rights,
    /// Its publish rate and bandwidth so far.
    pub limiter: super::rate::PublishLimiter,
    /// What it is owed while held back as a publisher (see `flow`); boxed, as it is rare.
    pub held: Option<Box<super::flow::Held>>,
    /// Whether the transport was told to take no more PUBLISHes from it.
    pub paused: bool,
    /// A packet of its waiting for the hooks' answer, and what it sent since (see `hooks`);
    /// boxed, as it is rare.
    pub asking: Option<Box<super::hooks::Asking>>,
}

impl Conn {
    pub fn new(now: Instant, connect_timeout: Duration, info: ConnInfo) -> Conn {
        Conn {
            phase: Phase::AwaitingConnect {
                deadline: now + connect_timeout,
            },
            protocol: Protocol::V5,
            client_id: ByteString::new(),
            keep_alive: None,
            last_packet: now,
            opened: 0,
            client_receive_maximum: u16::MAX,
            client_max_packet_size: crate::codec::MAX_PACKET_SIZE,
            client_topic_alias_maximum: 0,
            request_problem_information: true,
            aliases: None,
            will: None,
            connect_session_expiry: 0,
            pending_connect: None,
            refusal: None,
            refused_on_open: None,
            info,
            rights: Default::default(),
            limiter: Default::default(),
            held: None,
            paused: false,
            asking: None,
        }
    }

    /// The topic aliases, made empty on first use.
    pub fn aliases_mut(&mut self) -> &mut Aliases {
        self.aliases.get_or_insert_with(Default::default)
    }

    pub fn session(&self) -> Option<SubscriberId> {
        match self.phase {
            Phase::Connected { session } => Some(session),
            _ => None,
        }
    }

    /// When the connection must be closed for silence: one and a half times the keep alive
    /// after the last packet [MQTT-3.1.2-22] (3.1.1: [MQTT-3.1.2-24]).
    pub fn keep_alive_deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::AwaitingConnect { deadline } => Some(deadline),
            Phase::Connected { .. } => self.keep_alive.map(|ka| self.last_packet + ka * 3 / 2),
        }
    }
}
