//! `protocols` on a listener: a CONNECT of a version the listener does not accept is refused
//! as an unsupported protocol level is, CONNACK 0x84 (3.x: 0x01), and closed.

use tern::config::ProtocolVersion;

use super::*;

/// Sends `connect` over plain TCP and returns the CONNACK, checking that the broker then
/// closes the connection when it refuses.
async fn connack(addr: SocketAddr, connect: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let connack = exchange(&mut stream, connect).await.unwrap();
    if connack_code(&connack) != 0 {
        let mut rest = Vec::new();
        let closed = timeout(WAIT, stream.read_to_end(&mut rest)).await;
        assert!(
            matches!(closed, Ok(Ok(0))),
            "not closed: {closed:?} {rest:02x?}"
        );
    }
    connack
}

#[tokio::test]
async fn each_listener_accepts_its_own_versions() {
    let mut v5_only = listener();
    v5_only.protocols = vec![ProtocolVersion::V5];
    let mut v3_only = listener();
    v3_only.protocols = vec![ProtocolVersion::V3_1, ProtocolVersion::V3_1_1];
    let broker = Broker::start(config(vec![v5_only, v3_only, listener()])).await;
    let [only5, only3, all] = broker.addrs[..] else {
        panic!("three listeners");
    };
    let v3 = connect_packet(3, "c3", None, None, &[]);
    let v4 = connect_packet(4, "c4", None, None, &[]);
    let v5 = connect_packet(5, "c5", None, None, &[]);

    // 3.x is told 0x01 unacceptable protocol version.
    assert_eq!(connack(only5, &v3).await, [0x20, 0x02, 0x00, 0x01]);
    assert_eq!(connack(only5, &v4).await, [0x20, 0x02, 0x00, 0x01]);
    assert_eq!(connack_code(&connack(only5, &v5).await), 0x00);

    // 5.0 is told 0x84 Unsupported Protocol Version, in a 5.0 CONNACK.
    let refused = connack(only3, &v5).await;
    assert_eq!(&refused[..4], [0x20, refused[1], 0x00, 0x84]);
    assert_eq!(connack(only3, &v3).await, ACCEPTED_V4);
    assert_eq!(connack(only3, &v4).await, ACCEPTED_V4);

    for connect in [&v3, &v4, &v5] {
        assert_eq!(connack_code(&connack(all, connect).await), 0x00);
    }
    broker.shutdown().await;
}

#[test]
fn protocols_in_the_file() {
    let config = Config::from_toml_str(
        "[[listener]]\nbind = \"127.0.0.1:1883\"\nprotocols = [\"3.1.1\", \"5.0\"]\n",
    )
    .unwrap();
    assert_eq!(
        config.listeners[0].protocols,
        [ProtocolVersion::V3_1_1, ProtocolVersion::V5]
    );
    let e = Config::from_toml_str("[[listener]]\nprotocols = []\n").unwrap_err();
    assert_eq!(e.key(), Some("listener[0].protocols"), "{e}");
    let e = Config::from_toml_str("[[listener]]\nprotocols = [\"5\", \"4\"]\n").unwrap_err();
    assert_eq!(e.key(), Some("listener[0].protocols[1]"), "{e}");
}
