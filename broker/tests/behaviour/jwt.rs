//! JWT logins against the real broker: a good token lets rumqttc in (5.0 and 3.1.1), its
//! `topics` claim limits it; an expired token, a forged one and one for another user are
//! refused with 0x86 (3.1.1: 0x04) after the failed-login delay.

use std::time::{SystemTime, UNIX_EPOCH};

use super::*;
use tern::auth::jwt::{generate, Claims, SigningKey, TopicsClaim};
use tern::config::{Jwt, JwtAlgorithm};

const SECRET: &str = "the behaviour tests' HS256 secret, 32+ bytes";

async fn broker() -> Broker {
    let mut config = test_config();
    config.auth.allow_anonymous = false;
    config.auth.failed_login_delay_ms = 100;
    config.auth.jwt = Some(Jwt {
        algorithm: JwtAlgorithm::HS256,
        secret: Some(SECRET.into()),
        public_key_file: None,
        issuer: None,
        audience: None,
    });
    Broker::start_with(config).await
}

fn token(user: &str, topics: Option<TopicsClaim>) -> String {
    let key = SigningKey::Secret(SECRET.as_bytes());
    generate(
        JwtAlgorithm::HS256,
        key,
        user,
        Duration::from_secs(600),
        topics,
    )
    .unwrap()
}

/// A token signed with `secret` whose `exp` is `exp_from_now` seconds away (negative: past).
fn token_with(secret: &str, user: &str, exp_from_now: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = Claims {
        sub: Some(user.into()),
        exp: Some((now + exp_from_now) as u64),
        ..Claims::default()
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_valid_token_logs_in_and_its_topics_limit_it() {
    let broker = broker().await;
    let topics = TopicsClaim {
        read: vec!["news/#".into(), "home/%u/#".into()],
        write: vec!["home/%u/#".into()],
    };
    let alice_token = token("alice", Some(topics));
    // 5.0 without a user name: the token's `sub` supplies it (%u above).
    let mut alice = v5::connect(broker.addr, "alice", |o| {
        o.set_credentials("", alice_token.clone());
    })
    .await;
    use v5::{PubAckReason, QoS, SubscribeReasonCode as S};
    let codes = v5::subscribe_filters(
        &mut alice,
        vec![
            v5::filter("home/alice/#", QoS::AtLeastOnce),
            v5::filter("news/+", QoS::AtLeastOnce),
            v5::filter("home/bob/#", QoS::AtLeastOnce),
        ],
        None,
    )
    .await;
    assert_eq!(
        codes,
        [
            S::Success(QoS::AtLeastOnce),
            S::Success(QoS::AtLeastOnce),
            S::NotAuthorized
        ]
    );
    alice
        .client
        .publish("news/today", QoS::AtLeastOnce, false, "not hers to write")
        .await
        .unwrap();
    assert_eq!(v5::puback(&mut alice).await, PubAckReason::NotAuthorized);
    // 3.1.1 names the user, who must be the token's; an unrestricted token allows anything.
    let bob_token = token("bob", None);
    let bob = v4::connect(broker.addr, "bob", |o| {
        o.set_credentials("bob", bob_token.clone());
    })
    .await;
    bob.client
        .publish("news/today", v4::QoS::AtLeastOnce, false, "extra")
        .await
        .unwrap();
    let p = v5::next_publish(&mut alice).await;
    assert_eq!(v5::topic(&p), "news/today");
    broker.shutdown().await;
}

#[tokio::test]
async fn bad_tokens_get_0x86_or_0x04() {
    let broker = broker().await;
    let expired = token_with(SECRET, "alice", -3600);
    let forged = token_with("somebody else's secret, also long", "alice", 600);
    let alices = token("alice", None);
    for (user, password, why) in [
        ("alice", expired.as_str(), "expired"),
        ("alice", forged.as_str(), "bad signature"),
        ("mallory", alices.as_str(), "another user's token"),
        ("alice", "not a token", "a password with no password file"),
    ] {
        let attempt = v5::try_connect(broker.addr, "c5", |o| {
            o.set_credentials(user, password);
        })
        .await;
        match attempt {
            Err(v5::ConnectionError::ConnectionRefused(code)) => {
                assert_eq!(code, v5::ConnectReturnCode::BadUserNamePassword, "{why}")
            }
            Err(e) => panic!("{why}: expected CONNACK 0x86, got {e:?}"),
            Ok(_) => panic!("{why}: logged in"),
        }
        match v4::try_connect(broker.addr, "c4", |o| {
            o.set_credentials(user, password);
        })
        .await
        {
            Err(v4::ConnectionError::ConnectionRefused(code)) => {
                assert_eq!(
                    code,
                    rumqttc::ConnectReturnCode::BadUserNamePassword,
                    "{why}"
                )
            }
            other => panic!("{why}: expected CONNACK 0x04, got {:?}", other.map(|_| ())),
        }
    }
    // No credentials at all: anonymous access is off, 0x87.
    v5::expect_refused(
        v5::try_connect(broker.addr, "anon", |_| {}).await,
        v5::ConnectReturnCode::NotAuthorized,
    );
    broker.shutdown().await;
}
