//! WebSocket over TLS: `transport = "websocket"` with a `[listener.tls]` table. The TLS
//! handshake comes first, then the HTTP upgrade (subprotocol `mqtt`, the listener's path),
//! then MQTT in binary frames.

use futures_util::{SinkExt, StreamExt};
use tern::config::Transport;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::*;

/// Upgrades `stream` at `url`, offering the subprotocol `mqtt`.
async fn upgrade<S>(stream: S, url: &str) -> Result<WebSocketStream<S>, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "mqtt".parse().unwrap());
    let (ws, response) = timeout(WAIT, tokio_tungstenite::client_async(request, stream))
        .await
        .map_err(|_| "the upgrade took too long".to_owned())?
        .map_err(|e| e.to_string())?;
    assert_eq!(response.headers()["sec-websocket-protocol"], "mqtt");
    Ok(ws)
}

/// Sends `packet` in one binary frame and returns the next binary frame.
async fn ws_exchange<S>(ws: &mut WebSocketStream<S>, packet: &[u8]) -> Vec<u8>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.send(Message::binary(packet.to_vec())).await.unwrap();
    loop {
        let frame = timeout(WAIT, ws.next())
            .await
            .expect("an answer in time")
            .expect("an open WebSocket")
            .expect("a frame");
        if let Message::Binary(data) = frame {
            return data.to_vec();
        }
    }
}

pub(crate) fn wss_listener(pki: &Pki) -> Listener {
    let mut l = listener();
    l.transport = Transport::Websocket;
    l.tls = Some(tls(pki));
    l
}

#[tokio::test]
async fn mqtt_over_websocket_over_tls() {
    let pki = Pki::new("wss");
    let broker = Broker::start(config(vec![wss_listener(&pki)])).await;
    let url = format!("wss://localhost:{}/mqtt", broker.addr().port());
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let client = client_config(&pki, None, &[version]);
        let stream = tls_connect(broker.addr(), client).await.unwrap();
        let mut ws = upgrade(stream, &url).await.unwrap();
        let connack = ws_exchange(&mut ws, &connect_packet(5, "wss", None, None, &[])).await;
        assert_eq!(connack_code(&connack), 0x00);
        // PINGREQ -> PINGRESP.
        assert_eq!(ws_exchange(&mut ws, &[0xC0, 0x00]).await, [0xD0, 0x00]);
    }

    // The wrong path is refused after the TLS handshake, as on plain WebSocket.
    let stream = tls_connect(broker.addr(), client_config(&pki, None, BOTH))
        .await
        .unwrap();
    let wrong = format!("wss://localhost:{}/other", broker.addr().port());
    let e = upgrade(stream, &wrong).await.expect_err("refused");
    assert!(e.contains("404"), "{e}");

    // A plain WebSocket client on the WSS port gets no upgrade.
    let plain = TcpStream::connect(broker.addr()).await.unwrap();
    let ws_url = format!("ws://localhost:{}/mqtt", broker.addr().port());
    assert!(upgrade(plain, &ws_url).await.is_err());
    broker.shutdown().await;
}
