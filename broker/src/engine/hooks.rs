//! Hooks: the port through which an application extends the broker without forking it.
//!
//! The engine never waits for a hook. Where a hook decides (a login, a PUBLISH, a
//! SUBSCRIBE), the engine **asks**: it puts the packet aside, emits [`Output::Ask`] with a
//! [`Question`], pauses the connection (`flow`'s pause: the transport takes only the
//! acknowledgements of deliveries from it), and goes on with everyone else. The answer comes
//! back as an input, [`Engine::answer`]; the engine then finishes the packet and replays,
//! in order, what the connection sent meanwhile. Whoever carries out the question (the
//! server's engine task) bounds it with a deadline and answers for a hook that is too slow.
//!
//! Where a hook only watches (sessions, deliveries, drops, wills, retained messages), the
//! engine emits [`Output::Notice`]s and does not wait for anything.
//!
//! The engine asks only what [`Interest`] says the hooks want: a broker without hooks does
//! exactly what it did before, at no cost.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use bytestring::ByteString;

use super::auth::{AuthDecision, Offloaded};
use super::conn::ConnId;
use super::{Engine, Input, Output};
use crate::codec::{Connect, Protocol, Publish, QoS, ReasonCode, Subscribe, TopicFilter};
use crate::router::SubscriberId;

/// What the hooks want the engine to ask and tell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interest {
    /// Ask about every CONNECT (before the broker's own authentication).
    pub connect: bool,
    /// Ask about every PUBLISH a client sends (after the ACL allowed it).
    pub publish: bool,
    /// Ask about every SUBSCRIBE (after the ACL, for the filters it allowed).
    pub subscribe: bool,
    /// Tell of sessions, wills, retained messages and drops.
    pub events: bool,
    /// Tell of every delivery (one notice per message per subscriber: costly).
    pub deliveries: bool,
}

/// Who a question is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    pub client_id: ByteString,
    pub username: Option<ByteString>,
    pub peer: Option<SocketAddr>,
    pub protocol: Protocol,
}

/// What the engine asks the hooks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Question {
    /// May this client connect? Asked before the broker's own authentication (password
    /// file, JWT, SCRAM), which a [`ConnectVerdict::Ignore`] hands the CONNECT on to.
    Connect {
        client: ClientInfo,
        password: Option<Bytes>,
        /// The 5.0 Authentication Method and Data of an enhanced authentication.
        method: Option<ByteString>,
        data: Option<Bytes>,
    },
    /// A connected client asks to authenticate again (MQTT 5.0 AUTH 0x19, section 4.12.1),
    /// with the method it logged in with. Answered as a [`Question::Connect`]: a
    /// [`ConnectVerdict::Continue`] goes on with [`Question::Auth`]; a refusal, or an
    /// `Allow` naming another user, closes the connection with DISCONNECT 0x87; `Ignore`
    /// hands it to the broker's own authentication (SCRAM).
    Reauth {
        client: ClientInfo,
        method: ByteString,
        data: Option<Bytes>,
    },
    /// An AUTH of an enhanced authentication a hook continued ([`ConnectVerdict::Continue`]),
    /// at CONNECT or in a re-authentication.
    Auth {
        client: ClientInfo,
        method: ByteString,
        data: Option<Bytes>,
    },
    /// A client publishes this (topic aliases resolved). The hook may let it through as it
    /// is, changed, or refuse it.
    Publish {
        client: ClientInfo,
        publish: Publish,
    },
    /// A client subscribes to these filters (those the ACL allowed).
    Subscribe {
        client: ClientInfo,
        filters: Vec<(TopicFilter, QoS)>,
    },
}

/// The answer to a [`Question::Connect`] or [`Question::Auth`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectVerdict {
    /// Let the client in, as this user if one is named (replacing the CONNECT's).
    Allow { username: Option<ByteString> },
    /// Refuse with this CONNACK reason (after the failed-login delay).
    Deny(ReasonCode),
    /// Not this hook's to decide: the broker's own authentication decides.
    Ignore,
    /// Enhanced authentication goes on: AUTH 0x18 with this Authentication Data.
    Continue(Option<Bytes>),
}

/// The answer to a [`Question::Publish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublishVerdict {
    /// Route it as it came.
    Allow,
    /// Route this instead (its QoS and packet identifier are kept from the original: the
    /// client's exchange cannot change under it).
    Replace(Publish),
    /// Refuse it: not routed; a 5.0 client gets this reason code in PUBACK or PUBREC, a 3.x
    /// client the normal acknowledgement (as for an ACL refusal, [MQTT-3.3.5-2]). 0x80
    /// Unspecified error means "no decision" (what a missed deadline or a source that does
    /// not answer gives): a 3.x client's QoS 1/2 PUBLISH is then not acknowledged, and its
    /// connection is closed, so that it sends the message again.
    Refuse(ReasonCode),
}

/// An answer, for the question it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Connect(ConnectVerdict),
    Publish(PublishVerdict),
    /// One per filter asked about, in order: `None` lets it through, a code refuses it in
    /// SUBACK.
    Subscribe(Vec<Option<ReasonCode>>),
}

/// What the engine tells the hooks (with [`Interest::events`] or
/// [`Interest::deliveries`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    SessionCreated {
        client_id: ByteString,
    },
    SessionResumed {
        client_id: ByteString,
    },
    /// The session ended: its client disconnected without keeping it, Clean Start replaced
    /// it, or an admin deleted it.
    SessionEnded {
        client_id: ByteString,
    },
    /// A kept session's expiry interval passed without its client.
    SessionExpired {
        client_id: ByteString,
    },
    WillPublished {
        client_id: ByteString,
        topic: ByteString,
    },
    RetainedStored {
        topic: ByteString,
    },
    /// A message was sent to a subscriber.
    Delivered {
        client_id: ByteString,
        topic: ByteString,
        qos: QoS,
    },
    /// Messages were dropped before reaching a session.
    Dropped {
        client_id: ByteString,
        reason: DropReason,
        count: u64,
    },
}

/// Why messages were dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// An offline session's queue was full.
    QueueFull,
    /// The message expired before it could be sent.
    Expired,
    /// The message was larger than the client's Maximum Packet Size.
    TooLarge,
}

/// A question under way on a connection: what waits for the answer, and what the
/// connection sent since, in order.
#[derive(Debug)]
pub(super) struct Asking {
    id: u64,
    pending: Pending,
    backlog: VecDeque<(Input, Instant)>,
}

#[derive(Debug)]
pub(super) enum Pending {
    /// A CONNECT or AUTH whose authentication check runs away from the engine.
    Check(Box<Connect>),
    Connect(Box<Connect>),
    Auth(Box<Connect>),
    Publish(SubscriberId, Publish),
    Subscribe(SubscriberId, Subscribe),
    /// An accepted CONNECT waiting for the connection it takes over (see `takeover`), and
    /// what its CONNACK carries from the authentication.
    Takeover(Box<(Connect, crate::codec::Properties)>),
}

impl Engine {
    /// What the hooks want asked and told.
    pub fn set_interest(&mut self, interest: Interest) {
        self.interest = interest;
    }

    pub(super) fn interest(&self) -> Interest {
        self.interest
    }

    /// Who the client on `conn` is, for a question.
    fn client_info(&self, conn: ConnId, username: Option<ByteString>) -> ClientInfo {
        let c = &self.conns[&conn];
        ClientInfo {
            client_id: c.client_id.clone(),
            username: username.or_else(|| c.rights.username.clone()),
            peer: c.info.peer,
            protocol: c.protocol,
        }
    }

    /// Puts `connect` aside and has `check` run away from the engine (see
    /// [`AuthDecision::Offload`]); the connection is paused until [`Engine::checked`].
    pub(super) fn offload(&mut self, conn: ConnId, connect: Connect, check: Offloaded) {
        let id = self.set_aside(conn, Pending::Check(Box::new(connect)));
        self.out.push(Output::Check { conn, id, check });
    }

    /// The decision of an offloaded check (see [`Output::Check`]). One for a check no longer
    /// waited for (the connection closed) changes nothing.
    pub fn checked(&mut self, conn: ConnId, id: u64, decision: AuthDecision, now: Instant) {
        let Some((pending, backlog)) = self.take_asking(conn, id) else {
            return;
        };
        match (pending, decision) {
            (Pending::Check(connect), AuthDecision::Offload(_)) => {
                tracing::error!(conn = %conn, "an offloaded check offloaded again");
                self.refuse(
                    conn,
                    ReasonCode::IMPLEMENTATION_SPECIFIC_ERROR,
                    "authentication check failed",
                    now,
                );
                drop(connect);
            }
            (Pending::Check(connect), decision) => self.decide(conn, *connect, decision, now),
            (_, decision) => {
                tracing::error!(conn = %conn, ?decision, "a check's decision for a question");
                self.refuse(
                    conn,
                    ReasonCode::IMPLEMENTATION_SPECIFIC_ERROR,
                    "authentication check failed",
                    now,
                );
            }
        }
        self.replay(conn, backlog, now);
    }

    /// What waits on `conn` for the answer `id`, taken; `None` if nothing does (the
    /// connection closed, or this answer is stale).
    pub(super) fn take_asking(
        &mut self,
        conn: ConnId,
        id: u64,
    ) -> Option<(Pending, VecDeque<(Input, Instant)>)> {
        let c = self.conns.get_mut(&conn)?;
        if c.asking.as_ref().is_none_or(|a| a.id != id) {
            return None;
        }
        let asking = c.asking.take()?;
        Some((asking.pending, asking.backlog))
    }

    /// Puts a packet aside until an answer comes (pausing the connection); the answer's id.
    pub(super) fn set_aside(&mut self, conn: ConnId, pending: Pending) -> u64 {
        self.next_question += 1;
        let id = self.next_question;
        let c = self.conns.get_mut(&conn).expect("connection exists");
        c.asking = Some(Box::new(Asking {
            id,
            pending,
            backlog: VecDeque::new(),
        }));
        if !c.paused {
            c.paused = true;
            self.out.push(Output::Pause { conn });
        }
        id
    }

    /// Puts the packet aside and asks; the connection is paused until the answer.
    fn ask(&mut self, conn: ConnId, pending: Pending, question: Question) {
        let id = self.set_aside(conn, pending);
        self.out.push(Output::Ask { conn, id, question });
    }

    /// Asks whether `connect` may log in.
    pub(super) fn ask_connect(&mut self, conn: ConnId, connect: Connect) {
        let (method, data) = auth_fields(&connect.properties);
        let question = Question::Connect {
            client: self.client_info(conn, connect.username.clone()),
            password: connect.password.clone(),
            method,
            data,
        };
        self.ask(conn, Pending::Connect(Box::new(connect)), question);
    }

    /// Asks whether the connected client on `conn` may re-authenticate; `connect` stands
    /// for the exchange (see `reauth`).
    pub(super) fn ask_reauth(&mut self, conn: ConnId, connect: Connect) {
        let (method, data) = auth_fields(&connect.properties);
        let question = Question::Reauth {
            client: self.client_info(conn, None),
            method: method.unwrap_or_default(),
            data,
        };
        self.ask(conn, Pending::Connect(Box::new(connect)), question);
    }

    /// Asks about an AUTH of an exchange a hook continued.
    pub(super) fn ask_auth(&mut self, conn: ConnId, connect: Box<Connect>, data: Option<Bytes>) {
        let (method, _) = auth_fields(&connect.properties);
        let question = Question::Auth {
            client: self.client_info(conn, connect.username.clone()),
            method: method.unwrap_or_default(),
            data,
        };
        self.ask(conn, Pending::Auth(connect), question);
    }

    /// Asks about a PUBLISH the client on `conn` sent.
    pub(super) fn ask_publish(&mut self, conn: ConnId, sid: SubscriberId, publish: Publish) {
        let question = Question::Publish {
            client: self.client_info(conn, None),
            publish: publish.clone(),
        };
        self.ask(conn, Pending::Publish(sid, publish), question);
    }

    /// Asks about a SUBSCRIBE's filters.
    pub(super) fn ask_subscribe(&mut self, conn: ConnId, sid: SubscriberId, sub: Subscribe) {
        let question = Question::Subscribe {
            client: self.client_info(conn, None),
            filters: (sub.filters.iter())
                .map(|(f, o)| (f.clone(), o.qos))
                .collect(),
        };
        self.ask(conn, Pending::Subscribe(sid, sub), question);
    }

    /// Keeps an input of a connection waiting for an answer, unless it may go ahead (the
    /// acknowledgement of a delivery, the end of the connection). Gives it back if it may.
    pub(super) fn wait_for_answer(
        &mut self,
        conn: ConnId,
        input: Input,
        now: Instant,
    ) -> Option<Input> {
        let c = self.conns.get_mut(&conn)?;
        let Some(asking) = &mut c.asking else {
            return Some(input);
        };
        use crate::codec::Packet;
        match input {
            Input::Packet(Packet::PubAck(_) | Packet::PubRec(_) | Packet::PubComp(_))
            | Input::Closed
            | Input::Malformed(_) => Some(input),
            input => {
                asking.backlog.push_back((input, now));
                None
            }
        }
    }

    /// The answer to question `id` about `conn`. An answer to a question no longer asked
    /// (the connection closed, or was answered for already) changes nothing.
    pub fn answer(&mut self, conn: ConnId, id: u64, answer: Answer, now: Instant) {
        let Some((pending, backlog)) = self.take_asking(conn, id) else {
            return;
        };
        match (pending, answer) {
            (Pending::Connect(connect), Answer::Connect(verdict)) => {
                self.connect_answered(conn, *connect, verdict, false, now)
            }
            (Pending::Auth(connect), Answer::Connect(verdict)) => {
                self.connect_answered(conn, *connect, verdict, true, now)
            }
            (Pending::Publish(sid, publish), Answer::Publish(verdict)) => {
                let publish = match verdict {
                    PublishVerdict::Allow => Ok(publish),
                    PublishVerdict::Replace(mut new) => {
                        new.qos = publish.qos;
                        new.packet_id = publish.packet_id;
                        new.dup = publish.dup;
                        Ok(new)
                    }
                    PublishVerdict::Refuse(code) => Err((publish, code)),
                };
                self.publish_answered(conn, sid, publish, now);
            }
            (Pending::Subscribe(sid, sub), Answer::Subscribe(refusals)) => {
                self.subscribe_answered(conn, sid, sub, &refusals, now)
            }
            (pending, answer) => {
                // A hook adapter bug: refuse what was asked about rather than guess.
                tracing::error!(conn = %conn, ?answer, "a hook answered another question");
                match pending {
                    Pending::Connect(_)
                    | Pending::Auth(_)
                    | Pending::Check(_)
                    | Pending::Takeover(_) => self.refuse(
                        conn,
                        ReasonCode::IMPLEMENTATION_SPECIFIC_ERROR,
                        "a hook answered another question",
                        now,
                    ),
                    Pending::Publish(sid, p) => self.publish_answered(
                        conn,
                        sid,
                        Err((p, ReasonCode::IMPLEMENTATION_SPECIFIC_ERROR)),
                        now,
                    ),
                    Pending::Subscribe(sid, sub) => {
                        let all = vec![
                            Some(ReasonCode::IMPLEMENTATION_SPECIFIC_ERROR);
                            sub.filters.len()
                        ];
                        self.subscribe_answered(conn, sid, sub, &all, now)
                    }
                }
            }
        }
        self.replay(conn, backlog, now);
    }

    /// Applies, in order, what the connection sent while a question was under way, until
    /// another question stops it; then lets the connection go on.
    pub(super) fn replay(
        &mut self,
        conn: ConnId,
        mut backlog: VecDeque<(Input, Instant)>,
        now: Instant,
    ) {
        while let Some((input, _)) = backlog.pop_front() {
            let Some(c) = self.conns.get_mut(&conn) else {
                return; // Closed on the way: the rest is dropped with it.
            };
            if let Some(asking) = &mut c.asking {
                // Another question: what is left waits for its answer.
                asking.backlog.push_back((input, now));
                asking.backlog.extend(backlog);
                return;
            }
            self.handle(conn, input, now);
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        // Flow control may hold the publisher back too: it resumes it when it is done.
        if c.asking.is_none() && c.held.is_none() && c.paused {
            c.paused = false;
            self.out.push(Output::Resume { conn });
        }
    }

    /// Tells the hooks `notice`, if they listen to events.
    pub(super) fn notice(&mut self, notice: impl FnOnce() -> Notice) {
        if self.interest.events {
            self.out.push(Output::Notice(notice()));
        }
    }

    /// Tells the hooks that `count` messages for session `sid` were dropped.
    pub(super) fn notice_drop(&mut self, sid: SubscriberId, reason: DropReason, count: u64) {
        if !self.interest.events || count == 0 {
            return;
        }
        let client_id = (self.sessions.get(&sid))
            .map(|s| s.client_id.clone())
            .unwrap_or_default();
        self.out.push(Output::Notice(Notice::Dropped {
            client_id,
            reason,
            count,
        }));
    }

    /// Tells the hooks that a message went to session `sid`'s client, if they want to know.
    pub(super) fn notice_delivery(&mut self, sid: SubscriberId, topic: &ByteString, qos: QoS) {
        if !self.interest.deliveries {
            return;
        }
        let client_id = (self.sessions.get(&sid))
            .map(|s| s.client_id.clone())
            .unwrap_or_default();
        self.out.push(Output::Notice(Notice::Delivered {
            client_id,
            topic: topic.clone(),
            qos,
        }));
    }
}

/// The Authentication Method and Data of a CONNECT's properties.
fn auth_fields(properties: &crate::codec::Properties) -> (Option<ByteString>, Option<Bytes>) {
    use crate::codec::Property;
    let mut method = None;
    let mut data = None;
    for p in properties.iter() {
        match p {
            Property::AuthenticationMethod(m) => method = Some(m.clone()),
            Property::AuthenticationData(d) => data = Some(d.clone()),
            _ => {}
        }
    }
    (method, data)
}
