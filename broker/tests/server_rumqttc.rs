//! The broker on an ephemeral loopback port, driven by a real third-party client (rumqttc, v4
//! and v5 APIs) and, where a client library would not misbehave on purpose, by raw TCP.
//! Every wait is bounded.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tern::config::{Config, Listener};
use tern::server::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

struct Broker {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Broker {
    async fn start() -> Broker {
        let config = Config {
            listeners: vec![Listener {
                bind: "127.0.0.1:0".parse().unwrap(),
            }],
            ..Config::default()
        };
        let server = Server::bind(config).await.expect("bind");
        let addr = server.local_addrs()[0];
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Broker {
            addr,
            stop: Some(stop),
            handle,
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

/// Drives an event loop in the background and forwards what it yields.
fn drive<E: Send + 'static, X: Send + 'static>(
    mut poll: impl FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<E, X>> + Send>>
        + Send
        + 'static,
) -> (mpsc::UnboundedReceiver<Result<E, X>>, JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = tokio::spawn(async move {
        loop {
            let event = poll().await;
            let stop = event.is_err();
            if tx.send(event).is_err() || stop {
                return;
            }
        }
    });
    (rx, handle)
}

mod v4 {
    use super::*;
    use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, Publish, QoS};

    pub struct Client {
        pub client: AsyncClient,
        pub events: mpsc::UnboundedReceiver<Result<Event, rumqttc::ConnectionError>>,
        pub task: JoinHandle<()>,
        pub session_present: bool,
    }

    pub async fn connect(
        addr: SocketAddr,
        id: &str,
        setup: impl FnOnce(&mut MqttOptions),
    ) -> Client {
        let mut options = MqttOptions::new(id, addr.ip().to_string(), addr.port());
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(1 << 20, 1 << 20);
        setup(&mut options);
        let (client, eventloop) = AsyncClient::new(options, 64);
        let eventloop = std::sync::Arc::new(tokio::sync::Mutex::new(eventloop));
        let (mut events, task) = drive(move || {
            let el = eventloop.clone();
            Box::pin(async move { el.lock().await.poll().await })
        });
        let session_present = loop {
            match timeout(WAIT, events.recv()).await.expect("CONNACK in time") {
                Some(Ok(Event::Incoming(Packet::ConnAck(ack)))) => break ack.session_present,
                Some(Ok(_)) => continue,
                other => panic!("connect failed: {other:?}"),
            }
        };
        Client {
            client,
            events,
            task,
            session_present,
        }
    }

    pub async fn next_publish(c: &mut Client) -> Publish {
        loop {
            match timeout(WAIT, c.events.recv())
                .await
                .expect("PUBLISH in time")
            {
                Some(Ok(Event::Incoming(Packet::Publish(p)))) => return p,
                Some(Ok(_)) => continue,
                other => panic!("expected a PUBLISH, got {other:?}"),
            }
        }
    }

    pub async fn suback(c: &mut Client) -> Vec<rumqttc::SubscribeReasonCode> {
        loop {
            match timeout(WAIT, c.events.recv())
                .await
                .expect("SUBACK in time")
            {
                Some(Ok(Event::Incoming(Packet::SubAck(a)))) => return a.return_codes,
                Some(Ok(_)) => continue,
                other => panic!("expected a SUBACK, got {other:?}"),
            }
        }
    }

    pub fn will(topic: &str, payload: &str) -> LastWill {
        LastWill::new(topic, payload, QoS::AtLeastOnce, false)
    }
}

mod v5 {
    use super::*;
    use rumqttc::v5::mqttbytes::v5::{Packet, Publish};
    use rumqttc::v5::{AsyncClient, ConnectionError, Event, MqttOptions};

    pub struct Client {
        pub client: AsyncClient,
        pub events: mpsc::UnboundedReceiver<Result<Event, ConnectionError>>,
    }

    pub async fn connect(
        addr: SocketAddr,
        id: &str,
        setup: impl FnOnce(&mut MqttOptions),
    ) -> Client {
        let mut options = MqttOptions::new(id, addr.ip().to_string(), addr.port());
        options.set_keep_alive(Duration::from_secs(30));
        setup(&mut options);
        let (client, eventloop) = AsyncClient::new(options, 64);
        let eventloop = std::sync::Arc::new(tokio::sync::Mutex::new(eventloop));
        let (mut events, _task) = drive(move || {
            let el = eventloop.clone();
            Box::pin(async move { el.lock().await.poll().await })
        });
        loop {
            match timeout(WAIT, events.recv()).await.expect("CONNACK in time") {
                Some(Ok(Event::Incoming(Packet::ConnAck(_)))) => break,
                Some(Ok(_)) => continue,
                other => panic!("connect failed: {other:?}"),
            }
        }
        Client { client, events }
    }

    pub async fn next_publish(c: &mut Client) -> Publish {
        loop {
            match timeout(WAIT, c.events.recv())
                .await
                .expect("PUBLISH in time")
            {
                Some(Ok(Event::Incoming(Packet::Publish(p)))) => return p,
                Some(Ok(_)) => continue,
                other => panic!("expected a PUBLISH, got {other:?}"),
            }
        }
    }

    /// Waits for the connection to end and returns the error it ended with.
    pub async fn ended(c: &mut Client) -> ConnectionError {
        loop {
            match timeout(WAIT, c.events.recv()).await.expect("end in time") {
                Some(Err(e)) => return e,
                Some(Ok(_)) => continue,
                None => panic!("event loop ended without an error"),
            }
        }
    }
}

#[tokio::test]
async fn v4_qos_round_trips_keep_payloads_intact() {
    use rumqttc::QoS;
    let broker = Broker::start().await;
    let mut sub = v4::connect(broker.addr, "sub", |_| {}).await;
    sub.client
        .subscribe("data/#", QoS::ExactlyOnce)
        .await
        .unwrap();
    assert_eq!(
        v4::suback(&mut sub).await,
        [rumqttc::SubscribeReasonCode::Success(QoS::ExactlyOnce)]
    );
    let publisher = v4::connect(broker.addr, "pub", |_| {}).await;
    let big: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
    let cases = [
        (QoS::AtMostOnce, vec![]),
        (QoS::AtLeastOnce, vec![7u8]),
        (QoS::ExactlyOnce, big),
    ];
    for (qos, payload) in &cases {
        publisher
            .client
            .publish("data/x", *qos, false, payload.clone())
            .await
            .unwrap();
        let got = v4::next_publish(&mut sub).await;
        assert_eq!(got.qos, *qos);
        assert_eq!(&got.payload[..], &payload[..]);
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn v4_persistent_session_receives_what_was_queued() {
    use rumqttc::QoS;
    let broker = Broker::start().await;
    let mut sub = v4::connect(broker.addr, "durable", |o| {
        o.set_clean_session(false);
    })
    .await;
    assert!(!sub.session_present);
    sub.client
        .subscribe("jobs", QoS::AtLeastOnce)
        .await
        .unwrap();
    v4::suback(&mut sub).await;
    sub.client.disconnect().await.unwrap();
    let _ = timeout(WAIT, sub.task).await;

    let publisher = v4::connect(broker.addr, "pub", |_| {}).await;
    for i in 0..3u8 {
        publisher
            .client
            .publish("jobs", QoS::AtLeastOnce, false, vec![i])
            .await
            .unwrap();
    }
    // Let the broker take all three before the subscriber comes back.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut sub = v4::connect(broker.addr, "durable", |o| {
        o.set_clean_session(false);
    })
    .await;
    assert!(sub.session_present);
    for i in 0..3u8 {
        assert_eq!(&v4::next_publish(&mut sub).await.payload[..], &[i]);
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn v4_will_is_published_when_the_connection_drops() {
    use rumqttc::QoS;
    let broker = Broker::start().await;
    let mut watcher = v4::connect(broker.addr, "watcher", |_| {}).await;
    watcher
        .client
        .subscribe("status/+", QoS::AtLeastOnce)
        .await
        .unwrap();
    v4::suback(&mut watcher).await;
    let doomed = v4::connect(broker.addr, "doomed", |o| {
        o.set_last_will(v4::will("status/doomed", "offline"));
    })
    .await;
    doomed.task.abort(); // Drops the socket without DISCONNECT.
    let will = v4::next_publish(&mut watcher).await;
    assert_eq!(
        (will.topic.as_str(), &will.payload[..]),
        ("status/doomed", &b"offline"[..])
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_properties_reach_the_subscriber_and_retained_messages_wait() {
    use rumqttc::v5::mqttbytes::v5::PublishProperties;
    use rumqttc::v5::mqttbytes::QoS;
    let broker = Broker::start().await;
    let mut sub = v5::connect(broker.addr, "sub5", |_| {}).await;
    sub.client
        .subscribe("req/#", QoS::AtLeastOnce)
        .await
        .unwrap();
    let publisher = v5::connect(broker.addr, "pub5", |_| {}).await;
    // Give the SUBSCRIBE time to land before publishing.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let properties = PublishProperties {
        user_properties: vec![
            ("trace".into(), "abc".into()),
            ("trace".into(), "def".into()),
        ],
        response_topic: Some("resp/1".into()),
        correlation_data: Some(Bytes::from_static(b"corr")),
        content_type: Some("text/plain".into()),
        ..Default::default()
    };
    publisher
        .client
        .publish_with_properties(
            "req/1",
            QoS::AtLeastOnce,
            false,
            "hello",
            properties.clone(),
        )
        .await
        .unwrap();
    let got = v5::next_publish(&mut sub).await;
    let props = got.properties.expect("properties forwarded");
    assert_eq!(props.user_properties, properties.user_properties);
    assert_eq!(props.response_topic, properties.response_topic);
    assert_eq!(props.correlation_data, properties.correlation_data);
    assert_eq!(props.content_type, properties.content_type);

    publisher
        .client
        .publish("req/retained", QoS::AtLeastOnce, true, "kept")
        .await
        .unwrap();
    let _ = v5::next_publish(&mut sub).await;
    let mut late = v5::connect(broker.addr, "late5", |_| {}).await;
    late.client
        .subscribe("req/retained", QoS::AtMostOnce)
        .await
        .unwrap();
    let retained = v5::next_publish(&mut late).await;
    assert!(retained.retain);
    assert_eq!(&retained.payload[..], b"kept");
    broker.shutdown().await;
}

#[tokio::test]
async fn v5_takeover_tells_the_old_connection() {
    use rumqttc::v5::mqttbytes::v5::DisconnectReasonCode;
    use rumqttc::v5::{ConnectionError, StateError};
    let broker = Broker::start().await;
    let mut first = v5::connect(broker.addr, "twin", |_| {}).await;
    let _second = v5::connect(broker.addr, "twin", |_| {}).await;
    match v5::ended(&mut first).await {
        ConnectionError::MqttState(StateError::ServerDisconnect { reason_code, .. }) => {
            assert_eq!(reason_code, DisconnectReasonCode::SessionTakenOver)
        }
        other => panic!("expected a server DISCONNECT, got {other:?}"),
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn shutdown_tells_v5_clients_and_returns() {
    use rumqttc::v5::mqttbytes::v5::DisconnectReasonCode;
    use rumqttc::v5::{ConnectionError, StateError};
    let broker = Broker::start().await;
    let mut client = v5::connect(broker.addr, "stay", |_| {}).await;
    broker.shutdown().await;
    match v5::ended(&mut client).await {
        ConnectionError::MqttState(StateError::ServerDisconnect { reason_code, .. }) => {
            assert_eq!(reason_code, DisconnectReasonCode::ServerShuttingDown)
        }
        other => panic!("expected a server DISCONNECT, got {other:?}"),
    }
}

/// Reads until the peer closes; returns everything read.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    timeout(WAIT, stream.read_to_end(&mut all))
        .await
        .expect("closed in time")
        .expect("read");
    all
}

const CONNECT_V5: &[u8] = &[
    0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00, 0x02, b'r',
    b'w',
];

#[tokio::test]
async fn malformed_bytes_close_only_that_connection() {
    use rumqttc::QoS;
    let broker = Broker::start().await;
    let mut bystander = v4::connect(broker.addr, "bystander", |_| {}).await;
    bystander
        .client
        .subscribe("ok", QoS::AtMostOnce)
        .await
        .unwrap();
    v4::suback(&mut bystander).await;

    let mut raw = TcpStream::connect(broker.addr).await.unwrap();
    raw.write_all(CONNECT_V5).await.unwrap();
    // A PUBLISH whose topic holds U+0000.
    raw.write_all(&[0x30, 0x06, 0x00, 0x03, 0x61, 0x00, 0x62, 0x00])
        .await
        .unwrap();
    let got = read_to_close(&mut raw).await;
    // CONNACK, then DISCONNECT 0x81 with the clause in its Reason String.
    assert_eq!(got[0], 0x20);
    let disconnect = &got[2 + got[1] as usize..];
    assert_eq!(disconnect[0], 0xE0);
    assert_eq!(disconnect[2], 0x81);
    assert!(String::from_utf8_lossy(disconnect).contains("[MQTT-1.5.4-2]"));

    let publisher = v4::connect(broker.addr, "pub", |_| {}).await;
    publisher
        .client
        .publish("ok", QoS::AtMostOnce, false, "still here")
        .await
        .unwrap();
    assert_eq!(
        &v4::next_publish(&mut bystander).await.payload[..],
        b"still here"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn keep_alive_is_enforced() {
    let broker = Broker::start().await;
    let mut raw = TcpStream::connect(broker.addr).await.unwrap();
    // MQTT 3.1.1 CONNECT with a keep alive of 1 second, then silence.
    raw.write_all(&[
        0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x01, 0x00, 0x02, b'k',
        b'a',
    ])
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let got = read_to_close(&mut raw).await;
    assert_eq!(
        got,
        [0x20, 0x02, 0x00, 0x00],
        "CONNACK, then the close (3.1.1 has no DISCONNECT)"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "not before 1.5 x keep alive"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn mqtt_3_1_clients_are_served() {
    let broker = Broker::start().await;
    let mut raw = TcpStream::connect(broker.addr).await.unwrap();
    raw.write_all(&[
        0x10, 0x10, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3C, 0x00,
        0x02, b'o', b'l',
    ])
    .await
    .unwrap();
    let mut connack = [0u8; 4];
    timeout(WAIT, raw.read_exact(&mut connack))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(connack, [0x20, 0x02, 0x00, 0x00]);
    // PINGREQ / PINGRESP.
    raw.write_all(&[0xC0, 0x00]).await.unwrap();
    let mut pong = [0u8; 2];
    timeout(WAIT, raw.read_exact(&mut pong))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pong, [0xD0, 0x00]);
    broker.shutdown().await;
}
