//! Topic patterns of ACL rules and JWT topic claims: topic filters with `%u` (the user name)
//! and `%c` (the client identifier) in them, and the relations between two filters that
//! authorization needs.
//!
//! A rule's pattern is a topic filter with the router's semantics (section 4.7): `+` matches
//! one level, `#` the parent level and everything below, and a pattern starting with a
//! wildcard matches no topic starting with `$` [MQTT-4.7.2-1]. A PUBLISH is checked by
//! [`matches`](crate::codec::matches); a SUBSCRIBE filter is a set of topics, compared with a
//! pattern by [`covers`] (every topic of the filter matches the pattern) and [`overlaps`] (some
//! topic matches both).

use std::borrow::Cow;

use crate::codec::TopicFilter;

/// A topic filter that may hold `%u` and `%c`, checked when it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    placeholders: bool,
}

/// Who is asking: what `%u` and `%c` stand for and what sections of an ACL select on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Who<'a> {
    /// The user name: from CONNECT, the certificate (when the listener uses it as the user
    /// name) or a JWT's `sub`.
    pub username: Option<&'a str>,
    pub client_id: &'a str,
    /// The verified TLS client certificate's identity, if there is one.
    pub identity: Option<&'a str>,
    /// The client's address (after a PROXY protocol header, if the listener takes one;
    /// IPv4 seen through IPv6 as IPv4); `None` for in-process clients.
    pub address: Option<std::net::IpAddr>,
}

impl Pattern {
    /// A pattern, if `text` is a valid topic filter once `%u` and `%c` are filled in.
    pub fn new(text: &str) -> Result<Pattern, String> {
        let placeholders = text.contains("%u") || text.contains("%c");
        let filled = text.replace("%u", "u").replace("%c", "c");
        if let Err(violation) = TopicFilter::new(filled) {
            return Err(format!("{text:?} is not a valid topic filter: {violation}"));
        }
        Ok(Pattern {
            text: text.to_owned(),
            placeholders,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The filter this pattern is for `who`, or `None` if it names something `who` lacks: a
    /// `%u` for a client without a user name, or a value that holds `/`, `+` or `#` (which
    /// would reach beyond the one level the pattern gives it).
    pub fn resolve(&self, who: &Who<'_>) -> Option<Cow<'_, str>> {
        if !self.placeholders {
            return Some(Cow::Borrowed(&self.text));
        }
        let safe = |value: &str| !value.contains(['/', '+', '#']);
        let mut text = self.text.clone();
        if text.contains("%u") {
            let user = who.username.filter(|u| safe(u))?;
            text = text.replace("%u", user);
        }
        if text.contains("%c") {
            if !safe(who.client_id) {
                return None;
            }
            text = text.replace("%c", who.client_id);
        }
        Some(Cow::Owned(text))
    }
}

/// The levels of a filter or name.
fn levels(s: &str) -> Vec<&str> {
    s.split('/').collect()
}

/// Whether a pattern whose first level is `p0` can match topics whose first level is `f0`,
/// as far as the `$` rule goes: a wildcard first level never matches a `$` topic
/// [MQTT-4.7.2-1].
fn dollar_compatible(p0: &str, f0: &str) -> bool {
    let wildcard = |l: &str| l == "+" || l == "#";
    !(wildcard(p0) && f0.starts_with('$'))
}

/// Whether every topic `filter` matches is matched by `pattern` (both valid filters).
pub fn covers(pattern: &str, filter: &str) -> bool {
    let (p, f) = (levels(pattern), levels(filter));
    if !dollar_compatible(p[0], f[0]) {
        return false;
    }
    for i in 0.. {
        match (p.get(i).copied(), f.get(i).copied()) {
            // `#` matches the parent level and everything below: whatever is left of the
            // filter, including nothing.
            (Some("#"), _) => return true,
            // The filter reaches deeper (or `#` reaches any depth) than the pattern goes.
            (None, Some(_)) => return false,
            (None, None) => return true,
            // The filter has ended and the pattern has a level that is not `#`.
            (Some(_), None) => return false,
            // A filter `#` also matches topics that end here, and deeper ones.
            (Some(_), Some("#")) => return false,
            (Some("+"), Some(_)) => {}
            (Some(pl), Some(fl)) => {
                if fl == "+" || pl != fl {
                    return false;
                }
            }
        }
    }
    unreachable!("the loop returns once a filter ends")
}

/// Whether some topic is matched by both `pattern` and `filter` (both valid filters).
pub fn overlaps(pattern: &str, filter: &str) -> bool {
    let (p, f) = (levels(pattern), levels(filter));
    if !dollar_compatible(p[0], f[0]) || !dollar_compatible(f[0], p[0]) {
        return false;
    }
    for i in 0.. {
        match (p.get(i).copied(), f.get(i).copied()) {
            (Some("#"), _) | (_, Some("#")) => return true,
            (None, None) => return true,
            (None, Some(_)) | (Some(_), None) => return false,
            (Some(a), Some(b)) => {
                if a != "+" && b != "+" && a != b {
                    return false;
                }
            }
        }
    }
    unreachable!("the loop returns once a filter ends")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::matches;

    #[test]
    fn covering() {
        for (p, f) in [
            ("#", "a/b"),
            ("#", "#"),
            ("#", "+/x"),
            ("a/#", "a"),
            ("a/#", "a/#"),
            ("a/#", "a/+/c"),
            ("a/+", "a/b"),
            ("a/+", "a/+"),
            ("+/+", "a/+"),
            ("a/b", "a/b"),
            ("$SYS/#", "$SYS/x"),
            ("+/#", "+/#"),
        ] {
            assert!(covers(p, f), "{p} covers {f}");
        }
        for (p, f) in [
            ("a/b", "a/+"),
            ("a/+", "a/#"),
            ("a/+", "a"),
            ("a", "a/#"),
            ("a/b", "a"),
            ("a", "a/b"),
            ("a/+/c", "a/#"),
            ("#", "$SYS/x"),
            ("+/x", "$SYS/x"),
            ("a/#", "b/#"),
            ("a/+", "a/b/c"),
        ] {
            assert!(!covers(p, f), "{p} does not cover {f}");
        }
    }

    #[test]
    fn overlapping() {
        for (p, f) in [
            ("#", "a/b"),
            ("a/b", "#"),
            ("a/+", "+/b"),
            ("a/#", "a"),
            ("a", "a/#"),
            ("+", "+"),
            ("$SYS/#", "$SYS/+"),
            ("a/b/c", "a/+/c"),
        ] {
            assert!(overlaps(p, f), "{p} overlaps {f}");
            assert!(overlaps(f, p), "{f} overlaps {p}");
        }
        for (p, f) in [
            ("a/b", "a/c"),
            ("a/+", "a"),
            ("a/+", "a/b/c"),
            ("#", "$SYS/x"),
            ("+/#", "$SYS/#"),
            ("a/b", "a/b/c"),
        ] {
            assert!(!overlaps(p, f), "{p} does not overlap {f}");
            assert!(!overlaps(f, p), "{f} does not overlap {p}");
        }
    }

    /// `covers` and `overlaps` agree with the router's matching on every topic of a small
    /// universe.
    #[test]
    fn relations_agree_with_matching() {
        let words = ["a", "b", "$s", ""];
        let mut topics: Vec<String> = Vec::new();
        for x in words {
            topics.push(x.to_owned());
            for y in words {
                topics.push(format!("{x}/{y}"));
                for z in words {
                    topics.push(format!("{x}/{y}/{z}"));
                }
            }
        }
        topics.retain(|t| !t.is_empty());
        let mut filters: Vec<String> = Vec::new();
        for x in ["a", "$s", "+", "#"] {
            filters.push(x.to_owned());
            for y in ["a", "b", "+", "#"] {
                if x == "#" {
                    continue;
                }
                filters.push(format!("{x}/{y}"));
                for z in ["a", "+", "#"] {
                    if y != "#" {
                        filters.push(format!("{x}/{y}/{z}"));
                    }
                }
            }
        }
        for p in &filters {
            for f in &filters {
                let of_f: Vec<&String> = topics.iter().filter(|t| matches(f, t)).collect();
                let all = of_f.iter().all(|t| matches(p, t));
                let some = of_f.iter().any(|t| matches(p, t));
                // The universe is finite: `#` and `+` reach further than it, so a covering
                // seen here may be false beyond it, but never the other way round.
                if covers(p, f) {
                    assert!(all, "{p} covers {f}, yet misses one of {of_f:?}");
                }
                assert_eq!(overlaps(p, f), some, "{p} overlaps {f}");
            }
        }
    }

    #[test]
    fn placeholders() {
        let p = Pattern::new("home/%u/%c/#").unwrap();
        let who = Who {
            username: Some("alice"),
            client_id: "phone",
            identity: None,
            address: None,
        };
        assert_eq!(p.resolve(&who).unwrap(), "home/alice/phone/#");
        let anonymous = Who {
            username: None,
            ..who
        };
        assert_eq!(p.resolve(&anonymous), None);
        let sneaky = Who {
            username: Some("a/b"),
            ..who
        };
        assert_eq!(p.resolve(&sneaky), None);
        let wild = Who {
            client_id: "#",
            ..who
        };
        assert_eq!(p.resolve(&wild), None);
        assert_eq!(
            Pattern::new("x/%c").unwrap().resolve(&anonymous).unwrap(),
            "x/phone"
        );
        assert_eq!(Pattern::new("100%").unwrap().resolve(&who).unwrap(), "100%");
        assert!(Pattern::new("a/#/b").is_err());
        assert!(Pattern::new("a/%u+").is_err());
        assert!(Pattern::new("").is_err());
    }
}
