use std::path::PathBuf;

use super::*;
use crate::auth::acl::Who;

const RSA_PRIVATE: &str = include_str!("../../../tests/data/jwt/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("../../../tests/data/jwt/rsa-public.pem");
const SECRET: &str = "an HS256 secret of at least 32 bytes";

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("tern-jwt-{}-{n}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

fn hs256() -> Jwt {
    Jwt {
        algorithm: JwtAlgorithm::HS256,
        secret: Some(SECRET.into()),
        public_key_file: None,
        issuer: None,
        audience: None,
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token with these claims, signed with HS256 and `secret`.
fn signed(claims: &serde_json_free::Map, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// Claims as a map, so that tests can write any claim (serde_json is not a dependency).
mod serde_json_free {
    pub type Map = std::collections::BTreeMap<&'static str, Value>;

    #[derive(serde::Serialize)]
    #[serde(untagged)]
    pub enum Value {
        Int(i64),
        Text(&'static str),
    }
}
use serde_json_free::{Map, Value};

#[test]
fn generated_tokens_verify_and_carry_their_claims() {
    let topics = TopicsClaim {
        read: vec!["news/#".into()],
        write: vec!["home/%u/#".into()],
    };
    let token = generate(
        JwtAlgorithm::HS256,
        SigningKey::Secret(SECRET.as_bytes()),
        "alice",
        Duration::from_secs(3600),
        Some(topics),
    )
    .unwrap();
    assert!(JwtVerifier::is_token(token.as_bytes()));
    let verifier = JwtVerifier::new(&hs256()).unwrap();
    let grant = verifier
        .verify(token.as_bytes(), None, SystemTime::now())
        .unwrap();
    assert_eq!(grant.username.as_deref(), Some("alice"));
    let valid = grant.valid_for.unwrap();
    assert!(
        valid > Duration::from_secs(3500) && valid <= Duration::from_secs(3661),
        "{valid:?}"
    );
    let limits = grant.topics.unwrap();
    let who = Who {
        username: Some("alice"),
        client_id: "c",
        identity: None,
        address: None,
    };
    assert!(limits.may_publish(&who, "home/alice/lamp"));
    assert!(!limits.may_publish(&who, "news/x"));
    assert!(limits.may_subscribe(&who, "news/+"));
    // The CONNECT's user name must be the token's.
    assert!(verifier
        .verify(token.as_bytes(), Some("alice"), SystemTime::now())
        .is_ok());
    assert!(matches!(
        verifier.verify(token.as_bytes(), Some("bob"), SystemTime::now()),
        Err(JwtError::OtherUser { .. })
    ));
}

#[test]
fn bad_tokens_are_refused() {
    let verifier = JwtVerifier::new(&hs256()).unwrap();
    let good = |exp: i64| {
        let mut c = Map::new();
        c.insert("sub", Value::Text("alice"));
        c.insert("exp", Value::Int(exp));
        c
    };
    let t = now() as i64;
    // Expired (beyond the minute of leeway).
    let expired = signed(&good(t - 3600), SECRET);
    let e = verifier
        .verify(expired.as_bytes(), None, SystemTime::now())
        .unwrap_err();
    assert!(e.to_string().contains("ExpiredSignature"), "{e}");
    // Signed with another secret.
    let forged = signed(&good(t + 3600), "another secret that is long enough!!");
    let e = verifier
        .verify(forged.as_bytes(), None, SystemTime::now())
        .unwrap_err();
    assert!(e.to_string().contains("InvalidSignature"), "{e}");
    // A tampered payload.
    let token = signed(&good(t + 3600), SECRET);
    let parts: Vec<&str> = token.split('.').collect();
    let mut other = good(t + 7200);
    other.insert("sub", Value::Text("admin"));
    let other = signed(&other, SECRET);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert!(verifier
        .verify(tampered.as_bytes(), None, SystemTime::now())
        .is_err());
    // No exp, no sub.
    let mut no_exp = Map::new();
    no_exp.insert("sub", Value::Text("alice"));
    assert!(verifier
        .verify(signed(&no_exp, SECRET).as_bytes(), None, SystemTime::now())
        .is_err());
    let mut no_sub = Map::new();
    no_sub.insert("exp", Value::Int(t + 3600));
    assert!(matches!(
        verifier.verify(signed(&no_sub, SECRET).as_bytes(), None, SystemTime::now()),
        Err(JwtError::NoSubject)
    ));
    // Not yet valid.
    let mut early = good(t + 7200);
    early.insert("nbf", Value::Int(t + 3600));
    assert!(verifier
        .verify(signed(&early, SECRET).as_bytes(), None, SystemTime::now())
        .is_err());
    // An audience nobody asked for.
    let mut aud = good(t + 3600);
    aud.insert("aud", Value::Text("elsewhere"));
    assert!(verifier
        .verify(signed(&aud, SECRET).as_bytes(), None, SystemTime::now())
        .is_err());
    // Garbage, and the "none" algorithm.
    assert!(!JwtVerifier::is_token(b"secret"));
    assert!(!JwtVerifier::is_token(b"a.b.c"));
    let none = format!(
        "{}.{}.",
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", // {"alg":"none","typ":"JWT"}
        parts[1]
    );
    assert!(verifier
        .verify(none.as_bytes(), None, SystemTime::now())
        .is_err());
}

#[test]
fn issuer_and_audience_when_configured() {
    let mut config = hs256();
    config.issuer = Some("tern-tests".into());
    config.audience = Some("broker".into());
    let verifier = JwtVerifier::new(&config).unwrap();
    let t = now() as i64;
    let mut c = Map::new();
    c.insert("sub", Value::Text("alice"));
    c.insert("exp", Value::Int(t + 60));
    assert!(verifier
        .verify(signed(&c, SECRET).as_bytes(), None, SystemTime::now())
        .is_err());
    c.insert("iss", Value::Text("tern-tests"));
    assert!(verifier
        .verify(signed(&c, SECRET).as_bytes(), None, SystemTime::now())
        .is_err());
    c.insert("aud", Value::Text("broker"));
    assert!(verifier
        .verify(signed(&c, SECRET).as_bytes(), None, SystemTime::now())
        .is_ok());
    c.insert("iss", Value::Text("someone else"));
    assert!(verifier
        .verify(signed(&c, SECRET).as_bytes(), None, SystemTime::now())
        .is_err());
}

#[test]
fn rs256_and_es256() {
    let private = temp_file("rsa.pem", RSA_PRIVATE.as_bytes());
    let public = temp_file("rsa.pub.pem", RSA_PUBLIC.as_bytes());
    let token = generate(
        JwtAlgorithm::RS256,
        SigningKey::PrivateKeyFile(&private),
        "bob",
        Duration::from_secs(60),
        None,
    )
    .unwrap();
    let config = Jwt {
        algorithm: JwtAlgorithm::RS256,
        secret: None,
        public_key_file: Some(public.clone()),
        issuer: None,
        audience: None,
    };
    let verifier = JwtVerifier::new(&config).unwrap();
    let grant = verifier
        .verify(token.as_bytes(), Some("bob"), SystemTime::now())
        .unwrap();
    assert_eq!(grant.username.as_deref(), Some("bob"));
    assert_eq!(grant.topics, None);
    // An HS256 token made with the public key as its secret (the classic confusion attack)
    // is refused: only RS256 is accepted.
    let mut c = Map::new();
    c.insert("sub", Value::Text("bob"));
    c.insert("exp", Value::Int(now() as i64 + 60));
    let confused = signed(&c, RSA_PUBLIC);
    assert!(verifier
        .verify(confused.as_bytes(), None, SystemTime::now())
        .is_err());

    let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let ec_private = temp_file("ec.pem", ec.serialize_pem().as_bytes());
    let ec_public = temp_file("ec.pub.pem", ec.public_key_pem().as_bytes());
    let token = generate(
        JwtAlgorithm::ES256,
        SigningKey::PrivateKeyFile(&ec_private),
        "carol",
        Duration::from_secs(60),
        None,
    )
    .unwrap();
    let config = Jwt {
        algorithm: JwtAlgorithm::ES256,
        public_key_file: Some(ec_public.clone()),
        ..config
    };
    let verifier = JwtVerifier::new(&config).unwrap();
    assert!(verifier
        .verify(token.as_bytes(), None, SystemTime::now())
        .is_ok());
    // The RSA key does not verify ES256, and is no ES256 key.
    let wrong = Jwt {
        public_key_file: Some(public.clone()),
        ..config.clone()
    };
    let (key, message) = JwtVerifier::new(&wrong).unwrap_err();
    assert_eq!(key, "public_key_file");
    assert!(message.contains("not a PEM public key"), "{message}");
    for p in [private, public, ec_private, ec_public] {
        std::fs::remove_file(p).ok();
    }
}

#[test]
fn configuration_errors_name_the_key() {
    let short = Jwt {
        secret: Some("short".into()),
        ..hs256()
    };
    assert_eq!(JwtVerifier::new(&short).unwrap_err().0, "secret");
    let none = Jwt {
        secret: None,
        ..hs256()
    };
    assert_eq!(JwtVerifier::new(&none).unwrap_err().0, "secret");
    let rsa_without_key = Jwt {
        algorithm: JwtAlgorithm::RS256,
        secret: None,
        ..hs256()
    };
    assert_eq!(
        JwtVerifier::new(&rsa_without_key).unwrap_err().0,
        "public_key_file"
    );
    let missing = Jwt {
        public_key_file: Some("/nonexistent/key.pem".into()),
        ..rsa_without_key
    };
    let (key, message) = JwtVerifier::new(&missing).unwrap_err();
    assert_eq!(key, "public_key_file");
    assert!(message.contains("/nonexistent/key.pem"), "{message}");
    assert!(generate(
        JwtAlgorithm::HS256,
        SigningKey::Secret(b"short"),
        "a",
        Duration::from_secs(1),
        None
    )
    .is_err());
    let bad_topics = TopicsClaim {
        read: vec!["a/#/b".into()],
        write: vec![],
    };
    let e = generate(
        JwtAlgorithm::HS256,
        SigningKey::Secret(SECRET.as_bytes()),
        "a",
        Duration::from_secs(1),
        Some(bad_topics),
    )
    .unwrap_err();
    assert!(e.contains("a/#/b"), "{e}");
}

#[test]
fn expiry_is_judged_at_the_time_the_engine_gives() {
    // The verifier reads no clock: a token is fresh or stale at the time it is handed, which
    // is far from the system clock here on purpose.
    let verifier = JwtVerifier::new(&hs256()).unwrap();
    let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
    let base: u64 = 2_000_000_000;
    let mut claims = Map::new();
    claims.insert("sub", Value::Text("alice"));
    claims.insert("exp", Value::Int(base as i64 + 600));
    let token = signed(&claims, SECRET);
    let grant = verifier
        .verify(token.as_bytes(), None, at(base + 300))
        .unwrap();
    // Until `exp`, plus the minute of leeway, counted from the time given.
    assert_eq!(grant.valid_for, Some(Duration::from_secs(600 - 300 + 60)));
    let e = verifier
        .verify(token.as_bytes(), None, at(base + 600 + 61))
        .unwrap_err();
    assert!(e.to_string().contains("ExpiredSignature"), "{e}");

    claims.insert("nbf", Value::Int(base as i64));
    let early = signed(&claims, SECRET);
    let e = verifier
        .verify(early.as_bytes(), None, at(base - 61))
        .unwrap_err();
    assert!(e.to_string().contains("ImmatureSignature"), "{e}");
    assert!(verifier.verify(early.as_bytes(), None, at(base)).is_ok());
}
