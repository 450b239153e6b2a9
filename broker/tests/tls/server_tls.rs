//! A TLS listener without client certificates: MQTT 3.1.1 and 5.0 over TLS 1.2 and 1.3, a
//! large message through TLS records, `min_version`, and clients that do not speak TLS or do
//! not trust the certificate.

use rustls::ProtocolVersion;

use super::*;

/// Encodes a Remaining Length.
fn varint(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let mut byte = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if n == 0 {
            return;
        }
    }
}

/// Reads one packet of any size; returns its first byte and its body.
async fn read_any<S: AsyncRead + Unpin>(stream: &mut S) -> (u8, Vec<u8>) {
    let read = async {
        let first = stream.read_u8().await?;
        let (mut len, mut shift) = (0usize, 0);
        loop {
            let b = stream.read_u8().await?;
            len |= usize::from(b & 0x7F) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let mut body = vec![0; len];
        stream.read_exact(&mut body).await?;
        Ok::<_, std::io::Error>((first, body))
    };
    timeout(WAIT, read)
        .await
        .expect("a packet in time")
        .expect("a packet")
}

#[tokio::test]
async fn mqtt_over_tls_1_2_and_1_3() {
    let pki = Pki::new("versions");
    let mut l = listener();
    l.tls = Some(tls(&pki));
    let broker = Broker::start(config(vec![l])).await;
    for (version, expected) in [
        (&rustls::version::TLS13, ProtocolVersion::TLSv1_3),
        (&rustls::version::TLS12, ProtocolVersion::TLSv1_2),
    ] {
        let client = client_config(&pki, None, &[version]);
        let (connack, stream) = mqtt_over_tls(
            broker.addr(),
            client.clone(),
            &connect_packet(4, "v4", None, None, &[]),
        )
        .await
        .unwrap();
        assert_eq!(connack, ACCEPTED_V4);
        assert_eq!(stream.get_ref().1.protocol_version(), Some(expected));

        let (connack, _) = mqtt_over_tls(
            broker.addr(),
            client,
            &connect_packet(5, "v5", None, None, &[]),
        )
        .await
        .unwrap();
        assert_eq!(connack_code(&connack), 0x00, "{connack:02x?}");
    }
    broker.shutdown().await;
}

/// A 200 KiB message to itself: many TLS records each way, split and joined by the codec.
#[tokio::test]
async fn a_large_message_crosses_tls() {
    let pki = Pki::new("large");
    let mut l = listener();
    l.tls = Some(tls(&pki));
    let broker = Broker::start(config(vec![l])).await;
    let client = client_config(&pki, None, BOTH);
    let (connack, mut stream) = mqtt_over_tls(
        broker.addr(),
        client,
        &connect_packet(4, "big", None, None, &[]),
    )
    .await
    .unwrap();
    assert_eq!(connack, ACCEPTED_V4);
    // SUBSCRIBE 1 "t" QoS 0 -> SUBACK.
    let suback = exchange(
        &mut stream,
        &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b't', 0x00],
    )
    .await
    .unwrap();
    assert_eq!(suback, [0x90, 0x03, 0x00, 0x01, 0x00]);
    let payload: Vec<u8> = (0..200 * 1024).map(|i| (i % 251) as u8).collect();
    let mut publish = vec![0x30];
    varint(3 + payload.len(), &mut publish);
    publish.extend_from_slice(&[0x00, 0x01, b't']);
    publish.extend_from_slice(&payload);
    stream.write_all(&publish).await.unwrap();
    let (first, body) = read_any(&mut stream).await;
    assert_eq!(first, 0x30);
    assert_eq!(&body[..3], &[0x00, 0x01, b't']);
    assert!(body[3..] == payload[..], "the payload came back changed");
    broker.shutdown().await;
}

#[tokio::test]
async fn min_version_1_3_refuses_tls_1_2() {
    let pki = Pki::new("min13");
    let mut l = listener();
    let mut settings = tls(&pki);
    settings.min_version = TlsVersion::V1_3;
    l.tls = Some(settings);
    let broker = Broker::start(config(vec![l])).await;
    let old = client_config(&pki, None, &[&rustls::version::TLS12]);
    let e = tls_connect(broker.addr(), old).await.unwrap_err();
    assert!(e.to_string().contains("ProtocolVersion"), "{e}");
    let new = client_config(&pki, None, &[&rustls::version::TLS13]);
    let (connack, _) = mqtt_over_tls(broker.addr(), new, &connect_packet(4, "c", None, None, &[]))
        .await
        .unwrap();
    assert_eq!(connack, ACCEPTED_V4);
    broker.shutdown().await;
}

/// Plain MQTT on a TLS port, a client that does not trust the certificate, and a client that
/// opens a connection and says nothing: each ends its own connection only, and a silent one
/// does not hold up the others (the handshake runs in the connection's task), nor the
/// shutdown: that ends well before the handshake's own timeout.
#[tokio::test]
async fn clients_that_fail_the_handshake_lose_only_their_connection() {
    let pki = Pki::new("failures");
    let mut l = listener();
    l.tls = Some(tls(&pki));
    let broker = Broker::start(config(vec![l])).await;

    let _silent = TcpStream::connect(broker.addr()).await.unwrap();

    let mut plain = TcpStream::connect(broker.addr()).await.unwrap();
    // No CONNACK: at most a TLS alert, then the close.
    let answer = exchange(&mut plain, &connect_packet(4, "plain", None, None, &[])).await;
    if let Ok(packet) = &answer {
        assert_ne!(
            packet[0], 0x20,
            "plain MQTT on a TLS port was answered: {packet:02x?}"
        );
    }

    let stranger = Pki::new("stranger");
    let e = tls_connect(broker.addr(), client_config(&stranger, None, BOTH))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("UnknownIssuer"), "{e}");

    let client = client_config(&pki, None, BOTH);
    let (connack, _) = mqtt_over_tls(
        broker.addr(),
        client,
        &connect_packet(4, "ok", None, None, &[]),
    )
    .await
    .unwrap();
    assert_eq!(connack, ACCEPTED_V4);
    assert!(WAIT < tern::server::tls::HANDSHAKE_TIMEOUT);
    broker.shutdown_within(WAIT).await;
}
