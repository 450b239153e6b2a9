//! Steps that open, configure, time and end connections, and assert how they end.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use tern::codec::decode_exact;

use super::listed_packets;
use crate::client::Event;
use crate::fields::{encode_hex, raw_bytes, Fields};
use crate::packets::{compare, describe};
use crate::target::{settings, Target};
use crate::world::{show, MqttWorld, WAIT};

#[given(regex = r"^the broker is configured with (.+)$")]
#[when(regex = r"^the broker is configured with (.+)$")]
#[then(regex = r"^the broker is configured with (.+)$")]
pub(crate) async fn configured(w: &mut MqttWorld, setting: String) -> Result<()> {
    if w.broker.is_some() {
        bail!("configure the broker before the first connection");
    }
    if let Target::External { .. } = settings().target {
        bail!("another broker cannot be configured: tag the scenario @needs-config");
    }
    w.overrides.push(setting);
    Ok(())
}

#[given(regex = r#"^client "([^"]+)" is connected(?: with (.*))?$"#)]
#[when(regex = r#"^client "([^"]+)" is connected(?: with (.*))?$"#)]
#[then(regex = r#"^client "([^"]+)" is connected(?: with (.*))?$"#)]
async fn connected(w: &mut MqttWorld, name: String, fields: String) -> Result<()> {
    w.open(&name).await?;
    let bytes = w.packet_bytes(&name, "CONNECT", &fields)?;
    w.send(&name, &bytes, usize::MAX).await?;
    w.expect(&name, "CONNACK", "reason=0").await
}

#[given(regex = r#"^"([^"]+)" opens a connection$"#)]
#[when(regex = r#"^"([^"]+)" opens a connection$"#)]
#[then(regex = r#"^"([^"]+)" opens a connection$"#)]
async fn opens(w: &mut MqttWorld, name: String) -> Result<()> {
    w.open(&name).await
}

#[given(regex = r#"^"([^"]+)" closes the connection$"#)]
#[when(regex = r#"^"([^"]+)" closes the connection$"#)]
#[then(regex = r#"^"([^"]+)" closes the connection$"#)]
async fn closes(w: &mut MqttWorld, name: String) -> Result<()> {
    w.client(&name)?.conn.close().await;
    Ok(())
}

#[given(regex = r"^(\d+) (seconds?|milliseconds?) pass(?:es)?$")]
#[when(regex = r"^(\d+) (seconds?|milliseconds?) pass(?:es)?$")]
#[then(regex = r"^(\d+) (seconds?|milliseconds?) pass(?:es)?$")]
async fn time_passes(_w: &mut MqttWorld, n: u64, unit: String) {
    let d = if unit.starts_with("milli") {
        Duration::from_millis(n)
    } else {
        Duration::from_secs(n)
    };
    tokio::time::sleep(d).await;
}

#[given(regex = r#"^"([^"]+)" is disconnected$"#)]
#[when(regex = r#"^"([^"]+)" is disconnected$"#)]
#[then(regex = r#"^"([^"]+)" is disconnected$"#)]
async fn is_disconnected(w: &mut MqttWorld, name: String) -> Result<()> {
    let protocol = w.client(&name)?.protocol;
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => Ok(()),
        None => bail!("\"{name}\" is still connected after {WAIT:?}"),
        Some(Event::Frame(frame)) => {
            let shown = match decode_exact(&frame, protocol) {
                Ok(p) => show(&describe(&p, protocol, &w.scope)),
                Err(_) => encode_hex(&frame),
            };
            bail!("\"{name}\" received {shown}, expected the connection to close")
        }
    }
}

#[given(regex = r#"^"([^"]+)" is still connected$"#)]
#[when(regex = r#"^"([^"]+)" is still connected$"#)]
#[then(regex = r#"^"([^"]+)" is still connected$"#)]
async fn still_connected(w: &mut MqttWorld, name: String) -> Result<()> {
    w.send(&name, &[0xC0, 0x00], usize::MAX).await?;
    w.expect(&name, "PINGRESP", "").await
}

/// `"a" is disconnected, perhaps after DISCONNECT reason=0x81`: the broker closes the
/// connection, and may first send that one packet (with those fields), nothing else. For the
/// errors where the specification requires the close but leaves the packet before it to the
/// server (CONNACK in 4.13.1 "MAY", DISCONNECT "SHOULD").
#[given(regex = r#"^"([^"]+)" is disconnected, perhaps after ([A-Z]+)(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" is disconnected, perhaps after ([A-Z]+)(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" is disconnected, perhaps after ([A-Z]+)(?: (.*))?$"#)]
async fn disconnected_perhaps_after(
    w: &mut MqttWorld,
    name: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let what = format!("{kind} {fields} or the connection to close");
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => return Ok(()),
        None => bail!("\"{name}\" is still connected after {WAIT:?}, expected {what}"),
        Some(Event::Frame(frame)) => {
            let got = w.describe(&name, &frame)?;
            let shown = show(&got);
            if got[0].1 != kind {
                bail!("\"{name}\" received {shown}, expected {what}");
            }
            compare(&Fields::parse(&fields)?, &got, &mut w.vars)
                .map_err(|e| anyhow!("\"{name}\" received {shown}: {e}"))?;
        }
    }
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => Ok(()),
        None => bail!("\"{name}\" is still connected {WAIT:?} after its {kind}"),
        Some(Event::Frame(frame)) => {
            let protocol = w.client(&name)?.protocol;
            let shown = match decode_exact(&frame, protocol) {
                Ok(p) => show(&describe(&p, protocol, &w.scope)),
                Err(_) => encode_hex(&frame),
            };
            bail!("\"{name}\" received {shown} after its {kind}, expected the connection to close")
        }
    }
}

/// `"a" is disconnected within 2 seconds` (or `..., perhaps after DISCONNECT reason=0x8D`):
/// the broker closes the connection before that much time has passed since the step began,
/// sending at most that one packet (with those fields) first. For the deadlines the
/// specification sets, such as one and a half times the Keep Alive.
#[given(
    regex = r#"^"([^"]+)" is disconnected within (\d+) (seconds?|milliseconds?)(?:, perhaps after ([A-Z]+)(?: (.*))?)?$"#
)]
#[when(
    regex = r#"^"([^"]+)" is disconnected within (\d+) (seconds?|milliseconds?)(?:, perhaps after ([A-Z]+)(?: (.*))?)?$"#
)]
#[then(
    regex = r#"^"([^"]+)" is disconnected within (\d+) (seconds?|milliseconds?)(?:, perhaps after ([A-Z]+)(?: (.*))?)?$"#
)]
async fn disconnected_within(
    w: &mut MqttWorld,
    name: String,
    n: u64,
    unit: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let limit = if unit.starts_with("milli") {
        Duration::from_millis(n)
    } else {
        Duration::from_secs(n)
    };
    let deadline = tokio::time::Instant::now() + limit;
    let mut allowed = (!kind.is_empty()).then_some((kind, fields));
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match w.client(&name)?.conn.next(left).await {
            Some(Event::Closed) => return Ok(()),
            None => bail!("\"{name}\" is still connected after {limit:?}"),
            Some(Event::Frame(frame)) => {
                let got = w.describe(&name, &frame)?;
                let shown = show(&got);
                match allowed.take() {
                    Some((kind, fields)) if got[0].1 == kind => {
                        compare(&Fields::parse(&fields)?, &got, &mut w.vars)
                            .map_err(|e| anyhow!("\"{name}\" received {shown}: {e}"))?;
                    }
                    _ => bail!("\"{name}\" received {shown}, expected the connection to close"),
                }
            }
        }
    }
}

/// `"a" is disconnected, perhaps after raw 20 03 00 84 00 or raw 20 02 00 01`: the broker
/// closes the connection, and may first send exactly one of these byte strings, nothing else.
/// For a refusal whose packet may be in another protocol's format than the scenario's (the
/// CONNACK answering a CONNECT of a protocol level the broker does not speak).
#[given(regex = r#"^"([^"]+)" is disconnected, perhaps after raw (.+)$"#)]
#[when(regex = r#"^"([^"]+)" is disconnected, perhaps after raw (.+)$"#)]
#[then(regex = r#"^"([^"]+)" is disconnected, perhaps after raw (.+)$"#)]
async fn disconnected_perhaps_after_raw(
    w: &mut MqttWorld,
    name: String,
    text: String,
) -> Result<()> {
    let mut allowed = Vec::new();
    for alternative in text.split(" or raw ") {
        allowed.push(raw_bytes(alternative, &w.scope)?);
    }
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => return Ok(()),
        None => bail!("\"{name}\" is still connected after {WAIT:?}"),
        Some(Event::Frame(frame)) if allowed.contains(&frame) => {}
        Some(Event::Frame(frame)) => bail!(
            "\"{name}\" received {}, expected {text} or the connection to close",
            encode_hex(&frame)
        ),
    }
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => Ok(()),
        None => bail!("\"{name}\" is still connected {WAIT:?} after its packet"),
        Some(Event::Frame(frame)) => bail!(
            "\"{name}\" received {} after its packet, expected the connection to close",
            encode_hex(&frame)
        ),
    }
}

/// `"a" is disconnected, perhaps after one of:` + doc string, one packet per line: the broker
/// closes the connection, and may first send one packet matching one of the lines, nothing
/// else. For a choice the specification leaves the server between several packets before the
/// close (CONNACK 0x8C or 0x87 for an unsupported Authentication Method, section 4.12).
#[given(regex = r#"^"([^"]+)" is disconnected, perhaps after one of:$"#)]
#[when(regex = r#"^"([^"]+)" is disconnected, perhaps after one of:$"#)]
#[then(regex = r#"^"([^"]+)" is disconnected, perhaps after one of:$"#)]
async fn disconnected_perhaps_after_one_of(
    w: &mut MqttWorld,
    name: String,
    step: &Step,
) -> Result<()> {
    let mut allowed: Vec<(String, Fields)> = Vec::new();
    for (kind, fields) in listed_packets(step, "the packets allowed before the close")? {
        allowed.push((kind.to_owned(), Fields::parse(fields)?));
    }
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => return Ok(()),
        None => bail!("\"{name}\" is still connected after {WAIT:?}"),
        Some(Event::Frame(frame)) => {
            let got = w.describe(&name, &frame)?;
            let matched = allowed.iter().position(|(kind, fields)| {
                let mut vars = w.vars.clone();
                got[0].1 == *kind && compare(fields, &got, &mut vars).is_ok()
            });
            match matched {
                Some(i) => compare(&allowed[i].1, &got, &mut w.vars).map_err(|e| anyhow!(e))?,
                None => bail!(
                    "\"{name}\" received {}, which is none of those allowed before the close",
                    show(&got)
                ),
            }
        }
    }
    match w.client(&name)?.conn.next(WAIT).await {
        Some(Event::Closed) => Ok(()),
        None => bail!("\"{name}\" is still connected {WAIT:?} after its packet"),
        Some(Event::Frame(frame)) => {
            let protocol = w.client(&name)?.protocol;
            let shown = match decode_exact(&frame, protocol) {
                Ok(p) => show(&describe(&p, protocol, &w.scope)),
                Err(_) => encode_hex(&frame),
            };
            bail!("\"{name}\" received {shown} after its packet, expected the connection to close")
        }
    }
}
