//! `[auth.http]` against a real HTTP service on loopback (axum, written here to follow the
//! EMQX convention) and a real broker: allow, deny, ignore (handed on to the password file),
//! 204, a 418, garbage, a service too slow or not there at all, authorization of PUBLISH and
//! SUBSCRIBE, the counters in /metrics, and other clients never held up.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use common::service_pki::ServicePki;
use common::{login, publish, WAIT};
use serde_json::{json, Value};
use tern::codec::{Packet, QoS, ReasonCode};
use tern::config::Config;
use tern::embed::Broker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// The service: what it was asked, in order.
type Seen = Arc<Mutex<Vec<Value>>>;

async fn auth(State(seen): State<Seen>, Json(body): Json<Value>) -> Response {
    seen.lock().unwrap().push(body.clone());
    let user = body["username"].as_str().unwrap_or("");
    let password = body["password"].as_str().unwrap_or("");
    match (user, password) {
        ("alice", "good") => {
            Json(json!({"result": "allow", "is_superuser": false})).into_response()
        }
        ("alice", _) => Json(json!({"result": "deny"})).into_response(),
        ("carol", _) => StatusCode::NO_CONTENT.into_response(),
        ("garbage", _) => (StatusCode::OK, "<html>hello</html>").into_response(),
        ("teapot", _) => StatusCode::IM_A_TEAPOT.into_response(),
        ("broken", _) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        ("slow", _) => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Json(json!({"result": "allow"})).into_response()
        }
        _ => Json(json!({"result": "ignore"})).into_response(),
    }
}

async fn acl(State(seen): State<Seen>, Json(body): Json<Value>) -> Response {
    seen.lock().unwrap().push(body.clone());
    let topic = body["topic"].as_str().unwrap_or("");
    if topic.starts_with("forbidden/") {
        Json(json!({"result": "deny"})).into_response()
    } else if topic.starts_with("down/") {
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    } else {
        Json(json!({"result": "allow"})).into_response()
    }
}

/// The service on an ephemeral loopback port.
async fn service() -> (SocketAddr, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/auth", post(auth))
        .route("/acl", post(acl))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, seen)
}

/// A broker whose `[auth.http]` is `http` (TOML lines), then `extra`.
async fn broker(http: &str, extra: &str) -> Broker {
    common::auth_broker(&format!("[auth.http]\n{http}\n{extra}")).await
}

#[tokio::test]
async fn logins_follow_the_service_and_what_it_ignores_goes_to_the_password_file() {
    let (service, seen) = service().await;
    let http = format!("authenticate_url = \"http://{service}/auth\"\ntimeout_ms = 1000");
    let broker = broker(&http, "").await;
    let addr = broker.local_addrs()[0];

    let (code, alice) = login(addr, "alice", "good").await;
    assert_eq!(code, ReasonCode::SUCCESS);
    assert_eq!(
        login(addr, "alice", "bad").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    assert_eq!(
        login(addr, "carol", "x").await.0,
        ReasonCode::SUCCESS,
        "204 allows"
    );
    // "ignore", a 418 and garbage hand the login on: bob is in the password file.
    assert_eq!(login(addr, "bob", "pw").await.0, ReasonCode::SUCCESS);
    assert_eq!(
        login(addr, "bob", "nope").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    assert_eq!(
        login(addr, "teapot", "x").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    assert_eq!(
        login(addr, "garbage", "x").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    // A 5xx is a service that did not answer: deny, with 0x88 Server unavailable.
    assert_eq!(
        login(addr, "broken", "x").await.0,
        ReasonCode::SERVER_UNAVAILABLE
    );

    // A service too slow for its timeout: 0x88, and meanwhile alice is served.
    let slow = tokio::spawn(login(addr, "slow", "x"));
    let mut alice = alice.expect("alice is in");
    tokio::time::sleep(Duration::from_millis(100)).await;
    alice.send(&Packet::PingReq).await;
    assert_eq!(
        timeout(WAIT, alice.recv()).await.unwrap(),
        Some(Packet::PingResp)
    );
    assert_eq!(slow.await.unwrap().0, ReasonCode::SERVER_UNAVAILABLE);

    // What the service was told, as the convention has it.
    let seen = seen.lock().unwrap().clone();
    let first = &seen[0];
    assert_eq!(first["clientid"], "c-alice");
    assert_eq!(first["username"], "alice");
    assert_eq!(first["password"], "good");
    assert_eq!(first["peerhost"], "127.0.0.1");
    assert_eq!(first["protocol"], "MQTT");
    broker.stop().await.unwrap();
}

#[tokio::test]
async fn a_service_that_is_not_there_denies_with_0x88_or_as_configured() {
    // A port nothing listens on.
    let port = common::closed_port();
    let url = format!("authenticate_url = \"http://127.0.0.1:{port}/auth\"\ntimeout_ms = 500");
    let broker1 = broker(&url, "").await;
    let addr = broker1.local_addrs()[0];
    assert_eq!(
        login(addr, "anyone", "x").await.0,
        ReasonCode::SERVER_UNAVAILABLE
    );
    broker1.stop().await.unwrap();

    let ignore = format!("{url}\nwhen_unavailable = \"ignore\"");
    let broker2 = broker(&ignore, "").await;
    let addr = broker2.local_addrs()[0];
    assert_eq!(
        login(addr, "bob", "pw").await.0,
        ReasonCode::SUCCESS,
        "on to the file"
    );
    assert_eq!(
        login(addr, "anyone", "x").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    broker2.stop().await.unwrap();

    let allow = format!("{url}\nwhen_unavailable = \"allow\"");
    let broker3 = broker(&allow, "").await;
    let addr = broker3.local_addrs()[0];
    assert_eq!(login(addr, "anyone", "x").await.0, ReasonCode::SUCCESS);
    broker3.stop().await.unwrap();
}

#[tokio::test]
async fn publishes_and_subscriptions_are_authorized_by_the_service_and_counted() {
    let (service, seen) = service().await;
    let http = format!(
        "authenticate_url = \"http://{service}/auth\"\nauthorize_url = \"http://{service}/acl\"\n\
         timeout_ms = 1000\ncache_ms = 60000"
    );
    let broker = broker(&http, "[http]\nbind = \"127.0.0.1:0\"\n").await;
    let addr = broker.local_addrs()[0];
    let (_, alice) = login(addr, "alice", "good").await;
    let mut alice = alice.unwrap();

    alice.send_subscribe("ok/#", QoS::AtLeastOnce).await;
    assert!(matches!(alice.recv().await, Some(Packet::SubAck(a)) if a.reasons == [ReasonCode(1)]));
    alice.send_subscribe("forbidden/#", QoS::AtLeastOnce).await;
    assert!(
        matches!(alice.recv().await, Some(Packet::SubAck(a)) if a.reasons == [ReasonCode::NOT_AUTHORIZED])
    );
    alice.send_subscribe("down/#", QoS::AtLeastOnce).await;
    assert!(
        matches!(alice.recv().await, Some(Packet::SubAck(a)) if a.reasons == [ReasonCode::UNSPECIFIED_ERROR])
    );

    alice
        .send(&publish("forbidden/x", b"no".to_vec(), QoS::AtLeastOnce, 1))
        .await;
    assert!(
        matches!(alice.recv().await, Some(Packet::PubAck(a)) if a.reason == ReasonCode::NOT_AUTHORIZED)
    );
    for id in [2, 3] {
        // The second is answered from the cache: the service hears of it once.
        alice
            .send(&publish("ok/x", b"yes".to_vec(), QoS::AtLeastOnce, id))
            .await;
        let mut acked = false;
        for _ in 0..2 {
            match alice.recv().await {
                Some(Packet::PubAck(a)) => {
                    assert_eq!(a.reason, ReasonCode::SUCCESS);
                    acked = true;
                    break;
                }
                Some(Packet::Publish(_)) => continue,
                other => panic!("{other:?}"),
            }
        }
        assert!(acked);
    }
    let asked: Vec<Value> = seen.lock().unwrap().clone();
    let publishes: Vec<&Value> = asked
        .iter()
        .filter(|v| v["action"] == "publish" && v["topic"] == "ok/x")
        .collect();
    assert_eq!(publishes.len(), 1, "cached: {asked:?}");
    assert_eq!(publishes[0]["qos"], 1);
    assert_eq!(publishes[0]["clientid"], "c-alice");

    // The counters, in /metrics.
    let http_addr = broker.http_addr().expect("HTTP on");
    let mut s = tokio::net::TcpStream::connect(http_addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut metrics = String::new();
    s.read_to_string(&mut metrics).await.unwrap();
    for name in [
        "tern_auth_http_allowed_total",
        "tern_auth_http_denied_total",
        "tern_auth_http_unavailable_total",
    ] {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {metrics}"));
        let value: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(value >= 1, "{line}");
    }
    broker.stop().await.unwrap();
}

/// A real HTTPS service: Python's http.server behind its ssl module, with the certificate of
/// `pki`; it allows every login. Its port, once it listens.
fn https_service(pki: &ServicePki) -> Option<(std::process::Child, u16)> {
    let script = r#"
import http.server, ssl, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b'{"result": "allow"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&pki.server_cert)
        .arg(&pki.server_key)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let port = line.trim().parse().ok()?;
    Some((child, port))
}

#[tokio::test]
async fn an_https_service_is_trusted_through_its_ca_file() {
    let dir = std::env::temp_dir().join(format!("tern-auth-https-{}", std::process::id()));
    let pki = ServicePki::new(&dir);
    let (mut child, port) = https_service(&pki).expect("python3 serves HTTPS");
    let service = |ca: &std::path::Path| {
        format!(
            "authenticate_url = \"https://127.0.0.1:{port}/auth\"\ntimeout_ms = 2000\nca_file = {:?}",
            ca.display().to_string()
        )
    };
    let trusting = broker(&service(&pki.ca), "").await;
    let addr = trusting.local_addrs()[0];
    assert_eq!(login(addr, "anyone", "x").await.0, ReasonCode::SUCCESS);
    trusting.stop().await.unwrap();

    // Without the CA, the service's certificate is not trusted: it does not answer.
    let broker = broker(&service(&pki.other_ca), "").await;
    let addr = broker.local_addrs()[0];
    assert_eq!(
        login(addr, "anyone", "x").await.0,
        ReasonCode::SERVER_UNAVAILABLE
    );
    broker.stop().await.unwrap();
    let _ = child.kill();
    let _ = std::fs::remove_dir_all(&dir);

    // https:// without a CA file does not start.
    let e = Config::from_toml_str("[auth.http]\nauthenticate_url = \"https://x/auth\"\n")
        .map(|c| tern::wiring::preflight(&c));
    assert!(
        matches!(e, Ok(Err(ref e)) if e.to_string().contains("ca_file")),
        "{e:?}"
    );
}

/// A service that refuses every login, and what it was asked.
async fn refusing_service() -> (SocketAddr, Seen) {
    async fn deny(State(seen): State<Seen>, Json(body): Json<Value>) -> Response {
        seen.lock().unwrap().push(body);
        Json(json!({"result": "deny"})).into_response()
    }
    let seen = Seen::default();
    let app = Router::new()
        .route("/auth", post(deny))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, seen)
}

#[tokio::test]
async fn the_order_of_sources_decides_who_is_asked_first() {
    let (service, seen) = refusing_service().await;
    let http =
        format!("[auth.http]\nauthenticate_url = \"http://{service}/auth\"\ntimeout_ms = 1000\n");
    let users = |seen: &Seen| -> Vec<String> {
        let seen = seen.lock().unwrap();
        seen.iter()
            .map(|b| b["username"].as_str().unwrap_or("").to_owned())
            .collect()
    };

    // The default order: the service first, and it refuses even the password file's bob.
    let broker = common::auth_broker(&http).await;
    let addr = broker.local_addrs()[0];
    assert_eq!(
        login(addr, "bob", "pw").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    assert_eq!(users(&seen), ["bob"]);
    broker.stop().await.unwrap();
    seen.lock().unwrap().clear();

    // The password file first: it decides about its users (right and wrong passwords),
    // without the service being asked; the others go on to the service.
    let broker = common::auth_broker(&format!("order = [\"local\", \"http\"]\n{http}")).await;
    let addr = broker.local_addrs()[0];
    assert_eq!(login(addr, "bob", "pw").await.0, ReasonCode::SUCCESS);
    assert_eq!(
        login(addr, "bob", "nope").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    assert_eq!(
        login(addr, "mallory", "x").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    assert_eq!(users(&seen), ["mallory"]);
    broker.stop().await.unwrap();

    // An order that names a source without its section, names one twice, or leaves a
    // configured one out does not start.
    for (order, why) in [
        ("[\"redis\", \"local\", \"http\"]", "no [auth.redis]"),
        ("[\"local\", \"http\", \"local\"]", "named twice"),
        ("[\"local\"]", "\"http\" is configured but not in the order"),
    ] {
        let toml = format!("[auth]\norder = {order}\n{http}");
        let e = Config::from_toml_str(&toml).map(|c| tern::wiring::preflight(&c));
        assert!(
            matches!(&e, Ok(Err(e)) if e.to_string().contains(why) && e.to_string().contains("auth.order")),
            "{order}: {e:?}"
        );
    }
}

#[tokio::test]
async fn a_user_added_to_the_password_file_is_local_after_a_reload() {
    let (service, seen) = refusing_service().await;
    let passwd = std::env::temp_dir().join(format!("tern-order-reload-{}", std::process::id()));
    let mut file = tern::auth::PasswordFile::default();
    file.set_password("bob", b"pw", 4096).unwrap();
    file.save(&passwd).unwrap();
    let toml = format!(
        "[auth]\nfailed_login_delay_ms = 0\norder = [\"local\", \"http\"]\npassword_file = {:?}\n\
         [auth.http]\nauthenticate_url = \"http://{service}/auth\"\ntimeout_ms = 1000\n",
        passwd.display().to_string()
    );
    let mut config = common::in_memory(Config::from_toml_str(&toml).unwrap());
    config.listeners = vec![tern::config::Listener {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    }];
    let server = tern::wiring::bind(config).await.unwrap();
    let addr = server.local_addrs()[0];
    let reload = server.reload_handle();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    // Not in the file yet: handed on to the service, which refuses.
    assert_eq!(
        login(addr, "dave", "d").await.0,
        ReasonCode::BAD_USER_NAME_OR_PASSWORD
    );
    file.set_password("dave", b"d", 4096).unwrap();
    file.save(&passwd).unwrap();
    reload.reload();
    // The reload is asynchronous: within a bound, dave becomes the file's to decide.
    let deadline = std::time::Instant::now() + WAIT;
    while login(addr, "dave", "d").await.0 != ReasonCode::SUCCESS {
        assert!(std::time::Instant::now() < deadline, "not reloaded in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let asked = seen.lock().unwrap().len();
    assert_eq!(login(addr, "dave", "d").await.0, ReasonCode::SUCCESS);
    assert_eq!(
        seen.lock().unwrap().len(),
        asked,
        "the service is not asked about dave"
    );
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    let _ = std::fs::remove_file(&passwd);
}
