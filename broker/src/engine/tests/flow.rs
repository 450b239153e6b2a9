//! Flow control: a full destination holds its publishers back (acknowledgements withheld,
//! connection paused) and loses nothing; a slow subscriber is closed with 0x97; offline
//! queues keep their limits by their policy.

use super::*;

/// A queue of 4 messages (low-water mark 2) behind a window of 2.
fn small() -> Settings {
    Settings {
        queue: QueueLimits {
            max_messages: 4,
            max_bytes: usize::MAX,
        },
        max_inflight: 2,
        ..Settings::default()
    }
}

/// The packet identifiers of the PUBACKs (or PUBRECs) `conn` received, in order.
fn acks(h: &mut Harness, conn: ConnId) -> Vec<u16> {
    h.recv_all(conn)
        .into_iter()
        .filter_map(|p| match p {
            Packet::PubAck(a) | Packet::PubRec(a) => Some(a.packet_id.get()),
            _ => None,
        })
        .collect()
}

/// The payloads of the PUBLISHes `conn` received, acknowledging each at QoS 1.
fn take_and_ack(h: &mut Harness, conn: ConnId) -> Vec<String> {
    let mut got = Vec::new();
    while let Some(packet) = h.recv(conn) {
        if let Packet::Publish(p) = packet {
            got.push(String::from_utf8(p.payload.to_vec()).unwrap());
            if let Some(id) = p.packet_id {
                h.send(conn, Packet::PubAck(Ack::new(id)));
            }
        }
    }
    got
}

#[test]
fn a_full_subscriber_holds_its_publisher_back_and_loses_nothing() {
    let mut h = Harness::with(small());
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let publisher = h.client(V311, "pub");
    for n in 1..=10 {
        h.publish(publisher, "t", &n.to_string(), QoS::AtLeastOnce, n);
    }
    // Two in flight, the next four fill the queue to its high-water mark: the sixth message
    // found it full, so its PUBACK and those after it are withheld, and the publisher paused.
    assert_eq!(acks(&mut h, publisher), [1, 2, 3, 4, 5]);
    assert!(
        h.paused.contains(&publisher),
        "[MQTT-4.1.0-1]: held back, not dropped"
    );
    assert_eq!(h.engine.stats().publishers_held_back, 1);

    // The subscriber reads on: at the low-water mark the withheld PUBACKs go out, in the order
    // of their PUBLISHes (section 4.6), and the publisher resumes.
    let mut got = Vec::new();
    while got.len() < 10 {
        let more = take_and_ack(&mut h, sub);
        assert!(!more.is_empty(), "stalled after {got:?}");
        got.extend(more);
    }
    let expected: Vec<String> = (1..=10).map(|n| n.to_string()).collect();
    assert_eq!(got, expected, "every message, once, in order");
    assert_eq!(acks(&mut h, publisher), [6, 7, 8, 9, 10]);
    assert!(!h.paused.contains(&publisher));
    assert!(!h.is_closed(sub));
}

#[test]
fn a_qos2_publisher_waits_for_its_pubrec_and_a_resend_is_not_delivered_twice() {
    let mut h = Harness::with(small());
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "t", QoS::ExactlyOnce);
    let mut c = Connect::new(V5, "pub");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(60));
    let (publisher, _) = h.connect_with(c.clone());
    for n in 1..=6 {
        h.publish(publisher, "t", &n.to_string(), QoS::ExactlyOnce, n);
    }
    assert_eq!(acks(&mut h, publisher), [1, 2, 3, 4, 5]);
    assert!(h.paused.contains(&publisher));
    // The publisher goes away without its PUBREC for 6, and resends it on a new connection.
    h.input(publisher, Input::Closed);
    h.paused.remove(&publisher);
    let (publisher, ack) = h.connect_with(c);
    assert!(ack.session_present);
    let mut again = Publish::new(TopicName::new("t").unwrap(), Bytes::from_static(b"6"));
    again.qos = QoS::ExactlyOnce;
    again.packet_id = Some(pid(6));
    again.dup = true;
    h.send(publisher, Packet::Publish(again));
    assert_eq!(
        acks(&mut h, publisher),
        [6],
        "recorded when held, so acknowledged"
    );
    // The subscriber gets each message once.
    let mut got = Vec::new();
    loop {
        let mut progress = false;
        while let Some(packet) = h.recv(sub) {
            progress = true;
            match packet {
                Packet::Publish(p) => {
                    got.push(String::from_utf8(p.payload.to_vec()).unwrap());
                    h.send(sub, Packet::PubRec(Ack::new(p.packet_id.unwrap())));
                }
                Packet::PubRel(a) => h.send(sub, Packet::PubComp(a)),
                other => panic!("unexpected {other:?}"),
            }
        }
        if !progress {
            break;
        }
    }
    assert_eq!(got, ["1", "2", "3", "4", "5", "6"]);
}

#[test]
fn a_subscriber_that_reads_nothing_is_closed_with_quota_exceeded_and_its_publishers_go_on() {
    let mut h = Harness::with(small());
    let mut c = Connect::new(V5, "slow");
    c.clean_start = false;
    c.properties.push(Property::SessionExpiryInterval(60));
    let (slow, _) = h.connect_with(c.clone());
    h.subscribe(slow, "t", QoS::AtLeastOnce);
    let publisher = h.client(V5, "pub");
    for n in 1..=8 {
        h.publish(publisher, "t", &n.to_string(), QoS::AtLeastOnce, n);
    }
    assert!(h.paused.contains(&publisher));
    h.recv_all(slow);
    // It never reads: a second later it is closed, without waiting for the whole
    // slow-subscriber timeout (5 s).
    h.advance(1);
    assert_eq!(disconnect_reason(h.recv(slow)), ReasonCode::QUOTA_EXCEEDED);
    assert!(h.is_closed(slow));
    assert_eq!(h.engine.stats().slow_subscribers_closed, 1);
    // The publisher has every acknowledgement and goes on.
    assert_eq!(acks(&mut h, publisher), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(!h.paused.contains(&publisher));
    // The session went offline keeping 4 of its 6 queued messages (the oldest two dropped,
    // counted), besides the 2 in flight.
    assert_eq!(h.engine.stats().offline_dropped, 2);
    let (slow, ack) = h.connect_with(c);
    assert!(ack.session_present);
    let got = take_and_ack(&mut h, slow);
    assert_eq!(got, ["1", "2", "5", "6", "7", "8"]);
}

#[test]
fn a_subscriber_that_reads_but_cannot_keep_up_is_closed_at_the_timeout() {
    let mut h = Harness::with(small());
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let publisher = h.client(V5, "pub");
    for n in 1..=10 {
        h.publish(publisher, "t", &n.to_string(), QoS::AtLeastOnce, n);
    }
    assert!(h.paused.contains(&publisher));
    // One acknowledgement a second: it reads, so it is not closed at once, but its queue
    // (8 waiting) does not get down to half (2) within the timeout (5 s).
    for second in 0..5 {
        let mut acked = false;
        while let Some(packet) = h.recv(sub) {
            if let (Packet::Publish(p), false) = (packet, acked) {
                h.send(sub, Packet::PubAck(Ack::new(p.packet_id.unwrap())));
                acked = true;
            }
        }
        assert!(!h.is_closed(sub), "closed after {second} s");
        h.advance(1);
    }
    assert!(h.is_closed(sub));
    assert_eq!(h.engine.stats().slow_subscribers_closed, 1);
    assert!(!h.paused.contains(&publisher));
}

#[test]
fn a_subscriber_that_keeps_reading_is_never_called_slow() {
    let mut h = Harness::with(small());
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let publisher = h.client(V5, "pub");
    let mut got = 0;
    let mut id = 0u16;
    // Ten seconds of a publisher faster than its subscriber, which reads a little each second.
    for _ in 0..10 {
        for _ in 0..6 {
            id += 1;
            if !h.paused.contains(&publisher) {
                h.publish(publisher, "t", "m", QoS::AtLeastOnce, id);
            }
        }
        got += take_and_ack(&mut h, sub).len();
        h.advance(1);
    }
    assert!(!h.is_closed(sub));
    assert!(got > 0);
    assert_eq!(h.engine.stats().slow_subscribers_closed, 0);
}

#[test]
fn a_congested_connection_queues_qos0_and_holds_its_publishers() {
    let mut h = Harness::with(small());
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "t", QoS::AtMostOnce);
    let publisher = h.client(V5, "pub");
    // The transport cannot write fast enough to the subscriber.
    h.input(sub, Input::Congested);
    for n in 1..=5 {
        h.publish(publisher, "t", &n.to_string(), QoS::AtMostOnce, 0);
    }
    assert!(h.recv(sub).is_none(), "nothing sent while congested");
    assert!(
        h.paused.contains(&publisher),
        "QoS 0 publishers are held back too"
    );
    h.input(sub, Input::Drained);
    assert_eq!(take_and_ack(&mut h, sub), ["1", "2", "3", "4", "5"]);
    assert!(!h.paused.contains(&publisher));
}

#[test]
fn offline_queues_keep_their_limits_and_hold_no_one_back() {
    for (policy, expected) in [
        (OfflinePolicy::DropOldest, ["3", "4", "5", "6"]),
        (OfflinePolicy::DropNewest, ["1", "2", "3", "4"]),
    ] {
        let mut h = Harness::with(Settings {
            offline_policy: policy,
            ..small()
        });
        let mut c = Connect::new(V311, "away");
        c.clean_start = false;
        let (away, _) = h.connect_with(c.clone());
        h.subscribe(away, "t", QoS::AtLeastOnce);
        h.input(away, Input::Closed);
        let publisher = h.client(V311, "pub");
        for n in 1..=6 {
            h.publish(publisher, "t", &n.to_string(), QoS::AtLeastOnce, n);
        }
        assert_eq!(acks(&mut h, publisher), [1, 2, 3, 4, 5, 6]);
        assert!(h.paused.is_empty());
        assert_eq!(h.engine.stats().offline_dropped, 2);
        let (away, _) = h.connect_with(c);
        assert_eq!(take_and_ack(&mut h, away), expected, "{policy:?}");
    }
}

#[test]
fn keep_alive_spares_a_connection_the_broker_stopped_reading() {
    // No slow-subscriber timeout: the subscriber holds the publisher back for good.
    let mut h = Harness::with(Settings {
        slow_subscriber_timeout: None,
        ..small()
    });
    let sub = h.client(V5, "sub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let mut c = Connect::new(V5, "pub");
    c.keep_alive = 2;
    let (publisher, _) = h.connect_with(c);
    for n in 1..=6 {
        h.publish(publisher, "t", &n.to_string(), QoS::AtLeastOnce, n);
    }
    assert!(h.paused.contains(&publisher));
    // Three keep alive periods of silence, which the broker caused by not reading it.
    h.advance(2);
    h.advance(2);
    h.advance(2);
    assert!(!h.is_closed(publisher));
}
