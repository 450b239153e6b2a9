//! The small, blocking client interface every library is driven through: the scenarios and the
//! `sub` / `pub` modes are written once against it, and each library implements it with its
//! own API (`rumqttc_v4.rs`, `rumqttc_v5.rs`, `paho.rs`).

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{bail, Result};

/// Longest any single protocol exchange (CONNACK, SUBACK, an acknowledgement) may take.
pub const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// What to put in a CONNECT.
#[derive(Clone, Debug)]
pub struct ConnectOpts {
    pub client_id: String,
    /// Clean session (3.1.1) or clean start (5.0).
    pub clean: bool,
    /// 5.0 only: Session Expiry Interval.
    pub session_expiry: Option<u32>,
    /// Seconds; each library applies its own lower bound (see `Library::min_keep_alive`).
    pub keep_alive: u16,
    pub credentials: Option<(String, String)>,
    /// Will topic and payload, sent at QoS 1 without retain.
    pub will: Option<(String, Vec<u8>)>,
}

impl ConnectOpts {
    pub fn new(client_id: impl Into<String>) -> Self {
        ConnectOpts {
            client_id: client_id.into(),
            clean: true,
            session_expiry: None,
            keep_alive: 30,
            credentials: None,
            will: None,
        }
    }
}

/// The 5.0 publish properties the scenarios use (empty for 3.x).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Props {
    pub user: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub response_topic: Option<String>,
    pub correlation: Option<Vec<u8>>,
    pub payload_format: Option<u8>,
    pub expiry: Option<u32>,
    pub topic_alias: Option<u16>,
    pub sub_ids: Vec<u32>,
}

/// A received application message.
#[derive(Clone, Debug)]
pub struct Msg {
    pub topic: String,
    pub qos: u8,
    pub retain: bool,
    pub payload: Vec<u8>,
    pub props: Props,
}

/// One live connection. Every call is bounded in time.
pub trait Conn: Send {
    /// The session present flag of the CONNACK.
    fn session_present(&self) -> bool;
    /// Subscribes and returns the SUBACK return / reason code.
    fn subscribe(&mut self, filter: &str, qos: u8, sub_id: Option<u32>) -> Result<u8>;
    fn unsubscribe(&mut self, filter: &str) -> Result<()>;
    /// Publishes and waits for the end of the QoS flow (PUBACK, PUBCOMP; QoS 0: written).
    fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: u8,
        retain: bool,
        props: &Props,
    ) -> Result<()>;
    /// The next application message, or `None` after `timeout`.
    fn recv(&mut self, timeout: Duration) -> Result<Option<Msg>>;
    /// Whether the connection is still up (no error or close seen so far).
    fn is_connected(&mut self) -> bool;
    /// Sends DISCONNECT and closes.
    fn disconnect(self: Box<Self>) -> Result<()>;
}

/// One client name of this driver.
pub trait Library: Sync {
    fn name(&self) -> &'static str;
    fn v5(&self) -> bool;
    /// The smallest keep alive the API accepts, in seconds.
    fn min_keep_alive(&self) -> u16 {
        1
    }
    fn connect(&self, host: &str, port: u16, opts: &ConnectOpts) -> Result<Box<dyn Conn>>;
}

/// The tokio runtime the rumqttc connections run on (the calls above block on it).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

pub fn check_qos(qos: u8) -> Result<u8> {
    if qos > 2 {
        bail!("QoS {qos} is not 0, 1 or 2");
    }
    Ok(qos)
}
