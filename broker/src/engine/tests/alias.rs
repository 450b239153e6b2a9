//! Topic aliases in both directions.

use super::*;

#[test]
fn inbound_topic_alias_is_set_then_used() {
    let mut h = Harness::new();
    let sub = h.client(V5, "sub");
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "long/topic/name", QoS::AtMostOnce);
    let mut p = Publish::new(TopicName::new("long/topic/name").unwrap(), "1");
    p.properties.push(Property::TopicAlias(3));
    h.send(publisher, Packet::Publish(p));
    let mut p = Publish::new(TopicName::empty(), "2");
    p.properties.push(Property::TopicAlias(3));
    h.send(publisher, Packet::Publish(p));
    let got: Vec<_> = h.recv_all(sub);
    assert_eq!(got.len(), 2);
    assert!(matches!(&got[1], Packet::Publish(p) if &*p.topic == "long/topic/name"));
}

#[test]
fn inbound_topic_alias_errors() {
    let mut h = Harness::new();
    let publisher = h.client(V5, "pub");
    let mut p = Publish::new(TopicName::new("t").unwrap(), "x");
    p.properties.push(Property::TopicAlias(65));
    h.send(publisher, Packet::Publish(p));
    assert_eq!(
        disconnect_reason(h.recv(publisher)),
        ReasonCode::TOPIC_ALIAS_INVALID
    );

    let publisher = h.client(V5, "pub2");
    let mut p = Publish::new(TopicName::empty(), "x");
    p.properties.push(Property::TopicAlias(1));
    h.send(publisher, Packet::Publish(p));
    assert_eq!(
        disconnect_reason(h.recv(publisher)),
        ReasonCode::PROTOCOL_ERROR
    );
}

#[test]
fn outbound_topic_aliases_for_clients_that_allow_them() {
    let mut h = Harness::new();
    let mut c = Connect::new(V5, "sub");
    c.properties.push(Property::TopicAliasMaximum(1));
    let (sub, _) = h.connect_with(c);
    let publisher = h.client(V5, "pub");
    h.subscribe(sub, "#", QoS::AtMostOnce);
    h.publish(publisher, "a", "1", QoS::AtMostOnce, 0);
    h.publish(publisher, "a", "2", QoS::AtMostOnce, 0);
    h.publish(publisher, "b", "3", QoS::AtMostOnce, 0);
    let first = h.recv_publish(sub);
    assert_eq!(
        (&*first.topic, first.properties.get(PropertyId::TopicAlias)),
        ("a", Some(&Property::TopicAlias(1)))
    );
    let second = h.recv_publish(sub);
    assert_eq!(
        (
            &*second.topic,
            second.properties.get(PropertyId::TopicAlias)
        ),
        ("", Some(&Property::TopicAlias(1)))
    );
    let third = h.recv_publish(sub);
    assert_eq!(
        &*third.topic, "b",
        "no alias beyond the client's maximum [MQTT-3.1.2-26]"
    );
    assert!(third.properties.get(PropertyId::TopicAlias).is_none());
}
