//! Reloading without a restart: `tern start` turns SIGHUP into [`ReloadHandle::reload`], and
//! every part that can re-read its files listens through [`ReloadHandle::subscribe`].
//!
//! A reload is a generation number that goes up; each listener wakes once per change it has
//! not yet seen (several reloads in quick succession may wake it once, to read the newest
//! files). A part reloads in its own task, logs the outcome in one line, and keeps what it had
//! when the new files do not load. Nothing that is open is closed by a reload.
//!
//! Parts that hook in, each subscribing in [`Server::run`](super::Server::run): the
//! certificates of TLS listeners ([`reload_certificates`], which swaps them in place) and the
//! files of `[auth]` (`reload_auth`, which loads them off the engine task and hands the result
//! to the engine as an event). A new part does the same.

use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::tls::TlsListener;

/// Asks a server to reload. Cheap to clone; usable from any thread or task.
#[derive(Clone, Debug)]
pub struct ReloadHandle {
    generation: Arc<watch::Sender<u64>>,
}

/// Wakes on each reload asked after it was made.
#[derive(Debug)]
pub struct Reloads(watch::Receiver<u64>);

impl ReloadHandle {
    pub fn new() -> ReloadHandle {
        ReloadHandle {
            generation: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Asks every listening part to reload. Returns at once: the parts reload in their own
    /// tasks and log what they did.
    pub fn reload(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// A receiver of the reloads asked from now on.
    pub fn subscribe(&self) -> Reloads {
        Reloads(self.generation.subscribe())
    }
}

impl Default for ReloadHandle {
    fn default() -> ReloadHandle {
        ReloadHandle::new()
    }
}

impl Reloads {
    /// Waits for the next reload and returns its generation (1 for the first); `None` once
    /// the handle and all its clones are gone.
    pub async fn next(&mut self) -> Option<u64> {
        self.0.changed().await.ok()?;
        Some(*self.0.borrow_and_update())
    }
}

/// Reloads the certificates of every TLS listener (each named as the configuration names it:
/// `listener[0]`, `http`) on each reload, until `stop`.
pub(super) async fn reload_certificates(
    mut reloads: Reloads,
    listeners: Vec<(String, Arc<TlsListener>)>,
    stop: CancellationToken,
) {
    if listeners.is_empty() {
        return;
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            next = reloads.next() => if next.is_none() { return },
        }
        for (name, tls) in &listeners {
            // Reading a few files: short enough for a runtime thread, and rare.
            match tls.reload() {
                Ok(()) => tracing::info!(
                    "{name}: certificates reloaded from {}",
                    tls.settings().cert_file.display()
                ),
                Err(e) => tracing::error!(
                    "{name}: certificates not reloaded, the old ones stay in use: {e}"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_sees_a_reload() {
        let handle = ReloadHandle::new();
        let mut a = handle.subscribe();
        let mut b = handle.clone().subscribe();
        handle.reload();
        assert_eq!(a.next().await, Some(1));
        assert_eq!(b.next().await, Some(1));
        handle.reload();
        handle.reload();
        // Two quick reloads may wake a subscriber once, with the newest generation.
        assert_eq!(a.next().await, Some(3));
        drop(handle);
        assert_eq!(a.next().await, None);
    }
}
