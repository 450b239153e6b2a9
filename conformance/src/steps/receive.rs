//! Steps that assert what a connection receives, and what it must not.

use std::collections::HashMap;

use anyhow::{anyhow, bail, Result};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use tern::codec::decode_exact;

use super::{listed_packets, split_packet};
use crate::client::Event;
use crate::fields::{encode_hex, raw_bytes, Fields};
use crate::packets::{compare, describe};
use crate::world::{show, MqttWorld, QUIET};

#[given(regex = r#"^"([^"]+)" receives ([A-Z]+)(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" receives ([A-Z]+)(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" receives ([A-Z]+)(?: (.*))?$"#)]
async fn receives(w: &mut MqttWorld, name: String, kind: String, fields: String) -> Result<()> {
    w.expect(&name, &kind, &fields).await
}

#[given(regex = r#"^"([^"]+)" receives raw (.+)$"#)]
#[when(regex = r#"^"([^"]+)" receives raw (.+)$"#)]
#[then(regex = r#"^"([^"]+)" receives raw (.+)$"#)]
async fn receives_raw(w: &mut MqttWorld, name: String, text: String) -> Result<()> {
    let want = raw_bytes(&text, &w.scope)?;
    let frame = w.next_frame(&name, &text).await?;
    if frame != want {
        bail!(
            "\"{name}\" received {}, expected {}",
            encode_hex(&frame),
            encode_hex(&want)
        );
    }
    Ok(())
}

#[given(regex = r#"^"([^"]+)" receives, in any order:$"#)]
#[when(regex = r#"^"([^"]+)" receives, in any order:$"#)]
#[then(regex = r#"^"([^"]+)" receives, in any order:$"#)]
async fn receives_any_order(w: &mut MqttWorld, name: String, step: &Step) -> Result<()> {
    let mut wanted: Vec<(String, String)> = listed_packets(step, "the packets")?
        .into_iter()
        .map(|(kind, fields)| (kind.to_owned(), fields.to_owned()))
        .collect();
    while !wanted.is_empty() {
        let frame = w
            .next_frame(&name, &format!("{} more packets", wanted.len()))
            .await?;
        let got = w.describe(&name, &frame)?;
        let position = wanted.iter().position(|(kind, fields)| {
            let mut vars = w.vars.clone();
            got[0].1 == *kind
                && Fields::parse(fields)
                    .map(|f| compare(&f, &got, &mut vars).is_ok())
                    .unwrap_or(false)
        });
        match position {
            Some(i) => {
                let (_, fields) = wanted.remove(i);
                compare(&Fields::parse(&fields)?, &got, &mut w.vars).map_err(|e| anyhow!(e))?;
            }
            None => bail!(
                "\"{name}\" received {}, which is none of those expected",
                show(&got)
            ),
        }
    }
    Ok(())
}

#[given(regex = r#"^"([^"]+)" receives nothing$"#)]
#[when(regex = r#"^"([^"]+)" receives nothing$"#)]
#[then(regex = r#"^"([^"]+)" receives nothing$"#)]
async fn receives_nothing(w: &mut MqttWorld, name: String) -> Result<()> {
    let protocol = w.client(&name)?.protocol;
    match w.client(&name)?.conn.next(QUIET).await {
        None => Ok(()),
        Some(Event::Closed) => bail!("\"{name}\" was disconnected, expected nothing"),
        Some(Event::Frame(frame)) => {
            let shown = match decode_exact(&frame, protocol) {
                Ok(p) => show(&describe(&p, protocol, &w.scope)),
                Err(_) => encode_hex(&frame),
            };
            bail!("\"{name}\" received {shown}, expected nothing")
        }
    }
}

/// `"a" does not receive PUBLISH payload=old`: sends PINGREQ and reads until its PINGRESP; no
/// packet before it may be one with these fields (others are skipped, the connection must
/// stay open). For a rule that forbids one packet but lets the server choose between others.
#[given(regex = r#"^"([^"]+)" does not receive ([A-Z]+)(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" does not receive ([A-Z]+)(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" does not receive ([A-Z]+)(?: (.*))?$"#)]
async fn does_not_receive(
    w: &mut MqttWorld,
    name: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let unwanted = Fields::parse(&fields)?;
    w.send(&name, &[0xC0, 0x00], usize::MAX).await?;
    loop {
        let frame = w.next_frame(&name, "PINGRESP").await?;
        let got = w.describe(&name, &frame)?;
        if got[0].1 == "PINGRESP" {
            return Ok(());
        }
        let mut vars = w.vars.clone();
        if got[0].1 == kind && compare(&unwanted, &got, &mut vars).is_ok() {
            bail!("\"{name}\" received {}, which it must not", show(&got));
        }
    }
}

/// `"a" receives PUBLISH, lists in any order, subscription_identifier=1,2`: as `receives`, but
/// a comma-separated value matches the same items in any order (for lists whose order the
/// specification leaves open).
#[given(regex = r#"^"([^"]+)" receives ([A-Z]+), lists in any order,(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" receives ([A-Z]+), lists in any order,(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" receives ([A-Z]+), lists in any order,(?: (.*))?$"#)]
async fn receives_unordered(
    w: &mut MqttWorld,
    name: String,
    kind: String,
    fields: String,
) -> Result<()> {
    let expected = Fields(
        Fields::parse(&fields)?
            .0
            .into_iter()
            .map(|(k, v)| (k, sorted_list(&v)))
            .collect(),
    );
    let what = format!("{kind} {fields}");
    let frame = w.next_frame(&name, &what).await?;
    let got = w.describe(&name, &frame)?;
    let shown = show(&got);
    if got[0].1 != kind {
        bail!("\"{name}\" received {shown}, expected {what}");
    }
    let got: Vec<(String, String)> = got.into_iter().map(|(k, v)| (k, sorted_list(&v))).collect();
    compare(&expected, &got, &mut w.vars).map_err(|e| anyhow!("\"{name}\" received {shown}: {e}"))
}

/// `"a" receives PUBLISH, with topic_alias absent or at most 2, payload=x`: as `receives`, and
/// the named numeric field, when present, is at most that value. For limits the receiver set
/// and the sender may use as it likes (Topic Alias Maximum).
#[given(
    regex = r#"^"([^"]+)" receives ([A-Z]+), with ([a-z_]+) absent or at most (\d+)(?:, (.*))?$"#
)]
#[when(
    regex = r#"^"([^"]+)" receives ([A-Z]+), with ([a-z_]+) absent or at most (\d+)(?:, (.*))?$"#
)]
#[then(
    regex = r#"^"([^"]+)" receives ([A-Z]+), with ([a-z_]+) absent or at most (\d+)(?:, (.*))?$"#
)]
async fn receives_at_most(
    w: &mut MqttWorld,
    name: String,
    kind: String,
    key: String,
    max: u64,
    fields: String,
) -> Result<()> {
    let what = format!("{kind} {fields}");
    let frame = w.next_frame(&name, &what).await?;
    let got = w.describe(&name, &frame)?;
    let shown = show(&got);
    if got[0].1 != kind {
        bail!("\"{name}\" received {shown}, expected {what}");
    }
    compare(&Fields::parse(&fields)?, &got, &mut w.vars)
        .map_err(|e| anyhow!("\"{name}\" received {shown}: {e}"))?;
    if let Some((_, value)) = got.iter().find(|(k, _)| *k == key) {
        match crate::fields::number(value) {
            Some(n) if n <= max => {}
            _ => bail!("\"{name}\" received {shown}: {key} is {value}, at most {max} allowed"),
        }
    }
    Ok(())
}

/// `"a" receives PUBLISH, perhaps with further copies, qos=2 payload=x` + doc string, one packet
/// per line: sends PINGREQ and reads until its PINGRESP; the packet of the step must come
/// exactly once before it, and every other packet must match a line of the doc string, each
/// line at most once. For a message that matches overlapping subscriptions, where the server
/// must send one copy at the highest QoS and may send one more copy per further subscription
/// (3.1.1 section 3.3.5, 5.0 section 3.3.4).
#[given(regex = r#"^"([^"]+)" receives ([A-Z]+), perhaps with further copies,(?: (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" receives ([A-Z]+), perhaps with further copies,(?: (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" receives ([A-Z]+), perhaps with further copies,(?: (.*))?$"#)]
async fn receives_with_copies(
    w: &mut MqttWorld,
    name: String,
    kind: String,
    fields: String,
    step: &Step,
) -> Result<()> {
    let mut optional: Vec<(String, Fields)> = Vec::new();
    for (k, f) in listed_packets(step, "the further copies allowed")? {
        optional.push((k.to_owned(), Fields::parse(f)?));
    }
    let wanted = Fields::parse(&fields)?;
    let mut seen = false;
    let mut copies: Vec<String> = Vec::new();
    w.send(&name, &[0xC0, 0x00], usize::MAX).await?;
    loop {
        let frame = w.next_frame(&name, &format!("{kind} {fields}")).await?;
        let got = w.describe(&name, &frame)?;
        if got[0].1 == "PINGRESP" {
            if seen {
                return Ok(());
            }
            bail!(
                "\"{name}\" received [{}] and PINGRESP, expected {kind} {fields} among them",
                copies.join("; ")
            );
        }
        let mut vars = w.vars.clone();
        if !seen && got[0].1 == kind && compare(&wanted, &got, &mut vars).is_ok() {
            w.vars = vars;
            seen = true;
            continue;
        }
        let position = optional.iter().position(|(k, f)| {
            let mut vars = w.vars.clone();
            got[0].1 == *k && compare(f, &got, &mut vars).is_ok()
        });
        match position {
            Some(i) => {
                let (_, f) = optional.remove(i);
                compare(&f, &got, &mut w.vars).map_err(|e| anyhow!(e))?;
                copies.push(show(&got));
            }
            None => bail!(
                "\"{name}\" received {}, which is neither {kind} {fields} nor a further copy allowed",
                show(&got)
            ),
        }
    }
}

/// A comma-separated value with its items sorted, numbers by their decimal value, so that two
/// lists whose order does not matter compare equal.
fn sorted_list(value: &str) -> String {
    if !value.contains(',') {
        return value.to_owned();
    }
    let mut items: Vec<String> = value
        .split(',')
        .map(|i| match crate::fields::number(i) {
            Some(n) => n.to_string(),
            None => i.to_owned(),
        })
        .collect();
    items.sort();
    items.join(",")
}

/// `"a" receives one of these sets of packets, in any order:` + doc string: sets of packets,
/// one packet per line, separated by lines that say `or`. Sends PINGREQ and reads until its
/// PINGRESP; the packets before it must be exactly one of the sets, in any order, and a
/// comma-separated value matches the same items in any order. For a choice the specification
/// leaves the server between one copy of a message and one copy per matching subscription
/// (the Subscription Identifiers of 5.0 section 3.3.4).
#[given(regex = r#"^"([^"]+)" receives one of these sets of packets, in any order:$"#)]
#[when(regex = r#"^"([^"]+)" receives one of these sets of packets, in any order:$"#)]
#[then(regex = r#"^"([^"]+)" receives one of these sets of packets, in any order:$"#)]
async fn receives_one_of_sets(w: &mut MqttWorld, name: String, step: &Step) -> Result<()> {
    let mut sets: Vec<Vec<(String, Fields)>> = vec![Vec::new()];
    for (kind, fields) in listed_packets(step, "the sets of packets, separated by `or`,")? {
        if kind == "or" {
            sets.push(Vec::new());
            continue;
        }
        let fields = Fields(
            Fields::parse(fields)?
                .0
                .into_iter()
                .map(|(k, v)| (k, sorted_list(&v)))
                .collect(),
        );
        sets.last_mut()
            .expect("one set at least")
            .push((kind.to_owned(), fields));
    }
    w.send(&name, &[0xC0, 0x00], usize::MAX).await?;
    let mut received: Vec<Vec<(String, String)>> = Vec::new();
    loop {
        let frame = w.next_frame(&name, "PINGRESP").await?;
        let got = w.describe(&name, &frame)?;
        if got[0].1 == "PINGRESP" {
            break;
        }
        received.push(
            got.into_iter()
                .map(|(k, v)| {
                    let v = sorted_list(&v);
                    (k, v)
                })
                .collect(),
        );
    }
    'sets: for set in &sets {
        if set.len() != received.len() {
            continue;
        }
        let mut vars = w.vars.clone();
        let mut left: Vec<&(String, Fields)> = set.iter().collect();
        for got in &received {
            let position = left.iter().position(|(kind, fields)| {
                let mut trial = vars.clone();
                got[0].1 == *kind && compare(fields, got, &mut trial).is_ok()
            });
            match position {
                Some(i) => {
                    let (_, fields) = left.remove(i);
                    compare(fields, got, &mut vars).map_err(|e| anyhow!(e))?;
                }
                None => continue 'sets,
            }
        }
        w.vars = vars;
        return Ok(());
    }
    let shown: Vec<String> = received.iter().map(|g| show(g)).collect();
    bail!(
        "\"{name}\" received [{}] before PINGRESP, which is none of the sets expected",
        shown.join("; ")
    )
}

/// `"a" receives, among other packets:` + doc string, one packet per line, and `not TYPE
/// fields` lines: sends PINGREQ and reads until its PINGRESP; each packet listed must come once
/// before it, no packet may match a `not` line, and other packets are let through. For a
/// subscription to a bare `#` or `+` on a broker that other scenarios share: it is also sent
/// the retained messages they left behind.
#[given(regex = r#"^"([^"]+)" receives, among other packets:$"#)]
#[when(regex = r#"^"([^"]+)" receives, among other packets:$"#)]
#[then(regex = r#"^"([^"]+)" receives, among other packets:$"#)]
async fn receives_among_others(w: &mut MqttWorld, name: String, step: &Step) -> Result<()> {
    let mut wanted: Vec<(String, Fields)> = Vec::new();
    let mut unwanted: Vec<(String, Fields)> = Vec::new();
    for (kind, fields) in listed_packets(step, "the packets")? {
        let (list, (kind, fields)) = match kind {
            "not" => (&mut unwanted, split_packet(fields.trim())),
            _ => (&mut wanted, (kind, fields)),
        };
        list.push((kind.to_owned(), Fields::parse(fields)?));
    }
    w.send(&name, &[0xC0, 0x00], usize::MAX).await?;
    loop {
        let frame = w.next_frame(&name, "PINGRESP").await?;
        let got = w.describe(&name, &frame)?;
        if got[0].1 == "PINGRESP" {
            break;
        }
        let matches = |(kind, fields): &(String, Fields), vars: &HashMap<String, String>| {
            let mut vars = vars.clone();
            got[0].1 == *kind && compare(fields, &got, &mut vars).is_ok()
        };
        if unwanted.iter().any(|u| matches(u, &w.vars)) {
            bail!("\"{name}\" received {}, which it must not", show(&got));
        }
        if let Some(i) = wanted.iter().position(|x| matches(x, &w.vars)) {
            let (_, fields) = wanted.remove(i);
            compare(&fields, &got, &mut w.vars).map_err(|e| anyhow!(e))?;
        }
    }
    if let Some((kind, fields)) = wanted.first() {
        bail!(
            "\"{name}\" received PINGRESP before {kind} {}",
            show_fields(fields)
        );
    }
    Ok(())
}

fn show_fields(fields: &Fields) -> String {
    fields
        .0
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
