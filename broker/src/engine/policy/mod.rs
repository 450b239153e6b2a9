//! The authorization port: what the engine asks before it lets a client publish to a topic
//! or subscribe to a filter, and the policy types those questions are put in.
//!
//! The engine owns these types so that it never looks up at the adapters that answer: the
//! ACL file (`crate::auth::acl`) implements [`Authorizer`], and a JWT's `topics` claim
//! becomes [`TopicLimits`] through the authentication port ([`super::Grant`]).

mod pattern;

pub use pattern::{covers, overlaps, Pattern, Who};

use crate::codec::matches;

/// Decides who may publish and subscribe to what, beside what credentials carry. One is set
/// with [`super::Engine::set_acl`]; without one, everything is allowed.
pub trait Authorizer: Send + Sync {
    /// Whether `who` may publish to `topic` (a will is checked the same way).
    fn may_publish(&self, who: &Who<'_>, topic: &str) -> bool;
    /// Whether `who` may subscribe to `filter`: a plain filter, the engine takes a shared
    /// subscription's apart first. Every topic the filter matches must be readable.
    fn may_subscribe(&self, who: &Who<'_>, filter: &str) -> bool;
}

/// Topics a connection is limited to on top of the [`Authorizer`], as a JWT's `topics` claim
/// gives them: a PUBLISH must match a `write` pattern, a SUBSCRIBE filter must be covered by
/// a `read` pattern. Patterns may use `%u` and `%c`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicLimits {
    pub read: Vec<Pattern>,
    pub write: Vec<Pattern>,
}

impl TopicLimits {
    pub fn may_publish(&self, who: &Who<'_>, topic: &str) -> bool {
        self.write
            .iter()
            .filter_map(|p| p.resolve(who))
            .any(|p| matches(&p, topic))
    }

    pub fn may_subscribe(&self, who: &Who<'_>, filter: &str) -> bool {
        self.read
            .iter()
            .filter_map(|p| p.resolve(who))
            .any(|p| covers(&p, filter))
    }
}
