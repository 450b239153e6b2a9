//! The sessions of one Shared Subscription (section 4.8.2) and how one of them is chosen.

use std::sync::atomic::{AtomicUsize, Ordering};

use ahash::AHashMap;

use super::{SubscriberId, Subscription};

/// The members of one Shared Subscription: one ShareName on one inner filter.
///
/// "$share/consumer1/sport/tennis/+" and "$share/consumer2/sport/tennis/+" are two groups, and
/// so are "$share/consumer1//finance" and "$share/consumer1/sport/tennis/+" (section 4.8.2):
/// the tree keeps a group per (node, ShareName), so both distinctions come for free.
///
/// Members sit in a `Vec` for round-robin by index, with an index map so that joining,
/// re-subscribing and leaving are O(1) even for a group of thousands of sessions.
#[derive(Debug, Default)]
pub(super) struct SharedGroup {
    members: Vec<(SubscriberId, Subscription)>,
    index: AHashMap<SubscriberId, usize>,
    /// The group's whole filter, `$share/{ShareName}/{filter}`, reported with its matches so
    /// that a message can later be handed to another member.
    filter: Option<crate::codec::TopicFilter>,
    /// Where the next round-robin search starts. Atomic (relaxed) rather than a `Cell` so that
    /// the tree stays `Sync` and can be read from several threads; a lost update between two
    /// concurrent readers only bends fairness, never correctness.
    cursor: AtomicUsize,
}

impl SharedGroup {
    /// An empty group for this `$share/...` filter.
    pub(super) fn for_filter(filter: crate::codec::TopicFilter) -> SharedGroup {
        SharedGroup {
            filter: Some(filter),
            ..SharedGroup::default()
        }
    }

    /// The group's whole `$share/...` filter.
    pub(super) fn filter(&self) -> Option<&crate::codec::TopicFilter> {
        self.filter.as_ref()
    }

    /// Adds `who`, or replaces its subscription; returns whether it was a member already.
    pub(super) fn insert(&mut self, who: SubscriberId, sub: Subscription) -> bool {
        if let Some(&i) = self.index.get(&who) {
            self.members[i].1 = sub;
            return true;
        }
        self.index.insert(who, self.members.len());
        self.members.push((who, sub));
        false
    }

    /// Removes `who`; returns whether it was a member.
    pub(super) fn remove(&mut self, who: SubscriberId) -> bool {
        let Some(i) = self.index.remove(&who) else {
            return false;
        };
        self.members.swap_remove(i);
        if let Some(&(moved, _)) = self.members.get(i) {
            self.index.insert(moved, i);
        }
        true
    }

    pub(super) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.members.len()
    }

    /// The one member a message is sent to (section 4.8.2): the next one, round-robin, for
    /// which `available` holds; if none does, the next one regardless (its session will queue
    /// the message, or the caller's policy will drop it).
    ///
    /// O(1) for a group of one, and when the next member is available; O(members) in the
    /// worst case, when most are unavailable.
    pub(super) fn pick(
        &self,
        available: &mut impl FnMut(SubscriberId) -> bool,
    ) -> Option<&(SubscriberId, Subscription)> {
        let n = self.members.len();
        match n {
            0 => return None,
            1 => return self.members.first(),
            _ => {}
        }
        let start = self.cursor.load(Ordering::Relaxed) % n;
        let mut chosen = start;
        let mut i = start;
        for _ in 0..n {
            if available(self.members[i].0) {
                chosen = i;
                break;
            }
            i = if i + 1 == n { 0 } else { i + 1 };
        }
        self.cursor.store(
            if chosen + 1 == n { 0 } else { chosen + 1 },
            Ordering::Relaxed,
        );
        self.members.get(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{QoS, SubscriptionOptions};

    fn sub(qos: QoS) -> Subscription {
        Subscription {
            options: SubscriptionOptions::qos(qos),
            identifier: None,
        }
    }

    fn picks(group: &SharedGroup, rounds: usize, mut up: impl FnMut(u64) -> bool) -> Vec<u64> {
        (0..rounds)
            .map(|_| group.pick(&mut |id| up(id.0)).unwrap().0 .0)
            .collect()
    }

    #[test]
    fn members_join_replace_and_leave() {
        let mut g = SharedGroup::default();
        assert!(!g.insert(SubscriberId(1), sub(QoS::AtMostOnce)));
        assert!(!g.insert(SubscriberId(2), sub(QoS::AtMostOnce)));
        assert!(g.insert(SubscriberId(1), sub(QoS::ExactlyOnce)));
        assert_eq!(g.len(), 2);
        assert!(g.remove(SubscriberId(1)));
        assert!(!g.remove(SubscriberId(1)));
        // The member moved by swap_remove is still found by the index.
        assert_eq!(g.pick(&mut |_| true).unwrap().0, SubscriberId(2));
        assert!(g.remove(SubscriberId(2)));
        assert!(g.is_empty());
        assert_eq!(g.pick(&mut |_| true), None);
    }

    #[test]
    fn picks_rotate_and_skip_unavailable_members() {
        let mut g = SharedGroup::default();
        for id in 1..=3 {
            g.insert(SubscriberId(id), sub(QoS::AtLeastOnce));
        }
        assert_eq!(picks(&g, 6, |_| true), [1, 2, 3, 1, 2, 3]);
        assert_eq!(picks(&g, 4, |id| id != 2), [1, 3, 1, 3]);
        // Nobody available: still one member each time, still rotating.
        assert_eq!(picks(&g, 3, |_| false).len(), 3);
        let mut seen = picks(&g, 3, |_| false);
        seen.sort_unstable();
        assert_eq!(seen, [1, 2, 3]);
    }

    #[test]
    fn a_group_of_one_does_not_ask_about_availability() {
        let mut g = SharedGroup::default();
        g.insert(SubscriberId(7), sub(QoS::AtMostOnce));
        let chosen = g.pick(&mut |_| panic!("not asked")).unwrap();
        assert_eq!(chosen.0, SubscriberId(7));
    }
}
