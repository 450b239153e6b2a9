//! The frames waiting to be written to one connection.
//!
//! The engine task pushes; the connection's writer drains everything at once into one buffer
//! and writes it with one syscall. The lock is per connection and held only to move frames,
//! never across I/O.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::Notify;

#[derive(Default)]
struct State {
    frames: VecDeque<Bytes>,
    bytes: usize,
    closed: bool,
}

/// A connection's outgoing frames.
pub struct Outbox {
    state: Mutex<State>,
    notify: Notify,
    /// Above this many bytes waiting, droppable frames (QoS 0 PUBLISH) are dropped.
    limit: usize,
    dropped: AtomicU64,
}

impl Outbox {
    pub fn new(limit: usize) -> Outbox {
        Outbox {
            state: Mutex::new(State::default()),
            notify: Notify::new(),
            limit,
            dropped: AtomicU64::new(0),
        }
    }

    /// Queues a frame. A droppable frame is dropped (and counted) when the connection has
    /// more than its limit waiting: a slow reader loses QoS 0 messages, not memory.
    pub fn push(&self, frame: Bytes, droppable: bool) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.closed {
            return;
        }
        if droppable && s.bytes + frame.len() > self.limit {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        s.bytes += frame.len();
        s.frames.push_back(frame);
    }

    /// Wakes the writer after one or more pushes.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Marks the end: the writer flushes what is queued, then closes the connection.
    pub fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.notify.notify_one();
    }

    /// Whether the engine has closed the connection.
    pub fn is_closed(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).closed
    }

    /// QoS 0 frames dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits for frames, then moves them all into `buf`. Returns false once the outbox is
    /// closed and empty.
    pub async fn drain_into(&self, buf: &mut bytes::BytesMut) -> bool {
        loop {
            {
                let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if !s.frames.is_empty() {
                    buf.reserve(s.bytes);
                    for frame in s.frames.drain(..) {
                        buf.extend_from_slice(&frame);
                    }
                    s.bytes = 0;
                    return true;
                }
                if s.closed {
                    return false;
                }
            }
            self.notify.notified().await;
        }
    }
}
