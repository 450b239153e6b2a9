//! An application message as an embedding application (and the gRPC API) sees it: a topic,
//! a payload, QoS, the retain flag and the MQTT 5.0 properties that travel with a message.

use bytes::Bytes;

use crate::codec::{Properties, Property, Publish, QoS, TopicName};

/// A message to publish, or one delivered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// The topic name: no wildcards, not empty.
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
    /// Publishing: keep it as the topic's retained message. Delivered: the message was
    /// retained before this subscription was made (or the subscription keeps the flag as
    /// published).
    pub retain: bool,
    pub properties: MessageProperties,
}

/// The properties of a PUBLISH an application may set (MQTT 5.0, section 3.3.2.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageProperties {
    /// Payload Format Indicator: the payload is UTF-8 text.
    pub payload_is_utf8: bool,
    /// Message Expiry Interval, in seconds: after it, the message is not delivered.
    pub message_expiry_interval: Option<u32>,
    pub content_type: Option<String>,
    pub response_topic: Option<String>,
    pub correlation_data: Option<Bytes>,
    /// User Properties, in order; a name may repeat.
    pub user_properties: Vec<(String, String)>,
    /// Delivered only: the identifiers of the subscriptions that matched.
    pub subscription_identifiers: Vec<u32>,
}

impl Message {
    /// A QoS 0 message without properties.
    pub fn new(topic: impl Into<String>, payload: impl Into<Bytes>) -> Message {
        Message {
            topic: topic.into(),
            payload: payload.into(),
            ..Message::default()
        }
    }

    /// The same message at `qos`.
    #[must_use]
    pub fn with_qos(mut self, qos: QoS) -> Message {
        self.qos = qos;
        self
    }

    /// The same message, to be retained.
    #[must_use]
    pub fn retained(mut self) -> Message {
        self.retain = true;
        self
    }

    /// The PUBLISH that carries it (packet identifier left for the sender to set), or why
    /// it cannot be sent.
    pub(crate) fn to_publish(&self) -> Result<Publish, String> {
        let topic = TopicName::new(self.topic.as_str())
            .map_err(|v| format!("topic {:?}: {v}", self.topic))?;
        if topic.as_str().is_empty() {
            return Err("the topic is empty".into());
        }
        let p = &self.properties;
        let mut properties = Properties::new();
        if p.payload_is_utf8 {
            if std::str::from_utf8(&self.payload).is_err() {
                return Err("the payload is said to be UTF-8 and is not".into());
            }
            properties.push(Property::PayloadFormatIndicator(1));
        }
        if let Some(v) = p.message_expiry_interval {
            properties.push(Property::MessageExpiryInterval(v));
        }
        if let Some(v) = &p.content_type {
            properties.push(Property::ContentType(v.as_str().into()));
        }
        if let Some(v) = &p.response_topic {
            let name =
                TopicName::new(v.as_str()).map_err(|e| format!("response topic {v:?}: {e}"))?;
            if name.as_str().is_empty() {
                return Err("the response topic is empty".into());
            }
            properties.push(Property::ResponseTopic(v.as_str().into()));
        }
        if let Some(v) = &p.correlation_data {
            properties.push(Property::CorrelationData(v.clone()));
        }
        for (k, v) in &p.user_properties {
            properties.push(Property::user(k.as_str(), v.as_str()));
        }
        Ok(Publish {
            qos: self.qos,
            retain: self.retain,
            properties,
            ..Publish::new(topic, self.payload.clone())
        })
    }

    /// The message a PUBLISH received from the broker carries.
    pub(crate) fn from_publish(publish: Publish) -> Message {
        let mut p = MessageProperties::default();
        for property in publish.properties.iter() {
            match property {
                Property::PayloadFormatIndicator(v) => p.payload_is_utf8 = *v == 1,
                Property::MessageExpiryInterval(v) => p.message_expiry_interval = Some(*v),
                Property::ContentType(v) => p.content_type = Some(v.to_string()),
                Property::ResponseTopic(v) => p.response_topic = Some(v.to_string()),
                Property::CorrelationData(v) => p.correlation_data = Some(v.clone()),
                Property::UserProperty((k, v)) => {
                    p.user_properties.push((k.to_string(), v.to_string()))
                }
                Property::SubscriptionIdentifier(v) => p.subscription_identifiers.push(*v),
                _ => {}
            }
        }
        Message {
            topic: publish.topic.as_str().to_owned(),
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            properties: p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_survive_the_trip_through_a_publish() {
        let message = Message {
            topic: "a/b".into(),
            payload: Bytes::from_static(b"text"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: MessageProperties {
                payload_is_utf8: true,
                message_expiry_interval: Some(30),
                content_type: Some("text/plain".into()),
                response_topic: Some("replies/1".into()),
                correlation_data: Some(Bytes::from_static(b"\x01\x02")),
                user_properties: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
                subscription_identifiers: vec![],
            },
        };
        let back = Message::from_publish(message.to_publish().unwrap());
        assert_eq!(back, message);
    }

    #[test]
    fn a_message_that_cannot_be_sent_says_why() {
        let wild = Message::new("a/#", "x").to_publish().unwrap_err();
        assert!(wild.contains("a/#"), "{wild}");
        assert!(Message::new("", "x").to_publish().is_err());
        let mut not_text = Message::new("a", vec![0xff]);
        not_text.properties.payload_is_utf8 = true;
        assert!(not_text.to_publish().unwrap_err().contains("UTF-8"));
    }
}
