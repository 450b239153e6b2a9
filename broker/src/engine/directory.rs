//! What the admin API lists and what it asks for.
//!
//! A [`Directory`] is the engine's clients, subscriptions and retained messages at one
//! moment. The engine task takes one at most once a second, and only while someone reads the
//! API (see `server::http`): the API never asks the engine per request. A [`Command`]
//! (disconnect a client, delete a session or a retained message, publish) is an event into
//! the engine like any other input, applied in arrival order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use bytestring::ByteString;

use super::message::Message;
use super::store::Change;
use super::Engine;
use crate::codec::{Properties, Protocol, QoS, ReasonCode, TopicFilter, TopicName};

/// The clients, subscriptions and retained messages, at one moment.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// Every session, online or offline, by client identifier.
    pub clients: Vec<ClientEntry>,
    /// Every subscription of every session.
    pub subscriptions: Vec<SubscriptionEntry>,
    /// Every retained message, by topic.
    pub retained: Vec<RetainedEntry>,
}

/// A session and, when online, its connection.
#[derive(Clone, Debug)]
pub struct ClientEntry {
    pub client_id: ByteString,
    /// The user name it logged in with, if any (while online).
    pub username: Option<ByteString>,
    pub protocol: Protocol,
    /// The client's address (while online; absent over a Unix socket).
    pub address: Option<SocketAddr>,
    /// When its connection was opened, if it is online.
    pub connected_since: Option<SystemTime>,
    /// The keep alive in force, in seconds (while online).
    pub keep_alive: u16,
    /// Session Expiry Interval, in seconds (`u32::MAX`: never).
    pub session_expiry: u32,
    /// QoS 1/2 messages sent and not yet acknowledged.
    pub inflight: usize,
    /// Messages waiting in its queue.
    pub queued: usize,
    pub subscriptions: usize,
}

/// One subscription.
#[derive(Clone, Debug)]
pub struct SubscriptionEntry {
    pub client_id: ByteString,
    pub filter: TopicFilter,
    pub qos: QoS,
    pub no_local: bool,
    pub retain_as_published: bool,
    pub retain_handling: u8,
    pub identifier: Option<u32>,
}

/// One retained message.
#[derive(Clone, Debug)]
pub struct RetainedEntry {
    pub topic: TopicName,
    pub payload: Bytes,
    pub qos: QoS,
    /// What is left of its Message Expiry Interval, if it has one.
    pub expires_in: Option<Duration>,
}

/// What the admin API asks of the engine.
#[derive(Clone, Debug)]
pub enum Command {
    /// Close the client's connection (5.0: DISCONNECT 0x98 Administrative action); its
    /// session stays as its expiry says, and its will is published.
    Disconnect(ByteString),
    /// End the client's session (closing its connection first, as `Disconnect`).
    DeleteSession(ByteString),
    /// Clear the retained message of a topic.
    DeleteRetained(TopicName),
    /// Publish a message as the broker.
    Publish {
        topic: TopicName,
        payload: Bytes,
        qos: QoS,
        retain: bool,
    },
}

/// What became of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// No such client, session or retained message.
    NotFound,
}

impl Engine {
    /// The clients, subscriptions and retained messages now. Walks everything: the
    /// transport takes one at most once a second, and only while the admin API is read.
    pub fn directory(&self, now: Instant) -> Directory {
        // The engine's start as a wall-clock time: connections count their opening from it.
        let started = self.wall_clock(now) - self.uptime(now);
        let mut d = Directory::default();
        for s in self.sessions.values() {
            let conn = s.conn.and_then(|c| self.conns.get(&c));
            let (messages, _) = s.held();
            d.clients.push(ClientEntry {
                client_id: s.client_id.clone(),
                username: conn.and_then(|c| c.rights.username.clone()),
                protocol: s.protocol,
                address: conn.and_then(|c| c.info.peer),
                connected_since: conn.map(|c| started + Duration::from_secs(u64::from(c.opened))),
                keep_alive: conn
                    .and_then(|c| c.keep_alive)
                    .map_or(0, |k| u16::try_from(k.as_secs()).unwrap_or(u16::MAX)),
                session_expiry: s.expiry_interval,
                inflight: s.inflight.len(),
                queued: messages,
                subscriptions: s.filters().count(),
            });
            for (filter, sub) in s.subscriptions() {
                d.subscriptions.push(SubscriptionEntry {
                    client_id: s.client_id.clone(),
                    filter: filter.clone(),
                    qos: sub.options.qos,
                    no_local: sub.options.no_local,
                    retain_as_published: sub.options.retain_as_published,
                    retain_handling: sub.options.retain_handling as u8,
                    identifier: sub.identifier,
                });
            }
        }
        d.clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        d.subscriptions.sort_by(|a, b| {
            (&a.client_id, a.filter.as_str()).cmp(&(&b.client_id, b.filter.as_str()))
        });
        self.retained.for_each(|_, m| {
            if m.is_expired(now) {
                return;
            }
            d.retained.push(RetainedEntry {
                topic: m.topic.clone(),
                payload: m.payload.clone(),
                qos: m.qos,
                expires_in: m.expires_at.map(|at| at.saturating_duration_since(now)),
            });
        });
        d.retained
            .sort_by(|a, b| a.topic.as_str().cmp(b.topic.as_str()));
        d
    }

    /// Carries out a command of the admin API.
    pub fn command(&mut self, command: Command, now: Instant) -> Outcome {
        match command {
            Command::Disconnect(client_id) => match self.online_conn(&client_id) {
                Some(conn) => {
                    tracing::info!(%client_id, "disconnected by an administrator");
                    self.close_with(
                        conn,
                        ReasonCode::ADMINISTRATIVE_ACTION,
                        Some("disconnected by an administrator".into()),
                        now,
                    );
                    Outcome::Done
                }
                None => Outcome::NotFound,
            },
            Command::DeleteSession(client_id) => {
                let Some(&sid) = self.by_client_id.get(&client_id) else {
                    return Outcome::NotFound;
                };
                if let Some(conn) = self.online_conn(&client_id) {
                    self.close_with(
                        conn,
                        ReasonCode::ADMINISTRATIVE_ACTION,
                        Some("session deleted by an administrator".into()),
                        now,
                    );
                }
                // Closing may have ended it already (a session that ends with its connection).
                if self.sessions.contains_key(&sid) {
                    self.end_session(sid, now);
                }
                tracing::info!(%client_id, "session deleted by an administrator");
                Outcome::Done
            }
            Command::DeleteRetained(topic) => match self.retained.remove(topic.as_str()) {
                Some(_) => {
                    if self.settings.persistence {
                        self.record(Change::DeleteRetained(topic));
                    }
                    Outcome::Done
                }
                None => Outcome::NotFound,
            },
            Command::Publish {
                topic,
                payload,
                qos,
                retain,
            } => {
                let message = Message {
                    topic,
                    payload,
                    qos,
                    retain,
                    properties: Properties::new(),
                    expires_at: None,
                    publisher: None,
                };
                self.route(Arc::new(message), now);
                Outcome::Done
            }
        }
    }

    /// The connection of an online client.
    fn online_conn(&self, client_id: &str) -> Option<super::ConnId> {
        let sid = self.by_client_id.get(client_id)?;
        self.sessions.get(sid)?.conn
    }
}
