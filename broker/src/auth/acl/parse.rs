//! Reading an ACL file: sections and `topic` rules, each error naming its line.

use std::path::PathBuf;

use super::{Access, Glob, Pattern, Rule, Selector};

/// Why an ACL file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AclError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line that is not a section or a rule, or a rule that does not parse.
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
}

/// The rules of a file, in order, each with the section it is in.
pub(super) fn rules(text: &str) -> Result<Vec<Rule>, AclError> {
    let mut selector = Selector::All;
    let mut rules = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let error = |message: String| AclError::Line { line, message };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (keyword, rest) = match trimmed.split_once(char::is_whitespace) {
            Some((keyword, rest)) => (keyword, rest.trim()),
            None => (trimmed, ""),
        };
        let name = |what: &str| -> Result<Glob, AclError> {
            if rest.is_empty() {
                return Err(error(format!("`{keyword}` needs {what}")));
            }
            Ok(Glob(rest.to_owned()))
        };
        match keyword {
            "all" | "anonymous" if !rest.is_empty() => {
                return Err(error(format!("`{keyword}` takes nothing after it")));
            }
            "all" => selector = Selector::All,
            "anonymous" => selector = Selector::Anonymous,
            "user" => selector = Selector::User(name("a user name")?),
            "client" => selector = Selector::Client(name("a client identifier")?),
            "identity" => selector = Selector::Identity(name("a certificate identity")?),
            "address" => selector = Selector::Address(network(rest).map_err(error)?),
            "topic" => {
                let (access, pattern) = rest
                    .split_once(char::is_whitespace)
                    .map(|(a, p)| (a, p.trim()))
                    .ok_or_else(|| {
                        error("expected `topic read|write|readwrite|deny PATTERN`".into())
                    })?;
                let access = match access {
                    "read" => Access::Read,
                    "write" => Access::Write,
                    "readwrite" => Access::ReadWrite,
                    "deny" => Access::Deny,
                    other => {
                        return Err(error(format!(
                            "unknown access {other:?} (use read, write, readwrite or deny)"
                        )))
                    }
                };
                let pattern = Pattern::new(pattern).map_err(error)?;
                rules.push(Rule {
                    selector: selector.clone(),
                    access,
                    pattern,
                    line,
                });
            }
            other => {
                return Err(error(format!(
                    "unknown directive {other:?} (expected all, anonymous, user, client, \
                     identity, address or topic)"
                )))
            }
        }
    }
    Ok(rules)
}

/// `10.0.0.0/8`, `fd00::/8`, or one address (a /32 or /128).
fn network(text: &str) -> Result<ipnet::IpNet, String> {
    if let Ok(net) = text.parse::<ipnet::IpNet>() {
        // The network itself, whatever host bits were written (`10.1.2.3/8` is 10.0.0.0/8).
        return Ok(net.trunc());
    }
    match text.parse::<std::net::IpAddr>() {
        Ok(ip) => Ok(ipnet::IpNet::from(ip)),
        Err(_) => Err(format!(
            "`address` needs an address or a network (10.0.0.0/8, fd00::/8), not {text:?}"
        )),
    }
}
