//! The load scenarios. Each builds its publishers and subscribers, runs them under a deadline
//! and returns a [`Report`].
//!
//! | scenario | publishers | subscribers | topics |
//! |---|---|---|---|
//! | `fanin` | P (8) | 1, on a `+` wildcard | `bench/fanin/{i}` |
//! | `fanout` | 1 | S (100), same topic | `bench/fanout` |
//! | `pairs` | N (50) | N, one per publisher | `bench/pairs/{i}` |
//! | `shared` | P (8) | K (4) members of one shared subscription (MQTT 5.0) | `bench/shared/{i}` |
//! | `latency` | 1, at a fixed rate (10,000 msg/s) | 1 | `bench/latency` |
//! | `million` | 1 (1,000,000 QoS 1 messages) | 1, on `bench/million/#` | `bench/million/1` |
//! | `connections` | C (10,000) idle clients | | |
//! | `slow` | 1 | S (100) of one topic; one stops reading after 100 messages | `bench/slow` |
//!
//! Publishers are open loop unless `--window` is given (see [`Flow`]).

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tern::codec::{Protocol, QoS};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::task::{spawn_local, JoinHandle};

use super::client::{
    probe_end, publisher, stuck_subscriber, subscriber, Connection, End, Flow, PublishPlan, Stuck,
};
use super::stats::{rss_kib, vmhwm_kib, Percentiles, Tracker};

/// Options every scenario shares.
#[derive(Clone, Debug)]
pub struct Common {
    pub addr: SocketAddr,
    pub protocol: Protocol,
    pub qos: QoS,
    pub payload: usize,
    /// Messages published in all (`fanin`, `pairs`, `shared`, `million`: split among the
    /// publishers; `fanout`: by its one publisher; `latency`: rate x duration).
    pub count: u64,
    /// End-to-end pacing window in deliveries (0, the default: open loop).
    pub window: u64,
    /// QoS 1/2 in-flight window per publisher.
    pub inflight: u16,
    /// The whole run stops here, counting what has not arrived as lost.
    pub deadline: Duration,
    /// After the publishers finish, how long without a delivery before the rest is declared
    /// lost.
    pub idle: Duration,
    /// The broker's process, to sample its resident memory.
    pub broker_pid: Option<u32>,
    /// Free text copied into the JSON line (the broker's name, say).
    pub label: String,
    /// Whether subscribers keep their sessions (Clean Session 0, or an expiry in 5.0).
    pub persistent: bool,
}

/// The shape of a publish/subscribe run.
pub struct Shape {
    name: &'static str,
    /// (topic, messages, messages per second, deliveries per message) per publisher.
    publishers: Vec<(String, u64, Option<f64>, u64)>,
    /// (filter, receiver group) per subscriber.
    subscribers: Vec<(String, usize)>,
    /// The publishers each receiver group hears.
    listens: Vec<Vec<usize>>,
    /// A subscriber that stops reading (`slow`); it belongs to no receiver group, so nothing
    /// is expected of it.
    stuck: Option<StuckPlan>,
    extra: Value,
}

/// The stuck subscriber of a `slow` run.
pub struct StuckPlan {
    filter: String,
    /// Messages it reads before it stops.
    after: u64,
    /// How long it stays connected after it stopped, at least.
    hold: Duration,
}

/// The outcome of one run: a JSON object and a human sentence.
pub struct Report {
    pub json: Value,
    pub line: String,
}

pub fn fanin(c: &Common, publishers: usize) -> Shape {
    let per = c.count.div_ceil(publishers as u64);
    Shape {
        name: "fanin",
        publishers: (0..publishers)
            .map(|i| (format!("bench/fanin/{i}"), per, None, 1))
            .collect(),
        subscribers: vec![("bench/fanin/+".into(), 0)],
        listens: vec![(0..publishers).collect()],
        stuck: None,
        extra: json!({ "publishers": publishers, "subscribers": 1 }),
    }
}

pub fn fanout(c: &Common, subscribers: usize) -> Shape {
    Shape {
        name: "fanout",
        publishers: vec![("bench/fanout".into(), c.count, None, subscribers as u64)],
        subscribers: (0..subscribers)
            .map(|g| ("bench/fanout".into(), g))
            .collect(),
        listens: (0..subscribers).map(|_| vec![0]).collect(),
        stuck: None,
        extra: json!({ "publishers": 1, "subscribers": subscribers }),
    }
}

pub fn pairs(c: &Common, pairs: usize) -> Shape {
    let per = c.count.div_ceil(pairs as u64);
    Shape {
        name: "pairs",
        publishers: (0..pairs)
            .map(|i| (format!("bench/pairs/{i}"), per, None, 1))
            .collect(),
        subscribers: (0..pairs)
            .map(|i| (format!("bench/pairs/{i}"), i))
            .collect(),
        listens: (0..pairs).map(|i| vec![i]).collect(),
        stuck: None,
        extra: json!({ "publishers": pairs, "subscribers": pairs }),
    }
}

pub fn shared(c: &Common, publishers: usize, members: usize) -> Shape {
    let per = c.count.div_ceil(publishers as u64);
    Shape {
        name: "shared",
        publishers: (0..publishers)
            .map(|i| (format!("bench/shared/{i}"), per, None, 1))
            .collect(),
        subscribers: (0..members)
            .map(|_| ("$share/bench/bench/shared/+".into(), 0))
            .collect(),
        listens: vec![(0..publishers).collect()],
        stuck: None,
        extra: json!({ "publishers": publishers, "subscribers": members, "group": members }),
    }
}

pub fn latency(rate: f64, duration: Duration) -> Shape {
    let count = (rate * duration.as_secs_f64()).ceil() as u64;
    Shape {
        name: "latency",
        publishers: vec![("bench/latency".into(), count, Some(rate), 1)],
        subscribers: vec![("bench/latency".into(), 0)],
        listens: vec![vec![0]],
        stuck: None,
        extra: json!({ "publishers": 1, "subscribers": 1, "rate": rate }),
    }
}

pub fn million(c: &Common) -> Shape {
    Shape {
        name: "million",
        publishers: vec![("bench/million/1".into(), c.count, None, 1)],
        subscribers: vec![("bench/million/#".into(), 0)],
        listens: vec![vec![0]],
        stuck: None,
        extra: json!({ "publishers": 1, "subscribers": 1 }),
    }
}

/// One publisher to `subscribers` subscribers of one topic, the last of which reads
/// `stuck_after` messages, then stops reading and stays connected for `hold`. It belongs to no
/// receiver group: the deliveries expected, and the rate and loss reported, are the others'.
pub fn slow(c: &Common, subscribers: usize, stuck_after: u64, hold: Duration) -> Shape {
    let readers = subscribers.max(2) - 1;
    Shape {
        name: "slow",
        publishers: vec![("bench/slow".into(), c.count, None, readers as u64)],
        subscribers: (0..readers).map(|g| ("bench/slow".into(), g)).collect(),
        listens: (0..readers).map(|_| vec![0]).collect(),
        stuck: Some(StuckPlan {
            filter: "bench/slow".into(),
            after: stuck_after,
            hold,
        }),
        extra: json!({ "publishers": 1, "subscribers": readers + 1, "stuck_subscribers": 1 }),
    }
}

fn qos_number(q: QoS) -> u8 {
    q as u8
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::V3_1 => "3.1",
        Protocol::V3_1_1 => "3.1.1",
        Protocol::V5 => "5",
    }
}

/// Samples the broker's resident memory every 100 ms; keeps the peak.
struct RssSampler {
    peak: Rc<Cell<u64>>,
    task: Option<JoinHandle<()>>,
    pid: Option<u32>,
}

impl RssSampler {
    fn start(pid: Option<u32>) -> RssSampler {
        let peak = Rc::new(Cell::new(0));
        let task = pid.map(|pid| {
            let peak = peak.clone();
            spawn_local(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                loop {
                    tick.tick().await;
                    if let Some(kib) = rss_kib(pid) {
                        peak.set(peak.get().max(kib));
                    }
                }
            })
        });
        RssSampler { peak, task, pid }
    }

    fn stop(mut self) -> Option<u64> {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        let last = self.pid.and_then(rss_kib).unwrap_or(0);
        self.pid.map(|_| self.peak.get().max(last))
    }
}

/// The Keep Alive every client asks for. Not 0 (no keep alive), which rumqttd refuses, and
/// longer than any run (the deadline is 120 s unless told), so that no client ever needs a
/// PINGREQ while it waits.
const KEEP_ALIVE: u16 = 3600;

/// Connects `n` clients, at most `parallel` at a time.
#[allow(clippy::too_many_arguments)]
async fn connect_many(
    c: &Common,
    n: usize,
    prefix: &str,
    protocol: Protocol,
    keep_alive: u16,
    read_capacity: usize,
    parallel: usize,
    persistent: bool,
) -> Vec<Result<Connection, String>> {
    let mut out = Vec::with_capacity(n);
    let tag = std::process::id();
    let mut start = 0;
    while start < n {
        let end = (start + parallel).min(n);
        let batch: Vec<_> = (start..end)
            .map(|i| {
                let id = format!("{prefix}{i}-{tag}");
                let addr = c.addr;
                spawn_local(async move {
                    let session = (keep_alive, persistent);
                    Connection::connect(addr, protocol, &id, session, read_capacity).await
                })
            })
            .collect();
        for h in batch {
            out.push(h.await.unwrap_or_else(|e| Err(format!("task: {e}"))));
        }
        start = end;
    }
    out
}

/// The clients of a run, connected and subscribed.
struct Clients {
    /// Subscribers and their receiver groups.
    subscribers: Vec<(Connection, usize)>,
    stuck: Option<Connection>,
    publishers: Vec<Connection>,
}

/// Connects and subscribes every client of `shape`: subscribers first, so that nothing is
/// published before every subscription exists.
async fn setup(c: &Common, shape: &Shape) -> Result<Clients, String> {
    let subs = connect_many(
        c,
        shape.subscribers.len(),
        "lg-sub",
        c.protocol,
        KEEP_ALIVE,
        64 * 1024,
        64,
        c.persistent,
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let mut subscribers = Vec::with_capacity(subs.len());
    for (mut conn, (filter, group)) in subs.into_iter().zip(&shape.subscribers) {
        conn.subscribe(filter, c.qos).await?;
        subscribers.push((conn, *group));
    }
    let stuck = match &shape.stuck {
        Some(plan) => {
            let id = format!("lg-stuck-{}", std::process::id());
            // A small read buffer: what it takes off the socket past its messages stays small.
            let session = (KEEP_ALIVE, c.persistent);
            let mut conn = Connection::connect(c.addr, c.protocol, &id, session, 1024).await?;
            conn.subscribe(&plan.filter, c.qos).await?;
            Some(conn)
        }
        None => None,
    };
    let publishers = connect_many(
        c,
        shape.publishers.len(),
        "lg-pub",
        c.protocol,
        KEEP_ALIVE,
        4096,
        64,
        false,
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, String>>()?;
    Ok(Clients {
        subscribers,
        stuck,
        publishers,
    })
}

/// Deliveries the shape should produce if every publisher sends all its messages.
fn planned_deliveries(shape: &Shape) -> u64 {
    shape
        .listens
        .iter()
        .map(|pubs| pubs.iter().map(|&p| shape.publishers[p].1).sum::<u64>())
        .sum()
}

/// The stuck subscriber of a `slow` run, while the run goes on.
struct StuckRun {
    state: Rc<Stuck>,
    task: JoinHandle<Result<Connection, String>>,
    after: u64,
    hold: Duration,
}

/// How long the probe of the stuck connection waits for a byte, and in all.
const PROBE_QUIET: Duration = Duration::from_millis(500);
const PROBE_LIMIT: Duration = Duration::from_secs(5);

impl StuckRun {
    fn spawn(conn: Connection, plan: &StuckPlan) -> StuckRun {
        let state = Rc::new(Stuck::default());
        let task = spawn_local(stuck_subscriber(conn, plan.after, state.clone()));
        StuckRun {
            state,
            task,
            after: plan.after,
            hold: plan.hold,
        }
    }

    /// Whether the run may end as far as the stuck subscriber goes: once it has been stuck
    /// for `hold`, so that what the broker does about it (a timeout, say) has time to show.
    /// One that never stopped (its messages never all came) holds nothing up.
    fn held_long_enough(&self, now: Instant) -> bool {
        self.state
            .stopped_at
            .get()
            .is_none_or(|stopped| now >= stopped + self.hold)
    }

    /// Finds out how the stuck connection ended and describes it for the JSON line.
    async fn finish(self, start: Instant) -> Value {
        let stopped = self.state.stopped_at.get();
        let probe_at = Instant::now();
        let (end, drained) = if self.task.is_finished() {
            match self.task.await {
                Ok(Ok(conn)) => probe_end(conn, PROBE_QUIET, PROBE_LIMIT).await,
                Ok(Err(e)) => (End::Failed(format!("before it stopped: {e}")), 0),
                Err(e) => (End::Failed(format!("task: {e}")), 0),
            }
        } else {
            self.task.abort();
            (
                End::Failed("never stopped: too few messages arrived".into()),
                0,
            )
        };
        let secs = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
        json!({
            "after": self.after,
            "received": self.state.received.get(),
            "stopped_after_s": stopped.map(|t| secs(t.saturating_duration_since(start))),
            "held_s": stopped.map(|t| secs(probe_at.saturating_duration_since(t))),
            "drained_at_end": drained,
            "end": end.describe(),
            "disconnected": end.by_broker(),
        })
    }
}

/// How the watch over a run ended.
struct Watched {
    /// When the last publisher finished (every message written and, at QoS 1/2, acknowledged).
    publish_done: Option<Instant>,
    timed_out: bool,
    /// The publishers' write halves, kept open until the end so that no unread data is reset.
    writers: Vec<OwnedWriteHalf>,
}

/// Waits until everything arrived and the publishers are done, or the publishers are done and
/// deliveries stopped for `c.idle`, or every subscriber is gone; then, in a `slow` run, until
/// the stuck subscriber has been stuck long enough; or until the deadline, whatever happened.
async fn watch(
    c: &Common,
    tracker: &RefCell<Tracker>,
    planned: u64,
    pub_tasks: Vec<JoinHandle<Result<OwnedWriteHalf, String>>>,
    sub_tasks: &[JoinHandle<Result<(), String>>],
    stuck: Option<&StuckRun>,
    start: Instant,
) -> Watched {
    let deadline = start + c.deadline;
    let mut publish_done: Option<Instant> = None;
    let mut writers = Vec::new();
    let mut pub_tasks: Vec<Option<JoinHandle<_>>> = pub_tasks.into_iter().map(Some).collect();
    let timed_out = loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        for slot in pub_tasks.iter_mut() {
            if slot.as_ref().is_some_and(|h| h.is_finished()) {
                match slot.take().expect("checked").await {
                    Ok(Ok(writer)) => writers.push(writer),
                    Ok(Err(e)) => tracker.borrow_mut().error(e),
                    Err(e) => tracker.borrow_mut().error(format!("publisher task: {e}")),
                }
            }
        }
        let now = Instant::now();
        if publish_done.is_none() && pub_tasks.iter().all(Option::is_none) {
            publish_done = Some(now);
        }
        if now >= deadline {
            break true;
        }
        let finished = publish_done.is_some_and(|done| {
            let t = tracker.borrow();
            let last = t.last_delivery().unwrap_or(done).max(done);
            t.unique() >= planned
                || now.duration_since(last) >= c.idle
                || sub_tasks.iter().all(|h| h.is_finished())
        });
        if finished && stuck.is_none_or(|s| s.held_long_enough(now)) {
            break false;
        }
    };
    for h in pub_tasks.into_iter().flatten() {
        h.abort();
    }
    Watched {
        publish_done,
        timed_out,
        writers,
    }
}

/// Runs a publish/subscribe shape.
pub async fn run(c: &Common, shape: Shape) -> Report {
    let setup_limit = Duration::from_secs(60).min(c.deadline);
    let rss = RssSampler::start(c.broker_pid);
    let rss_before = c.broker_pid.and_then(rss_kib);
    let planned = planned_deliveries(&shape);
    let per_publisher = shape.publishers.iter().map(|p| p.1).max().unwrap_or(0);
    let tracker = Rc::new(RefCell::new(Tracker::new(
        shape.publishers.len(),
        &shape.listens,
        per_publisher,
    )));
    let max_fanout = shape.publishers.iter().map(|p| p.3).max().unwrap_or(1);
    let window = if c.window == 0 {
        0
    } else {
        c.window.max(4 * max_fanout)
    };
    let flow = Rc::new(Flow::new(window));

    let clients = match tokio::time::timeout(setup_limit, setup(c, &shape)).await {
        Ok(Ok(ok)) => ok,
        Ok(Err(e)) => return failed(c, shape.name, &e),
        Err(_) => return failed(c, shape.name, "setup (connect and subscribe) timed out"),
    };

    let start = Instant::now();
    let sub_tasks: Vec<_> = clients
        .subscribers
        .into_iter()
        .map(|(conn, group)| spawn_local(subscriber(conn, group, tracker.clone(), flow.clone())))
        .collect();
    let stuck = clients
        .stuck
        .zip(shape.stuck.as_ref())
        .map(|(conn, plan)| StuckRun::spawn(conn, plan));
    let pub_tasks: Vec<_> = clients
        .publishers
        .into_iter()
        .zip(&shape.publishers)
        .enumerate()
        .map(|(i, (conn, (topic, count, rate, fanout)))| {
            let plan = PublishPlan {
                index: i as u32,
                topic: topic.clone(),
                qos: c.qos,
                payload: c.payload,
                count: *count,
                inflight: c.inflight,
                rate: *rate,
                fanout: *fanout,
                start,
            };
            spawn_local(publisher(conn, plan, tracker.clone(), flow.clone()))
        })
        .collect();

    let watched = watch(
        c,
        &tracker,
        planned,
        pub_tasks,
        &sub_tasks,
        stuck.as_ref(),
        start,
    )
    .await;
    // The broker's peak memory, read once the last message has arrived (or the run gave up).
    let vmhwm = c.broker_pid.and_then(vmhwm_kib);
    let end = Instant::now();
    for h in &sub_tasks {
        h.abort();
    }
    let stuck = match stuck {
        Some(s) => Some(s.finish(start).await),
        None => None,
    };
    drop(watched.writers);
    let outcome = Outcome {
        start,
        end,
        publish_done: watched.publish_done,
        timed_out: watched.timed_out,
        window,
        planned,
        stalls: flow.stalls.get(),
        rss_before,
        rss_peak: rss.stop(),
        vmhwm,
        stuck,
    };
    let t = tracker.borrow();
    summarize(c, shape.name, shape.extra, &t, &outcome)
}

/// What a run measured besides the tracker's counts.
struct Outcome {
    start: Instant,
    end: Instant,
    publish_done: Option<Instant>,
    timed_out: bool,
    window: u64,
    planned: u64,
    stalls: u64,
    rss_before: Option<u64>,
    rss_peak: Option<u64>,
    vmhwm: Option<u64>,
    /// The stuck subscriber's story (`slow`).
    stuck: Option<Value>,
}

/// Acknowledged publishes per second over the publishing phase, and what was counted:
/// PUBACKs at QoS 1, PUBCOMPs at QoS 2; QoS 0 has no acknowledgement, so the messages written
/// to the socket stand in for it.
pub fn acked_rate(qos: QoS, sent: u64, acked: u64, publish_s: f64) -> (f64, &'static str) {
    let (n, basis) = match qos {
        QoS::AtMostOnce => (sent, "sent (QoS 0: no acknowledgement)"),
        QoS::AtLeastOnce => (acked, "PUBACK"),
        QoS::ExactlyOnce => (acked, "PUBCOMP"),
    };
    (n as f64 / publish_s.max(1e-9), basis)
}

/// The JSON line and the sentence of a publish/subscribe run.
fn summarize(c: &Common, name: &str, extra: Value, t: &Tracker, o: &Outcome) -> Report {
    let last = t.last_delivery().unwrap_or(o.end);
    let elapsed = last
        .saturating_duration_since(o.start)
        .as_secs_f64()
        .max(1e-9);
    let publish_elapsed = o
        .publish_done
        .unwrap_or(o.end)
        .saturating_duration_since(o.start)
        .as_secs_f64()
        .max(1e-9);
    let unique = t.unique();
    let per_s = unique as f64 / elapsed;
    let (acked_per_s, acked_basis) =
        acked_rate(c.qos, t.total_sent(), t.total_acked(), publish_elapsed);
    let latency = Percentiles::of(t.latency());
    let errors: Vec<Value> = t
        .errors()
        .iter()
        .map(|(m, n)| json!({ "message": m, "count": n }))
        .collect();
    let mut json = json!({
        "scenario": name,
        "label": c.label,
        "qos": qos_number(c.qos),
        "payload": c.payload.max(super::stats::HEADER_LEN),
        "protocol": protocol_name(c.protocol),
        "window": o.window,
        "inflight": c.inflight,
        "published": t.total_sent(),
        "acked": t.total_acked(),
        "expected": t.expected(),
        "planned": o.planned,
        "delivered": t.received(),
        "unique": unique,
        "lost": t.lost(),
        "duplicates": t.duplicates(),
        "unexpected": t.unexpected(),
        "stalls": o.stalls,
        "timed_out": o.timed_out,
        "elapsed_s": elapsed,
        "complete_s": elapsed.max(publish_elapsed),
        "publish_elapsed_s": publish_elapsed,
        "delivered_per_s": per_s,
        "published_per_s": t.total_sent() as f64 / publish_elapsed,
        "acked_per_s": acked_per_s,
        "acked_basis": acked_basis,
        "latency_us": latency.map(|p| json!({
            "p50": p.p50, "p90": p.p90, "p99": p.p99, "p999": p.p999, "max": p.max
        })),
        "vmhwm_kib": o.vmhwm,
        "broker_rss_before_kib": o.rss_before,
        "broker_rss_peak_kib": o.rss_peak,
        "errors": errors,
    });
    if let Some(stuck) = &o.stuck {
        json["stuck"] = stuck.clone();
    }
    if let (Value::Object(dst), Value::Object(src)) = (&mut json, extra) {
        dst.extend(src);
    }
    let lat = latency
        .map(|p| {
            format!(
                ", latency p50 {} p99 {} p99.9 {} max {}",
                us(p.p50),
                us(p.p99),
                us(p.p999),
                us(p.max)
            )
        })
        .unwrap_or_default();
    let memory = o
        .vmhwm
        .map(|k| format!(", broker peak RSS (VmHWM) {:.1} MiB", k as f64 / 1024.0))
        .unwrap_or_default();
    let stuck = o
        .stuck
        .as_ref()
        .map(|s| {
            format!(
                "; stuck subscriber: read {} then stopped, {} more waiting at the end, {}",
                s["received"],
                s["drained_at_end"],
                s["end"].as_str().unwrap_or("?")
            )
        })
        .unwrap_or_default();
    let line = format!(
        "{} {} QoS {} {} B: {}/{} delivered in {:.2} s = {} msg/s, acked {} msg/s, lost {}, \
         duplicates {}{}{}{}{}{}",
        c.label,
        name,
        qos_number(c.qos),
        c.payload.max(super::stats::HEADER_LEN),
        unique,
        t.expected(),
        elapsed,
        si(per_s),
        si(acked_per_s),
        t.lost(),
        t.duplicates(),
        lat,
        memory,
        stuck,
        if o.timed_out {
            ", DEADLINE reached"
        } else {
            ""
        },
        if t.errors().is_empty() {
            String::new()
        } else {
            format!(", errors: {:?}", t.errors())
        },
    );
    Report { json, line }
}

/// Holds `n` idle connections and reports the broker's resident memory per connection.
pub async fn connections(c: &Common, n: usize, hold: Duration) -> Report {
    let rss = RssSampler::start(c.broker_pid);
    let before = c.broker_pid.and_then(rss_kib);
    let start = Instant::now();
    let connect = connect_many(c, n, "lg-idle", c.protocol, KEEP_ALIVE, 0, 256, false);
    let results = match tokio::time::timeout(c.deadline, connect).await {
        Ok(r) => r,
        Err(_) => return failed(c, "connections", "connecting timed out"),
    };
    let connect_s = start.elapsed().as_secs_f64();
    let mut held = Vec::with_capacity(n);
    let mut errors: Vec<(String, u64)> = Vec::new();
    for r in results {
        match r {
            Ok(conn) => held.push(conn),
            Err(e) => match errors.iter_mut().find(|(m, _)| *m == e) {
                Some((_, k)) => *k += 1,
                None => errors.push((e, 1)),
            },
        }
    }
    // Let the broker settle, then measure; hold the rest of the time.
    let settle = Duration::from_secs(1).min(hold);
    tokio::time::sleep(settle).await;
    let after = c.broker_pid.and_then(rss_kib);
    tokio::time::sleep(hold.saturating_sub(settle)).await;
    let still_open = held.len();
    let vmhwm = c.broker_pid.and_then(vmhwm_kib);
    drop(held);
    let peak = rss.stop();
    let per_conn = match (before, after) {
        (Some(b), Some(a)) if still_open > 0 => {
            Some(a.saturating_sub(b) as f64 / still_open as f64)
        }
        _ => None,
    };
    let json = json!({
        "scenario": "connections",
        "label": c.label,
        "protocol": protocol_name(c.protocol),
        "connections": n,
        "connected": still_open,
        "failed": n - still_open,
        "connect_s": connect_s,
        "connects_per_s": still_open as f64 / connect_s.max(1e-9),
        "broker_rss_before_kib": before,
        "broker_rss_after_kib": after,
        "broker_rss_peak_kib": peak,
        "vmhwm_kib": vmhwm,
        "rss_per_connection_kib": per_conn,
        "errors": errors.iter().map(|(m, k)| json!({"message": m, "count": k})).collect::<Vec<_>>(),
    });
    let line = format!(
        "{} connections: {}/{} held (connected in {:.2} s), broker RSS {} -> {} KiB = {} KiB per connection{}",
        c.label,
        still_open,
        n,
        connect_s,
        before.map_or("?".into(), |k| k.to_string()),
        after.map_or("?".into(), |k| k.to_string()),
        per_conn.map_or("?".into(), |k| format!("{k:.2}")),
        if errors.is_empty() {
            String::new()
        } else {
            format!(", errors: {errors:?}")
        },
    );
    Report { json, line }
}

fn failed(c: &Common, scenario: &str, why: &str) -> Report {
    Report {
        json: json!({ "scenario": scenario, "label": c.label, "error": why }),
        line: format!("{} {scenario}: FAILED: {why}", c.label),
    }
}

/// A rate with a k / M suffix.
pub fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// Microseconds, or milliseconds / seconds when large.
fn us(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} s", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.2} ms", v / 1e3)
    } else {
        format!("{v:.0} µs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common(count: u64) -> Common {
        Common {
            addr: "127.0.0.1:1883".parse().unwrap(),
            protocol: Protocol::V3_1_1,
            qos: QoS::AtLeastOnce,
            payload: 64,
            count,
            window: 0,
            inflight: 100,
            deadline: Duration::from_secs(30),
            idle: Duration::from_secs(3),
            broker_pid: None,
            label: "test".into(),
            persistent: false,
        }
    }

    #[test]
    fn acked_rate_counts_completions_or_for_qos0_what_was_sent() {
        assert_eq!(acked_rate(QoS::AtLeastOnce, 100, 80, 2.0), (40.0, "PUBACK"));
        assert_eq!(
            acked_rate(QoS::ExactlyOnce, 100, 60, 2.0),
            (30.0, "PUBCOMP")
        );
        let (rate, basis) = acked_rate(QoS::AtMostOnce, 100, 0, 2.0);
        assert_eq!(rate, 50.0);
        assert!(basis.starts_with("sent"), "{basis}");
    }

    #[test]
    fn the_stuck_subscriber_is_not_expected_to_receive_anything() {
        let shape = slow(&common(2000), 100, 100, Duration::from_secs(8));
        assert_eq!(shape.subscribers.len(), 99);
        assert_eq!(shape.publishers[0].3, 99, "deliveries per message");
        assert_eq!(planned_deliveries(&shape), 2000 * 99);
        let stuck = shape.stuck.as_ref().unwrap();
        assert_eq!((stuck.filter.as_str(), stuck.after), ("bench/slow", 100));
        assert_eq!(shape.extra["subscribers"], 100);
    }

    #[test]
    fn other_shapes_have_no_stuck_subscriber() {
        let c = common(1000);
        assert!(fanout(&c, 10).stuck.is_none());
        assert_eq!(planned_deliveries(&fanout(&c, 10)), 10_000);
        assert_eq!(planned_deliveries(&fanin(&c, 8)), 1000);
    }
}
