//! Hand-written packets over a plain TCP stream.

use super::*;

/// One MQTT control packet as read from the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub header: u8,
    pub body: Vec<u8>,
}

impl Frame {
    pub fn bytes(&self) -> Vec<u8> {
        frame(self.header, &self.body)
    }

    /// The reason code of a 5.0 DISCONNECT (absent means 0x00).
    pub fn disconnect_reason(&self) -> u8 {
        assert_eq!(self.header, 0xE0, "a DISCONNECT: {self:?}");
        self.body.first().copied().unwrap_or(0)
    }

    /// The reason code of a 5.0 PUBACK/PUBREC/PUBREL/PUBCOMP (absent means 0x00).
    pub fn ack_reason(&self) -> u8 {
        self.body.get(2).copied().unwrap_or(0)
    }

    pub fn packet_id(&self) -> u16 {
        u16::from_be_bytes([self.body[0], self.body[1]])
    }

    /// The properties of a 5.0 CONNACK.
    pub fn connack_properties(&self) -> Vec<(u8, Vec<u8>)> {
        assert_eq!(self.header, 0x20, "a CONNACK: {self:?}");
        let (len, n) = read_varint(&self.body[2..]);
        parse_properties(&self.body[2 + n..2 + n + len])
    }
}

pub fn varint(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut byte = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if n == 0 {
            return out;
        }
    }
}

pub fn read_varint(b: &[u8]) -> (usize, usize) {
    let mut value = 0usize;
    for (i, byte) in b.iter().enumerate().take(4) {
        value |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return (value, i + 1);
        }
    }
    panic!("bad variable byte integer {b:02X?}")
}

pub fn frame(header: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    out.extend(varint(body.len()));
    out.extend_from_slice(body);
    out
}

/// A UTF-8 string or binary field: two-byte length, then the bytes.
pub fn field(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

/// A property list: its variable byte length, then the properties.
pub fn properties(props: &[u8]) -> Vec<u8> {
    let mut out = varint(props.len());
    out.extend_from_slice(props);
    out
}

pub fn p_u16(id: u8, v: u16) -> Vec<u8> {
    let mut out = vec![id];
    out.extend(v.to_be_bytes());
    out
}

pub fn p_u32(id: u8, v: u32) -> Vec<u8> {
    let mut out = vec![id];
    out.extend(v.to_be_bytes());
    out
}

pub fn p_str(id: u8, s: &str) -> Vec<u8> {
    let mut out = vec![id];
    out.extend(field(s.as_bytes()));
    out
}

pub const SESSION_EXPIRY: u8 = 0x11;
pub const WILL_DELAY: u8 = 0x18;
pub const TOPIC_ALIAS: u8 = 0x23;
pub const AUTHENTICATION_METHOD: u8 = 0x15;

/// Splits a property list into (identifier, value bytes).
pub fn parse_properties(mut b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some((&id, rest)) = b.split_first() {
        let len = match id {
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => 1,
            0x13 | 0x21 | 0x22 | 0x23 => 2,
            0x02 | 0x11 | 0x18 | 0x27 => 4,
            0x0B => read_varint(rest).1,
            0x03 | 0x08 | 0x09 | 0x12 | 0x15 | 0x16 | 0x1A | 0x1C | 0x1F => {
                2 + usize::from(u16::from_be_bytes([rest[0], rest[1]]))
            }
            0x26 => {
                let k = 2 + usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                k + 2 + usize::from(u16::from_be_bytes([rest[k], rest[k + 1]]))
            }
            other => panic!("unknown property 0x{other:02X}"),
        };
        out.push((id, rest[..len].to_vec()));
        b = &rest[len..];
    }
    out
}

pub fn property(props: &[(u8, Vec<u8>)], id: u8) -> Option<&[u8]> {
    props
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, v)| v.as_slice())
}

pub struct Will {
    /// 5.0 will properties, without their length.
    pub props: Vec<u8>,
    pub topic: &'static str,
    pub payload: &'static [u8],
    pub qos: u8,
    pub retain: bool,
}

pub struct Connect {
    /// 3 (MQTT 3.1, "MQIsdp"), 4 (3.1.1), 5 (5.0), or anything else under "MQTT".
    pub level: u8,
    pub client_id: &'static str,
    pub keep_alive: u16,
    pub clean: bool,
    /// 5.0 CONNECT properties, without their length.
    pub props: Vec<u8>,
    pub will: Option<Will>,
}

impl Default for Connect {
    fn default() -> Connect {
        Connect {
            level: 5,
            client_id: "raw",
            keep_alive: 60,
            clean: true,
            props: vec![],
            will: None,
        }
    }
}

pub fn connect(c: &Connect) -> Vec<u8> {
    let mut body = field(if c.level == 3 { b"MQIsdp" } else { b"MQTT" });
    body.push(c.level);
    let mut flags = u8::from(c.clean) << 1;
    if let Some(w) = &c.will {
        flags |= 0x04 | (w.qos << 3) | (u8::from(w.retain) << 5);
    }
    body.push(flags);
    body.extend(c.keep_alive.to_be_bytes());
    if c.level == 5 {
        body.extend(properties(&c.props));
    }
    body.extend(field(c.client_id.as_bytes()));
    if let Some(w) = &c.will {
        if c.level == 5 {
            body.extend(properties(&w.props));
        }
        body.extend(field(w.topic.as_bytes()));
        body.extend(field(w.payload));
    }
    frame(0x10, &body)
}

pub struct Publish<'a> {
    pub v5: bool,
    pub qos: u8,
    pub retain: bool,
    pub dup: bool,
    pub topic: &'a str,
    pub id: u16,
    /// 5.0 properties, without their length.
    pub props: Vec<u8>,
    pub payload: &'a [u8],
}

impl Default for Publish<'_> {
    fn default() -> Self {
        Publish {
            v5: true,
            qos: 0,
            retain: false,
            dup: false,
            topic: "t",
            id: 1,
            props: vec![],
            payload: b"",
        }
    }
}

pub fn publish(p: &Publish) -> Vec<u8> {
    let header = 0x30 | (u8::from(p.dup) << 3) | (p.qos << 1) | u8::from(p.retain);
    let mut body = field(p.topic.as_bytes());
    if p.qos > 0 {
        body.extend(p.id.to_be_bytes());
    }
    if p.v5 {
        body.extend(properties(&p.props));
    }
    body.extend_from_slice(p.payload);
    frame(header, &body)
}

pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Conn {
        let stream = timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("TCP connect in time")
            .expect("TCP connect");
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Opens a connection, sends `c`, and returns it with the CONNACK it got.
    pub async fn connected(addr: SocketAddr, c: &Connect) -> (Conn, Frame) {
        let mut conn = Conn::open(addr).await;
        conn.send(&connect(c)).await;
        let connack = conn.expect().await;
        assert_eq!(connack.header, 0x20, "CONNACK expected: {connack:?}");
        (conn, connack)
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    fn parse(&mut self) -> Option<Frame> {
        if self.buf.len() < 2 {
            return None;
        }
        let mut len = 0usize;
        let mut i = 1;
        loop {
            let byte = *self.buf.get(i)?;
            len |= usize::from(byte & 0x7F) << (7 * (i - 1));
            i += 1;
            if byte & 0x80 == 0 {
                break;
            }
            assert!(i <= 4, "bad remaining length from the broker");
        }
        if self.buf.len() < i + len {
            return None;
        }
        let header = self.buf[0];
        let body = self.buf[i..i + len].to_vec();
        self.buf.drain(..i + len);
        Some(Frame { header, body })
    }

    /// The next packet, or `None` once the broker has closed the connection.
    pub async fn recv(&mut self) -> Option<Frame> {
        loop {
            if let Some(f) = self.parse() {
                return Some(f);
            }
            let mut chunk = [0u8; 8192];
            let n = timeout(WAIT, self.stream.read(&mut chunk))
                .await
                .expect("the broker answered or closed in time")
                .unwrap_or(0); // A reset is a close too.
            if n == 0 {
                assert!(
                    self.buf.is_empty(),
                    "closed within a packet: {:02X?}",
                    self.buf
                );
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub async fn expect(&mut self) -> Frame {
        self.recv().await.expect("a packet, not the close")
    }

    /// Every packet until the broker closes the connection.
    pub async fn rest(&mut self) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(f) = self.recv().await {
            out.push(f);
        }
        out
    }

    /// Every byte until the broker closes the connection.
    pub async fn rest_bytes(&mut self) -> Vec<u8> {
        self.rest().await.iter().flat_map(Frame::bytes).collect()
    }
}
