//! Connections from inside the process: the clients of an application that embeds Tern
//! (`crate::embed`) and those the gRPC API opens for its callers.
//!
//! They speak MQTT 5.0 over an in-memory pipe instead of a socket, so that everything a
//! network client meets applies to them unchanged: authentication and the ACL, flow control
//! and the bounds on a slow subscriber, sessions, wills, the statistics. What they skip is
//! the network, not the broker. The cost is an encode and a decode per packet, which the
//! broker does for every other client too.

pub mod client;
pub mod message;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::DuplexStream;
use tokio_util::task::TaskTracker;

use super::ConnectionHandles;
use crate::engine::ConnId;

/// Bytes each direction of an in-process pipe holds before its writer waits: like a socket's
/// buffers, what lets a reader fall behind for a moment without stalling the writer.
const PIPE_BYTES: usize = 64 * 1024;

/// Opens in-process connections to a server ([`crate::server::Server::connector`]).
#[derive(Clone)]
pub struct Connector {
    handles: Arc<ConnectionHandles>,
    tracker: TaskTracker,
    next_id: Arc<AtomicU64>,
}

impl Connector {
    pub(super) fn new(
        handles: Arc<ConnectionHandles>,
        tracker: TaskTracker,
        next_id: Arc<AtomicU64>,
    ) -> Connector {
        Connector {
            handles,
            tracker,
            next_id,
        }
    }

    /// A new connection: the client's end of a pipe whose other end the broker serves like
    /// an accepted socket. The client speaks first (CONNECT). Once the server has stopped,
    /// the pipe is closed at once.
    pub fn connect(&self) -> DuplexStream {
        let (client, server) = tokio::io::duplex(PIPE_BYTES);
        let conn = ConnId(self.next_id.fetch_add(1, Ordering::Relaxed));
        tracing::debug!(conn = %conn, "in-process connection");
        let handles = self.handles.clone();
        let info = handles.info(None);
        let arrival = handles.stamp();
        self.tracker
            .spawn(handles.carry(server, conn, info, arrival));
        client
    }
}
