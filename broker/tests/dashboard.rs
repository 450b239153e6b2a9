//! The dashboard (`GET /` of the HTTP listener) in a real browser: headless Chromium
//! (Debian's `chromium`) loads it from a broker while a client publishes; the test reads the
//! page through Chromium's DevTools protocol (over WebSocket) until its numbers have moved,
//! checks the clients tab, and keeps a screenshot in the test's target directory
//! (`$CARGO_TARGET_TMPDIR/dashboard.png`). Skipped, with the reason printed, without
//! Chromium (installed by interop/setup.sh).

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::{publish, Client};
use tern::codec::QoS;
use tern::config::{Config, Listener};
use tokio::process::Command;
use tokio::sync::oneshot;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Headless Chromium with its DevTools endpoint on a free port, showing `url`.
struct Browser {
    child: tokio::process::Child,
    profile: std::path::PathBuf,
    port: u16,
}

impl Browser {
    async fn open(url: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let profile = std::env::temp_dir().join(format!("tern-dashboard-{}", std::process::id()));
        std::fs::create_dir_all(&profile).unwrap();
        let child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--window-size=1400,900",
            ])
            .arg(format!("--remote-debugging-port={port}"))
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        Browser {
            child,
            profile,
            port,
        }
    }

    /// The page's DevTools WebSocket, once Chromium lists it.
    async fn page(&self) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(url) = self.list().await {
                return url;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no DevTools page in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn list(&self) -> Option<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .ok()?;
        s.write_all(b"GET /json/list HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        // Read what comes within a second: DevTools may keep the connection open.
        let mut body = Vec::new();
        let mut chunk = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&body);
        let json: serde_json::Value = serde_json::from_str(text.split_once("\r\n\r\n")?.1).ok()?;
        json.as_array()?.iter().find(|t| t["type"] == "page")?["webSocketDebuggerUrl"]
            .as_str()
            .map(str::to_owned)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A DevTools session on one page.
struct DevTools {
    ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    next: u64,
}

impl DevTools {
    /// Connects to the page's WebSocket (the path of `url`) on 127.0.0.1:`port`.
    async fn connect(url: &str, port: u16) -> DevTools {
        let path = url
            .trim_start_matches("ws://")
            .split_once('/')
            .map_or("", |(_, p)| p);
        let url = format!("ws://127.0.0.1:{port}/{path}");
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("DevTools");
        let (ws, _) = tokio_tungstenite::client_async(url.as_str(), tcp)
            .await
            .expect("DevTools handshake");
        DevTools { ws, next: 1 }
    }

    /// Calls `method`: its result.
    async fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        use futures_util::{SinkExt, StreamExt};
        let id = self.next;
        self.next += 1;
        let request = serde_json::json!({"id": id, "method": method, "params": params});
        self.ws
            .send(tokio_tungstenite::tungstenite::Message::text(
                request.to_string(),
            ))
            .await
            .expect("send to DevTools");
        loop {
            let message = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .expect("DevTools answers")
                .expect("DevTools is open")
                .expect("a DevTools message");
            let Ok(text) = message.to_text() else {
                continue;
            };
            let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            if value["id"] == id {
                return value["result"].clone();
            }
        }
    }

    /// Evaluates `expression` in the page: its value.
    async fn eval(&mut self, expression: &str) -> serde_json::Value {
        let params = serde_json::json!({"expression": expression, "returnByValue": true});
        self.call("Runtime.evaluate", params).await["result"]["value"].clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_live_numbers_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: {CHROMIUM} is missing (apt-get install chromium; interop/setup.sh)");
        return;
    }
    let mut config = Config::from_toml_str("[http]\nbind = \"127.0.0.1:0\"\n").unwrap();
    config.storage.mode = tern::config::StorageMode::Memory;
    config.grpc.enabled = false;
    config.listeners = vec![Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Listener::default()
    }];
    let server = tern::wiring::bind(config).await.expect("bind");
    let mqtt: SocketAddr = server.local_addrs()[0];
    let http = server.http_addr().expect("HTTP is on");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    // A publisher that keeps publishing while the page watches (bounded: 60 s at most).
    let (done, mut finished) = oneshot::channel::<()>();
    let publisher = tokio::spawn(async move {
        let mut p = Client::connect(mqtt, "dashboard-publisher").await;
        let mut watcher = Client::connect(mqtt, "dashboard-watcher").await;
        watcher.subscribe("sensors/#", QoS::AtMostOnce).await;
        for i in 0..60_000u32 {
            let payload = format!("{i}").into_bytes();
            p.send(&publish("sensors/t", payload, QoS::AtMostOnce, 0))
                .await;
            tokio::select! {
                _ = &mut finished => break,
                _ = tokio::time::sleep(Duration::from_millis(1)) => {}
            }
        }
        drop(watcher);
    });

    let url = format!("http://{http}/");
    let browser = Browser::open(&url).await;
    let mut page = DevTools::connect(&browser.page().await, browser.port).await;
    // The page polls every second, and the engine's snapshot is taken once a second: within
    // 15 s the count has moved at least twice.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let changes = page
            .eval("Number(document.getElementById('received').dataset.changes || 0)")
            .await;
        if changes.as_u64().is_some_and(|n| n >= 2) {
            break;
        }
        let dom = page.eval("document.body.innerText").await;
        assert!(
            tokio::time::Instant::now() < deadline,
            "the count did not move twice in 15 s ({changes}):\n{dom}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let status = page
        .eval("document.getElementById('status').textContent")
        .await;
    assert_eq!(status, "live");
    let connected = page
        .eval("document.getElementById('connections').textContent")
        .await;
    assert_eq!(connected, "2", "the publisher and the watcher");
    // The clients tab lists them.
    page.eval("document.querySelector('nav a[data-tab=clients]').click()")
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rows = page
        .eval("document.getElementById('client_rows').innerText")
        .await;
    let rows = rows.as_str().unwrap_or_default().to_owned();
    assert!(
        rows.contains("dashboard-publisher") && rows.contains("dashboard-watcher"),
        "{rows}"
    );
    // The conformance tab shows this build's coverage, built into the binary.
    page.eval("document.querySelector('nav a[data-tab=conformance]').click()")
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cards = page
        .eval("document.getElementById('conf_cards').innerText")
        .await;
    let cards = cards.as_str().unwrap_or_default().to_owned();
    assert!(
        cards.contains("MQTT 5.0 statements passed") && cards.contains("scenario runs passed"),
        "{cards}"
    );
    page.eval(
        "const s = document.getElementById('conf_search'); s.value = 'MQTT-3.2.2-3'; \
         s.dispatchEvent(new Event('input'))",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let rows = page
        .eval("document.getElementById('conf_rows').innerText")
        .await;
    let rows = rows.as_str().unwrap_or_default().to_owned();
    assert!(rows.contains("MQTT-3.2.2-3"), "{rows}");
    page.eval("document.querySelector('nav a[data-tab=overview]').click()")
        .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let shot = page
        .call(
            "Page.captureScreenshot",
            serde_json::json!({"format": "png"}),
        )
        .await;
    let png = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        shot["data"].as_str().expect("a screenshot"),
    )
    .expect("base64");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    std::fs::write(&path, &png).unwrap();
    assert!(png.len() > 10_000, "a screenshot of {} bytes", png.len());
    eprintln!("dashboard screenshot: {}", path.display());
    drop(page);
    drop(browser);

    let _ = done.send(());
    let _ = publisher.await;
    let _ = stop.send(());
}
