//! How clients reach the broker and whom a listener admits, against the real broker on
//! loopback: PROXY protocol v1 and v2 headers written by the test byte by byte (on plain TCP,
//! and before the handshake on a TLS listener with a certificate made by rcgen), the Unix
//! socket listener, and the per-listener rules (connection ceiling, connection rate per
//! client address, anonymous access), each with the reason code it answers with.
//!
//! Clients are raw: the test writes and reads MQTT packets with Tern's codec, so that what
//! goes over the wire before CONNECT (a PROXY header) is exactly what the test wrote. Every
//! wait is bounded by [`WAIT`].

mod common;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tern::codec::{
    decode, Connect, Disconnect, Packet, PacketId, Protocol, Publish, QoS, ReasonCode, Subscribe,
    SubscriptionOptions, TopicFilter, TopicName, MAX_PACKET_SIZE,
};
use tern::config::{Config, Listener, ProxyProtocol, Transport};
use tern::server::Endpoint;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// The longest any single wait may take.
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// A TCP listener on 127.0.0.1, port 0.
fn tcp() -> Listener {
    Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Listener::default()
    }
}

struct Broker {
    endpoints: Vec<Endpoint>,
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Broker {
    async fn start(listeners: Vec<Listener>) -> Broker {
        Broker::start_with(Config {
            listeners,
            ..Config::default()
        })
        .await
    }

    async fn start_with(config: Config) -> Broker {
        config.validate().expect("valid test configuration");
        let server = tern::wiring::bind(common::in_memory(config))
            .await
            .expect("bind");
        let endpoints = server.local_endpoints();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Broker {
            endpoints,
            stop: Some(stop),
            handle,
        }
    }

    /// The TCP address of listener `i`.
    fn addr(&self, i: usize) -> SocketAddr {
        match &self.endpoints[i] {
            Endpoint::Tcp(addr) => *addr,
            other => panic!("listener {i} is not TCP: {other:?}"),
        }
    }

    async fn shutdown(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        timeout(WAIT, self.handle)
            .await
            .expect("shutdown in time")
            .expect("server task")
            .expect("server run");
    }
}

/// A raw MQTT client over any byte stream.
struct Client<S> {
    stream: S,
    protocol: Protocol,
    buf: BytesMut,
}

impl Client<TcpStream> {
    /// A TCP connection that first writes `preamble` (a PROXY header, or nothing).
    async fn tcp(addr: SocketAddr, preamble: &[u8], protocol: Protocol) -> Client<TcpStream> {
        let mut stream = timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        stream.write_all(preamble).await.unwrap();
        Client::over(stream, protocol)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    fn over(stream: S, protocol: Protocol) -> Client<S> {
        Client {
            stream,
            protocol,
            buf: BytesMut::new(),
        }
    }

    async fn send(&mut self, packet: Packet) {
        let bytes = packet.to_bytes(self.protocol).expect("test packet encodes");
        self.stream.write_all(&bytes).await.expect("write");
    }

    /// The next packet, or `None` once the broker has closed the connection.
    async fn recv(&mut self) -> Option<Packet> {
        loop {
            if let Some(packet) =
                decode(&mut self.buf, self.protocol, MAX_PACKET_SIZE).expect("broker's packet")
            {
                return Some(packet);
            }
            let n = timeout(WAIT, self.stream.read_buf(&mut self.buf))
                .await
                .expect("the broker answers in time")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
        }
    }

    /// Sends CONNECT (clean, with `user` if given) and returns the CONNACK's reason code, or
    /// `None` if the broker closed the connection without one.
    async fn connect(&mut self, client_id: &str, user: Option<&str>) -> Option<ReasonCode> {
        let mut connect = Connect::new(self.protocol, client_id);
        connect.username = user.map(Into::into);
        self.send(Packet::Connect(Box::new(connect))).await;
        match self.recv().await? {
            Packet::ConnAck(ack) => Some(ack.code),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// Whether the broker closes the connection (reading nothing more) within [`WAIT`].
    async fn is_closed_by_broker(&mut self) -> bool {
        self.recv().await.is_none()
    }

    async fn subscribe(&mut self, filter: &str, qos: QoS) {
        self.send(Packet::Subscribe(Subscribe {
            packet_id: PacketId::new(1).unwrap(),
            properties: Default::default(),
            filters: vec![(
                TopicFilter::new(filter).unwrap(),
                SubscriptionOptions::qos(qos),
            )],
        }))
        .await;
        match self.recv().await {
            Some(Packet::SubAck(ack)) => assert!(ack.reasons[0].0 <= 2, "{ack:?}"),
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    async fn publish_qos1(&mut self, topic: &str, payload: &'static [u8], id: u16) {
        let mut p = Publish::new(TopicName::new(topic).unwrap(), Bytes::from_static(payload));
        p.qos = QoS::AtLeastOnce;
        p.packet_id = Some(PacketId::new(id).unwrap());
        self.send(Packet::Publish(p)).await;
    }

    async fn disconnect(mut self) {
        self.send(Packet::Disconnect(Disconnect::new(ReasonCode::SUCCESS)))
            .await;
        // The broker closes after a DISCONNECT; wait for it, so that it has been counted.
        assert!(self.is_closed_by_broker().await);
    }
}

/// A PROXY protocol version 1 header for a TCP/IPv4 client.
fn proxy_v1(client: &str) -> Vec<u8> {
    let client: SocketAddr = client.parse().unwrap();
    format!(
        "PROXY TCP4 {} 192.0.2.1 {} 1883\r\n",
        client.ip(),
        client.port()
    )
    .into_bytes()
}

/// A PROXY protocol version 2 header for a TCP/IPv4 client, written out byte by byte.
fn proxy_v2(client: &str) -> Vec<u8> {
    let SocketAddr::V4(client) = client.parse().unwrap() else {
        panic!("IPv4 only");
    };
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec(); // the signature
    h.push(0x21); // version 2, command PROXY
    h.push(0x11); // TCP over IPv4
    h.extend_from_slice(&12u16.to_be_bytes()); // the address block's length
    h.extend_from_slice(&client.ip().octets()); // source address
    h.extend_from_slice(&[192, 0, 2, 1]); // destination address
    h.extend_from_slice(&client.port().to_be_bytes()); // source port
    h.extend_from_slice(&1883u16.to_be_bytes()); // destination port
    h
}

const V5: Protocol = Protocol::V5;
const V311: Protocol = Protocol::V3_1_1;

// ---------------------------------------------------------------------------------------------
// PROXY protocol
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn proxy_v1_and_v2_headers_are_read_before_connect() {
    let broker = Broker::start(vec![Listener {
        proxy_protocol: ProxyProtocol::Required,
        ..tcp()
    }])
    .await;
    let addr = broker.addr(0);
    for (preamble, protocol, id) in [
        (proxy_v1("203.0.113.7:40000"), V5, "v1-five"),
        (proxy_v1("203.0.113.7:40001"), V311, "v1-three"),
        (proxy_v2("198.51.100.9:50000"), V5, "v2-five"),
        (proxy_v2("198.51.100.9:50001"), V311, "v2-three"),
        (b"PROXY UNKNOWN\r\n".to_vec(), V5, "unknown"),
    ] {
        let mut c = Client::tcp(addr, &preamble, protocol).await;
        assert_eq!(c.connect(id, None).await, Some(ReasonCode::SUCCESS), "{id}");
    }
    // The header and CONNECT may also come in one segment, and MQTT goes on after them.
    let mut bytes = proxy_v2("198.51.100.10:50000");
    let connect = Packet::Connect(Box::new(Connect::new(V5, "one-segment")));
    bytes.extend_from_slice(&connect.to_bytes(V5).unwrap());
    let mut c = Client::tcp(addr, &bytes, V5).await;
    assert!(matches!(c.recv().await, Some(Packet::ConnAck(a)) if a.code == ReasonCode::SUCCESS));
    c.subscribe("proxied/#", QoS::AtLeastOnce).await;
    c.publish_qos1("proxied/x", b"hello", 7).await;
    let mut got_ack = false;
    let mut got_message = false;
    while !(got_ack && got_message) {
        match c.recv().await {
            Some(Packet::PubAck(a)) => got_ack = a.packet_id.get() == 7,
            Some(Packet::Publish(p)) => got_message = &p.payload[..] == b"hello",
            other => panic!("unexpected {other:?}"),
        }
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn a_listener_that_requires_the_header_closes_connections_without_one() {
    let broker = Broker::start(vec![
        Listener {
            proxy_protocol: ProxyProtocol::Required,
            ..tcp()
        },
        Listener {
            proxy_protocol: ProxyProtocol::Optional,
            ..tcp()
        },
    ])
    .await;
    // No header: closed without a CONNACK.
    let mut c = Client::tcp(broker.addr(0), b"", V5).await;
    assert_eq!(c.connect("bare", None).await, None);
    // A broken header: closed too, on either listener.
    for listener in [0, 1] {
        for bad in [
            &b"PROXY TCP4 not-an-address 192.0.2.1 1 2\r\n"[..],
            b"PROXY TCP4 203.0.113.7 192.0.2.1 40000\r\n",
            // Version 1 in a version 2 header's version field.
            b"\r\n\r\n\0\r\nQUIT\n\x11\x11\0\x0c\x01\x02\x03\x04\x05\x06\x07\x08\0\x01\0\x02",
        ] {
            let mut c = Client::tcp(broker.addr(listener), bad, V5).await;
            assert!(c.is_closed_by_broker().await, "{bad:?}");
        }
    }
    // Optional: a connection without a header is an ordinary one.
    let mut c = Client::tcp(broker.addr(1), b"", V5).await;
    assert_eq!(c.connect("plain", None).await, Some(ReasonCode::SUCCESS));
    let mut c = Client::tcp(broker.addr(1), &proxy_v1("203.0.113.7:1"), V311).await;
    assert_eq!(
        c.connect("with-header", None).await,
        Some(ReasonCode::SUCCESS)
    );
    broker.shutdown().await;
}

/// The address a PROXY header names is the one the broker counts: connections from one
/// claimed address run into its rate limit, while as many from other claimed addresses,
/// all really from 127.0.0.1, do not.
#[tokio::test]
async fn the_header_address_is_the_one_the_connection_rate_counts() {
    let broker = Broker::start(vec![Listener {
        proxy_protocol: ProxyProtocol::Required,
        max_connection_rate_per_ip: Some(1),
        ..tcp()
    }])
    .await;
    let addr = broker.addr(0);
    // Five connections from five claimed addresses: all admitted.
    let mut kept = Vec::new();
    for i in 1..=5u8 {
        let header = if i % 2 == 0 {
            proxy_v2(&format!("198.51.100.{i}:4000"))
        } else {
            proxy_v1(&format!("198.51.100.{i}:4000"))
        };
        let mut c = Client::tcp(addr, &header, V5).await;
        let id = format!("distinct-{i}");
        assert_eq!(c.connect(&id, None).await, Some(ReasonCode::SUCCESS));
        kept.push(c);
    }
    // Five from one claimed address, over v1 and v2 alike: one a second is admitted, so
    // some of these are refused with 0x9F (3.1.1: 0x03) however slowly the test runs.
    let mut refused = Vec::new();
    for i in 0..5u16 {
        let header = if i % 2 == 0 {
            proxy_v1(&format!("203.0.113.7:{}", 5000 + i))
        } else {
            proxy_v2(&format!("203.0.113.7:{}", 5000 + i))
        };
        let protocol = if i < 3 { V5 } else { V311 };
        let mut c = Client::tcp(addr, &header, protocol).await;
        match c.connect(&format!("same-{i}"), None).await {
            Some(ReasonCode::SUCCESS) => kept.push(c),
            Some(code) => {
                assert!(c.is_closed_by_broker().await);
                refused.push((protocol, code));
            }
            None => panic!("closed without CONNACK"),
        }
    }
    assert!(!refused.is_empty(), "no connection was refused");
    for (protocol, code) in refused {
        if protocol == V5 {
            assert_eq!(code, ReasonCode::CONNECTION_RATE_EXCEEDED);
        } else {
            assert_eq!(code.to_v3_connack(), 0x03, "{code:?}");
        }
    }
    broker.shutdown().await;
}

/// On a TLS listener the PROXY header comes first, in clear, and the TLS handshake after it.
#[tokio::test]
async fn on_a_tls_listener_the_header_comes_before_the_handshake() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("tern-admission-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, certified.cert.pem()).unwrap();
    std::fs::write(&key_file, certified.signing_key.serialize_pem()).unwrap();
    let config = Config::from_toml_str(&format!(
        "[[listener]]\nbind = \"127.0.0.1:0\"\nproxy_protocol = \"required\"\n\
         [listener.tls]\ncert_file = {:?}\nkey_file = {:?}\n",
        cert_file.display().to_string(),
        key_file.display().to_string()
    ))
    .expect("configuration");
    let broker = Broker::start_with(config).await;

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(certified.cert.pem().as_bytes()).unwrap())
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client));
    let name = ServerName::try_from("localhost").unwrap();

    // Header, then TLS, then MQTT.
    let mut tcp = TcpStream::connect(broker.addr(0)).await.unwrap();
    tcp.write_all(&proxy_v2("198.51.100.20:6000"))
        .await
        .unwrap();
    let tls = timeout(WAIT, connector.connect(name.clone(), tcp))
        .await
        .expect("handshake in time")
        .expect("handshake");
    let mut c = Client::over(tls, V5);
    assert_eq!(
        c.connect("tls-proxied", None).await,
        Some(ReasonCode::SUCCESS)
    );

    // TLS straight away, without the header: the broker closes before any handshake.
    let tcp = TcpStream::connect(broker.addr(0)).await.unwrap();
    let handshake = timeout(WAIT, connector.connect(name, tcp))
        .await
        .expect("refused in time");
    assert!(handshake.is_err(), "a handshake without the header");

    broker.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Unix socket
// ---------------------------------------------------------------------------------------------

fn socket_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tern-test-{}-{name}.sock", std::process::id()))
}

#[tokio::test]
async fn clients_connect_over_a_unix_socket() {
    let path = socket_path("roundtrip");
    // A stale socket file, as a broker killed without cleaning up leaves behind.
    let _ = std::fs::remove_file(&path);
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());

    let broker = Broker::start(vec![
        Listener {
            transport: Transport::Unix,
            socket: Some(path.clone()),
            socket_mode: 0o600,
            ..Listener::default()
        },
        tcp(),
    ])
    .await;
    assert_eq!(broker.endpoints[0], Endpoint::Unix(path.clone()));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let stream = timeout(WAIT, UnixStream::connect(&path))
        .await
        .unwrap()
        .unwrap();
    let mut local = Client::over(stream, V5);
    assert_eq!(
        local.connect("local", None).await,
        Some(ReasonCode::SUCCESS)
    );
    let mut remote = Client::tcp(broker.addr(1), b"", V311).await;
    assert_eq!(
        remote.connect("remote", None).await,
        Some(ReasonCode::SUCCESS)
    );
    local.subscribe("sock/#", QoS::AtLeastOnce).await;
    remote.subscribe("sock/#", QoS::AtMostOnce).await;
    local.publish_qos1("sock/a", b"over unix", 3).await;
    let (mut acked, mut echoed) = (false, false);
    while !(acked && echoed) {
        match local.recv().await {
            Some(Packet::PubAck(a)) => acked = a.packet_id.get() == 3,
            Some(Packet::Publish(p)) => echoed = &p.payload[..] == b"over unix",
            other => panic!("unexpected {other:?}"),
        }
    }
    match remote.recv().await {
        Some(Packet::Publish(p)) => assert_eq!(&p.payload[..], b"over unix"),
        other => panic!("expected PUBLISH, got {other:?}"),
    }
    local.disconnect().await;

    // A second broker on the same, live socket is refused.
    let second = tern::wiring::bind(common::in_memory(Config {
        listeners: vec![Listener {
            transport: Transport::Unix,
            socket: Some(path.clone()),
            ..Listener::default()
        }],
        ..Config::default()
    }))
    .await;
    let e = second.err().expect("the live socket is not taken over");
    assert!(format!("{e:#}").contains("another process"), "{e:#}");

    broker.shutdown().await;
    assert!(!path.exists(), "the socket file is removed at shutdown");
}

// ---------------------------------------------------------------------------------------------
// Per-listener limits and anonymous access
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_full_listener_refuses_with_quota_exceeded() {
    let broker = Broker::start(vec![
        Listener {
            max_connections: Some(2),
            ..tcp()
        },
        tcp(),
    ])
    .await;
    let addr = broker.addr(0);
    let mut a = Client::tcp(addr, b"", V5).await;
    assert_eq!(a.connect("a", None).await, Some(ReasonCode::SUCCESS));
    let mut b = Client::tcp(addr, b"", V311).await;
    assert_eq!(b.connect("b", None).await, Some(ReasonCode::SUCCESS));
    let mut c = Client::tcp(addr, b"", V5).await;
    assert_eq!(c.connect("c", None).await, Some(ReasonCode::QUOTA_EXCEEDED));
    assert!(c.is_closed_by_broker().await);
    let mut c = Client::tcp(addr, b"", V311).await;
    let code = c.connect("c", None).await.expect("a CONNACK");
    assert_eq!(code.to_v3_connack(), 0x03, "{code:?}");
    // The other listener has no limit of its own.
    let mut d = Client::tcp(broker.addr(1), b"", V5).await;
    assert_eq!(d.connect("d", None).await, Some(ReasonCode::SUCCESS));
    // A client that leaves makes room for another.
    b.disconnect().await;
    let mut e = Client::tcp(addr, b"", V5).await;
    assert_eq!(e.connect("e", None).await, Some(ReasonCode::SUCCESS));
    broker.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_rate_are_refused_with_0x9f() {
    let broker = Broker::start(vec![Listener {
        max_connection_rate_per_ip: Some(2),
        ..tcp()
    }])
    .await;
    let addr = broker.addr(0);
    // Two a second with bursts of two: of eight quick connections, some are refused
    // (six would need three seconds to pass between them).
    let mut codes = Vec::new();
    for i in 0..8 {
        let mut c = Client::tcp(addr, b"", V5).await;
        codes.push(c.connect(&format!("r{i}"), None).await.expect("a CONNACK"));
    }
    assert_eq!(codes[0], ReasonCode::SUCCESS);
    assert!(
        codes.contains(&ReasonCode::CONNECTION_RATE_EXCEEDED),
        "{codes:?}"
    );
    assert!(codes
        .iter()
        .all(|c| [ReasonCode::SUCCESS, ReasonCode::CONNECTION_RATE_EXCEEDED].contains(c)));
    broker.shutdown().await;
}

#[tokio::test]
async fn anonymous_access_is_a_per_listener_switch() {
    let broker = Broker::start(vec![
        tcp(),
        Listener {
            allow_anonymous: Some(false),
            ..tcp()
        },
    ])
    .await;
    let mut c = Client::tcp(broker.addr(0), b"", V5).await;
    assert_eq!(c.connect("open", None).await, Some(ReasonCode::SUCCESS));
    let mut c = Client::tcp(broker.addr(1), b"", V5).await;
    assert_eq!(
        c.connect("anon5", None).await,
        Some(ReasonCode::NOT_AUTHORIZED)
    );
    let mut c = Client::tcp(broker.addr(1), b"", V311).await;
    let code = c.connect("anon3", None).await.expect("a CONNACK");
    assert_eq!(code.to_v3_connack(), 0x05, "{code:?}");
    // Without a password file, a user name is all it takes to not be anonymous.
    let mut c = Client::tcp(broker.addr(1), b"", V5).await;
    assert_eq!(
        c.connect("named", Some("alice")).await,
        Some(ReasonCode::SUCCESS)
    );
    broker.shutdown().await;

    // The other way round: the broker refuses anonymous clients, one listener lets them in.
    let mut config = Config {
        listeners: vec![
            tcp(),
            Listener {
                allow_anonymous: Some(true),
                ..tcp()
            },
        ],
        ..Config::default()
    };
    config.auth.allow_anonymous = false;
    let broker = Broker::start_with(config).await;
    let mut c = Client::tcp(broker.addr(0), b"", V5).await;
    assert_eq!(
        c.connect("anon", None).await,
        Some(ReasonCode::NOT_AUTHORIZED)
    );
    let mut c = Client::tcp(broker.addr(1), b"", V5).await;
    assert_eq!(c.connect("anon", None).await, Some(ReasonCode::SUCCESS));
    broker.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// ACL sections by client address
// ---------------------------------------------------------------------------------------------

impl Client<TcpStream> {
    /// The SUBACK reason code of one filter.
    async fn subscribe_reason(&mut self, filter: &str) -> ReasonCode {
        self.send(Packet::Subscribe(Subscribe {
            packet_id: PacketId::new(2).unwrap(),
            properties: Default::default(),
            filters: vec![(
                TopicFilter::new(filter).unwrap(),
                SubscriptionOptions::qos(QoS::AtMostOnce),
            )],
        }))
        .await;
        match self.recv().await {
            Some(Packet::SubAck(ack)) => ack.reasons[0],
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn acl_sections_select_clients_by_address() {
    let acl = std::env::temp_dir().join(format!("tern-admission-{}.acl", std::process::id()));
    std::fs::write(
        &acl,
        "address 127.0.0.0/8\ntopic readwrite local/#\n\
         address 10.0.0.0/8\ntopic readwrite plant/#\n",
    )
    .unwrap();
    let mut config = Config {
        listeners: vec![
            tcp(),
            Listener {
                proxy_protocol: ProxyProtocol::Required,
                ..tcp()
            },
        ],
        ..Config::default()
    };
    // A dual-stack listener too, where the host has IPv6: a client of 127.0.0.1 reaches it
    // as ::ffff:127.0.0.1, and counts as 127.0.0.1.
    let dual_stack = std::net::TcpListener::bind("[::]:0").is_ok();
    if dual_stack {
        config.listeners.push(Listener {
            bind: "[::]:0".parse().unwrap(),
            ..Listener::default()
        });
    }
    config.auth.acl_file = Some(acl.clone());
    let broker = Broker::start_with(config).await;
    let loopback = |addr: SocketAddr| SocketAddr::from(([127, 0, 0, 1], addr.port()));

    // Straight from loopback: its section, not the plant's.
    let mut local = Client::tcp(broker.addr(0), b"", V5).await;
    assert_eq!(
        local.connect("local", None).await,
        Some(ReasonCode::SUCCESS)
    );
    assert_eq!(local.subscribe_reason("local/#").await, ReasonCode(0));
    assert_eq!(
        local.subscribe_reason("plant/#").await,
        ReasonCode::NOT_AUTHORIZED
    );

    // Through a proxy that says the client is 10.1.2.3: the plant's section.
    let mut proxied = Client::tcp(broker.addr(1), &proxy_v1("10.1.2.3:40000"), V5).await;
    assert_eq!(
        proxied.connect("plant", None).await,
        Some(ReasonCode::SUCCESS)
    );
    assert_eq!(proxied.subscribe_reason("plant/#").await, ReasonCode(0));
    assert_eq!(
        proxied.subscribe_reason("local/#").await,
        ReasonCode::NOT_AUTHORIZED
    );

    if dual_stack {
        let mut mapped = Client::tcp(loopback(broker.addr(2)), b"", V311).await;
        assert_eq!(
            mapped.connect("mapped", None).await,
            Some(ReasonCode::SUCCESS)
        );
        assert_eq!(mapped.subscribe_reason("local/#").await, ReasonCode(0));
    } else {
        println!("no IPv6 here: the dual-stack case is not run");
    }
    broker.shutdown().await;
    let _ = std::fs::remove_file(&acl);
}
