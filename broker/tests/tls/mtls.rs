//! Mutual TLS: client certificates required or optional, and the certificate's identity as
//! the MQTT user name (`identity_as_username`).

use tern::config::{CertIdentity, ClientAuth};

use super::*;

/// A broker whose one TLS listener asks for client certificates signed by `pki`'s CA.
async fn broker(
    pki: &Pki,
    client_auth: Option<ClientAuth>,
    identity: Option<CertIdentity>,
    edit: impl FnOnce(&mut Config),
) -> Broker {
    let mut l = listener();
    let mut settings = tls(pki);
    settings.client_ca_file = Some(pki.ca_file());
    settings.client_auth = client_auth;
    settings.identity_as_username = identity;
    l.tls = Some(settings);
    let mut config = config(vec![l]);
    edit(&mut config);
    Broker::start(config).await
}

/// The CONNACK a client with `cert` gets for `connect`, or why it got none.
async fn attempt(
    broker: &Broker,
    pki: &Pki,
    cert: Option<&Pem>,
    version: &'static SupportedProtocolVersion,
    connect: &[u8],
) -> Result<Vec<u8>, String> {
    let client = client_config(pki, cert, &[version]);
    mqtt_over_tls(broker.addr(), client, connect)
        .await
        .map(|(connack, _)| connack)
}

const VERSIONS: [&SupportedProtocolVersion; 2] = [&rustls::version::TLS13, &rustls::version::TLS12];

#[tokio::test]
async fn required_client_certificates() {
    let pki = Pki::new("mtls-required");
    let broker = broker(&pki, Some(ClientAuth::Required), None, |_| {}).await;
    let good = pki.client("alice", &[]);
    let stranger = Pki::new("mtls-stranger").client("mallory", &[]);
    let connect = connect_packet(4, "c", None, None, &[]);
    for version in VERSIONS {
        let accepted = attempt(&broker, &pki, Some(&good), version, &connect).await;
        assert_eq!(accepted, Ok(ACCEPTED_V4.to_vec()), "{version:?}");
        // TLS 1.2 fails the handshake; a TLS 1.3 client learns of it at its first read.
        for cert in [None, Some(&stranger)] {
            let refused = attempt(&broker, &pki, cert, version, &connect).await;
            assert!(refused.is_err(), "{version:?}: {refused:?}");
        }
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn optional_client_certificates() {
    let pki = Pki::new("mtls-optional");
    let broker = broker(&pki, Some(ClientAuth::Optional), None, |_| {}).await;
    let good = pki.client("alice", &[]);
    let stranger = Pki::new("mtls-stranger2").client("mallory", &[]);
    let connect = connect_packet(4, "c", None, None, &[]);
    for version in VERSIONS {
        for cert in [None, Some(&good)] {
            let accepted = attempt(&broker, &pki, cert, version, &connect).await;
            assert_eq!(accepted, Ok(ACCEPTED_V4.to_vec()), "{version:?}");
        }
        // A certificate that is presented must still verify.
        let refused = attempt(&broker, &pki, Some(&stranger), version, &connect).await;
        assert!(refused.is_err(), "{version:?}: {refused:?}");
    }
    broker.shutdown().await;
}

/// With anonymous access off, a client certificate's Common Name is a user name: the client
/// gets in with no user name in CONNECT; without a certificate (the listener makes it
/// optional) it does not, nor with a certificate that has no Common Name.
#[tokio::test]
async fn common_name_as_user_name() {
    let pki = Pki::new("mtls-cn");
    let broker = broker(
        &pki,
        Some(ClientAuth::Optional),
        Some(CertIdentity::Cn),
        |c| c.auth.allow_anonymous = false,
    )
    .await;
    let alice = pki.client("alice", &[]);
    let nameless = pki.client("", &["device.example"]);
    let v4 = connect_packet(4, "c4", None, None, &[]);
    let v5 = connect_packet(5, "c5", None, None, &[]);
    let tls13 = &rustls::version::TLS13;

    let connack = attempt(&broker, &pki, Some(&alice), tls13, &v4)
        .await
        .unwrap();
    assert_eq!(connack, ACCEPTED_V4);
    let connack = attempt(&broker, &pki, Some(&alice), tls13, &v5)
        .await
        .unwrap();
    assert_eq!(connack_code(&connack), 0x00);

    // No certificate: anonymous, refused 0x87 Not authorized (3.1.1: 0x05).
    let connack = attempt(&broker, &pki, None, tls13, &v5).await.unwrap();
    assert_eq!(connack_code(&connack), 0x87);
    let connack = attempt(&broker, &pki, None, tls13, &v4).await.unwrap();
    assert_eq!(connack_code(&connack), 0x05);

    // A certificate without a Common Name names no user.
    let connack = attempt(&broker, &pki, Some(&nameless), tls13, &v5)
        .await
        .unwrap();
    assert_eq!(connack_code(&connack), 0x87);
    let connack = attempt(&broker, &pki, Some(&nameless), tls13, &v4)
        .await
        .unwrap();
    assert_eq!(connack_code(&connack), 0x05);

    // The certificate is the authentication: a 5.0 Authentication Method gets 0x8C.
    let mut method = vec![0x15, 0x00, 13];
    method.extend_from_slice(b"SCRAM-SHA-256");
    let scram = connect_packet(5, "c6", None, None, &method);
    let connack = attempt(&broker, &pki, Some(&alice), tls13, &scram)
        .await
        .unwrap();
    assert_eq!(connack_code(&connack), 0x8C);
    broker.shutdown().await;
}

/// `identity_as_username = "san"` with a password file: the certificate's DNS name is the
/// user, and the user name and password in CONNECT are not checked; a client without a
/// certificate still logs in with the password file.
#[tokio::test]
async fn san_as_user_name_with_a_password_file() {
    let pki = Pki::new("mtls-san");
    let mut passwords = tern::auth::PasswordFile::default();
    passwords.set_password("bob", b"right", 4096).unwrap();
    let passwd = pki.path("passwd");
    passwords.save(&passwd).unwrap();
    let broker = broker(
        &pki,
        Some(ClientAuth::Optional),
        Some(CertIdentity::San),
        |c| {
            c.auth.allow_anonymous = false;
            c.auth.password_file = Some(passwd.clone());
        },
    )
    .await;
    let device = pki.client("ignored", &["device-7.example"]);
    let no_san = pki.client("alice", &[]);
    let tls13 = &rustls::version::TLS13;
    let wrong = connect_packet(5, "d", Some("bob"), Some("wrong"), &[]);
    let right = connect_packet(5, "e", Some("bob"), Some("right"), &[]);

    let connack = attempt(&broker, &pki, Some(&device), tls13, &wrong)
        .await
        .unwrap();
    assert_eq!(
        connack_code(&connack),
        0x00,
        "the certificate logs the client in"
    );
    let connack = attempt(&broker, &pki, Some(&no_san), tls13, &right)
        .await
        .unwrap();
    assert_eq!(connack_code(&connack), 0x87, "no SAN, no user");
    let connack = attempt(&broker, &pki, None, tls13, &wrong).await.unwrap();
    assert_eq!(
        connack_code(&connack),
        0x86,
        "no certificate: the password file decides"
    );
    let connack = attempt(&broker, &pki, None, tls13, &right).await.unwrap();
    assert_eq!(connack_code(&connack), 0x00);
    broker.shutdown().await;
}
