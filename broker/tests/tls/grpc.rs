//! The gRPC API from an independent client: Python grpcio (`interop/python/grpc_client.py`)
//! with paho-mqtt on the MQTT side, over plain HTTP/2 and over TLS with the listeners' rustls
//! setup. Reflection, MQTT -> gRPC stream and gRPC Publish -> MQTT, with properties.

use std::path::Path;

use super::interop::{interop_python, run};
use super::*;

/// Runs the Python client against a broker whose `[grpc]` is `grpc`; `ca` makes it use TLS.
async fn python_round_trips(grpc: tern::config::Grpc, ca: Option<&Path>) {
    let Some(python) = interop_python() else {
        println!("skipped: interop/.venv is missing (run interop/setup.sh)");
        return;
    };
    let mut config = common::in_memory(config(vec![listener()]));
    config.grpc = grpc;
    let broker = tern::embed::Broker::start(config)
        .await
        .expect("the broker starts");
    let root = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo")).to_owned();
    let grpc = broker.grpc_addr().expect("gRPC is on");
    // The certificate names localhost; so does the address, for TLS.
    let target = match ca {
        Some(_) => format!("localhost:{}", grpc.port()),
        None => grpc.to_string(),
    };
    let mut command = vec![
        root.join("../interop/python/grpc_client.py")
            .display()
            .to_string(),
        "--proto".into(),
        root.join("proto").display().to_string(),
        "--grpc".into(),
        target,
        "--mqtt".into(),
        broker.local_addrs()[0].to_string(),
    ];
    if let Some(ca) = ca {
        command.extend(["--ca".into(), ca.display().to_string()]);
    }
    let (code, out) = run(python.to_str().unwrap(), command).await;
    if out.contains("No module named 'grpc") {
        panic!("grpcio is missing from interop/.venv: run interop/setup.sh\n{out}");
    }
    assert_eq!(code, 0, "{out}");
    for check in [
        "reflection lists",
        "paho-mqtt -> gRPC stream",
        "gRPC Publish -> paho-mqtt",
    ] {
        assert!(out.contains(&format!("ok: {check}")), "{out}");
    }
    println!("{out}");
    broker.stop().await.unwrap();
}

fn grpc_on_port_0() -> tern::config::Grpc {
    tern::config::Grpc {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_grpcio_round_trips_with_mqtt_clients() {
    python_round_trips(grpc_on_port_0(), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_grpcio_round_trips_over_tls() {
    let pki = Pki::new("grpc");
    let grpc = tern::config::Grpc {
        tls: Some(tls(&pki)),
        ..grpc_on_port_0()
    };
    python_round_trips(grpc, Some(&pki.ca_file())).await;
}
