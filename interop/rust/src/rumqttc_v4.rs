//! `rumqttc-v4`: rumqttc's 3.1.1 API (`rumqttc::AsyncClient`).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use rumqttc::{
    AsyncClient, Event, LastWill, MqttOptions, Outgoing, Packet, QoS, SubscribeReasonCode,
};

use crate::client::{check_qos, runtime, Conn, ConnectOpts, Library, Msg, Props};
use crate::pump::{Ctl, EventLoop, Pump, Seen};

/// Large enough for the 256 KiB scenario.
const MAX_PACKET: usize = 1 << 20;

pub struct RumqttcV4;

struct V4Conn {
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

impl Library for RumqttcV4 {
    fn name(&self) -> &'static str {
        "rumqttc-v4"
    }
    fn v5(&self) -> bool {
        false
    }
    fn connect(&self, host: &str, port: u16, o: &ConnectOpts) -> Result<Box<dyn Conn>> {
        let mut opts = MqttOptions::new(&o.client_id, host, port);
        opts.set_clean_session(o.clean)
            .set_keep_alive(Duration::from_secs(o.keep_alive.max(1).into()))
            .set_max_packet_size(MAX_PACKET, MAX_PACKET);
        if let Some((user, pass)) = &o.credentials {
            opts.set_credentials(user, pass);
        }
        if let Some((topic, payload)) = &o.will {
            opts.set_last_will(LastWill::new(
                topic,
                payload.clone(),
                QoS::AtLeastOnce,
                false,
            ));
        }
        let (client, eventloop) = AsyncClient::new(opts, 64);
        let (pump, session_present) = Pump::start(eventloop)?;
        Ok(Box::new(V4Conn {
            client,
            pump,
            session_present,
        }))
    }
}

impl Conn for V4Conn {
    fn session_present(&self) -> bool {
        self.session_present
    }

    fn subscribe(&mut self, filter: &str, q: u8, sub_id: Option<u32>) -> Result<u8> {
        if sub_id.is_some() {
            bail!("subscription identifiers need MQTT 5");
        }
        let q = qos(check_qos(q)?);
        runtime().block_on(self.client.subscribe(filter, q))?;
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
        if *props != Props::default() {
            bail!("publish properties need MQTT 5");
        }
        let q = check_qos(q)?;
        runtime().block_on(self.client.publish(topic, qos(q), retain, payload.to_vec()))?;
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

impl EventLoop for rumqttc::EventLoop {
    async fn next(&mut self) -> Seen {
        Seen::Ctl(match self.poll().await {
            Ok(Event::Incoming(Packet::Publish(p))) => {
                return Seen::Msg(Msg {
                    topic: p.topic.clone(),
                    qos: p.qos as u8,
                    retain: p.retain,
                    payload: p.payload.to_vec(),
                    props: Props::default(),
                })
            }
            Ok(Event::Incoming(Packet::ConnAck(c))) => Ctl::ConnAck(c.session_present),
            Ok(Event::Incoming(Packet::SubAck(s))) => Ctl::SubAck(
                s.return_codes
                    .iter()
                    .map(|c| match c {
                        SubscribeReasonCode::Success(q) => *q as u8,
                        SubscribeReasonCode::Failure => 0x80,
                    })
                    .collect(),
            ),
            Ok(Event::Incoming(Packet::UnsubAck(_))) => Ctl::UnsubAck,
            Ok(Event::Incoming(Packet::PubAck(_))) => Ctl::PubAck,
            Ok(Event::Incoming(Packet::PubComp(_))) => Ctl::PubComp,
            Ok(Event::Outgoing(Outgoing::Publish(_))) => Ctl::Sent,
            Ok(Event::Outgoing(Outgoing::Disconnect)) => Ctl::DisconnectSent,
            Ok(_) => return Seen::Nothing,
            // A refused CONNACK ends up here too (ConnectionRefused).
            Err(e) => Ctl::Closed(e.to_string()),
        })
    }
}
