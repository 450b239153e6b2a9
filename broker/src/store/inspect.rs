//! `tern inspect`: what a data directory holds, read offline, in words.

use std::fmt::Write;
use std::time::SystemTime;

use crate::engine::store::{Held, Restored};

/// At most this many retained topics are listed by name.
const TOPICS_LISTED: usize = 50;

/// A report of what `restored` holds, with times counted from `now`.
pub fn report(restored: &Restored, now: SystemTime) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "sessions: {}", restored.sessions.len());
    for s in &restored.sessions {
        let r = &s.record;
        let expiry = match (r.expiry_interval, r.expires_at) {
            (u32::MAX, _) => "never expires".to_string(),
            (secs, None) => format!("expiry {secs} s, counted from the next start (it was online)"),
            (secs, Some(at)) => match at.duration_since(now) {
                Ok(left) => format!("expiry {secs} s, {} s left", left.as_secs()),
                Err(_) => format!("expiry {secs} s, expired (ends at the next start)"),
            },
        };
        let resident = s
            .messages
            .iter()
            .filter(|(_, h, _)| *h == Held::Queued)
            .count();
        let queued = resident + s.spilled.len();
        let _ = writeln!(
            out,
            "  {:?} ({}): {expiry}; {} subscription(s); {} message(s) queued, {} in flight; {} inbound QoS 2 awaiting PUBREL",
            r.client_id.as_ref() as &str,
            r.protocol,
            s.subscriptions.len(),
            queued,
            s.messages.len() - resident,
            s.inbound.len(),
        );
        for (filter, sub) in &s.subscriptions {
            let id = sub
                .identifier
                .map(|i| format!(", identifier {i}"))
                .unwrap_or_default();
            let _ = writeln!(out, "    {filter} (QoS {}{id})", sub.options.qos as u8);
        }
    }
    let bytes: usize = restored
        .retained
        .iter()
        .map(|m| m.message.payload.len())
        .sum();
    let _ = writeln!(
        out,
        "retained messages: {} ({bytes} bytes of payload)",
        restored.retained.len()
    );
    for m in restored.retained.iter().take(TOPICS_LISTED) {
        let _ = writeln!(
            out,
            "  {} (QoS {}, {} bytes)",
            m.message.topic,
            m.message.qos as u8,
            m.message.payload.len()
        );
    }
    if restored.retained.len() > TOPICS_LISTED {
        let _ = writeln!(
            out,
            "  ... and {} more",
            restored.retained.len() - TOPICS_LISTED
        );
    }
    out
}
