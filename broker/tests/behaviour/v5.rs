//! rumqttc's v5 (MQTT 5.0) client, driven in the background.

use super::*;
pub use rumqttc::v5::mqttbytes::v5::{
    ConnAck, ConnectProperties, ConnectReturnCode, DisconnectReasonCode, Filter, LastWill,
    LastWillProperties, Packet, PubAckReason, PubRecReason, Publish, PublishProperties,
    RetainForwardRule, SubscribeProperties, SubscribeReasonCode, UnsubAckReason,
};
pub use rumqttc::v5::mqttbytes::QoS;
pub use rumqttc::v5::{AsyncClient, ConnectionError, Event, MqttOptions, StateError};

pub struct Client {
    pub client: AsyncClient,
    pub events: mpsc::UnboundedReceiver<Result<Event, ConnectionError>>,
    pub task: JoinHandle<()>,
    pub connack: ConnAck,
    backlog: VecDeque<Publish>,
}

pub async fn try_connect(
    addr: SocketAddr,
    id: &str,
    setup: impl FnOnce(&mut MqttOptions),
) -> Result<Client, ConnectionError> {
    let mut options = MqttOptions::new(id, addr.ip().to_string(), addr.port());
    options.set_keep_alive(Duration::from_secs(30));
    // rumqttc 0.25 accepts 10 KiB by default.
    options.set_max_packet_size(Some(1 << 20));
    setup(&mut options);
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    let (tx, mut events) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            let event = eventloop.poll().await;
            let stop = event.is_err();
            if tx.send(event).is_err() || stop {
                return;
            }
        }
    });
    let connack = loop {
        match timeout(WAIT, events.recv()).await.expect("CONNACK in time") {
            Some(Ok(Event::Incoming(Packet::ConnAck(ack)))) => break ack,
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e),
            None => panic!("event loop ended before CONNACK"),
        }
    };
    Ok(Client {
        client,
        events,
        task,
        connack,
        backlog: VecDeque::new(),
    })
}

pub async fn connect(addr: SocketAddr, id: &str, setup: impl FnOnce(&mut MqttOptions)) -> Client {
    match try_connect(addr, id, setup).await {
        Ok(c) => c,
        Err(e) => panic!("connect {id} failed: {e:?}"),
    }
}

async fn next_event(c: &mut Client, what: &str) -> Result<Event, ConnectionError> {
    timeout(WAIT, c.events.recv())
        .await
        .unwrap_or_else(|_| panic!("{what} in time"))
        .unwrap_or_else(|| panic!("event loop ended while waiting for {what}"))
}

/// Waits for the incoming packet `pick` accepts; PUBLISHes seen meanwhile are kept.
pub async fn wait_for<T>(
    c: &mut Client,
    what: &str,
    mut pick: impl FnMut(&Packet) -> Option<T>,
) -> T {
    loop {
        match next_event(c, what).await {
            Ok(Event::Incoming(packet)) => {
                if let Some(t) = pick(&packet) {
                    return t;
                }
                if let Packet::Publish(p) = packet {
                    c.backlog.push_back(p);
                }
            }
            Ok(_) => {}
            Err(e) => panic!("connection ended while waiting for {what}: {e:?}"),
        }
    }
}

pub async fn puback(c: &mut Client) -> PubAckReason {
    wait_for(c, "PUBACK", |p| match p {
        Packet::PubAck(a) => Some(a.reason),
        _ => None,
    })
    .await
}

pub async fn pubrec(c: &mut Client) -> PubRecReason {
    wait_for(c, "PUBREC", |p| match p {
        Packet::PubRec(a) => Some(a.reason),
        _ => None,
    })
    .await
}

pub async fn next_publish(c: &mut Client) -> Publish {
    if let Some(p) = c.backlog.pop_front() {
        return p;
    }
    loop {
        match next_event(c, "PUBLISH").await {
            Ok(Event::Incoming(Packet::Publish(p))) => return p,
            Ok(_) => continue,
            Err(e) => panic!("expected a PUBLISH, the connection ended: {e:?}"),
        }
    }
}

/// The next PUBLISH if one arrives within `d`.
pub async fn publish_within(c: &mut Client, d: Duration) -> Option<Publish> {
    if let Some(p) = c.backlog.pop_front() {
        return Some(p);
    }
    let deadline = tokio::time::Instant::now() + d;
    loop {
        match tokio::time::timeout_at(deadline, c.events.recv()).await {
            Err(_) => return None,
            Ok(Some(Ok(Event::Incoming(Packet::Publish(p))))) => return Some(p),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("connection ended: {other:?}"),
        }
    }
}

/// Subscribes to `filters` in one SUBSCRIBE, with a Subscription Identifier if `id` is set.
pub async fn subscribe_filters(
    c: &mut Client,
    filters: Vec<Filter>,
    id: Option<usize>,
) -> Vec<SubscribeReasonCode> {
    match id {
        Some(id) => {
            let props = SubscribeProperties {
                id: Some(id),
                user_properties: vec![],
            };
            c.client
                .subscribe_many_with_properties(filters, props)
                .await
                .unwrap()
        }
        None => c.client.subscribe_many(filters).await.unwrap(),
    }
    wait_for(c, "SUBACK", |p| match p {
        Packet::SubAck(a) => Some(a.return_codes.clone()),
        _ => None,
    })
    .await
}

pub async fn subscribe(c: &mut Client, filter: &str, qos: QoS) -> SubscribeReasonCode {
    subscribe_filters(c, vec![Filter::new(filter, qos)], None).await[0]
}

pub async fn unsubscribe(c: &mut Client, filter: &str) -> Vec<UnsubAckReason> {
    c.client.unsubscribe(filter).await.unwrap();
    wait_for(c, "UNSUBACK", |p| match p {
        Packet::UnsubAck(a) => Some(a.reasons.clone()),
        _ => None,
    })
    .await
}

pub fn topic(p: &Publish) -> &str {
    std::str::from_utf8(&p.topic).expect("UTF-8 topic")
}

pub fn topics(ps: &[Publish]) -> Vec<&str> {
    ps.iter().map(topic).collect()
}

/// Every PUBLISH up to the one on `sentinel`, which is left out.
pub async fn collect_until(c: &mut Client, sentinel: &str) -> Vec<Publish> {
    let mut got = Vec::new();
    loop {
        let p = next_publish(c).await;
        if topic(&p) == sentinel {
            return got;
        }
        got.push(p);
    }
}

/// Publishes to `sentinel` (which the client must be subscribed to) and returns what
/// arrived before it came back.
pub async fn settle(c: &mut Client, sentinel: &str) -> Vec<Publish> {
    c.client
        .publish(sentinel, QoS::AtMostOnce, false, "sentinel")
        .await
        .unwrap();
    collect_until(c, sentinel).await
}

/// Waits for the connection to end and returns the error it ended with.
pub async fn ended(c: &mut Client) -> ConnectionError {
    loop {
        if let Err(e) = next_event(c, "the end of the connection").await {
            return e;
        }
    }
}

pub fn filter(path: &str, qos: QoS) -> Filter {
    Filter::new(path, qos)
}

pub fn props(p: &Publish) -> PublishProperties {
    p.properties.clone().unwrap_or_default()
}

/// Asserts that a connection attempt was refused with CONNACK `code`.
pub fn expect_refused(attempt: Result<Client, ConnectionError>, code: ConnectReturnCode) {
    match attempt {
        Err(ConnectionError::ConnectionRefused(got)) => assert_eq!(got, code),
        Err(e) => panic!("expected CONNACK {code:?}, got {e:?}"),
        Ok(_) => panic!("expected CONNACK {code:?}, the connection was accepted"),
    }
}
