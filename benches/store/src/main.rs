//! Which embedded store should hold Tern's state? This writes what the broker would write for
//! persistent sessions, in the way it would write it, to fjall and to redb, and prints figures.
//!
//! The workload: message records of a queue (key: a session number and a sequence number,
//! 12 bytes; value: 120 bytes, a stored 64-byte PUBLISH with its topic and header) written in
//! group commits of `B` records, each commit also deleting the `B` records written `LAG`
//! commits before (the acknowledgements that came back meanwhile), so the store holds a steady
//! backlog, as a broker's store does. Each case runs until `--records` records or
//! `--seconds`, whichever comes first; then the store is closed, opened again and read whole
//! (what a restart costs).
//!
//! The durability of each mode, which is what the figures buy:
//! - fjall, journal: every commit is written to the OS (`write`) before it returns; it
//!   survives kill -9, not a power loss.
//! - fjall, fsync: `persist(SyncData)` after every commit; survives a power loss.
//! - redb, immediate: fsync in every commit (redb's crash-safe mode); survives both.
//! - redb, none: no fsync; redb rolls such commits back after any crash, so it does not
//!   survive kill -9 (listed to show what the fsync costs redb).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Parser)]
#[command(about = "Small records in group commits: fjall against redb")]
struct Args {
    /// Where the stores are created (a fresh directory per case, removed after).
    #[arg(long, default_value = "target/storebench")]
    dir: PathBuf,
    /// Records written per case, at most.
    #[arg(long, default_value_t = 200_000)]
    records: u64,
    /// Seconds per case, at most.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Records per commit, one case each.
    #[arg(long, value_delimiter = ',', default_value = "1,100,1000")]
    batches: Vec<u64>,
}

/// Sessions the records are spread over.
const SESSIONS: u64 = 100;
/// Commits after which a record is deleted again (acknowledged).
const LAG: u64 = 16;
const VALUE: [u8; 120] = [0x5a; 120];

#[derive(Clone, Copy, Debug)]
enum Mode {
    FjallJournal,
    FjallFsync,
    RedbImmediate,
    RedbNone,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::FjallJournal => "fjall, journal (kill -9 safe)",
            Mode::FjallFsync => "fjall, fsync per commit",
            Mode::RedbImmediate => "redb, immediate (fsync per commit)",
            Mode::RedbNone => "redb, none (not crash safe)",
        }
    }
}

/// A store under test: group commits of puts and deletes, and a whole read.
trait Store {
    fn commit(&mut self, puts: &[[u8; 12]], deletes: &[[u8; 12]]);
    fn count(&self) -> u64;
}

struct Fjall {
    db: fjall::Database,
    queue: fjall::Keyspace,
    fsync: bool,
}

impl Fjall {
    fn open(path: &Path, fsync: bool) -> Fjall {
        let db = fjall::Database::builder(path).open().expect("fjall opens");
        let queue = db
            .keyspace("queue", fjall::KeyspaceCreateOptions::default)
            .expect("fjall keyspace");
        Fjall { db, queue, fsync }
    }
}

impl Store for Fjall {
    fn commit(&mut self, puts: &[[u8; 12]], deletes: &[[u8; 12]]) {
        let mut batch = self.db.batch();
        for key in puts {
            batch.insert(&self.queue, key, VALUE);
        }
        for key in deletes {
            batch.remove(&self.queue, key);
        }
        batch.commit().expect("fjall commit");
        if self.fsync {
            self.db
                .persist(fjall::PersistMode::SyncData)
                .expect("fjall persist");
        }
    }

    fn count(&self) -> u64 {
        // Every value read, as a restart reads them.
        let mut held = 0;
        for kv in self.queue.iter() {
            let (_, value) = kv.into_inner().expect("read");
            held += u64::from(!value.is_empty());
        }
        held
    }
}

const TABLE: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("queue");

struct Redb {
    db: redb::Database,
    durability: redb::Durability,
}

impl Redb {
    fn open(path: &Path, durability: redb::Durability) -> Redb {
        let db = redb::Database::create(path.join("store.redb")).expect("redb opens");
        Redb { db, durability }
    }
}

impl Store for Redb {
    fn commit(&mut self, puts: &[[u8; 12]], deletes: &[[u8; 12]]) {
        let mut txn = self.db.begin_write().expect("redb transaction");
        txn.set_durability(self.durability).expect("durability");
        {
            let mut table = txn.open_table(TABLE).expect("redb table");
            for key in puts {
                table.insert(&key[..], &VALUE[..]).expect("redb insert");
            }
            for key in deletes {
                table.remove(&key[..]).expect("redb remove");
            }
        }
        txn.commit().expect("redb commit");
    }

    fn count(&self) -> u64 {
        use redb::{ReadableDatabase, ReadableTableMetadata};
        let txn = self.db.begin_read().expect("redb read");
        let table = txn.open_table(TABLE).expect("redb table");
        table.len().expect("redb len")
    }
}

fn open(mode: Mode, path: &Path) -> Box<dyn Store> {
    match mode {
        Mode::FjallJournal => Box::new(Fjall::open(path, false)),
        Mode::FjallFsync => Box::new(Fjall::open(path, true)),
        Mode::RedbImmediate => Box::new(Redb::open(path, redb::Durability::Immediate)),
        Mode::RedbNone => Box::new(Redb::open(path, redb::Durability::None)),
    }
}

/// The key of record `n`: its session, then its sequence number (big-endian, so that a
/// session's records are adjacent and in order).
fn key(n: u64) -> [u8; 12] {
    let mut k = [0; 12];
    k[..4].copy_from_slice(&((n % SESSIONS) as u32).to_be_bytes());
    k[4..].copy_from_slice(&(n / SESSIONS).to_be_bytes());
    k
}

struct Figures {
    records: u64,
    elapsed: Duration,
    commit_p99: Duration,
    disk: u64,
    reopen: Duration,
    held: u64,
}

fn run(mode: Mode, batch: u64, args: &Args) -> Figures {
    let path = args.dir.join(format!("{mode:?}-{batch}"));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).expect("bench directory");
    let mut store = open(mode, &path);
    let deadline = Duration::from_secs_f64(args.seconds);
    let mut latencies = Vec::new();
    let (mut written, mut commits) = (0u64, 0u64);
    let start = Instant::now();
    while written < args.records && start.elapsed() < deadline {
        let puts: Vec<_> = (written..written + batch).map(key).collect();
        let deletes: Vec<_> = if commits >= LAG {
            let from = (commits - LAG) * batch;
            (from..from + batch).map(key).collect()
        } else {
            Vec::new()
        };
        let t = Instant::now();
        store.commit(&puts, &deletes);
        latencies.push(t.elapsed());
        written += batch;
        commits += 1;
    }
    let elapsed = start.elapsed();
    drop(store);
    let disk = disk_usage(&path);
    let t = Instant::now();
    let store = open(mode, &path);
    let held = store.count();
    let reopen = t.elapsed();
    drop(store);
    let _ = std::fs::remove_dir_all(&path);
    latencies.sort();
    let commit_p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    Figures {
        records: written,
        elapsed,
        commit_p99,
        disk,
        reopen,
        held,
    }
}

fn disk_usage(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => disk_usage(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn main() {
    let args = Args::parse();
    println!(
        "{} records of 12 + 120 bytes at most per case ({} s at most), spread over {SESSIONS} \
         sessions; each commit of B records also deletes the B written {LAG} commits before.\n",
        args.records, args.seconds
    );
    println!("| store, durability | B | records/s | commits/s | commit p99 | on disk | reopen and read | records held |");
    println!("|---|---|---|---|---|---|---|---|");
    for mode in [
        Mode::FjallJournal,
        Mode::FjallFsync,
        Mode::RedbImmediate,
        Mode::RedbNone,
    ] {
        for &batch in &args.batches {
            let f = run(mode, batch, &args);
            let secs = f.elapsed.as_secs_f64();
            println!(
                "| {} | {batch} | {:.0} | {:.0} | {:.2} ms | {:.1} MiB | {:.1} ms | {} |",
                mode.name(),
                f.records as f64 / secs,
                (f.records / batch) as f64 / secs,
                f.commit_p99.as_secs_f64() * 1e3,
                f.disk as f64 / (1024.0 * 1024.0),
                f.reopen.as_secs_f64() * 1e3,
                f.held,
            );
        }
    }
}
