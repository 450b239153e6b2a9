//! Codec micro-benchmarks: decode and encode of the packets that dominate a broker's work.
//!
//! Run with `cargo bench -p tern-benches --bench codec`. They print figures; nothing here
//! asserts on time.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tern::codec::*;

fn publish_qos1(payload_len: usize) -> Packet {
    let mut p = Publish::new(
        TopicName::new("sensors/building-7/floor-3/temperature").unwrap(),
        Bytes::from(vec![0xA5; payload_len]),
    );
    p.qos = QoS::AtLeastOnce;
    p.packet_id = PacketId::new(4242);
    Packet::Publish(p)
}

fn connect_v5() -> Packet {
    let mut c = Connect::new(Protocol::V5, "bench-client-0001");
    c.clean_start = false;
    c.username = Some("user".into());
    c.password = Some(Bytes::from_static(b"password"));
    c.properties = vec![
        Property::SessionExpiryInterval(3600),
        Property::ReceiveMaximum(100),
        Property::MaximumPacketSize(1 << 20),
        Property::TopicAliasMaximum(10),
        Property::RequestProblemInformation(1),
        Property::user("app", "bench"),
    ]
    .into();
    Packet::Connect(Box::new(c))
}

fn subscribe_10_filters() -> Packet {
    let filters = (0..10)
        .map(|i| {
            let f = match i % 3 {
                0 => format!("sensors/+/floor-{i}/temperature"),
                1 => format!("alerts/{i}/#"),
                _ => format!("devices/dev-{i}/state"),
            };
            (
                TopicFilter::new(f).unwrap(),
                SubscriptionOptions::qos(QoS::AtLeastOnce),
            )
        })
        .collect();
    Packet::Subscribe(Subscribe {
        packet_id: PacketId::new(7).unwrap(),
        properties: vec![Property::SubscriptionIdentifier(12)].into(),
        filters,
    })
}

fn cases() -> Vec<(&'static str, Packet, Protocol)> {
    vec![
        (
            "publish_qos1_16B_v3.1.1",
            publish_qos1(16),
            Protocol::V3_1_1,
        ),
        ("publish_qos1_16B_v5", publish_qos1(16), Protocol::V5),
        ("publish_qos1_1KiB_v5", publish_qos1(1024), Protocol::V5),
        ("connect_v5_properties", connect_v5(), Protocol::V5),
        (
            "subscribe_10_filters_v5",
            subscribe_10_filters(),
            Protocol::V5,
        ),
    ]
}

fn decode_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for (name, packet, protocol) in cases() {
        let bytes = packet.to_bytes(protocol).unwrap();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &bytes, |b, bytes| {
            // The read buffer is refilled from a template each time; the copy is part of what a
            // socket read does anyway and is the same for every codec.
            let mut buf = BytesMut::with_capacity(bytes.len());
            b.iter(|| {
                buf.extend_from_slice(bytes);
                let packet = decode(&mut buf, protocol, MAX_PACKET_SIZE).unwrap();
                black_box(packet)
            })
        });
    }
    group.finish();
}

fn encode_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for (name, packet, protocol) in cases() {
        let len = packet.encoded_len(protocol).unwrap();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &packet, |b, packet| {
            let mut buf = BytesMut::with_capacity(len * 2);
            b.iter(|| {
                buf.clear();
                packet.encode(protocol, &mut buf).unwrap();
                black_box(&buf);
            })
        });
    }
    group.finish();
}

fn topic_match_bench(c: &mut Criterion) {
    let name = "sensors/building-7/floor-3/temperature";
    let mut group = c.benchmark_group("topic_match");
    for filter in [
        "sensors/building-7/floor-3/temperature",
        "sensors/+/floor-3/temperature",
        "sensors/#",
        "sensors/+/floor-4/#",
    ] {
        group.bench_with_input(BenchmarkId::from_parameter(filter), &filter, |b, f| {
            b.iter(|| black_box(matches(black_box(f), black_box(name))))
        });
    }
    group.finish();
}

criterion_group!(benches, decode_bench, encode_bench, topic_match_bench);
criterion_main!(benches);
