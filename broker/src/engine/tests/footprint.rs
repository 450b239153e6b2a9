//! What an idle client costs the engine: its connection and its session are boxed in their
//! maps, so their sizes are memory per connection. The bounds leave some room; a change that
//! breaks them should box what it adds, if it is rarely used.

use std::mem::size_of;

use super::super::conn::Conn;
use super::super::session::Session;

#[test]
fn connection_and_session_stay_small() {
    assert!(
        size_of::<Conn>() <= 320,
        "Conn is {} bytes",
        size_of::<Conn>()
    );
    // 200 since a kept session's queue may stay partly on disk (its `spill`, boxed: the
    // pointer is what every session pays).
    assert!(
        size_of::<Session>() <= 200,
        "Session is {} bytes",
        size_of::<Session>()
    );
}
