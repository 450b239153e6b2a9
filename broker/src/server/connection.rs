//! One network connection: read and decode packets for the engine, write what the engine
//! sends back.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::outbox::Outbox;
use super::Event;
use crate::codec::{decode, Packet, Protocol};
use crate::engine::{ConnId, Input};

/// Runs a connection until the engine closes it or the peer goes away.
pub async fn run<S>(
    stream: S,
    conn: ConnId,
    outbox: Arc<Outbox>,
    events: mpsc::Sender<Event>,
    max_packet_size: u32,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (reader, writer) = tokio::io::split(stream);
    // The connection lives as long as its writer, which ends when the engine closes the
    // outbox (after flushing, so a final DISCONNECT goes out) or when a write fails. The
    // reader may end first (end of stream, malformed input): the engine has been told and
    // its Close will follow.
    let read = read_loop(reader, conn, events.clone(), max_packet_size);
    let write = write_loop(writer, &outbox);
    tokio::pin!(read, write);
    let mut reading = true;
    loop {
        tokio::select! {
            _ = &mut write => break,
            _ = &mut read, if reading => reading = false,
        }
    }
    if !outbox.is_closed() {
        // The write failed before the engine closed the connection: tell it.
        let _ = events.send(Event::Input(conn, Input::Closed)).await;
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    mut reader: R,
    conn: ConnId,
    events: mpsc::Sender<Event>,
    max_packet_size: u32,
) {
    let mut buf = BytesMut::with_capacity(4096);
    // CONNECT names its own protocol; until it arrives any protocol decodes it.
    let mut protocol = Protocol::V5;
    loop {
        loop {
            match decode(&mut buf, protocol, max_packet_size) {
                Ok(Some(packet)) => {
                    if let Packet::Connect(c) = &packet {
                        protocol = c.protocol;
                    }
                    if events
                        .send(Event::Input(conn, Input::Packet(packet)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    let _ = events
                        .send(Event::Input(conn, Input::Malformed(error)))
                        .await;
                    return;
                }
            }
        }
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(4096);
        }
        match reader.read_buf(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = events.send(Event::Input(conn, Input::Closed)).await;
                return;
            }
            Ok(_) => {}
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(mut writer: W, outbox: &Outbox) {
    let mut buf = BytesMut::with_capacity(4096);
    while outbox.drain_into(&mut buf).await {
        if writer.write_all(&buf).await.is_err() {
            return;
        }
        buf.clear();
        if buf.capacity() > 1 << 20 {
            // Give back the memory a burst took.
            buf = BytesMut::with_capacity(4096);
        }
    }
    let _ = writer.flush().await;
    let _ = writer.shutdown().await;
}
