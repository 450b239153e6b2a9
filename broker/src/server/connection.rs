//! One network connection: read and decode packets for the engine, write what the engine
//! sends back, and close so that the client reads the last packet.
//!
//! Most connections are idle most of the time, so what one holds while it waits is kept
//! small: the read buffer shrinks back to a few dozen bytes once a burst is over (and grows,
//! up to [`MAX_READ`], while data streams in), a single frame is written straight from where
//! the engine encoded it (several are gathered in a write buffer, given back when large), and
//! the rare wait for room in the engine's channel is boxed rather than stored in every
//! connection's future.
//!
//! The acknowledgements of messages sent to this client (PUBACK, PUBREC, PUBCOMP) take the
//! engine's priority channel when everything the client sent before them has been applied
//! (the outbox counts what is on its way), so they never overtake the client's own packets.
//!
//! While the engine holds the connection back (it publishes to a full destination, see the
//! engine's `flow`), the reader forwards only those acknowledgements. Everything else waits,
//! in order, until the engine resumes it; once [`HOLD`] packets wait, the reader stops
//! reading.
//!
//! When the engine closes the connection, the writer flushes the last frames (a DISCONNECT
//! with its reason code, a refusing CONNACK) and shuts its side down; the reader then reads
//! and discards what the client still sends, for up to [`DRAIN_ON_CLOSE`] or until it closes
//! too. Closing at once would answer a client still writing with a reset, and it might never
//! read the reason.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::outbox::{Frames, Outbox};
use super::stamp::{self, Stamp};
use super::to_engine::{Event, Sending, ToEngine};
use crate::codec::{decode, Packet, Protocol};
use crate::engine::{ConnId, Input};

/// The smallest read: what an idle connection's read buffer holds.
const MIN_READ: usize = 32;
/// The largest read a connection streaming data grows to.
const MAX_READ: usize = 16 * 1024;
/// Packets a paused connection keeps once read before it stops reading.
const HOLD: usize = 64;

/// The most one write copies frames together for: what a connection's write buffer grows to
/// while a backlog drains (a larger frame is written on its own, uncopied). Without it, every
/// subscriber of a burst held a buffer as large as its backlog at once.
const WRITE_CHUNK: usize = 64 * 1024;

/// Acknowledgements of deliveries sent ahead in one event at most.
const ACK_BATCH: usize = 256;

/// How long a connection the engine closed goes on reading (and discarding) its input.
const DRAIN_ON_CLOSE: Duration = Duration::from_secs(1);

/// Runs a connection, given the two halves of its stream, until the engine closes it or the
/// peer goes away. `arrival` stamps its reads (and may hear from the transport when its
/// bytes were received; see `timed`).
pub async fn run<R, W>(
    mut reader: R,
    writer: W,
    conn: ConnId,
    outbox: &Outbox,
    to_engine: &ToEngine,
    max_packet_size: u32,
    arrival: Arc<Stamp>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    {
        // The connection lives as long as its writer, which ends when the engine closes the
        // outbox (after flushing, so a final DISCONNECT goes out) or when a write fails. The
        // reader may end first (end of stream, malformed input): the engine has been told and
        // its Close will follow.
        let read = read_loop(
            &mut reader,
            conn,
            outbox,
            to_engine,
            max_packet_size,
            &arrival,
        );
        let write = write_loop(writer, conn, outbox, to_engine);
        tokio::pin!(read, write);
        let mut reading = true;
        loop {
            tokio::select! {
                _ = &mut write => break,
                _ = &mut read, if reading => reading = false,
            }
        }
    }
    if outbox.is_closed() {
        // Boxed: a timer is large, and every connection's future would hold its room.
        Box::pin(drain(&mut reader)).await;
    } else {
        // The write failed before the engine closed the connection: tell it.
        let _ = to_engine
            .send(Event::Input(conn, Input::Closed), Instant::now())
            .await;
    }
}

/// Reads and discards what the client still sends after the close, until it closes its side
/// or [`DRAIN_ON_CLOSE`] passes.
async fn drain<R: AsyncRead + Unpin>(reader: &mut R) {
    // On the heap: the future of every connection would otherwise hold it.
    let mut scratch = vec![0u8; 512];
    let _ = tokio::time::timeout(DRAIN_ON_CLOSE, async {
        while let Ok(1..) = reader.read(&mut scratch).await {}
    })
    .await;
}

/// Whether a packet may go ahead of PUBLISHes its client sent before it: the acknowledgement
/// of a message sent to the client (another flow than its own publishing). PINGREQ may not:
/// a client that broke the protocol before it must not get its PINGRESP.
fn may_overtake(input: &Input) -> bool {
    matches!(
        input,
        Input::Packet(Packet::PubAck(_) | Packet::PubRec(_) | Packet::PubComp(_))
    )
}

/// What the reader has read and not yet handed to the engine, and the way there.
struct Forward<'a> {
    conn: ConnId,
    outbox: &'a Outbox,
    to_engine: &'a ToEngine,
    /// Input read while the engine held the connection back, in order.
    held: Option<VecDeque<(Instant, Input)>>,
    /// The ticket of the wake of the read being handed over (see `stamp`).
    ticket: u64,
    /// Acknowledgements of deliveries this read brought, to send ahead together.
    acks: Vec<Input>,
}

impl Forward<'_> {
    /// Keeps an acknowledgement of a delivery to go ahead with the others of its read, or
    /// gives the input back. They go ahead once the engine knows the connection (they cannot
    /// come before its CONNECT then), when everything sent before them has been applied and
    /// only PUBLISHes are held: nothing they overtake could change the answer. Together,
    /// because a subscriber's read brings dozens of them, and each event through the
    /// channel costs more than the acknowledgement does.
    fn batch_ack(&mut self, input: Input) -> Option<Input> {
        if may_overtake(&input)
            && (!self.acks.is_empty()
                || (self.outbox.is_connected()
                    && !self.holds_other_than_publish()
                    && self.outbox.all_applied()))
        {
            self.acks.push(input);
            return None;
        }
        Some(input)
    }

    /// Sends the acknowledgements kept by [`Forward::batch_ack`], read at `at`, ahead of the
    /// ordered events.
    fn send_acks(&mut self, at: Instant) -> Sending<'_> {
        let event = match self.acks.len() {
            0 => return Sending::Done(true),
            1 => Event::Input(self.conn, self.acks.pop().expect("one")),
            _ => Event::Acks(self.conn, std::mem::take(&mut self.acks)),
        };
        self.to_engine.send_priority(event, at)
    }

    /// Hands one input, read at `at`, to the engine, or keeps it behind what is held; the
    /// future gives false once the engine has stopped. (Not an `async fn`: the input is moved
    /// on at once, and what an awaiting reader stores stays small.)
    fn input(&mut self, input: Input, at: Instant) -> Sending<'_> {
        if !self.acks.is_empty() {
            // The acknowledgements kept go first; the input is held behind them, and goes
            // when the read is settled.
            self.held
                .get_or_insert_with(Default::default)
                .push_back((at, input));
            return self.send_acks(at);
        }
        if self.outbox.is_paused() || self.held.is_some() {
            self.held
                .get_or_insert_with(Default::default)
                .push_back((at, input));
            return Sending::Done(true);
        }
        self.outbox.sent_in_order();
        self.to_engine
            .send_read(Event::Input(self.conn, input), at, self.ticket)
    }

    /// Whether something other than a PUBLISH is held (at most [`HOLD`] and a read's worth
    /// are, and this is asked only of an acknowledgement while some are).
    fn holds_other_than_publish(&self) -> bool {
        let publish = |input: &Input| matches!(input, Input::Packet(Packet::Publish(_)));
        self.held
            .as_ref()
            .is_some_and(|held| held.iter().any(|(_, input)| !publish(input)))
    }

    /// Hands over what is held if the engine has resumed the connection. Waits for it while
    /// the hold is full, or, with `all`, until nothing is held (the input has ended); the
    /// reader stops counting as arriving meanwhile (see `stamp`). False once the engine has
    /// stopped.
    async fn settle(&mut self, all: bool, arrival: &Stamp) -> bool {
        loop {
            while !self.outbox.is_paused() {
                match self.next_held() {
                    Some(sending) => {
                        if !sending.await {
                            return false;
                        }
                    }
                    None => return true,
                }
            }
            let Some(held) = &self.held else {
                return true;
            };
            if !all && held.len() < HOLD {
                return true;
            }
            arrival.idle();
            self.outbox.resumed().await;
        }
    }

    /// Sends the first input held, if there is one (and lets the queue go with the last).
    fn next_held(&mut self) -> Option<Sending<'_>> {
        let held = self.held.as_mut()?;
        let Some((at, input)) = held.pop_front() else {
            self.held = None;
            return None;
        };
        if held.is_empty() {
            self.held = None;
        }
        self.outbox.sent_in_order();
        Some(self.to_engine.send(Event::Input(self.conn, input), at))
    }
}

/// Marks a reader settled when it ends, however it ends.
struct Settled<'a>(&'a Stamp);

impl Drop for Settled<'_> {
    fn drop(&mut self) {
        self.0.idle();
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    reader: &mut R,
    conn: ConnId,
    outbox: &Outbox,
    to_engine: &ToEngine,
    max_packet_size: u32,
    arrival: &Arc<Stamp>,
) {
    let mut forward = Forward {
        conn,
        outbox,
        to_engine,
        held: None,
        ticket: 0,
        acks: Vec::new(),
    };
    let mut buf = BytesMut::new();
    // How much room the next read gets: doubled while reads fill it, cut back to what a read
    // brought when one does not.
    let mut want = MIN_READ;
    // CONNECT names its own protocol; until it arrives any protocol decodes it.
    let mut protocol = Protocol::V5;
    // When the bytes being decoded arrived, and the waker that tells.
    let mut at = Instant::now();
    let _settled = Settled(arrival);
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
            let Some(input) = forward.batch_ack(input) else {
                if forward.acks.len() >= ACK_BATCH && !forward.send_acks(at).await {
                    return;
                }
                continue;
            };
            let malformed = matches!(input, Input::Malformed(_));
            if !forward.input(input, at).await {
                return;
            }
            if malformed {
                arrival.idle();
                forward.settle(true, arrival).await;
                return;
            }
        }
        if !forward.send_acks(at).await {
            return;
        }
        // Everything this read brought has been handed over (or held).
        arrival.settled();
        if !forward.settle(false, arrival).await {
            return;
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
        let (read, arrived, ticket) = if forward.held.is_some() {
            // What is held must go as soon as the engine resumes the connection, whether
            // or not the client sends more: it may be waiting for their acknowledgements.
            tokio::select! {
                read = stamp::read(reader, &mut buf, arrival) => read,
                _ = outbox.resumed() => continue,
            }
        } else {
            stamp::read(reader, &mut buf, arrival).await
        };
        at = arrived;
        forward.ticket = ticket;
        match read {
            Ok(0) | Err(_) => {
                if forward.input(Input::Closed, at).await {
                    arrival.idle();
                    forward.settle(true, arrival).await;
                }
                return;
            }
            Ok(n) if n >= room => want = (want * 2).min(MAX_READ),
            Ok(n) => want = want.min(n.next_power_of_two()).max(MIN_READ),
        }
    }
}

/// How many of `frames`, from the first, fit in `room` bytes.
fn frames_within(frames: &[(Bytes, bool)], mut room: usize) -> usize {
    frames
        .iter()
        .take_while(|(frame, _)| {
            let fits = frame.len() <= room;
            room = room.saturating_sub(frame.len());
            fits
        })
        .count()
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut writer: W,
    conn: ConnId,
    outbox: &Outbox,
    to_engine: &ToEngine,
) {
    // Empty until several frames are to be written at once.
    let mut buf = BytesMut::new();
    let mut frames = Frames::new();
    while outbox.take_into(&mut frames, &mut buf).await {
        let mut start = 0;
        let mut failed = false;
        while start < frames.len() {
            let first = frames[start].0.len();
            let n = 1 + frames_within(&frames[start + 1..], WRITE_CHUNK.saturating_sub(first));
            let written = if n == 1 {
                writer.write_all(&frames[start].0).await
            } else {
                let batch = &frames[start..start + n];
                buf.reserve(batch.iter().map(|(frame, _)| frame.len()).sum());
                for (frame, _) in batch {
                    buf.extend_from_slice(frame);
                }
                let written = writer.write_all(&buf).await;
                buf.clear();
                written
            };
            if written.is_err() {
                failed = true;
                break;
            }
            start += n;
        }
        frames = Frames::new();
        if failed {
            return;
        }
        if outbox.written() {
            let drained = Event::Input(conn, Input::Drained);
            if !to_engine.send_priority(drained, Instant::now()).await {
                return;
            }
        }
    }
    let _ = writer.flush().await;
    let _ = writer.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(sizes: &[usize]) -> Frames {
        sizes
            .iter()
            .map(|&n| (Bytes::from(vec![0; n]), false))
            .collect()
    }

    #[test]
    fn a_write_takes_the_frames_that_fit_its_room() {
        assert_eq!(frames_within(&frames(&[10, 10, 10]), 25), 2);
        assert_eq!(frames_within(&frames(&[10, 10, 10]), 30), 3);
        // Stops at the first that does not fit, keeping the order.
        assert_eq!(frames_within(&frames(&[10, 30, 5]), 25), 1);
        assert_eq!(frames_within(&frames(&[10]), 0), 0);
        assert_eq!(frames_within(&[], 100), 0);
    }
}
