//! Tern: an MQTT 3.1 / 3.1.1 / 5.0 broker, proven clause by clause against the OASIS
//! specifications.
//!
//! # As a library
//!
//! The public API is small:
//!
//! - [`embed`]: run a broker inside your tokio runtime ([`embed::Broker`]), connect
//!   in-process clients with the same semantics as network ones, read statistics, stop
//!   gracefully, and extend the broker with [`embed::Hooks`] (authentication, authorization,
//!   inspecting or changing inbound messages, notices of sessions, wills, retained messages,
//!   deliveries and drops).
//! - [`config`]: the configuration, as `tern start` reads it from TOML or as code builds it.
//! - [`codec`]: the MQTT packets and types the two above speak in (QoS, reason codes,
//!   properties).
//! - [`grpc`]: the messages and the client of the gRPC API (`broker/proto/tern.proto`).
//!
//! # Inside
//!
//! The crate is built in layers that data flows through in one direction: bytes → `codec`
//! → `engine` (sessions) → `router` → sessions of subscribers → `codec` → bytes. The
//! `server` moves bytes between sockets and the engine, and `auth` checks passwords and
//! JWTs, runs SCRAM-SHA-256, and reads the ACL for the engine. Those modules are public
//! for the workspace's own harnesses (the conformance suite, fuzzing, benchmarks and tests
//! drive the engine and the server directly), hidden from this documentation, and not a
//! stable API.

#![forbid(unsafe_op_in_unsafe_fn)]

/// The wire format, a crate of its own (`tern-codec`) so that it stays pure: no tokio, no clock.
pub use tern_codec as codec;

/// The gRPC API's messages, and a client for it (`grpc::messages_client::MessagesClient`).
pub use server::grpc::proto as grpc;

#[doc(hidden)]
pub mod auth;
pub mod config;
pub mod embed;
#[doc(hidden)]
pub mod engine;
#[doc(hidden)]
pub mod router;
#[doc(hidden)]
pub mod server;
#[doc(hidden)]
pub mod store;
#[doc(hidden)]
pub mod wiring;
