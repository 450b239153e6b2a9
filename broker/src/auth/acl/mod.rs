//! Authorization: the ACL file (`[auth] acl_file`) and the topic limits a JWT may carry.
//!
//! # The file
//!
//! One directive a line; blank lines and lines starting with `#` are ignored. Sections choose
//! the clients that the rules below them apply to, up to the next section:
//!
//! | line | applies to |
//! |---|---|
//! | `all` | every client (the rules above the first section are in this one) |
//! | `anonymous` | clients without a user name |
//! | `user NAME` | clients whose user name is NAME |
//! | `client ID` | clients whose client identifier is ID |
//! | `identity NAME` | clients whose verified TLS client certificate has the subject NAME, as RFC 4514 text (`CN=dev1,O=Acme`) |
//! | `address NET` | clients connected from an address in NET: `10.0.0.0/8`, `fd00::/8`, or one address (`192.0.2.7`); the address after a PROXY protocol header, if the listener takes one; an IPv4 client seen through an IPv6 socket counts as IPv4. In-process clients have none. |
//!
//! In NAME and ID, `*` matches any run of characters (`client sensor-*`); everything after the
//! keyword, spaces included, is the name. A rule is `topic ACCESS PATTERN`: ACCESS is `read`,
//! `write`, `readwrite` or `deny`, and PATTERN (the rest of the line) is a topic filter in
//! which `%u` stands for the client's user name and `%c` for its client identifier. A rule
//! with `%u` does not apply to a client without a user name, and a rule with `%u` or `%c`
//! does not apply to a client whose value holds `/`, `+` or `#`.
//!
//! # Decisions
//!
//! **First match wins.** The rules are taken in file order, skipping those whose section does
//! not select the client:
//!
//! - a PUBLISH to topic T (or a will, see the engine) is decided by the first rule whose
//!   pattern matches T: allowed if its access is `write` or `readwrite`, refused if `read` or
//!   `deny`;
//! - a SUBSCRIBE filter F (the filter inside `$share/{ShareName}/`, for a shared one) is a
//!   set of topics, all of which must be readable: going down the rules, the first whose
//!   pattern *covers* F (matches every topic F matches) decides, allowed if its access is
//!   `read` or `readwrite`; but a rule met before it whose pattern *overlaps* F (matches some
//!   topic F matches) and does not allow reading refuses F at once. When no rule covers F,
//!   the default decides, again only if no overlapping rule refuses reading. (This errs on
//!   the side of refusing: a refusing rule that overlaps only topics an earlier rule already
//!   allowed still refuses.) Retained messages sent on SUBSCRIBE are therefore all readable.
//! - Nothing matches: `[auth] acl_default` decides (`deny` unless configured).
//!
//! A granted subscription stays when the file is reloaded; new SUBSCRIBEs and PUBLISHes use
//! the new rules.

mod parse;

use std::path::Path;

pub use crate::engine::policy::{covers, overlaps, Pattern, TopicLimits, Who};
pub use parse::AclError;

use crate::codec::matches;
use crate::engine::policy::Authorizer;

/// What a rule lets a client do with the topics its pattern matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    ReadWrite,
    Deny,
}

impl Access {
    fn reads(self) -> bool {
        matches!(self, Access::Read | Access::ReadWrite)
    }

    fn writes(self) -> bool {
        matches!(self, Access::Write | Access::ReadWrite)
    }
}

/// Which clients a section selects.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Selector {
    All,
    Anonymous,
    User(Glob),
    Client(Glob),
    Identity(Glob),
    Address(ipnet::IpNet),
}

impl Selector {
    fn selects(&self, who: &Who<'_>) -> bool {
        match self {
            Selector::All => true,
            Selector::Anonymous => who.username.is_none(),
            Selector::User(g) => who.username.is_some_and(|u| g.matches(u)),
            Selector::Client(g) => g.matches(who.client_id),
            Selector::Identity(g) => who.identity.is_some_and(|i| g.matches(i)),
            Selector::Address(net) => who.address.is_some_and(|a| net.contains(&a)),
        }
    }
}

/// A name with `*` wildcards, each matching any run of characters.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Glob(String);

impl Glob {
    fn matches(&self, text: &str) -> bool {
        let mut parts = self.0.split('*');
        let first = parts.next().unwrap_or_default();
        let Some(mut rest) = text.strip_prefix(first) else {
            return false;
        };
        let parts: Vec<&str> = parts.collect();
        let Some((last, middle)) = parts.split_last() else {
            return rest.is_empty(); // No `*`: the whole text must be the name.
        };
        for part in middle {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last)
    }
}

/// One `topic` line and the section it is in.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    selector: Selector,
    access: Access,
    pattern: Pattern,
    /// The line of the file, for logs.
    line: usize,
}

/// The rules of an ACL file, and the default for what no rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acl {
    rules: Vec<Rule>,
    default_allow: bool,
}

impl Acl {
    /// The rules in `text`, with `default_allow` deciding what none of them matches. An error
    /// names the line.
    pub fn parse(text: &str, default_allow: bool) -> Result<Acl, AclError> {
        Ok(Acl {
            rules: parse::rules(text)?,
            default_allow,
        })
    }

    /// Reads and parses the ACL file at `path`.
    pub fn load(path: &Path, default_allow: bool) -> Result<Acl, AclError> {
        let text = std::fs::read_to_string(path).map_err(|e| AclError::Read {
            path: path.to_owned(),
            source: e,
        })?;
        Acl::parse(&text, default_allow)
    }

    /// How many `topic` rules the file has.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules that apply to `who`, in order, with their patterns filled in.
    fn applicable<'a>(
        &'a self,
        who: &'a Who<'_>,
    ) -> impl Iterator<Item = (&'a Rule, std::borrow::Cow<'a, str>)> + 'a {
        self.rules
            .iter()
            .filter(|r| r.selector.selects(who))
            .filter_map(|r| Some((r, r.pattern.resolve(who)?)))
    }
}

/// The ACL answers the engine's authorization questions.
impl Authorizer for Acl {
    /// Whether `who` may publish to `topic`: the first rule matching it decides.
    fn may_publish(&self, who: &Who<'_>, topic: &str) -> bool {
        for (rule, pattern) in self.applicable(who) {
            if matches(&pattern, topic) {
                tracing::trace!(line = rule.line, topic, "ACL rule decides a PUBLISH");
                return rule.access.writes();
            }
        }
        self.default_allow
    }

    /// Whether `who` may subscribe to `filter` (a plain filter: the caller takes a shared
    /// subscription's apart): every topic it matches must be readable, as the module explains.
    fn may_subscribe(&self, who: &Who<'_>, filter: &str) -> bool {
        for (rule, pattern) in self.applicable(who) {
            if covers(&pattern, filter) {
                tracing::trace!(line = rule.line, filter, "ACL rule decides a SUBSCRIBE");
                return rule.access.reads();
            }
            if !rule.access.reads() && overlaps(&pattern, filter) {
                tracing::trace!(
                    line = rule.line,
                    filter,
                    "ACL rule refuses part of a SUBSCRIBE"
                );
                return false;
            }
        }
        self.default_allow
    }
}

#[cfg(test)]
mod tests;
