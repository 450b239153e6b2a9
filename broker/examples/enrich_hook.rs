//! A hook that enriches or rejects messages as they come in: every message gets a
//! `received-by` user property naming the client that sent it; payloads that are not JSON
//! objects on `telemetry/#` are refused with 0x99 Payload format invalid (a 5.0 publisher
//! sees it in PUBACK); and a notice hook counts what happens to sessions.
//!
//! ```text
//! cargo run -p tern --example enrich_hook
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tern::codec::{Property, Publish, QoS, ReasonCode};
use tern::config::Config;
use tern::embed::{
    Broker, ClientInfo, ClientOptions, Hooks, Interest, Message, Notice, PublishVerdict,
};

#[derive(Default)]
struct Enricher {
    sessions: AtomicU64,
}

#[async_trait::async_trait]
impl Hooks for Enricher {
    fn interest(&self) -> Interest {
        Interest {
            publish: true,
            events: true,
            ..Interest::default()
        }
    }

    async fn on_publish(&self, client: &ClientInfo, publish: &Publish) -> PublishVerdict {
        if publish.topic.as_str().starts_with("telemetry/")
            && !matches!(
                serde_json::from_slice::<serde_json::Value>(&publish.payload),
                Ok(serde_json::Value::Object(_))
            )
        {
            return PublishVerdict::Refuse(ReasonCode::PAYLOAD_FORMAT_INVALID);
        }
        let mut enriched = publish.clone();
        enriched
            .properties
            .push(Property::user("received-by", client.client_id.as_ref()));
        PublishVerdict::Replace(enriched)
    }

    fn on_notice(&self, notice: &Notice) {
        if let Notice::SessionCreated { client_id } = notice {
            let n = self.sessions.fetch_add(1, Ordering::Relaxed) + 1;
            println!("session {n}: {client_id}");
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config = Config::default();
    config.listeners.clear();
    config.storage.mode = tern::config::StorageMode::Memory;
    config.http.enabled = false;
    config.grpc.enabled = false;
    let broker = Broker::start_with_hooks(config, Arc::new(Enricher::default())).await?;

    let (subscriber, mut deliveries, _) = broker.connect(ClientOptions::default()).await?;
    subscriber
        .subscribe(&[("telemetry/#", QoS::AtLeastOnce)])
        .await?;
    let options = ClientOptions {
        client_id: "thermometer".into(),
        ..ClientOptions::default()
    };
    let (sensor, _, _) = broker.connect(options).await?;
    for payload in [r#"{"celsius": 21.5}"#, "21.5"] {
        let message = Message::new("telemetry/kitchen", payload).with_qos(QoS::AtLeastOnce);
        let reason = sensor.publish(&message).await?;
        println!("{payload}: {reason:?}");
    }
    let delivery = deliveries.recv().await.expect("the JSON reading");
    println!(
        "delivered {:?} with {:?}",
        delivery.message.payload, delivery.message.properties.user_properties
    );
    broker.stop().await
}
