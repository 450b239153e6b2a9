//! The hooks of an embedding application (`crate::embed`), and how the engine task carries
//! out what the engine asks of them (see `engine::hooks`).
//!
//! Each question runs in a task of its own with a deadline ([`DEADLINE`]); its answer goes
//! back to the engine on the priority channel, so that it does not wait behind a flood of
//! publications. A hook that misses the deadline is answered for, on the safe side: a
//! CONNECT is refused with 0x88 Server unavailable, a PUBLISH with 0x80 Unspecified error
//! (a 5.0 client sees it in PUBACK or PUBREC), a SUBSCRIBE's filters likewise; each is one
//! log line and counts in `tern_hook_timeouts`.
//!
//! Notices go through a bounded queue to one task that hands them to the hooks in order. A
//! hook that falls behind loses notices (counted in `tern_hook_notices_dropped`) rather
//! than slowing the broker.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::http::metrics::Measured;
use super::to_engine::{Event, Stamped};
use crate::codec::{Publish, QoS, ReasonCode, TopicFilter};
use crate::engine::{
    Answer, ClientInfo, ConnId, ConnectVerdict, Interest, Notice, PublishVerdict, Question,
};

/// How long a hook may take to answer a question.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// Notices waiting for the hooks before more are dropped.
const NOTICES: usize = 4096;

/// What an application adds to the broker. Every method has a default that changes nothing,
/// and the broker asks only what [`Hooks::interest`] says: implement what you need.
///
/// The methods that decide are `async`: they may do I/O (a database, an HTTP service). The
/// broker does not wait for them; the client they are about does, within [`DEADLINE`].
///
/// ```
/// use tern::codec::{Publish, ReasonCode};
/// use tern::embed::{ClientInfo, Hooks, Interest, PublishVerdict};
///
/// /// Refuses empty messages.
/// struct NoEmpty;
///
/// #[async_trait::async_trait]
/// impl Hooks for NoEmpty {
///     fn interest(&self) -> Interest {
///         Interest { publish: true, ..Interest::default() }
///     }
///
///     async fn on_publish(&self, _: &ClientInfo, publish: &Publish) -> PublishVerdict {
///         match publish.payload.is_empty() {
///             true => PublishVerdict::Refuse(ReasonCode::PAYLOAD_FORMAT_INVALID),
///             false => PublishVerdict::Allow,
///         }
///     }
/// }
/// # let _ = NoEmpty;
/// ```
#[async_trait::async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// Which questions and notices this implementation wants. Read once, at start.
    fn interest(&self) -> Interest;

    /// A CONNECT ([`Question::Connect`]), a re-authentication ([`Question::Reauth`]), or an
    /// AUTH of an enhanced authentication this hook continued ([`Question::Auth`]).
    /// [`ConnectVerdict::Ignore`] hands a CONNECT or a re-authentication on to the broker's
    /// own authentication.
    async fn authenticate(&self, question: &Question) -> ConnectVerdict {
        let _ = question;
        ConnectVerdict::Ignore
    }

    /// A PUBLISH a client sent, which the ACL allowed: let it through, change it, or refuse
    /// it.
    async fn on_publish(&self, client: &ClientInfo, publish: &Publish) -> PublishVerdict {
        let _ = (client, publish);
        PublishVerdict::Allow
    }

    /// A SUBSCRIBE's filters: one answer per filter, `None` to allow it, a reason code
    /// (0x87 Not authorized...) to refuse it.
    async fn authorize_subscribe(
        &self,
        client: &ClientInfo,
        filters: &[(TopicFilter, QoS)],
    ) -> Vec<Option<ReasonCode>> {
        let _ = client;
        vec![None; filters.len()]
    }

    /// Something happened (a session, a will, a retained message, a delivery, a drop).
    /// Called in order, from one task: it should return quickly.
    fn on_notice(&self, notice: &Notice) {
        let _ = notice;
    }
}

/// Carries out the engine's questions and notices.
pub(crate) struct HookRunner {
    hooks: Arc<dyn Hooks>,
    answers: mpsc::Sender<Stamped>,
    notices: mpsc::Sender<Notice>,
    measured: Arc<Measured>,
}

impl HookRunner {
    /// Starts the notice task; answers go to `answers` (the engine's priority channel).
    pub fn new(
        hooks: Arc<dyn Hooks>,
        answers: mpsc::Sender<Stamped>,
        measured: Arc<Measured>,
    ) -> HookRunner {
        let (notices, mut queue) = mpsc::channel::<Notice>(NOTICES);
        let listener = hooks.clone();
        tokio::spawn(async move {
            while let Some(notice) = queue.recv().await {
                listener.on_notice(&notice);
            }
        });
        HookRunner {
            hooks,
            answers,
            notices,
            measured,
        }
    }

    /// Asks the hooks `question` about `conn`, in a task of its own.
    pub fn ask(&self, conn: ConnId, id: u64, question: Question) {
        let hooks = self.hooks.clone();
        let answers = self.answers.clone();
        let measured = self.measured.clone();
        tokio::spawn(async move {
            let answer = match tokio::time::timeout(DEADLINE, answer(&*hooks, &question)).await {
                Ok(answer) => answer,
                Err(_) => {
                    measured.hook_timeouts.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(conn = %conn, "a hook did not answer within {DEADLINE:?}: {}",
                        kind(&question));
                    on_timeout(&question)
                }
            };
            let event = Stamped {
                at: Instant::now(),
                ticket: 0,
                event: Event::Answer(conn, id, answer),
            };
            let _ = answers.send(event).await;
        });
    }

    /// Hands `notice` to the hooks' queue, or counts it lost if the queue is full.
    pub fn notice(&self, notice: Notice) {
        if self.notices.try_send(notice).is_err() {
            let lost = self
                .measured
                .hook_notices_dropped
                .fetch_add(1, Ordering::Relaxed)
                + 1;
            if lost.is_power_of_two() {
                tracing::warn!(lost, "the hooks fall behind: notices dropped");
            }
        }
    }
}

async fn answer(hooks: &dyn Hooks, question: &Question) -> Answer {
    match question {
        Question::Connect { .. } | Question::Reauth { .. } | Question::Auth { .. } => {
            Answer::Connect(hooks.authenticate(question).await)
        }
        Question::Publish { client, publish } => {
            Answer::Publish(hooks.on_publish(client, publish).await)
        }
        Question::Subscribe { client, filters } => {
            let mut answers = hooks.authorize_subscribe(client, filters).await;
            // One answer per filter, whatever the hook returned.
            answers.resize(
                filters.len(),
                Some(ReasonCode::IMPLEMENTATION_SPECIFIC_ERROR),
            );
            Answer::Subscribe(answers)
        }
    }
}

/// The safe answer for a hook that missed its deadline.
fn on_timeout(question: &Question) -> Answer {
    match question {
        Question::Connect { .. } | Question::Reauth { .. } | Question::Auth { .. } => {
            Answer::Connect(ConnectVerdict::Deny(ReasonCode::SERVER_UNAVAILABLE))
        }
        Question::Publish { .. } => {
            Answer::Publish(PublishVerdict::Refuse(ReasonCode::UNSPECIFIED_ERROR))
        }
        Question::Subscribe { filters, .. } => {
            Answer::Subscribe(vec![Some(ReasonCode::UNSPECIFIED_ERROR); filters.len()])
        }
    }
}

fn kind(question: &Question) -> &'static str {
    match question {
        Question::Connect { .. } => "CONNECT",
        Question::Reauth { .. } => "re-authentication",
        Question::Auth { .. } => "AUTH",
        Question::Publish { .. } => "PUBLISH",
        Question::Subscribe { .. } => "SUBSCRIBE",
    }
}
