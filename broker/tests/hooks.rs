//! Hooks of an embedding application (`tern::embed::Hooks`) against a real broker on
//! loopback, with network clients (rumqttc, the raw test client) and in-process ones: a
//! login checked by a slow "service", messages enriched and refused, subscriptions refused,
//! notices; and a hook that never answers, which the deadline answers for.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{publish, Client, WAIT};
use tern::codec::{Connect, Packet, Property, Protocol, Publish, QoS, ReasonCode, TopicFilter};
use tern::config::{Config, Listener};
use tern::embed::{
    Broker, ClientInfo, ClientOptions, ConnectVerdict, Hooks, Interest, Message, Notice,
    PublishVerdict, Question,
};
use tokio::time::timeout;

/// The application's hooks: logins with password "let-me-in" (checked after a pause, as a
/// remote service would take), every message stamped with who sent it, "forbidden/#"
/// refused at PUBLISH and SUBSCRIBE, and every notice kept.
#[derive(Default)]
struct App {
    notices: Mutex<Vec<Notice>>,
}

#[async_trait::async_trait]
impl Hooks for App {
    fn interest(&self) -> Interest {
        Interest {
            connect: true,
            publish: true,
            subscribe: true,
            events: true,
            deliveries: false,
        }
    }

    async fn authenticate(&self, question: &Question) -> ConnectVerdict {
        let Question::Connect {
            client, password, ..
        } = question
        else {
            return ConnectVerdict::Deny(ReasonCode::BAD_AUTHENTICATION_METHOD);
        };
        // The "service" takes its time: the broker serves everyone else meanwhile.
        tokio::time::sleep(Duration::from_millis(200)).await;
        match (client.username.as_deref(), password.as_deref()) {
            (Some(_), Some(b"let-me-in")) => ConnectVerdict::Allow { username: None },
            // Not ours: the broker's own rules (anonymous allowed here) decide.
            (None, None) => ConnectVerdict::Ignore,
            _ => ConnectVerdict::Deny(ReasonCode::BAD_USER_NAME_OR_PASSWORD),
        }
    }

    async fn on_publish(&self, client: &ClientInfo, publish: &Publish) -> PublishVerdict {
        if publish.topic.as_str().starts_with("forbidden/") {
            return PublishVerdict::Refuse(ReasonCode::NOT_AUTHORIZED);
        }
        let mut stamped = publish.clone();
        stamped
            .properties
            .push(Property::user("sent-by", client.client_id.as_ref()));
        PublishVerdict::Replace(stamped)
    }

    async fn authorize_subscribe(
        &self,
        _: &ClientInfo,
        filters: &[(TopicFilter, QoS)],
    ) -> Vec<Option<ReasonCode>> {
        (filters.iter())
            .map(|(f, _)| {
                f.as_str()
                    .starts_with("forbidden/")
                    .then_some(ReasonCode::NOT_AUTHORIZED)
            })
            .collect()
    }

    fn on_notice(&self, notice: &Notice) {
        self.notices.lock().unwrap().push(notice.clone());
    }
}

async fn broker(hooks: Arc<dyn Hooks>) -> Broker {
    let mut config = common::in_memory(Config::default());
    config.listeners = vec![Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Listener::default()
    }];
    config.auth.failed_login_delay_ms = 0;
    Broker::start_with_hooks(config, hooks)
        .await
        .expect("the broker starts")
}

fn login(id: &str, user: &str, password: &str) -> Connect {
    let mut connect = Connect::new(Protocol::V5, id);
    connect.username = Some(user.into());
    connect.password = Some(password.as_bytes().to_vec().into());
    connect
}

#[tokio::test]
async fn hooks_log_clients_in_enrich_and_refuse_messages_and_hear_what_happens() {
    let app = Arc::new(App::default());
    let broker = broker(app.clone()).await;
    let addr = broker.local_addrs()[0];

    // An anonymous subscriber, handed on to the broker's rules.
    let mut subscriber = Client::connect(addr, "watcher").await;
    subscriber.subscribe("#", QoS::AtLeastOnce).await;

    // A slow login does not hold the others up: the subscriber's ping is answered while
    // the hook still thinks.
    let pending = tokio::spawn(Client::connect_with(
        addr,
        login("device", "dev", "let-me-in"),
    ));
    tokio::time::sleep(Duration::from_millis(20)).await;
    let asked = Instant::now();
    subscriber.send(&Packet::PingReq).await;
    let pong = timeout(WAIT, subscriber.recv()).await.unwrap();
    assert_eq!(pong, Some(Packet::PingResp));
    let ping_took = asked.elapsed();
    let (mut device, _) = pending.await.unwrap();
    println!("a ping answered in {ping_took:?} while a login waited for its hook");

    // A wrong password: the hook's reason code.
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut intruder = Client {
        stream,
        buf: Default::default(),
    };
    intruder
        .send(&Packet::Connect(Box::new(login(
            "intruder", "dev", "guess",
        ))))
        .await;
    match timeout(WAIT, intruder.recv()).await.unwrap() {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code, ReasonCode::BAD_USER_NAME_OR_PASSWORD),
        other => panic!("{other:?}"),
    }

    // Enriched on the way: the subscriber sees who sent it.
    device
        .send(&publish("sensors/t", b"21".to_vec(), QoS::AtLeastOnce, 1))
        .await;
    let mut got = None;
    for _ in 0..4 {
        match timeout(WAIT, subscriber.recv()).await.unwrap() {
            Some(Packet::Publish(p)) => {
                got = Some(p);
                break;
            }
            Some(_) => continue,
            None => break,
        }
    }
    let got = got.expect("the subscriber gets the message");
    assert_eq!(got.payload, "21");
    assert!(
        got.properties
            .iter()
            .any(|p| *p == Property::user("sent-by", "device")),
        "{:?}",
        got.properties
    );
    match timeout(WAIT, device.recv()).await.unwrap() {
        Some(Packet::PubAck(ack)) => assert_eq!(ack.reason, ReasonCode::SUCCESS),
        other => panic!("{other:?}"),
    }

    // Refused: 0x87 in PUBACK, and nobody gets it; a forbidden filter is refused in SUBACK.
    device
        .send(&publish("forbidden/x", b"no".to_vec(), QoS::AtLeastOnce, 2))
        .await;
    match timeout(WAIT, device.recv()).await.unwrap() {
        Some(Packet::PubAck(ack)) => assert_eq!(ack.reason, ReasonCode::NOT_AUTHORIZED),
        other => panic!("{other:?}"),
    }
    device.send_subscribe("forbidden/#", QoS::AtMostOnce).await;
    match timeout(WAIT, device.recv()).await.unwrap() {
        Some(Packet::SubAck(ack)) => assert_eq!(ack.reasons, [ReasonCode::NOT_AUTHORIZED]),
        other => panic!("{other:?}"),
    }

    // In-process clients meet the same hooks.
    let options = ClientOptions {
        username: Some("app".into()),
        password: Some("let-me-in".into()),
        ..ClientOptions::default()
    };
    let (inline, _, _) = broker.connect(options).await.expect("the hook lets it in");
    let refused = inline
        .publish(&Message::new("forbidden/y", "no").with_qos(QoS::AtLeastOnce))
        .await
        .unwrap();
    assert_eq!(refused, ReasonCode::NOT_AUTHORIZED);

    device.send(&Packet::Disconnect(Default::default())).await;
    broker.stop().await.unwrap();
    let notices = app.notices.lock().unwrap().clone();
    let has = |n: Notice| notices.contains(&n);
    assert!(
        has(Notice::SessionCreated {
            client_id: "device".into()
        }),
        "{notices:?}"
    );
    assert!(
        has(Notice::SessionEnded {
            client_id: "device".into()
        }),
        "{notices:?}"
    );
    assert!(
        has(Notice::SessionCreated {
            client_id: "watcher".into()
        }),
        "{notices:?}"
    );
}

/// A hook that never answers.
struct Silent;

#[async_trait::async_trait]
impl Hooks for Silent {
    fn interest(&self) -> Interest {
        Interest {
            connect: true,
            ..Interest::default()
        }
    }

    async fn authenticate(&self, _: &Question) -> ConnectVerdict {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_hook_that_never_answers_is_answered_for_at_the_deadline() {
    let broker = broker(Arc::new(Silent)).await;
    let addr = broker.local_addrs()[0];
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut client = Client {
        stream,
        buf: Default::default(),
    };
    client
        .send(&Packet::Connect(Box::new(Connect::new(
            Protocol::V5,
            "waiting",
        ))))
        .await;
    // The test client gives up on a read after WAIT, the deadline's length: wait most of it.
    tokio::time::sleep(tern::embed::HOOK_DEADLINE - Duration::from_secs(1)).await;
    match client.recv().await {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code, ReasonCode::SERVER_UNAVAILABLE),
        other => panic!("{other:?}"),
    }
    broker.stop().await.unwrap();
}

/// Enhanced authentication with method "TOKEN": the data is a token, and "good-1" and
/// "good-2" are valid ones for user "dev" (a device refreshing its token).
struct Tokens;

#[async_trait::async_trait]
impl Hooks for Tokens {
    fn interest(&self) -> Interest {
        Interest {
            connect: true,
            ..Interest::default()
        }
    }

    async fn authenticate(&self, question: &Question) -> ConnectVerdict {
        let (method, data) = match question {
            Question::Connect { method, data, .. } => (method.as_deref(), data.as_deref()),
            Question::Reauth { method, data, .. } => (Some(&**method), data.as_deref()),
            _ => return ConnectVerdict::Deny(ReasonCode::NOT_AUTHORIZED),
        };
        match (method, data) {
            (Some("TOKEN"), Some(b"good-1" | b"good-2")) => ConnectVerdict::Allow {
                username: Some("dev".into()),
            },
            (Some("TOKEN"), Some(b"other-user")) => ConnectVerdict::Allow {
                username: Some("someone-else".into()),
            },
            (Some("TOKEN"), _) => ConnectVerdict::Deny(ReasonCode::NOT_AUTHORIZED),
            _ => ConnectVerdict::Ignore,
        }
    }
}

fn token(reason: ReasonCode, data: &'static [u8]) -> Packet {
    Packet::Auth(tern::codec::Auth {
        reason,
        properties: vec![
            Property::AuthenticationMethod("TOKEN".into()),
            Property::AuthenticationData(bytes::Bytes::from_static(data)),
        ]
        .into(),
    })
}

#[tokio::test]
async fn a_hook_reauthenticates_a_connected_client_and_fails_it_with_0x87() {
    let broker = broker(Arc::new(Tokens)).await;
    let addr = broker.local_addrs()[0];
    let token_login = |id: &str| {
        let mut connect = Connect::new(Protocol::V5, id);
        connect.properties = vec![
            Property::AuthenticationMethod("TOKEN".into()),
            Property::AuthenticationData(bytes::Bytes::from_static(b"good-1")),
        ]
        .into();
        connect
    };

    // A refreshed token: AUTH 0x00 with the method, and the connection goes on.
    let (mut device, _) = Client::connect_with(addr, token_login("device")).await;
    device
        .send(&token(ReasonCode::RE_AUTHENTICATE, b"good-2"))
        .await;
    match timeout(WAIT, device.recv()).await.unwrap() {
        Some(Packet::Auth(auth)) => {
            assert_eq!(auth.reason, ReasonCode::SUCCESS);
            assert_eq!(
                auth.properties
                    .get(tern::codec::PropertyId::AuthenticationMethod),
                Some(&Property::AuthenticationMethod("TOKEN".into()))
            );
        }
        other => panic!("{other:?}"),
    }
    device.send(&Packet::PingReq).await;
    assert_eq!(
        timeout(WAIT, device.recv()).await.unwrap(),
        Some(Packet::PingResp)
    );

    // A revoked token, and one that proves another user: DISCONNECT 0x87 and the close.
    let cases: [(&str, &'static [u8]); 2] = [("revoked", b"revoked"), ("swap", b"other-user")];
    for (id, data) in cases {
        let (mut c, _) = Client::connect_with(addr, token_login(id)).await;
        c.send(&token(ReasonCode::RE_AUTHENTICATE, data)).await;
        match timeout(WAIT, c.recv()).await.unwrap() {
            Some(Packet::Disconnect(d)) => assert_eq!(d.reason, ReasonCode::NOT_AUTHORIZED, "{id}"),
            other => panic!("{id}: {other:?}"),
        }
        assert_eq!(timeout(WAIT, c.recv()).await.unwrap(), None, "{id}: closed");
    }
    // The first client is untouched by the others' failures.
    device.send(&Packet::PingReq).await;
    assert_eq!(
        timeout(WAIT, device.recv()).await.unwrap(),
        Some(Packet::PingResp)
    );
    broker.stop().await.unwrap();
}
