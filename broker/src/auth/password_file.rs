//! The password file: one user a line, in PostgreSQL's SCRAM-SHA-256 format.
//!
//! ```text
//! # comments and blank lines are kept
//! alice:SCRAM-SHA-256$4096:<salt, base64>$<StoredKey, base64>:<ServerKey, base64>
//! ```
//!
//! One salted slow hash (PBKDF2-HMAC-SHA-256) serves both the plain password of a CONNECT and
//! the SCRAM-SHA-256 exchange of MQTT 5.0 enhanced authentication; the file never holds a
//! password. A malformed line is an error naming the line. `tern passwd` edits the file
//! through [`PasswordFile`], which keeps comments, blank lines and the order of users.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::scram::{Credentials, Key, MECHANISM, SALT_LEN};

/// Why a password file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PasswordFileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line that is neither a comment, blank, nor `user:SCRAM-SHA-256$...`.
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
}

/// One line of the file.
#[derive(Clone, Debug)]
enum Line {
    /// A comment or blank line, kept as written.
    Other(String),
    User(String, Credentials),
}

/// A password file in memory.
#[derive(Clone, Debug, Default)]
pub struct PasswordFile {
    lines: Vec<Line>,
}

impl PasswordFile {
    /// Parses the text of a password file.
    pub fn parse(text: &str) -> Result<PasswordFile, PasswordFileError> {
        let mut file = PasswordFile::default();
        for (i, raw) in text.lines().enumerate() {
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                file.lines.push(Line::Other(raw.to_owned()));
                continue;
            }
            let error = |message: String| PasswordFileError::Line {
                line: i + 1,
                message,
            };
            let (user, credentials) = parse_entry(trimmed).map_err(error)?;
            if file.get(user).is_some() {
                return Err(error(format!("user {user:?} appears twice")));
            }
            file.lines.push(Line::User(user.to_owned(), credentials));
        }
        Ok(file)
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<PasswordFile, PasswordFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| PasswordFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        PasswordFile::parse(&text)
    }

    /// Writes the file to `path`, through a temporary file renamed over it, so that a reader
    /// never sees half a file. A new file is readable by its owner only (Unix); an existing
    /// one keeps its permissions.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PasswordFileError> {
        let path = path.as_ref();
        let error = |source| PasswordFileError::Write {
            path: path.to_owned(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, self.to_string()).map_err(error)?;
        let permissions = match std::fs::metadata(path) {
            Ok(m) => Some(m.permissions()),
            Err(_) => owner_only(),
        };
        if let Some(p) = permissions {
            std::fs::set_permissions(&tmp, p).map_err(error)?;
        }
        std::fs::rename(&tmp, path).map_err(error)
    }

    /// The credentials of `user`.
    pub fn get(&self, user: &str) -> Option<&Credentials> {
        self.users().find(|(u, _)| *u == user).map(|(_, c)| c)
    }

    /// Every user and their credentials, in file order.
    pub fn users(&self) -> impl Iterator<Item = (&str, &Credentials)> {
        self.lines.iter().filter_map(|l| match l {
            Line::User(u, c) => Some((u.as_str(), c)),
            Line::Other(_) => None,
        })
    }

    /// Sets the credentials of `user`: replaces its line, or appends one.
    pub fn set(&mut self, user: &str, credentials: Credentials) {
        for line in &mut self.lines {
            if let Line::User(u, c) = line {
                if u == user {
                    *c = credentials;
                    return;
                }
            }
        }
        self.lines.push(Line::User(user.to_owned(), credentials));
    }

    /// Sets `user`'s password with a fresh random salt (one PBKDF2 of `iterations`).
    pub fn set_password(
        &mut self,
        user: &str,
        password: &[u8],
        iterations: u32,
    ) -> Result<(), getrandom::Error> {
        let mut salt = [0; SALT_LEN];
        getrandom::fill(&mut salt)?;
        self.set(user, Credentials::derive(password, &salt, iterations));
        Ok(())
    }

    /// Removes `user`; false if there was no such user.
    pub fn remove(&mut self, user: &str) -> bool {
        let before = self.lines.len();
        self.lines
            .retain(|l| !matches!(l, Line::User(u, _) if u == user));
        self.lines.len() != before
    }
}

impl fmt::Display for PasswordFile {
    /// The file's text, one line each, every line ended by a newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            match line {
                Line::Other(text) => writeln!(f, "{text}")?,
                Line::User(user, c) => writeln!(
                    f,
                    "{user}:{MECHANISM}${}:{}${}:{}",
                    c.iterations,
                    BASE64.encode(&c.salt),
                    BASE64.encode(c.stored_key),
                    BASE64.encode(c.server_key)
                )?,
            }
        }
        Ok(())
    }
}

/// Why `user` cannot be a user name in the file, if it cannot: it must be non-empty, without
/// `:` or control characters, without spaces at either end, and not start with `#`.
pub fn check_user_name(user: &str) -> Result<(), String> {
    if user.is_empty() {
        return Err("a user name cannot be empty".into());
    }
    if user.contains(':') || user.chars().any(char::is_control) {
        return Err(format!(
            "{user:?}: a user name cannot contain ':' or control characters"
        ));
    }
    if user.starts_with('#') || user.trim() != user {
        return Err(format!(
            "{user:?}: a user name cannot start with '#' or with or end in a space"
        ));
    }
    Ok(())
}

/// `user:SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
fn parse_entry(line: &str) -> Result<(&str, Credentials), String> {
    let (user, secret) = line
        .split_once(':')
        .ok_or("expected user:SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>")?;
    check_user_name(user)?;
    let rest = secret
        .strip_prefix(MECHANISM)
        .and_then(|r| r.strip_prefix('$'))
        .ok_or_else(|| format!("user {user:?}: the secret must start with {MECHANISM}$"))?;
    let bad = || format!("user {user:?}: expected $<iterations>:<salt>$<StoredKey>:<ServerKey>");
    let (params, keys) = rest.split_once('$').ok_or_else(bad)?;
    let (iterations, salt) = params.split_once(':').ok_or_else(bad)?;
    let (stored_key, server_key) = keys.split_once(':').ok_or_else(bad)?;
    let iterations: u32 = iterations
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("user {user:?}: {iterations:?} is not an iteration count"))?;
    let salt = BASE64
        .decode(salt)
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("user {user:?}: the salt is not base64"))?;
    let key = |text: &str, name: &str| -> Result<Key, String> {
        BASE64
            .decode(text)
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| format!("user {user:?}: {name} is not 32 bytes in base64"))
    };
    Ok((
        user,
        Credentials {
            iterations,
            salt,
            stored_key: key(stored_key, "StoredKey")?,
            server_key: key(server_key, "ServerKey")?,
        },
    ))
}

#[cfg(unix)]
fn owner_only() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn owner_only() -> Option<std::fs::Permissions> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677's user "user" with password "pencil", as PostgreSQL writes it.
    const PENCIL: &str = "user:SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$\
                          WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:\
                          wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

    #[test]
    fn reads_users_comments_and_blank_lines() {
        let text = format!("# users\n\n{PENCIL}\n  # indented comment\n");
        let file = PasswordFile::parse(&text).unwrap();
        let c = file.get("user").unwrap();
        assert_eq!(c.iterations, 4096);
        assert!(c.verify_password(b"pencil"));
        assert!(file.get("nobody").is_none());
        assert_eq!(file.to_string(), text);
    }

    #[test]
    fn keys_match_the_rfc_test_vector() {
        let file = PasswordFile::parse(PENCIL).unwrap();
        let c = file.get("user").unwrap();
        let derived = Credentials::derive(b"pencil", &c.salt, 4096);
        assert_eq!(&derived, c);
    }

    #[test]
    fn malformed_lines_are_named() {
        let ok = PENCIL.replacen("user:", "u2:", 1);
        for (bad, says) in [
            ("alice", "expected user:"),
            (":SCRAM-SHA-256$4096:AA==$AA==:AA==", "cannot be empty"),
            ("alice:md5abc", "must start with SCRAM-SHA-256$"),
            ("alice:SCRAM-SHA-256$4096:W22Z", "expected $<iterations>"),
            (
                "alice:SCRAM-SHA-256$x:W22ZaJ0SNY7soEsUEjb6gQ==$a:b",
                "iteration count",
            ),
            (
                "alice:SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$a:b",
                "iteration count",
            ),
            ("alice:SCRAM-SHA-256$4096:!!$a:b", "salt"),
            (
                "alice:SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:AAAA",
                "StoredKey",
            ),
            (&PENCIL.replace("=:", "=:AAAA"), "ServerKey"),
            (PENCIL, "appears twice"),
        ] {
            let text = format!("# header\n{ok}\n{PENCIL}\n{bad}\n");
            let e = PasswordFile::parse(&text).unwrap_err();
            let shown = e.to_string();
            assert!(shown.starts_with("line 4: "), "{bad}: {shown}");
            assert!(shown.contains(says), "{bad}: {shown}");
        }
    }

    #[test]
    fn users_are_added_replaced_and_removed_in_place() {
        let mut file = PasswordFile::parse(&format!("# top\n{PENCIL}\n# end\n")).unwrap();
        file.set_password("alice", b"secret", 4096).unwrap();
        file.set_password("user", b"crayon", 4096).unwrap();
        let text = file.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "# top");
        assert!(lines[1].starts_with("user:SCRAM-SHA-256$4096:"));
        assert_eq!(lines[2], "# end");
        assert!(lines[3].starts_with("alice:SCRAM-SHA-256$4096:"));

        let file = PasswordFile::parse(&text).unwrap();
        assert!(file.get("user").unwrap().verify_password(b"crayon"));
        assert!(file.get("alice").unwrap().verify_password(b"secret"));
        let mut file = file;
        assert!(file.remove("user"));
        assert!(!file.remove("user"));
        assert_eq!(file.users().map(|(u, _)| u).collect::<Vec<_>>(), ["alice"]);
    }

    #[test]
    fn user_names_that_cannot_be_written() {
        for bad in ["", "a:b", "#a", " a", "a ", "a\nb"] {
            assert!(check_user_name(bad).is_err(), "{bad:?}");
        }
        for ok in ["a", "a b", "ünïcode", "a#"] {
            check_user_name(ok).unwrap();
        }
    }

    #[test]
    fn saved_files_read_back() {
        let dir = std::env::temp_dir().join(format!("tern-pw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("passwd");
        let mut file = PasswordFile::default();
        file.set_password("alice", b"secret", 4096).unwrap();
        file.save(&path).unwrap();
        let read = PasswordFile::load(&path).unwrap();
        assert!(read.get("alice").unwrap().verify_password(b"secret"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).ok();
        let e = PasswordFile::load(dir.join("missing")).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
    }
}
