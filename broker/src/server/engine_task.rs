//! The task that owns the engine: it feeds it events and timeouts, and hands what it
//! produces to the connections.
//!
//! Work goes in rounds. A round starts when anything arrives (or a timer is due) and takes,
//! in this order: everything waiting on the priority channel (subscribers'
//! acknowledgements, drained writers: egress first, so that a flood of publications does not
//! starve the windows that drain it); then up to [`ROUND`] ordered events, applied in the
//! order their bytes were read; then the timers that are due. Queued events always go before
//! timers. The frames the engine produces are staged per connection as each event is handled
//! (the engine's output stays small and hot in cache), and at the end of the round each
//! connection's batch is handed to its outbox under one lock, which wakes its writer once.
//! Only connections with frames this round have a batch.
//!
//! The engine is given each event's own time (when its bytes were read), never earlier than
//! a time it was already given: its clock only goes forward.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ahash::AHashMap;

use super::outbox::{Frames, Outbox};
use super::to_engine::{Event, FromConnections, Stamped};
use crate::engine::policy::Authorizer;
use crate::engine::{ConnId, Engine, Input, Output};

/// Ordered events taken in one round, at most.
const ROUND: usize = 256;
/// How long a small round waits at most for readers woken before its newest read that have
/// not handed their bytes over.
const CATCH_UP: Duration = Duration::from_millis(2);

/// Runs the engine until every sender of ordered events is gone.
pub(super) async fn run(engine: Engine, mut from: FromConnections) {
    let mut task = EngineTask {
        engine,
        d: Dispatcher::default(),
        last: Instant::now(),
    };
    let mut round: Vec<Stamped> = Vec::with_capacity(ROUND + 1);
    let mut priority_open = true;
    loop {
        let timeout = task.engine.poll_timeout();
        tokio::select! {
            biased;
            event = from.priority.recv(), if priority_open => match event {
                Some(event) => task.apply(event, false),
                None => priority_open = false,
            },
            event = from.events.recv() => match event {
                Some(event) => round.push(event),
                None => break,
            },
            _ = sleep_until(timeout), if timeout.is_some() => {}
        }
        let newest = round.iter().map(|e| e.ticket).max().unwrap_or(0);
        if newest > 0 && round.len() < ROUND / 4 {
            // Readers woken before the newest read of this round may not have handed their
            // bytes over yet (on another thread, or behind the last task woken), and one of
            // them may have arrived first: a small round waits a moment for those, so that
            // it can be put in arrival order. (A full round does not wait: those readers may
            // be waiting for room in the channel.)
            from.arriving.caught_up(newest, CATCH_UP).await;
        }
        let now = task.clock();
        while round.len() < ROUND {
            match from.events.try_recv() {
                Ok(event) => round.push(event),
                Err(_) => break,
            }
        }
        // Egress first. Taken after the round, so that an acknowledgement a reader sent before
        // an event of this round is applied before it.
        while let Ok(event) = from.priority.try_recv() {
            task.apply(event, false);
        }
        // Connections read on several threads: their events reach the channel in about, not
        // exactly, the order they were read.
        round.sort_by_key(|e| e.at);
        for event in round.drain(..) {
            task.apply(event, true);
        }
        if task.engine.poll_timeout().is_some_and(|at| at <= now) {
            task.last = task.last.max(now);
            task.engine.handle_timeout(task.last);
        }
        task.d.end_round(&mut task.engine);
    }
}

/// The engine, where its output goes, and the last time it was given.
struct EngineTask {
    engine: Engine,
    d: Dispatcher,
    last: Instant,
}

impl EngineTask {
    /// Reads the clock for a round: the engine counts wall-clock times from it (it reads no
    /// clock itself).
    fn clock(&mut self) -> Instant {
        let now = Instant::now();
        self.engine.set_wall_clock(now, SystemTime::now());
        now
    }

    /// Applies one event; `ordered`: it came on the ordered channel.
    fn apply(&mut self, Stamped { at, event, .. }: Stamped, ordered: bool) {
        // Time only goes forward for the engine, whatever order events arrived in.
        self.last = self.last.max(at);
        let now = self.last;
        let engine = &mut self.engine;
        match event {
            Event::Open(conn, info, outbox) => {
                self.d.outboxes.insert(conn, outbox);
                engine.open_with(conn, *info, now);
            }
            Event::Input(conn, input) => {
                if ordered {
                    // Before it is applied, not after: the engine task applies nothing else
                    // meanwhile, and the connection may be gone after.
                    if let Some(outbox) = self.d.outboxes.get(&conn) {
                        outbox.applied_in_order();
                    }
                }
                engine.handle(conn, input, now)
            }
            // Only ever sent ahead of the ordered events: nothing to count.
            Event::Acks(conn, acks) => {
                for input in acks {
                    engine.handle(conn, input, now);
                }
            }
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
        self.d.collect(engine);
    }
}

/// The connections' outboxes, and the frames staged for them this round.
#[derive(Default)]
struct Dispatcher {
    outboxes: AHashMap<ConnId, Arc<Outbox>>,
    /// The frames of this round, for the connections that have some.
    staged: AHashMap<ConnId, Frames>,
    /// Connections whose outbox overflowed, with the bytes that were waiting.
    overflowed: Vec<(ConnId, usize)>,
    /// Connections whose outbox has just gone past its high-water mark.
    congested: Vec<ConnId>,
    /// The room a new batch starts with: the average batch of the last round. Each batch is
    /// handed over to its writer, so without this every round would grow every batch anew.
    batch_hint: usize,
}

/// Room `staged` keeps after a round; a burst that took more gives it back.
const STAGED_ROOM: usize = 1024;
/// The largest room a new batch starts with.
const MAX_BATCH_HINT: usize = 1024;

impl Dispatcher {
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
                Output::Pause { conn } => {
                    if let Some(outbox) = self.outboxes.get(&conn) {
                        outbox.pause();
                    }
                }
                Output::Resume { conn } => {
                    if let Some(outbox) = self.outboxes.get(&conn) {
                        outbox.resume();
                    }
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
                    match outbox.push_all(&mut frames) {
                        Ok(false) => {}
                        Ok(true) => self.congested.push(conn),
                        Err(overflow) => self.overflowed.push((conn, overflow.waiting)),
                    }
                }
            }
            if self.overflowed.is_empty() && self.congested.is_empty() {
                break;
            }
            let now = Instant::now();
            for conn in std::mem::take(&mut self.congested) {
                engine.handle(conn, Input::Congested, now);
            }
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
