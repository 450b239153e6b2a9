//! HTTPS (`[http.tls]`): the HTTP listener under the same TLS setup as the MQTT listeners,
//! asked by a real rustls client.

use tern::config::ClientAuth;

use super::*;

/// A broker with a plain MQTT listener and its HTTP listener on port 0 under `settings`: the
/// broker and the HTTPS address.
async fn https_broker(settings: Tls) -> (Broker, SocketAddr) {
    let mut config = common::in_memory(config(vec![listener()]));
    config.http.enabled = true;
    config.http.bind = "127.0.0.1:0".parse().unwrap();
    config.http.tls = Some(settings);
    config.validate().expect("valid test configuration");
    let server = tern::wiring::bind(config).await.expect("bind");
    let addrs = server.local_addrs();
    let https = server.http_addr().expect("HTTP is on");
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let broker = Broker {
        addrs,
        stop: Some(stop),
        handle,
    };
    (broker, https)
}

/// `GET path` over TLS with `client`: the status and the body, or why there was none.
async fn https_get(
    addr: SocketAddr,
    client: Arc<ClientConfig>,
    path: &str,
) -> Result<(u16, String), String> {
    let mut stream = tls_connect(addr, client).await.map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .map_err(|_| "no answer in time".to_owned())?
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = (text.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {text:?}"))?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, body.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_listener_serves_https_with_the_listeners_tls() {
    let pki = Pki::new("https");
    let (broker, https) = https_broker(tls(&pki)).await;
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let client = client_config(&pki, None, &[version]);
        assert_eq!(
            https_get(https, client.clone(), "/healthz").await,
            Ok((200, "ok\n".to_owned()))
        );
        let (status, metrics) = https_get(https, client, "/metrics").await.unwrap();
        assert_eq!(status, 200);
        assert!(metrics.contains("tern_connections "), "{metrics}");
    }

    // Plain HTTP on the HTTPS port gets no HTTP answer, and takes nothing from the others.
    let mut plain = TcpStream::connect(https).await.unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = timeout(WAIT, plain.read_to_end(&mut answer)).await;
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");

    // A client that does not trust the server's CA does not get through.
    let stranger = Pki::new("https-stranger");
    let refused = https_get(https, client_config(&stranger, None, BOTH), "/healthz").await;
    assert!(refused.is_err(), "{refused:?}");

    // A client that holds its handshake up delays no one else.
    let _silent = TcpStream::connect(https).await.unwrap();
    let client = client_config(&pki, None, BOTH);
    assert_eq!(
        https_get(https, client, "/healthz").await.map(|(s, _)| s),
        Ok(200)
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_client_ca_needs_a_client_certificate() {
    let pki = Pki::new("https-mtls");
    let mut settings = tls(&pki);
    settings.client_ca_file = Some(pki.ca_file());
    settings.client_auth = Some(ClientAuth::Required);
    let (broker, https) = https_broker(settings).await;
    let anonymous = client_config(&pki, None, BOTH);
    let refused = https_get(https, anonymous, "/healthz").await;
    assert!(refused.is_err(), "{refused:?}");
    let alice = pki.client("alice", &[]);
    let known = client_config(&pki, Some(&alice), BOTH);
    assert_eq!(
        https_get(https, known, "/healthz").await,
        Ok((200, "ok\n".to_owned()))
    );
    broker.shutdown().await;
}
