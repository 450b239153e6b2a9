//! What the user stores of `[auth]` (`[auth.postgres]`, `[auth.redis]`) have in common: they
//! answer, for a user name, whether a password is right and what rules apply, each with
//! "not mine" when the user or the rule is not theirs. The server asks them off the engine
//! task, after the application's hooks and `[auth.http]`, before the password file.

use std::sync::atomic::Ordering;

use super::http::{Decision, HttpStats, WhenUnavailable};
use super::PasswordFile;
use crate::engine::policy::{covers, overlaps};

/// A store of users and rules.
#[async_trait::async_trait]
pub trait UserSource: Send + Sync + 'static {
    /// Its section, for logs: `auth.postgres`.
    fn name(&self) -> &'static str;
    /// What a store that does not answer decides.
    fn when_unavailable(&self) -> WhenUnavailable;
    /// Whether it is asked about logins, and about PUBLISH and SUBSCRIBE.
    fn checks_logins(&self) -> bool;
    fn checks_rights(&self) -> bool;
    /// Whether `password` is `user`'s; `Ignore` for a user it does not know.
    async fn authenticate(&self, user: &str, password: &[u8]) -> Decision;
    /// What `user`'s rules say about `action` (`publish`, `subscribe`) on `topic`.
    async fn authorize(&self, user: &str, topic: &str, action: &str) -> Decision;
    /// Its counters.
    fn stats(&self) -> &HttpStats;
}

/// Counts `decision` in `stats` and gives it back.
pub(super) fn count(stats: &HttpStats, decision: Decision) -> Decision {
    let counter = match decision {
        Decision::Allow => &stats.allowed,
        Decision::Deny => &stats.denied,
        Decision::Ignore => &stats.ignored,
        Decision::Unavailable => &stats.unavailable,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    decision
}

/// Checks `password` against a stored `hash` in the password file's format (PBKDF2, on a
/// blocking thread). A hash that is not in that format refuses, logged and counted.
pub(super) async fn verify(
    source: &str,
    stats: &HttpStats,
    user: &str,
    hash: &str,
    password: &[u8],
) -> Decision {
    let credentials = PasswordFile::parse(&format!("{user}:{hash}\n"))
        .ok()
        .and_then(|file| file.get(user).cloned());
    let Some(credentials) = credentials else {
        stats.garbage.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            user,
            "{source}: the stored hash is not in the password file's format"
        );
        return count(stats, Decision::Deny);
    };
    let password = password.to_vec();
    let matches = tokio::task::spawn_blocking(move || credentials.verify_password(&password)).await;
    count(
        stats,
        match matches {
            Ok(true) => Decision::Allow,
            _ => Decision::Deny,
        },
    )
}

/// Whether a rule on filter `rule` (allowing or denying) applies to `action` on `topic`: to
/// a PUBLISH whose topic it matches; an allow rule to a SUBSCRIBE whose every topic it
/// matches, a deny rule to one that shares any topic with it (as the ACL file's rules do).
pub(super) fn applies(rule: &str, allow: bool, action: &str, topic: &str) -> bool {
    if crate::codec::TopicFilter::new(rule).is_err() {
        return false;
    }
    match (action, allow) {
        ("subscribe", false) => overlaps(rule, topic),
        _ => covers(rule, topic),
    }
}
