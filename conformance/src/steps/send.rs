//! Steps that send packets: built from fields, or raw bytes, whole or in pieces.

use anyhow::{bail, Result};
use cucumber::{given, then, when};

use crate::fields::raw_bytes;
use crate::world::MqttWorld;

#[given(regex = r#"^"([^"]+)" sends ([A-Z]+)(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" sends ([A-Z]+)(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" sends ([A-Z]+)(?: (.*))?$"#)]
async fn sends(w: &mut MqttWorld, name: String, kind: String, fields: String) -> Result<()> {
    let bytes = w.packet_bytes(&name, &kind, &fields)?;
    w.send(&name, &bytes, usize::MAX).await
}

#[given(regex = r#"^"([^"]+)" sends raw (.+)$"#)]
#[when(regex = r#"^"([^"]+)" sends raw (.+)$"#)]
#[then(regex = r#"^"([^"]+)" sends raw (.+)$"#)]
async fn sends_raw(w: &mut MqttWorld, name: String, text: String) -> Result<()> {
    let bytes = raw_bytes(&text, &w.scope)?;
    w.send(&name, &bytes, usize::MAX).await
}

#[given(regex = r#"^"([^"]+)" sends, (\d+) bytes? at a time, (?:raw (.+)|([A-Z]+)(?: (.*))?)$"#)]
#[when(regex = r#"^"([^"]+)" sends, (\d+) bytes? at a time, (?:raw (.+)|([A-Z]+)(?: (.*))?)$"#)]
#[then(regex = r#"^"([^"]+)" sends, (\d+) bytes? at a time, (?:raw (.+)|([A-Z]+)(?: (.*))?)$"#)]
async fn sends_in_pieces(
    w: &mut MqttWorld,
    name: String,
    piece: usize,
    raw: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let bytes = if !raw.is_empty() {
        raw_bytes(&raw, &w.scope)?
    } else {
        w.packet_bytes(&name, &kind, &fields)?
    };
    w.send(&name, &bytes, piece).await
}

/// `$long is a topic of 65535 bytes`: captures, as variable `long`, a topic that is exactly
/// that many bytes once the scenario's scope is put in front of it, for the length limit of
/// section 4.7.3. Use it as `topic=$long` or `filter=$long`, sent or expected.
#[given(regex = r"^\$(\w+) is a topic of (\d+) bytes$")]
#[when(regex = r"^\$(\w+) is a topic of (\d+) bytes$")]
#[then(regex = r"^\$(\w+) is a topic of (\d+) bytes$")]
async fn topic_of_length(w: &mut MqttWorld, var: String, len: usize) -> Result<()> {
    let prefix = w.scope.topic("t").len() - 1;
    let Some(n) = len.checked_sub(prefix).filter(|n| *n > 0) else {
        bail!("a topic of {len} bytes cannot hold the scope's {prefix} bytes");
    };
    w.vars.insert(var, "t".repeat(n));
    Ok(())
}
