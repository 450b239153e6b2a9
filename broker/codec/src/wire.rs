//! The data representations of section 1.5: integers, Variable Byte Integers, UTF-8 strings,
//! binary data and string pairs, read from a frame and written to a buffer.
//!
//! Reading works on a `Bytes` holding one complete frame, so every string and binary field is a
//! cheap slice of the connection's read buffer rather than a copy.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use bytestring::ByteString;

use super::error::{EncodeError, Violation};

/// The largest value a Variable Byte Integer can hold (four bytes of seven bits).
pub const VARINT_MAX: u32 = 268_435_455;

/// Reads fields from the front of one frame's body.
#[derive(Debug)]
pub(crate) struct Reader {
    buf: Bytes,
}

impl Reader {
    pub(crate) fn new(buf: Bytes) -> Self {
        Reader { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn need(&self, n: usize) -> Result<(), Violation> {
        if self.buf.len() < n {
            Err(Violation::Truncated)
        } else {
            Ok(())
        }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Violation> {
        self.need(1)?;
        Ok(self.buf.get_u8())
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Violation> {
        self.need(2)?;
        Ok(self.buf.get_u16())
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Violation> {
        self.need(4)?;
        Ok(self.buf.get_u32())
    }

    /// A Variable Byte Integer (section 1.5.5), which must be minimally encoded.
    pub(crate) fn varint(&mut self) -> Result<u32, Violation> {
        match parse_varint(&self.buf)? {
            Some((value, len)) => {
                self.buf.advance(len);
                Ok(value)
            }
            None => Err(Violation::Truncated),
        }
    }

    /// The next `n` bytes, as a slice of the frame.
    pub(crate) fn take(&mut self, n: usize) -> Result<Bytes, Violation> {
        self.need(n)?;
        Ok(self.buf.split_to(n))
    }

    /// Everything left in the frame.
    pub(crate) fn rest(&mut self) -> Bytes {
        std::mem::take(&mut self.buf)
    }

    /// Binary Data (section 1.5.6): a two-byte length and that many bytes.
    pub(crate) fn binary(&mut self) -> Result<Bytes, Violation> {
        let len = self.u16()? as usize;
        self.take(len)
    }

    /// A UTF-8 Encoded String (section 1.5.4): well-formed UTF-8 without U+0000.
    pub(crate) fn string(&mut self) -> Result<ByteString, Violation> {
        let raw = self.binary()?;
        validate_utf8(&raw)?;
        // SAFETY: `validate_utf8` has just checked that `raw` is well-formed UTF-8, which is
        // all `ByteString` requires; checking it twice would cost every PUBLISH a second pass.
        Ok(unsafe { ByteString::from_bytes_unchecked(raw) })
    }

    /// Fails unless the frame has been read to its end.
    pub(crate) fn finish(&self) -> Result<(), Violation> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Violation::TrailingBytes(self.buf.len()))
        }
    }
}

/// Checks the rules of section 1.5.4 that make a string malformed: it must be well-formed UTF-8
/// (which excludes the surrogates U+D800..U+DFFF) [MQTT-1.5.4-1] and must not contain U+0000
/// [MQTT-1.5.4-2]. A byte order mark is an ordinary character and is kept [MQTT-1.5.4-3].
pub(crate) fn validate_utf8(raw: &[u8]) -> Result<(), Violation> {
    let s = std::str::from_utf8(raw).map_err(|_| Violation::InvalidUtf8)?;
    if s.as_bytes().contains(&0) {
        return Err(Violation::NullCharacter);
    }
    Ok(())
}

/// Parses a Variable Byte Integer from the front of `buf`: `Ok(None)` when `buf` ends before
/// the integer does, otherwise the value and the number of bytes it took.
pub(crate) fn parse_varint(buf: &[u8]) -> Result<Option<(u32, usize)>, Violation> {
    let mut value: u32 = 0;
    for (i, &byte) in buf.iter().enumerate().take(4) {
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            // A final byte of zero after a continuation adds nothing: the same value fits in
            // fewer bytes [MQTT-1.5.5-1].
            if i > 0 && byte == 0 {
                return Err(Violation::NonMinimalVarInt);
            }
            return Ok(Some((value, i + 1)));
        }
    }
    if buf.len() >= 4 {
        Err(Violation::VarIntTooLong)
    } else {
        Ok(None)
    }
}

/// How many bytes the Variable Byte Integer encoding of `value` takes.
pub(crate) fn varint_len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

pub(crate) fn put_varint(buf: &mut BytesMut, value: usize) -> Result<(), EncodeError> {
    if value > VARINT_MAX as usize {
        return Err(EncodeError::VarIntTooLarge {
            value: u32::try_from(value).unwrap_or(u32::MAX),
        });
    }
    let mut v = value;
    loop {
        let mut byte = (v & 0x7f) as u8;
        v >>= 7;
        if v > 0 {
            byte |= 0x80;
        }
        buf.put_u8(byte);
        if v == 0 {
            return Ok(());
        }
    }
}

/// The encoded size of a string or binary field: its two-byte length and its bytes.
pub(crate) fn field_len(data: &[u8]) -> usize {
    2 + data.len()
}

/// Checks that a string or binary field fits its two-byte length.
pub(crate) fn check_field(data: &[u8]) -> Result<(), EncodeError> {
    if data.len() > u16::MAX as usize {
        Err(EncodeError::FieldTooLong(data.len()))
    } else {
        Ok(())
    }
}

/// Checks that a UTF-8 string field fits its length and holds no U+0000, which a receiver
/// must refuse [MQTT-1.5.4-2]. (`str` is well-formed UTF-8 already [MQTT-1.5.4-1].)
pub(crate) fn check_string(s: &str) -> Result<(), EncodeError> {
    check_field(s.as_bytes())?;
    if s.as_bytes().contains(&0) {
        return Err(EncodeError::Breaks(Violation::NullCharacter));
    }
    Ok(())
}

/// Writes a string or binary field. The caller has checked it with [`check_field`] or
/// [`check_string`].
pub(crate) fn put_field(buf: &mut BytesMut, data: &[u8]) {
    buf.put_u16(data.len() as u16);
    buf.put_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boundaries printed in table 1-1 of MQTT 5.0 (table 2.4 of 3.1.1).
    const TABLE: &[(u32, &[u8])] = &[
        (0, &[0x00]),
        (127, &[0x7F]),
        (128, &[0x80, 0x01]),
        (16_383, &[0xFF, 0x7F]),
        (16_384, &[0x80, 0x80, 0x01]),
        (2_097_151, &[0xFF, 0xFF, 0x7F]),
        (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
        (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
    ];

    #[test]
    fn varint_matches_the_specification_table() {
        for &(value, bytes) in TABLE {
            let mut buf = BytesMut::new();
            put_varint(&mut buf, value as usize).unwrap();
            assert_eq!(&buf[..], bytes, "encoding {value}");
            assert_eq!(varint_len(value as usize), bytes.len());
            assert_eq!(parse_varint(bytes).unwrap(), Some((value, bytes.len())));
        }
    }

    #[test]
    fn varint_incomplete_needs_more() {
        assert_eq!(parse_varint(&[]).unwrap(), None);
        assert_eq!(parse_varint(&[0x80]).unwrap(), None);
        assert_eq!(parse_varint(&[0xFF, 0xFF, 0xFF]).unwrap(), None);
    }

    #[test]
    fn varint_over_four_bytes_is_refused() {
        assert_eq!(
            parse_varint(&[0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            Err(Violation::VarIntTooLong)
        );
        let mut buf = BytesMut::new();
        assert!(put_varint(&mut buf, VARINT_MAX as usize + 1).is_err());
    }

    #[test]
    fn varint_non_minimal_is_refused() {
        assert_eq!(
            parse_varint(&[0x80, 0x00]),
            Err(Violation::NonMinimalVarInt)
        );
        assert_eq!(
            parse_varint(&[0xFF, 0x80, 0x00]),
            Err(Violation::NonMinimalVarInt)
        );
    }

    #[test]
    fn string_example_of_section_1_5_4() {
        // Figure 1-2: "A𪛔" is 00 05 41 F0 AA 9B 94.
        let mut buf = BytesMut::new();
        put_field(&mut buf, "A\u{2A6D4}".as_bytes());
        assert_eq!(&buf[..], &[0x00, 0x05, 0x41, 0xF0, 0xAA, 0x9B, 0x94]);
        let mut r = Reader::new(buf.freeze());
        assert_eq!(&*r.string().unwrap(), "A\u{2A6D4}");
    }

    #[test]
    fn strings_with_surrogates_or_nul_are_refused() {
        // U+D800 encoded as if it were a scalar value (CESU-style).
        let mut r = Reader::new(Bytes::from_static(&[0x00, 0x03, 0xED, 0xA0, 0x80]));
        assert_eq!(r.string(), Err(Violation::InvalidUtf8));
        let mut r = Reader::new(Bytes::from_static(&[0x00, 0x03, b'a', 0x00, b'b']));
        assert_eq!(r.string(), Err(Violation::NullCharacter));
        // An overlong encoding of '/'.
        let mut r = Reader::new(Bytes::from_static(&[0x00, 0x02, 0xC0, 0xAF]));
        assert_eq!(r.string(), Err(Violation::InvalidUtf8));
    }

    #[test]
    fn byte_order_mark_is_kept() {
        // [MQTT-1.5.4-3]: EF BB BF is U+FEFF and must not be stripped.
        let mut r = Reader::new(Bytes::from_static(&[0x00, 0x04, 0xEF, 0xBB, 0xBF, b'x']));
        assert_eq!(&*r.string().unwrap(), "\u{FEFF}x");
    }

    #[test]
    fn short_fields_are_truncated_not_panics() {
        let mut r = Reader::new(Bytes::from_static(&[0x00, 0x05, b'a']));
        assert_eq!(r.string(), Err(Violation::Truncated));
        let mut r = Reader::new(Bytes::from_static(&[0x01]));
        assert_eq!(r.u16(), Err(Violation::Truncated));
        assert_eq!(r.u32(), Err(Violation::Truncated));
    }
}
