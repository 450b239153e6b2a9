//! The protocol version of the pass under way. The runner sets it before each version's
//! pass; every world of that pass starts with it. It sits below both, so that neither the
//! world nor the steps look up at the runner.

use std::sync::atomic::{AtomicU8, Ordering};

use tern::codec::Protocol;

static CURRENT: AtomicU8 = AtomicU8::new(5);

/// The protocol of the pass under way.
pub fn current_protocol() -> Protocol {
    match CURRENT.load(Ordering::Relaxed) {
        3 => Protocol::V3_1,
        4 => Protocol::V3_1_1,
        _ => Protocol::V5,
    }
}

/// Starts the pass of `protocol`.
pub(crate) fn set_current_protocol(protocol: Protocol) {
    CURRENT.store(protocol.level(), Ordering::Relaxed);
}
