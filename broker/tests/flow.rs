//! Flow control and arrival order against the real broker on an ephemeral loopback port, with
//! open-loop clients written on `tern::codec`: publishers bounded only by their MQTT window,
//! as real clients are, never paced on what subscribers received.
//!
//! - An acknowledged message is never dropped while its subscriber's session lives
//!   [MQTT-4.1.0-1]: a slower subscriber holds its publishers back instead.
//! - A subscriber that stops reading is disconnected with 0x97 Quota exceeded, and the other
//!   subscribers of the same publishers go on.
//! - A connection the broker closes lets its client read the last packet even while the
//!   client is still writing.
//!
//! (Arrival order across connections has a binary of its own, `tests/order.rs`, so that no
//! other test loads the machine while it runs.)
//!
//! Every loop is bounded in count, and every wait in time.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use common::{publish, Broker, Client, WAIT};
use tern::codec::{decode, Ack, Packet, Protocol, QoS, ReasonCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// The longest a whole load test may take.
const LOAD_WAIT: Duration = Duration::from_secs(60);

/// Publishes `count` QoS 1 messages (payload: publisher, sequence) on `topic` as fast as a
/// window of `window` unacknowledged messages (and the server's Receive Maximum, 32 by
/// default) allows. Returns how many were acknowledged.
async fn open_loop_publisher(addr: SocketAddr, index: u8, topic: &str, count: u32) -> u32 {
    let mut c = Client::connect(addr, &format!("pub-{index}")).await;
    let window = 32u32;
    let (mut sent, mut acked, mut inflight) = (0u32, 0u32, 0u32);
    let mut out = BytesMut::new();
    while acked < count {
        while sent < count && inflight < window {
            let mut payload = vec![index];
            payload.extend_from_slice(&sent.to_be_bytes());
            let id = (sent % 60_000 + 1) as u16;
            publish(topic, payload, QoS::AtLeastOnce, id)
                .encode(Protocol::V5, &mut out)
                .unwrap();
            sent += 1;
            inflight += 1;
        }
        if !out.is_empty() {
            c.stream.write_all(&out).await.unwrap();
            out.clear();
        }
        for packet in c.recv_batch().await {
            match packet {
                Packet::PubAck(a) => {
                    assert!(!a.reason.is_error(), "PUBACK {:?}", a.reason);
                    acked += 1;
                    inflight -= 1;
                }
                other => panic!("publisher {index}: unexpected {other:?}"),
            }
        }
    }
    acked
}

/// Reads QoS 1 messages, acknowledging each, until `expected` distinct ones arrived; pauses
/// `nap` after every `every` messages (a reader slower than its publishers). Returns the
/// distinct messages and the duplicates.
async fn subscriber(mut c: Client, expected: usize, every: usize, nap: Duration) -> (usize, usize) {
    let mut seen = HashSet::new();
    let (mut duplicates, mut since_nap) = (0, 0);
    let mut acks = BytesMut::new();
    while seen.len() < expected {
        let batch = c.recv_batch().await;
        assert!(!batch.is_empty(), "the subscriber's connection ended");
        for packet in batch {
            let Packet::Publish(p) = packet else {
                panic!("subscriber: unexpected {packet:?}");
            };
            if !seen.insert(p.payload.clone()) {
                duplicates += 1;
            }
            Packet::PubAck(Ack::new(p.packet_id.unwrap()))
                .encode(Protocol::V5, &mut acks)
                .unwrap();
            since_nap += 1;
        }
        c.stream.write_all(&acks).await.unwrap();
        acks.clear();
        if since_nap >= every {
            since_nap = 0;
            tokio::time::sleep(nap).await;
        }
    }
    (seen.len(), duplicates)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_publishers_lose_nothing_to_a_slower_subscriber() {
    // [MQTT-4.1.0-1] under load: four publishers faster than their one subscriber, whose
    // queue (100 messages) overflows a hundred times over. Before flow control, a full queue
    // dropped acknowledged messages.
    let broker = Broker::start("max_queued_messages = 100\n").await;
    let (publishers, each) = (4u8, 5_000u32);
    let mut sub = Client::connect(broker.addr, "sub").await;
    sub.subscribe("load/#", QoS::AtLeastOnce).await;
    let total = usize::from(publishers) * each as usize;
    let reader = tokio::spawn(subscriber(sub, total, 500, Duration::from_millis(5)));
    let mut senders = Vec::new();
    for i in 0..publishers {
        let addr = broker.addr;
        senders.push(tokio::spawn(async move {
            open_loop_publisher(addr, i, &format!("load/{i}"), each).await
        }));
    }
    let run = async {
        for s in senders {
            assert_eq!(s.await.unwrap(), each, "every message acknowledged");
        }
        reader.await.unwrap()
    };
    let (received, duplicates) = timeout(LOAD_WAIT, run).await.expect("the run ends in time");
    assert_eq!(received, total, "every acknowledged message delivered");
    assert_eq!(duplicates, 0);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_closed_with_quota_exceeded() {
    let broker =
        Broker::start("max_queued_messages = 100\nslow_subscriber_timeout_ms = 500\n").await;
    let mut stuck = Client::connect(broker.addr, "stuck").await;
    stuck.subscribe("t", QoS::AtLeastOnce).await;
    let mut fast = Client::connect(broker.addr, "fast").await;
    fast.subscribe("t", QoS::AtLeastOnce).await;
    let count = 3_000u32;
    let reader = tokio::spawn(subscriber(fast, count as usize, usize::MAX, Duration::ZERO));
    let addr = broker.addr;
    let run = async {
        let acked = open_loop_publisher(addr, 0, "t", count).await;
        (acked, reader.await.unwrap())
    };
    let (acked, (received, duplicates)) =
        timeout(LOAD_WAIT, run).await.expect("the run ends in time");
    assert_eq!(acked, count);
    assert_eq!((received, duplicates), (count as usize, 0));
    // The stuck subscriber was sent what its window allowed, then 0x97 and the close.
    let mut last = None;
    while let Some(packet) = stuck.recv().await {
        last = Some(packet);
    }
    match last {
        Some(Packet::Disconnect(d)) => assert_eq!(d.reason, ReasonCode::QUOTA_EXCEEDED),
        other => panic!("expected DISCONNECT 0x97 last, got {other:?}"),
    }
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_still_writing_reads_the_reason_it_was_closed() {
    let broker = Broker::start("").await;
    for round in 0..20 {
        let mut c = Client::connect(broker.addr, &format!("writer-{round}")).await;
        // A PUBLISH with QoS 3 is malformed [MQTT-3.3.1-4]: DISCONNECT 0x81, then the close.
        let (mut reader, mut writer) = c.stream.into_split();
        let flood = tokio::spawn(async move {
            let junk = vec![0u8; 64 * 1024];
            let _ = writer
                .write_all(&[0x36, 0x04, 0x00, 0x01, b't', 0x00])
                .await;
            for _ in 0..32 {
                if writer.write_all(&junk).await.is_err() {
                    break;
                }
            }
        });
        let mut got = BytesMut::new();
        let read = async {
            loop {
                if let Some(p) = decode(&mut got, Protocol::V5, u32::MAX).unwrap() {
                    return Ok(p);
                }
                match reader.read_buf(&mut got).await {
                    Ok(0) => return Err("end of stream before DISCONNECT".to_string()),
                    Err(e) => return Err(format!("{e} before DISCONNECT")),
                    Ok(_) => {}
                }
            }
        };
        let last = timeout(WAIT, read).await.expect("an answer in time");
        match last {
            Ok(Packet::Disconnect(d)) => assert_eq!(d.reason, ReasonCode::MALFORMED_PACKET),
            other => panic!("round {round}: expected DISCONNECT 0x81, got {other:?}"),
        }
        flood.abort();
        c.buf.clear();
    }
    broker.stop().await;
}
