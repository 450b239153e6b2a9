//! The ways from connections to the engine task: two bounded channels.
//!
//! - **events**, in the order connections read them: everything a connection reads, its
//!   opening and closing, reloads and the shutdown. Each event carries the time it happened
//!   (for input, when its bytes were read), which the engine is given as its clock and
//!   which orders a round's events.
//! - **priority**: what must not wait behind a burst of publications: the acknowledgements a
//!   subscriber sends for messages it was given (PUBACK, PUBREC, PUBCOMP), and a writer's word
//!   that its connection drained. The engine task takes all of these before each round of
//!   events, so a subscriber's window refills while publishers flood the other channel. An
//!   acknowledgement may overtake PUBLISHes its own client sent before it: it belongs to
//!   another flow, and nothing in MQTT orders the two.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::sync::oneshot;

use super::outbox::Outbox;
use super::stamp::Arriving;
use crate::auth::Security;
use crate::engine::store::StoredDelivery;
use crate::engine::{Answer, AuthDecision, Command, ConnId, ConnInfo, Input, Outcome};
use crate::router::SubscriberId;

/// What connection tasks and the server tell the engine task.
pub(crate) enum Event {
    Open(ConnId, Box<ConnInfo>, Arc<Outbox>),
    Input(ConnId, Input),
    /// Acknowledgements of deliveries one read brought, sent ahead together (priority only).
    Acks(ConnId, Vec<Input>),
    Shutdown(oneshot::Sender<()>),
    /// The files of `[auth]` were read again (SIGHUP): new authenticator and ACL.
    Security(Box<Security>),
    /// The store has written the changes of every round up to this one (see `commit`).
    Committed(u64),
    /// The store failed: nothing more can be promised (see `commit`).
    StoreFailed(String),
    /// The store went over its size limit (true), or back under it.
    StoreFull(bool),
    /// Queued messages of a kept session read back from the store (see `Output::Load`).
    Loaded(SubscriberId, Vec<(u64, StoredDelivery)>),
    /// A command of the admin API (see `http::api`), and where its outcome goes.
    Command(Command, oneshot::Sender<Outcome>),
    /// The hooks' answer to question `.1` about connection `.0` (priority only; see `hooks`).
    Answer(ConnId, u64, Answer),
    /// The decision of authentication check `.1` of connection `.0`, run on a blocking
    /// thread (priority only; see `engine_task::run_check`).
    Checked(ConnId, u64, AuthDecision),
}

/// An event, when it happened, and the ticket of the wake of the read that brought it (0
/// for anything else; see `stamp`).
pub(crate) struct Stamped {
    pub at: Instant,
    pub ticket: u64,
    pub event: Event,
}

/// The sending ends, one pair shared by every connection.
#[derive(Clone)]
pub(crate) struct ToEngine {
    events: mpsc::Sender<Stamped>,
    priority: mpsc::Sender<Stamped>,
    /// Readers woken and not yet done handing over what they read (see `stamp`).
    pub arriving: Arc<Arriving>,
}

/// The receiving ends, the engine task's.
pub(crate) struct FromConnections {
    pub events: mpsc::Receiver<Stamped>,
    pub priority: mpsc::Receiver<Stamped>,
    pub arriving: Arc<Arriving>,
}

/// Room in each channel before senders wait: a slow engine slows readers down instead of
/// growing a queue.
const CAPACITY: usize = 4096;

/// A new pair of channels.
pub(crate) fn channels() -> (ToEngine, FromConnections) {
    let (events, events_rx) = mpsc::channel(CAPACITY);
    let (priority, priority_rx) = mpsc::channel(CAPACITY);
    let arriving = Arc::new(Arriving::default());
    (
        ToEngine {
            events,
            priority,
            arriving: arriving.clone(),
        },
        FromConnections {
            events: events_rx,
            priority: priority_rx,
            arriving,
        },
    )
}

impl ToEngine {
    /// Sends `event`, which happened at `at`, in order with everything else; the future gives
    /// false once the engine has stopped.
    pub fn send(&self, event: Event, at: Instant) -> Sending<'_> {
        self.send_read(event, at, 0)
    }

    /// Sends `event`, read at `at` in a read woken with `ticket`, in order.
    pub fn send_read(&self, event: Event, at: Instant, ticket: u64) -> Sending<'_> {
        send(&self.events, Stamped { at, ticket, event })
    }

    /// A sender of events ahead of the ordered ones, for a thread of the server's own (the
    /// store's commit thread), which does not keep the ordered channel open.
    pub fn priority_sender(&self) -> mpsc::Sender<Stamped> {
        self.priority.clone()
    }

    /// Sends `event` ahead of the ordered events (see the module's text for what may).
    pub fn send_priority(&self, event: Event, at: Instant) -> Sending<'_> {
        let ticket = 0;
        send(&self.priority, Stamped { at, ticket, event })
    }
}

/// Sends on `channel`. The channel almost always has room, and then the event is sent before
/// this returns. The wait for room is a large future, so it is boxed: what an awaiting caller
/// stores is a pointer, not the event and a channel future in every connection.
fn send(channel: &mpsc::Sender<Stamped>, event: Stamped) -> Sending<'_> {
    match channel.try_send(event) {
        Ok(()) => Sending::Done(true),
        Err(TrySendError::Full(event)) => {
            Sending::Waiting(Box::pin(async move { channel.send(event).await.is_ok() }))
        }
        Err(TrySendError::Closed(_)) => Sending::Done(false),
    }
}

/// An event on its way to the engine: sent (or refused) already, or waiting for room.
pub(crate) enum Sending<'a> {
    Done(bool),
    Waiting(Pin<Box<dyn Future<Output = bool> + Send + 'a>>),
}

impl Future for Sending<'_> {
    type Output = bool;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        match self.get_mut() {
            Sending::Done(sent) => Poll::Ready(*sent),
            Sending::Waiting(wait) => wait.as_mut().poll(cx),
        }
    }
}
