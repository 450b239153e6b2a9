//! Tests of the subscription tree (a child module of `tree`).

use super::*;
use crate::codec::{QoS, SubscriptionOptions};

fn filter(f: &str) -> TopicFilter {
    TopicFilter::new(f).unwrap()
}

fn sub(qos: QoS, identifier: Option<u32>) -> Subscription {
    Subscription {
        options: SubscriptionOptions::qos(qos),
        identifier,
    }
}

fn any() -> Subscription {
    sub(QoS::AtMostOnce, None)
}

/// A tree where subscriber `i` holds `filters[i]`.
fn tree_of(filters: &[&str]) -> SubscriptionTree {
    let mut tree = SubscriptionTree::new();
    for (i, f) in filters.iter().enumerate() {
        assert!(!tree.subscribe(SubscriberId(i as u64), &filter(f), any()));
    }
    tree
}

/// The subscribers matching `topic`, sorted, with everyone available.
fn ids(tree: &SubscriptionTree, topic: &str) -> Vec<u64> {
    let mut out = Vec::new();
    tree.matches(topic, |_| true, &mut out);
    let mut ids: Vec<u64> = out.iter().map(|m| m.subscriber.0).collect();
    ids.sort_unstable();
    ids
}

/// Whether the one-filter tree of `f` matches `topic`.
fn one(f: &str, topic: &str) -> bool {
    !ids(&tree_of(&[f]), topic).is_empty()
}

/// The examples of section 4.7.1.2 (multi-level wildcard).
#[test]
fn multi_level_wildcard_examples() {
    for topic in [
        "sport/tennis/player1",
        "sport/tennis/player1/ranking",
        "sport/tennis/player1/score/wimbledon",
    ] {
        assert!(one("sport/tennis/player1/#", topic), "{topic}");
    }
    assert!(!one("sport/tennis/player1/#", "sport/tennis/player2"));
    assert!(!one("sport/tennis/player1/#", "sport/tennis"));
    // "#" includes the parent level.
    assert!(one("sport/#", "sport"));
    assert!(one("sport/#", "sport/"));
    assert!(!one("sport/#", "sports"));
    assert!(one("#", "sport/tennis/player1"));
    assert!(one("#", "/"));
    assert!(one("/#", "/"));
    assert!(one("/#", "/finance"));
    assert!(!one("/#", "finance"));
}

/// The examples of section 4.7.1.3 (single-level wildcard).
#[test]
fn single_level_wildcard_examples() {
    assert!(one("sport/tennis/+", "sport/tennis/player1"));
    assert!(one("sport/tennis/+", "sport/tennis/player2"));
    assert!(!one("sport/tennis/+", "sport/tennis/player1/ranking"));
    assert!(!one("sport/+", "sport"));
    assert!(one("sport/+", "sport/"));
    assert!(one("sport/+/player1", "sport/tennis/player1"));
    assert!(one("+/tennis/#", "sport/tennis"));
    assert!(one("+/tennis/#", "sport/tennis/player1/ranking"));
    // "/finance" matches "+/+" and "/+", but not "+".
    assert!(one("+/+", "/finance"));
    assert!(one("/+", "/finance"));
    assert!(!one("+", "/finance"));
    assert!(one("+", "finance"));
}

/// [MQTT-4.7.3-4]: no normalisation, case and spaces count, empty levels count.
#[test]
fn levels_are_compared_byte_for_byte() {
    assert!(!one("ACCOUNTS", "Accounts"));
    assert!(one("Accounts payable", "Accounts payable"));
    assert!(!one("/finance", "finance"));
    assert!(!one("a//b", "a/b"));
    assert!(one("a//b", "a//b"));
    assert!(one("a/+/b", "a//b"));
}

/// [MQTT-4.7.2-1] and the examples of section 4.7.2.
#[test]
fn dollar_topics_escape_leading_wildcards() {
    let tree = tree_of(&[
        "#",
        "+/monitor/Clients",
        "$SYS/#",
        "$SYS/monitor/+",
        "+",
        "+/#",
    ]);
    assert_eq!(ids(&tree, "$SYS/monitor/Clients"), [2, 3]);
    assert_eq!(ids(&tree, "$SYS"), [2]);
    assert_eq!(ids(&tree, "$other"), Vec::<u64>::new());
    // The rule is about the name's first character only.
    assert_eq!(ids(&tree, "a/monitor/Clients"), [0, 1, 5]);
    assert_eq!(ids(&tree, "a/$SYS"), [0, 5]);
    // Shared subscriptions follow it on their inner filter.
    let mut tree = SubscriptionTree::new();
    tree.subscribe(SubscriberId(1), &filter("$share/g/#"), any());
    tree.subscribe(SubscriberId(2), &filter("$share/g/$SYS/+"), any());
    assert_eq!(ids(&tree, "$SYS/x"), [2]);
}

/// A session whose filters overlap gets one match per filter; the caller merges them
/// [MQTT-3.3.4-2] [MQTT-3.3.4-3].
#[test]
fn overlapping_subscriptions_are_all_reported() {
    let mut tree = SubscriptionTree::new();
    let me = SubscriberId(9);
    tree.subscribe(me, &filter("a/b"), sub(QoS::AtMostOnce, Some(1)));
    tree.subscribe(me, &filter("a/+"), sub(QoS::AtLeastOnce, Some(2)));
    tree.subscribe(me, &filter("a/#"), sub(QoS::ExactlyOnce, None));
    tree.subscribe(me, &filter("#"), sub(QoS::AtMostOnce, Some(4)));
    let mut out = Vec::new();
    tree.matches("a/b", |_| true, &mut out);
    let mut got: Vec<_> = out
        .iter()
        .map(|m| {
            (
                m.subscriber,
                m.subscription.options.qos,
                m.subscription.identifier,
                m.shared.is_some(),
            )
        })
        .collect();
    got.sort_by_key(|g| g.2);
    assert_eq!(
        got,
        [
            (me, QoS::ExactlyOnce, None, false),
            (me, QoS::AtMostOnce, Some(1), false),
            (me, QoS::AtLeastOnce, Some(2), false),
            (me, QoS::AtMostOnce, Some(4), false),
        ]
    );
}

/// [MQTT-3.8.4-3]: the same filter again replaces the subscription, and says so.
#[test]
fn subscribing_again_replaces() {
    let mut tree = SubscriptionTree::new();
    let f = filter("a/+");
    assert!(!tree.subscribe(SubscriberId(1), &f, sub(QoS::AtMostOnce, None)));
    assert!(tree.subscribe(SubscriberId(1), &f, sub(QoS::ExactlyOnce, Some(5))));
    assert!(!tree.subscribe(SubscriberId(2), &f, any()));
    assert_eq!(tree.len(), 2);
    let mut out = Vec::new();
    tree.matches("a/x", |_| true, &mut out);
    let mine = out
        .iter()
        .find(|m| m.subscriber == SubscriberId(1))
        .unwrap();
    assert_eq!(*mine.subscription, sub(QoS::ExactlyOnce, Some(5)));
    // A shared filter is its own subscription, replaced the same way.
    let shared = filter("$share/g/a/+");
    assert!(!tree.subscribe(SubscriberId(1), &shared, any()));
    assert!(tree.subscribe(SubscriberId(1), &shared, any()));
    assert_eq!(tree.len(), 3);
}

/// [MQTT-3.10.4-1]: only the exact filter string is removed, and empty nodes go with it.
#[test]
fn unsubscribing_removes_and_prunes() {
    let filters = [
        "a/b/c", "a/b", "a/+/c", "a/#", "#", "+", "/", "a//b", "$SYS/#", "x/y/z/w",
    ];
    let mut tree = tree_of(&filters);
    let shared = ["$share/g/a/b/c", "$share/h/a/b/c", "$share/g/+/#"];
    for (i, f) in shared.iter().enumerate() {
        tree.subscribe(SubscriberId(100 + i as u64), &filter(f), any());
    }
    let extra = shared.len();
    assert_eq!(tree.len(), filters.len() + extra);
    assert!(tree.node_count() > 0);
    // Not held: nothing changes.
    assert!(!tree.unsubscribe(SubscriberId(0), &filter("a/b")));
    assert!(!tree.unsubscribe(SubscriberId(0), &filter("a/b/c/d")));
    assert!(!tree.unsubscribe(SubscriberId(100), &filter("$share/h/a/b/c")));
    assert_eq!(tree.len(), filters.len() + extra);

    assert!(tree.unsubscribe(SubscriberId(9), &filter("x/y/z/w")));
    assert_eq!(ids(&tree, "x/y/z/w"), [4, 102]); // "#" and "$share/g/+/#"
    for (i, f) in filters.iter().enumerate().take(9) {
        assert!(tree.unsubscribe(SubscriberId(i as u64), &filter(f)));
    }
    assert_eq!(tree.len(), extra);
    for (i, f) in shared.iter().enumerate() {
        assert!(tree.unsubscribe(SubscriberId(100 + i as u64), &filter(f)));
    }
    assert_eq!(tree.len(), 0);
    assert!(tree.is_empty());
    assert_eq!(tree.node_count(), 0);
}

/// Pruning stops at a node that still holds something or has another branch.
#[test]
fn pruning_keeps_what_is_still_used() {
    let mut tree = tree_of(&["a/b/c/d", "a/b", "a/x"]);
    let before = tree.node_count(); // a, b, c, d, x
    assert_eq!(before, 5);
    assert!(tree.unsubscribe(SubscriberId(0), &filter("a/b/c/d")));
    assert_eq!(tree.node_count(), 3); // a, b, x
    assert_eq!(ids(&tree, "a/b"), [1]);
    assert!(tree.unsubscribe(SubscriberId(1), &filter("a/b")));
    assert_eq!(tree.node_count(), 2); // a, x
    assert!(tree.unsubscribe(SubscriberId(2), &filter("a/x")));
    assert_eq!(tree.node_count(), 0);
}

fn shared_picks(tree: &SubscriptionTree, topic: &str, up: impl Fn(u64) -> bool) -> Vec<u64> {
    let mut out = Vec::new();
    tree.matches(topic, |id| up(id.0), &mut out);
    assert!(out.iter().all(|m| m.shared.is_some()));
    out.iter().map(|m| m.subscriber.0).collect()
}

/// Section 4.8.2: one member of a group per message, in turn.
#[test]
fn a_shared_group_delivers_to_one_member_in_turn() {
    let mut tree = SubscriptionTree::new();
    for id in 1..=3 {
        tree.subscribe(SubscriberId(id), &filter("$share/g/sport/tennis/+"), any());
    }
    let mut got = Vec::new();
    for _ in 0..6 {
        let picked = shared_picks(&tree, "sport/tennis/player1", |_| true);
        assert_eq!(picked.len(), 1);
        got.extend(picked);
    }
    assert_eq!(got[..3], got[3..]);
    let mut first = got[..3].to_vec();
    first.sort_unstable();
    assert_eq!(first, [1, 2, 3]);
    assert!(shared_picks(&tree, "sport/tennis", |_| true).is_empty());
}

#[test]
fn a_shared_group_prefers_available_members() {
    let mut tree = SubscriptionTree::new();
    for id in 1..=3 {
        tree.subscribe(SubscriberId(id), &filter("$share/g/t"), any());
    }
    for _ in 0..5 {
        assert_eq!(shared_picks(&tree, "t", |id| id == 2), [2]);
    }
    // When nobody is available, somebody still gets it.
    assert_eq!(shared_picks(&tree, "t", |_| false).len(), 1);
}

/// Section 4.8.2: "$share/consumer1/sport/tennis/+" and "$share/consumer2/sport/tennis/+" are
/// two groups, each sent one copy, beside every non-shared subscription.
#[test]
fn groups_and_plain_subscriptions_mix() {
    let mut tree = SubscriptionTree::new();
    let c1 = filter("$share/consumer1/sport/tennis/+");
    let c2 = filter("$share/consumer2/sport/tennis/+");
    tree.subscribe(SubscriberId(1), &c1, any());
    tree.subscribe(SubscriberId(2), &c1, any());
    tree.subscribe(SubscriberId(3), &c2, any());
    tree.subscribe(SubscriberId(4), &c2, any());
    tree.subscribe(SubscriberId(5), &filter("sport/tennis/+"), any());
    tree.subscribe(SubscriberId(6), &filter("sport/#"), any());
    // Same share name, other filter: another group ("$share/consumer1//finance").
    tree.subscribe(SubscriberId(7), &filter("$share/consumer1/sport/#"), any());
    // A group member may also hold a plain subscription.
    tree.subscribe(SubscriberId(1), &filter("sport/tennis/player1"), any());
    assert_eq!(tree.len(), 8);

    let mut out = Vec::new();
    tree.matches("sport/tennis/player1", |_| true, &mut out);
    let shared: Vec<u64> = out
        .iter()
        .filter(|m| m.shared.is_some())
        .map(|m| m.subscriber.0)
        .collect();
    let mut plain: Vec<u64> = out
        .iter()
        .filter(|m| m.shared.is_none())
        .map(|m| m.subscriber.0)
        .collect();
    plain.sort_unstable();
    assert_eq!(plain, [1, 5, 6]);
    assert_eq!(shared.len(), 3, "{shared:?}");
    assert_eq!(shared.iter().filter(|&&id| id == 1 || id == 2).count(), 1);
    assert_eq!(shared.iter().filter(|&&id| id == 3 || id == 4).count(), 1);
    assert!(shared.contains(&7));

    // Leaving a group keeps the group alive while it has members.
    assert!(tree.unsubscribe(SubscriberId(1), &c1));
    assert!(!tree.unsubscribe(SubscriberId(1), &c1));
    for _ in 0..3 {
        let mut out = Vec::new();
        tree.matches("sport/tennis/x", |_| true, &mut out);
        assert!(out
            .iter()
            .any(|m| m.shared.is_some() && m.subscriber == SubscriberId(2)));
    }
}

/// A malformed `$share` filter (possible from 3.x, where shared subscriptions do not exist)
/// is an ordinary filter on the literal level "$share".
#[test]
fn a_malformed_share_filter_is_an_ordinary_filter() {
    let tree = tree_of(&["$share/g", "$share//a"]);
    assert_eq!(ids(&tree, "$share/g"), [0]);
    assert_eq!(ids(&tree, "$share//a"), [1]);
}

/// A topic of 65,535 bytes has 65,536 levels: matching, pruning and dropping must not recurse.
#[test]
fn very_deep_filters_do_not_overflow_the_stack() {
    let deep_plus = vec!["+"; 20_000].join("/");
    let deep_slash = "/".repeat(65_534);
    let mut tree = SubscriptionTree::new();
    for (i, f) in [deep_plus.as_str(), deep_slash.as_str(), "#"]
        .iter()
        .enumerate()
    {
        tree.subscribe(SubscriberId(i as u64), &filter(f), any());
    }
    let topic = "/".repeat(19_999);
    assert_eq!(ids(&tree, &topic), [0, 2]);
    assert_eq!(ids(&tree, &deep_slash), [1, 2]);
    assert!(tree.unsubscribe(SubscriberId(1), &filter(&deep_slash)));
    assert_eq!(tree.node_count(), 20_000);
    drop(tree); // would overflow if dropped recursively
}

#[test]
fn the_tree_can_be_shared_between_threads() {
    fn check<T: Send + Sync>() {}
    check::<SubscriptionTree>();
}
