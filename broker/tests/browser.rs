//! MQTT.js in a real browser: headless Chromium (Debian's `chromium`) loads a page the test
//! serves on 127.0.0.1, whose script connects to Tern over WebSocket with MQTT.js's browser
//! bundle (`interop/node/node_modules/mqtt/dist/mqtt.min.js`, installed by
//! `interop/setup.sh`), subscribes, and publishes at QoS 1 to the topic it subscribed to.
//! The test checks both ends of the round trip: a subscriber of its own (rumqttc, over TCP)
//! receives the browser's message through Tern, and the page reports that it got its PUBACK
//! and its own message back at QoS 1.
//!
//! How the page reports: it writes its result into the DOM and sends it to the test's HTTP
//! server (`GET /result?...`). The page holds its `load` event with an iframe (`/hold`) that
//! the server answers only once the result has come (or after [`WAIT`]), so that
//! `chromium --dump-dom` prints the page after the round trip and then exits by itself.
//!
//! Skipped, with the reason printed, when Chromium or the MQTT.js bundle is missing.

mod common;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tern::config::{Config, Listener, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use tokio::sync::{oneshot, watch};
use tokio::time::timeout;

/// The longest the browser's part may take, and any other single wait.
const WAIT: Duration = Duration::from_secs(30);
const CHROMIUM: &str = "/usr/bin/chromium";
/// The topic the page subscribes to and publishes on.
const TOPIC: &str = "browser/echo";
const MESSAGE: &str = "hello from chromium";

fn mqtt_js_bundle() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"))
        .join("../interop/node/node_modules/mqtt/dist/mqtt.min.js")
}

/// The page: MQTT.js connects to `ws_url`, subscribes to [`TOPIC`] at QoS 1, publishes
/// [`MESSAGE`] there at QoS 1, and reports `ok` once it has both the PUBACK and its message
/// back (or `error ...`).
fn page(ws_url: &str) -> String {
    format!(
        r#"<!doctype html>
<html>
<head><meta charset="utf-8"><title>Tern and MQTT.js</title>
<script src="/mqtt.min.js"></script></head>
<body>
<pre id="result">pending</pre>
<script>
function report(text) {{
  document.getElementById('result').textContent = text;
  fetch('/result?' + encodeURIComponent(text)).catch(() => {{}});
}}
try {{
  const client = mqtt.connect('{ws_url}', {{
    protocolVersion: 5,
    clientId: 'chromium-' + Date.now(),
    reconnectPeriod: 0,
    connectTimeout: 10000,
  }});
  let acked = false;
  let echoed = null;
  let reported = false;
  const done = () => {{
    if (acked && echoed && !reported) {{
      reported = true;
      report('ok puback ' + echoed);
      client.end();
    }}
  }};
  client.on('connect', () => {{
    client.subscribe('{TOPIC}', {{ qos: 1 }}, (err, granted) => {{
      if (err) return report('error subscribe: ' + err.message);
      if (granted[0].qos !== 1) return report('error granted qos ' + granted[0].qos);
      client.publish('{TOPIC}', '{MESSAGE}', {{ qos: 1 }}, (err) => {{
        if (err) return report('error publish: ' + err.message);
        acked = true;
        done();
      }});
    }});
  }});
  client.on('message', (topic, payload, packet) => {{
    echoed = 'message ' + topic + ' qos' + packet.qos + ' ' + payload.toString();
    done();
  }});
  client.on('error', (e) => report('error: ' + e.message));
}} catch (e) {{
  report('error: ' + e);
}}
</script>
<iframe src="/hold"></iframe>
</body>
</html>
"#
    )
}

/// What the page server shares between its connections.
struct Site {
    page: String,
    bundle: Vec<u8>,
    /// The page's report, once it has come.
    result: watch::Sender<Option<String>>,
}

/// Serves the page, the bundle, `/result` and `/hold` on `listener`, one task per
/// connection, each answering one request and closing.
async fn serve(listener: TcpListener, site: Arc<Site>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(answer(stream, site.clone()));
    }
}

async fn answer(mut stream: TcpStream, site: Arc<Site>) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match timeout(WAIT, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => request.extend_from_slice(&buf[..n]),
            _ => return,
        }
        if request.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&request);
    let target = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let (status, kind, body): (&str, &str, Vec<u8>) = match target.as_str() {
        "/" => (
            "200 OK",
            "text/html; charset=utf-8",
            site.page.clone().into(),
        ),
        "/mqtt.min.js" => ("200 OK", "text/javascript", site.bundle.clone()),
        "/hold" => {
            let mut result = site.result.subscribe();
            let _ = timeout(WAIT, result.wait_for(Option::is_some)).await;
            ("200 OK", "text/html", b"<p>released</p>".to_vec())
        }
        t if t.starts_with("/result?") => {
            let report = percent_decode(&t["/result?".len()..]);
            site.result.send_replace(Some(report));
            ("204 No Content", "text/plain", Vec::new())
        }
        _ => ("404 Not Found", "text/plain", b"not found".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&body).await;
    let _ = stream.shutdown().await;
}

/// Decodes `%XX` escapes (what `encodeURIComponent` writes).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A rumqttc client over TCP subscribed to [`TOPIC`]; it sends the first message it
/// receives there through the returned channel.
async fn watcher(port: u16) -> oneshot::Receiver<(String, QoS)> {
    let mut options = MqttOptions::new("watcher", "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut events) = AsyncClient::new(options, 16);
    client.subscribe(TOPIC, QoS::AtLeastOnce).await.unwrap();
    // Wait for the SUBACK, so that the browser's message cannot come before the
    // subscription.
    timeout(WAIT, async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => return,
                Ok(_) => {}
                Err(e) => panic!("watcher: {e}"),
            }
        }
    })
    .await
    .expect("SUBACK in time");
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let _client = client;
        let mut tx = Some(tx);
        while let Ok(event) = events.poll().await {
            if let Event::Incoming(Packet::Publish(p)) = event {
                if let Some(tx) = tx.take() {
                    let payload = String::from_utf8_lossy(&p.payload).into_owned();
                    let _ = tx.send((payload, p.qos));
                }
            }
        }
    });
    rx
}

#[tokio::test]
async fn mqtt_js_in_headless_chromium_round_trips_at_qos_1_over_websocket() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: {CHROMIUM} is missing (apt-get install chromium; interop/setup.sh)");
        return;
    }
    let Ok(bundle) = std::fs::read(mqtt_js_bundle()) else {
        eprintln!(
            "skipped: {} is missing (run interop/setup.sh)",
            mqtt_js_bundle().display()
        );
        return;
    };

    let config = Config {
        listeners: vec![
            Listener {
                bind: "127.0.0.1:0".parse().unwrap(),
                transport: Transport::Websocket,
                ..Listener::default()
            },
            Listener {
                bind: "127.0.0.1:0".parse().unwrap(),
                ..Listener::default()
            },
        ],
        ..Config::default()
    };
    let server = tern::wiring::bind(common::in_memory(config))
        .await
        .expect("bind");
    let [ws, tcp] = server.local_addrs()[..] else {
        panic!("two listeners");
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let broker = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let from_browser = watcher(tcp.port()).await;

    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site_addr = http.local_addr().unwrap();
    let (result, mut reported) = watch::channel(None);
    let site = Arc::new(Site {
        page: page(&format!("ws://{ws}/mqtt")),
        bundle,
        result,
    });
    let site_task = tokio::spawn(serve(http, site));

    let profile = std::env::temp_dir().join(format!(
        "tern-chromium-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&profile).unwrap();
    let run = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("http://{site_addr}/"))
        .kill_on_drop(true)
        .output();
    let output = timeout(WAIT + Duration::from_secs(30), run)
        .await
        .expect("chromium finishes in time")
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&profile);

    let report = timeout(WAIT, reported.wait_for(Option::is_some))
        .await
        .ok()
        .and_then(|r| r.ok().and_then(|r| r.clone()));
    let expected = format!("ok puback message {TOPIC} qos1 {MESSAGE}");
    assert_eq!(
        report.as_deref(),
        Some(expected.as_str()),
        "the page's report; its DOM:\n{dom}\nchromium's stderr:\n{stderr}"
    );
    assert!(dom.contains(&expected), "the DOM shows the result:\n{dom}");

    let (payload, qos) = timeout(WAIT, from_browser)
        .await
        .expect("the watcher gets the browser's message in time")
        .expect("watcher");
    assert_eq!((payload.as_str(), qos), (MESSAGE, QoS::AtLeastOnce));

    site_task.abort();
    stop.send(()).unwrap();
    timeout(WAIT, broker)
        .await
        .expect("shutdown in time")
        .expect("server task")
        .expect("server run");
}
