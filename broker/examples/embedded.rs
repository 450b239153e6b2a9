//! An application with the broker inside it: MQTT clients on the network reach it on
//! 127.0.0.1:1883 (or the port given as the first argument), and the application's own
//! publisher and subscriber talk to it in-process.
//!
//! ```text
//! cargo run -p tern --example embedded -- 1884
//! mosquitto_sub -p 1884 -t 'app/#' -v      # sees what the application publishes
//! ```
//!
//! It publishes a reading every second for five seconds, prints what it receives on
//! `commands/#`, then stops the broker gracefully.

use std::time::Duration;

use tern::codec::QoS;
use tern::config::{Config, Listener};
use tern::embed::{Broker, ClientOptions, Message};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(1883);
    // The built-in defaults, in code: one listener on loopback, nothing kept on disk, no
    // HTTP or gRPC surface.
    let mut config = Config {
        listeners: vec![Listener {
            bind: ([127, 0, 0, 1], port).into(),
            ..Listener::default()
        }],
        ..Config::default()
    };
    config.storage.mode = tern::config::StorageMode::Memory;
    config.http.enabled = false;
    config.grpc.enabled = false;
    let broker = Broker::start(config).await?;
    println!("MQTT on {}", broker.local_addrs()[0]);

    let (subscriber, mut deliveries, _) = broker.connect(ClientOptions::default()).await?;
    subscriber
        .subscribe(&[("commands/#", QoS::AtLeastOnce)])
        .await?;
    let listen = tokio::spawn(async move {
        while let Some(delivery) = deliveries.recv().await {
            let m = &delivery.message;
            println!("command on {}: {:?}", m.topic, m.payload);
        }
    });

    let options = ClientOptions {
        client_id: "embedded-app".into(),
        ..ClientOptions::default()
    };
    let (publisher, _, _) = broker.connect(options).await?;
    for reading in 0..5 {
        let message = Message::new("app/reading", format!("{reading}")).with_qos(QoS::AtLeastOnce);
        let reason = publisher.publish(&message).await?;
        println!("published reading {reading}: {reason:?}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let stats = broker.stats();
    println!(
        "{} connections, {} messages received",
        stats.connections,
        stats.stats.messages_received.iter().sum::<u64>()
    );
    broker.stop().await?;
    listen.await?;
    Ok(())
}
