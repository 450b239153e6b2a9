//! Tern: an MQTT 3.1 / 3.1.1 / 5.0 broker, proven clause by clause against the OASIS
//! specifications.
//!
//! The crate is built in layers that data flows through in one direction: bytes → [`codec`]
//! → [`engine`] (sessions) → [`router`] → sessions of subscribers → [`codec`] → bytes. The
//! [`server`] moves bytes between sockets and the engine, [`config`] reads the TOML file, and
//! [`auth`] checks passwords and JWTs, runs SCRAM-SHA-256, and reads the ACL for the engine.

#![forbid(unsafe_op_in_unsafe_fn)]

/// The wire format, a crate of its own (`tern-codec`) so that it stays pure: no tokio, no clock.
pub use tern_codec as codec;

pub mod auth;
pub mod config;
pub mod embed;
pub mod engine;
pub mod router;
pub mod server;
pub mod store;
pub mod wiring;
