//! `paho-rust-v3` and `paho-rust-v5`: the Eclipse Paho Rust client (paho-mqtt 0.14, Paho C
//! underneath), through its synchronous `Client` API.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use mqtt::PropertyCode as P;
use paho_mqtt as mqtt;

use crate::client::{check_qos, Conn, ConnectOpts, Library, Msg, Props, OP_TIMEOUT};

/// Paho C stops its background threads when its last client is destroyed, waiting up to a
/// second for them: one never-connected client kept for the whole process makes every other
/// client's drop immediate.
fn keep_threads_alive() -> Result<()> {
    static KEEPER: OnceLock<mqtt::AsyncClient> = OnceLock::new();
    if KEEPER.get().is_none() {
        let keeper = mqtt::CreateOptionsBuilder::new()
            .server_uri("tcp://127.0.0.1:1")
            .client_id("tern-interop-keeper")
            .persistence(mqtt::PersistenceType::None)
            .create_client()?;
        let _ = KEEPER.set(keeper);
    }
    Ok(())
}

pub struct Paho {
    pub v5: bool,
}

struct PahoConn {
    cli: mqtt::Client,
    rx: mqtt::SyncReceiver<Option<mqtt::Message>>,
    session_present: bool,
    v5: bool,
}

fn to_paho(p: &Props) -> Result<mqtt::Properties> {
    let mut props = mqtt::Properties::new();
    for (k, v) in &p.user {
        props.push_string_pair(P::UserProperty, k, v)?;
    }
    if let Some(ct) = &p.content_type {
        props.push_string(P::ContentType, ct)?;
    }
    if let Some(rt) = &p.response_topic {
        props.push_string(P::ResponseTopic, rt)?;
    }
    if let Some(cd) = &p.correlation {
        props.push_binary(P::CorrelationData, cd.clone())?;
    }
    if let Some(pfi) = p.payload_format {
        props.push_byte(P::PayloadFormatIndicator, pfi)?;
    }
    if let Some(e) = p.expiry {
        props.push_u32(P::MessageExpiryInterval, e)?;
    }
    if let Some(a) = p.topic_alias {
        props.push_u16(P::TopicAlias, a)?;
    }
    Ok(props)
}

fn from_paho(p: &mqtt::Properties) -> Props {
    Props {
        user: p.user_iter().collect(),
        content_type: p.get_string(P::ContentType),
        response_topic: p.get_string(P::ResponseTopic),
        correlation: p.get_binary(P::CorrelationData),
        payload_format: p.get(P::PayloadFormatIndicator).and_then(|v| v.get_byte()),
        expiry: p.get(P::MessageExpiryInterval).and_then(|v| v.get_u32()),
        topic_alias: p.get(P::TopicAlias).and_then(|v| v.get_u16()),
        sub_ids: p
            .iter(P::SubscriptionIdentifier)
            .filter_map(|v| v.get_int())
            .map(|i| i as u32)
            .collect(),
    }
}

impl Library for Paho {
    fn name(&self) -> &'static str {
        if self.v5 {
            "paho-rust-v5"
        } else {
            "paho-rust-v3"
        }
    }
    fn v5(&self) -> bool {
        self.v5
    }
    fn connect(&self, host: &str, port: u16, o: &ConnectOpts) -> Result<Box<dyn Conn>> {
        let version = if self.v5 {
            mqtt::MQTT_VERSION_5
        } else {
            mqtt::MQTT_VERSION_3_1_1
        };
        keep_threads_alive()?;
        let create = mqtt::CreateOptionsBuilder::new()
            .server_uri(format!("tcp://{host}:{port}"))
            .client_id(&o.client_id)
            .persistence(mqtt::PersistenceType::None)
            .mqtt_version(version)
            .finalize();
        let mut cli = mqtt::Client::new(create)?;
        cli.set_timeout(OP_TIMEOUT);
        // Before connecting: a resumed session's messages may come right after the CONNACK.
        let rx = cli.start_consuming();
        let mut b = mqtt::ConnectOptionsBuilder::with_mqtt_version(version);
        b.keep_alive_interval(Duration::from_secs(o.keep_alive.into()))
            .connect_timeout(OP_TIMEOUT);
        if self.v5 {
            b.clean_start(o.clean);
            if let Some(e) = o.session_expiry {
                let mut props = mqtt::Properties::new();
                props.push_u32(P::SessionExpiryInterval, e)?;
                b.properties(props);
            }
        } else {
            b.clean_session(o.clean);
        }
        if let Some((user, pass)) = &o.credentials {
            b.user_name(user).password(pass.as_bytes());
        }
        if let Some((topic, payload)) = &o.will {
            b.will_message(mqtt::Message::new(topic, payload.clone(), 1));
        }
        let rsp = cli.connect(b.finalize())?;
        let session_present = rsp
            .connect_response()
            .context("no connect response")?
            .session_present;
        Ok(Box::new(PahoConn {
            cli,
            rx,
            session_present,
            v5: self.v5,
        }))
    }
}

impl Conn for PahoConn {
    fn session_present(&self) -> bool {
        self.session_present
    }

    fn subscribe(&mut self, filter: &str, qos: u8, sub_id: Option<u32>) -> Result<u8> {
        let qos = i32::from(check_qos(qos)?);
        let result = if self.v5 {
            let mut props = mqtt::Properties::new();
            if let Some(id) = sub_id {
                props.push_int(P::SubscriptionIdentifier, id as i32)?;
            }
            let opts = mqtt::SubscribeOptions::default();
            self.cli.subscribe_with_options(filter, qos, opts, props)
        } else {
            if sub_id.is_some() {
                bail!("subscription identifiers need MQTT 5");
            }
            self.cli.subscribe(filter, qos)
        };
        match result {
            Ok(rsp) => Ok(rsp.subscribe_response().context("no SUBACK code")? as u8),
            // Paho reports a single refused filter as a failure of the request.
            Err(mqtt::Error::ReasonCode(rc, _)) => Ok(rc as u8),
            Err(e) => Err(e.into()),
        }
    }

    fn unsubscribe(&mut self, filter: &str) -> Result<()> {
        self.cli.unsubscribe(filter)?;
        Ok(())
    }

    fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: u8,
        retain: bool,
        props: &Props,
    ) -> Result<()> {
        let mut b = mqtt::MessageBuilder::new()
            .topic(topic)
            .payload(payload)
            .qos(i32::from(check_qos(qos)?))
            .retained(retain);
        if *props != Props::default() {
            if !self.v5 {
                bail!("publish properties need MQTT 5");
            }
            b = b.properties(to_paho(props)?);
        }
        self.cli.publish(b.finalize())?;
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<Msg>> {
        Ok(match self.rx.recv_timeout(timeout) {
            Ok(Some(m)) => Some(Msg {
                topic: m.topic().to_owned(),
                qos: m.qos() as u8,
                retain: m.retained(),
                payload: m.payload().to_vec(),
                props: from_paho(m.properties()),
            }),
            // `None` is the consumer's "connection lost" marker.
            Ok(None) | Err(_) => None,
        })
    }

    fn is_connected(&mut self) -> bool {
        self.cli.is_connected()
    }

    fn disconnect(self: Box<Self>) -> Result<()> {
        self.cli.stop_consuming();
        self.cli.disconnect(None)?;
        Ok(())
    }
}
