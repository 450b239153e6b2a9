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
    if filter.is_empty() {
        return Err(Violation::EmptyTopic);
    }
    if filter.as_bytes().contains(&0) {
        return Err(Violation::NullCharacter);
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != "#" || levels.peek().is_some()) {
            return Err(Violation::MultiLevelWildcardNotLast);
        }
        if level.contains('+') && level != "+" {
            return Err(Violation::SingleLevelWildcardNotAlone);
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
    if name.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut names = name.split('/');
    for level in filter.split('/') {
        match level {
            "#" => return true,
            "+" => {
                if names.next().is_none() {
                    return false;
                }
            }
            _ => match names.next() {
                Some(n) if n == level => {}
                _ => return false,
            },
        }
    }
    names.next().is_none()
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
}
