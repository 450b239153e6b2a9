//! What a run measured: messages sent, delivered, lost and duplicated, and end-to-end latency.
//!
//! Every payload starts with a 20-byte header written by the publisher: its index (u32), the
//! message's sequence number within that publisher (u64, from 0) and the time it was written
//! (u64 nanoseconds since the generator started), all little-endian. The rest is padding up to
//! the chosen payload size.
//!
//! A message is *expected* once by every receiver group that listens to its publisher: a plain
//! subscriber is a group of its own; the members of a shared subscription form one group that
//! should receive each message exactly once between them. For every (group, publisher) pair a
//! bitmap of sequence numbers records what arrived: a second arrival is a duplicate, and what
//! never arrived by the end of the run is lost. Loss and duplicates are always reported.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Instant;

use hdrhistogram::Histogram;

/// Bytes of the header at the start of every payload.
pub const HEADER_LEN: usize = 20;

/// The instant all timestamps count from.
pub fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since [`epoch`].
pub fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

/// Writes the header into the first [`HEADER_LEN`] bytes of `payload`.
pub fn write_header(payload: &mut [u8], publisher: u32, seq: u64, sent_ns: u64) {
    payload[0..4].copy_from_slice(&publisher.to_le_bytes());
    payload[4..12].copy_from_slice(&seq.to_le_bytes());
    payload[12..20].copy_from_slice(&sent_ns.to_le_bytes());
}

/// Reads the header back: (publisher, sequence number, send time).
pub fn read_header(payload: &[u8]) -> Option<(u32, u64, u64)> {
    if payload.len() < HEADER_LEN {
        return None;
    }
    let publisher = u32::from_le_bytes(payload[0..4].try_into().ok()?);
    let seq = u64::from_le_bytes(payload[4..12].try_into().ok()?);
    let sent = u64::from_le_bytes(payload[12..20].try_into().ok()?);
    Some((publisher, seq, sent))
}

/// A fixed-size set of sequence numbers.
#[derive(Clone, Debug)]
pub struct SeqSet {
    words: Vec<u64>,
}

impl SeqSet {
    pub fn new(capacity: u64) -> SeqSet {
        SeqSet {
            words: vec![0; capacity.div_ceil(64) as usize],
        }
    }

    /// Adds `seq`; returns false if it was already there. A number beyond the capacity is
    /// refused as `None`.
    pub fn insert(&mut self, seq: u64) -> Option<bool> {
        let word = self.words.get_mut((seq / 64) as usize)?;
        let bit = 1u64 << (seq % 64);
        let new = *word & bit == 0;
        *word |= bit;
        Some(new)
    }

    pub fn len(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
}

/// A receiver group: which publishers it listens to, and what it has received of each.
#[derive(Debug)]
struct Group {
    /// Indexed by publisher; `None` for a publisher this group does not listen to.
    seen: Vec<Option<SeqSet>>,
}

/// Counts for one run, shared by every task of the (single-threaded) generator.
pub struct Tracker {
    groups: Vec<Group>,
    /// Messages each publisher has written to its socket.
    pub sent: Vec<Cell<u64>>,
    /// Messages each publisher has had acknowledged (PUBACK or PUBCOMP); QoS 0 counts none.
    pub acked: Vec<Cell<u64>>,
    received: u64,
    unique: u64,
    duplicates: u64,
    /// Deliveries that did not belong to any expected (group, publisher, seq).
    unexpected: u64,
    latency: Histogram<u64>,
    first_delivery: Option<Instant>,
    last_delivery: Option<Instant>,
    errors: Vec<(String, u64)>,
}

/// Latencies are recorded in nanoseconds from 100 ns to 10 minutes, with 3 significant digits.
const LATENCY_MAX_NS: u64 = 600_000_000_000;

impl Tracker {
    /// `listens[g]` lists the publishers group `g` receives; every publisher sends at most
    /// `per_publisher` messages.
    pub fn new(publishers: usize, listens: &[Vec<usize>], per_publisher: u64) -> Tracker {
        let groups = listens
            .iter()
            .map(|pubs| {
                let mut seen = vec![None; publishers];
                for &p in pubs {
                    seen[p] = Some(SeqSet::new(per_publisher));
                }
                Group { seen }
            })
            .collect();
        Tracker {
            groups,
            sent: (0..publishers).map(|_| Cell::new(0)).collect(),
            acked: (0..publishers).map(|_| Cell::new(0)).collect(),
            received: 0,
            unique: 0,
            duplicates: 0,
            unexpected: 0,
            latency: Histogram::new_with_bounds(100, LATENCY_MAX_NS, 3)
                .expect("valid histogram bounds"),
            first_delivery: None,
            last_delivery: None,
            errors: Vec::new(),
        }
    }

    /// Records one delivery to group `group`, read at `now` (`now_ns` on the epoch's clock).
    pub fn deliver(&mut self, group: usize, payload: &[u8], now: Instant, now_ns: u64) {
        self.received += 1;
        self.first_delivery.get_or_insert(now);
        self.last_delivery = Some(now);
        let Some((publisher, seq, sent)) = read_header(payload) else {
            self.unexpected += 1;
            return;
        };
        let slot = self
            .groups
            .get_mut(group)
            .and_then(|g| g.seen.get_mut(publisher as usize))
            .and_then(Option::as_mut)
            .and_then(|set| set.insert(seq));
        match slot {
            Some(true) => {
                self.unique += 1;
                let latency = now_ns.saturating_sub(sent).clamp(100, LATENCY_MAX_NS);
                let _ = self.latency.record(latency);
            }
            Some(false) => self.duplicates += 1,
            None => self.unexpected += 1,
        }
    }

    /// Notes an error (a refused connection, a closed socket); equal messages are counted.
    pub fn error(&mut self, message: impl Into<String>) {
        let message = message.into();
        match self.errors.iter_mut().find(|(m, _)| *m == message) {
            Some((_, n)) => *n += 1,
            None => self.errors.push((message, 1)),
        }
    }

    /// Deliveries so far (duplicates included).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Distinct expected messages delivered so far.
    pub fn unique(&self) -> u64 {
        self.unique
    }

    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    pub fn unexpected(&self) -> u64 {
        self.unexpected
    }

    pub fn last_delivery(&self) -> Option<Instant> {
        self.last_delivery
    }

    pub fn first_delivery(&self) -> Option<Instant> {
        self.first_delivery
    }

    pub fn errors(&self) -> &[(String, u64)] {
        &self.errors
    }

    /// Messages that should have been delivered, given what the publishers actually sent: for
    /// every group, the sum of what its publishers sent.
    pub fn expected(&self) -> u64 {
        self.groups
            .iter()
            .map(|g| {
                g.seen
                    .iter()
                    .zip(&self.sent)
                    .filter(|(set, _)| set.is_some())
                    .map(|(_, sent)| sent.get())
                    .sum::<u64>()
            })
            .sum()
    }

    /// Expected messages that never arrived.
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.unique)
    }

    pub fn total_sent(&self) -> u64 {
        self.sent.iter().map(Cell::get).sum()
    }

    pub fn total_acked(&self) -> u64 {
        self.acked.iter().map(Cell::get).sum()
    }

    pub fn latency(&self) -> &Histogram<u64> {
        &self.latency
    }
}

/// Latency percentiles, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Option<Percentiles> {
        if h.is_empty() {
            return None;
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        Some(Percentiles {
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
        })
    }
}

/// The resident set size of process `pid` now, in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmRSS")
}

/// The largest resident set size process `pid` has had since it started, in KiB (`VmHWM`,
/// the "high water mark", of `/proc/PID/status`). The kernel keeps it, so unlike sampling it
/// misses no short peak; the benchmark starts a fresh broker per run, so it is that run's peak.
pub fn vmhwm_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmHWM")
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_kib(&status, field)
}

/// The value of a `Field:   1234 kB` line of a `/proc/PID/status` text.
fn status_field_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(publisher: u32, seq: u64) -> Vec<u8> {
        let mut p = vec![0; 64];
        write_header(&mut p, publisher, seq, now_ns());
        p
    }

    #[test]
    fn header_round_trips() {
        let mut p = [0u8; 32];
        write_header(&mut p, 7, 123_456_789, 42);
        assert_eq!(read_header(&p), Some((7, 123_456_789, 42)));
        assert_eq!(read_header(&p[..19]), None);
    }

    #[test]
    fn counts_loss_and_duplicates() {
        // Two publishers; group 0 hears both, group 1 only publisher 1.
        let mut t = Tracker::new(2, &[vec![0, 1], vec![1]], 10);
        t.sent[0].set(3);
        t.sent[1].set(2);
        let now = Instant::now();
        for (g, p, s) in [
            (0, 0, 0),
            (0, 0, 1),
            (0, 0, 1),
            (0, 1, 0),
            (1, 1, 0),
            (1, 1, 1),
        ] {
            t.deliver(g, &payload(p, s), now, now_ns());
        }
        // A message from a publisher group 1 does not hear, and a short payload.
        t.deliver(1, &payload(0, 0), now, now_ns());
        t.deliver(0, &[1, 2, 3], now, now_ns());
        assert_eq!(t.expected(), 3 + 2 + 2);
        assert_eq!(t.unique(), 5);
        assert_eq!(t.duplicates(), 1);
        assert_eq!(t.unexpected(), 2);
        assert_eq!(t.lost(), 2, "(0,0,2) and (0,1,1) never arrived");
        assert_eq!(t.received(), 8);
        assert_eq!(t.latency().len(), 5);
    }

    #[test]
    fn seq_set() {
        let mut s = SeqSet::new(100);
        assert!(s.is_empty());
        assert_eq!(s.insert(99), Some(true));
        assert_eq!(s.insert(99), Some(false));
        assert_eq!(s.insert(100 + 64), None);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn errors_are_counted_by_message() {
        let mut t = Tracker::new(1, &[vec![0]], 1);
        t.error("closed");
        t.error("closed");
        t.error("refused");
        assert_eq!(
            t.errors(),
            &[("closed".to_string(), 2), ("refused".to_string(), 1)]
        );
    }

    #[test]
    fn status_fields() {
        let status = "Name:\tx\nVmHWM:\t   4321 kB\nVmRSS:\t   1234 kB\n";
        assert_eq!(status_field_kib(status, "VmRSS"), Some(1234));
        assert_eq!(status_field_kib(status, "VmHWM"), Some(4321));
        assert_eq!(status_field_kib(status, "VmSwap"), None);
        assert_eq!(
            status_field_kib(status, "Vm"),
            None,
            "a prefix is not a field"
        );
    }

    #[test]
    fn high_water_mark_of_a_live_process() {
        let me = std::process::id();
        // RSS first: the high-water mark read after it can only be as large or larger.
        let rss = rss_kib(me).unwrap();
        let hwm = vmhwm_kib(me).unwrap();
        assert!(hwm > 0 && hwm >= rss, "VmHWM {hwm} < VmRSS {rss}");
        assert_eq!(vmhwm_kib(u32::MAX), None);
    }

    #[test]
    fn percentiles() {
        let mut h = Histogram::<u64>::new_with_bounds(100, LATENCY_MAX_NS, 3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let p = Percentiles::of(&h).unwrap();
        assert!((p.p50 - 500.0).abs() < 1.0, "{p:?}");
        assert!((p.p99 - 990.0).abs() < 1.0, "{p:?}");
        assert!((p.max - 1000.0).abs() < 1.0, "{p:?}");
    }
}
