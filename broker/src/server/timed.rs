//! Reading TCP with the kernel's receive times.
//!
//! Which of two clients' packets came first is the order their bytes reached the broker's
//! sockets, and only the kernel saw that. A reader task may run long after its bytes came (a
//! busy or preempted thread, or bytes already waiting when its read began), and on a loaded
//! machine the runtime may even hear of the later socket first: the client's two writes can
//! be carried into the two sockets by the network stack on two CPUs, and the one that was
//! written first may wait behind a busy CPU. Measured on the 2-core VM with one busy process
//! beside the broker: in the test of `tests/order.rs`, the PUBLISH socket was woken before the
//! SUBSCRIBE socket written 5 µs before it in about one pair in two hundred.
//!
//! So TCP sockets ask for receive times (`SO_TIMESTAMPNS`): the kernel notes the time a
//! packet entered the network stack, on the CPU of the writer's system call, and each
//! `recvmsg` says when the newest bytes it returned were received. The reader notes it in its
//! connection's [`Stamp`], and the event read is stamped with it (see `stamp`). Under TLS and
//! WebSocket, the bytes a connection decodes were received no later than the newest TCP read
//! below them: the time of that read stands for them.
//!
//! Elsewhere than Linux, and on a socket that refuses the option, reads are plain and the
//! stamp is the wake's (see `stamp`).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::ReadHalf;
use tokio::net::{TcpListener, TcpStream};

use super::stamp::Stamp;

/// Asks the kernel for the receive time of what the connections accepted on `listener` read
/// (they inherit the option). Set on the listener, it also keeps the kernel stamping packets
/// for as long as the listener lives: the kernel turns stamping on some moments after the
/// first socket asks, and off when the last one closes, so a per-connection option would
/// leave a quiet broker's first packets unstamped. Refused, reads are stamped when their task
/// was woken, as elsewhere.
pub(super) fn enable(listener: &TcpListener) {
    #[cfg(target_os = "linux")]
    if let Err(e) = sys::enable(listener) {
        tracing::warn!(
            "no kernel receive times on this listener (arrival order is approximate): {e}"
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = listener;
}

/// The read half of a plain TCP connection, noting receive times in `stamp`.
pub(super) struct TimedRead<'a> {
    pub half: ReadHalf<'a>,
    pub stamp: Arc<Stamp>,
}

impl AsyncRead for TimedRead<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_read(this.half.as_ref(), cx, buf, &this.stamp)
    }
}

/// A TCP stream under TLS or WebSocket, noting receive times in `stamp`; writes go straight
/// through.
pub(super) struct Timed {
    pub stream: TcpStream,
    pub stamp: Arc<Stamp>,
}

impl AsyncRead for Timed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_read(&this.stream, cx, buf, &this.stamp)
    }
}

impl AsyncWrite for Timed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(target_os = "linux")]
fn poll_read(
    stream: &TcpStream,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
    stamp: &Stamp,
) -> Poll<io::Result<()>> {
    use std::os::fd::AsRawFd;
    use tokio::io::Interest;
    loop {
        ready!(stream.poll_read_ready(cx))?;
        let fd = stream.as_raw_fd();
        // SAFETY (of `assume_init` below): `recv` wrote the `n` bytes it returns at the start
        // of the unfilled part.
        let unfilled = unsafe { buf.unfilled_mut() };
        match stream.try_io(Interest::READABLE, || sys::recv(fd, unfilled)) {
            Ok((n, received)) => {
                if let Some(received) = received {
                    stamp.received(received);
                }
                // SAFETY: see above.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn poll_read(
    mut stream: &TcpStream,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
    _stamp: &Stamp,
) -> Poll<io::Result<()>> {
    Pin::new(&mut stream).poll_read(cx, buf)
}

#[cfg(target_os = "linux")]
mod sys {
    use std::io;
    use std::mem::{size_of, size_of_val, MaybeUninit};
    use std::os::fd::{AsRawFd, RawFd};

    pub fn enable(socket: &impl AsRawFd) -> io::Result<()> {
        let on: libc::c_int = 1;
        // SAFETY: a valid socket, and an option value of the size given.
        let done = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if done == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Reads into `buf`: how many bytes, and when the newest of them was received
    /// (nanoseconds of the system clock since the Unix epoch), if the kernel said.
    pub fn recv(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<(usize, Option<u64>)> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // Room for one control message holding a timespec, aligned as a cmsghdr is.
        let mut control = [0u64; 8];
        // SAFETY: all-zero is a valid msghdr (null pointers, zero lengths).
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control) as _;
        // SAFETY: `msg` points at `buf` (valid for its length) and at `control`, both alive
        // for the call.
        let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut received = None;
        // SAFETY: the kernel wrote `msg_controllen` bytes of control messages into `control`,
        // and the CMSG macros stay within them.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET
                    && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
                {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                    let ns = (ts.tv_sec as u64)
                        .saturating_mul(1_000_000_000)
                        .saturating_add(ts.tv_nsec as u64);
                    received = (ns > 0).then_some(ns);
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        Ok((n as usize, received))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use bytes::BytesMut;
    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::server::stamp;

    /// A read that begins after its bytes came is stamped when the kernel received them, not
    /// when the read began: the test that a plain read would fail.
    #[tokio::test]
    async fn a_read_is_stamped_when_the_kernel_received_its_bytes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        enable(&listener);
        // The kernel turns stamping on some moments after a socket asks (see `enable`).
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let written = Instant::now();
        client.write_all(b"hello").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let stamp = Arc::new(Stamp::new(Default::default()));
        let (half, _) = server.split();
        let mut reader = TimedRead {
            half,
            stamp: stamp.clone(),
        };
        let began = Instant::now();
        let mut buf = BytesMut::new();
        let (read, at, _) = stamp::read(&mut reader, &mut buf, &stamp).await;
        assert_eq!(read.unwrap(), 5);
        assert_eq!(&buf[..], b"hello");
        assert!(
            at >= written.checked_sub(Duration::from_millis(1)).unwrap() && at < began,
            "stamped {:?} after the write, the read began {:?} after it",
            at.saturating_duration_since(written),
            began - written
        );
    }
}
