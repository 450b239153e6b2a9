//! Packets from fields, and fields from packets.
//!
//! [`build`] turns a scenario's `PUBLISH topic=a qos=1 ...` into a packet of the codec's model
//! and [`describe`] turns a received packet back into the same `key=value` vocabulary, so that a
//! scenario asserts on exactly the fields it names. Field names are the specification's:
//! properties are its names in snake case (`message_expiry_interval`, `topic_alias`,
//! `user_property=k:v`), reason codes are `reason` (or `reasons` for SUBACK/UNSUBACK, as a
//! comma-separated list), and 3.x CONNACK and SUBACK codes are described as the bytes on the
//! wire, not as their 5.0 equivalents.
//!
//! The encoder refuses what the protocol forbids, so a packet that breaks a rule is written in
//! raw bytes instead (see [`crate::fields`]).

use anyhow::{anyhow, bail, Result};
use bytes::Bytes;
use tern::codec::{
    Ack, Auth, ConnAck, Connect, Disconnect, Packet, PacketId, Properties, Property, PropertyId,
    Protocol, Publish, QoS, ReasonCode, RetainHandling, Subscribe, SubscriptionOptions,
    TopicFilter, TopicName, Unsubscribe, Will,
};

use crate::fields::{bytes_value, encode_hex, number_of, Fields};
use crate::scope::Scope;

/// What building a packet needs besides its fields.
pub struct Context<'a> {
    pub protocol: Protocol,
    pub scope: &'a Scope,
    /// The client identifier CONNECT uses when the fields give none.
    pub default_client_id: &'a str,
}

/// A property's field name: its specification name in snake case.
pub fn property_key(id: PropertyId) -> String {
    id.name().to_ascii_lowercase().replace(' ', "_")
}

fn property_id(key: &str) -> Option<PropertyId> {
    PropertyId::ALL
        .iter()
        .copied()
        .find(|id| property_key(*id) == key)
}

/// A property from its field value. Topic-valued properties are scoped.
fn property(id: PropertyId, value: &str, scope: &Scope) -> Result<Property> {
    use Property as P;
    use PropertyId as I;
    let key = property_key(id);
    let n8 = || number_of::<u8>(&key, value);
    let n16 = || number_of::<u16>(&key, value);
    let n32 = || number_of::<u32>(&key, value);
    let text = || value.into();
    let bin = || bytes_value(value).map(Bytes::from);
    Ok(match id {
        I::PayloadFormatIndicator => P::PayloadFormatIndicator(n8()?),
        I::MessageExpiryInterval => P::MessageExpiryInterval(n32()?),
        I::ContentType => P::ContentType(text()),
        I::ResponseTopic => P::ResponseTopic(scope.topic(value).into()),
        I::CorrelationData => P::CorrelationData(bin()?),
        I::SubscriptionIdentifier => P::SubscriptionIdentifier(n32()?),
        I::SessionExpiryInterval => P::SessionExpiryInterval(n32()?),
        I::AssignedClientIdentifier => P::AssignedClientIdentifier(text()),
        I::ServerKeepAlive => P::ServerKeepAlive(n16()?),
        I::AuthenticationMethod => P::AuthenticationMethod(text()),
        I::AuthenticationData => P::AuthenticationData(bin()?),
        I::RequestProblemInformation => P::RequestProblemInformation(n8()?),
        I::WillDelayInterval => P::WillDelayInterval(n32()?),
        I::RequestResponseInformation => P::RequestResponseInformation(n8()?),
        I::ResponseInformation => P::ResponseInformation(text()),
        I::ServerReference => P::ServerReference(text()),
        I::ReasonString => P::ReasonString(text()),
        I::ReceiveMaximum => P::ReceiveMaximum(n16()?),
        I::TopicAliasMaximum => P::TopicAliasMaximum(n16()?),
        I::TopicAlias => P::TopicAlias(n16()?),
        I::MaximumQoS => P::MaximumQoS(n8()?),
        I::RetainAvailable => P::RetainAvailable(n8()?),
        I::UserProperty => {
            let (k, v) = value
                .split_once(':')
                .ok_or_else(|| anyhow!("user_property={value}: write it as name:value"))?;
            P::user(k, v)
        }
        I::MaximumPacketSize => P::MaximumPacketSize(n32()?),
        I::WildcardSubscriptionAvailable => P::WildcardSubscriptionAvailable(n8()?),
        I::SubscriptionIdentifierAvailable => P::SubscriptionIdentifierAvailable(n8()?),
        I::SharedSubscriptionAvailable => P::SharedSubscriptionAvailable(n8()?),
    })
}

fn qos(key: &str, value: &str) -> Result<QoS> {
    QoS::from_u8(number_of(key, value)?).ok_or_else(|| anyhow!("{key}={value}: QoS is 0, 1 or 2"))
}

fn flag(key: &str, value: &str) -> Result<bool> {
    Ok(number_of::<u8>(key, value)? != 0)
}

fn packet_id(value: &str) -> Result<PacketId> {
    PacketId::new(number_of("id", value)?).ok_or_else(|| anyhow!("id=0 is not a packet id"))
}

fn reason(value: &str) -> Result<ReasonCode> {
    Ok(ReasonCode(number_of("reason", value)?))
}

/// Builds the packet a scenario describes.
pub fn build(kind: &str, fields: &Fields, cx: &Context) -> Result<Packet> {
    let scope = cx.scope;
    let mut props = Properties::new();
    let mut will_props = Properties::new();
    // Keys every packet understands: its properties. `will.` properties belong to the will.
    let mut rest = Vec::new();
    for (key, value) in &fields.0 {
        if let Some(id) = key.strip_prefix("will.").and_then(property_id) {
            will_props.push(property(id, value, scope)?);
        } else if let Some(id) = property_id(key) {
            let p = property(id, value, scope)?;
            if id == PropertyId::WillDelayInterval {
                will_props.push(p);
            } else {
                props.push(p);
            }
        } else {
            rest.push((key.as_str(), value.as_str()));
        }
    }
    let id = || fields.get("id").map(packet_id).unwrap_or(Ok(PacketId::MIN));
    let packet = match kind {
        "CONNECT" => {
            let client_id =
                scope.client_id(fields.get("client_id").unwrap_or(cx.default_client_id));
            let mut c = Connect::new(cx.protocol, client_id);
            c.properties = props;
            let mut will_topic = None;
            let mut will = (QoS::AtMostOnce, false, Bytes::new());
            for (key, value) in rest {
                match key {
                    "client_id" => {}
                    "clean_start" | "clean_session" => c.clean_start = flag(key, value)?,
                    "keep_alive" => c.keep_alive = number_of(key, value)?,
                    "username" => c.username = Some(value.into()),
                    "password" => c.password = Some(bytes_value(value)?.into()),
                    "will_topic" => will_topic = Some(scope.topic(value)),
                    "will_qos" => will.0 = qos(key, value)?,
                    "will_retain" => will.1 = flag(key, value)?,
                    "will_payload" => will.2 = bytes_value(value)?.into(),
                    _ => bail!("CONNECT has no field `{key}`"),
                }
            }
            if let Some(topic) = will_topic {
                c.will = Some(Will {
                    qos: will.0,
                    retain: will.1,
                    properties: will_props,
                    topic: TopicName::new(topic).map_err(|v| anyhow!("will_topic: {v}"))?,
                    payload: will.2,
                });
            } else if !will_props.is_empty() {
                bail!("will properties without a will_topic");
            }
            Packet::Connect(Box::new(c))
        }
        "PUBLISH" => {
            let topic = fields.get("topic").unwrap_or("");
            let topic = TopicName::new(scope.topic(topic)).map_err(|v| anyhow!("topic: {v}"))?;
            let mut p = Publish::new(topic, Bytes::new());
            p.properties = props;
            for (key, value) in rest {
                match key {
                    "topic" | "id" => {}
                    "qos" => p.qos = qos(key, value)?,
                    "retain" => p.retain = flag(key, value)?,
                    "dup" => p.dup = flag(key, value)?,
                    "payload" => p.payload = bytes_value(value)?.into(),
                    "payload_size" => {
                        p.payload = vec![b'x'; number_of(key, value)?].into();
                    }
                    _ => bail!("PUBLISH has no field `{key}`"),
                }
            }
            if p.qos != QoS::AtMostOnce {
                p.packet_id = Some(id()?);
            }
            Packet::Publish(p)
        }
        "PUBACK" | "PUBREC" | "PUBREL" | "PUBCOMP" => {
            let mut a = Ack::new(id()?);
            a.properties = props;
            for (key, value) in rest {
                match key {
                    "id" => {}
                    "reason" => a.reason = reason(value)?,
                    _ => bail!("{kind} has no field `{key}`"),
                }
            }
            match kind {
                "PUBACK" => Packet::PubAck(a),
                "PUBREC" => Packet::PubRec(a),
                "PUBREL" => Packet::PubRel(a),
                _ => Packet::PubComp(a),
            }
        }
        "SUBSCRIBE" => {
            let mut filters: Vec<(TopicFilter, SubscriptionOptions)> = Vec::new();
            for (key, value) in rest {
                if key == "filter" {
                    let f = TopicFilter::new(scope.filter(value))
                        .map_err(|v| anyhow!("filter={value}: {v}"))?;
                    filters.push((f, SubscriptionOptions::default()));
                    continue;
                }
                let Some((_, options)) = filters.last_mut() else {
                    if key == "id" {
                        continue;
                    }
                    bail!("SUBSCRIBE: `{key}` must follow a filter=");
                };
                match key {
                    "id" => {}
                    "qos" => options.qos = qos(key, value)?,
                    "no_local" => options.no_local = flag(key, value)?,
                    "retain_as_published" => options.retain_as_published = flag(key, value)?,
                    "retain_handling" => {
                        options.retain_handling = match number_of::<u8>(key, value)? {
                            0 => RetainHandling::SendAtSubscribe,
                            1 => RetainHandling::SendIfNew,
                            2 => RetainHandling::DoNotSend,
                            _ => bail!("retain_handling is 0, 1 or 2 (write 3 in raw bytes)"),
                        }
                    }
                    _ => bail!("SUBSCRIBE has no field `{key}`"),
                }
            }
            Packet::Subscribe(Subscribe {
                packet_id: id()?,
                properties: props,
                filters,
            })
        }
        "UNSUBSCRIBE" => {
            let mut filters = Vec::new();
            for (key, value) in rest {
                match key {
                    "id" => {}
                    "filter" => filters.push(
                        TopicFilter::new(scope.filter(value))
                            .map_err(|v| anyhow!("filter={value}: {v}"))?,
                    ),
                    _ => bail!("UNSUBSCRIBE has no field `{key}`"),
                }
            }
            Packet::Unsubscribe(Unsubscribe {
                packet_id: id()?,
                properties: props,
                filters,
            })
        }
        "PINGREQ" => Packet::PingReq,
        "DISCONNECT" | "AUTH" => {
            let mut code = ReasonCode::SUCCESS;
            for (key, value) in rest {
                match key {
                    "reason" => code = reason(value)?,
                    _ => bail!("{kind} has no field `{key}`"),
                }
            }
            if kind == "AUTH" {
                Packet::Auth(Auth {
                    reason: code,
                    properties: props,
                })
            } else {
                let mut d = Disconnect::new(code);
                d.properties = props;
                Packet::Disconnect(d)
            }
        }
        other => bail!("a client does not send `{other}` (write it in raw bytes)"),
    };
    Ok(packet)
}

/// A received packet as fields: `type`, then what the packet holds.
pub fn describe(packet: &Packet, protocol: Protocol, scope: &Scope) -> Vec<(String, String)> {
    let mut out = vec![("type".to_owned(), packet.packet_type().name().to_owned())];
    let mut put = |k: &str, v: String| out.push((k.to_owned(), v));
    let code = |c: ReasonCode| format!("0x{:02x}", c.0);
    let props = match packet {
        Packet::ConnAck(ConnAck {
            session_present,
            code: c,
            properties,
        }) => {
            put("session_present", u8::from(*session_present).to_string());
            let wire = if protocol.is_v5() {
                c.0
            } else {
                c.to_v3_connack()
            };
            put("reason", format!("0x{wire:02x}"));
            Some(properties)
        }
        Packet::Publish(p) => {
            put("topic", scope.unscope_topic(p.topic.as_str()).to_owned());
            put("qos", (p.qos as u8).to_string());
            put("retain", u8::from(p.retain).to_string());
            put("dup", u8::from(p.dup).to_string());
            if let Some(id) = p.packet_id {
                put("id", id.to_string());
            }
            put("payload", text_or_hex(&p.payload));
            put("payload_size", p.payload.len().to_string());
            Some(&p.properties)
        }
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            put("id", a.packet_id.to_string());
            put("reason", code(a.reason));
            Some(&a.properties)
        }
        Packet::SubAck(s) => {
            put("id", s.packet_id.to_string());
            let reasons: Vec<String> = s
                .reasons
                .iter()
                .map(|r| {
                    let wire = if protocol.is_v5() {
                        r.0
                    } else {
                        r.to_v3_suback()
                    };
                    format!("0x{wire:02x}")
                })
                .collect();
            put("reasons", reasons.join(","));
            Some(&s.properties)
        }
        Packet::UnsubAck(u) => {
            put("id", u.packet_id.to_string());
            let reasons: Vec<String> = u.reasons.iter().map(|r| code(*r)).collect();
            put("reasons", reasons.join(","));
            Some(&u.properties)
        }
        Packet::Disconnect(d) => {
            put("reason", code(d.reason));
            Some(&d.properties)
        }
        Packet::Auth(a) => {
            put("reason", code(a.reason));
            Some(&a.properties)
        }
        Packet::Connect(_)
        | Packet::Subscribe(_)
        | Packet::Unsubscribe(_)
        | Packet::PingReq
        | Packet::PingResp => None,
    };
    if let Some(props) = props {
        describe_properties(props, scope, &mut out);
    }
    out
}

fn describe_properties(props: &Properties, scope: &Scope, out: &mut Vec<(String, String)>) {
    // Repeatable properties are gathered into one comma-separated value.
    let mut users = Vec::new();
    let mut sub_ids = Vec::new();
    for p in props.iter() {
        let value = match p {
            Property::UserProperty((k, v)) => {
                users.push(format!("{k}:{v}"));
                continue;
            }
            Property::SubscriptionIdentifier(n) => {
                sub_ids.push(n.to_string());
                continue;
            }
            Property::ResponseTopic(t) => scope.unscope_topic(t).to_owned(),
            Property::CorrelationData(b) | Property::AuthenticationData(b) => text_or_hex(b),
            Property::ContentType(s)
            | Property::AssignedClientIdentifier(s)
            | Property::AuthenticationMethod(s)
            | Property::ResponseInformation(s)
            | Property::ServerReference(s)
            | Property::ReasonString(s) => s.to_string(),
            Property::PayloadFormatIndicator(n)
            | Property::RequestProblemInformation(n)
            | Property::RequestResponseInformation(n)
            | Property::MaximumQoS(n)
            | Property::RetainAvailable(n)
            | Property::WildcardSubscriptionAvailable(n)
            | Property::SubscriptionIdentifierAvailable(n)
            | Property::SharedSubscriptionAvailable(n) => n.to_string(),
            Property::ServerKeepAlive(n)
            | Property::ReceiveMaximum(n)
            | Property::TopicAliasMaximum(n)
            | Property::TopicAlias(n) => n.to_string(),
            Property::MessageExpiryInterval(n)
            | Property::SessionExpiryInterval(n)
            | Property::WillDelayInterval(n)
            | Property::MaximumPacketSize(n) => n.to_string(),
        };
        out.push((property_key(p.id()), value));
    }
    if !users.is_empty() {
        out.push(("user_property".into(), users.join(",")));
    }
    if !sub_ids.is_empty() {
        out.push(("subscription_identifier".into(), sub_ids.join(",")));
    }
}

/// Printable UTF-8 as it is; anything else as `hex:...`.
fn text_or_hex(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.chars().any(|c| c.is_control()) => s.to_owned(),
        _ => format!("hex:{}", encode_hex(bytes)),
    }
}

/// Compares expected fields with a description. `key=-` means absent; `key=$var` captures.
/// Numbers compare by value (`reason=0x87` equals `reason=135`); lists element by element.
pub fn compare(
    expected: &Fields,
    actual: &[(String, String)],
    vars: &mut std::collections::HashMap<String, String>,
) -> std::result::Result<(), String> {
    let get = |key: &str| {
        actual
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    for (key, want) in &expected.0 {
        let got = get(key);
        if want == "-" {
            if let Some(got) = got {
                return Err(format!("{key} should be absent, is {got}"));
            }
            continue;
        }
        let Some(got) = got else {
            return Err(format!("{key} is absent, expected {want}"));
        };
        if let Some(var) = crate::fields::variable(want) {
            match vars.get(var) {
                None => {
                    vars.insert(var.to_owned(), got.to_owned());
                    continue;
                }
                Some(bound) if same(bound, got) => continue,
                Some(bound) => return Err(format!("{key} is {got}, expected ${var} = {bound}")),
            }
        }
        if !same(want, got) {
            return Err(format!("{key} is {got}, expected {want}"));
        }
    }
    Ok(())
}

fn same(want: &str, got: &str) -> bool {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.split(',').collect(), got.split(',').collect());
    if w.len() > 1 && w.len() == g.len() {
        return w.iter().zip(&g).all(|(a, b)| same_one(a, b));
    }
    same_one(want, got)
}

fn same_one(want: &str, got: &str) -> bool {
    use crate::fields::number;
    if want == got {
        return true;
    }
    // `low..=high`: a number in that range, for a value that depends on how long the
    // scenario took (a Message Expiry Interval less the time the message waited).
    if let Some((low, high)) = want.split_once("..=") {
        return match (number(low), number(high), number(got)) {
            (Some(low), Some(high), Some(got)) => (low..=high).contains(&got),
            _ => false,
        };
    }
    match (number(want), number(got)) {
        (Some(a), Some(b)) => a == b,
        _ => match (want.strip_prefix("hex:"), got.strip_prefix("hex:")) {
            (Some(a), None) => {
                bytes_value(want).ok().as_deref() == Some(got.as_bytes()) || a == got
            }
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn values_compare_by_number_list_and_range() {
        assert!(same("0x87", "135"));
        assert!(same("1,2", "0x01,2"));
        assert!(!same("1,2", "2,1"));
        assert!(same("88..=98", "98"));
        assert!(same("88..=98", "88"));
        assert!(!same("88..=98", "99"));
        assert!(!same("88..=98", "87"));
        assert!(!same("88..=98", "hello"));
    }
}
