//! Steps that put the broker under load: many numbered messages at once, read and
//! acknowledged one by one, with what must and must not arrive counted.
//!
//! - `"p" sends 200 PUBLISH topic=t qos=1, numbered`: 200 PUBLISHes in one write, without
//!   waiting for any acknowledgement; message k has packet identifier k (at QoS 1 and 2) and
//!   payload `mk`.
//! - `"s" receives 200 PUBLISH qos=1, numbered, acknowledging each`: reads until the 200
//!   numbered messages arrived, each exactly once, acknowledging each as it comes (PUBACK); any
//!   other packet, a duplicate or a missing message fails the step.
//! - `"p" receives 200 PUBACK, in order`: the acknowledgements of messages 1 to 200, in order.
//! - `"s" is sent PUBLISH packets, then DISCONNECT reason=0x97`: skips the PUBLISHes the
//!   broker still sent, then expects that DISCONNECT.
//! - `"a" writes raw BYTES, then 256 KiB of zeros`: a packet followed by a stream of bytes
//!   the client goes on writing.

use std::collections::HashSet;

use anyhow::{anyhow, bail, ensure, Result};
use cucumber::{given, then, when};
use tern::codec::{decode_exact, Ack, Packet, QoS};

use crate::fields::{raw_bytes, Fields};
use crate::packets::{compare, describe};
use crate::world::{show, MqttWorld};

#[given(regex = r#"^"([^"]+)" sends (\d+) PUBLISH (.*), numbered$"#)]
#[when(regex = r#"^"([^"]+)" sends (\d+) PUBLISH (.*), numbered$"#)]
#[then(regex = r#"^"([^"]+)" sends (\d+) PUBLISH (.*), numbered$"#)]
async fn sends_numbered(w: &mut MqttWorld, name: String, n: u16, fields: String) -> Result<()> {
    let qos0 = Fields::parse(&fields)?.get("qos").is_none_or(|q| q == "0");
    let mut bytes = Vec::new();
    for k in 1..=n {
        let id = if qos0 {
            String::new()
        } else {
            format!(" id={k}")
        };
        let numbered = format!("{fields}{id} payload=m{k}");
        bytes.extend(w.packet_bytes(&name, "PUBLISH", &numbered)?);
    }
    w.send(&name, &bytes, usize::MAX).await
}

#[given(regex = r#"^"([^"]+)" receives (\d+) PUBLISH (.*), numbered, acknowledging each$"#)]
#[when(regex = r#"^"([^"]+)" receives (\d+) PUBLISH (.*), numbered, acknowledging each$"#)]
#[then(regex = r#"^"([^"]+)" receives (\d+) PUBLISH (.*), numbered, acknowledging each$"#)]
async fn receives_numbered(w: &mut MqttWorld, name: String, n: u16, fields: String) -> Result<()> {
    let expected = Fields::parse(&fields)?;
    let protocol = w.client(&name)?.protocol;
    let mut seen = HashSet::new();
    while seen.len() < usize::from(n) {
        let what = format!("PUBLISH {fields} ({} of {n} so far)", seen.len());
        let frame = w.next_frame(&name, &what).await?;
        let packet = decode_exact(&frame, protocol)
            .map_err(|e| anyhow!("\"{name}\" received a packet that breaks the protocol: {e}"))?;
        let got = describe(&packet, protocol, &w.scope);
        let Packet::Publish(publish) = packet else {
            bail!("\"{name}\" received {}, expected {what}", show(&got));
        };
        compare(&expected, &got, &mut w.vars)
            .map_err(|e| anyhow!("\"{name}\" received {}: {e}", show(&got)))?;
        let payload = String::from_utf8_lossy(&publish.payload).into_owned();
        let k: u16 = payload
            .strip_prefix('m')
            .and_then(|k| k.parse().ok())
            .filter(|k| (1..=n).contains(k))
            .ok_or_else(|| anyhow!("\"{name}\" received an unnumbered PUBLISH {payload:?}"))?;
        ensure!(seen.insert(k), "\"{name}\" received message {k} twice");
        if let (QoS::AtLeastOnce, Some(id)) = (publish.qos, publish.packet_id) {
            let ack = Packet::PubAck(Ack::new(id)).to_bytes(protocol)?;
            w.send(&name, &ack, usize::MAX).await?;
        }
    }
    Ok(())
}

#[given(regex = r#"^"([^"]+)" receives (\d+) (PUBACK|PUBREC), in order$"#)]
#[when(regex = r#"^"([^"]+)" receives (\d+) (PUBACK|PUBREC), in order$"#)]
#[then(regex = r#"^"([^"]+)" receives (\d+) (PUBACK|PUBREC), in order$"#)]
async fn receives_acks_in_order(
    w: &mut MqttWorld,
    name: String,
    n: u16,
    kind: String,
) -> Result<()> {
    for k in 1..=n {
        w.expect(&name, &kind, &format!("id={k}")).await?;
    }
    Ok(())
}

#[given(regex = r#"^"([^"]+)" is sent PUBLISH packets, then ([A-Z]+)(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" is sent PUBLISH packets, then ([A-Z]+)(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" is sent PUBLISH packets, then ([A-Z]+)(?: (.*))?$"#)]
async fn receives_after_publishes(
    w: &mut MqttWorld,
    name: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let expected = Fields::parse(&fields)?;
    let what = format!("{kind} {fields}");
    loop {
        let frame = w.next_frame(&name, &what).await?;
        let got = w.describe(&name, &frame)?;
        if got[0].1 == "PUBLISH" {
            continue;
        }
        ensure!(
            got[0].1 == kind,
            "\"{name}\" received {}, expected {what}",
            show(&got)
        );
        return compare(&expected, &got, &mut w.vars)
            .map_err(|e| anyhow!("\"{name}\" received {}: {e}", show(&got)));
    }
}

#[given(regex = r#"^"([^"]+)" writes raw (.+), then (\d+) KiB of zeros$"#)]
#[when(regex = r#"^"([^"]+)" writes raw (.+), then (\d+) KiB of zeros$"#)]
#[then(regex = r#"^"([^"]+)" writes raw (.+), then (\d+) KiB of zeros$"#)]
async fn sends_raw_then_zeros(
    w: &mut MqttWorld,
    name: String,
    text: String,
    kib: usize,
) -> Result<()> {
    let mut bytes = raw_bytes(&text, &w.scope)?;
    bytes.resize(bytes.len() + kib * 1024, 0);
    w.send(&name, &bytes, usize::MAX).await
}
