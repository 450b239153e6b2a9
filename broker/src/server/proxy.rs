//! The PROXY protocol (HAProxy's, versions 1 and 2): a load balancer that forwards a TCP
//! connection first sends a header naming the client it came from, and that client's address
//! then stands for the connection (in logs, the per-address connection rate, authorization).
//!
//! The header is read before anything else on the connection, before a TLS handshake or a
//! WebSocket upgrade, and exactly: not one byte past it is consumed, so what follows is read
//! by the next layer as if the header had never been there. The first byte tells whether a
//! header is coming: `P` starts a version 1 header (`PROXY TCP4 ...\r\n`) and `\r` the
//! signature of a version 2 one, while an MQTT CONNECT starts with 0x10, a TLS ClientHello
//! with 0x16 and a WebSocket upgrade with `G`; it is peeked, not read, so that a connection
//! without a header loses nothing. The header is parsed by the `ppp` crate.
//!
//! - A header with a TCP source over IPv4 or IPv6 replaces the peer address.
//! - A header that names no client (v1 `UNKNOWN`, v2 `LOCAL` as health checks send, or an
//!   address family other than IP) is accepted and the socket's peer is kept, as the
//!   specification asks.
//! - An invalid header closes the connection, in `optional` and `required` mode alike; so
//!   does its absence in `required` mode, and a header that does not arrive within
//!   [`HEADER_TIMEOUT`].

use std::net::SocketAddr;
use std::time::Duration;

use ppp::v1;
use ppp::v2;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::options::ProxyProtocol;

/// How long a connection may take to send its whole PROXY header.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest version 1 header: `PROXY TCP6` with two full IPv6 addresses and ports.
const V1_MAX: usize = 107;
/// The fixed part of a version 2 header: signature, version and command, family and
/// protocol, and the length of the rest.
const V2_FIXED: usize = 16;
/// The signature that starts a version 2 header.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// Why a connection was closed while its PROXY header was read.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("no PROXY protocol header, and this listener requires one")]
    Missing,
    #[error("invalid PROXY protocol header: {0}")]
    Invalid(String),
    #[error("no complete PROXY protocol header within {HEADER_TIMEOUT:?}")]
    Timeout,
    #[error("the connection closed before its PROXY protocol header was complete")]
    Closed,
    #[error("reading the PROXY protocol header failed: {0}")]
    Io(std::io::Error),
}

/// What a header said about the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// No header (in `optional` mode): the socket's peer is the client.
    NoHeader,
    /// A header naming no client (v1 `UNKNOWN`, v2 `LOCAL`, a non-IP family): the socket's
    /// peer is kept.
    Unknown,
    /// A header naming this client.
    Client(SocketAddr),
}

impl Source {
    /// The client's address: the header's, or else the socket's `peer`.
    pub fn or(self, peer: SocketAddr) -> SocketAddr {
        match self {
            Source::Client(client) => client,
            Source::NoHeader | Source::Unknown => peer,
        }
    }
}

/// Reads the PROXY header `mode` asks for from the start of `stream`, within
/// [`HEADER_TIMEOUT`], and returns the client's address: the header's, or `peer` where there
/// is no header or it names no client. With `ProxyProtocol::Off` nothing is read.
pub async fn client_address(
    stream: &mut TcpStream,
    mode: ProxyProtocol,
    peer: SocketAddr,
) -> Result<SocketAddr, ProxyError> {
    if mode == ProxyProtocol::Off {
        return Ok(peer);
    }
    let required = mode == ProxyProtocol::Required;
    match tokio::time::timeout(HEADER_TIMEOUT, read_header(stream, required)).await {
        Ok(source) => Ok(source?.or(peer)),
        Err(_) => Err(ProxyError::Timeout),
    }
}

/// Reads a header, if one is coming, consuming exactly its bytes.
async fn read_header(stream: &mut TcpStream, required: bool) -> Result<Source, ProxyError> {
    let mut first = [0u8; 1];
    let n = stream.peek(&mut first).await.map_err(ProxyError::Io)?;
    if n == 0 {
        return Err(ProxyError::Closed);
    }
    match first[0] {
        b'P' => read_v1(stream).await,
        b'\r' => read_v2(stream).await,
        _ if required => Err(ProxyError::Missing),
        _ => Ok(Source::NoHeader),
    }
}

/// A version 1 header: one line of text, read a byte at a time up to its `\r\n` so that
/// nothing after it is consumed.
async fn read_v1(stream: &mut TcpStream) -> Result<Source, ProxyError> {
    let mut line = Vec::with_capacity(V1_MAX);
    loop {
        let byte = stream.read_u8().await.map_err(eof_is_closed)?;
        line.push(byte);
        if byte == b'\n' {
            break;
        }
        if line.len() >= V1_MAX {
            return Err(ProxyError::Invalid(format!(
                "version 1 header longer than {V1_MAX} bytes"
            )));
        }
    }
    parse_v1(&line)
}

/// A version 2 header: the fixed part, then as many bytes as it announces.
async fn read_v2(stream: &mut TcpStream) -> Result<Source, ProxyError> {
    let mut header = vec![0u8; V2_FIXED];
    stream
        .read_exact(&mut header)
        .await
        .map_err(eof_is_closed)?;
    if &header[..V2_SIGNATURE.len()] != V2_SIGNATURE {
        return Err(ProxyError::Invalid(
            "neither a version 1 nor a version 2 header".to_owned(),
        ));
    }
    let rest = usize::from(u16::from_be_bytes([header[14], header[15]]));
    header.resize(V2_FIXED + rest, 0);
    stream
        .read_exact(&mut header[V2_FIXED..])
        .await
        .map_err(eof_is_closed)?;
    parse_v2(&header)
}

fn eof_is_closed(e: std::io::Error) -> ProxyError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ProxyError::Closed
    } else {
        ProxyError::Io(e)
    }
}

/// Parses one whole version 1 header line.
fn parse_v1(line: &[u8]) -> Result<Source, ProxyError> {
    let header = v1::Header::try_from(line).map_err(|e| ProxyError::Invalid(e.to_string()))?;
    if header.header.len() != line.len() {
        return Err(ProxyError::Invalid(
            "version 1 header does not end at its line end".to_owned(),
        ));
    }
    Ok(match header.addresses {
        v1::Addresses::Tcp4(a) => {
            Source::Client(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        v1::Addresses::Tcp6(a) => {
            Source::Client(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        v1::Addresses::Unknown => Source::Unknown,
    })
}

/// Parses one whole version 2 header.
fn parse_v2(bytes: &[u8]) -> Result<Source, ProxyError> {
    let header = v2::Header::try_from(bytes).map_err(|e| ProxyError::Invalid(e.to_string()))?;
    if header.command == v2::Command::Local {
        return Ok(Source::Unknown);
    }
    Ok(match header.addresses {
        v2::Addresses::IPv4(a) => {
            Source::Client(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        v2::Addresses::IPv6(a) => {
            Source::Client(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        v2::Addresses::Unspecified | v2::Addresses::Unix(_) => Source::Unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    fn client(text: &str) -> Source {
        Source::Client(text.parse().unwrap())
    }

    /// A version 2 PROXY header over TCP/IPv4, written out byte by byte.
    fn v2_tcp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
        let mut h = V2_SIGNATURE.to_vec();
        h.push(0x21); // version 2, PROXY
        h.push(0x11); // AF_INET, STREAM
        h.extend_from_slice(&12u16.to_be_bytes());
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        h.extend_from_slice(&sport.to_be_bytes());
        h.extend_from_slice(&dport.to_be_bytes());
        h
    }

    #[test]
    fn version_1_headers_name_the_client() {
        let line = b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 1883\r\n";
        assert_eq!(parse_v1(line).unwrap(), client("203.0.113.7:40000"));
        let line = b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 1883\r\n";
        assert_eq!(parse_v1(line).unwrap(), client("[2001:db8::7]:40000"));
        assert_eq!(parse_v1(b"PROXY UNKNOWN\r\n").unwrap(), Source::Unknown);
    }

    #[test]
    fn bad_version_1_headers_are_refused() {
        for bad in [
            &b"PROXY TCP4 203.0.113.7 192.0.2.1 40000\r\n"[..],
            b"PROXY TCP4 999.0.113.7 192.0.2.1 40000 1883\r\n",
            b"PROXY UDP4 203.0.113.7 192.0.2.1 40000 1883\r\n",
            b"PROXX TCP4 203.0.113.7 192.0.2.1 40000 1883\r\n",
            b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 70000\r\n",
        ] {
            assert!(
                matches!(parse_v1(bad), Err(ProxyError::Invalid(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn version_2_headers_name_the_client() {
        let h = v2_tcp4([198, 51, 100, 9], [192, 0, 2, 1], 50000, 1883);
        assert_eq!(parse_v2(&h).unwrap(), client("198.51.100.9:50000"));
        // LOCAL (a health check): no client named.
        let mut local = h.clone();
        local[12] = 0x20;
        assert_eq!(parse_v2(&local).unwrap(), Source::Unknown);
        // Version 1 in the version nibble is not a version 2 header.
        let mut bad = h;
        bad[12] = 0x11;
        assert!(matches!(parse_v2(&bad), Err(ProxyError::Invalid(_))));
    }

    proptest::proptest! {
        /// Whatever a connection sends as its header, parsing answers and never panics.
        #[test]
        fn any_header_bytes_get_an_answer(
            rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
            v2 in proptest::prelude::any::<bool>(),
        ) {
            let mut bytes = if v2 { V2_SIGNATURE.to_vec() } else { b"PROXY ".to_vec() };
            bytes.extend_from_slice(&rest);
            let _ = parse_v1(&bytes);
            let _ = parse_v2(&bytes);
            let _ = parse_v1(&rest);
            let _ = parse_v2(&rest);
        }
    }

    /// A listener and a connected pair of streams.
    async fn pair() -> (TcpStream, TcpStream, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        (client, server, peer)
    }

    #[tokio::test]
    async fn nothing_past_the_header_is_consumed() {
        let (mut client, mut server, peer) = pair().await;
        let mut bytes = v2_tcp4([198, 51, 100, 9], [192, 0, 2, 1], 50000, 1883);
        bytes.extend_from_slice(b"\x10rest");
        client.write_all(&bytes).await.unwrap();
        let addr = client_address(&mut server, ProxyProtocol::Required, peer)
            .await
            .unwrap();
        assert_eq!(addr, "198.51.100.9:50000".parse().unwrap());
        let mut rest = [0u8; 5];
        server.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"\x10rest");

        let (mut client, mut server, peer) = pair().await;
        client
            .write_all(b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 1883\r\n\x10x")
            .await
            .unwrap();
        let addr = client_address(&mut server, ProxyProtocol::Optional, peer)
            .await
            .unwrap();
        assert_eq!(addr, "203.0.113.7:40000".parse().unwrap());
        let mut rest = [0u8; 2];
        server.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"\x10x");
    }

    #[tokio::test]
    async fn optional_mode_lets_a_connection_without_header_through_untouched() {
        let (mut client, mut server, peer) = pair().await;
        client.write_all(b"\x10\x0c").await.unwrap();
        let addr = client_address(&mut server, ProxyProtocol::Optional, peer)
            .await
            .unwrap();
        assert_eq!(addr, peer);
        let mut first = [0u8; 2];
        server.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"\x10\x0c");
    }

    #[tokio::test]
    async fn required_mode_refuses_a_connection_without_header() {
        let (mut client, mut server, peer) = pair().await;
        client.write_all(b"\x10\x0c").await.unwrap();
        let e = client_address(&mut server, ProxyProtocol::Required, peer).await;
        assert!(matches!(e, Err(ProxyError::Missing)), "{e:?}");
        drop(client);
        let (client, mut server, peer) = pair().await;
        drop(client);
        let e = client_address(&mut server, ProxyProtocol::Required, peer).await;
        assert!(matches!(e, Err(ProxyError::Closed)), "{e:?}");
    }
}
