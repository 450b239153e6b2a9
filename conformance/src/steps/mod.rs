//! Every step of the scenarios, by what it does. The steps only parse their arguments and call
//! the world ([`crate::world::MqttWorld`]), which owns the connections.

pub mod acl;
pub mod auth;
pub(crate) mod connection;
mod load;
mod receive;
mod send;
mod websocket;

use anyhow::{anyhow, Result};
use cucumber::gherkin::Step;

/// The packets a step lists in its doc string, one per line as `TYPE fields`, blank lines
/// left out: each line split into its first word and the rest. A line of one word (`or`,
/// `PINGRESP`) has no fields. `what` says what the list is for, for the error when the step
/// has no doc string.
fn listed_packets<'s>(step: &'s Step, what: &str) -> Result<Vec<(&'s str, &'s str)>> {
    let text = step
        .docstring
        .as_deref()
        .ok_or_else(|| anyhow!("list {what} in a doc string"))?;
    let lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    Ok(lines.map(split_packet).collect())
}

/// `TYPE fields` split into the type and the fields.
fn split_packet(line: &str) -> (&str, &str) {
    line.split_once(' ').unwrap_or((line, ""))
}
