//! Both tries against the brute-force matcher of the codec, `crate::codec::matches`, over
//! random small filters and names (the `$` rule included).

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::{RetainedStore, SubscriberId, Subscription, SubscriptionTree};
use crate::codec::{matches, SubscriptionOptions, TopicFilter, TopicName};

fn valid_filters(raw: &[String]) -> Vec<TopicFilter> {
    raw.iter()
        .filter_map(|f| TopicFilter::new(f.as_str()).ok())
        .collect()
}

fn valid_names(raw: &[String]) -> Vec<TopicName> {
    raw.iter()
        .filter_map(|n| TopicName::new(n.as_str()).ok())
        .collect()
}

fn any() -> Subscription {
    Subscription {
        options: SubscriptionOptions::default(),
        identifier: None,
    }
}

/// Which of `filters` (by index) the tree reports for `name`.
fn tree_matches(tree: &SubscriptionTree, name: &str) -> Vec<usize> {
    let mut out = Vec::new();
    tree.matches(name, |_| true, &mut out);
    let mut got: Vec<usize> = out.iter().map(|m| m.subscriber.0 as usize).collect();
    got.sort_unstable();
    got
}

fn expected(filters: &[TopicFilter], name: &str) -> Vec<usize> {
    (0..filters.len())
        .filter(|&i| matches(&filters[i], name))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Subscriber `i` holds `filters[i]` (duplicates included); every name gets exactly the
    /// subscribers the reference matcher picks, before and after half of them unsubscribe,
    /// and the tree is empty again once everyone has.
    #[test]
    fn the_tree_agrees_with_the_reference(
        raw_filters in prop::collection::vec("[ab$/+#]{1,7}", 1..8),
        raw_names in prop::collection::vec("[ab$/]{1,7}", 1..6),
    ) {
        let filters = valid_filters(&raw_filters);
        let names = valid_names(&raw_names);
        let mut tree = SubscriptionTree::new();
        for (i, f) in filters.iter().enumerate() {
            prop_assert!(!tree.subscribe(SubscriberId(i as u64), f, any()));
        }
        prop_assert_eq!(tree.len(), filters.len());
        for name in &names {
            prop_assert_eq!(tree_matches(&tree, name), expected(&filters, name), "name {:?}", name);
        }
        for (i, f) in filters.iter().enumerate().step_by(2) {
            prop_assert!(tree.unsubscribe(SubscriberId(i as u64), f));
        }
        for name in &names {
            let want: Vec<usize> = expected(&filters, name).into_iter().filter(|i| i % 2 == 1).collect();
            prop_assert_eq!(tree_matches(&tree, name), want, "name {:?}", name);
        }
        for (i, f) in filters.iter().enumerate().skip(1).step_by(2) {
            prop_assert!(tree.unsubscribe(SubscriberId(i as u64), f));
        }
        prop_assert!(tree.is_empty());
        prop_assert_eq!(tree.node_count(), 0);
    }

    /// The retained messages visited for a filter are exactly the stored topics the reference
    /// matcher picks, before and after some are removed.
    #[test]
    fn the_retained_store_agrees_with_the_reference(
        raw_names in prop::collection::vec("[ab$/]{1,7}", 0..10),
        raw_filters in prop::collection::vec("[ab$/+#]{1,7}", 1..6),
    ) {
        let names = valid_names(&raw_names);
        let filters = valid_filters(&raw_filters);
        let mut store = RetainedStore::new();
        let mut stored = BTreeSet::new();
        for name in &names {
            store.insert(name, name.to_string());
            stored.insert(name.to_string());
        }
        prop_assert_eq!(store.len(), stored.len());
        let check = |store: &RetainedStore<String>, stored: &BTreeSet<String>| {
            for filter in &filters {
                let mut got = Vec::new();
                store.for_each_match(filter, |topic, message| {
                    assert_eq!(topic, message);
                    got.push(topic.to_owned());
                });
                got.sort();
                let want: Vec<String> =
                    stored.iter().filter(|t| matches(filter, t)).cloned().collect();
                prop_assert_eq!(got, want, "filter {:?}", filter);
            }
            Ok(())
        };
        check(&store, &stored)?;
        for name in names.iter().step_by(2) {
            let was = stored.remove(name.as_str());
            prop_assert_eq!(store.remove(name).is_some(), was);
        }
        check(&store, &stored)?;
        store.retain(|_| false);
        prop_assert!(store.is_empty());
    }
}
