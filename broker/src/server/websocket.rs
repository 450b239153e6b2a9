//! MQTT over WebSocket (chapter 6 of MQTT 5.0, the same for 3.1.1).
//!
//! The upgrade is accepted only on the listener's path and only when the client offers the
//! subprotocol `mqtt`, which the answer then names [MQTT-6.0.0-4]. After it, a pump turns the
//! WebSocket into a plain byte stream for the connection task: binary frames are concatenated,
//! so MQTT packets may be split across frames or packed several to a frame
//! [MQTT-6.0.0-2]; a text frame closes the connection [MQTT-6.0.0-1]; what the broker writes
//! goes out as binary frames.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The subprotocol MQTT uses.
const SUBPROTOCOL: &str = "mqtt";
/// How long a client may take to complete the HTTP upgrade.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes buffered between the pump and the connection task in each direction.
const PIPE: usize = 64 * 1024;

/// Performs the upgrade and returns the byte stream the connection task reads and writes.
// The upgrade callback's error type is tungstenite's HTTP response, large by nature.
#[allow(clippy::result_large_err)]
pub async fn accept<S>(stream: S, path: &str) -> Result<DuplexStream, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let check = |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
        if request.uri().path() != path {
            return Err(refusal(
                StatusCode::NOT_FOUND,
                "no MQTT endpoint at this path",
            ));
        }
        let offers_mqtt = request
            .headers()
            .get_all("Sec-WebSocket-Protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == SUBPROTOCOL);
        if !offers_mqtt {
            return Err(refusal(
                StatusCode::BAD_REQUEST,
                "the WebSocket subprotocol \"mqtt\" is required",
            ));
        }
        response.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        Ok(response)
    };
    let ws = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        tokio_tungstenite::accept_hdr_async(stream, check),
    )
    .await
    .map_err(|_| "the WebSocket upgrade took too long".to_owned())?
    .map_err(|e| format!("WebSocket upgrade refused: {e}"))?;
    let (ours, theirs) = tokio::io::duplex(PIPE);
    tokio::spawn(pump(ws, theirs));
    Ok(ours)
}

fn refusal(status: StatusCode, why: &str) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(why.to_owned()));
    *response.status_mut() = status;
    response
}

/// Moves bytes between the WebSocket and the connection's pipe until either side ends.
async fn pump<S, P>(ws: WebSocketStream<S>, pipe: P)
where
    S: AsyncRead + AsyncWrite + Unpin,
    P: AsyncRead + AsyncWrite + Unpin,
{
    let (mut sink, mut frames) = ws.split();
    let (mut from_broker, mut to_broker) = tokio::io::split(pipe);
    let inbound = async {
        while let Some(frame) = frames.next().await {
            match frame {
                Ok(Message::Binary(data)) => {
                    if to_broker.write_all(&data).await.is_err() {
                        return;
                    }
                }
                Ok(Message::Text(_)) => {
                    tracing::info!("closed: a WebSocket text frame [MQTT-6.0.0-1]");
                    return;
                }
                Ok(Message::Close(_)) | Err(_) => return,
                // Pings are answered by tungstenite itself.
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
            }
        }
    };
    let outbound = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from_broker.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let frame = Message::binary(buf[..n].to_vec());
                    if sink.send(frame).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    };
    // Whichever direction ends first ends the connection: dropping the pipe tells the
    // connection task, dropping the socket tells the client.
    tokio::select! {
        _ = inbound => {}
        _ = outbound => {}
    }
}
