//! One network connection: read and decode packets for the engine, write what the engine
//! sends back.
//!
//! Most connections are idle most of the time, so what one holds while it waits is kept
//! small: the read buffer shrinks back to a few dozen bytes once a burst is over (and grows,
//! up to [`MAX_READ`], while data streams in), a single frame is written straight from where
//! the engine encoded it (several are gathered in a write buffer, given back when large), and
//! the rare wait for room in the engine's channel is boxed rather than stored in every
//! connection's future.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::{self, error::TrySendError};

use super::outbox::{Frames, Outbox};
use super::Event;
use crate::codec::{decode, Packet, Protocol};
use crate::engine::{ConnId, Input};

/// The smallest read: what an idle connection's read buffer holds.
const MIN_READ: usize = 32;
/// The largest read a connection streaming data grows to.
const MAX_READ: usize = 16 * 1024;

/// Runs a connection, given the two halves of its stream, until the engine closes it or the
/// peer goes away.
pub async fn run<R, W>(
    reader: R,
    writer: W,
    conn: ConnId,
    outbox: &Outbox,
    events: &mpsc::Sender<Event>,
    max_packet_size: u32,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    {
        // The connection lives as long as its writer, which ends when the engine closes the
        // outbox (after flushing, so a final DISCONNECT goes out) or when a write fails. The
        // reader may end first (end of stream, malformed input): the engine has been told and
        // its Close will follow.
        let read = read_loop(reader, conn, events, max_packet_size);
        let write = write_loop(writer, outbox);
        tokio::pin!(read, write);
        let mut reading = true;
        loop {
            tokio::select! {
                _ = &mut write => break,
                _ = &mut read, if reading => reading = false,
            }
        }
    }
    if !outbox.is_closed() {
        // The write failed before the engine closed the connection: tell it.
        let _ = send(events, Event::Input(conn, Input::Closed)).await;
    }
}

/// Sends an event to the engine; the future gives false once the engine has stopped.
///
/// The channel almost always has room, and then the event is sent before this returns. The
/// wait for room is a large future, so it is boxed: what an awaiting caller stores is a
/// pointer, not the event and a channel future in every connection.
pub(super) fn send(events: &mpsc::Sender<Event>, event: Event) -> Sending<'_> {
    match events.try_send(event) {
        Ok(()) => Sending::Done(true),
        Err(TrySendError::Full(event)) => {
            Sending::Waiting(Box::pin(async move { events.send(event).await.is_ok() }))
        }
        Err(TrySendError::Closed(_)) => Sending::Done(false),
    }
}

/// An event on its way to the engine: sent (or refused) already, or waiting for room.
pub(super) enum Sending<'a> {
    Done(bool),
    Waiting(Pin<Box<dyn Future<Output = bool> + Send + 'a>>),
}

impl Future for Sending<'_> {
    type Output = bool;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        match self.get_mut() {
            Sending::Done(sent) => Poll::Ready(*sent),
            Sending::Waiting(wait) => wait.as_mut().poll(cx),
        }
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    mut reader: R,
    conn: ConnId,
    events: &mpsc::Sender<Event>,
    max_packet_size: u32,
) {
    let mut buf = BytesMut::new();
    // How much room the next read gets: doubled while reads fill it, cut back to what a read
    // brought when one does not.
    let mut want = MIN_READ;
    // CONNECT names its own protocol; until it arrives any protocol decodes it.
    let mut protocol = Protocol::V5;
    loop {
        loop {
            // The input is moved into the event before any await: what a read loop stores
            // while it waits stays small.
            let input = match decode(&mut buf, protocol, max_packet_size) {
                Ok(Some(packet)) => {
                    if let Packet::Connect(c) = &packet {
                        protocol = c.protocol;
                    }
                    Input::Packet(packet)
                }
                Ok(None) => break,
                Err(error) => Input::Malformed(error),
            };
            let malformed = matches!(input, Input::Malformed(_));
            if !send(events, Event::Input(conn, input)).await || malformed {
                return;
            }
        }
        if buf.is_empty() && want == MIN_READ {
            // Everything read has been decoded and little is coming: start afresh rather
            // than keep a buffer that the packets taken out of it share (and its
            // bookkeeping), or that a burst grew.
            buf = BytesMut::new();
        }
        if buf.capacity() - buf.len() < want {
            buf.reserve(want);
        }
        let room = buf.capacity() - buf.len();
        match reader.read_buf(&mut buf).await {
            Ok(0) | Err(_) => {
                send(events, Event::Input(conn, Input::Closed)).await;
                return;
            }
            Ok(n) if n >= room => want = (want * 2).min(MAX_READ),
            Ok(n) => want = want.min(n.next_power_of_two()).max(MIN_READ),
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(mut writer: W, outbox: &Outbox) {
    // Empty until several frames are to be written at once.
    let mut buf = BytesMut::new();
    let mut frames = Frames::new();
    while outbox.take_into(&mut frames, &mut buf).await {
        let written = match frames.as_slice() {
            [(frame, _)] => writer.write_all(frame).await,
            _ => {
                buf.reserve(frames.iter().map(|(frame, _)| frame.len()).sum());
                for (frame, _) in &frames {
                    buf.extend_from_slice(frame);
                }
                let written = writer.write_all(&buf).await;
                buf.clear();
                written
            }
        };
        frames = Frames::new();
        if written.is_err() {
            return;
        }
    }
    let _ = writer.flush().await;
    let _ = writer.shutdown().await;
}
