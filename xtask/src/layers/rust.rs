//! Reading Rust source: a lexer that drops comments and keeps literals whole, the removal of
//! test code, and the references a file makes to modules through the crate root.

/// A token of Rust source, reduced to what finding paths needs. Comments are dropped.
#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// An identifier or keyword (`r#name` is `name`).
    Ident(String),
    /// `::`.
    PathSep,
    /// Any other punctuation, one character at a time.
    Punct(char),
    /// A string, char or number literal, as written.
    Literal(String),
    /// A lifetime or loop label, which must not be taken for a char literal.
    Lifetime,
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    tok: Tok,
    line: usize,
}

impl Token {
    /// The identifier or keyword this token is, if it is one.
    fn ident(&self) -> Option<&str> {
        match &self.tok {
            Tok::Ident(word) => Some(word),
            _ => None,
        }
    }

    fn is(&self, punct: char) -> bool {
        self.tok == Tok::Punct(punct)
    }
}

/// Splits Rust source into tokens, dropping comments (doc comments too: a doc link
/// `[`crate::auth`]` is not an import) and keeping each literal as one token, so that the text
/// inside it is never read as code.
pub(super) fn lex(text: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        chars: text.chars().collect(),
        at: 0,
        line: 1,
    };
    let mut tokens = Vec::new();
    while let Some(c) = lexer.peek(0) {
        let line = lexer.line;
        let start = lexer.at;
        let tok = match c {
            c if c.is_whitespace() => {
                lexer.bump();
                continue;
            }
            '/' if lexer.peek(1) == Some('/') => {
                lexer.skip_line();
                continue;
            }
            '/' if lexer.peek(1) == Some('*') => {
                lexer.skip_block_comment();
                continue;
            }
            '"' => {
                lexer.skip_string();
                Tok::Literal(lexer.text_from(start))
            }
            '\'' => lexer.quote(),
            ':' if lexer.peek(1) == Some(':') => {
                lexer.bump();
                lexer.bump();
                Tok::PathSep
            }
            c if c.is_ascii_digit() => {
                lexer.skip_number();
                Tok::Literal(lexer.text_from(start))
            }
            c if c == '_' || c.is_alphabetic() => lexer.word(),
            c => {
                lexer.bump();
                Tok::Punct(c)
            }
        };
        tokens.push(Token { tok, line });
    }
    tokens
}

struct Lexer {
    chars: Vec<char>,
    at: usize,
    /// The line of `chars[at]`, counted as characters are consumed.
    line: usize,
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn text_from(&self, start: usize) -> String {
        self.chars[start..self.at].iter().collect()
    }

    fn is_word_char(c: char) -> bool {
        c == '_' || c.is_alphanumeric()
    }

    fn skip_word(&mut self) {
        while self.peek(0).is_some_and(Self::is_word_char) {
            self.bump();
        }
    }

    fn skip_line(&mut self) {
        while self.peek(0).is_some_and(|c| c != '\n') {
            self.bump();
        }
    }

    /// Skips `/* ... */`, which nests in Rust.
    fn skip_block_comment(&mut self) {
        let mut depth = 0;
        while let Some(c) = self.bump() {
            if c == '/' && self.peek(0) == Some('*') {
                self.bump();
                depth += 1;
            } else if c == '*' && self.peek(0) == Some('/') {
                self.bump();
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
        }
    }

    /// Skips a string with escapes, from its opening quote.
    fn skip_string(&mut self) {
        self.bump();
        while let Some(c) = self.bump() {
            match c {
                '\\' => {
                    self.bump();
                }
                '"' => return,
                _ => {}
            }
        }
    }

    /// Skips `r#"..."#` from the first `#` or quote: no escapes, ends at a quote followed by
    /// as many `#` as it opened with.
    fn skip_raw_string(&mut self) {
        let mut hashes = 0;
        while self.peek(0) == Some('#') {
            self.bump();
            hashes += 1;
        }
        self.bump(); // The opening quote.
        while let Some(c) = self.bump() {
            if c == '"' && (0..hashes).all(|i| self.peek(i) == Some('#')) {
                for _ in 0..hashes {
                    self.bump();
                }
                return;
            }
        }
    }

    /// A number, with its suffix and fraction (`1.5e3f64`), but not the `..` of a range.
    fn skip_number(&mut self) {
        self.skip_word();
        while self.peek(0) == Some('.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            self.skip_word();
        }
    }

    /// From a `'`: a char literal (`'a'`, `'\n'`, `'\u{1F600}'`) or a lifetime (`'a`,
    /// `'static`, a label).
    fn quote(&mut self) -> Tok {
        let start = self.at;
        self.bump();
        if self.peek(0) == Some('\\') {
            self.bump();
            self.bump(); // The escaped character, which may be a quote.
            while self.peek(0).is_some_and(|c| c != '\'' && c != '\n') {
                self.bump();
            }
            self.bump();
        } else if self.peek(1) == Some('\'') {
            self.bump();
            self.bump();
        } else {
            self.skip_word();
            return Tok::Lifetime;
        }
        Tok::Literal(self.text_from(start))
    }

    /// A word: an identifier or keyword, a raw identifier `r#name`, or the prefix of a
    /// literal (`b"..."`, `c"..."`, `b'x'`, `r"..."`, `r#"..."#`, `br#"..."#`).
    fn word(&mut self) -> Tok {
        let start = self.at;
        self.skip_word();
        let word = self.text_from(start);
        let raw_prefix = matches!(word.as_str(), "r" | "br" | "cr");
        match self.peek(0) {
            Some('#') if word == "r" && self.peek(1).is_some_and(Self::is_word_char) => {
                self.bump();
                let name_start = self.at;
                self.skip_word();
                Tok::Ident(self.text_from(name_start))
            }
            Some('"' | '#') if raw_prefix => {
                self.skip_raw_string();
                Tok::Literal(self.text_from(start))
            }
            Some('"') if word == "b" || word == "c" => {
                self.skip_string();
                Tok::Literal(self.text_from(start))
            }
            Some('\'') if word == "b" => {
                self.quote();
                Tok::Literal(self.text_from(start))
            }
            _ => Tok::Ident(word),
        }
    }
}

/// A `#[cfg(test)] mod name;`: the module's file(s) hold only test code.
#[derive(Debug, PartialEq)]
pub(super) struct TestModule {
    pub(super) name: String,
    /// Its `#[path = "..."]`, if it has one.
    pub(super) path: Option<String>,
}

/// The tokens without test code, and the test modules declared in other files: removes each
/// item marked `#[cfg(test)]` (or `#[cfg(all(test, ...))]`) with all its attributes, and the
/// rest of the block after an inner `#![cfg(test)]`.
pub(super) fn strip_test_code(tokens: &[Token]) -> (Vec<Token>, Vec<TestModule>) {
    let mut kept = Vec::new();
    let mut test_modules = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Some(first) = attribute_at(tokens, i) else {
            kept.push(tokens[i].clone());
            i += 1;
            continue;
        };
        if first.inner {
            if first.test_only {
                i = block_end(tokens, first.end);
            } else {
                kept.extend_from_slice(&tokens[i..first.end]);
                i = first.end;
            }
            continue;
        }
        // An item's outer attributes come in a run, in any order: `#[path]` may precede
        // `#[cfg(test)]`.
        let mut test_only = first.test_only;
        let mut path = first.path;
        let mut item = first.end;
        while let Some(next) = attribute_at(tokens, item).filter(|a| !a.inner) {
            test_only |= next.test_only;
            path = path.or(next.path);
            item = next.end;
        }
        if test_only {
            if let Some(name) = declared_module(tokens, item) {
                test_modules.push(TestModule { name, path });
            }
            i = item_end(tokens, item);
        } else {
            kept.extend_from_slice(&tokens[i..item]);
            i = item;
        }
    }
    (kept, test_modules)
}

/// An attribute `#[...]` or `#![...]`.
struct Attribute {
    /// The index just after its `]`.
    end: usize,
    inner: bool,
    /// `cfg(test)`, or `cfg(all(..., test, ...))`.
    test_only: bool,
    /// The value of `path = "..."`.
    path: Option<String>,
}

/// The attribute starting at `tokens[at]`, if one does.
fn attribute_at(tokens: &[Token], at: usize) -> Option<Attribute> {
    if tokens.get(at)?.tok != Tok::Punct('#') {
        return None;
    }
    let inner = tokens.get(at + 1)?.tok == Tok::Punct('!');
    let open = if inner { at + 2 } else { at + 1 };
    if tokens.get(open)?.tok != Tok::Punct('[') {
        return None;
    }
    let close = closing(tokens, open).min(tokens.len());
    let content = &tokens[open + 1..close];
    let test_only = match content {
        [cfg, open, predicate @ .., close] => {
            cfg.ident() == Some("cfg")
                && open.is('(')
                && close.is(')')
                && cfg_is_test_only(predicate)
        }
        _ => false,
    };
    let path = match content {
        [key, equals, Token {
            tok: Tok::Literal(value),
            ..
        }] if key.ident() == Some("path") && equals.is('=') => {
            Some(value.trim_matches('"').to_string())
        }
        _ => None,
    };
    Some(Attribute {
        end: (close + 1).min(tokens.len()),
        inner,
        test_only,
        path,
    })
}

/// Whether a `cfg` predicate holds only in tests: `test`, or `all(...)` with one that does.
fn cfg_is_test_only(predicate: &[Token]) -> bool {
    match predicate {
        [word] => word.ident() == Some("test"),
        [all, open, arguments @ .., close]
            if all.ident() == Some("all") && open.is('(') && close.is(')') =>
        {
            split_top_level(arguments, ',')
                .into_iter()
                .any(cfg_is_test_only)
        }
        _ => false,
    }
}

/// `tokens` split at each `separator` outside brackets.
fn split_top_level(tokens: &[Token], separator: char) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => depth -= 1,
            Tok::Punct(c) if c == separator && depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// The index of the bracket closing the one at `open` (or the end of the tokens).
fn closing(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// The index of the bracket closing the block that `at` is in (or the end of the tokens).
fn block_end(tokens: &[Token], at: usize) -> usize {
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(at) {
        match token.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') if depth == 0 => return i,
            Tok::Punct(')' | ']' | '}') => depth -= 1,
            _ => {}
        }
    }
    tokens.len()
}

/// How the thing after an attribute ends.
#[derive(PartialEq)]
enum ItemKind {
    /// `fn`, `mod`, `impl`, `struct`...: at a `;` or at the `}` of its body.
    Item,
    /// `use`, `let`, `const`, `static`, `type`: at a `;` (braces may come before it).
    Statement,
    /// A field, variant, match arm or expression: at a `,` or `;`, or the `}` of its body.
    Member,
}

/// The keyword that says what the item at `at` is, after its visibility and qualifiers
/// (`pub(crate) unsafe extern "C" fn` → `fn`), and the index after that keyword.
fn item_keyword(tokens: &[Token], mut at: usize) -> Option<(&str, usize)> {
    while let Some(token) = tokens.get(at) {
        match &token.tok {
            Tok::Ident(word) if word == "pub" => {
                at += 1;
                if tokens.get(at).is_some_and(|t| t.tok == Tok::Punct('(')) {
                    at = closing(tokens, at) + 1;
                }
            }
            Tok::Ident(word) if matches!(word.as_str(), "unsafe" | "async" | "extern") => at += 1,
            Tok::Literal(_) => at += 1, // The ABI of `extern "C"`.
            Tok::Ident(word) => return Some((word.as_str(), at + 1)),
            _ => return None,
        }
    }
    None
}

fn item_kind(tokens: &[Token], at: usize) -> ItemKind {
    match item_keyword(tokens, at) {
        Some(("const", next)) => match tokens.get(next).map(|t| &t.tok) {
            Some(Tok::Ident(word)) if matches!(word.as_str(), "fn" | "unsafe" | "async") => {
                ItemKind::Item
            }
            _ => ItemKind::Statement,
        },
        Some(("use" | "let" | "static" | "type", _)) => ItemKind::Statement,
        Some((
            "fn" | "mod" | "impl" | "struct" | "enum" | "trait" | "union" | "macro_rules",
            _,
        )) => ItemKind::Item,
        _ => ItemKind::Member,
    }
}

/// The index just after the item (or field, variant, statement) starting at `at`. Stops
/// before a bracket that closes the enclosing block.
fn item_end(tokens: &[Token], at: usize) -> usize {
    let kind = item_kind(tokens, at);
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(at) {
        match token.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') if depth == 0 => return i,
            Tok::Punct(c @ (')' | ']' | '}')) => {
                depth -= 1;
                if depth == 0 && c == '}' && kind != ItemKind::Statement {
                    return i + 1;
                }
            }
            Tok::Punct(';') if depth == 0 => return i + 1,
            Tok::Punct(',') if depth == 0 && kind == ItemKind::Member => return i + 1,
            _ => {}
        }
    }
    tokens.len()
}

/// The name of `mod name;` at `at` (a declaration whose file is elsewhere).
fn declared_module(tokens: &[Token], at: usize) -> Option<String> {
    let ("mod", next) = item_keyword(tokens, at)? else {
        return None;
    };
    let name = tokens.get(next)?.ident()?;
    tokens.get(next + 1)?.is(';').then(|| name.to_string())
}

/// The names that the paths in `tokens` reach at the crate root, with their lines:
/// `crate::NAME`, each first segment of `crate::{...}`, and the same after a `super::` chain
/// that climbs from `module` (the file's module path) to the root. Inline `mod x { ... }`
/// blocks add to the climb.
pub(super) fn root_references(tokens: &[Token], module: &[String]) -> Vec<(String, usize)> {
    let mut references = Vec::new();
    // The inline modules the scan is in, with the brace depth inside each.
    let mut inline: Vec<usize> = Vec::new();
    let mut depth: usize = 0;
    let mut i = 0;
    while i < tokens.len() {
        let after_path_sep = i > 0 && tokens[i - 1].tok == Tok::PathSep;
        match &tokens[i].tok {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                inline.retain(|&inside| inside <= depth);
            }
            Tok::Ident(word) if word == "mod" => {
                let named = tokens.get(i + 1).and_then(Token::ident).is_some();
                if named && tokens.get(i + 2).is_some_and(|t| t.is('{')) {
                    inline.push(depth + 1);
                }
            }
            Tok::Ident(word) if word == "crate" && !after_path_sep => {
                if let Some((names, next)) = path_heads(tokens, i + 1) {
                    references.extend(names);
                    i = next;
                    continue;
                }
            }
            Tok::Ident(word) if word == "super" && !after_path_sep => {
                let mut climbs = 1;
                let mut at = i + 1;
                while tokens.get(at).is_some_and(|t| t.tok == Tok::PathSep)
                    && tokens.get(at + 1).and_then(Token::ident) == Some("super")
                {
                    climbs += 1;
                    at += 2;
                }
                // Climbing fewer levels stays inside the file's own top-level module.
                if climbs == module.len() + inline.len() {
                    if let Some((names, next)) = path_heads(tokens, at) {
                        references.extend(names);
                        i = next;
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    references
}

/// After a path's root (`crate`, or the last `super`) at `tokens[at - 1]`: the names that
/// `::NAME` or `::{A, B::C, ...}` reach, and the index after the name or the group.
fn path_heads(tokens: &[Token], at: usize) -> Option<(Vec<(String, usize)>, usize)> {
    if tokens.get(at)?.tok != Tok::PathSep {
        return None;
    }
    let next = tokens.get(at + 1)?;
    match &next.tok {
        Tok::Ident(name) => Some((vec![(name.clone(), next.line)], at + 2)),
        Tok::Punct('{') => {
            let close = closing(tokens, at + 1);
            let group = tokens.get(at + 2..close).unwrap_or_default();
            let heads = split_top_level(group, ',')
                .into_iter()
                .filter_map(|item| {
                    let first = item.first()?;
                    let name = first.ident().filter(|name| *name != "self")?;
                    Some((name.to_string(), first.line))
                })
                .collect();
            Some((heads, close + 1))
        }
        _ => None,
    }
}
