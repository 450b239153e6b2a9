//! What the engine counts, broker-wide, for logs and (later) metrics. Plain counters: the
//! engine owns them and only it writes them.

/// Counters since the engine started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages an offline session's full queue dropped (`[limits] offline_queue_policy`),
    /// including those trimmed when a session went offline over its limits.
    pub offline_dropped: u64,
    /// Times a publisher was held back because a destination's queue was full.
    pub publishers_held_back: u64,
    /// Connections closed with 0x97 Quota exceeded as slow subscribers.
    pub slow_subscribers_closed: u64,
    /// CONNECTs refused because they would have started a session past `max_sessions`.
    pub sessions_refused: u64,
    /// Retained messages for a new topic not kept, past `max_retained`.
    pub retained_refused: u64,
}
