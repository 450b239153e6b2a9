//! Tern: an MQTT 3.1 / 3.1.1 / 5.0 broker, proven clause by clause against the OASIS
//! specifications.
//!
//! The crate is built in layers that data flows through in one direction: bytes → [`codec`]
//! → session → router → sessions of subscribers → [`codec`] → bytes. Only the codec exists so
//! far; the session, router and transports arrive with the broker.

#![forbid(unsafe_op_in_unsafe_fn)]

pub mod codec;
