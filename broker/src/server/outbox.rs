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

/// A connection's outgoing frames exceeded their ceiling.
#[derive(Debug)]
pub struct Overflow {
    /// Bytes waiting when it happened.
    pub waiting: usize,
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
    /// more than its limit waiting: a slow reader loses QoS 0 messages, not memory. Other
    /// frames are bounded by the protocol's windows, except for a peer that sends and never
    /// reads (its acknowledgements pile up): past twice the limit the push fails, and the
    /// caller closes the connection.
    pub fn push(&self, frame: Bytes, droppable: bool) -> Result<(), Overflow> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.closed {
            return Ok(());
        }
        if droppable && s.bytes + frame.len() > self.limit {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        if s.bytes + frame.len() > self.limit.saturating_mul(2) {
            return Err(Overflow { waiting: s.bytes });
        }
        s.bytes += frame.len();
        s.frames.push_back(frame);
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Bytes {
        Bytes::from(vec![0u8; n])
    }

    #[tokio::test]
    async fn qos0_is_dropped_over_the_limit_and_other_frames_fail_over_twice_it() {
        let outbox = Outbox::new(100);
        outbox.push(frame(80), true).unwrap();
        outbox.push(frame(40), true).unwrap(); // Dropped: 120 > 100.
        assert_eq!(outbox.dropped(), 1);
        outbox.push(frame(100), false).unwrap(); // 180 <= 200: acknowledgements still go.
        assert!(outbox.push(frame(40), false).is_err(), "220 > 200");
        let mut buf = bytes::BytesMut::new();
        assert!(outbox.drain_into(&mut buf).await);
        assert_eq!(buf.len(), 180);
        outbox.push(frame(150), false).unwrap(); // Drained: room again.
    }

    #[tokio::test]
    async fn close_flushes_then_ends() {
        let outbox = Outbox::new(100);
        outbox.push(frame(3), false).unwrap();
        outbox.close();
        outbox.push(frame(3), false).unwrap(); // Ignored after the close.
        let mut buf = bytes::BytesMut::new();
        assert!(outbox.drain_into(&mut buf).await);
        assert_eq!(buf.len(), 3);
        assert!(!outbox.drain_into(&mut buf).await);
        assert!(outbox.is_closed());
    }
}
