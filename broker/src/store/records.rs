//! How kept state is written as keys and values. Format version 1.
//!
//! The MQTT parts are MQTT packets, encoded and decoded by the codec (a format that is
//! specified, tested clause by clause and fuzzed already): a subscription is a 5.0 SUBSCRIBE
//! of one filter, a message a 5.0 PUBLISH (its packet identifier, 1, means nothing). What is
//! the broker's own is a few fixed-width fields in front.
//!
//! | keyspace | key | value |
//! |---|---|---|
//! | `meta` | `format` | `tern-store 1` |
//! | `sessions` | client identifier | version 1, protocol level, expiry interval (u32), when it ends (a time); then, if it has a will, when the will is due (a time), its Will Delay Interval (u32) and the will as a 5.0 PUBLISH |
//! | `subscriptions` | client identifier, 0x00, filter | a 5.0 SUBSCRIBE of that filter |
//! | `messages` | client identifier, 0x00, number (u64) | version 1, where it stands ([`Held`]: 0 queued, 1 published, 2 released) and its packet identifier (u16), the delivery's QoS and RETAIN, its subscription identifiers (a u16 count, u32 each), the shared subscription that chose it (a u16 length, the filter), then the message as in `retained` |
//! | `inbound` | client identifier, 0x00, packet identifier (u16) | nothing |
//! | `retained` | topic | when it expires (a time), a 5.0 PUBLISH |
//!
//! A client identifier holds no U+0000 [MQTT-1.5.4-2], so 0x00 ends it in a key, and a
//! session's subscriptions are the keys that start with it and 0x00. Numbers are big-endian.
//! A time is a flag byte (1: set) and milliseconds since the Unix epoch (u64), 9 bytes.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Buf, Bytes, BytesMut};
use bytestring::ByteString;

use crate::codec::{
    decode_exact, Packet, PacketId, Properties, Property, PropertyId, Protocol, Publish, QoS,
    Subscribe, TopicFilter, Will,
};
use crate::engine::store::{Held, SessionRecord, StoredDelivery, StoredMessage, StoredWill};
use crate::engine::Message;
use crate::router::Subscription;

/// What the `meta` keyspace's `format` key holds in a directory of this format: the tables,
/// and the journal in `tern.journal`.
pub const FORMAT: &[u8] = b"tern-store 2";

/// The format before the journal: the same tables, and no journal, so it is read as is.
pub const FORMAT_1: &[u8] = b"tern-store 1";

/// A session's record: 1 + 1 + 4 + 9 bytes, then its will if it has one: when it is due
/// (a time; unset: its connection was attached), its Will Delay Interval (u32), and the
/// will as a 5.0 PUBLISH without that property.
pub fn session_value(r: &SessionRecord) -> Vec<u8> {
    let mut v = Vec::with_capacity(15);
    v.push(1);
    v.push(r.protocol.level());
    v.extend_from_slice(&r.expiry_interval.to_be_bytes());
    put_time(&mut v, r.expires_at);
    if let Some(w) = &r.will {
        put_time(&mut v, w.due);
        let delay = w.will.delay_interval();
        let mut properties = w.will.properties.clone();
        properties.remove(PropertyId::WillDelayInterval);
        v.extend_from_slice(&delay.to_be_bytes());
        let publish = Packet::Publish(Publish {
            dup: false,
            qos: w.will.qos,
            retain: w.will.retain,
            topic: w.will.topic.clone(),
            packet_id: (w.will.qos != QoS::AtMostOnce).then(|| PacketId::new(1).expect("not 0")),
            properties,
            payload: w.will.payload.clone(),
        });
        let frame = publish
            .to_bytes(Protocol::V5)
            .expect("a will the codec accepted encodes");
        v.extend_from_slice(&frame);
    }
    v
}

pub fn read_session(client_id: &[u8], mut v: &[u8]) -> Result<SessionRecord, String> {
    let client_id = utf8(client_id)?;
    if v.len() < 15 || v[0] != 1 || (v.len() > 15 && v.len() < 15 + 13) {
        return Err(format!(
            "session {client_id:?}: a record of an unknown shape"
        ));
    }
    v.advance(1);
    let protocol = match v.get_u8() {
        3 => Protocol::V3_1,
        4 => Protocol::V3_1_1,
        5 => Protocol::V5,
        level => return Err(format!("session {client_id:?}: protocol level {level}")),
    };
    let expiry_interval = v.get_u32();
    let expires_at = get_time(&mut v);
    let will = if v.is_empty() {
        None
    } else {
        let due = get_time(&mut v);
        let delay = v.get_u32();
        let packet =
            decode_exact(v, Protocol::V5).map_err(|e| format!("{client_id:?}'s will: {e}"))?;
        let Packet::Publish(p) = packet else {
            return Err(format!("{client_id:?}'s will is not a PUBLISH"));
        };
        let mut properties = p.properties;
        if delay > 0 {
            properties.push(Property::WillDelayInterval(delay));
        }
        let will = Will {
            qos: p.qos,
            retain: p.retain,
            properties,
            topic: p.topic,
            payload: Bytes::copy_from_slice(&p.payload),
        };
        Some(StoredWill { will, due })
    };
    Ok(SessionRecord {
        client_id,
        protocol,
        expiry_interval,
        expires_at,
        will,
    })
}

/// The key of a subscription: the client identifier, 0x00, the filter.
pub fn subscription_key(client_id: &str, filter: &str) -> Vec<u8> {
    let mut k = session_prefix(client_id);
    k.extend_from_slice(filter.as_bytes());
    k
}

/// What the keys of a session's subscriptions start with.
pub fn session_prefix(client_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(client_id.len() + 1);
    k.extend_from_slice(client_id.as_bytes());
    k.push(0);
    k
}

pub fn subscription_value(filter: &TopicFilter, s: &Subscription) -> Vec<u8> {
    let mut properties = Properties::new();
    if let Some(id) = s.identifier {
        properties.push(Property::SubscriptionIdentifier(id));
    }
    let subscribe = Packet::Subscribe(Subscribe {
        packet_id: PacketId::new(1).expect("not 0"),
        properties,
        filters: vec![(filter.clone(), s.options)],
    });
    subscribe
        .to_bytes(Protocol::V5)
        .expect("a subscription the codec accepted encodes")
        .to_vec()
}

/// A subscription back from its key and value: the client identifier, the filter, the
/// subscription.
pub fn read_subscription(
    key: &[u8],
    value: &[u8],
) -> Result<(ByteString, TopicFilter, Subscription), String> {
    let split = key.iter().position(|&b| b == 0);
    let Some(split) = split else {
        return Err("a subscription key without its client identifier".into());
    };
    let client_id = utf8(&key[..split])?;
    let packet = decode_exact(value, Protocol::V5).map_err(|e| format!("{client_id:?}: {e}"))?;
    let Packet::Subscribe(mut s) = packet else {
        return Err(format!(
            "{client_id:?}: a subscription that is not a SUBSCRIBE"
        ));
    };
    let identifier = s.properties.iter().find_map(|p| match p {
        Property::SubscriptionIdentifier(id) => Some(*id),
        _ => None,
    });
    let Some((filter, options)) = s.filters.pop() else {
        return Err(format!("{client_id:?}: a SUBSCRIBE without its filter"));
    };
    let subscription = Subscription {
        options,
        identifier,
    };
    Ok((client_id, filter, subscription))
}

/// A message: when it expires, then a 5.0 PUBLISH.
pub fn message_value(m: &StoredMessage) -> Vec<u8> {
    let mut v = Vec::new();
    write_message(&mut v, &mut BytesMut::new(), &m.message, m.expires_at);
    v
}

/// Appends a message's value to `out`; `scratch` is where the PUBLISH is encoded first (kept
/// by the caller for its allocation).
pub fn write_message(
    out: &mut Vec<u8>,
    scratch: &mut BytesMut,
    message: &Message,
    expires_at: Option<SystemTime>,
) {
    let publish = Packet::Publish(Publish {
        dup: false,
        qos: message.qos,
        retain: message.retain,
        topic: message.topic.clone(),
        packet_id: (message.qos != QoS::AtMostOnce).then(|| PacketId::new(1).expect("not 0")),
        properties: message.properties.clone(),
        payload: message.payload.clone(),
    });
    put_time(out, expires_at);
    scratch.clear();
    publish
        .encode(Protocol::V5, scratch)
        .expect("a message the codec accepted encodes");
    out.extend_from_slice(scratch);
}

pub fn read_message(value: &[u8]) -> Result<StoredMessage, String> {
    if value.len() < 9 {
        return Err("a message record too short".into());
    }
    let mut time = &value[..9];
    let expires_at = get_time(&mut time);
    let packet = decode_exact(&value[9..], Protocol::V5).map_err(|e| e.to_string())?;
    let Packet::Publish(p) = packet else {
        return Err("a message that is not a PUBLISH".into());
    };
    let message = Message {
        topic: p.topic,
        payload: Bytes::copy_from_slice(&p.payload),
        qos: p.qos,
        retain: p.retain,
        properties: p.properties,
        expires_at: None,
        publisher: None,
    };
    Ok(StoredMessage {
        message: Arc::new(message),
        expires_at,
    })
}

/// The key of a message held for a session, or of an inbound QoS 2 identifier: the client
/// identifier, 0x00, the number (big-endian, so that a session's are in order).
pub fn numbered_key(client_id: &str, n: &[u8]) -> Vec<u8> {
    let mut k = session_prefix(client_id);
    k.extend_from_slice(n);
    k
}

/// The client identifier and what follows 0x00 in a numbered key.
pub fn split_key(key: &[u8]) -> Result<(ByteString, &[u8]), String> {
    let Some(split) = key.iter().position(|&b| b == 0) else {
        return Err("a key without its client identifier".into());
    };
    Ok((utf8(&key[..split])?, &key[split + 1..]))
}

pub fn delivery_value(state: Held, d: &StoredDelivery) -> Vec<u8> {
    let mut v = Vec::new();
    write_delivery(&mut v, &mut BytesMut::new(), state, d);
    v
}

/// Appends a held message's value to `out` (see [`write_message`] for `scratch`).
pub fn write_delivery(out: &mut Vec<u8>, scratch: &mut BytesMut, state: Held, d: &StoredDelivery) {
    let (kind, id) = match state {
        Held::Queued => (0, 0),
        Held::Published(id) => (1, id),
        Held::Released(id) => (2, id),
    };
    let delivery = &d.delivery;
    out.extend_from_slice(&[1, kind]);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[delivery.qos as u8, u8::from(delivery.retain)]);
    let ids = u16::try_from(delivery.subscription_ids.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&ids.to_be_bytes());
    for id in delivery.subscription_ids.iter().take(usize::from(ids)) {
        out.extend_from_slice(&id.to_be_bytes());
    }
    let shared = delivery.shared.as_ref().map_or("", |f| f.as_str());
    out.extend_from_slice(&(shared.len() as u16).to_be_bytes());
    out.extend_from_slice(shared.as_bytes());
    write_message(out, scratch, &delivery.message, d.expires_at);
}

/// Whether a message record is of a queued message (read without decoding the rest).
pub fn is_queued(v: &[u8]) -> bool {
    v.get(1) == Some(&0)
}

pub fn read_delivery(mut v: &[u8]) -> Result<(Held, StoredDelivery), String> {
    let short = || "a message record too short".to_string();
    if v.len() < 8 || v[0] != 1 {
        return Err("a message record of an unknown shape".into());
    }
    v.advance(1);
    let kind = v.get_u8();
    let id = v.get_u16();
    let state = match (kind, id) {
        (0, _) => Held::Queued,
        (1, id) if id != 0 => Held::Published(id),
        (2, id) if id != 0 => Held::Released(id),
        _ => {
            return Err(format!(
                "a message record in state {kind} with packet identifier {id}"
            ))
        }
    };
    let qos = match v.get_u8() {
        1 => QoS::AtLeastOnce,
        2 => QoS::ExactlyOnce,
        q => return Err(format!("a message record held at QoS {q}")),
    };
    let retain = v.get_u8() == 1;
    let count = usize::from(v.get_u16());
    if v.len() < count * 4 + 2 {
        return Err(short());
    }
    let subscription_ids = (0..count).map(|_| v.get_u32()).collect();
    let len = usize::from(v.get_u16());
    if v.len() < len {
        return Err(short());
    }
    let shared = match len {
        0 => None,
        _ => {
            let text = std::str::from_utf8(&v[..len]).map_err(|_| "a filter that is not UTF-8")?;
            Some(TopicFilter::new(text.to_owned()).map_err(|e| e.to_string())?)
        }
    };
    v.advance(len);
    let stored = read_message(v)?;
    let delivery = crate::engine::Delivery {
        message: stored.message,
        qos,
        retain,
        subscription_ids,
        shared,
        seq: 0,
    };
    Ok((
        state,
        StoredDelivery {
            delivery,
            expires_at: stored.expires_at,
        },
    ))
}

/// A wall-clock time: a flag byte, then milliseconds since the Unix epoch.
fn put_time(v: &mut Vec<u8>, t: Option<SystemTime>) {
    match t {
        None => {
            v.push(0);
            v.extend_from_slice(&0u64.to_be_bytes());
        }
        Some(t) => {
            let ms = t
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            v.push(1);
            v.extend_from_slice(&ms.to_be_bytes());
        }
    }
}

fn get_time(v: &mut &[u8]) -> Option<SystemTime> {
    let flag = v.get_u8();
    let ms = v.get_u64();
    (flag == 1).then(|| SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
}

fn utf8(bytes: &[u8]) -> Result<ByteString, String> {
    std::str::from_utf8(bytes)
        .map(ByteString::from)
        .map_err(|_| format!("a key that is not UTF-8: {bytes:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{RetainHandling, SubscriptionOptions, TopicName};

    #[test]
    fn a_session_reads_back_as_written() {
        let long_ago = SystemTime::UNIX_EPOCH + Duration::from_millis(1_765_000_123_456);
        for expires_at in [None, Some(long_ago)] {
            let r = SessionRecord {
                client_id: "client/1".into(),
                protocol: Protocol::V3_1_1,
                expiry_interval: u32::MAX,
                expires_at,
                will: None,
            };
            assert_eq!(read_session(b"client/1", &session_value(&r)).unwrap(), r);
        }
        let mut properties = Properties::new();
        properties.push(Property::ContentType("text/plain".into()));
        properties.push(Property::WillDelayInterval(30));
        let later = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        for (qos, due) in [(QoS::AtMostOnce, None), (QoS::ExactlyOnce, Some(later))] {
            let r = SessionRecord {
                client_id: "w".into(),
                protocol: Protocol::V5,
                expiry_interval: 600,
                expires_at: None,
                will: Some(StoredWill {
                    will: Will {
                        qos,
                        retain: true,
                        properties: properties.clone(),
                        topic: TopicName::new("last/words").unwrap(),
                        payload: Bytes::from_static(b"gone"),
                    },
                    due,
                }),
            };
            assert_eq!(read_session(b"w", &session_value(&r)).unwrap(), r);
        }
        assert!(read_session(b"c", &[2, 4, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn a_subscription_keeps_every_option_and_its_identifier() {
        let filter = TopicFilter::new("a/+/#").unwrap();
        let s = Subscription {
            options: SubscriptionOptions {
                qos: QoS::ExactlyOnce,
                no_local: true,
                retain_as_published: true,
                retain_handling: RetainHandling::DoNotSend,
            },
            identifier: Some(268_435_455),
        };
        let key = subscription_key("c", filter.as_str());
        let (client_id, f, back) =
            read_subscription(&key, &subscription_value(&filter, &s)).unwrap();
        assert_eq!((&*client_id, f, back), ("c", filter, s));
    }

    #[test]
    fn a_delivery_keeps_where_it_stands_and_what_it_was_sent_with() {
        let message = Arc::new(Message {
            topic: TopicName::new("a/b").unwrap(),
            payload: Bytes::from_static(b"x"),
            qos: QoS::ExactlyOnce,
            retain: false,
            properties: Properties::new(),
            expires_at: None,
            publisher: None,
        });
        for (state, shared) in [
            (Held::Queued, None),
            (Held::Published(7), Some("$share/g/a/+")),
            (Held::Released(65_535), None),
        ] {
            let d = StoredDelivery {
                delivery: crate::engine::Delivery {
                    message: message.clone(),
                    qos: QoS::AtLeastOnce,
                    retain: true,
                    subscription_ids: vec![1, 268_435_455],
                    shared: shared.map(|f| TopicFilter::new(f).unwrap()),
                    seq: 9,
                },
                expires_at: None,
            };
            let (back_state, back) = read_delivery(&delivery_value(state, &d)).unwrap();
            assert_eq!(back_state, state);
            let b = &back.delivery;
            assert_eq!(
                (b.qos, b.retain, &b.subscription_ids),
                (QoS::AtLeastOnce, true, &vec![1, 268_435_455])
            );
            assert_eq!(b.shared, d.delivery.shared);
            assert_eq!(&b.message.payload[..], b"x");
        }
        let mut broken = delivery_value(
            Held::Published(3),
            &StoredDelivery {
                delivery: crate::engine::Delivery {
                    message,
                    qos: QoS::AtLeastOnce,
                    retain: false,
                    subscription_ids: vec![],
                    shared: None,
                    seq: 1,
                },
                expires_at: None,
            },
        );
        broken[2..4].copy_from_slice(&[0, 0]);
        assert!(
            read_delivery(&broken).is_err(),
            "in flight with identifier 0"
        );
        assert!(read_delivery(&broken[..10]).is_err());
    }

    #[test]
    fn a_message_keeps_its_properties_and_expiry() {
        let mut properties = Properties::new();
        properties.push(Property::ContentType("text/plain".into()));
        properties.push(Property::UserProperty(("k".into(), "v".into())));
        let stored = StoredMessage {
            message: Arc::new(Message {
                topic: TopicName::new("a/b").unwrap(),
                payload: Bytes::from_static(b"hello"),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: properties.clone(),
                expires_at: None,
                publisher: None,
            }),
            expires_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000)),
        };
        let back = read_message(&message_value(&stored)).unwrap();
        assert_eq!(back.expires_at, stored.expires_at);
        let m = back.message;
        assert_eq!((m.topic.as_str(), &m.payload[..]), ("a/b", &b"hello"[..]));
        assert_eq!(
            (m.qos, m.retain, &m.properties),
            (QoS::AtLeastOnce, true, &properties)
        );
        assert!(read_message(&[0; 5]).is_err());
        assert!(read_message(&[0; 12]).is_err());
    }
}
