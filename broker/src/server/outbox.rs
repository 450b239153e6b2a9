//! The frames waiting to be written to one connection.
//!
//! The engine task gathers the frames of one round per connection and pushes
//! each connection's batch under one lock, waking the writer; the writer takes everything
//! waiting at once and writes it with one syscall (several frames are copied into one buffer
//! first). The lock is per
//! connection and held only to move frames, never across I/O. The writer's waker is kept
//! under the same lock, so a waiting writer costs one pointer rather than a notification
//! future.
//!
//! A batch is handed over whole: it becomes the outbox's list when that is empty (the usual
//! case, the writer having taken the last one), and the writer takes the list whole too. So
//! no frame is moved twice, and an idle connection holds no list at all.
//!
//! The outbox is also where the engine's flow control meets the connection's two halves:
//! - **Congestion.** Past [`HIGH_WATER`] bytes waiting (queued or being written), the push
//!   says so once, and the engine is told ([`crate::engine::Input::Congested`]): deliveries
//!   then wait in the session's queue. When a write brings the bytes down to [`LOW_WATER`],
//!   the writer says so once ([`crate::engine::Input::Drained`]).
//! - **Pause.** The engine pauses a publisher it holds back; the reader then takes no more
//!   PUBLISHes until it resumes (see `connection`).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};

use super::stamp::Stamp;

/// Frames in order, each with whether it may be dropped (a QoS 0 PUBLISH).
pub type Frames = Vec<(Bytes, bool)>;

/// The largest write buffer a waiting writer keeps.
const IDLE_WRITE_BUFFER: usize = 1024;
/// Bytes waiting to be written past which the engine holds deliveries back.
pub const HIGH_WATER: usize = 256 * 1024;
/// Bytes waiting to be written at which deliveries flow again.
pub const LOW_WATER: usize = 64 * 1024;

#[derive(Default)]
struct State {
    frames: Frames,
    /// The bytes of `frames`.
    bytes: usize,
    /// The bytes the writer took and has not finished writing.
    writing: usize,
    /// Whether the engine was told the connection is congested (and not yet that it drained).
    congested: bool,
    closed: bool,
    /// The writer, when it waits for frames.
    waker: Option<Waker>,
    /// The reader, when it waits for the engine to resume the connection.
    reader: Option<Waker>,
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
    /// Above this many bytes waiting, droppable frames (QoS 0 PUBLISH) are dropped.
    limit: usize,
    dropped: AtomicU64,
    /// Whether the engine paused the connection (the reader reads it without the lock).
    paused: AtomicBool,
    /// Whether a CONNACK has been queued: from then on the engine knows the connection, and
    /// the acknowledgements it sends may take the priority channel.
    connected: AtomicBool,
    /// Input the reader has sent on the ordered channel and the engine has not applied yet:
    /// an acknowledgement takes the priority channel only when there is none.
    in_order: AtomicUsize,
    /// When the connection's reads arrived (see `stamp`): what says whether its input is all
    /// in (`None` in tests).
    arrival: Option<Arc<Stamp>>,
}

impl Outbox {
    pub fn new(limit: usize) -> Outbox {
        Outbox {
            state: Mutex::new(State::default()),
            limit,
            dropped: AtomicU64::new(0),
            paused: AtomicBool::new(false),
            connected: AtomicBool::new(false),
            in_order: AtomicUsize::new(0),
            arrival: None,
        }
    }

    /// The outbox of a connection whose reads `arrival` stamps.
    pub(super) fn with_arrival(limit: usize, arrival: Arc<Stamp>) -> Outbox {
        Outbox {
            arrival: Some(arrival),
            ..Outbox::new(limit)
        }
    }

    /// Whether everything the connection's socket held has been read and applied by the
    /// engine (see `engine::takeover`).
    pub fn quiet(&self) -> bool {
        self.all_applied() && self.arrival.as_ref().is_none_or(|a| a.quiet())
    }

    /// Queues a frame. A droppable frame is dropped (and counted) when the connection has
    /// more than its limit waiting: a slow reader loses QoS 0 messages, not memory. Other
    /// frames are bounded by the protocol's windows, except for a peer that sends and never
    /// reads (its acknowledgements pile up): past twice the limit the push fails, and the
    /// caller closes the connection.
    #[cfg(test)]
    pub fn push(&self, frame: Bytes, droppable: bool) -> Result<(), Overflow> {
        self.push_all(&mut vec![(frame, droppable)]).map(|_| ())
    }

    /// Queues frames in order under one lock, each as [`Outbox::push`] would, empties
    /// `frames` and wakes the writer. A frame past twice the limit is left out and the first
    /// such overflow is returned; the frames after it are still queued if they fit (the caller
    /// closes the connection anyway). `Ok(true)`: the bytes waiting have just gone past
    /// [`HIGH_WATER`], and the engine should be told.
    pub fn push_all(&self, frames: &mut Frames) -> Result<bool, Overflow> {
        if !self.connected.load(Ordering::Relaxed)
            && frames.iter().any(|(f, _)| f.first() == Some(&0x20))
        {
            self.connected.store(true, Ordering::Release);
        }
        let mut s = self.lock();
        if s.closed {
            frames.clear();
            return Ok(false);
        }
        let mut overflow = None;
        let (limit, mut bytes, mut dropped) = (self.limit, s.bytes, 0);
        frames.retain(|(frame, droppable)| {
            if *droppable && bytes + frame.len() > limit {
                dropped += 1;
                return false;
            }
            if bytes + frame.len() > limit.saturating_mul(2) {
                overflow.get_or_insert(Overflow { waiting: bytes });
                return false;
            }
            bytes += frame.len();
            true
        });
        if dropped > 0 {
            self.dropped.fetch_add(dropped, Ordering::Relaxed);
        }
        s.bytes = bytes;
        let congested = !s.congested && s.bytes + s.writing > HIGH_WATER;
        s.congested |= congested;
        if s.frames.is_empty() {
            std::mem::swap(&mut s.frames, frames);
        } else {
            s.frames.append(frames);
        }
        let waker = if s.frames.is_empty() {
            None
        } else {
            s.waker.take()
        };
        drop(s);
        if let Some(waker) = waker {
            waker.wake();
        }
        overflow.map_or(Ok(congested), Err)
    }

    /// The writer has written what it took. `true`: the connection was congested and the
    /// bytes waiting are down to [`LOW_WATER`], and the engine should be told it drained.
    pub fn written(&self) -> bool {
        let mut s = self.lock();
        s.writing = 0;
        let drained = s.congested && s.bytes <= LOW_WATER;
        if drained {
            s.congested = false;
        }
        drained
    }

    /// The engine takes no more PUBLISHes from this connection for now.
    pub fn pause(&self) {
        let _s = self.lock();
        self.paused.store(true, Ordering::Release);
    }

    /// The engine takes PUBLISHes again: the reader goes on.
    pub fn resume(&self) {
        let mut s = self.lock();
        self.paused.store(false, Ordering::Release);
        let reader = s.reader.take();
        drop(s);
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    /// Whether the engine has paused the connection.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// The reader sends an input on the ordered channel.
    pub fn sent_in_order(&self) {
        self.in_order.fetch_add(1, Ordering::AcqRel);
    }

    /// The engine task has applied an input that came on the ordered channel.
    pub fn applied_in_order(&self) {
        self.in_order.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether everything the reader sent on the ordered channel has been applied.
    pub fn all_applied(&self) -> bool {
        self.in_order.load(Ordering::Acquire) == 0
    }

    /// Whether the engine has sent CONNACK on this connection.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// Waits until the engine resumes the connection (at once if it is not paused).
    pub fn resumed(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut s = self.lock();
            if !self.paused.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            match &mut s.reader {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the end: the writer flushes what is queued, then closes the connection.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        let waker = s.waker.take();
        drop(s);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the engine has closed the connection.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// QoS 0 frames dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits for frames, then takes them all into `frames` (empty). Returns false once the
    /// outbox is closed and empty. While it waits, `buf` (the writer's buffer, empty) gives
    /// back what a burst grew it to: an idle connection holds a small buffer at most.
    pub fn take_into<'a>(
        &'a self,
        frames: &'a mut Frames,
        buf: &'a mut BytesMut,
    ) -> impl Future<Output = bool> + 'a {
        std::future::poll_fn(move |cx| self.poll_take(cx, frames, buf))
    }

    fn poll_take(
        &self,
        cx: &mut Context<'_>,
        frames: &mut Frames,
        buf: &mut BytesMut,
    ) -> Poll<bool> {
        let mut s = self.lock();
        if !s.frames.is_empty() {
            *frames = std::mem::take(&mut s.frames);
            s.writing = s.bytes;
            s.bytes = 0;
            return Poll::Ready(true);
        }
        if s.closed {
            return Poll::Ready(false);
        }
        if buf.is_empty() && buf.capacity() > IDLE_WRITE_BUFFER {
            *buf = BytesMut::new();
        }
        match &mut s.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Waits for frames, then copies them all into `buf`, for tests.
    #[cfg(test)]
    pub async fn drain_into(&self, buf: &mut BytesMut) -> bool {
        let mut frames = Frames::new();
        if !self.take_into(&mut frames, buf).await {
            return false;
        }
        for (frame, _) in &frames {
            buf.extend_from_slice(frame);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

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
        let mut buf = BytesMut::new();
        assert!(outbox.drain_into(&mut buf).await);
        assert_eq!(buf.len(), 180);
        outbox.push(frame(150), false).unwrap(); // Drained: room again.
    }

    #[tokio::test]
    async fn a_batch_is_pushed_in_order_frame_by_frame() {
        let outbox = Outbox::new(100);
        let mut batch = vec![(Bytes::from_static(b"a"), false)];
        outbox.push_all(&mut batch).unwrap();
        assert!(batch.is_empty());
        let mut batch = vec![
            (frame(79), true),
            (frame(40), true),   // Dropped: 120 > 100.
            (frame(150), false), // 230 > 200: overflow, left out.
            (frame(100), false), // 180: still queued.
        ];
        assert_eq!(outbox.push_all(&mut batch).unwrap_err().waiting, 80);
        assert_eq!(outbox.dropped(), 1);
        let mut buf = BytesMut::new();
        assert!(outbox.drain_into(&mut buf).await);
        assert_eq!(buf.len(), 180);
        assert_eq!(buf[0], b'a', "in order, the earlier batch first");
    }

    #[tokio::test]
    async fn close_flushes_then_ends() {
        let outbox = Outbox::new(100);
        outbox.push(frame(3), false).unwrap();
        outbox.close();
        outbox.push(frame(3), false).unwrap(); // Ignored after the close.
        let mut buf = BytesMut::new();
        assert!(outbox.drain_into(&mut buf).await);
        assert_eq!(buf.len(), 3);
        buf.clear();
        assert!(!outbox.drain_into(&mut buf).await);
        assert!(outbox.is_closed());
    }

    #[tokio::test]
    async fn a_waiting_writer_is_woken_by_a_push_and_by_the_close() {
        let outbox = Arc::new(Outbox::new(100));
        let writer = {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let mut buf = BytesMut::new();
                let mut got = 0;
                while outbox.drain_into(&mut buf).await {
                    got += buf.len();
                    buf.clear();
                }
                got
            })
        };
        tokio::task::yield_now().await;
        outbox.push(frame(5), false).unwrap();
        tokio::task::yield_now().await;
        outbox.push(frame(7), false).unwrap();
        outbox.close();
        assert_eq!(writer.await.unwrap(), 12);
    }
}
