//! The raw-packet test client: a TCP connection that sends exact bytes and hands back every
//! frame the broker writes, and the moment the broker closes.
//!
//! Framing here is the client's own (fixed header, Remaining Length, body), not the broker's
//! codec, so a frame the broker gets wrong is still seen whole; the steps decide whether to
//! decode it.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, Context};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// What the broker did on a connection, in the order it did it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// One whole MQTT control packet: fixed header, Remaining Length and body.
    Frame(Vec<u8>),
    /// The broker closed the connection (or reset it). Nothing follows.
    Closed,
}

/// The sending half of a connection.
#[derive(Debug)]
enum Writer {
    Tcp(OwnedWriteHalf),
    /// Each send is one WebSocket binary frame.
    WebSocket(SplitSink<WebSocketStream<TcpStream>, Message>),
}

/// One test connection.
#[derive(Debug)]
pub struct Connection {
    writer: Option<Writer>,
    events: mpsc::UnboundedReceiver<Event>,
    closed: bool,
}

impl Connection {
    /// Opens a TCP connection and starts reading frames in the background.
    pub async fn open(addr: SocketAddr, wait: Duration) -> anyhow::Result<Connection> {
        let stream = timeout(wait, TcpStream::connect(addr))
            .await
            .map_err(|_| anyhow::anyhow!("connecting to {addr} took longer than {wait:?}"))??;
        stream.set_nodelay(true)?;
        let (mut reader, writer) = stream.into_split();
        let (tx, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(4096);
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                if !forward_frames(&mut buf, &tx) {
                    return;
                }
                match reader.read(&mut chunk).await {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(Event::Closed);
                        return;
                    }
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
        });
        Ok(Connection {
            writer: Some(Writer::Tcp(writer)),
            events,
            closed: false,
        })
    }

    /// Opens a WebSocket connection to `ws://addr{path}`, offering `subprotocol` if given,
    /// and returns it with the subprotocol the server selected. MQTT packets are read from
    /// the concatenated binary frames, wherever the frame boundaries fall.
    pub async fn open_websocket(
        addr: SocketAddr,
        path: &str,
        subprotocol: Option<&str>,
        wait: Duration,
    ) -> anyhow::Result<(Connection, Option<String>)> {
        let stream = timeout(wait, TcpStream::connect(addr))
            .await
            .map_err(|_| anyhow!("connecting to {addr} took longer than {wait:?}"))??;
        stream.set_nodelay(true)?;
        let mut request = format!("ws://{addr}{path}").into_client_request()?;
        if let Some(p) = subprotocol {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_str(p)?);
        }
        let (ws, response) = timeout(wait, tokio_tungstenite::client_async(request, stream))
            .await
            .map_err(|_| anyhow!("the WebSocket upgrade took longer than {wait:?}"))?
            .context("WebSocket upgrade")?;
        let selected = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (sink, mut frames) = ws.split();
        let (tx, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(4096);
            while let Some(Ok(message)) = frames.next().await {
                match message {
                    Message::Binary(data) => buf.extend_from_slice(&data),
                    Message::Close(_) => break,
                    _ => continue,
                }
                if !forward_frames(&mut buf, &tx) {
                    return;
                }
            }
            let _ = tx.send(Event::Closed);
        });
        let conn = Connection {
            writer: Some(Writer::WebSocket(sink)),
            events,
            closed: false,
        };
        Ok((conn, selected))
    }

    /// Sends one WebSocket text frame (on a TCP connection, the bytes of the text).
    pub async fn send_text(&mut self, text: &str) {
        match self.writer.as_mut() {
            Some(Writer::WebSocket(sink)) => {
                if sink.send(Message::text(text)).await.is_err() {
                    self.writer = None;
                }
            }
            _ => self.send(text.as_bytes()).await,
        }
    }

    /// Writes bytes. A broker that has already closed the connection makes this fail silently:
    /// what the broker did is asserted from the events, not from the write.
    pub async fn send(&mut self, bytes: &[u8]) {
        let ok = match self.writer.as_mut() {
            None => return,
            Some(Writer::Tcp(w)) => w.write_all(bytes).await.is_ok() && w.flush().await.is_ok(),
            Some(Writer::WebSocket(sink)) => {
                sink.send(Message::binary(bytes.to_vec())).await.is_ok()
            }
        };
        if !ok {
            self.writer = None;
        }
    }

    /// Closes the client's side of the connection without a DISCONNECT: to the broker this is
    /// the network connection ending.
    pub async fn close(&mut self) {
        match self.writer.take() {
            Some(Writer::Tcp(mut w)) => {
                let _ = w.shutdown().await;
            }
            Some(Writer::WebSocket(mut sink)) => {
                let _ = sink.close().await;
            }
            None => {}
        }
    }

    /// The next event, or `None` when nothing happens within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Event> {
        if self.closed {
            return Some(Event::Closed);
        }
        match timeout(wait, self.events.recv()).await {
            Ok(Some(event)) => {
                if event == Event::Closed {
                    self.closed = true;
                }
                Some(event)
            }
            Ok(None) => {
                self.closed = true;
                Some(Event::Closed)
            }
            Err(_) => None,
        }
    }
}

/// Hands every whole frame at the front of `buf` to the channel; false once nobody listens.
fn forward_frames(buf: &mut Vec<u8>, tx: &mpsc::UnboundedSender<Event>) -> bool {
    while let Some(len) = frame_len(buf) {
        let frame: Vec<u8> = buf.drain(..len).collect();
        if tx.send(Event::Frame(frame)).is_err() {
            return false;
        }
    }
    true
}

/// The length of the first frame in `buf`, if all of it has arrived.
fn frame_len(buf: &[u8]) -> Option<usize> {
    let mut remaining = 0usize;
    for i in 0..4 {
        let byte = *buf.get(1 + i)?;
        remaining |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let total = 1 + i + 1 + remaining;
            return (buf.len() >= total).then_some(total);
        }
    }
    // A fifth length byte is malformed; hand the bytes over as one frame so that the step that
    // reads it fails with the bytes in its message.
    Some(buf.len())
}

#[cfg(test)]
mod tests {
    use super::frame_len;

    #[test]
    fn frames_are_cut_at_their_remaining_length() {
        assert_eq!(frame_len(&[0x20]), None);
        assert_eq!(frame_len(&[0x20, 0x02, 0x00]), None);
        assert_eq!(frame_len(&[0x20, 0x02, 0x00, 0x00, 0xD0]), Some(4));
        assert_eq!(frame_len(&[0xD0, 0x00]), Some(2));
        let mut long = vec![0x30, 0x80, 0x01];
        long.extend(vec![0; 128]);
        assert_eq!(frame_len(&long), Some(131));
    }
}
