//! rumqttc's v4 (MQTT 3.1.1) client, driven in the background.

use super::*;
pub use rumqttc::{
    AsyncClient, ConnectionError, Event, LastWill, MqttOptions, Packet, Publish, QoS,
    SubscribeReasonCode,
};

pub struct Client {
    pub client: AsyncClient,
    pub events: mpsc::UnboundedReceiver<Result<Event, ConnectionError>>,
    pub task: JoinHandle<()>,
    pub session_present: bool,
    backlog: VecDeque<Publish>,
}

pub async fn try_connect(
    addr: SocketAddr,
    id: &str,
    setup: impl FnOnce(&mut MqttOptions),
) -> Result<Client, ConnectionError> {
    let mut options = MqttOptions::new(id, addr.ip().to_string(), addr.port());
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(1 << 20, 1 << 20);
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
    let session_present = loop {
        match timeout(WAIT, events.recv()).await.expect("CONNACK in time") {
            Some(Ok(Event::Incoming(Packet::ConnAck(ack)))) => break ack.session_present,
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e),
            None => panic!("event loop ended before CONNACK"),
        }
    };
    Ok(Client {
        client,
        events,
        task,
        session_present,
        backlog: VecDeque::new(),
    })
}

pub async fn connect(addr: SocketAddr, id: &str, setup: impl FnOnce(&mut MqttOptions)) -> Client {
    match try_connect(addr, id, setup).await {
        Ok(c) => c,
        Err(e) => panic!("connect {id} failed: {e:?}"),
    }
}

async fn next_event(c: &mut Client, what: &str) -> Result<Event, Box<ConnectionError>> {
    match timeout(WAIT, c.events.recv()).await {
        Ok(Some(event)) => event.map_err(Box::new),
        Ok(None) => panic!("event loop ended while waiting for {what}"),
        Err(_) => panic!("{what} in time"),
    }
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

pub async fn subscribe(c: &mut Client, filter: &str, qos: QoS) -> SubscribeReasonCode {
    c.client.subscribe(filter, qos).await.unwrap();
    wait_for(c, "SUBACK", |p| match p {
        Packet::SubAck(a) => Some(a.return_codes[0]),
        _ => None,
    })
    .await
}

/// Every PUBLISH up to the one on `sentinel`, which is left out.
pub async fn collect_until(c: &mut Client, sentinel: &str) -> Vec<Publish> {
    let mut got = Vec::new();
    loop {
        let p = next_publish(c).await;
        if p.topic == sentinel {
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
            return *e;
        }
    }
}

pub fn topics(ps: &[Publish]) -> Vec<&str> {
    ps.iter().map(|p| p.topic.as_str()).collect()
}
