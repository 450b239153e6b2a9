//! `rumqttc-v5`: rumqttc's 5.0 API (`rumqttc::v5::AsyncClient`).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use rumqttc::v5::mqttbytes::v5::{
    LastWill, Packet, PublishProperties, SubscribeProperties, SubscribeReasonCode as Rc,
};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use rumqttc::Outgoing;

use crate::client::{check_qos, runtime, Conn, ConnectOpts, Library, Msg, Props};
use crate::pump::{Ctl, EventLoop, Pump, Seen};

/// Large enough for the 256 KiB scenario (rumqttc's default incoming limit is 10 KiB).
const MAX_PACKET: u32 = 1 << 20;

pub struct RumqttcV5;

struct V5Conn {
    client: AsyncClient,
    pump: Pump,
    session_present: bool,
}

fn qos(q: u8) -> QoS {
    match q {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

fn reason(c: &Rc) -> u8 {
    match c {
        Rc::Success(q) => *q as u8,
        Rc::Failure | Rc::Unspecified => 0x80,
        Rc::ImplementationSpecific => 0x83,
        Rc::NotAuthorized => 0x87,
        Rc::TopicFilterInvalid => 0x8F,
        Rc::PkidInUse => 0x91,
        Rc::QuotaExceeded => 0x97,
        Rc::SharedSubscriptionsNotSupported => 0x9E,
        Rc::SubscriptionIdNotSupported => 0xA1,
        Rc::WildcardSubscriptionsNotSupported => 0xA2,
    }
}

fn from_rumqttc(p: Option<PublishProperties>) -> Props {
    let Some(p) = p else {
        return Props::default();
    };
    Props {
        user: p.user_properties,
        content_type: p.content_type,
        response_topic: p.response_topic,
        correlation: p.correlation_data.map(|b| b.to_vec()),
        payload_format: p.payload_format_indicator,
        expiry: p.message_expiry_interval,
        topic_alias: p.topic_alias,
        sub_ids: p
            .subscription_identifiers
            .iter()
            .map(|&i| i as u32)
            .collect(),
    }
}

fn to_rumqttc(p: &Props) -> PublishProperties {
    PublishProperties {
        payload_format_indicator: p.payload_format,
        message_expiry_interval: p.expiry,
        topic_alias: p.topic_alias,
        response_topic: p.response_topic.clone(),
        correlation_data: p.correlation.clone().map(Into::into),
        user_properties: p.user.clone(),
        subscription_identifiers: Vec::new(),
        content_type: p.content_type.clone(),
    }
}

impl Library for RumqttcV5 {
    fn name(&self) -> &'static str {
        "rumqttc-v5"
    }
    fn v5(&self) -> bool {
        true
    }
    /// `MqttOptions::set_keep_alive` asserts at least 5 s in the v5 API.
    fn min_keep_alive(&self) -> u16 {
        5
    }
    fn connect(&self, host: &str, port: u16, o: &ConnectOpts) -> Result<Box<dyn Conn>> {
        let mut opts = MqttOptions::new(&o.client_id, host, port);
        opts.set_clean_start(o.clean)
            .set_keep_alive(Duration::from_secs(o.keep_alive.max(5).into()))
            .set_max_packet_size(Some(MAX_PACKET))
            .set_session_expiry_interval(o.session_expiry);
        if let Some((user, pass)) = &o.credentials {
            opts.set_credentials(user, pass);
        }
        if let Some((topic, payload)) = &o.will {
            let will = LastWill::new(topic, payload.clone(), QoS::AtLeastOnce, false, None);
            opts.set_last_will(will);
        }
        let (client, eventloop) = AsyncClient::new(opts, 64);
        let (pump, session_present) = Pump::start(eventloop)?;
        Ok(Box::new(V5Conn {
            client,
            pump,
            session_present,
        }))
    }
}

impl Conn for V5Conn {
    fn session_present(&self) -> bool {
        self.session_present
    }

    fn subscribe(&mut self, filter: &str, q: u8, sub_id: Option<u32>) -> Result<u8> {
        let q = qos(check_qos(q)?);
        match sub_id {
            Some(id) => {
                let props = SubscribeProperties {
                    id: Some(id as usize),
                    user_properties: Vec::new(),
                };
                runtime().block_on(self.client.subscribe_with_properties(filter, q, props))?
            }
            None => runtime().block_on(self.client.subscribe(filter, q))?,
        }
        match self.pump.wait(|c| matches!(c, Ctl::SubAck(_)))? {
            Ctl::SubAck(codes) => codes.first().copied().context("empty SUBACK"),
            _ => unreachable!(),
        }
    }

    fn unsubscribe(&mut self, filter: &str) -> Result<()> {
        runtime().block_on(self.client.unsubscribe(filter))?;
        self.pump.wait(|c| matches!(c, Ctl::UnsubAck))?;
        Ok(())
    }

    fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        q: u8,
        retain: bool,
        props: &Props,
    ) -> Result<()> {
        let q = check_qos(q)?;
        let payload = payload.to_vec();
        let sent = if *props == Props::default() {
            runtime().block_on(self.client.publish(topic, qos(q), retain, payload))
        } else {
            let p = to_rumqttc(props);
            runtime().block_on(self.client.publish_with_properties(
                topic,
                qos(q),
                retain,
                payload,
                p,
            ))
        };
        if sent.is_err() {
            bail!("rumqttc refused the publish request");
        }
        self.pump.wait_published(q)
    }

    fn recv(&mut self, wait: Duration) -> Result<Option<Msg>> {
        Ok(self.pump.recv(wait))
    }

    fn is_connected(&mut self) -> bool {
        self.pump.is_connected()
    }

    fn disconnect(mut self: Box<Self>) -> Result<()> {
        runtime().block_on(self.client.disconnect())?;
        self.pump.wait(|c| matches!(c, Ctl::DisconnectSent))?;
        Ok(())
    }
}

impl EventLoop for rumqttc::v5::EventLoop {
    async fn next(&mut self) -> Seen {
        Seen::Ctl(match self.poll().await {
            Ok(Event::Incoming(Packet::Publish(p))) => {
                return Seen::Msg(Msg {
                    topic: String::from_utf8_lossy(&p.topic).into_owned(),
                    qos: p.qos as u8,
                    retain: p.retain,
                    payload: p.payload.to_vec(),
                    props: from_rumqttc(p.properties),
                })
            }
            Ok(Event::Incoming(Packet::ConnAck(c))) => Ctl::ConnAck(c.session_present),
            Ok(Event::Incoming(Packet::SubAck(s))) => {
                Ctl::SubAck(s.return_codes.iter().map(reason).collect())
            }
            Ok(Event::Incoming(Packet::UnsubAck(_))) => Ctl::UnsubAck,
            Ok(Event::Incoming(Packet::PubAck(_))) => Ctl::PubAck,
            Ok(Event::Incoming(Packet::PubComp(_))) => Ctl::PubComp,
            Ok(Event::Incoming(Packet::Disconnect(d))) => {
                Ctl::Closed(format!("DISCONNECT from the server: {:?}", d.reason_code))
            }
            Ok(Event::Outgoing(Outgoing::Publish(_))) => Ctl::Sent,
            Ok(Event::Outgoing(Outgoing::Disconnect)) => Ctl::DisconnectSent,
            Ok(_) => return Seen::Nothing,
            // A refused CONNACK ends up here too (ConnectionRefused).
            Err(e) => Ctl::Closed(e.to_string()),
        })
    }
}
