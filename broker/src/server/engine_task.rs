//! The task that owns the engine: it feeds it events and timeouts, and hands what it
//! produces to the connections.
//!
//! Work goes in rounds: one event, and up to 256 more already waiting, so that one round of
//! output serves many events. The frames the engine produces are staged per connection as
//! each event is handled (the engine's output stays small and hot in cache), and at the end
//! of the round each connection's batch is handed to its outbox under one lock, which wakes
//! its writer once. Only connections with frames this round have a batch.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use ahash::AHashMap;
use tokio::sync::mpsc;

use super::outbox::{Frames, Outbox};
use super::Event;
use crate::engine::policy::Authorizer;
use crate::engine::{ConnId, Engine, Input, Output};

/// Events taken after the first of a round, at most.
const ROUND: usize = 256;

/// Runs the engine until every sender of `events` is gone.
pub(super) async fn run(mut engine: Engine, mut events: mpsc::Receiver<Event>) {
    let mut d = Dispatcher::default();
    loop {
        let timeout = engine.poll_timeout();
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                let now = clock(&mut engine);
                d.apply(&mut engine, event, now);
                for _ in 0..ROUND {
                    match events.try_recv() {
                        Ok(event) => d.apply(&mut engine, event, now),
                        Err(_) => break,
                    }
                }
            }
            _ = sleep_until(timeout), if timeout.is_some() => {
                let now = clock(&mut engine);
                engine.handle_timeout(now);
            }
        }
        d.end_round(&mut engine);
    }
}

/// Reads the clock for a round: the instant the engine is given, and the wall-clock time it
/// is, which the engine counts wall-clock times from (it reads no clock itself).
fn clock(engine: &mut Engine) -> Instant {
    let now = Instant::now();
    engine.set_wall_clock(now, SystemTime::now());
    now
}

/// The connections' outboxes, and the frames staged for them this round.
#[derive(Default)]
struct Dispatcher {
    outboxes: AHashMap<ConnId, Arc<Outbox>>,
    /// The frames of this round, for the connections that have some.
    staged: AHashMap<ConnId, Frames>,
    /// Connections whose outbox overflowed, with the bytes that were waiting.
    overflowed: Vec<(ConnId, usize)>,
    /// The room a new batch starts with: the average batch of the last round. Each batch is
    /// handed over to its writer, so without this every round would grow every batch anew.
    batch_hint: usize,
}

/// Room `staged` keeps after a round; a burst that took more gives it back.
const STAGED_ROOM: usize = 1024;
/// The largest room a new batch starts with.
const MAX_BATCH_HINT: usize = 1024;

impl Dispatcher {
    fn apply(&mut self, engine: &mut Engine, event: Event, now: Instant) {
        match event {
            Event::Open(conn, info, outbox) => {
                self.outboxes.insert(conn, outbox);
                engine.open_with(conn, *info, now);
            }
            Event::Input(conn, input) => engine.handle(conn, input, now),
            Event::Shutdown(done) => {
                engine.shutdown(now);
                let _ = done.send(());
            }
            Event::Security(security) => {
                let security = *security;
                engine.replace_authenticator(security.authenticator);
                engine.set_acl(security.acl.map(|acl| acl as Arc<dyn Authorizer>));
            }
        }
        self.collect(engine);
    }

    /// Stages everything the engine has produced so far.
    fn collect(&mut self, engine: &mut Engine) {
        for output in engine.drain_outputs() {
            match output {
                Output::Send {
                    conn,
                    frame,
                    droppable,
                } => {
                    if let Some(frames) = self.staged.get_mut(&conn) {
                        frames.push((frame, droppable));
                    } else if self.outboxes.contains_key(&conn) {
                        let mut frames = Vec::with_capacity(self.batch_hint);
                        frames.push((frame, droppable));
                        self.staged.insert(conn, frames);
                    }
                }
                Output::Close { conn } => {
                    let Some(outbox) = self.outboxes.remove(&conn) else {
                        continue;
                    };
                    // What was staged before the close goes out first.
                    if let Some(mut frames) = self.staged.remove(&conn) {
                        if let Err(overflow) = outbox.push_all(&mut frames) {
                            self.overflowed.push((conn, overflow.waiting));
                        }
                    }
                    if outbox.dropped() > 0 {
                        tracing::info!(conn = %conn, dropped = outbox.dropped(),
                            "QoS 0 messages dropped for a slow reader");
                    }
                    outbox.close();
                }
            }
        }
    }

    /// Pushes every batch staged this round, waking the writers. A connection that reads
    /// too slowly to keep up is closed; closing it may produce more output (its will, say), so
    /// this runs until the engine has nothing to add.
    fn end_round(&mut self, engine: &mut Engine) {
        loop {
            self.collect(engine);
            if !self.staged.is_empty() {
                let frames: usize = self.staged.values().map(Vec::len).sum();
                self.batch_hint = frames.div_ceil(self.staged.len()).min(MAX_BATCH_HINT);
            }
            for (conn, mut frames) in self.staged.drain() {
                if let Some(outbox) = self.outboxes.get(&conn) {
                    if let Err(overflow) = outbox.push_all(&mut frames) {
                        self.overflowed.push((conn, overflow.waiting));
                    }
                }
            }
            if self.overflowed.is_empty() {
                break;
            }
            let now = Instant::now();
            for (conn, waiting) in std::mem::take(&mut self.overflowed) {
                tracing::warn!(conn = %conn, waiting,
                    "closed: the client does not read what it is sent (write buffer full)");
                engine.handle(conn, Input::Closed, now);
            }
        }
        if self.staged.capacity() > STAGED_ROOM {
            self.staged.shrink_to(STAGED_ROOM);
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
