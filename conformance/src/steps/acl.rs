//! Steps for authorization: an ACL file for the in-process broker (`[auth] acl_file`).
//!
//! - `the broker has the ACL:` followed by a doc string with the file's lines: writes the file
//!   and configures `auth.acl_file` (tag the scenario `@needs-config`). The lines are placed
//!   under the scenario's scope as the scenario's own packets are: the pattern of a `topic`
//!   line as a filter (`a/#` becomes `s1f3/a/#`; `%u` and `%c` stay), the name of a `client`
//!   section as a client identifier (`client sub` becomes `client s1f3-sub`), so that the
//!   rules speak of what the scenario's clients send. `user` and `identity` names stay.
//!   Anything not matched by a rule is denied, unless the scenario also sets
//!   `auth.acl_default = "allow"`.

use anyhow::{Context as _, Result};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use crate::state::AclFile;
use crate::steps::connection::configured;
use crate::world::MqttWorld;

/// The file's lines with the scenario's scope applied.
fn scoped(w: &MqttWorld, text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let scoped_line = match trimmed.split_once(char::is_whitespace) {
            Some(("client", id)) => format!("client {}", w.scope.client_id(id.trim())),
            Some(("topic", rest)) => match rest.trim().split_once(char::is_whitespace) {
                Some((access, pattern)) => {
                    format!("topic {access} {}", w.scope.filter(pattern.trim()))
                }
                None => trimmed.to_owned(),
            },
            _ => trimmed.to_owned(),
        };
        out.push_str(&scoped_line);
        out.push('\n');
    }
    out
}

#[given(regex = r"^the broker has the ACL:$")]
#[when(regex = r"^the broker has the ACL:$")]
#[then(regex = r"^the broker has the ACL:$")]
async fn has_acl(w: &mut MqttWorld, step: &Step) -> Result<()> {
    let text = step
        .docstring
        .as_deref()
        .context("give the ACL file's lines in a doc string")?;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("tern-conformance-{}-{n}.acl", std::process::id()));
    let setting = format!("auth.acl_file = {:?}", path.display().to_string());
    configured(w, setting).await?;
    std::fs::write(&path, scoped(w, text)).with_context(|| format!("{}", path.display()))?;
    w.acl_file = AclFile(Some(path));
    Ok(())
}
