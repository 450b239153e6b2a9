//! Topic Names and Topic Filters (section 4.7): validated newtypes and matching.
//!
//! A `TopicName` or `TopicFilter` can only be built from a string that follows the rules, so
//! the router never has to ask again. Both hold a `ByteString`, a cheap-to-clone slice of the
//! buffer the packet was read from.

use std::fmt;
use std::ops::Deref;

use bytestring::ByteString;

use super::error::Violation;

/// The prefix of a shared subscription's filter (section 4.8.2).
pub const SHARE_PREFIX: &str = "$share/";

/// Checks the rules for a Topic Name: at least one character [MQTT-4.7.3-1], no wildcards
/// [MQTT-3.3.2-2] [MQTT-4.7.0-1], no U+0000 [MQTT-4.7.3-2].
pub fn check_name(name: &str) -> Result<(), Violation> {
    if name.is_empty() {
        return Err(Violation::EmptyTopic);
    }
    for b in name.bytes() {
        match b {
            b'+' | b'#' => return Err(Violation::WildcardInTopicName),
            0 => return Err(Violation::NullCharacter),
            _ => {}
        }
    }
    Ok(())
}

/// Checks the rules for a Topic Filter: at least one character [MQTT-4.7.3-1], `#` alone in
/// the last level [MQTT-4.7.1-1], `+` alone in its level [MQTT-4.7.1-2], no U+0000
/// [MQTT-4.7.3-2].
pub fn check_filter(filter: &str) -> Result<(), Violation> {
    let b = filter.as_bytes();
    if b.is_empty() {
        return Err(Violation::EmptyTopic);
    }
    // One pass: a wildcard must fill its level, and `#` must also be the last character.
    for (i, &c) in b.iter().enumerate() {
        let starts_level = i == 0 || b[i - 1] == b'/';
        let ends_level = i + 1 == b.len() || b[i + 1] == b'/';
        match c {
            0 => return Err(Violation::NullCharacter),
            b'#' if !starts_level || i + 1 != b.len() => {
                return Err(Violation::MultiLevelWildcardNotLast)
            }
            b'+' if !starts_level || !ends_level => {
                return Err(Violation::SingleLevelWildcardNotAlone)
            }
            _ => {}
        }
    }
    Ok(())
}

/// A validated Topic Name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicName(ByteString);

impl TopicName {
    /// A Topic Name, if `name` follows the rules of section 4.7.
    pub fn new(name: impl Into<ByteString>) -> Result<TopicName, Violation> {
        let name = name.into();
        check_name(&name)?;
        Ok(TopicName(name))
    }

    /// The empty name an MQTT 5.0 PUBLISH carries when a Topic Alias stands for its topic
    /// (section 3.3.2.3.4). It is valid only together with that alias.
    pub fn empty() -> TopicName {
        TopicName(ByteString::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying shared string.
    pub fn as_byte_string(&self) -> &ByteString {
        &self.0
    }

    /// Whether a subscription filter matches this name (section 4.7).
    pub fn matches(&self, filter: &TopicFilter) -> bool {
        matches(filter.as_str(), self.as_str())
    }
}

/// A validated Topic Filter.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicFilter(ByteString);

/// The parts of a shared subscription's filter, `$share/{ShareName}/{filter}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedFilter<'a> {
    pub share_name: &'a str,
    pub filter: &'a str,
}

impl TopicFilter {
    /// A Topic Filter, if `filter` follows the rules of section 4.7.
    pub fn new(filter: impl Into<ByteString>) -> Result<TopicFilter, Violation> {
        let filter = filter.into();
        check_filter(&filter)?;
        Ok(TopicFilter(filter))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying shared string.
    pub fn as_byte_string(&self) -> &ByteString {
        &self.0
    }

    /// Whether the filter has a `+` or `#` level.
    pub fn has_wildcards(&self) -> bool {
        self.0.bytes().any(|b| b == b'+' || b == b'#')
    }

    /// The share name and inner filter, if this is a shared subscription's filter.
    ///
    /// `Ok(None)` for an ordinary filter; an error for a filter that starts with `$share/` but
    /// breaks the rules of section 4.8.2 [MQTT-4.8.2-1] [MQTT-4.8.2-2].
    pub fn shared(&self) -> Result<Option<SharedFilter<'_>>, Violation> {
        let Some(rest) = self.0.strip_prefix(SHARE_PREFIX) else {
            return Ok(None);
        };
        let Some((share_name, filter)) = rest.split_once('/') else {
            return Err(Violation::SharedSubscriptionWithoutFilter);
        };
        if share_name.is_empty() || share_name.contains(['+', '#']) {
            return Err(Violation::InvalidShareName);
        }
        if filter.is_empty() {
            return Err(Violation::SharedSubscriptionWithoutFilter);
        }
        Ok(Some(SharedFilter { share_name, filter }))
    }

    /// Whether this filter matches a Topic Name (section 4.7).
    pub fn matches(&self, name: &TopicName) -> bool {
        matches(self.as_str(), name.as_str())
    }
}

/// Whether `filter` matches `name` (section 4.7).
///
/// `#` matches its parent level and any number of levels below it; `+` matches exactly one
/// level, which may be empty. A filter that starts with a wildcard never matches a name that
/// starts with `$` [MQTT-4.7.2-1]. Names and filters are compared byte for byte, with no
/// normalisation [MQTT-4.7.3-4].
pub fn matches(filter: &str, name: &str) -> bool {
    let (f, n) = (filter.as_bytes(), name.as_bytes());
    // A valid name holds no wildcard, so a filter equal to it is one without wildcards.
    if f == n {
        return true;
    }
    if n.first() == Some(&b'$') && matches!(f.first(), Some(b'+' | b'#')) {
        return false;
    }
    // Walk both level by level; `i` and `j` are where the current levels start.
    let (mut i, mut j) = (0, 0);
    loop {
        let f_end = level_end(f, i);
        let level = &f[i..f_end];
        if level == b"#" {
            return true;
        }
        let n_end = level_end(n, j);
        if level != b"+" && level != &n[j..n_end] {
            return false;
        }
        match (f_end == f.len(), n_end == n.len()) {
            (true, true) => return true,
            (true, false) => return false,
            // The name has no more levels: only a trailing `#` (its parent) still matches.
            (false, true) => return &f[f_end + 1..] == b"#",
            (false, false) => (i, j) = (f_end + 1, n_end + 1),
        }
    }
}

/// The index of the `/` that ends the level starting at `from`, or the length.
fn level_end(s: &[u8], from: usize) -> usize {
    s[from..]
        .iter()
        .position(|&b| b == b'/')
        .map_or(s.len(), |p| from + p)
}

macro_rules! string_newtype_impls {
    ($ty:ident) => {
        impl Deref for $ty {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = Violation;
            fn try_from(s: &str) -> Result<Self, Violation> {
                $ty::new(s)
            }
        }
    };
}

string_newtype_impls!(TopicName);
string_newtype_impls!(TopicFilter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_wildcards_nul_and_emptiness() {
        assert!(TopicName::new("sport/tennis/player1").is_ok());
        assert!(TopicName::new("/").is_ok());
        assert!(TopicName::new(" ").is_ok());
        assert_eq!(TopicName::new(""), Err(Violation::EmptyTopic));
        assert_eq!(TopicName::new("a/+"), Err(Violation::WildcardInTopicName));
        assert_eq!(TopicName::new("a/#"), Err(Violation::WildcardInTopicName));
        assert_eq!(TopicName::new("a\0b"), Err(Violation::NullCharacter));
    }

    #[test]
    fn filters_follow_section_4_7_1() {
        for ok in [
            "#",
            "+",
            "sport/#",
            "sport/+/player1",
            "+/+",
            "/+",
            "a//b",
            "$SYS/#",
        ] {
            assert!(TopicFilter::new(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("", Violation::EmptyTopic),
            ("sport/tennis#", Violation::MultiLevelWildcardNotLast),
            (
                "sport/tennis/#/ranking",
                Violation::MultiLevelWildcardNotLast,
            ),
            ("##", Violation::MultiLevelWildcardNotLast),
            ("sport+", Violation::SingleLevelWildcardNotAlone),
            ("a/b+/c", Violation::SingleLevelWildcardNotAlone),
            ("a\0", Violation::NullCharacter),
        ] {
            assert_eq!(TopicFilter::new(bad), Err(why), "{bad:?}");
        }
    }

    /// The examples of sections 4.7.1.2 and 4.7.1.3.
    #[test]
    fn matching_examples_of_the_specification() {
        let f = "sport/tennis/player1/#";
        for n in [
            "sport/tennis/player1",
            "sport/tennis/player1/ranking",
            "sport/tennis/player1/score/wimbledon",
        ] {
            assert!(matches(f, n), "{f} ~ {n}");
        }
        assert!(matches("sport/#", "sport"));
        assert!(matches("sport/tennis/+", "sport/tennis/player1"));
        assert!(matches("sport/tennis/+", "sport/tennis/player2"));
        assert!(!matches("sport/tennis/+", "sport/tennis/player1/ranking"));
        assert!(!matches("sport/+", "sport"));
        assert!(matches("sport/+", "sport/"));
        assert!(matches("+/+", "/finance"));
        assert!(matches("/+", "/finance"));
        assert!(!matches("+", "/finance"));
        assert!(matches("#", "a/b/c"));
        assert!(matches("#", "/"));
        assert!(!matches("a/b", "a/b/c"));
        assert!(!matches("a/b/c", "a/b"));
        assert!(matches("a/b", "a/b"));
    }

    /// [MQTT-4.7.2-1] and the examples of section 4.7.2.
    #[test]
    fn dollar_topics_are_not_matched_by_leading_wildcards() {
        assert!(!matches("#", "$SYS/uptime"));
        assert!(!matches("+/monitor/Clients", "$SYS/monitor/Clients"));
        assert!(matches("$SYS/#", "$SYS/monitor/Clients"));
        assert!(matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
        assert!(matches("$SYS/#", "$SYS"));
    }

    /// [MQTT-4.7.3-4]: no normalisation; topics are case sensitive and spaces count.
    #[test]
    fn matching_is_byte_for_byte() {
        assert!(!matches("ACCOUNTS", "Accounts"));
        assert!(!matches("a b", "ab"));
        assert!(!matches("caf\u{e9}", "cafe\u{301}"));
    }

    #[test]
    fn shared_filters_are_parsed() {
        let f = TopicFilter::new("$share/group/sport/+").unwrap();
        assert_eq!(
            f.shared().unwrap(),
            Some(SharedFilter {
                share_name: "group",
                filter: "sport/+"
            })
        );
        assert_eq!(TopicFilter::new("sport").unwrap().shared().unwrap(), None);
        assert_eq!(
            TopicFilter::new("$sharex/a").unwrap().shared().unwrap(),
            None
        );
        assert_eq!(
            TopicFilter::new("$share//a").unwrap().shared(),
            Err(Violation::InvalidShareName)
        );
        assert_eq!(
            TopicFilter::new("$share/+/a").unwrap().shared(),
            Err(Violation::InvalidShareName)
        );
        assert_eq!(
            TopicFilter::new("$share/group").unwrap().shared(),
            Err(Violation::SharedSubscriptionWithoutFilter)
        );
        assert_eq!(
            TopicFilter::new("$share/group/").unwrap().shared(),
            Err(Violation::SharedSubscriptionWithoutFilter)
        );
    }

    /// The rules of section 4.7 written as plainly as possible, to check the fast matcher.
    fn reference_matches(filter: &str, name: &str) -> bool {
        if name.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
            return false;
        }
        let f: Vec<&str> = filter.split('/').collect();
        let n: Vec<&str> = name.split('/').collect();
        for (k, level) in f.iter().enumerate() {
            match *level {
                "#" => return true,
                "+" if k < n.len() => {}
                _ if k < n.len() && n[k] == *level => {}
                _ => return false,
            }
        }
        f.len() == n.len()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]

        #[test]
        fn fast_matcher_agrees_with_the_reference(
            filter in "[ab$/+#]{1,8}",
            name in "[ab$/]{1,8}",
        ) {
            if check_filter(&filter).is_ok() && check_name(&name).is_ok() {
                proptest::prop_assert_eq!(
                    matches(&filter, &name),
                    reference_matches(&filter, &name),
                    "filter {:?} name {:?}", filter, name
                );
            }
        }

        #[test]
        fn filter_check_agrees_with_the_level_rules(filter in "[ab/+#\\x00]{0,8}") {
            let by_levels = !filter.is_empty()
                && !filter.contains('\0')
                && filter.split('/').enumerate().all(|(k, level)| {
                    let last = k == filter.split('/').count() - 1;
                    (!level.contains('#') || (level == "#" && last))
                        && (!level.contains('+') || level == "+")
                });
            proptest::prop_assert_eq!(check_filter(&filter).is_ok(), by_levels, "{:?}", filter);
        }
    }
}
