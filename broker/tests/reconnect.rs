//! A client's last packets on its old connection count before its next CONNECT (issue 19),
//! against a real broker on loopback, thousands of times: a client ends its session and
//! connects again at once, and the new CONNECT must not be decided before the old
//! connection's last packets, though another task reads them.
//!
//! - 5.0: DISCONNECT with Session Expiry 0, then CONNECT with Clean Start 0: Session Present 0
//!   [MQTT-3.2.2-3].
//! - 3.1.1: a Clean Session connection's DISCONNECT, then CONNECT with Clean Session 0:
//!   Session Present 0 [MQTT-3.2.2-3] (3.1.1: [MQTT-3.2.2-1]).
//! - A QoS 1 PUBLISH just before the DISCONNECT, not waiting for its PUBACK, then one on the new
//!   connection: a subscriber gets both, once each, the old one first.
//! - No DISCONNECT (the socket just closes), then the new CONNECT: the will is published once.
//!
//! Each round waits for nothing between the old connection's last bytes and the new CONNECT.
//! Before the fix, 5.0 got Session Present 1 in about one round in six.

mod common;

use std::time::{Duration, Instant};

use common::{publish, Broker, Client};
use tern::codec::{
    Connect, Disconnect, Packet, Property, Protocol, QoS, ReasonCode, TopicName, Will,
};
use tokio::time::timeout;

/// Rounds of each variant.
const ROUNDS: usize = 1000;
/// How long the whole test may take.
const DEADLINE: Duration = Duration::from_secs(240);
/// How long a message that should come is waited for before it counts as lost.
const LOST_AFTER: Duration = Duration::from_secs(2);

fn connect(protocol: Protocol, id: &str, clean: bool, expiry: Option<u32>) -> Connect {
    let mut c = Connect::new(protocol, id);
    c.clean_start = clean;
    if let Some(secs) = expiry {
        c.properties.push(Property::SessionExpiryInterval(secs));
    }
    c
}

/// DISCONNECT ending the session (Session Expiry 0 in 5.0), then the close.
async fn disconnect(mut client: Client, protocol: Protocol) {
    let mut d = Disconnect::new(ReasonCode::SUCCESS);
    if protocol.is_v5() {
        d.properties.push(Property::SessionExpiryInterval(0));
    }
    client.send_in(protocol, &Packet::Disconnect(d)).await;
    drop(client);
}

/// The rounds, ended by session: in how many the new CONNECT found a session.
async fn session_present_rounds(broker: &Broker, protocol: Protocol, started: Instant) -> usize {
    let id = format!("race-{protocol:?}");
    let mut wrong = 0;
    for _ in 0..ROUNDS {
        assert!(started.elapsed() < DEADLINE, "out of time");
        // 5.0 keeps the session for a second unless the DISCONNECT ends it; 3.1.1's Clean
        // Session ends with the connection.
        let expiry = protocol.is_v5().then_some(1);
        let old = connect(protocol, &id, true, expiry);
        let (old, _) = Client::connect_with(broker.addr, old).await;
        disconnect(old, protocol).await;
        let (new, present) =
            Client::connect_with(broker.addr, connect(protocol, &id, false, expiry)).await;
        wrong += usize::from(present);
        disconnect(new, protocol).await;
    }
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_just_before_a_reconnect_is_not_resumed() {
    let broker = Broker::start("").await;
    let started = Instant::now();
    for protocol in [Protocol::V5, Protocol::V3_1_1] {
        let wrong = session_present_rounds(&broker, protocol, started).await;
        println!("{protocol:?}: Session Present 1 in {wrong} of {ROUNDS} rounds");
        assert_eq!(
            wrong, 0,
            "{protocol:?}: Session Present 1 after the session ended"
        );
    }
    broker.stop().await;
}

/// The next PUBLISH `client` receives (acknowledged), or `None` after [`LOST_AFTER`].
async fn next_message(client: &mut Client) -> Option<Vec<u8>> {
    loop {
        match timeout(LOST_AFTER, client.recv()).await.ok()?? {
            Packet::Publish(p) => {
                if let Some(id) = p.packet_id {
                    client
                        .send(&Packet::PubAck(tern::codec::Ack::new(id)))
                        .await;
                }
                return Some(p.payload.to_vec());
            }
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_sent_before_the_disconnect_arrives_before_the_next_connections() {
    let broker = Broker::start("").await;
    let started = Instant::now();
    let mut subscriber = Client::connect(broker.addr, "race-subscriber").await;
    subscriber.subscribe("race/q", QoS::AtLeastOnce).await;
    let mut wrong_order = 0;
    for round in 0..ROUNDS {
        assert!(started.elapsed() < DEADLINE, "out of time");
        let (mut old, _) =
            Client::connect_with(broker.addr, connect(Protocol::V5, "race-q", true, None)).await;
        let before = format!("{round}-before").into_bytes();
        old.send(&publish("race/q", before.clone(), QoS::AtLeastOnce, 1))
            .await;
        old.send(&Packet::Disconnect(Disconnect::new(ReasonCode::SUCCESS)))
            .await;
        drop(old);
        let (mut new, _) =
            Client::connect_with(broker.addr, connect(Protocol::V5, "race-q", true, None)).await;
        let after = format!("{round}-after").into_bytes();
        let acked = new.publish_reason("race/q", &after, 1).await;
        assert!(!acked.is_error(), "{acked:?}");
        new.send(&Packet::Disconnect(Disconnect::new(ReasonCode::SUCCESS)))
            .await;
        drop(new);
        let got = [
            next_message(&mut subscriber).await,
            next_message(&mut subscriber).await,
        ];
        match got {
            [Some(a), Some(b)] if a == before && b == after => {}
            [Some(a), Some(b)] if a == after && b == before => wrong_order += 1,
            other => panic!("round {round}: the subscriber got {other:?}"),
        }
    }
    // Nothing more: no message came twice.
    assert_eq!(next_message(&mut subscriber).await, None, "a duplicate");
    println!("{ROUNDS} rounds: none lost, {wrong_order} out of order");
    assert_eq!(wrong_order, 0);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_just_closes_publishes_its_will_once_before_the_reconnect() {
    let broker = Broker::start("").await;
    let started = Instant::now();
    let mut watcher = Client::connect(broker.addr, "race-watcher").await;
    watcher.subscribe("race/will", QoS::AtLeastOnce).await;
    for round in 0..ROUNDS {
        assert!(started.elapsed() < DEADLINE, "out of time");
        let mut with_will = connect(Protocol::V5, "race-w", true, None);
        with_will.will = Some(Will {
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Default::default(),
            topic: TopicName::new("race/will").unwrap(),
            payload: round.to_string().into(),
        });
        let (old, _) = Client::connect_with(broker.addr, with_will).await;
        drop(old); // No DISCONNECT: the will must be published.
        let (new, _) =
            Client::connect_with(broker.addr, connect(Protocol::V5, "race-w", true, None)).await;
        let got = next_message(&mut watcher).await;
        assert_eq!(
            got.as_deref(),
            Some(round.to_string().as_bytes()),
            "round {round}: the will"
        );
        disconnect(new, Protocol::V5).await;
    }
    assert_eq!(next_message(&mut watcher).await, None, "an extra will");
    broker.stop().await;
}
