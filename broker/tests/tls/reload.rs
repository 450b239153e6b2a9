//! Reloading certificates: through [`Server::reload_handle`], and with SIGHUP to the `tern`
//! binary. New handshakes get the new certificate; connections already open carry on; files
//! that do not load leave the old certificate in use.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use rustls::pki_types::CertificateDer;

use super::*;

/// The certificate the server presents to a new connection (and the connection).
async fn served_certificate(
    addr: SocketAddr,
    client: Arc<ClientConfig>,
) -> std::io::Result<(CertificateDer<'static>, TlsStream<TcpStream>)> {
    let stream = tls_connect(addr, client).await?;
    let cert = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    Ok((cert, stream))
}

/// Polls new connections until the server presents `expected`; panics after `WAIT`.
async fn wait_for_certificate(
    addr: SocketAddr,
    client: Arc<ClientConfig>,
    expected: &CertificateDer<'static>,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok((cert, _)) = served_certificate(addr, client.clone()).await {
            if &cert == expected {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new certificate was not served in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_reload_handle_swaps_certificates() {
    let pki = Pki::new("reload-handle");
    let mut l = listener();
    l.tls = Some(tls(&pki));
    let config = config(vec![l]);
    config.validate().unwrap();
    let server = tern::wiring::bind(crate::common::in_memory(config))
        .await
        .unwrap();
    let addr = server.local_addrs()[0];
    let reload = server.reload_handle();
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let client = client_config(&pki, None, BOTH);

    let (before, mut old) = served_certificate(addr, client.clone()).await.unwrap();
    assert_eq!(
        exchange(&mut old, &connect_packet(4, "old", None, None, &[]))
            .await
            .unwrap(),
        ACCEPTED_V4
    );
    let next = pki.server("next");
    pki.write_pair("server", &next);
    reload.reload();
    wait_for_certificate(addr, client.clone(), &next.der()).await;
    assert_ne!(before, next.der());
    // The connection opened before the reload still works: PINGREQ -> PINGRESP.
    assert_eq!(
        exchange(&mut old, &[0xC0, 0x00]).await.unwrap(),
        [0xD0, 0x00]
    );

    stop.send(()).unwrap();
    timeout(WAIT + WAIT, handle)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// Lines the child writes to standard error, collected by a thread.
fn collect_stderr(child: &mut std::process::Child) -> Arc<Mutex<String>> {
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut log = sink.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    log
}

/// Waits until the log contains `text`; panics after `WAIT`.
async fn wait_for_log(log: &Mutex<String>, text: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !log.lock().unwrap().contains(text) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log never said {text:?}:\n{}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kills the broker if the test fails half way.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_certificates_of_the_running_binary() {
    let pki = Pki::new("sighup");
    let first = pki.server("first");
    let (cert, key) = pki.write_pair("server", &first);
    // A free loopback port, released just before the broker takes it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let file = pki.write(
        "tern.toml",
        &format!(
            "[[listener]]\nbind = \"{addr}\"\n[listener.tls]\ncert_file = {cert:?}\nkey_file = {key:?}\n\
             [storage]\nmode = \"memory\"\n[http]\nenabled = false\n[grpc]\nenabled = false\n"
        ),
    );
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_tern"))
            .args(["start", "--config", file.to_str().unwrap()])
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tern"),
    );
    let log = collect_stderr(&mut child.0);
    wait_for_log(&log, "over TLS").await;
    let client = client_config(&pki, None, BOTH);

    let (served, mut old) = served_certificate(addr, client.clone()).await.unwrap();
    assert_eq!(served, first.der());
    let connack = exchange(&mut old, &connect_packet(4, "old", None, None, &[]))
        .await
        .unwrap();
    assert_eq!(connack, ACCEPTED_V4);

    let second = pki.server("second");
    pki.write_pair("server", &second);
    signal(&child, "-HUP");
    wait_for_log(&log, "certificates reloaded").await;
    wait_for_certificate(addr, client.clone(), &second.der()).await;
    assert_eq!(
        exchange(&mut old, &[0xC0, 0x00]).await.unwrap(),
        [0xD0, 0x00]
    );

    // A broken file: the error is logged and the second certificate stays in use.
    std::fs::write(&cert, "not a certificate").unwrap();
    signal(&child, "-HUP");
    wait_for_log(&log, "not reloaded").await;
    let (served, mut new) = served_certificate(addr, client).await.unwrap();
    assert_eq!(served, second.der());
    let connack = exchange(&mut new, &connect_packet(4, "new", None, None, &[]))
        .await
        .unwrap();
    assert_eq!(connack, ACCEPTED_V4);
    assert_eq!(
        exchange(&mut old, &[0xC0, 0x00]).await.unwrap(),
        [0xD0, 0x00]
    );

    signal(&child, "-TERM");
    let deadline = std::time::Instant::now() + WAIT + WAIT;
    let exit = loop {
        if let Some(exit) = child.0.try_wait().unwrap() {
            break exit;
        }
        assert!(std::time::Instant::now() < deadline, "tern did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}\n{}", log.lock().unwrap());
}
