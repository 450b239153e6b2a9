//! The HTTP surface (`[http]`): health checks, Prometheus metrics, the bearer token, and the
//! `$SYS` topics the same snapshot feeds. Real brokers on loopback, real HTTP requests.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{publish, Client};
use tern::codec::{Packet, QoS};
use tern::config::{Config, Listener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// A broker with MQTT and HTTP on ephemeral loopback ports (or HTTP on `http_bind`).
struct Broker {
    mqtt: SocketAddr,
    http: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn broker(extra: &str) -> Broker {
    let mut config = Config::from_toml_str(&format!("[http]\nbind = \"127.0.0.1:0\"\n{extra}"))
        .expect("configuration");
    config.storage.mode = tern::config::StorageMode::Memory;
    config.grpc.enabled = false;
    config.listeners = vec![Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Listener::default()
    }];
    let server = tern::wiring::bind(config).await.expect("bind");
    let mqtt = server.local_addrs()[0];
    let http = server.http_addr().expect("HTTP is on");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    Broker {
        mqtt,
        http,
        stop: Some(stop),
    }
}

/// `GET path` over HTTP/1.1, with a bearer token if given: the status and the body.
async fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    call(addr, "GET", path, token, None).await
}

/// The value of the sample `name` (with its labels, as the exposition writes them).
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix(' ')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_answer_and_metrics_count_what_clients_did() {
    let b = broker("").await;
    assert_eq!(get(b.http, "/healthz", None).await, (200, "ok\n".into()));
    // Ready once everything is up: "starting" (503) until then.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match get(b.http, "/readyz", None).await {
            (200, body) => break assert_eq!(body, "ready\n"),
            (503, body) if body == "starting\n" => {}
            other => panic!("{other:?}"),
        }
        assert!(tokio::time::Instant::now() < deadline, "not ready in 5 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut sub = Client::connect(b.mqtt, "sub").await;
    sub.subscribe("t/#", QoS::AtLeastOnce).await;
    let mut publisher = Client::connect(b.mqtt, "pub").await;
    for i in 0..5u16 {
        publisher
            .send(&publish("t/a", b"hello".to_vec(), QoS::AtMostOnce, 0))
            .await;
        publisher
            .send(&publish("t/b", b"hello".to_vec(), QoS::AtLeastOnce, i + 1))
            .await;
    }
    let mut received = 0;
    while received < 10 {
        match sub.recv().await {
            Some(Packet::Publish(p)) => {
                if let Some(id) = p.packet_id {
                    sub.send(&Packet::PubAck(tern::codec::Ack::new(id))).await;
                }
                received += 1;
            }
            Some(_) => {}
            None => panic!("the subscriber was closed"),
        }
    }

    // The snapshot is taken once a second: the counts show within two.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let metrics = loop {
        let (status, body) = get(b.http, "/metrics", None).await;
        assert_eq!(status, 200);
        if sample(&body, "tern_messages_sent_total{qos=\"1\"}") == Some(5.0) {
            break body;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let expect = [
        ("tern_connections", 2.0),
        ("tern_connections_accepted_total", 2.0),
        ("tern_sessions{state=\"online\"}", 2.0),
        ("tern_sessions{state=\"offline\"}", 0.0),
        ("tern_subscriptions", 1.0),
        ("tern_messages_received_total{qos=\"0\"}", 5.0),
        ("tern_messages_received_total{qos=\"1\"}", 5.0),
        ("tern_messages_sent_total{qos=\"0\"}", 5.0),
        // Topic and payload: 3 + 5 bytes, ten times.
        ("tern_message_bytes_received_total", 80.0),
        ("tern_inflight_messages", 0.0),
        ("tern_messages_dropped_total{reason=\"queue_full\"}", 0.0),
    ];
    for (name, value) in expect {
        assert_eq!(sample(&metrics, name), Some(value), "{name}\n{metrics}");
    }
    assert!(
        sample(&metrics, "tern_engine_round_seconds_count").is_some_and(|n| n > 0.0),
        "{metrics}"
    );
    assert!(metrics.contains("# TYPE tern_store_commit_seconds histogram"));
    assert!(
        metrics.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_is_counted_by_reason() {
    let b = broker("[auth]\nallow_anonymous = false\n").await;
    let mut c = Client {
        stream: TcpStream::connect(b.mqtt).await.unwrap(),
        buf: Default::default(),
    };
    let connect = tern::codec::Connect::new(tern::codec::Protocol::V5, "nobody");
    c.send(&Packet::Connect(Box::new(connect))).await;
    match c.recv().await {
        Some(Packet::ConnAck(ack)) => assert_ne!(ack.code, tern::codec::ReasonCode::SUCCESS),
        other => panic!("expected CONNACK, got {other:?}"),
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, body) = get(b.http, "/metrics", None).await;
        let refused = body
            .lines()
            .find(|l| l.starts_with("tern_connections_refused_total{reason=\"0x87"));
        if let Some(line) = refused {
            assert!(line.ends_with(" 1"), "{line}");
            assert_eq!(sample(&body, "tern_auth_failures_total"), Some(1.0));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_every_request_but_the_probes_needs_the_token() {
    // Reachable from other machines (every interface), so a token is required...
    let e = Config::from_toml_str("[http]\nbind = \"0.0.0.0:0\"\n").unwrap_err();
    assert_eq!(e.key(), Some("http.token"));
    assert!(
        e.to_string().contains("reachable from other machines"),
        "{e}"
    );
    // ...and with one, asked for.
    let b = broker("token = \"s3cret\"\n").await;
    // Port 0 on 127.0.0.1 is loopback: this broker takes no token for reading.
    assert_eq!(get(b.http, "/metrics", None).await.0, 200);
    drop(b);

    let mut config = Config::from_toml_str("[http]\nbind = \"0.0.0.0:0\"\ntoken = \"s3cret\"\n")
        .expect("a token makes it valid");
    config.storage.mode = tern::config::StorageMode::Memory;
    config.grpc.enabled = false;
    config.listeners = vec![Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Listener::default()
    }];
    let server = tern::wiring::bind(config).await.expect("bind");
    let port = server.http_addr().unwrap().port();
    let http = SocketAddr::from(([127, 0, 0, 1], port));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let (status, body) = get(http, "/metrics", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(get(http, "/metrics", Some("wrong")).await.0, 401);
    assert_eq!(get(http, "/metrics", Some("s3cret")).await.0, 200);
    // Probes carry no token.
    assert_eq!(get(http, "/healthz", None).await.0, 200);
    assert_ne!(get(http, "/readyz", None).await.0, 401);
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sys_topics_are_published_retained_and_not_matched_by_a_wildcard() {
    let b = broker("[mqtt]\nsys_interval = 1\n").await;
    let mut everything = Client::connect(b.mqtt, "everything").await;
    everything.subscribe("#", QoS::AtMostOnce).await;
    // Published every second, retained: a later subscriber gets the last values at once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut sys = Client::connect(b.mqtt, "sys").await;
    sys.subscribe("$SYS/broker/#", QoS::AtMostOnce).await;
    let wanted = [
        "$SYS/broker/version",
        "$SYS/broker/uptime",
        "$SYS/broker/clients/connected",
        "$SYS/broker/clients/total",
        "$SYS/broker/messages/received",
        "$SYS/broker/messages/sent",
        "$SYS/broker/publish/messages/dropped",
        "$SYS/broker/retained messages/count",
        "$SYS/broker/subscriptions/count",
        "$SYS/broker/load/messages/received/1min",
        "$SYS/broker/load/bytes/sent/15min",
        "$SYS/broker/bytes/received",
    ];
    let mut seen = std::collections::BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !wanted.iter().all(|t| seen.contains_key(*t)) {
        assert!(tokio::time::Instant::now() < deadline, "{seen:?}");
        if let Some(Packet::Publish(p)) = sys.recv().await {
            let value = String::from_utf8_lossy(&p.payload).into_owned();
            seen.insert(p.topic.to_string(), (value, p.retain));
        }
    }
    let version = &seen["$SYS/broker/version"];
    assert_eq!(version.0, format!("tern {}", env!("CARGO_PKG_VERSION")));
    assert!(version.1, "retained");
    assert!(seen["$SYS/broker/uptime"].0.ends_with(" seconds"));
    // One client connected when the values were taken, or two.
    let connected: u32 = seen["$SYS/broker/clients/connected"].0.parse().unwrap();
    assert!((1..=2).contains(&connected), "{connected}");
    // `#` matches no topic beginning with `$` [MQTT-4.7.2-1].
    let nothing = tokio::time::timeout(Duration::from_millis(300), everything.recv()).await;
    assert!(nothing.is_err(), "{nothing:?}");
}

/// `method path` with a JSON body and a bearer token: the status and the body.
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: tern\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("an answer within 5 s")
        .unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_lists_reads_and_changes_with_a_token() {
    let b = broker("token = \"tok\"\n").await;
    let mut sub = Client::connect(b.mqtt, "watcher").await;
    sub.subscribe("news/#", QoS::AtMostOnce).await;
    let _other = Client::connect(b.mqtt, "other").await;

    // Lists, searched and paginated.
    let (status, body) = get(b.http, "/api/v1/clients?search=watch", None).await;
    assert_eq!(status, 200, "{body}");
    let page = json(&body);
    assert_eq!(page["total"], 1, "{body}");
    let c = &page["items"][0];
    assert_eq!(c["client_id"], "watcher");
    assert_eq!(c["connected"], true);
    assert_eq!(c["protocol"], "5.0");
    assert_eq!(c["subscriptions"], 1);
    assert!(c["address"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(c["connected_since"].as_str().unwrap().ends_with('Z'));
    let (_, body) = get(b.http, "/api/v1/clients?per_page=1&page=2", None).await;
    let page = json(&body);
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    assert_eq!(
        page["items"][0]["client_id"], "watcher",
        "sorted by identifier"
    );
    let (status, body) = get(b.http, "/api/v1/clients?per_page=0", None).await;
    assert_eq!(status, 400);
    assert!(json(&body)["message"].is_string());

    // One client, its subscriptions; a missing one is a JSON 404.
    let (_, body) = get(b.http, "/api/v1/clients/watcher", None).await;
    let detail = json(&body);
    assert_eq!(detail["subscriptions"][0]["filter"], "news/#");
    let (status, body) = get(b.http, "/api/v1/clients/nobody", None).await;
    assert_eq!(status, 404);
    assert!(json(&body)["message"].as_str().unwrap().contains("nobody"));
    let (_, body) = get(b.http, "/api/v1/topics", None).await;
    assert_eq!(
        json(&body)["items"][0],
        serde_json::json!({"filter": "news/#", "subscribers": 1})
    );

    // Publishing needs the token; the subscriber gets the message.
    let message = r#"{"topic": "news/today", "payload": "hello", "retain": true}"#;
    let (status, _) = call(b.http, "POST", "/api/v1/publish", None, Some(message)).await;
    assert_eq!(status, 401);
    let (status, body) = call(
        b.http,
        "POST",
        "/api/v1/publish",
        Some("tok"),
        Some(message),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    match sub.recv().await {
        Some(Packet::Publish(p)) => {
            assert_eq!(
                (p.topic.as_str(), &p.payload[..]),
                ("news/today", &b"hello"[..])
            )
        }
        other => panic!("expected the message, got {other:?}"),
    }
    let bad = r#"{"topic": "news/#", "payload": "x"}"#;
    let (status, body) = call(b.http, "POST", "/api/v1/publish", Some("tok"), Some(bad)).await;
    assert_eq!(status, 400, "{body}");

    // The retained message is read back, then deleted (reads see the API's own writes).
    let (status, body) = get(b.http, "/api/v1/retained/message?topic=news/today", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["payload"], "hello");
    let path = "/api/v1/retained/message?topic=news/today";
    assert_eq!(call(b.http, "DELETE", path, Some("tok"), None).await.0, 204);
    assert_eq!(get(b.http, path, None).await.0, 404);

    // Disconnecting: a 5.0 client gets DISCONNECT 0x98 Administrative action.
    let path = "/api/v1/clients/watcher/disconnect";
    assert_eq!(call(b.http, "POST", path, Some("tok"), None).await.0, 204);
    match sub.recv().await {
        Some(Packet::Disconnect(d)) => {
            assert_eq!(d.reason, tern::codec::ReasonCode::ADMINISTRATIVE_ACTION)
        }
        other => panic!("expected DISCONNECT 0x98, got {other:?}"),
    }
    assert_eq!(call(b.http, "POST", path, Some("tok"), None).await.0, 404);

    // The configuration hides the token; the statistics count.
    let (_, body) = get(b.http, "/api/v1/config", None).await;
    assert_eq!(json(&body)["http"]["token"], "(redacted)", "{body}");
    let (_, body) = get(b.http, "/api/v1/stats", None).await;
    assert!(
        json(&body)["connections_accepted"].as_u64().unwrap() >= 2,
        "{body}"
    );
    // Unknown endpoints answer in JSON too.
    let (status, body) = get(b.http, "/api/v1/nothing", None).await;
    assert_eq!(status, 404);
    assert!(json(&body)["message"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_configured_nothing_can_be_changed() {
    let b = broker("").await;
    let message = r#"{"topic": "a", "payload": "x"}"#;
    let (status, body) = call(b.http, "POST", "/api/v1/publish", None, Some(message)).await;
    assert_eq!(status, 403, "{body}");
    assert!(json(&body)["message"]
        .as_str()
        .unwrap()
        .contains("http.token"));
    // Reading on loopback needs none.
    assert_eq!(get(b.http, "/api/v1/stats", None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_session_forgets_it() {
    let b = broker("token = \"tok\"\n").await;
    let mut connect = tern::codec::Connect::new(tern::codec::Protocol::V5, "kept");
    connect.clean_start = true;
    connect
        .properties
        .push(tern::codec::Property::SessionExpiryInterval(600));
    let (c, _) = Client::connect_with(b.mqtt, connect.clone()).await;
    drop(c);
    // Offline, it is still listed; deleted, it is not, and a client finds no session.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, body) = get(b.http, "/api/v1/clients/kept", None).await;
        if json(&body)["client"]["connected"] == false {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = call(b.http, "DELETE", "/api/v1/sessions/kept", Some("tok"), None).await;
    assert_eq!(status, 204);
    assert_eq!(get(b.http, "/api/v1/clients/kept", None).await.0, 404);
    connect.clean_start = false;
    let (_, present) = Client::connect_with(b.mqtt, connect).await;
    assert!(!present, "the session was deleted");
}

/// schemathesis (PyPI, installed into interop/.venv by interop/setup.sh) generates requests
/// from the OpenAPI document and checks every answer against it: status codes, content
/// types, response schemas, no server error. Skipped, saying why, without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_answers_as_its_openapi_document_says() {
    let schemathesis =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/.venv/bin/schemathesis");
    if !schemathesis.exists() {
        eprintln!(
            "skipped: {} is missing (run interop/setup.sh)",
            schemathesis.display()
        );
        return;
    }
    let b = broker("token = \"tok\"\n").await;
    let mut sub = Client::connect(b.mqtt, "someone").await;
    sub.subscribe("a/+", QoS::AtLeastOnce).await;
    let url = format!("http://{}/api/v1/openapi.json", b.http);
    // Its cache (of the failures it found) goes to a directory of the test's own.
    let work = tempfile::tempdir().unwrap();
    let run = tokio::process::Command::new(&schemathesis)
        .current_dir(work.path())
        .args(["run", &url, "--checks", "all", "--max-examples", "30"])
        .args(["--header", "Authorization: Bearer tok"])
        .args(["--request-timeout", "5"])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("schemathesis finishes within 4 minutes")
        .expect("schemathesis runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The report: the failures, each with a curl line to reproduce it (long bodies cut).
    let tail: String = text.chars().take(20_000).collect();
    assert!(out.status.success(), "{tail}");
    drop(sub);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_coverage_of_this_build_is_served() {
    let b = broker("").await;
    let (status, body) = get(b.http, "/api/v1/conformance", None).await;
    assert_eq!(status, 200);
    let coverage = json(&body);
    assert!(
        coverage["scenarios"]["passed"].as_u64().unwrap() > 0,
        "{body}"
    );
    let versions: Vec<&str> = (coverage["versions"].as_array().unwrap().iter())
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["3.1.1", "5.0"]);
    // Each statement that binds the server is listed under its own id, with its result.
    let v5 = &coverage["versions"][1];
    let listed = v5["statements"].as_array().unwrap();
    assert_eq!(
        listed.len() as u64,
        v5["totals"]["server_statements"].as_u64().unwrap()
    );
    let takeover = listed.iter().find(|s| s["id"] == "MQTT-3.1.4-3").unwrap();
    assert_eq!(takeover["result"], "passed");
}
