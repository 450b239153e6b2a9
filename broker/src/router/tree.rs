//! The subscription tree: a trie of Topic Filter levels, matched against Topic Names.

use ahash::AHashMap;

use super::shared::SharedGroup;
use super::trie::{self, next_level, TrieNode, WorkStack};
use super::{Match, SubscriberId, Subscription};
use crate::codec::TopicFilter;

/// Every subscription of every session, keyed by Topic Filter level (section 4.7).
///
/// A filter is stored at the node its levels lead to: a literal level is a key of the parent's
/// `children`, a `+` level is the parent's `plus` child, and a trailing `#` is not a node but
/// the `multi` subscribers of the node above it. Matching a name therefore looks at one literal
/// child, one `+` child and one `#` set per level, and never at unrelated subscriptions.
///
/// A shared filter `$share/{ShareName}/{filter}` is stored at the node of `{filter}`, in the
/// group named `{ShareName}` (section 4.8.2).
#[derive(Default)]
pub struct SubscriptionTree {
    root: Node,
    len: usize,
}

/// One level of the trie.
#[derive(Default)]
struct Node {
    /// Literal levels below this one (the level may be empty: "a//b").
    children: AHashMap<Box<str>, Node>,
    /// The `+` level below this one.
    plus: Option<Box<Node>>,
    /// Subscriptions whose filter ends at this node.
    here: Option<Box<Subscribers>>,
    /// Subscriptions whose filter ends with a `#` just below this node.
    multi: Option<Box<Subscribers>>,
}

/// The subscriptions of one filter (or of one filter ending in `#`).
#[derive(Default)]
struct Subscribers {
    plain: AHashMap<SubscriberId, Subscription>,
    groups: AHashMap<Box<str>, SharedGroup>,
}

impl Subscribers {
    fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.groups.is_empty()
    }

    /// Appends every non-shared subscription, and one member of each shared group.
    fn report<'a>(
        &'a self,
        available: &mut impl FnMut(SubscriberId) -> bool,
        out: &mut Vec<Match<'a>>,
    ) {
        out.extend(self.plain.iter().map(|(&subscriber, subscription)| Match {
            subscriber,
            subscription,
            shared: None,
        }));
        for group in self.groups.values() {
            if let Some((subscriber, subscription)) = group.pick(available) {
                out.push(Match {
                    subscriber: *subscriber,
                    subscription,
                    shared: group.filter(),
                });
            }
        }
    }
}

/// Where a filter lives in the tree: the path of its node (`None`: the root), whether it ends
/// with `#`, and the share name if it is a shared subscription.
struct Place<'f> {
    path: Option<&'f str>,
    multi: bool,
    share: Option<&'f str>,
}

impl<'f> Place<'f> {
    fn of(filter: &'f TopicFilter) -> Place<'f> {
        // A filter that starts with "$share/" but breaks section 4.8.2 is refused by the codec
        // for 5.0 [MQTT-4.8.2-1] [MQTT-4.8.2-2]; if one gets here (3.x has no shared
        // subscriptions), it is an ordinary filter whose first level is "$share".
        let (share, inner) = match filter.shared() {
            Ok(Some(shared)) => (Some(shared.share_name), shared.filter),
            _ => (None, filter.as_str()),
        };
        let (path, multi) = if inner == "#" {
            (None, true)
        } else if let Some(parent) = inner.strip_suffix("/#") {
            (Some(parent), true)
        } else {
            (Some(inner), false)
        };
        Place { path, multi, share }
    }
}

impl SubscriptionTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the subscription of `who` to `filter`; a `$share/{g}/{f}` filter makes
    /// `who` a member of group `g` on `f` (section 4.8.2).
    ///
    /// Returns true if `who` already had a subscription with exactly this filter string, which
    /// is then replaced [MQTT-3.8.4-3]: the caller needs this for Retain Handling 1
    /// (section 3.8.3.1).
    pub fn subscribe(
        &mut self,
        who: SubscriberId,
        filter: &TopicFilter,
        sub: Subscription,
    ) -> bool {
        let place = Place::of(filter);
        let mut node = &mut self.root;
        for level in trie::levels(place.path) {
            node = if level == "+" {
                node.plus.get_or_insert_with(Box::default)
            } else {
                // Look up before inserting so an existing level costs no allocation.
                if node.children.get(level).is_none() {
                    node.children.insert(level.into(), Node::default());
                }
                match node.children.get_mut(level) {
                    Some(child) => child,
                    None => unreachable!("the level was inserted just above"),
                }
            };
        }
        let slot = if place.multi {
            &mut node.multi
        } else {
            &mut node.here
        };
        let subs = slot.get_or_insert_with(Box::default);
        let existed = match place.share {
            None => subs.plain.insert(who, sub).is_some(),
            Some(share) => match subs.groups.get_mut(share) {
                Some(group) => group.insert(who, sub),
                None => {
                    let mut group = SharedGroup::for_filter(filter.clone());
                    group.insert(who, sub);
                    subs.groups.insert(share.into(), group);
                    false
                }
            },
        };
        if !existed {
            self.len += 1;
        }
        existed
    }

    /// Removes the subscription of `who` to exactly this filter string [MQTT-3.10.4-1];
    /// returns whether it existed. A shared group left without members is deleted
    /// (section 4.8.2), and so is every node left empty, so memory stays proportional to the
    /// subscriptions held.
    pub fn unsubscribe(&mut self, who: SubscriberId, filter: &TopicFilter) -> bool {
        let place = Place::of(filter);
        let mut node = &mut self.root;
        for level in trie::levels(place.path) {
            match node.child_mut(level) {
                Some(child) => node = child,
                None => return false,
            }
        }
        let slot = if place.multi {
            &mut node.multi
        } else {
            &mut node.here
        };
        let Some(subs) = slot else {
            return false;
        };
        let removed = match place.share {
            None => subs.plain.remove(&who).is_some(),
            Some(share) => match subs.groups.get_mut(share) {
                Some(group) => {
                    let removed = group.remove(who);
                    if group.is_empty() {
                        subs.groups.remove(share);
                    }
                    removed
                }
                None => false,
            },
        };
        if subs.is_empty() {
            *slot = None;
        }
        if removed {
            self.len -= 1;
            trie::prune(&mut self.root, trie::levels(place.path));
        }
        removed
    }

    /// Appends to `out` every subscription whose filter matches the Topic Name `topic`
    /// (section 4.7), borrowing them from the tree.
    ///
    /// - `#` matches its parent level and any number of levels below ("sport/#" matches
    ///   "sport"); `+` matches exactly one level, which may be empty ("+/+" matches
    ///   "/finance"). Levels are compared byte for byte [MQTT-4.7.3-4].
    /// - A filter starting with `+` or `#` never matches a name starting with `$`
    ///   [MQTT-4.7.2-1]; this holds for the inner filter of a shared subscription too.
    /// - Non-shared subscriptions: every matching (subscriber, subscription), including several
    ///   of one subscriber whose filters overlap; the caller merges them [MQTT-3.3.4-2].
    /// - Shared subscriptions: one member per matching group, round-robin among the members
    ///   for which `available` returns true, or among all members if none is (section 4.8.2).
    ///
    /// The walk allocates nothing unless the topic has more than a handful of levels at which
    /// both a literal and a `+` branch match; `out` is not cleared.
    pub fn matches<'a>(
        &'a self,
        topic: &str,
        mut available: impl FnMut(SubscriberId) -> bool,
        out: &mut Vec<Match<'a>>,
    ) {
        // Each pending item: a node reached so far, and the unread rest of the topic.
        let mut pending: WorkStack<(&'a Node, Option<&str>)> = WorkStack::new();
        // The root is visited first, on its own: it is where the `$` rule applies.
        let (level, rest) = next_level(topic);
        if !topic.starts_with('$') {
            // [MQTT-4.7.2-1]: the root's `#` and `+` are filters starting with a wildcard.
            if let Some(subs) = &self.root.multi {
                subs.report(&mut available, out);
            }
            if let Some(plus) = &self.root.plus {
                pending.push((plus, rest));
            }
        }
        if let Some(child) = self.root.children.get(level) {
            pending.push((child, rest));
        }
        while let Some((node, rest)) = pending.pop() {
            let Some(rest) = rest else {
                // The name ends here: the filters ending here match, and so do those ending
                // with `#` here, since `#` also matches its parent level.
                if let Some(subs) = &node.here {
                    subs.report(&mut available, out);
                }
                if let Some(subs) = &node.multi {
                    subs.report(&mut available, out);
                }
                continue;
            };
            let (level, rest) = next_level(rest);
            if let Some(subs) = &node.multi {
                subs.report(&mut available, out);
            }
            if let Some(plus) = &node.plus {
                pending.push((plus, rest));
            }
            if let Some(child) = node.children.get(level) {
                pending.push((child, rest));
            }
        }
    }

    /// One member of the shared subscription `filter` (`$share/{g}/{f}`), chosen as
    /// [`SubscriptionTree::matches`] chooses, with its subscription; `None` if the group does
    /// not exist. Used to hand a message to another member when one leaves (section 4.8.2).
    pub fn pick_shared(
        &self,
        filter: &TopicFilter,
        mut available: impl FnMut(SubscriberId) -> bool,
    ) -> Option<(SubscriberId, &Subscription)> {
        let place = Place::of(filter);
        let share = place.share?;
        let mut node = &self.root;
        for level in trie::levels(place.path) {
            node = if level == "+" {
                node.plus.as_deref()?
            } else {
                node.children.get(level)?
            };
        }
        let subs = if place.multi { &node.multi } else { &node.here };
        let group = subs.as_ref()?.groups.get(share)?;
        group.pick(&mut available).map(|(who, sub)| (*who, sub))
    }

    /// How many (subscriber, filter) subscriptions the tree holds, shared ones included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree holds no subscription.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many nodes hang below the root (to check that pruning keeps the tree minimal).
    #[cfg(test)]
    pub(super) fn node_count(&self) -> usize {
        let mut count = 0;
        let mut work = vec![&self.root];
        while let Some(node) = work.pop() {
            work.extend(node.children.values());
            work.extend(node.plus.as_deref());
            count += 1;
        }
        count - 1
    }
}

impl std::fmt::Debug for SubscriptionTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionTree")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl TrieNode for Node {
    fn child(&self, level: &str) -> Option<&Node> {
        if level == "+" {
            self.plus.as_deref()
        } else {
            self.children.get(level)
        }
    }

    fn child_mut(&mut self, level: &str) -> Option<&mut Node> {
        if level == "+" {
            self.plus.as_deref_mut()
        } else {
            self.children.get_mut(level)
        }
    }

    fn take_child(&mut self, level: &str) -> Option<Node> {
        if level == "+" {
            self.plus.take().map(|b| *b)
        } else {
            self.children.remove(level)
        }
    }

    fn degree(&self) -> usize {
        self.children.len() + usize::from(self.plus.is_some())
    }

    fn holds_data(&self) -> bool {
        self.here.is_some() || self.multi.is_some()
    }

    fn drain_children(&mut self, out: &mut Vec<Node>) {
        out.extend(self.children.drain().map(|(_, child)| child));
        out.extend(self.plus.take().map(|b| *b));
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Deep tries (one level per `/`, up to 65,536) must not be dropped recursively.
        trie::drain_iteratively(self);
    }
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
