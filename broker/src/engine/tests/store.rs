//! The persistence port: which changes the engine records for a store, and what a restore
//! puts back.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::*;
use crate::engine::store::{Change, Held, Restored, StoredDelivery, StoredSession};

fn persistent_settings() -> Settings {
    Settings {
        persistence: true,
        ..Settings::default()
    }
}

fn harness() -> Harness {
    let mut h = Harness::with(persistent_settings());
    h.engine
        .set_wall_clock(h.now, UNIX_EPOCH + Duration::from_secs(1_000_000));
    h
}

fn kept(protocol: Protocol, id: &str, expiry: Option<u32>) -> Connect {
    let mut c = Connect::new(protocol, id);
    c.clean_start = false;
    if let (V5, Some(secs)) = (protocol, expiry) {
        c.properties.push(Property::SessionExpiryInterval(secs));
    }
    c
}

/// The changes taken, each in a word and its key.
fn taken(h: &mut Harness) -> Vec<String> {
    h.engine
        .take_changes()
        .into_iter()
        .map(|c| match c {
            Change::PutSession(r) => format!("session {} {:?}", r.client_id, r.expires_at),
            Change::DeleteSession(id) => format!("end {id}"),
            Change::PutSubscription {
                client_id, filter, ..
            } => format!("sub {client_id} {filter}"),
            Change::DeleteSubscription { client_id, filter } => {
                format!("unsub {client_id} {filter}")
            }
            Change::PutMessage {
                client_id,
                seq,
                state,
                ..
            } => format!("hold {client_id} #{seq} {state:?}"),
            Change::DeleteMessage { client_id, seq } => format!("gone {client_id} #{seq}"),
            Change::PutInbound {
                client_id,
                packet_id,
            } => format!("inbound {client_id} {packet_id}"),
            Change::DeleteInbound {
                client_id,
                packet_id,
            } => format!("released {client_id} {packet_id}"),
            Change::PutRetained(m) => format!("retain {}", m.message.topic),
            Change::DeleteRetained(topic) => format!("clear {topic}"),
        })
        .collect()
}

#[test]
fn a_session_that_ends_with_its_connection_records_nothing() {
    let mut h = harness();
    let c = h.client(V5, "clean");
    h.subscribe(c, "a/#", QoS::AtLeastOnce);
    h.send(c, Packet::Disconnect(Disconnect::default()));
    assert!(taken(&mut h).is_empty());
}

#[test]
fn a_kept_session_records_itself_its_subscriptions_and_when_it_ends() {
    let mut h = harness();
    let (c, _) = h.connect_with(kept(V5, "k", Some(60)));
    h.subscribe(c, "a/#", QoS::AtLeastOnce);
    h.send(
        c,
        Packet::Unsubscribe(Unsubscribe {
            packet_id: pid(2),
            properties: Properties::new(),
            filters: vec![TopicFilter::new("a/#").unwrap()],
        }),
    );
    assert!(matches!(h.recv(c), Some(Packet::UnsubAck(_))));
    h.subscribe(c, "b", QoS::AtMostOnce);
    h.send(c, Packet::Disconnect(Disconnect::default()));
    // Offline, it ends 60 s after the wall-clock time it went offline.
    let ends = UNIX_EPOCH + Duration::from_secs(1_000_060);
    assert_eq!(
        taken(&mut h),
        [
            "session k None".to_string(),
            "sub k a/#".into(),
            "unsub k a/#".into(),
            "sub k b".into(),
            format!("session k {:?}", Some(ends)),
        ]
    );
    h.advance(61);
    assert_eq!(taken(&mut h), ["end k"]);
}

#[test]
fn a_5_0_client_that_drops_the_expiry_ends_what_was_kept() {
    let mut h = harness();
    let (c, _) = h.connect_with(kept(V5, "k", Some(60)));
    h.subscribe(c, "a", QoS::AtLeastOnce);
    let mut d = Disconnect::default();
    d.properties.push(Property::SessionExpiryInterval(0));
    h.send(c, Packet::Disconnect(d));
    assert_eq!(taken(&mut h), ["session k None", "sub k a", "end k"]);
}

#[test]
fn retained_messages_are_recorded_and_cleared() {
    let mut h = harness();
    let c = h.client(V311, "p");
    let mut p = Publish::new(TopicName::new("r").unwrap(), Bytes::from_static(b"v"));
    p.retain = true;
    h.send(c, Packet::Publish(p.clone()));
    p.payload = Bytes::new();
    h.send(c, Packet::Publish(p.clone()));
    // Clearing a topic that holds nothing changes nothing.
    h.send(c, Packet::Publish(p));
    assert_eq!(taken(&mut h), ["retain r", "clear r"]);
}

#[test]
fn without_a_store_nothing_is_recorded() {
    let mut h = Harness::new();
    let (c, _) = h.connect_with(kept(V311, "k", None));
    h.subscribe(c, "a", QoS::AtLeastOnce);
    assert!(taken(&mut h).is_empty());
}

#[test]
fn a_restore_brings_sessions_back_offline_and_drops_what_expired_meanwhile() {
    let mut h = harness();
    let wall = UNIX_EPOCH + Duration::from_secs(1_000_000);
    let session = |id: &str, expiry: u32, expires_at: Option<SystemTime>| StoredSession {
        record: crate::engine::store::SessionRecord {
            client_id: id.into(),
            protocol: V5,
            expiry_interval: expiry,
            expires_at,
            will: None,
        },
        subscriptions: vec![(
            TopicFilter::new("t").unwrap(),
            crate::router::Subscription {
                options: SubscriptionOptions::qos(QoS::AtLeastOnce),
                identifier: None,
            },
        )],
        messages: vec![],
        spilled: vec![],
        inbound: vec![],
    };
    let restored = Restored {
        sessions: vec![
            session("later", 600, Some(wall + Duration::from_secs(30))),
            session("gone", 600, Some(wall - Duration::from_secs(1))),
            session("was-online", 20, None),
        ],
        retained: vec![],
    };
    let now = h.now;
    h.engine.restore(restored, now);
    assert_eq!(taken(&mut h), ["end gone"]);
    assert_eq!(h.engine.session_count(), 2);

    // A client coming back finds its session and its subscription.
    let (c, ack) = h.connect_with(kept(V5, "later", Some(600)));
    assert!(ack.session_present);
    let p = h.client(V5, "p");
    h.publish(p, "t", "x", QoS::AtMostOnce, 0);
    assert_eq!(&h.recv_publish(c).payload[..], b"x");

    // The one online when the broker stopped counts its expiry from the restart.
    h.advance(21);
    assert_eq!(h.engine.session_count(), 2, "later (online) and p");
    let (_, ack) = h.connect_with(kept(V5, "was-online", Some(600)));
    assert!(!ack.session_present);
}

#[test]
fn a_held_message_is_recorded_at_each_step_until_acknowledged() {
    let mut h = harness();
    let (k, _) = h.connect_with(kept(V5, "k", Some(60)));
    h.subscribe(k, "t", QoS::ExactlyOnce);
    let p = h.client(V5, "p");
    h.engine.take_changes();

    // QoS 1, online: straight into the window (queued and sent in one round: one change
    // says both), gone with PUBACK.
    h.publish(p, "t", "one", QoS::AtLeastOnce, 1);
    let sent = h.recv_publish(k);
    let one = sent.packet_id.unwrap().get();
    assert_eq!(taken(&mut h), [format!("hold k #1 Published({one})")]);
    h.send(k, Packet::PubAck(Ack::new(sent.packet_id.unwrap())));
    assert_eq!(taken(&mut h), ["gone k #1"]);
    // QoS 2: released with PUBREC, gone with PUBCOMP.
    h.publish(p, "t", "two", QoS::ExactlyOnce, 2);
    let sent = h.recv_publish(k);
    let id = sent.packet_id.unwrap();
    let two = id.get();
    assert_eq!(taken(&mut h), [format!("hold k #2 Published({two})")]);
    h.send(k, Packet::PubRec(Ack::new(id)));
    assert_eq!(taken(&mut h), [format!("hold k #2 Released({two})")]);
    h.send(k, Packet::PubComp(Ack::new(id)));
    assert_eq!(taken(&mut h), ["gone k #2"]);
    // QoS 0 is never kept.
    h.publish(p, "t", "zero", QoS::AtMostOnce, 0);
    assert!(taken(&mut h).is_empty());

    // Offline, queued; sent when the client comes back.
    h.send(k, Packet::Disconnect(Disconnect::default()));
    h.engine.take_changes();
    h.publish(p, "t", "three", QoS::AtLeastOnce, 3);
    assert_eq!(taken(&mut h), ["hold k #3 Queued"]);
    let (k, _) = h.connect_with(kept(V5, "k", Some(60)));
    let sent = h.recv_publish(k);
    assert_eq!(&sent.payload[..], b"three");
    let changes = taken(&mut h);
    assert!(
        changes.contains(&format!(
            "hold k #3 Published({})",
            sent.packet_id.unwrap().get()
        )),
        "{changes:?}"
    );
}

#[test]
fn an_inbound_qos2_identifier_is_kept_until_pubrel() {
    let mut h = harness();
    let (k, _) = h.connect_with(kept(V5, "k", Some(60)));
    h.engine.take_changes();
    h.publish(k, "t", "x", QoS::ExactlyOnce, 9);
    assert!(matches!(h.recv(k), Some(Packet::PubRec(_))));
    h.send(k, Packet::PubRel(Ack::new(pid(9))));
    assert_eq!(taken(&mut h), ["inbound k 9", "released k 9"]);
}

#[test]
fn a_restore_resends_what_was_in_flight_then_the_queue_and_remembers_inbound_qos2() {
    let mut h = harness();
    let message = |payload: &'static str| {
        Arc::new(Message {
            topic: TopicName::new("t").unwrap(),
            payload: Bytes::from_static(payload.as_bytes()),
            qos: QoS::ExactlyOnce,
            retain: false,
            properties: Properties::new(),
            expires_at: None,
            publisher: None,
        })
    };
    let held = |payload, qos| StoredDelivery {
        delivery: Delivery {
            message: message(payload),
            qos,
            retain: false,
            subscription_ids: vec![],
            shared: None,
            seq: 0,
        },
        expires_at: None,
    };
    let restored = Restored {
        sessions: vec![StoredSession {
            record: crate::engine::store::SessionRecord {
                client_id: "k".into(),
                protocol: V5,
                expiry_interval: 600,
                expires_at: None,
                will: None,
            },
            subscriptions: vec![],
            messages: vec![
                (4, Held::Published(7), held("sent", QoS::AtLeastOnce)),
                (5, Held::Released(8), held("released", QoS::ExactlyOnce)),
                (6, Held::Queued, held("queued", QoS::AtLeastOnce)),
            ],
            spilled: vec![],
            inbound: vec![3],
        }],
        retained: vec![],
    };
    let now = h.now;
    h.engine.restore(restored, now);
    let (k, ack) = h.connect_with(kept(V5, "k", Some(600)));
    assert!(ack.session_present);
    let got = h.recv_all(k);
    let summary: Vec<String> = got
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => format!(
                "PUBLISH {} dup={} {}",
                p.packet_id.map_or(0, |id| id.get()),
                p.dup,
                String::from_utf8_lossy(&p.payload)
            ),
            Packet::PubRel(a) => format!("PUBREL {}", a.packet_id.get()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(summary[0], "PUBLISH 7 dup=true sent");
    assert_eq!(summary[1], "PUBREL 8");
    assert!(
        summary[2].starts_with("PUBLISH ") && summary[2].ends_with("dup=false queued"),
        "{summary:?}"
    );
    // The inbound QoS 2 identifier is still awaiting PUBREL: a resent PUBLISH is not
    // delivered again, only acknowledged.
    let s = h.client(V5, "s");
    h.subscribe(s, "u", QoS::AtLeastOnce);
    let mut p = Publish::new(TopicName::new("u").unwrap(), Bytes::from_static(b"again"));
    p.qos = QoS::ExactlyOnce;
    p.packet_id = Some(pid(3));
    p.dup = true;
    h.send(k, Packet::Publish(p));
    assert!(matches!(h.recv(k), Some(Packet::PubRec(_))));
    assert!(h.recv_all(s).is_empty(), "delivered twice");
    h.engine.check_invariants().unwrap();
}

fn will(topic: &str, delay: Option<u32>) -> Will {
    let mut properties = Properties::new();
    if let Some(secs) = delay {
        properties.push(Property::WillDelayInterval(secs));
    }
    Will {
        qos: QoS::AtLeastOnce,
        retain: false,
        properties,
        topic: TopicName::new(topic).unwrap(),
        payload: Bytes::from_static(b"bye"),
    }
}

#[test]
fn a_kept_session_records_its_connections_will_and_then_the_one_waiting() {
    let mut h = harness();
    let mut connect = kept(V5, "w", Some(600));
    connect.will = Some(will("gone/w", Some(30)));
    let (c, _) = h.connect_with(connect);
    let wills = |h: &mut Harness| -> Vec<Option<Option<SystemTime>>> {
        h.engine
            .take_changes()
            .into_iter()
            .filter_map(|c| match c {
                Change::PutSession(r) => Some(r.will.map(|w| w.due)),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        wills(&mut h),
        [Some(None)],
        "the connection's will, not due"
    );
    h.input(c, Input::Closed);
    let due = UNIX_EPOCH + Duration::from_secs(1_000_030);
    assert_eq!(wills(&mut h), [Some(Some(due))], "waiting for its delay");
    h.advance(31);
    assert_eq!(wills(&mut h), [None], "published: no longer held");
}

#[test]
fn a_restart_releases_the_will_of_a_connection_the_stop_ended_and_keeps_a_waiting_one() {
    let mut h = harness();
    let s = h.client(V5, "s");
    h.subscribe(s, "gone/#", QoS::AtLeastOnce);
    let wall = UNIX_EPOCH + Duration::from_secs(1_000_000);
    let session = |id: &str, will: Will, due: Option<SystemTime>| StoredSession {
        record: crate::engine::store::SessionRecord {
            client_id: id.into(),
            protocol: V5,
            expiry_interval: 600,
            expires_at: None,
            will: Some(crate::engine::store::StoredWill { will, due }),
        },
        subscriptions: vec![],
        messages: vec![],
        spilled: vec![],
        inbound: vec![],
    };
    let restored = Restored {
        sessions: vec![
            // Online when the broker stopped, no delay: released at once.
            session("now", will("gone/now", None), None),
            // Waiting, due in 10 s.
            session(
                "later",
                will("gone/later", Some(60)),
                Some(wall + Duration::from_secs(10)),
            ),
            // Waiting, due while the broker was down: released at once.
            session(
                "missed",
                will("gone/missed", Some(60)),
                Some(wall - Duration::from_secs(1)),
            ),
        ],
        retained: vec![],
    };
    let now = h.now;
    h.engine.restore(restored, now);
    h.collect();
    let topics = |h: &mut Harness| -> Vec<String> {
        let mut t: Vec<String> = h
            .recv_all(s)
            .into_iter()
            .filter_map(|p| match p {
                Packet::Publish(p) => Some(p.topic.to_string()),
                _ => None,
            })
            .collect();
        t.sort();
        t
    };
    assert_eq!(topics(&mut h), ["gone/missed", "gone/now"]);
    h.advance(9);
    assert!(topics(&mut h).is_empty());
    h.advance(2);
    assert_eq!(topics(&mut h), ["gone/later"]);
}

#[test]
fn a_full_store_keeps_nothing_new_and_goes_on_with_what_it_keeps() {
    let mut h = harness();
    let (k, _) = h.connect_with(kept(V5, "k", Some(600)));
    h.subscribe(k, "t", QoS::AtLeastOnce);
    h.send(k, Packet::Disconnect(Disconnect::default()));
    let p = h.client(V5, "p");
    h.engine.set_store_full(true);
    h.engine.take_changes();

    // No new kept session; a clean one, and a kept one coming back, are fine.
    let (_, ack) = h.connect_with(kept(V5, "new", Some(600)));
    assert_eq!(ack.code, ReasonCode::QUOTA_EXCEEDED);
    let (_, ack) = h.connect_with(Connect::new(V5, "clean"));
    assert_eq!(ack.code, ReasonCode::SUCCESS);
    // Nothing more for the offline session's queue, nor a retained message for a new topic.
    h.publish(p, "t", "dropped", QoS::AtLeastOnce, 1);
    let mut r = Publish::new(TopicName::new("r").unwrap(), Bytes::from_static(b"v"));
    r.retain = true;
    h.send(p, Packet::Publish(r));
    assert_eq!(h.engine.stats().offline_dropped, 1);
    assert_eq!(h.engine.stats().retained_refused, 1);
    assert!(
        taken(&mut h)
            .iter()
            .all(|c| !c.starts_with("hold") && !c.starts_with("retain")),
        "nothing new recorded"
    );

    // Back under the limit: kept again.
    h.engine.set_store_full(false);
    h.publish(p, "t", "kept", QoS::AtLeastOnce, 2);
    let (k, ack) = h.connect_with(kept(V5, "k", Some(600)));
    assert!(ack.session_present);
    assert_eq!(&h.recv_publish(k).payload[..], b"kept");
}

#[test]
fn an_offline_queue_past_its_first_messages_stays_on_disk_and_comes_back_in_order() {
    let mut h = Harness::with(Settings {
        persistence: true,
        queue: QueueLimits {
            max_messages: 1000,
            max_bytes: 1 << 20,
        },
        ..Settings::default()
    });
    let (k, _) = h.connect_with(kept(V5, "k", Some(600)));
    h.subscribe(k, "t", QoS::AtLeastOnce);
    h.send(k, Packet::Disconnect(Disconnect::default()));
    let p = h.client(V5, "p");
    let count = crate::engine::store::RESIDENT + 150;
    for n in 0..count {
        h.publish(
            p,
            "t",
            &n.to_string(),
            QoS::AtLeastOnce,
            (n % 60_000 + 1) as u16,
        );
    }
    // What a store would hold: every message written, each with its number.
    let mut disk = std::collections::BTreeMap::new();
    for change in h.engine.take_changes() {
        if let Change::PutMessage { seq, delivery, .. } = change {
            disk.insert(seq, delivery);
        }
    }
    assert_eq!(disk.len(), count);
    h.engine.check_invariants().unwrap();

    // Back online with a window of 10: everything comes, in order, the rest read back as
    // the engine asks for it.
    let mut connect = kept(V5, "k", Some(600));
    connect.properties.push(Property::ReceiveMaximum(10));
    let (k, ack) = h.connect_with(connect);
    assert!(ack.session_present);
    let mut got = Vec::new();
    for _ in 0..10_000 {
        while let Some(packet) = h.recv(k) {
            if let Packet::Publish(m) = packet {
                got.push(String::from_utf8(m.payload.to_vec()).unwrap());
                h.send(k, Packet::PubAck(Ack::new(m.packet_id.unwrap())));
            }
        }
        let Some(Output::Load {
            session, from, max, ..
        }) = h.loads.pop()
        else {
            break;
        };
        let batch: Vec<_> = disk
            .range(from..)
            .take(max)
            .map(|(seq, d)| (*seq, d.clone()))
            .collect();
        let now = h.now;
        h.engine.loaded(session, batch, now);
        h.collect();
    }
    let want: Vec<String> = (0..count).map(|n| n.to_string()).collect();
    assert_eq!(got, want);
}
