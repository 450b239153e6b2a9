//! When a connection's bytes arrived.
//!
//! Arrival order across connections is the order the engine must apply their packets in
//! (rule 4 of the house): a SUBSCRIBE that reached the broker before another client's PUBLISH
//! must be applied first. The order reader tasks *run* in says little about it: the runtime
//! wakes them in about the order their sockets became readable, but may run the last one
//! woken first (tokio's LIFO slot), or on another thread. So a read is stamped with the
//! kernel's receive time of its bytes where the transport has one (TCP on Linux, see
//! `timed`); otherwise a read that had to wait is stamped with the moment its task was woken,
//! and a read that found its bytes already there with when it started. The engine task sorts
//! each round by these stamps.
//!
//! The engine task may still be ahead of a reader that was woken before the event it is about
//! to apply, and has not run yet, or of a reader busy with its last read whose socket holds
//! more that arrived meanwhile. So readers count (per server), each under a ticket, from the
//! moment they are woken until they have handed their bytes over, and from the moment a read
//! brings bytes until their next read finds the socket empty; the engine task, when a round
//! is small, lets the readers counted before its newest read catch up (for microseconds,
//! unless a thread was preempted) before it orders the round. A reader that waits for the
//! engine on purpose (it holds back a paused publisher) stops counting while it waits.
//!
//! The stamp is taken by wrapping the reader's waker for the read: one allocation per
//! connection, reused for every read.

use std::collections::BTreeSet;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use tokio::io::AsyncRead;
use tokio::sync::Notify;
use tokio_util::io::poll_read_buf;

/// The waker a connection's reads wait with: it notes when it was woken, then wakes the task.
pub(super) struct Stamp {
    state: Mutex<State>,
    /// Readers of this server woken and not yet done handing over what they read.
    arriving: Arc<Arriving>,
    /// When the kernel received the newest bytes the transport read, in nanoseconds of the
    /// system clock since the Unix epoch (0: it does not say; see `timed`).
    received: AtomicU64,
    /// The socket's file descriptor, for [`Stamp::quiet`]'s look at what the kernel holds
    /// (-1: none known, or the connection has ended).
    fd: std::sync::atomic::AtomicI32,
}

/// The readers that may have bytes to hand over, by the ticket each got when it was woken or
/// its read brought bytes (tickets count up from 1 in that order), and a way to wait for
/// those counted before a given one.
#[derive(Default)]
pub(crate) struct Arriving {
    last: AtomicU64,
    outstanding: Mutex<BTreeSet<u64>>,
    settled: Notify,
}

impl Arriving {
    fn woken(&self) -> u64 {
        let ticket = self.last.fetch_add(1, Ordering::AcqRel) + 1;
        self.lock().insert(ticket);
        ticket
    }

    fn settled(&self, tickets: impl IntoIterator<Item = u64>) {
        let mut outstanding = self.lock();
        for ticket in tickets {
            outstanding.remove(&ticket);
        }
        drop(outstanding);
        self.settled.notify_waiters();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<u64>> {
        self.outstanding.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until every reader woken before the one with `ticket` has handed its bytes
    /// over, or `within` passes.
    pub async fn caught_up(&self, ticket: u64, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            if self.lock().first().is_none_or(|&first| first >= ticket) {
                return;
            }
            if tokio::time::timeout_at(deadline, settled).await.is_err() {
                return;
            }
        }
    }
}

#[derive(Default)]
struct State {
    task: Option<Waker>,
    /// When the read under way started, and when its waker was woken, if it was.
    started: Option<Instant>,
    woken: Option<Instant>,
    /// The ticket of the read under way (its wake's, or the one `busy` had when the bytes
    /// were there already), until its bytes are handed over.
    ticket: Option<u64>,
    /// Taken when a read brings bytes, given back when the next read finds none: more may
    /// arrive while the reader is busy with these, and it will read them without a wake.
    busy: Option<u64>,
    /// The connection's last stamp (its opening's, then its last read's): a read is never
    /// stamped earlier, so that the engine's sort keeps one connection's events in order
    /// (the kernel may have received a client's first bytes before the broker accepted the
    /// connection, and two clock readings are not exact).
    last: Option<Instant>,
    /// Whether a read is under way (polled, not yet done): only then does a wake count. The
    /// socket may wake a waker of a read that is over (a reader holding a paused publisher
    /// back), and that reader will not hand anything over until it reads again.
    reading: bool,
}

impl Stamp {
    pub fn new(arriving: Arc<Arriving>) -> Stamp {
        Stamp {
            state: Mutex::default(),
            arriving,
            received: AtomicU64::new(0),
            fd: std::sync::atomic::AtomicI32::new(-1),
        }
    }

    /// The connection's socket is `fd` (until [`Stamp::ended`]).
    pub fn set_fd(&self, fd: i32) {
        self.fd.store(fd, Ordering::Release);
    }

    /// The connection's socket is closed: its number may be another's now.
    pub fn ended(&self) {
        self.fd.store(-1, Ordering::Release);
    }

    /// Whether everything the connection's socket held has been read and handed over: the
    /// reader is neither woken nor busy with a read, and the kernel holds no byte (nor an
    /// end of stream) for it. Where the socket is not known (in-process connections), only
    /// the reader is looked at.
    pub fn quiet(&self) -> bool {
        let reader_idle = {
            let s = self.lock();
            s.ticket.is_none() && s.busy.is_none()
        };
        reader_idle && !kernel_holds_input(self.fd.load(Ordering::Acquire))
    }

    /// The connection was opened at `at`: its reads are stamped no earlier.
    pub fn opened(&self, at: Instant) {
        self.lock().last = Some(at);
    }

    /// The transport read bytes that the kernel received at `ns` (see `received`).
    pub fn received(&self, ns: u64) {
        self.received.store(ns, Ordering::Relaxed);
    }

    /// The reader has handed over what its last read brought.
    pub fn settled(&self) {
        let ticket = self.lock().ticket.take();
        if let Some(ticket) = ticket {
            self.arriving.settled([ticket]);
        }
    }

    /// The reader waits for something else than its socket (the engine's resuming it), or is
    /// gone: it stops counting until it is woken again.
    pub fn idle(&self) {
        let (ticket, busy) = {
            let mut s = self.lock();
            s.woken = None;
            s.reading = false;
            (s.ticket.take(), s.busy.take())
        };
        if ticket.is_some() || busy.is_some() {
            self.arriving.settled(ticket.into_iter().chain(busy));
        }
    }

    /// The read found the socket empty and waits: the reader stops counting, unless a wake
    /// came while it looked (`before` is the ticket it had when it began to look).
    fn found_empty(&self, before: Option<u64>) {
        let (ticket, busy) = {
            let mut s = self.lock();
            let ticket = match s.ticket {
                Some(_) if s.ticket == before => {
                    s.woken = None;
                    s.ticket.take()
                }
                _ => None,
            };
            (ticket, s.busy.take())
        };
        if ticket.is_some() || busy.is_some() {
            self.arriving.settled(ticket.into_iter().chain(busy));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Wake for Stamp {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let task = {
            let mut s = self.lock();
            if !s.reading {
                return;
            }
            s.woken.get_or_insert_with(Instant::now);
            if s.ticket.is_none() {
                s.ticket = Some(self.arriving.woken());
            }
            s.task.take()
        };
        if let Some(task) = task {
            task.wake();
        }
    }
}

/// Reads into `buf` from `reader`, and returns with the result when the bytes arrived (see
/// the module's text). A future of three pointers: every connection's future holds one.
pub(super) fn read<'a, R: AsyncRead + Unpin>(
    reader: &'a mut R,
    buf: &'a mut BytesMut,
    stamp: &'a Arc<Stamp>,
) -> StampedRead<'a, R> {
    {
        let mut s = stamp.lock();
        s.woken = None;
        s.started = Some(Instant::now());
        s.reading = true;
    }
    StampedRead { reader, buf, stamp }
}

impl<R> Drop for StampedRead<'_, R> {
    fn drop(&mut self) {
        self.stamp.lock().reading = false;
    }
}

/// A read that notes when its bytes arrived.
pub(super) struct StampedRead<'a, R> {
    reader: &'a mut R,
    buf: &'a mut BytesMut,
    stamp: &'a Arc<Stamp>,
}

impl<R: AsyncRead + Unpin> Future for StampedRead<'_, R> {
    /// The result, when the bytes arrived, and the ticket of the wake that brought them (0:
    /// they were there already).
    type Output = (io::Result<usize>, Instant, u64);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let before = {
            let mut s = this.stamp.lock();
            match &s.task {
                Some(task) if task.will_wake(cx.waker()) => {}
                _ => s.task = Some(cx.waker().clone()),
            }
            s.ticket
        };
        let waker = Waker::from(this.stamp.clone());
        let mut stamped = Context::from_waker(&waker);
        match poll_read_buf(Pin::new(&mut *this.reader), &mut stamped, this.buf) {
            Poll::Pending => {
                // The socket is empty: nothing to hand over until the next wake, which
                // stamps afresh.
                this.stamp.found_empty(before);
                Poll::Pending
            }
            Poll::Ready(result) => {
                let mut s = this.stamp.lock();
                s.reading = false;
                // What arrives from now on is read without a wake: the reader counts as busy
                // from this read on, under a new ticket.
                let busy = s.busy.replace(this.stamp.arriving.woken());
                if s.ticket.is_none() {
                    // No wake: the bytes came while the reader was busy with the last read.
                    s.ticket = busy;
                } else if let Some(busy) = busy {
                    this.stamp.arriving.settled([busy]);
                }
                let at = match this.stamp.received.load(Ordering::Relaxed) {
                    0 => s.woken.or(s.started).unwrap_or_else(Instant::now),
                    ns => instant_of(ns),
                };
                let at = s.last.map_or(at, |last| at.max(last));
                s.last = Some(at);
                Poll::Ready((result, at, s.ticket.unwrap_or(0)))
            }
        }
    }
}

/// Tells a stamp its connection's socket, and that it is closed when dropped (with the
/// stream, at the end of the connection's task).
pub(super) struct Socket(Arc<Stamp>);

impl Socket {
    #[cfg(unix)]
    pub fn new(stamp: &Arc<Stamp>, socket: &impl std::os::fd::AsRawFd) -> Socket {
        stamp.set_fd(socket.as_raw_fd());
        Socket(stamp.clone())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.0.ended();
    }
}

/// Whether the kernel holds unread input for socket `fd`: bytes, an end of stream, or an
/// error the reader has yet to meet. Looks without taking anything (`MSG_PEEK`) and without
/// waiting.
#[cfg(unix)]
fn kernel_holds_input(fd: i32) -> bool {
    if fd < 0 {
        return false;
    }
    let mut byte = 0u8;
    // SAFETY: a one-byte buffer of ours; MSG_PEEK leaves the socket's input as it was, and
    // MSG_DONTWAIT never blocks. A descriptor that is no longer a socket gives an error.
    let n = unsafe {
        libc::recv(
            fd,
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    if n >= 0 {
        return true; // A byte, or the end of the stream (0).
    }
    // Nothing to read, or no socket there any more: nothing held. Another error (a reset)
    // is the reader's to meet.
    let error = io::Error::last_os_error();
    let none = [libc::EAGAIN, libc::EWOULDBLOCK, libc::EBADF, libc::ENOTSOCK];
    !error.raw_os_error().is_some_and(|e| none.contains(&e))
}

#[cfg(not(unix))]
fn kernel_holds_input(_: i32) -> bool {
    false
}

/// The instant of the monotonic clock that stands for `ns` of the system clock (nanoseconds
/// since the Unix epoch; never later than now). The two clocks are read back to back, again
/// if a thread switch may have come between: a late reading would shift the stamp by as much.
fn instant_of(ns: u64) -> Instant {
    let mut tries = 0;
    loop {
        let before = Instant::now();
        let system = SystemTime::now();
        let after = Instant::now();
        tries += 1;
        if after - before <= Duration::from_micros(1) || tries == 4 {
            let now = system
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let ago = Duration::from_nanos(now.saturating_sub(ns));
            return before.checked_sub(ago).unwrap_or(before);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::BytesMut;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_read_that_waits_is_stamped_when_its_bytes_came() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let stamp = Arc::new(super::Stamp::new(Default::default()));
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let written = std::time::Instant::now();
            client.write_all(b"x").await.unwrap();
            (client, written)
        });
        let mut buf = BytesMut::new();
        let (read, at, _) = super::read(&mut server, &mut buf, &stamp).await;
        let received = std::time::Instant::now();
        let (_client, written) = writer.await.unwrap();
        assert_eq!(read.unwrap(), 1);
        assert!(at >= written && at <= received, "stamped when woken");
        // Bytes already there: stamped when the read started.
        let before = std::time::Instant::now();
        let mut buf = BytesMut::new();
        let mut ready: &[u8] = b"yz";
        let (read, at, _) = super::read(&mut ready, &mut buf, &stamp).await;
        assert_eq!(read.unwrap(), 2);
        assert!(at >= before && at <= std::time::Instant::now());
    }
}
