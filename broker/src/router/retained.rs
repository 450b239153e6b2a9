//! The retained-message store: at most one message per Topic Name, found by Topic Filter.

use ahash::AHashMap;

use super::trie::{self, next_level, TrieNode};
use crate::codec::TopicName;

/// Retained messages by topic (section 3.3.1.3), generic over the message type.
///
/// A trie of Topic Name levels, so that the retained messages matching a new subscription's
/// filter are found by walking only the branches the filter can match: a filter without
/// wildcards costs O(levels), and `a/+/c` visits only the children of `a`. Each stored message
/// keeps its Topic Name (a cheap clone of the `ByteString`) to hand back to the caller.
pub struct RetainedStore<T> {
    root: Node<T>,
    len: usize,
}

/// One level of the trie.
struct Node<T> {
    children: AHashMap<Box<str>, Node<T>>,
    /// The message retained for the topic that ends at this node. Boxed, so that the many
    /// interior nodes do not pay for the size of `T`.
    value: Option<Box<(TopicName, T)>>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Node {
            children: AHashMap::new(),
            value: None,
        }
    }
}

impl<T> Default for RetainedStore<T> {
    fn default() -> Self {
        RetainedStore {
            root: Node::default(),
            len: 0,
        }
    }
}

impl<T> RetainedStore<T> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `message` as the retained message of `topic`, replacing any earlier one
    /// [MQTT-3.3.1-5], which is returned.
    ///
    /// The caller never stores a message with an empty payload [MQTT-3.3.1-7]: it calls
    /// [`RetainedStore::remove`] instead. `topic` is used as given, so a Topic Alias must be
    /// resolved to its name first.
    pub fn insert(&mut self, topic: &TopicName, message: T) -> Option<T> {
        let mut node = &mut self.root;
        for level in topic.split('/') {
            // Look up before inserting so an existing level costs no allocation.
            if node.children.get(level).is_none() {
                node.children.insert(level.into(), Node::default());
            }
            node = match node.children.get_mut(level) {
                Some(child) => child,
                None => unreachable!("the level was inserted just above"),
            };
        }
        let old = node.value.replace(Box::new((topic.clone(), message)));
        if old.is_none() {
            self.len += 1;
        }
        old.map(|b| b.1)
    }

    /// Removes the retained message of `topic` and returns it: a retained PUBLISH with an
    /// empty payload does this [MQTT-3.3.1-6]. Nodes left empty are pruned.
    pub fn remove(&mut self, topic: &str) -> Option<T> {
        let mut node = &mut self.root;
        for level in topic.split('/') {
            node = node.children.get_mut(level)?;
        }
        let (_, message) = *node.value.take()?;
        self.len -= 1;
        trie::prune(&mut self.root, topic.split('/'));
        Some(message)
    }

    /// The retained message of exactly `topic`, if any.
    pub fn get(&self, topic: &str) -> Option<&T> {
        let mut node = &self.root;
        for level in topic.split('/') {
            node = node.children.get(level)?;
        }
        node.value.as_deref().map(|(_, message)| message)
    }

    /// Calls `f` with the topic and message of every retained message whose Topic Name
    /// matches `filter` (section 4.7): `#` matches the parent level and everything below, `+`
    /// one level (possibly empty), and a filter starting with a wildcard never matches a topic
    /// starting with `$` [MQTT-4.7.2-1].
    ///
    /// `filter` is a non-shared Topic Filter (for a shared subscription, no retained messages
    /// are sent at all, section 4.8.2). Only the branches the filter can match are visited.
    /// The order of the calls is unspecified.
    pub fn for_each_match(&self, filter: &str, mut f: impl FnMut(&str, &T)) {
        let mut emit = |node: &Node<T>| {
            if let Some((topic, message)) = node.value.as_deref() {
                f(topic, message);
            }
        };
        // Pending: a node reached so far and the unread rest of the filter.
        let mut pending: Vec<(&Node<T>, Option<&str>)> = vec![(&self.root, Some(filter))];
        // Nodes whose whole subtrie matches (reached by a `#`).
        let mut everything: Vec<&Node<T>> = Vec::new();
        while let Some((node, rest)) = pending.pop() {
            let Some(rest) = rest else {
                emit(node);
                continue;
            };
            let at_root = std::ptr::eq(node, &self.root);
            // [MQTT-4.7.2-1]: at the root, a wildcard skips the topics starting with `$`.
            let wild_children = || {
                node.children
                    .iter()
                    .filter(move |(level, _)| !(at_root && level.starts_with('$')))
                    .map(|(_, child)| child)
            };
            let (level, rest) = next_level(rest);
            match level {
                // The parent level itself, and every level below [section 4.7.1.2].
                "#" => {
                    emit(node);
                    everything.extend(wild_children());
                }
                "+" => pending.extend(wild_children().map(|child| (child, rest))),
                _ => {
                    if let Some(child) = node.children.get(level) {
                        pending.push((child, rest));
                    }
                }
            }
        }
        while let Some(node) = everything.pop() {
            emit(node);
            everything.extend(node.children.values());
        }
    }

    /// Calls `f` with every retained message (those of `$` topics too), in no particular
    /// order.
    pub fn for_each(&self, mut f: impl FnMut(&str, &T)) {
        let mut work = vec![&self.root];
        while let Some(node) = work.pop() {
            if let Some((topic, message)) = node.value.as_deref() {
                f(topic, message);
            }
            work.extend(node.children.values());
        }
    }

    /// Drops every message for which `keep` returns false (to purge expired messages), and
    /// prunes the nodes left empty.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        // Take the messages out in one walk, remembering their topics, then prune each path.
        let mut dropped: Vec<TopicName> = Vec::new();
        let mut work = vec![&mut self.root];
        while let Some(node) = work.pop() {
            if node
                .value
                .as_deref()
                .is_some_and(|(_, message)| !keep(message))
            {
                if let Some(value) = node.value.take() {
                    dropped.push(value.0);
                }
            }
            work.extend(node.children.values_mut());
        }
        self.len -= dropped.len();
        for topic in &dropped {
            trie::prune(&mut self.root, topic.split('/'));
        }
    }

    /// How many retained messages are stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no message is retained.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many nodes hang below the root (to check that pruning keeps the trie minimal).
    #[cfg(test)]
    fn node_count(&self) -> usize {
        let mut count = 0;
        let mut work = vec![&self.root];
        while let Some(node) = work.pop() {
            work.extend(node.children.values());
            count += 1;
        }
        count - 1
    }
}

impl<T> std::fmt::Debug for RetainedStore<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetainedStore")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl<T> TrieNode for Node<T> {
    fn child(&self, level: &str) -> Option<&Self> {
        self.children.get(level)
    }

    fn child_mut(&mut self, level: &str) -> Option<&mut Self> {
        self.children.get_mut(level)
    }

    fn take_child(&mut self, level: &str) -> Option<Self> {
        self.children.remove(level)
    }

    fn degree(&self) -> usize {
        self.children.len()
    }

    fn holds_data(&self) -> bool {
        self.value.is_some()
    }

    fn drain_children(&mut self, out: &mut Vec<Self>) {
        out.extend(self.children.drain().map(|(_, child)| child));
    }
}

impl<T> Drop for Node<T> {
    fn drop(&mut self) {
        // Deep tries (one level per `/`, up to 65,536) must not be dropped recursively.
        trie::drain_iteratively(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(t: &str) -> TopicName {
        TopicName::new(t).unwrap()
    }

    fn store_of(topics: &[&str]) -> RetainedStore<usize> {
        let mut store = RetainedStore::new();
        for (i, t) in topics.iter().enumerate() {
            assert_eq!(store.insert(&name(t), i), None);
        }
        store
    }

    /// The topics matching `filter`, sorted, checking each message came with its own topic.
    fn found(store: &RetainedStore<usize>, filter: &str, topics: &[&str]) -> Vec<String> {
        let mut got = Vec::new();
        store.for_each_match(filter, |topic, &i| {
            assert_eq!(topic, topics[i]);
            got.push(topic.to_owned());
        });
        got.sort();
        got
    }

    /// [MQTT-3.3.1-5] replace, [MQTT-3.3.1-6] remove.
    #[test]
    fn insert_replace_and_remove() {
        let mut store = RetainedStore::new();
        assert!(store.is_empty());
        assert_eq!(store.insert(&name("a/b"), "one"), None);
        assert_eq!(store.insert(&name("a/b"), "two"), Some("one"));
        assert_eq!(store.insert(&name("a"), "three"), None);
        assert_eq!(store.len(), 2);
        assert_eq!(store.get("a/b"), Some(&"two"));
        assert_eq!(store.get("a/b/c"), None);
        assert_eq!(store.remove("a/b/c"), None);
        assert_eq!(store.remove("a/b"), Some("two"));
        assert_eq!(store.remove("a/b"), None);
        assert_eq!(store.len(), 1);
        assert_eq!(store.node_count(), 1);
        assert_eq!(store.remove("a"), Some("three"));
        assert!(store.is_empty());
        assert_eq!(store.node_count(), 0);
    }

    const TOPICS: [&str; 9] = [
        "sport",
        "sport/",
        "sport/tennis/player1",
        "sport/tennis/player1/ranking",
        "sport/tennis/player2",
        "sport/golf",
        "/finance",
        "$SYS/monitor/Clients",
        "$SYS",
    ];

    #[test]
    fn wildcards_walk_the_trie() {
        let s = store_of(&TOPICS);
        let f = |filter| found(&s, filter, &TOPICS);
        assert_eq!(f("sport/tennis/player1"), ["sport/tennis/player1"]);
        assert_eq!(f("sport/tennis/player3"), Vec::<String>::new());
        assert_eq!(
            f("sport/tennis/player1/#"),
            ["sport/tennis/player1", "sport/tennis/player1/ranking"]
        );
        assert_eq!(
            f("sport/tennis/+"),
            ["sport/tennis/player1", "sport/tennis/player2"]
        );
        assert_eq!(f("sport/+"), ["sport/", "sport/golf"]);
        assert_eq!(f("+/+"), ["/finance", "sport/", "sport/golf"]);
        assert_eq!(f("/+"), ["/finance"]);
        assert_eq!(f("+"), ["sport"]);
        assert_eq!(f("sport/#").len(), 6);
        assert_eq!(f("+/tennis/#").len(), 3);
    }

    /// [MQTT-4.7.2-1] for retained messages.
    #[test]
    fn dollar_topics_escape_leading_wildcards() {
        let s = store_of(&TOPICS);
        let f = |filter| found(&s, filter, &TOPICS);
        assert_eq!(f("#").len(), 7);
        assert!(f("#").iter().all(|t| !t.starts_with('$')));
        assert_eq!(f("+/monitor/Clients"), Vec::<String>::new());
        assert_eq!(f("+"), ["sport"]);
        assert_eq!(f("$SYS/#"), ["$SYS", "$SYS/monitor/Clients"]);
        assert_eq!(f("$SYS/monitor/+"), ["$SYS/monitor/Clients"]);
    }

    #[test]
    fn retain_purges_and_prunes() {
        let mut s = store_of(&TOPICS);
        s.retain(|&i| i % 2 == 0);
        assert_eq!(s.len(), 5);
        let kept: Vec<String> = TOPICS.iter().step_by(2).map(|t| t.to_string()).collect();
        let mut all = found(&s, "#", &TOPICS);
        all.extend(found(&s, "$SYS/#", &TOPICS));
        all.sort();
        let mut kept_sorted = kept.clone();
        kept_sorted.sort();
        assert_eq!(all, kept_sorted);
        s.retain(|_| false);
        assert!(s.is_empty());
        assert_eq!(s.node_count(), 0);
    }

    /// A topic of 65,535 bytes has 65,536 levels: nothing may recurse on it.
    #[test]
    fn very_deep_topics_do_not_overflow_the_stack() {
        let deep = "/".repeat(65_534);
        let mut s = store_of(&[&deep, "a"]);
        assert_eq!(found(&s, "#", &[&deep, "a"]).len(), 2);
        assert_eq!(found(&s, &deep, &[&deep, "a"]).len(), 1);
        assert_eq!(s.remove(&deep), Some(0));
        assert_eq!(s.node_count(), 1);
        s.insert(&name(&deep), 0);
        drop(s); // would overflow if dropped recursively
    }
}
