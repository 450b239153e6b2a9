//! What the user stores of `[auth]` (`[auth.postgres]`, `[auth.redis]`) have in common: they
//! answer, for a user name, whether a password is right and what rules apply, each with
//! "not mine" when the user or the rule is not theirs. The server asks them off the engine
//! task, after the application's hooks and `[auth.http]`, before the password file.

use std::sync::atomic::Ordering;

use super::http::{Decision, HttpStats, WhenUnavailable};
use super::scram::Credentials;
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

/// Checks `password` against a stored `hash` (on a blocking thread: both kinds cost
/// milliseconds by design): the password file's format (salted PBKDF2-HMAC-SHA-256,
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`) or bcrypt (`$2a$`, `$2b$`,
/// `$2y$`). A hash in neither format refuses, logged and counted.
pub(super) async fn verify(
    source: &str,
    stats: &HttpStats,
    user: &str,
    hash: &str,
    password: &[u8],
) -> Decision {
    let Some(hash) = Hash::parse(user, hash) else {
        stats.garbage.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            user,
            "{source}: the stored hash is neither in the password file's format nor bcrypt"
        );
        return count(stats, Decision::Deny);
    };
    let password = password.to_vec();
    let matches = tokio::task::spawn_blocking(move || hash.verify(&password)).await;
    count(
        stats,
        match matches {
            Ok(true) => Decision::Allow,
            _ => Decision::Deny,
        },
    )
}

/// A stored password hash a user store may hold.
enum Hash {
    Pbkdf2(Credentials),
    Bcrypt(String),
}

impl Hash {
    fn parse(user: &str, hash: &str) -> Option<Hash> {
        if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
            // Checked in full when verified: a malformed one matches no password.
            return Some(Hash::Bcrypt(hash.to_owned()));
        }
        let file = PasswordFile::parse(&format!("{user}:{hash}\n")).ok()?;
        file.get(user).cloned().map(Hash::Pbkdf2)
    }

    fn verify(&self, password: &[u8]) -> bool {
        match self {
            Hash::Pbkdf2(credentials) => credentials.verify_password(password),
            Hash::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or_else(|e| {
                tracing::warn!("a stored bcrypt hash is malformed: {e}");
                false
            }),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hashes_of_either_kind_are_checked() {
        let mut file = PasswordFile::default();
        file.set_password("alice", b"secret", 4096).unwrap();
        let line = file.to_string();
        let pbkdf2 = line.trim().split_once(':').unwrap().1;
        // A bcrypt hash of "secret" with cost 4, as `htpasswd -B` or a web framework writes.
        let bcrypt = bcrypt::hash_with_salt("secret", 4, [7; 16]).unwrap();
        for hash in [
            pbkdf2.to_owned(),
            bcrypt.format_for_version(bcrypt::Version::TwoA),
            bcrypt.format_for_version(bcrypt::Version::TwoB),
            bcrypt.format_for_version(bcrypt::Version::TwoY),
        ] {
            let h = Hash::parse("alice", &hash).unwrap_or_else(|| panic!("{hash}"));
            assert!(h.verify(b"secret"), "{hash}");
            assert!(!h.verify(b"wrong"), "{hash}");
        }
        assert!(Hash::parse("alice", "plaintext").is_none());
        assert!(Hash::parse("alice", "$1$md5crypt").is_none());
        // Malformed bcrypt: no password matches it.
        assert!(!Hash::parse("alice", "$2b$04$short")
            .unwrap()
            .verify(b"secret"));
    }
}
