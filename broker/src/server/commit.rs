//! The store's commit thread: it writes the engine's changes, a group of rounds at a time, and
//! tells the engine task which round is written.
//!
//! A store call blocks (a write, perhaps an fsync), so it runs on a thread of its own and
//! never on the engine task. Batches queue up while a commit is under way; the next commit
//! takes all of them at once (a group commit), so the slower the disk, the larger the
//! commits, and the engine never waits for it. What the engine produced for the clients in
//! those rounds waits in the engine task (see `engine_task`) until the thread says
//! [`Event::Committed`]. If a commit fails, the thread says [`Event::StoreFailed`] and stops:
//! nothing more can be promised, and the broker stops.

use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::mpsc::Sender;

use bytestring::ByteString;

use super::http::metrics::Measured;
use super::to_engine::{Event, Stamped};
use crate::engine::store::{Change, Store};
use crate::router::SubscriberId;

/// What the thread is asked to do, in order.
enum Job {
    /// Write a round's changes (numbered).
    Commit(u64, Vec<Change>),
    /// Read back queued messages of a kept session (see `Output::Load`), after the commits
    /// handed over before.
    Load {
        session: SubscriberId,
        client_id: ByteString,
        from: u64,
        max: usize,
    },
}

/// The engine task's handle on the commit thread.
pub(crate) struct Committer {
    jobs: Option<mpsc::Sender<Job>>,
    /// The number of the last batch handed over.
    last: u64,
    thread: Option<JoinHandle<()>>,
}

impl Committer {
    /// Starts the thread, which answers on `priority` (the engine task's priority channel),
    /// and says in `measured` how long its commits take and how large the store is.
    pub fn spawn(
        mut store: Box<dyn Store>,
        priority: Sender<Stamped>,
        measured: Arc<Measured>,
    ) -> Committer {
        let (jobs, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("tern-store".into())
            .spawn(move || {
                let answer = |event| {
                    let at = Instant::now();
                    let _ = priority.blocking_send(Stamped {
                        at,
                        ticket: 0,
                        event,
                    });
                };
                // Whether the store is over its size limit (the engine was told at the start,
                // before this thread): told again when that changes.
                let mut full = store.is_full();
                let mut next = rx.recv().ok();
                while let Some(job) = next.take() {
                    let (mut last, mut changes) = match job {
                        Job::Commit(id, changes) => (id, changes),
                        Job::Load {
                            session,
                            client_id,
                            from,
                            max,
                        } => {
                            match store.load_queued(&client_id, from, max) {
                                Ok(messages) => answer(Event::Loaded(session, messages)),
                                Err(e) => {
                                    answer(Event::StoreFailed(e.0));
                                    return;
                                }
                            }
                            next = rx.recv().ok();
                            continue;
                        }
                    };
                    // A group commit: every batch queued meanwhile, up to a read, which
                    // comes after them.
                    loop {
                        match rx.try_recv() {
                            Ok(Job::Commit(id, more)) => {
                                last = id;
                                changes.extend(more);
                            }
                            Ok(load) => {
                                next = Some(load);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    let began = Instant::now();
                    let committed = store.commit(changes);
                    measured
                        .commit_seconds
                        .observe(began.elapsed().as_secs_f64());
                    if let Some(bytes) = store.disk_bytes() {
                        measured.disk_bytes.store(bytes, Ordering::Relaxed);
                    }
                    match committed {
                        Ok(()) => {
                            answer(Event::Committed(last));
                            if store.is_full() != full {
                                full = !full;
                                answer(Event::StoreFull(full));
                            }
                        }
                        Err(e) => {
                            answer(Event::StoreFailed(e.0));
                            return;
                        }
                    }
                    if next.is_none() {
                        next = rx.recv().ok();
                    }
                }
            })
            .expect("a thread can be started");
        Committer {
            jobs: Some(jobs),
            last: 0,
            thread: Some(thread),
        }
    }

    /// Hands a round's changes over; returns the number the thread will answer with.
    pub fn submit(&mut self, changes: Vec<Change>) -> u64 {
        self.last += 1;
        self.send(Job::Commit(self.last, changes));
        self.last
    }

    /// Asks for queued messages of a kept session, read after what was submitted before.
    pub fn load(&mut self, session: SubscriberId, client_id: ByteString, from: u64, max: usize) {
        self.send(Job::Load {
            session,
            client_id,
            from,
            max,
        });
    }

    fn send(&mut self, job: Job) {
        if let Some(jobs) = &self.jobs {
            // A thread that stopped has said why (StoreFailed); the engine task stops on it.
            let _ = jobs.send(job);
        }
    }

    /// Lets the thread finish what it was given, and waits for it.
    pub fn finish(mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::{Restored, StoreError};

    /// A store that writes nothing: it fails at its `fail_at`th commit (from 1).
    struct Flaky {
        commits: usize,
        fail_at: usize,
    }

    impl Store for Flaky {
        fn commit(&mut self, _: Vec<Change>) -> Result<(), StoreError> {
            self.commits += 1;
            match self.commits == self.fail_at {
                true => Err(StoreError(
                    "/data: cannot write: No space left on device".into(),
                )),
                false => Ok(()),
            }
        }

        fn load(&mut self) -> Result<Restored, StoreError> {
            Ok(Restored::default())
        }

        fn load_queued(
            &mut self,
            _: &str,
            _: u64,
            _: usize,
        ) -> Result<Vec<(u64, crate::engine::store::StoredDelivery)>, StoreError> {
            Ok(Vec::new())
        }
    }

    fn change() -> Change {
        Change::DeleteSession("c".into())
    }

    #[tokio::test]
    async fn commits_are_answered_in_order_and_a_failure_stops_the_thread() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let store = Flaky {
            commits: 0,
            fail_at: 2,
        };
        let mut committer = Committer::spawn(Box::new(store), tx, Arc::default());
        assert_eq!(committer.submit(vec![change()]), 1);
        let first = rx.recv().await.expect("an answer");
        assert!(matches!(first.event, Event::Committed(1)));
        assert_eq!(committer.submit(vec![change()]), 2);
        let second = rx.recv().await.expect("an answer");
        match second.event {
            Event::StoreFailed(why) => assert!(why.contains("No space left"), "{why}"),
            _ => panic!("expected StoreFailed"),
        }
        // Nothing more is answered: what comes after a failure cannot be promised.
        committer.submit(vec![change()]);
        tokio::task::spawn_blocking(move || committer.finish())
            .await
            .unwrap();
        assert!(rx.recv().await.is_none());
    }
}
