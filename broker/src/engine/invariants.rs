//! The bounds the engine promises, checked from the outside by tests and the fuzzers.

use super::message::Delivery;
use super::Engine;

impl Engine {
    /// Checks the bounds the engine promises, for tests and fuzzing: every inflight window
    /// within the server's limit, its send order and resend counters in agreement with its
    /// entries, and every offline queue within its limits (an online queue holds what it is
    /// given, and holds its publishers back instead; see `flow`, whose bookkeeping is checked
    /// too). (A queue may hold up to one window more than its message limit: the in-flight
    /// shared-subscription messages put back when no other member could take them.)
    pub fn check_invariants(&self) -> Result<(), String> {
        let window = usize::from(self.settings.max_inflight);
        let queue = self.settings.queue;
        for (sid, s) in &self.sessions {
            if s.inflight.len() > window {
                return Err(format!(
                    "{sid:?}: {} in flight > {window}",
                    s.inflight.len()
                ));
            }
            s.inflight.check().map_err(|e| format!("{sid:?}: {e}"))?;
            if s.conn.is_none() && s.queue.len() > queue.max_messages + window {
                return Err(format!(
                    "{sid:?}: {} queued > {}",
                    s.queue.len(),
                    queue.max_messages
                ));
            }
            let bytes: usize = s.queue.iter().map(Delivery::cost).sum();
            if bytes != s.queued_bytes {
                return Err(format!(
                    "{sid:?}: queued bytes {} counted as {}",
                    bytes, s.queued_bytes
                ));
            }
            // What is on disk only comes after the queue in memory, in number order.
            if let Some(spill) = &s.spill {
                let last_queued = s.queue.iter().map(|d| d.seq).max().unwrap_or(0);
                let mut previous = last_queued;
                for &(seq, _) in &spill.entries {
                    if seq <= previous {
                        return Err(format!("{sid:?}: spilled #{seq} after #{previous}"));
                    }
                    previous = seq;
                }
                let bytes: usize = spill.entries.iter().map(|e| e.1).sum();
                if spill.entries.is_empty() || bytes != spill.bytes || !s.stored {
                    return Err(format!(
                        "{sid:?}: a spill of {} counted {bytes} bytes",
                        spill.bytes
                    ));
                }
            }
            // What a kept session holds at QoS 1/2 is numbered, as the store knows it.
            if s.stored {
                let flights = s.inflight.ids().filter_map(|id| s.inflight.get(id));
                let held = flights.map(|i| &i.delivery).chain(s.queue.iter());
                for d in held.filter(|d| d.qos != crate::codec::QoS::AtMostOnce) {
                    if d.seq == 0 || d.seq > s.next_seq {
                        return Err(format!(
                            "{sid:?}: a kept message numbered {} (last {})",
                            d.seq, s.next_seq
                        ));
                    }
                }
            }
            // Inbound QoS 2 identifiers are not bounded by Receive Maximum here: that is a
            // 5.0 window, checked when a PUBLISH arrives, and a session a 3.x client left
            // with more awaiting PUBREL may be resumed by a 5.0 one (the fuzzer found it).
        }
        self.check_flow()?;
        if self.connected > self.conns.len() {
            return Err(format!(
                "{} connected > {} connections",
                self.connected,
                self.conns.len()
            ));
        }
        Ok(())
    }
}
