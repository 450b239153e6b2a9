use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::*;
use crate::codec::{Properties, Protocol, QoS, SubscriptionOptions, TopicFilter, TopicName};
use crate::engine::store::{SessionRecord, StoredMessage, RESIDENT};
use crate::engine::Message;
use crate::router::Subscription;

fn session(client_id: &str) -> Change {
    Change::PutSession(SessionRecord {
        client_id: client_id.into(),
        protocol: Protocol::V5,
        expiry_interval: 3600,
        expires_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000)),
        will: None,
    })
}

fn subscribe(client_id: &str, filter: &str) -> Change {
    Change::PutSubscription {
        client_id: client_id.into(),
        filter: TopicFilter::new(filter).unwrap(),
        subscription: Subscription {
            options: SubscriptionOptions::qos(QoS::AtLeastOnce),
            identifier: None,
        },
    }
}

fn retained(topic: &str, payload: &'static [u8]) -> Change {
    Change::PutRetained(StoredMessage {
        message: Arc::new(Message {
            topic: TopicName::new(topic).unwrap(),
            payload: Bytes::from_static(payload),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Properties::new(),
            expires_at: None,
            publisher: None,
        }),
        expires_at: None,
    })
}

fn summary(r: &Restored) -> (Vec<String>, Vec<String>) {
    let mut sessions: Vec<String> = r
        .sessions
        .iter()
        .map(|s| {
            let filters: Vec<&str> = s.subscriptions.iter().map(|(f, _)| f.as_str()).collect();
            format!("{} {filters:?}", s.record.client_id)
        })
        .collect();
    sessions.sort();
    let mut retained: Vec<String> = r
        .retained
        .iter()
        .map(|m| {
            format!(
                "{}={}",
                m.message.topic,
                String::from_utf8_lossy(&m.message.payload)
            )
        })
        .collect();
    retained.sort();
    (sessions, retained)
}

#[test]
fn what_is_committed_is_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
        store
            .commit(vec![
                session("a"),
                subscribe("a", "x/+"),
                subscribe("a", "y/#"),
            ])
            .unwrap();
        store
            .commit(vec![session("b"), retained("t/1", b"one")])
            .unwrap();
        store
            .commit(vec![
                Change::DeleteSubscription {
                    client_id: "a".into(),
                    filter: TopicFilter::new("y/#").unwrap(),
                },
                retained("t/1", b"two"),
                retained("t/2", b"x"),
                Change::DeleteRetained(TopicName::new("t/2").unwrap()),
            ])
            .unwrap();
    }
    let mut store = DiskStore::open(dir.path(), SyncPolicy::Always).unwrap();
    let restored = store.load().unwrap();
    assert_eq!(
        summary(&restored),
        (
            vec!["a [\"x/+\"]".to_string(), "b []".to_string()],
            vec!["t/1=two".to_string()]
        )
    );
}

#[test]
fn a_session_ends_with_its_subscriptions_even_those_of_the_same_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
    store
        .commit(vec![session("a"), subscribe("a", "old")])
        .unwrap();
    // "ab" shares a prefix with "a" but is another client: it keeps its own.
    store
        .commit(vec![session("ab"), subscribe("ab", "keep")])
        .unwrap();
    store
        .commit(vec![
            subscribe("a", "new"),
            Change::DeleteSession("a".into()),
            session("a"),
            subscribe("a", "after"),
        ])
        .unwrap();
    assert_eq!(
        summary(&store.load().unwrap()).0,
        ["a [\"after\"]", "ab [\"keep\"]"]
    );
}

#[test]
fn a_second_process_and_a_foreign_directory_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let _first = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
    let second = DiskStore::open(dir.path(), SyncPolicy::Os).err().unwrap();
    assert!(second.0.contains("in use by another process"), "{second}");
    assert!(second.0.contains(&dir.path().display().to_string()));

    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join("notes.txt"), "mine").unwrap();
    let e = DiskStore::open(foreign.path(), SyncPolicy::Os)
        .err()
        .unwrap();
    assert!(e.0.contains("not a Tern store"), "{e}");
}

#[test]
fn a_store_of_another_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
        store.keyspaces[META as usize]
            .insert("format", "tern-store 99")
            .unwrap();
    }
    let e = DiskStore::open(dir.path(), SyncPolicy::Os).err().unwrap();
    assert!(e.0.contains("tern-store 99"), "{e}");
}

fn held(seq: u64, fresh: bool) -> Change {
    let Change::PutMessage {
        client_id: _,
        seq,
        state,
        delivery,
        ..
    } = held_by("a", seq)
    else {
        unreachable!()
    };
    Change::PutMessage {
        client_id: "a".into(),
        seq,
        state,
        delivery,
        fresh,
    }
}

fn held_by(client_id: &str, seq: u64) -> Change {
    let Change::PutRetained(m) = retained("t", b"x") else {
        unreachable!()
    };
    Change::PutMessage {
        client_id: client_id.into(),
        seq,
        state: crate::engine::store::Held::Queued,
        delivery: crate::engine::store::StoredDelivery {
            delivery: crate::engine::Delivery {
                message: m.message,
                qos: QoS::AtLeastOnce,
                retain: false,
                subscription_ids: vec![],
                shared: None,
                seq,
            },
            expires_at: None,
        },
        fresh: true,
    }
}

#[test]
fn a_message_that_comes_and_goes_within_a_batch_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
    let gone = |seq| Change::DeleteMessage {
        client_id: "a".into(),
        seq,
    };
    // Entered and acknowledged within the batch: nothing at all.
    store.commit(vec![session("a")]).unwrap();
    let before = store.journal.len();
    store.commit(vec![held(1, true), gone(1)]).unwrap();
    assert_eq!(store.journal.len(), before, "nothing was written");
    // Written before (not fresh here): its removal is written.
    store.commit(vec![held(2, false), gone(2)]).unwrap();
    assert!(store.journal.len() > before);
    // And what is written is read back.
    store
        .commit(vec![held(3, true), held(4, true), gone(3)])
        .unwrap();
    let restored = store.load().unwrap();
    let seqs: Vec<u64> = restored.sessions[0].messages.iter().map(|m| m.0).collect();
    assert_eq!(seqs, [4]);
}

#[test]
fn a_long_queue_comes_back_with_its_first_messages_and_the_rest_on_demand() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
    let count = RESIDENT as u64 + 10;
    let mut changes = vec![session("a")];
    changes.extend((1..=count).map(|seq| held(seq, true)));
    store.commit(changes).unwrap();
    let restored = store.load().unwrap();
    let a = &restored.sessions[0];
    assert_eq!(a.messages.len(), RESIDENT);
    let spilled: Vec<u64> = a.spilled.iter().map(|s| s.0).collect();
    assert_eq!(spilled, (RESIDENT as u64 + 1..=count).collect::<Vec<_>>());
    assert!(a.spilled.iter().all(|s| s.1 > 0));
    // Read back from a number on, at most so many.
    let next = store.load_queued("a", RESIDENT as u64 + 3, 4).unwrap();
    let seqs: Vec<u64> = next.iter().map(|m| m.0).collect();
    let from = RESIDENT as u64 + 3;
    assert_eq!(seqs, [from, from + 1, from + 2, from + 3]);
    // Another session's messages are never read as these.
    store.commit(vec![session("ab"), held_by("ab", 1)]).unwrap();
    assert!(store.load_queued("a", count + 1, 10).unwrap().is_empty());
}

fn messages_in_tables(store: &DiskStore) -> usize {
    store.keyspaces[MESSAGES as usize].iter().count()
}

#[test]
fn a_message_acknowledged_after_its_commit_reaches_the_journal_and_never_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
    store
        .commit(vec![session("a"), held(1, true), held(2, true)])
        .unwrap();
    let after_put = store.journal.len();
    store
        .commit(vec![Change::DeleteMessage {
            client_id: "a".into(),
            seq: 1,
        }])
        .unwrap();
    assert!(store.journal.len() > after_put, "the removal is journaled");
    store.flush(None).unwrap();
    // Only the message still held reached the tables.
    assert_eq!(messages_in_tables(&store), 1);
    let seqs: Vec<u64> = store.load().unwrap().sessions[0]
        .messages
        .iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(seqs, [2]);
}

#[test]
fn the_journal_replays_over_tables_that_hold_part_of_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
        store
            .commit(vec![session("a"), subscribe("a", "old"), held(1, true)])
            .unwrap();
        // The tables take it; the journal keeps it all (a crash before the rotation).
        store.flush(None).unwrap();
        store
            .commit(vec![
                Change::DeleteSession("a".into()),
                session("a"),
                subscribe("a", "new"),
                held(2, true),
                retained("t", b"kept"),
            ])
            .unwrap();
        // Dropped without a flush: what the last commit did is in the journal only.
    }
    let mut store = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
    assert_eq!(
        store.journal.len(),
        journal::HEADER as u64,
        "replayed, then rotated"
    );
    let restored = store.load().unwrap();
    assert_eq!(
        summary(&restored),
        (vec!["a [\"new\"]".to_string()], vec!["t=kept".to_string()])
    );
    let seqs: Vec<u64> = restored.sessions[0].messages.iter().map(|m| m.0).collect();
    assert_eq!(seqs, [2]);
}

#[test]
fn a_full_journal_rotates_into_the_tables_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let epoch;
    {
        let mut store = DiskStore::open(dir.path(), SyncPolicy::Interval(Duration::ZERO)).unwrap();
        store.journal_max = 4096;
        let first = store.journal.epoch();
        store.commit(vec![session("a")]).unwrap();
        // Every message but each tenth is acknowledged a commit after it came.
        for seq in 1..=300u64 {
            let mut changes = vec![held(seq, true)];
            if seq > 1 && (seq - 1) % 10 != 0 {
                changes.push(Change::DeleteMessage {
                    client_id: "a".into(),
                    seq: seq - 1,
                });
            }
            store.commit(changes).unwrap();
        }
        epoch = store.journal.epoch();
        assert!(
            epoch > first + 2,
            "the journal rotated ({first} -> {epoch})"
        );
        assert!(store.journal.len() <= 4096 + 1024);
    }
    let mut store = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
    let restored = store.load().unwrap();
    let a = &restored.sessions[0];
    let mut seqs: Vec<u64> = a.messages.iter().map(|m| m.0).collect();
    seqs.extend(a.spilled.iter().map(|s| s.0));
    let expected: Vec<u64> = (1..=300).filter(|s| s % 10 == 0).collect();
    assert_eq!(seqs, expected);
}

#[test]
fn a_damaged_journal_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = DiskStore::open(dir.path(), SyncPolicy::Os).unwrap();
        store.commit(vec![session("a")]).unwrap();
    }
    let path = dir.path().join("tern.journal");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[2] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let e = DiskStore::open(dir.path(), SyncPolicy::Os).err().unwrap();
    assert!(
        e.0.contains("tern.journal") && e.0.contains("move the data directory"),
        "{e}"
    );
}
