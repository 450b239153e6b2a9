//! The two rumqttc drivers' way of waiting on an event loop: rumqttc's `EventLoop` must be
//! polled for anything to happen, so each connection's loop runs in a task of its own and
//! reports what it sees over two channels, application messages and everything else. Only
//! what an event means differs between the 3.1.1 and 5.0 APIs ([`EventLoop::next`]).

use std::future::Future;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use crate::client::{runtime, Msg, OP_TIMEOUT};

/// What one event of an event loop means to the driver.
pub(crate) enum Seen {
    Msg(Msg),
    Ctl(Ctl),
    /// An event the driver does not wait for.
    Nothing,
}

/// A rumqttc event loop, polled for the next event and saying what it means.
pub(crate) trait EventLoop: Send + 'static {
    fn next(&mut self) -> impl Future<Output = Seen> + Send;
}

/// What an event loop task reports besides application messages.
#[derive(Debug)]
pub(crate) enum Ctl {
    /// Session present.
    ConnAck(bool),
    SubAck(Vec<u8>),
    UnsubAck,
    PubAck,
    PubComp,
    Sent,
    DisconnectSent,
    Closed(String),
}

/// The receiving end of an event loop task.
pub(crate) struct Pump {
    pub ctl: UnboundedReceiver<Ctl>,
    pub msgs: UnboundedReceiver<Msg>,
    pub task: JoinHandle<()>,
    pub closed: Option<String>,
}

impl Pump {
    /// Runs `events` in a task of its own until the connection closes, and waits for its
    /// CONNACK: the pump and the Session Present flag.
    pub fn start(mut events: impl EventLoop) -> Result<(Pump, bool)> {
        let (ctl_tx, ctl) = unbounded_channel();
        let (msg_tx, msgs) = unbounded_channel();
        let task = runtime().spawn(async move {
            loop {
                let ctl = match events.next().await {
                    Seen::Msg(msg) => {
                        let _ = msg_tx.send(msg);
                        continue;
                    }
                    Seen::Ctl(ctl) => ctl,
                    Seen::Nothing => continue,
                };
                let end = matches!(ctl, Ctl::Closed(_));
                if ctl_tx.send(ctl).is_err() || end {
                    break;
                }
            }
        });
        let mut pump = Pump {
            ctl,
            msgs,
            task,
            closed: None,
        };
        match pump.wait(|c| matches!(c, Ctl::ConnAck(_)))? {
            Ctl::ConnAck(session_present) => Ok((pump, session_present)),
            _ => unreachable!("wait returns what it was asked for"),
        }
    }

    /// Waits for the first control event that `want` accepts.
    pub fn wait(&mut self, want: impl Fn(&Ctl) -> bool) -> Result<Ctl> {
        if let Some(why) = &self.closed {
            bail!("connection closed: {why}");
        }
        let deadline = tokio::time::Instant::now() + OP_TIMEOUT;
        loop {
            let got = runtime()
                .block_on(async { tokio::time::timeout_at(deadline, self.ctl.recv()).await })
                .map_err(|_| anyhow!("no answer within {OP_TIMEOUT:?}"))?;
            match got {
                Some(Ctl::Closed(why)) => {
                    self.closed = Some(why.clone());
                    bail!("connection closed: {why}");
                }
                Some(c) if want(&c) => return Ok(c),
                Some(_) => {}
                None => bail!("event loop ended"),
            }
        }
    }

    /// Waits for the end of a publish flow at QoS `q`.
    pub fn wait_published(&mut self, q: u8) -> Result<()> {
        match q {
            0 => self.wait(|c| matches!(c, Ctl::Sent))?,
            1 => self.wait(|c| matches!(c, Ctl::PubAck))?,
            _ => self.wait(|c| matches!(c, Ctl::PubComp))?,
        };
        Ok(())
    }

    pub fn recv(&mut self, wait: Duration) -> Option<Msg> {
        runtime()
            .block_on(async { timeout(wait, self.msgs.recv()).await })
            .ok()
            .flatten()
    }

    pub fn is_connected(&mut self) -> bool {
        while let Ok(c) = self.ctl.try_recv() {
            if let Ctl::Closed(why) = c {
                self.closed = Some(why);
            }
        }
        self.closed.is_none() && !self.task.is_finished()
    }
}

impl Drop for Pump {
    fn drop(&mut self) {
        self.task.abort();
    }
}
