//! Subscription tree micro-benchmarks: matching one Topic Name among 100,000 subscriptions, so
//! that the cost is seen to follow the topic's depth and the matches, not the tree's size.
//!
//! Run with `cargo bench -p tern-benches --bench router`. They print figures; nothing here
//! asserts on time.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tern::codec::{QoS, SubscriptionOptions, TopicFilter};
use tern::router::{SubscriberId, Subscription, SubscriptionTree};

/// 100,000 subscriptions: devices/{0..99_999}/state, one per device, plus a few wildcard
/// monitors.
fn tree(devices: u64) -> SubscriptionTree {
    let mut tree = SubscriptionTree::new();
    let sub = Subscription {
        options: SubscriptionOptions::qos(QoS::AtLeastOnce),
        identifier: None,
    };
    for i in 0..devices {
        let filter = TopicFilter::new(format!("devices/{i}/state")).unwrap();
        tree.subscribe(SubscriberId(i), &filter, sub.clone());
    }
    for (i, f) in ["devices/+/alarm", "devices/#", "$share/ops/devices/+/state"]
        .into_iter()
        .enumerate()
    {
        let filter = TopicFilter::new(f).unwrap();
        tree.subscribe(SubscriberId(devices + i as u64), &filter, sub.clone());
    }
    tree
}

fn matching(c: &mut Criterion) {
    let mut group = c.benchmark_group("router_match");
    for devices in [1_000u64, 100_000] {
        let tree = tree(devices);
        for topic in ["devices/777/state", "devices/777/alarm", "other/topic"] {
            let id = BenchmarkId::new(format!("{devices}_subscriptions"), topic);
            group.bench_with_input(id, &topic, |b, topic| {
                let mut out = Vec::with_capacity(8);
                b.iter(|| {
                    out.clear();
                    tree.matches(black_box(topic), |_| true, &mut out);
                    black_box(out.len())
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
