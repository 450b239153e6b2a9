//! What the tests of flow control and arrival order share: a broker on its own runtime, as
//! `tern start` runs it, and a client written on `tern::codec`.

// Each test binary uses a part of it.
#![allow(dead_code)]

pub mod service_pki;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tern::codec::{
    decode, Connect, Packet, PacketId, Protocol, Publish, QoS, ReasonCode, Subscribe,
    SubscriptionOptions, TopicFilter, TopicName,
};
use tern::config::{Config, Listener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::timeout;

/// The configuration with nothing kept across restarts and no HTTP listener: the tests start
/// many brokers in one process, a store's directory takes one broker at a time
/// (`tests/store.rs` tests the store, each broker in a directory of its own), and so does the
/// HTTP port (`tests/http.rs` gives its brokers port 0).
pub fn in_memory(mut config: Config) -> Config {
    config.storage.mode = tern::config::StorageMode::Memory;
    config.http.enabled = false;
    config.grpc.enabled = false;
    config
}

/// The longest any single read may take.
pub const WAIT: Duration = Duration::from_secs(5);

/// A broker on its own runtime and threads, as `tern start` runs it: the clients' tasks do
/// not share its workers.
pub struct Broker {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Broker {
    /// A broker on 127.0.0.1, port 0, with `[limits]` keys set from `limits` (TOML).
    pub async fn start(limits: &str) -> Broker {
        Broker::start_with(&format!("[limits]\n{limits}")).await
    }

    /// A broker on 127.0.0.1, port 0, with the configuration `toml` (its listeners replaced).
    pub async fn start_with(toml: &str) -> Broker {
        let mut config = Config::from_toml_str(toml).unwrap();
        if !toml.contains("[storage]") {
            config = in_memory(config);
        }
        if !toml.contains("[http]") {
            config.http.enabled = false;
        }
        if !toml.contains("[grpc]") {
            config.grpc.enabled = false;
        }
        config.listeners = vec![Listener {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..Listener::default()
        }];
        let (stop, stopped) = oneshot::channel::<()>();
        let (bound, addr) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let server = tern::wiring::bind(config).await.expect("bind");
                let _ = bound.send(server.local_addrs()[0]);
                let _ = server
                    .run(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let addr = addr.await.expect("the broker binds");
        Broker { addr, stop, thread }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::task::spawn_blocking(move || self.thread.join()).await;
    }
}

/// A client speaking MQTT 5.0 through `tern::codec`.
pub struct Client {
    pub stream: TcpStream,
    pub buf: BytesMut,
}

impl Client {
    pub async fn connect(addr: SocketAddr, id: &str) -> Client {
        Client::connect_with(addr, Connect::new(Protocol::V5, id))
            .await
            .0
    }

    /// Connects with `connect`; the client and whether CONNACK said Session Present.
    pub async fn connect_with(addr: SocketAddr, connect: Connect) -> (Client, bool) {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut c = Client {
            stream,
            buf: BytesMut::new(),
        };
        let id = connect.client_id.clone();
        let protocol = connect.protocol;
        c.send_in(protocol, &Packet::Connect(Box::new(connect)))
            .await;
        match c.recv_in(protocol).await {
            Some(Packet::ConnAck(ack)) => {
                assert_eq!(ack.code, ReasonCode::SUCCESS);
                (c, ack.session_present)
            }
            other => panic!("{id}: expected CONNACK, got {other:?}"),
        }
    }

    pub async fn send(&mut self, packet: &Packet) {
        self.send_in(Protocol::V5, packet).await
    }

    /// Sends `packet` as `protocol` encodes it.
    pub async fn send_in(&mut self, protocol: Protocol, packet: &Packet) {
        let bytes = packet.to_bytes(protocol).unwrap();
        self.stream.write_all(&bytes).await.unwrap();
    }

    /// The next packet, or `None` at the end of the stream (or a reset).
    pub async fn recv(&mut self) -> Option<Packet> {
        self.recv_in(Protocol::V5).await
    }

    /// The next packet, decoded as `protocol`, or `None` at the end of the stream.
    pub async fn recv_in(&mut self, protocol: Protocol) -> Option<Packet> {
        loop {
            if let Some(p) = decode(&mut self.buf, protocol, u32::MAX).unwrap() {
                return Some(p);
            }
            match timeout(WAIT, self.stream.read_buf(&mut self.buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return None,
                Ok(Ok(_)) => {}
                Err(_) => panic!("nothing read for {WAIT:?}"),
            }
        }
    }

    /// Every packet decodable from what one read brings (at least one packet).
    pub async fn recv_batch(&mut self) -> Vec<Packet> {
        let mut out = Vec::new();
        match self.recv().await {
            Some(p) => out.push(p),
            None => return out,
        }
        while let Some(p) = decode(&mut self.buf, Protocol::V5, u32::MAX).unwrap() {
            out.push(p);
        }
        out
    }

    pub async fn subscribe(&mut self, filter: &str, qos: QoS) {
        self.send_subscribe(filter, qos).await;
        match self.recv().await {
            Some(Packet::SubAck(ack)) => assert!(!ack.reasons[0].is_error()),
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    /// Subscribes to `filter`; the SUBACK's reason code.
    pub async fn subscribe_reason(&mut self, filter: &str, qos: QoS) -> ReasonCode {
        self.send_subscribe(filter, qos).await;
        match self.recv().await {
            Some(Packet::SubAck(ack)) => ack.reasons[0],
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    /// Publishes at QoS 1 with packet identifier `id`; the PUBACK's reason code (deliveries
    /// of its own subscriptions that come first are skipped).
    pub async fn publish_reason(&mut self, topic: &str, payload: &[u8], id: u16) -> ReasonCode {
        self.send(&publish(topic, payload.to_vec(), QoS::AtLeastOnce, id))
            .await;
        loop {
            match self.recv().await {
                Some(Packet::PubAck(ack)) => return ack.reason,
                Some(Packet::Publish(_)) => continue,
                other => panic!("expected PUBACK, got {other:?}"),
            }
        }
    }

    pub async fn send_subscribe(&mut self, filter: &str, qos: QoS) {
        let subscribe = Subscribe {
            packet_id: PacketId::new(1).unwrap(),
            properties: Default::default(),
            filters: vec![(
                TopicFilter::new(filter.to_owned()).unwrap(),
                SubscriptionOptions::qos(qos),
            )],
        };
        self.send(&Packet::Subscribe(subscribe)).await;
    }
}

pub fn publish(topic: &str, payload: Vec<u8>, qos: QoS, id: u16) -> Packet {
    let mut p = Publish::new(
        TopicName::new(topic.to_owned()).unwrap(),
        Bytes::from(payload),
    );
    p.qos = qos;
    p.packet_id = (qos != QoS::AtMostOnce).then(|| PacketId::new(id).unwrap());
    Packet::Publish(p)
}

/// CONNECT (5.0, client id `c-USER`) with these credentials on a new connection: CONNACK's
/// reason code, and the client if it got in.
pub async fn login(addr: SocketAddr, user: &str, password: &str) -> (ReasonCode, Option<Client>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut client = Client {
        stream,
        buf: BytesMut::new(),
    };
    let mut connect = Connect::new(Protocol::V5, format!("c-{user}"));
    connect.username = Some(user.into());
    connect.password = Some(Bytes::copy_from_slice(password.as_bytes()));
    client.send(&Packet::Connect(Box::new(connect))).await;
    match client.recv().await {
        Some(Packet::ConnAck(ack)) => {
            let ok = !ack.code.is_error();
            (ack.code, ok.then_some(client))
        }
        other => panic!("{user}: {other:?}"),
    }
}

/// A broker (`tern::embed`) with `auth` (TOML: `[auth.*]` sections) after an `[auth]` whose
/// password file holds bob (password "pw"), anonymous access off, no failed-login delay;
/// one MQTT listener on loopback, nothing kept, no HTTP (unless `auth` has `[http]`).
pub async fn auth_broker(auth: &str) -> tern::embed::Broker {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let passwd = std::env::temp_dir().join(format!(
        "tern-auth-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = tern::auth::PasswordFile::default();
    file.set_password("bob", b"pw", 4096).unwrap();
    file.save(&passwd).unwrap();
    let toml = format!(
        "[auth]\nallow_anonymous = false\nfailed_login_delay_ms = 0\npassword_file = {:?}\n\n{auth}",
        passwd.display().to_string()
    );
    let mut config = in_memory(Config::from_toml_str(&toml).expect("configuration"));
    config.listeners = vec![Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Listener::default()
    }];
    if auth.contains("[http]") {
        config.http.enabled = true;
    }
    tern::embed::Broker::start(config)
        .await
        .expect("the broker starts")
}

/// The hash `tern passwd` stores for `password` (what follows `user:` in a password file).
pub fn password_hash(user: &str, password: &str) -> String {
    let mut file = tern::auth::PasswordFile::default();
    file.set_password(user, password.as_bytes(), 4096).unwrap();
    let text = file.to_string();
    text.trim()
        .strip_prefix(&format!("{user}:"))
        .unwrap()
        .to_owned()
}

/// carol's password "looking-glass" as bcrypt (cost 4), made by libxcrypt through Python's
/// `crypt` module: another implementation than the one the broker checks it with.
pub const CAROL_BCRYPT: &str = "$2b$04$p0gSBEiN40lSj1DO38PyaOxEHMeV0Uox.k7kW1njISYisrlgtLmQm";

/// A port nothing listens on (bound, then let go).
pub fn closed_port() -> u16 {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    closed.local_addr().unwrap().port()
}

/// What every user store of `[auth]` must do with the users the tests put in it (alice,
/// password "wonderland"; carol, "looking-glass" as bcrypt; "broken", whose hash is not
/// one) and the password file of
/// [`auth_broker`] (bob, "pw"): right and wrong passwords, users it does not have handed on
/// to the password file, an unreadable hash refused.
pub async fn assert_user_store_logins(addr: SocketAddr) {
    let cases = [
        ("alice", "wonderland", ReasonCode::SUCCESS),
        ("alice", "guess", ReasonCode::BAD_USER_NAME_OR_PASSWORD),
        ("carol", "looking-glass", ReasonCode::SUCCESS),
        ("carol", "wonderland", ReasonCode::BAD_USER_NAME_OR_PASSWORD),
        // Not in the store: the password file decides.
        ("bob", "pw", ReasonCode::SUCCESS),
        ("mallory", "x", ReasonCode::BAD_USER_NAME_OR_PASSWORD),
        // A hash the broker cannot read refuses (logged and counted).
        ("broken", "x", ReasonCode::BAD_USER_NAME_OR_PASSWORD),
    ];
    for (user, password, code) in cases {
        assert_eq!(
            login(addr, user, password).await.0,
            code,
            "{user}/{password}"
        );
    }
}

/// What alice's rules in a user store allow her to subscribe to, as the tests set them: all
/// of `home/alice/#` but `home/alice/secret/#` (denied), and `public/#` to read only.
pub async fn assert_user_store_subscriptions(alice: &mut Client) {
    let cases = [
        // It shares topics with the deny rule: refused.
        ("home/alice/#", QoS::AtLeastOnce, ReasonCode::NOT_AUTHORIZED),
        ("home/alice/lamp", QoS::AtLeastOnce, ReasonCode(1)),
        ("public/news", QoS::AtMostOnce, ReasonCode(0)),
    ];
    for (filter, qos, code) in cases {
        assert_eq!(alice.subscribe_reason(filter, qos).await, code, "{filter}");
    }
    let secret = alice.publish_reason("home/alice/secret/x", b"no", 1).await;
    assert_eq!(secret, ReasonCode::NOT_AUTHORIZED);
}
