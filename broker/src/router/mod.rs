//! The router: who receives a PUBLISH, and which retained messages a new subscription gets.
//!
//! Two structures live here, both pure (no I/O, no clocks, no locks of their own):
//!
//! - [`SubscriptionTree`]: every subscription held by every session, in a trie keyed by topic
//!   level. Matching a Topic Name walks only the branches that can match it (the literal level,
//!   `+` and `#`), so its cost grows with the depth of the name and the number of matches, not
//!   with the number of subscriptions. Shared subscriptions (section 4.8.2) live in the same
//!   trie, at the node of their inner filter, as groups that deliver to one member each.
//! - [`RetainedStore`]: the retained message of each topic (section 3.3.1.3), in a trie of the
//!   same shape, so that a new subscription's filter visits only the topics it can match.
//!
//! Topic levels come from untrusted clients, so every map is an `AHashMap` (randomised,
//! DoS-resistant hashing), and no walk recurses: a 65,535-byte topic has up to 65,536 levels,
//! and neither matching, nor pruning, nor dropping a trie may overflow the stack on it.
//!
//! The router never decides policy: it does not check permissions, apply no-local, pick the
//! QoS of a delivery or merge overlapping subscriptions of one session. It reports every
//! matching subscription and the session layer applies the rules of section 3.3.4.

#![warn(missing_docs)]

mod retained;
mod shared;
mod tree;
mod trie;

#[cfg(test)]
mod proptests;

pub use retained::RetainedStore;
pub use tree::SubscriptionTree;

use crate::codec::SubscriptionOptions;

/// Who holds a subscription: an opaque session handle chosen by the caller.
///
/// The router only compares and hashes it; what it designates (a slot in a session table, a
/// generation-tagged index) is the caller's business.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriberId(pub u64);

/// What a session asked for with one Topic Filter: the options and identifier the session
/// layer needs to deliver a matching message (section 3.8.3.1, section 3.8.2.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Maximum QoS, No Local, Retain As Published and Retain Handling, as granted.
    pub options: SubscriptionOptions,
    /// The MQTT 5.0 Subscription Identifier, to be sent with every message delivered because
    /// of this subscription [MQTT-3.3.4-3].
    pub identifier: Option<u32>,
}

/// One subscription that matches a Topic Name, as reported by [`SubscriptionTree::matches`].
///
/// A session with overlapping subscriptions appears once per matching subscription; the
/// caller merges them (maximum QoS [MQTT-3.3.4-2], all identifiers [MQTT-3.3.4-3]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match<'a> {
    /// The session to deliver to.
    pub subscriber: SubscriberId,
    /// The options and identifier of the matching subscription.
    pub subscription: &'a Subscription,
    /// For a shared subscription (section 4.8.2), its whole filter `$share/{g}/{f}`: this
    /// subscriber was chosen as the group's one recipient. `None` for an ordinary one.
    pub shared: Option<&'a crate::codec::TopicFilter>,
}
