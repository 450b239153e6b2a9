//! Keeps concurrent scenarios apart on one broker.
//!
//! Scenarios run concurrently, and against another broker they share it. Each scenario gets a
//! short unique scope, and every client identifier and topic it writes is placed under it:
//! client `a` becomes `s1f3-a`, topic `x/y` becomes `s1f3/x/y`, filter `#` becomes `s1f3/#`,
//! `$share/g/x/#` becomes `$share/g/s1f3/x/#`. Adding one level in front of both the topic
//! and the filter keeps every matching rule as the scenario wrote it. Topics that start with
//! `$` are left alone (they are the broker's), and so is anything written with a leading `@`
//! (the `@` is dropped): a scenario that needs the bare filter `#` writes `@#` and is tagged
//! `@serial`, so that it runs alone.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const SHARE: &str = "$share/";

/// One scenario's scope.
#[derive(Clone, Debug)]
pub struct Scope(String);

impl Scope {
    /// A scope no other scenario of this process, or of a recent run, uses.
    pub fn fresh() -> Scope {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        static RUN: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        let run = *RUN.get_or_init(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_micros() % 0x1000)
                .unwrap_or(0)
        });
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Scope(format!("s{run:x}{n:x}"))
    }

    /// A client identifier under the scope; the empty identifier stays empty.
    pub fn client_id(&self, id: &str) -> String {
        match id.strip_prefix('@') {
            Some(raw) => raw.to_owned(),
            None if id.is_empty() => String::new(),
            None => format!("{}-{id}", self.0),
        }
    }

    /// A topic name under the scope.
    pub fn topic(&self, topic: &str) -> String {
        match topic.strip_prefix('@') {
            Some(raw) => raw.to_owned(),
            None if topic.is_empty() || topic.starts_with('$') => topic.to_owned(),
            None => format!("{}/{topic}", self.0),
        }
    }

    /// A topic filter under the scope, shared subscriptions included.
    pub fn filter(&self, filter: &str) -> String {
        if let Some(raw) = filter.strip_prefix('@') {
            return raw.to_owned();
        }
        if let Some(rest) = filter.strip_prefix(SHARE) {
            if let Some((group, inner)) = rest.split_once('/') {
                return format!("{SHARE}{group}/{}", self.topic(inner));
            }
        }
        self.topic(filter)
    }

    /// A topic as the scenario wrote it: the scope taken off again.
    pub fn unscope_topic<'a>(&self, topic: &'a str) -> &'a str {
        topic
            .strip_prefix(self.0.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(topic)
    }

    /// A client identifier as the scenario wrote it.
    pub fn unscope_client_id<'a>(&self, id: &'a str) -> &'a str {
        id.strip_prefix(self.0.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .unwrap_or(id)
    }
}

#[cfg(test)]
mod tests {
    use super::Scope;

    #[test]
    fn scoping_adds_one_level_and_comes_off_again() {
        let s = Scope("s1".into());
        assert_eq!(s.topic("a/b"), "s1/a/b");
        assert_eq!(s.topic("/a"), "s1//a");
        assert_eq!(s.topic("$SYS/x"), "$SYS/x");
        assert_eq!(s.topic(""), "");
        assert_eq!(s.filter("#"), "s1/#");
        assert_eq!(s.filter("@#"), "#");
        assert_eq!(s.filter("$share/g/a/+"), "$share/g/s1/a/+");
        assert_eq!(s.client_id("a"), "s1-a");
        assert_eq!(s.client_id(""), "");
        assert_eq!(s.unscope_topic("s1/a/b"), "a/b");
        assert_eq!(s.unscope_topic("$SYS/x"), "$SYS/x");
        assert_eq!(s.unscope_client_id("s1-a"), "a");
    }
}
