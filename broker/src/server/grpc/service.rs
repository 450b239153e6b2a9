//! The `tern.v1.Messages` service: each call acts through an in-process MQTT 5.0 client
//! (`crate::embed::client`) logged in with the caller's credentials, so that the broker's
//! authentication, ACL, flow control and slow-subscriber rules apply to gRPC callers exactly
//! as to MQTT clients.
//!
//! - `Publish` goes through a client kept per identity (user name and password): a login,
//!   and its password hashing, happen once rather than per call.
//! - `Subscribe` opens a client of its own for the life of the stream, with manual
//!   acknowledgements: a QoS 1 or 2 delivery stays unacknowledged (and counts against the
//!   stream's window) until `Ack` names it.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

use super::proto;
use super::proto::messages_server::Messages;
use crate::codec::{QoS, ReasonCode};
use crate::server::inline::client::{connect, Client, ClientError, ClientOptions, Delivery};
use crate::server::inline::message::{Message, MessageProperties};
use crate::server::Connector;

/// Identities with a publishing client kept at once; one more evicts one of them.
const MAX_PUBLISHERS: usize = 256;
/// Replies a Subscribe stream holds before its pump waits for the caller to read.
const STREAM_BUFFER: usize = 16;

/// Who calls: the credentials of the call's metadata.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Identity {
    username: Option<String>,
    password: Option<Bytes>,
}

pub(super) struct Service {
    connector: Connector,
    publishers: tokio::sync::Mutex<HashMap<Identity, Client>>,
    streams: Arc<Mutex<HashMap<String, Arc<Unacked>>>>,
}

/// A Subscribe stream's deliveries waiting for `Ack`.
#[derive(Default)]
struct Unacked {
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, Delivery>>,
}

impl Service {
    pub(super) fn new(connector: Connector) -> Service {
        Service {
            connector,
            publishers: Default::default(),
            streams: Default::default(),
        }
    }

    /// The publishing client of `identity`, logged in now if it has none (or lost it).
    async fn publisher(&self, identity: &Identity) -> Result<Client, Status> {
        let mut publishers = self.publishers.lock().await;
        if let Some(client) = publishers.get(identity) {
            if !client.is_closed() {
                return Ok(client.clone());
            }
        }
        let options = ClientOptions {
            client_id: client_id("grpc-pub"),
            username: identity.username.clone(),
            password: identity.password.clone(),
            ..ClientOptions::default()
        };
        let (client, _, _) = connect(self.connector.connect(), options)
            .await
            .map_err(|e| login_status(e, identity))?;
        if publishers.len() >= MAX_PUBLISHERS {
            let evicted = publishers.keys().next().cloned();
            if let Some(old) = evicted.and_then(|k| publishers.remove(&k)) {
                let _ = old.disconnect().await;
            }
        }
        publishers.insert(identity.clone(), client.clone());
        Ok(client)
    }
}

type SubscribeStream = Pin<Box<dyn Stream<Item = Result<proto::SubscribeReply, Status>> + Send>>;

#[tonic::async_trait]
impl Messages for Service {
    async fn publish(
        &self,
        request: Request<proto::PublishRequest>,
    ) -> Result<Response<proto::PublishReply>, Status> {
        let identity = identity(request.metadata())?;
        let request = request.into_inner();
        let message = Message {
            topic: request.topic,
            payload: request.payload.into(),
            qos: qos(request.qos)?,
            retain: request.retain,
            properties: properties(request.properties.unwrap_or_default()),
        };
        let client = self.publisher(&identity).await?;
        let code = match client.publish(&message).await {
            Ok(code) => code,
            // The kept client was closed under us (the broker restarted its session, a
            // takeover): once more with a new one.
            Err(ClientError::Closed(_)) => {
                let client = self.publisher(&identity).await?;
                client.publish(&message).await.map_err(status)?
            }
            Err(e) => return Err(status(e)),
        };
        Ok(Response::new(proto::PublishReply {
            reason_code: code.0.into(),
            reason: code.name().unwrap_or("").to_owned(),
        }))
    }

    type SubscribeStream = SubscribeStream;

    async fn subscribe(
        &self,
        request: Request<proto::SubscribeRequest>,
    ) -> Result<Response<SubscribeStream>, Status> {
        let identity = identity(request.metadata())?;
        let request = request.into_inner();
        let max_qos = qos(request.qos)?;
        if request.filters.is_empty() {
            return Err(Status::invalid_argument(
                "at least one topic filter is needed",
            ));
        }
        let window = match request.window {
            0 => 64,
            n @ 1..=65_535 => n as u16,
            n => {
                return Err(Status::invalid_argument(format!(
                    "window {n}: at most 65535"
                )))
            }
        };
        let options = ClientOptions {
            client_id: client_id("grpc-sub"),
            username: identity.username.clone(),
            password: identity.password.clone(),
            receive_maximum: window,
            manual_acks: true,
            ..ClientOptions::default()
        };
        let (client, mut deliveries, _) = connect(self.connector.connect(), options)
            .await
            .map_err(|e| login_status(e, &identity))?;
        let filters: Vec<(&str, QoS)> = (request.filters.iter())
            .map(|f| (f.as_str(), max_qos))
            .collect();
        let codes = match client.subscribe(&filters).await {
            Ok(codes) => codes,
            Err(e) => {
                let _ = client.disconnect().await;
                return Err(status(e));
            }
        };
        let stream_id = client_id("s");
        let unacked = Arc::new(Unacked::default());
        self.streams
            .lock()
            .unwrap()
            .insert(stream_id.clone(), unacked.clone());
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let subscribed = proto::SubscribeReply {
            kind: Some(proto::subscribe_reply::Kind::Subscribed(
                proto::Subscribed {
                    stream_id: stream_id.clone(),
                    reason_codes: codes.iter().map(|c| u32::from(c.0)).collect(),
                },
            )),
        };
        let _ = tx.send(Ok(subscribed)).await;
        let streams = self.streams.clone();
        tokio::spawn(async move {
            loop {
                let delivery = tokio::select! {
                    delivery = deliveries.recv() => delivery,
                    // The caller cancelled, or went away.
                    _ = tx.closed() => break,
                };
                let Some(delivery) = delivery else {
                    let why = match deliveries.ended().flatten() {
                        Some(code) => format!("the broker ended the stream: {}", reason(code)),
                        None => "the broker ended the stream".to_owned(),
                    };
                    let _ = tx.send(Err(Status::unavailable(why))).await;
                    break;
                };
                let reply = to_reply(&delivery, &unacked);
                if delivery.needs_ack() {
                    let id = reply.ack_id;
                    unacked.waiting.lock().unwrap().insert(id, delivery);
                }
                let reply = proto::SubscribeReply {
                    kind: Some(proto::subscribe_reply::Kind::Delivery(reply)),
                };
                if tx.send(Ok(reply)).await.is_err() {
                    break;
                }
            }
            streams.lock().unwrap().remove(&stream_id);
            let _ = client.disconnect().await;
        });
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        Ok(Response::new(Box::pin(stream)))
    }

    async fn ack(
        &self,
        request: Request<proto::AckRequest>,
    ) -> Result<Response<proto::AckReply>, Status> {
        let request = request.into_inner();
        let unacked = self
            .streams
            .lock()
            .unwrap()
            .get(&request.stream_id)
            .cloned();
        let Some(unacked) = unacked else {
            return Err(Status::not_found(format!(
                "no open stream {:?}",
                request.stream_id
            )));
        };
        let acked: Vec<Delivery> = {
            let mut waiting = unacked.waiting.lock().unwrap();
            (request.ack_ids.iter())
                .filter_map(|id| waiting.remove(id))
                .collect()
        };
        let acknowledged = acked.len() as u32;
        for delivery in acked {
            delivery.ack().await;
        }
        Ok(Response::new(proto::AckReply { acknowledged }))
    }
}

/// The gRPC form of a delivery, with the acknowledgement id it is given.
fn to_reply(delivery: &Delivery, unacked: &Unacked) -> proto::Delivery {
    let m = &delivery.message;
    let p = &m.properties;
    let ack_id = match delivery.needs_ack() {
        true => unacked.next.fetch_add(1, Ordering::Relaxed) + 1,
        false => 0,
    };
    proto::Delivery {
        topic: m.topic.clone(),
        payload: m.payload.to_vec(),
        qos: m.qos as u32,
        retain: m.retain,
        properties: Some(proto::Properties {
            payload_is_utf8: p.payload_is_utf8,
            message_expiry_interval: p.message_expiry_interval,
            content_type: p.content_type.clone(),
            response_topic: p.response_topic.clone(),
            correlation_data: p.correlation_data.as_ref().map(|d| d.to_vec()),
            user_properties: (p.user_properties.iter())
                .map(|(name, value)| proto::UserProperty {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            subscription_identifiers: p.subscription_identifiers.clone(),
        }),
        ack_id,
    }
}

fn properties(p: proto::Properties) -> MessageProperties {
    MessageProperties {
        payload_is_utf8: p.payload_is_utf8,
        message_expiry_interval: p.message_expiry_interval,
        content_type: p.content_type,
        response_topic: p.response_topic,
        correlation_data: p.correlation_data.map(Bytes::from),
        user_properties: (p.user_properties.into_iter())
            .map(|u| (u.name, u.value))
            .collect(),
        subscription_identifiers: Vec::new(),
    }
}

fn qos(value: u32) -> Result<QoS, Status> {
    u8::try_from(value)
        .ok()
        .and_then(QoS::from_u8)
        .ok_or_else(|| Status::invalid_argument(format!("qos {value}: 0, 1 or 2")))
}

/// The credentials of a call: `username` and `password` metadata, both optional.
fn identity(metadata: &MetadataMap) -> Result<Identity, Status> {
    let text = |key: &str| match metadata.get(key) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.to_owned()))
            .map_err(|_| Status::invalid_argument(format!("{key}: not printable ASCII"))),
    };
    Ok(Identity {
        username: text("username")?,
        password: text("password")?.map(Bytes::from),
    })
}

/// A fresh identifier: `prefix-` and 16 random hex digits (short enough for any
/// `max_client_id_len` the broker allows).
fn client_id(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        static FALLBACK: AtomicU64 = AtomicU64::new(1);
        bytes = FALLBACK.fetch_add(1, Ordering::Relaxed).to_be_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}

fn reason(code: ReasonCode) -> String {
    match code.name() {
        Some(name) => format!("{:#04x} {name}", code.0),
        None => format!("{:#04x}", code.0),
    }
}

/// The gRPC status for a failed login: a caller who gave no credentials and was refused
/// is told to authenticate, whatever the broker's reason code.
fn login_status(e: ClientError, identity: &Identity) -> Status {
    match e {
        ClientError::Refused(code) if identity.username.is_none() => Status::unauthenticated(
            format!("the broker refused an anonymous login: {}", reason(code)),
        ),
        e => status(e),
    }
}

/// The gRPC status for a client error: refusals of the login by what they mean.
fn status(e: ClientError) -> Status {
    match e {
        ClientError::Refused(code) => {
            let message = format!("the broker refused the login: {}", reason(code));
            match code.0 {
                0x86 | 0x8C => Status::unauthenticated(message),
                0x87 | 0x8A => Status::permission_denied(message),
                0x97 | 0x9F => Status::resource_exhausted(message),
                _ => Status::unavailable(message),
            }
        }
        ClientError::Invalid(why) => Status::invalid_argument(why),
        e @ ClientError::Closed(_) => Status::unavailable(e.to_string()),
        e @ ClientError::Protocol(_) => Status::internal(e.to_string()),
    }
}
