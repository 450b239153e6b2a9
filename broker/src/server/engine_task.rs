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
//!
//! With a store, a round that changed durable state hands its changes to the commit thread
//! (see `commit`), and what the round produced for the clients waits until the thread says
//! they are written: acknowledgements, CONNACKs, SUBACKs, QoS 2 deliveries, closes. Only a
//! connection's QoS 0 and 1 deliveries may go at once (`Output::Send::early`), up to its first
//! frame that waits; once a connection has frames waiting, all its later frames wait behind
//! them, and a later round waits for the earlier ones. Waiting rounds are released in order as
//! commits complete. A message delivered and acknowledged before the store has written it
//! is then never written at all (the store folds the two changes away). Past
//! [`MAX_WAITING`] rounds waiting, the task takes no more ordered events until the store
//! catches up: a slow disk slows the clients down instead of growing a queue.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ahash::AHashMap;
use tokio::sync::{mpsc, oneshot, watch};

use super::commit::Committer;
use super::http::metrics::Measured;
use super::http::{Published, Wanted};
use super::outbox::{Frames, Outbox};
use super::to_engine::{Event, FromConnections, Stamped};
use crate::engine::policy::Authorizer;
use crate::engine::{ConnId, Directory, Engine, Input, Offloaded, Output};

/// Ordered events taken in one round, at most.
const ROUND: usize = 256;
/// Rounds waiting for the store past which no more ordered events are taken.
const MAX_WAITING: usize = 256;
/// How long a small round waits at most for readers woken before its newest read that have
/// not handed their bytes over.
const CATCH_UP: Duration = Duration::from_millis(10);

/// Runs the engine until every sender of ordered events is gone; an error if the store
/// failed.
pub(super) async fn run(
    engine: Engine,
    mut from: FromConnections,
    committer: Option<Committer>,
    observe: Observe,
    hooks: Option<super::hooks::HookRunner>,
    checks: mpsc::Sender<Stamped>,
) -> anyhow::Result<()> {
    let mut task = EngineTask {
        engine,
        d: Dispatcher {
            hooks,
            checks: Some(checks),
            ..Dispatcher::default()
        },
        last: Instant::now(),
        committer,
        shutdown: None,
        failed: None,
    };
    let mut round: Vec<Stamped> = Vec::with_capacity(ROUND + 1);
    let mut priority_open = true;
    let mut next_snapshot = Instant::now() + SNAPSHOT;
    loop {
        let timeout = task.engine.poll_timeout();
        let room = task.d.waiting.len() < MAX_WAITING;
        tokio::select! {
            biased;
            event = from.priority.recv(), if priority_open => match event {
                Some(event) => task.apply(event, false),
                None => priority_open = false,
            },
            event = from.events.recv(), if room => match event {
                Some(event) => round.push(event),
                None => break,
            },
            _ = sleep_until(timeout), if timeout.is_some() => {}
            _ = tokio::time::sleep_until(next_snapshot.into()) => {}
        }
        let began = Instant::now();
        if began >= next_snapshot {
            next_snapshot = began + SNAPSHOT;
            observe.publish(&task.engine, began);
        }
        if let Some(failure) = task.failed.take() {
            return task.fail(failure).await;
        }
        let newest = round.iter().map(|e| e.ticket).max().unwrap_or(0);
        if newest > 0 && round.len() + from.events.len() < ROUND / 4 {
            // Readers counted before the newest read of this round may not have handed their
            // bytes over yet (on another thread, or behind the last task woken), and one of
            // them may have arrived first: a small round waits a moment for those, so that
            // it can be put in arrival order. (Not while the channel holds a round's worth:
            // those readers may be waiting for room in it. Measured on pairs QoS 1 when
            // only the events taken so far were counted: 536k msg/s instead of 808k, every
            // wait running out.)
            from.arriving.caught_up(newest, CATCH_UP).await;
        }
        let now = task.clock();
        while round.len() < ROUND && room {
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
        task.end_round();
        observe
            .measured
            .round_seconds
            .observe(began.elapsed().as_secs_f64());
        if let Some(failure) = task.failed.take() {
            return task.fail(failure).await;
        }
    }
    if let Some(committer) = task.committer.take() {
        // Whatever was handed over is written before the broker stops.
        let _ = tokio::task::spawn_blocking(move || committer.finish()).await;
    }
    Ok(())
}

/// How often the engine's snapshot is published (see `http`).
const SNAPSHOT: Duration = Duration::from_secs(1);

/// Where the engine task publishes what it observes: the engine's snapshot, once every
/// [`SNAPSHOT`], and the time each round takes.
pub(super) struct Observe {
    pub snapshots: watch::Sender<Arc<Published>>,
    pub measured: Arc<Measured>,
    /// The engine's directory for the admin API, taken with a snapshot while it is wanted.
    pub directory: watch::Sender<Option<(Instant, Arc<Directory>)>>,
    pub wanted: Arc<Wanted>,
}

impl Observe {
    fn publish(&self, engine: &Engine, now: Instant) {
        let snapshot = engine.snapshot(now);
        self.snapshots
            .send_replace(Arc::new(Published { at: now, snapshot }));
        if self.wanted.recently(now) {
            let directory = Arc::new(engine.directory(now));
            self.directory.send_replace(Some((now, directory)));
        }
    }
}

/// The engine, where its output goes, and the last time it was given.
struct EngineTask {
    engine: Engine,
    d: Dispatcher,
    last: Instant,
    /// The store's commit thread, if the broker keeps state.
    committer: Option<Committer>,
    /// The shutdown's answer, sent once nothing waits for the store.
    shutdown: Option<oneshot::Sender<()>>,
    /// Why the store failed, if it did.
    failed: Option<String>,
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
                // Answered once what the shutdown changed is written and its frames are out.
                self.shutdown = Some(done);
            }
            Event::Committed(id) => self.d.committed = self.d.committed.max(id),
            Event::StoreFailed(why) => self.failed = Some(why),
            Event::StoreFull(full) => engine.set_store_full(full),
            Event::Loaded(session, messages) => engine.loaded(session, messages, now),
            Event::Answer(conn, id, answer) => engine.answer(conn, id, answer, now),
            Event::Checked(conn, id, decision) => engine.checked(conn, id, decision, now),
            Event::Command(command, done) => {
                let _ = done.send(engine.command(command, now));
            }
            Event::Security(security) => {
                let security = *security;
                engine.replace_authenticator(security.authenticator);
                engine.set_acl(security.acl.map(|acl| acl as Arc<dyn Authorizer>));
            }
        }
        self.d.collect(engine);
    }

    /// Ends a round: its changes go to the store, and its output to the connections, at once
    /// or once the store has written what it waits for; rounds the store has written are
    /// released.
    fn end_round(&mut self) {
        let engine = &mut self.engine;
        loop {
            self.d.collect(engine);
            let changes = engine.take_changes();
            let wait = match &mut self.committer {
                Some(committer) if !changes.is_empty() => Some(committer.submit(changes)),
                _ => None,
            };
            // Read after the changes that wrote what they read.
            for (session, client_id, from, max) in self.d.loads.drain(..) {
                if let Some(committer) = &mut self.committer {
                    committer.load(session, client_id, from, max);
                }
            }
            self.d.end_round(wait);
            if !self.d.handle_pushed(engine) {
                break;
            }
        }
        if self.d.waiting.is_empty() {
            if let Some(done) = self.shutdown.take() {
                let _ = done.send(());
            }
        }
    }

    /// The store failed: nothing more is sent, and the reason goes up to the server, which
    /// stops.
    async fn fail(mut self, why: String) -> anyhow::Result<()> {
        if let Some(committer) = self.committer.take() {
            let _ = tokio::task::spawn_blocking(move || committer.finish()).await;
        }
        Err(anyhow::anyhow!("the store failed: {why}"))
    }
}

/// A round's output, waiting for the store to write the round's changes (or an earlier
/// round's).
struct Waiting {
    /// The commit it waits for.
    commit: u64,
    staged: AHashMap<ConnId, Frames>,
    closes: Vec<ConnId>,
}

/// A connection's frames of this round, and how many of them, from the first, may go before
/// the store writes the round's changes (`Output::Send::early`).
struct Staged {
    frames: Frames,
    early: usize,
}

impl Staged {
    fn push(&mut self, frame: bytes::Bytes, droppable: bool, early: bool) {
        if early && self.early == self.frames.len() {
            self.early += 1;
        }
        self.frames.push((frame, droppable));
    }
}

/// Runs an authentication check the engine handed out (a password's PBKDF2, a token's
/// signature) on a blocking thread, and sends its decision back ahead of the ordered events.
fn run_check(conn: ConnId, id: u64, check: Offloaded, checks: mpsc::Sender<Stamped>) {
    tokio::task::spawn_blocking(move || {
        let decision = check.0.run();
        let event = Stamped {
            at: Instant::now(),
            ticket: 0,
            event: Event::Checked(conn, id, decision),
        };
        // The engine is gone if this fails: the connection with it.
        let _ = checks.blocking_send(event);
    });
}

/// How long the transport waits, at most, for a connection to deliver what its socket held
/// before a takeover goes on (see `engine::takeover`; the engine's own bound is longer).
const QUIET_WAIT: Duration = Duration::from_millis(200);

/// How often a connection is looked at while a takeover waits for it.
const QUIET_POLL: Duration = Duration::from_millis(1);

/// Tells the engine (on the priority channel: the condition is that nothing of the
/// connection's is still on its way in the ordered one) when everything `conn`'s socket held
/// has been read and applied, or when [`QUIET_WAIT`] has passed.
async fn tell_when_quiet(
    conn: ConnId,
    outbox: Option<Arc<Outbox>>,
    priority: mpsc::Sender<Stamped>,
) {
    let deadline = tokio::time::Instant::now() + QUIET_WAIT;
    if let Some(outbox) = outbox {
        while !outbox.quiet() && !outbox.is_closed() {
            if tokio::time::Instant::now() >= deadline {
                tracing::debug!(conn = %conn, "still delivering after {QUIET_WAIT:?}: the takeover goes on");
                break;
            }
            tokio::time::sleep(QUIET_POLL).await;
        }
    }
    let event = Stamped {
        at: Instant::now(),
        ticket: 0,
        event: Event::Input(conn, Input::Quiet),
    };
    let _ = priority.send(event).await;
}

/// The connections' outboxes, and the frames staged for them this round.
#[derive(Default)]
struct Dispatcher {
    outboxes: AHashMap<ConnId, Arc<Outbox>>,
    /// The frames of this round, for the connections that have some.
    staged: AHashMap<ConnId, Staged>,
    /// The connections with frames in a round waiting for the store, and in how many: their
    /// later frames wait behind them, early or not.
    held_conns: AHashMap<ConnId, u32>,
    /// Queued messages to read back from the store (`Output::Load`).
    loads: Vec<(
        crate::router::SubscriberId,
        bytestring::ByteString,
        u64,
        usize,
    )>,
    /// The connections the engine closed this round, in order, after their frames.
    closes: Vec<ConnId>,
    /// Rounds waiting for the store, oldest first.
    waiting: VecDeque<Waiting>,
    /// The last commit the store has written.
    committed: u64,
    /// Connections whose outbox overflowed, with the bytes that were waiting.
    overflowed: Vec<(ConnId, usize)>,
    /// Connections whose outbox has just gone past its high-water mark.
    congested: Vec<ConnId>,
    /// The room a new batch starts with: the average batch of the last round. Each batch is
    /// handed over to its writer, so without this every round would grow every batch anew.
    batch_hint: usize,
    /// Who answers the engine's questions, if the application gave hooks.
    hooks: Option<super::hooks::HookRunner>,
    /// Where the decisions of offloaded authentication checks go (the priority channel).
    checks: Option<mpsc::Sender<Stamped>>,
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
                    early,
                } => {
                    if let Some(staged) = self.staged.get_mut(&conn) {
                        staged.push(frame, droppable, early);
                    } else if self.outboxes.contains_key(&conn) {
                        let mut staged = Staged {
                            frames: Vec::with_capacity(self.batch_hint),
                            early: 0,
                        };
                        staged.push(frame, droppable, early);
                        self.staged.insert(conn, staged);
                    }
                }
                // After the round's frames, which go out first.
                Output::Close { conn } => self.closes.push(conn),
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
                // For the store, once the round's changes are handed over.
                Output::Load {
                    session,
                    client_id,
                    from,
                    max,
                } => self.loads.push((session, client_id, from, max)),
                Output::Ask { conn, id, question } => match &self.hooks {
                    Some(hooks) => hooks.ask(conn, id, question),
                    // Asked only what hooks want: without hooks, nothing is.
                    None => tracing::error!(conn = %conn, "a question without hooks"),
                },
                Output::Notice(notice) => {
                    if let Some(hooks) = &self.hooks {
                        hooks.notice(notice);
                    }
                }
                Output::Check { conn, id, check } => {
                    if let Some(checks) = &self.checks {
                        run_check(conn, id, check, checks.clone());
                    }
                }
                Output::Drain { conn } => {
                    if let Some(priority) = &self.checks {
                        let outbox = self.outboxes.get(&conn).cloned();
                        tokio::spawn(tell_when_quiet(conn, outbox, priority.clone()));
                    }
                }
            }
        }
    }

    /// Ends the round staged: its output goes to the connections now, or waits for commit
    /// `wait` (the round's own changes), or for the rounds waiting before it. Then every
    /// waiting round the store has written goes.
    fn end_round(&mut self, wait: Option<u64>) {
        if !self.staged.is_empty() {
            let frames: usize = self.staged.values().map(|s| s.frames.len()).sum();
            self.batch_hint = frames.div_ceil(self.staged.len()).min(MAX_BATCH_HINT);
        }
        let behind = self.waiting.back().map(|w| w.commit);
        let closes = std::mem::take(&mut self.closes);
        // Taken out and put back, so that the map keeps its room from round to round.
        let mut staged = std::mem::take(&mut self.staged);
        if let Some(commit) = wait.or(behind) {
            // What may go before the store writes goes now: a connection's early frames, up
            // to its first frame that must wait, unless something of it waits already.
            let mut held = AHashMap::new();
            let mut now = Vec::new();
            for (conn, staged) in staged.drain() {
                let Staged { mut frames, early } = staged;
                let early = if self.held_conns.contains_key(&conn) {
                    0
                } else {
                    early
                };
                let rest = frames.split_off(early);
                if !frames.is_empty() {
                    now.push((conn, frames));
                }
                if !rest.is_empty() {
                    *self.held_conns.entry(conn).or_default() += 1;
                    held.insert(conn, rest);
                }
            }
            if !held.is_empty() || !closes.is_empty() || wait.is_some() {
                self.waiting.push_back(Waiting {
                    commit,
                    staged: held,
                    closes,
                });
            }
            self.push(now, Vec::new());
        } else {
            self.push(staged.drain().map(|(conn, s)| (conn, s.frames)), closes);
        }
        if staged.capacity() > STAGED_ROOM {
            staged.shrink_to(STAGED_ROOM);
        }
        self.staged = staged;
        while self
            .waiting
            .front()
            .is_some_and(|w| w.commit <= self.committed)
        {
            let w = self.waiting.pop_front().expect("a waiting round");
            for conn in w.staged.keys() {
                if let Some(n) = self.held_conns.get_mut(conn) {
                    *n -= 1;
                    if *n == 0 {
                        self.held_conns.remove(conn);
                    }
                }
            }
            self.push(w.staged, w.closes);
        }
    }

    /// Pushes batches to their outboxes, waking the writers, then closes what was closed.
    fn push(&mut self, batches: impl IntoIterator<Item = (ConnId, Frames)>, closes: Vec<ConnId>) {
        for (conn, mut frames) in batches {
            if let Some(outbox) = self.outboxes.get(&conn) {
                match outbox.push_all(&mut frames) {
                    Ok(false) => {}
                    Ok(true) => self.congested.push(conn),
                    Err(overflow) => self.overflowed.push((conn, overflow.waiting)),
                }
            }
        }
        for conn in closes {
            let Some(outbox) = self.outboxes.remove(&conn) else {
                continue;
            };
            if outbox.dropped() > 0 {
                tracing::info!(conn = %conn, dropped = outbox.dropped(),
                    "QoS 0 messages dropped for a slow reader");
            }
            outbox.close();
        }
    }

    /// Tells the engine about the connections the pushes found congested or overflowing (a
    /// connection that reads too slowly to keep up is closed). True if it was told anything:
    /// it may have produced more output (a will, say), and the round goes on.
    fn handle_pushed(&mut self, engine: &mut Engine) -> bool {
        if self.overflowed.is_empty() && self.congested.is_empty() {
            return false;
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
        true
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    /// The frames an outbox holds, taken as its writer would.
    async fn taken(outbox: &Outbox) -> Vec<Bytes> {
        let (mut frames, mut buf) = (Frames::new(), bytes::BytesMut::new());
        let take = outbox.take_into(&mut frames, &mut buf);
        match tokio::time::timeout(Duration::from_millis(10), take).await {
            Ok(true) => frames.into_iter().map(|(f, _)| f).collect(),
            _ => Vec::new(),
        }
    }

    /// A dispatcher with two connections, and their outboxes.
    fn dispatcher() -> (Dispatcher, [(ConnId, Arc<Outbox>); 2]) {
        let mut d = Dispatcher::default();
        let conns = [1, 2].map(|n| (ConnId(n), Arc::new(Outbox::new(1 << 20))));
        for (conn, outbox) in &conns {
            d.outboxes.insert(*conn, outbox.clone());
        }
        (d, conns)
    }

    /// Stages a frame, as the engine's output would.
    fn stage(d: &mut Dispatcher, conn: ConnId, s: &'static str, early: bool) {
        let staged = d.staged.entry(conn).or_insert(Staged {
            frames: Frames::new(),
            early: 0,
        });
        staged.push(Bytes::from_static(s.as_bytes()), false, early);
    }

    #[tokio::test]
    async fn a_round_waiting_for_the_store_holds_its_output_and_every_later_rounds() {
        let (mut d, [(a, oa), (b, ob)]) = dispatcher();

        // Round 1 changed durable state: its PUBACK waits for commit 1.
        stage(&mut d, a, "puback", false);
        d.end_round(Some(1));
        // Round 2 changed nothing, but comes after: it waits too, close included.
        stage(&mut d, b, "suback", false);
        stage(&mut d, a, "disconnect", false);
        d.closes.push(a);
        d.end_round(None);
        assert!(taken(&oa).await.is_empty() && taken(&ob).await.is_empty());
        assert!(!oa.is_closed());

        d.committed = 1;
        d.end_round(None);
        assert!(d.waiting.is_empty() && d.held_conns.is_empty());
        assert_eq!(taken(&oa).await, ["puback", "disconnect"]);
        assert_eq!(taken(&ob).await, ["suback"]);
        assert!(oa.is_closed() && !ob.is_closed());

        // Nothing waiting: a round without changes goes at once.
        stage(&mut d, b, "pingresp", false);
        d.end_round(None);
        assert_eq!(taken(&ob).await, ["pingresp"]);
    }

    #[tokio::test]
    async fn qos_0_and_1_deliveries_go_at_once_unless_something_of_theirs_waits() {
        let (mut d, [(a, oa), (b, ob)]) = dispatcher();

        // A round with changes: a's deliveries go, up to the PUBACK that waits, and the
        // delivery after it waits behind it; b's delivery goes.
        stage(&mut d, a, "publish 1", true);
        stage(&mut d, a, "puback", false);
        stage(&mut d, a, "publish 2", true);
        stage(&mut d, b, "publish 3", true);
        d.end_round(Some(1));
        assert_eq!(taken(&oa).await, ["publish 1"]);
        assert_eq!(taken(&ob).await, ["publish 3"]);
        // A later round: a has frames waiting, so its delivery waits; b's goes.
        stage(&mut d, a, "publish 4", true);
        stage(&mut d, b, "publish 5", true);
        d.end_round(None);
        assert!(taken(&oa).await.is_empty());
        assert_eq!(taken(&ob).await, ["publish 5"]);

        d.committed = 1;
        d.end_round(None);
        assert_eq!(taken(&oa).await, ["puback", "publish 2", "publish 4"]);
        assert!(d.held_conns.is_empty());
    }
}
