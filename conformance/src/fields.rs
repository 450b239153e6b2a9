//! The notation scenarios write packets in: `key=value` fields, and raw bytes.
//!
//! Fields: `PUBLISH topic=a/b qos=1 id=7 payload="hello world" user_property=k:v`. A value is
//! one word or a double-quoted string (with `\"` and `\\`). Keys may repeat (`filter=` in
//! SUBSCRIBE, `user_property=`); their order is kept. In an expectation, `key=-` means the key
//! must be absent and `key=$name` captures the value into a variable the first time and
//! compares with it afterwards.
//!
//! Raw bytes: whitespace-separated tokens, each one of
//! - hex digits, any even number of them (`82`, `0001`, `deadbeef`);
//! - `*`: the Remaining Length of everything after it, up to the next `|` or the end, as a
//!   Variable Byte Integer;
//! - `|`: only separates packets (for `*`), writes nothing;
//! - `"text"`: the UTF-8 bytes of the text, with no length;
//! - `s"text"`: a UTF-8 Encoded String (two-byte length, then the bytes);
//! - `t"topic"`, `f"filter"`, `c"client"`: the same, with the scenario's scope applied;
//! - `zeros:N`: N zero bytes.

use anyhow::{anyhow, bail, Context, Result};

use crate::scope::Scope;

/// Parsed `key=value` fields, in the order written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// Parses `key=value key="quoted value" ...`.
    pub fn parse(text: &str) -> Result<Fields> {
        let mut fields = Vec::new();
        for word in words(text)? {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| anyhow!("`{word}` is not a key=value field"))?;
            fields.push((key.to_owned(), unquote(value)?));
        }
        Ok(Fields(fields))
    }

    /// The last value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a key, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits on whitespace, keeping double-quoted strings (with their quotes) whole.
fn words(text: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                word.push(c);
            }
            '\\' if quoted => {
                word.push(c);
                word.push(
                    chars
                        .next()
                        .ok_or_else(|| anyhow!("dangling \\ in {text}"))?,
                );
            }
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if quoted {
        bail!("unterminated quote in {text}");
    }
    if !word.is_empty() {
        out.push(word);
    }
    Ok(out)
}

/// Removes the quotes and escapes of a quoted value; an unquoted value is returned as is.
fn unquote(value: &str) -> Result<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return Ok(value.to_owned());
    };
    let inner = inner
        .strip_suffix('"')
        .ok_or_else(|| anyhow!("unterminated quote in {value}"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next().unwrap_or('\\'));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// The variable a value names, if it is one: `$` and then lower-case letters, digits and `_`
/// (`$p`, `$granted`). Anything else that starts with `$` (`$SYS/x`, `$share/g/t`) is a value.
pub fn variable(value: &str) -> Option<&str> {
    let name = value.strip_prefix('$')?;
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    ok.then_some(name)
}

/// A value as bytes: `hex:0a0b` is hexadecimal, anything else is its UTF-8 text.
pub fn bytes_value(value: &str) -> Result<Vec<u8>> {
    match value.strip_prefix("hex:") {
        Some(hex) => decode_hex(hex),
        None => Ok(value.as_bytes().to_vec()),
    }
}

/// A number written in decimal or as `0x..` hexadecimal, or `true`/`false`.
pub fn number(value: &str) -> Option<u64> {
    match value {
        "true" => Some(1),
        "false" => Some(0),
        _ => match value
            .strip_prefix("0x")
            .or_else(|| value.strip_prefix("0X"))
        {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => value.parse().ok(),
        },
    }
}

/// Like [`number`], but an error naming the key when the value is not one.
pub fn number_of<T: TryFrom<u64>>(key: &str, value: &str) -> Result<T> {
    number(value)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| anyhow!("{key}={value}: not a number in range"))
}

pub fn decode_hex(hex: &str) -> Result<Vec<u8>> {
    let hex: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
    if !hex.len().is_multiple_of(2) {
        bail!("odd number of hex digits in {hex}");
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).with_context(|| format!("bad hex {hex}")))
        .collect()
}

pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The raw-bytes notation (see the module documentation).
pub fn raw_bytes(text: &str, scope: &Scope) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    // Where each pending `*` stands: its length is known once its packet ends.
    let mut pending: Option<usize> = None;
    let finish = |out: &mut Vec<u8>, pending: &mut Option<usize>| {
        if let Some(at) = pending.take() {
            let len = varint(out.len() - at);
            out.splice(at..at, len);
        }
    };
    for word in words(text)? {
        match word.as_str() {
            "*" => {
                finish(&mut out, &mut pending);
                pending = Some(out.len());
            }
            "|" => finish(&mut out, &mut pending),
            w if w.starts_with('"') => out.extend(unquote(w)?.as_bytes()),
            w if w.len() > 2 && w.as_bytes()[1] == b'"' => {
                let text = unquote(&w[1..])?;
                let text = match w.as_bytes()[0] {
                    b's' => text,
                    b't' => scope.topic(&text),
                    b'f' => scope.filter(&text),
                    b'c' => scope.client_id(&text),
                    _ => bail!("unknown string prefix in {w}"),
                };
                out.extend((text.len() as u16).to_be_bytes());
                out.extend(text.as_bytes());
            }
            w if w.starts_with("zeros:") => {
                let n: usize = number_of("zeros", &w[6..])?;
                out.extend(std::iter::repeat_n(0u8, n));
            }
            w => out.extend(decode_hex(w)?),
        }
    }
    finish(&mut out, &mut pending);
    Ok(out)
}

/// A Variable Byte Integer.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_order_quotes_and_repeats() {
        let f =
            Fields::parse(r#"topic=a/b payload="x y \"z\"" user_property=k:v user_property=a:b"#)
                .unwrap();
        assert_eq!(f.get("topic"), Some("a/b"));
        assert_eq!(f.get("payload"), Some(r#"x y "z""#));
        assert_eq!(f.all("user_property").collect::<Vec<_>>(), ["k:v", "a:b"]);
        assert!(Fields::parse("novalue").is_err());
    }

    #[test]
    fn raw_bytes_compute_remaining_lengths() {
        let scope = Scope::fresh();
        assert_eq!(raw_bytes("e0 00", &scope).unwrap(), [0xE0, 0x00]);
        assert_eq!(
            raw_bytes(r#"82 * 0001 s"a" 00 | c0 *"#, &scope).unwrap(),
            [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00, 0xC0, 0x00]
        );
        assert_eq!(
            raw_bytes("30 * zeros:200", &scope).unwrap()[1..3],
            [0xC8, 0x01]
        );
        assert_eq!(number("0x87"), Some(0x87));
        assert_eq!(number("12"), Some(12));
        assert_eq!(variable("$p"), Some("p"));
        assert_eq!(variable("$granted_1"), Some("granted_1"));
        assert_eq!(variable("$SYS/x"), None);
        assert_eq!(variable("$share/g/t"), None);
    }
}
