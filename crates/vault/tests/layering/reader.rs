//! Reading Rust just well enough to see which top-level modules a file names: tokens
//! without comments, strings or char literals, `use` groups, the root's re-exports, and
//! `super::` chains that climb out to the root.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

/// Tokens of `text` with their line numbers. Comments (line, block, nested block, doc),
/// string literals (plain, byte, raw with any number of `#`) and char literals are dropped;
/// lifetimes are kept as a `'` and an identifier.
fn tokens(text: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&chars, i) {
            line += chars[i..end].iter().filter(|&&c| c == '\n').count();
            i = end;
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            i += if c == 'b' { 2 } else { 1 };
            while i < chars.len() && chars[i] != '"' {
                // An escaped newline (a string continued on the next line) is a line too.
                let step = if chars[i] == '\\' { 2 } else { 1 };
                line += chars[i..(i + step).min(chars.len())]
                    .iter()
                    .filter(|&&c| c == '\n')
                    .count();
                i += step;
            }
            i += 1;
        } else if c == '\'' || (c == 'b' && at(i + 1) == '\'') {
            let start = if c == 'b' { i + 1 } else { i };
            if at(start + 1) == '\\' {
                // An escaped char literal: to the closing quote.
                i = start + 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(start + 2) == '\'' {
                i = start + 3;
            } else {
                // A lifetime or label.
                out.push((Tok::Punct('\''), line));
                i = start + 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(chars[start..i].iter().collect()), line));
        } else if c == ':' && at(i + 1) == ':' {
            out.push((Tok::Path, line));
            i += 2;
        } else {
            out.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    out
}

/// The end of a raw string (`r"…"`, `r#"…"#`, `br##"…"##`) starting at `i`, if one does.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    let before_ok = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if !before_ok || chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

/// The first segment of each item of a `{…}` group starting at `toks[open]`: for
/// `{a, b::c, d::{e, f}, g as h}` that is `a`, `b`, `d`, `g`.
fn group_heads(toks: &[(Tok, usize)], open: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let (mut depth, mut expect_head) = (0, true);
    for (tok, line) in &toks[open..] {
        match tok {
            Tok::Punct('{') => {
                depth += 1;
                expect_head = depth == 1;
            }
            Tok::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Tok::Punct(',') if depth == 1 => expect_head = true,
            Tok::Ident(name) if expect_head => {
                out.push((name.clone(), *line));
                expect_head = false;
            }
            _ => expect_head = false,
        }
    }
    out
}

/// Names of the crate root that refer to a module's item: `pub use x::{A, B};` in
/// `lib.rs` makes `crate::A` a reference to `x`.
pub(crate) fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let toks = tokens(lib);
    let mut out = BTreeMap::new();
    for w in 0..toks.len() {
        let is_pub_use = matches!(&toks[w].0, Tok::Ident(p) if p == "pub")
            && matches!(toks.get(w + 1), Some((Tok::Ident(u), _)) if u == "use");
        let Some((Tok::Ident(module), _)) = toks.get(w + 2) else {
            continue;
        };
        if !is_pub_use || !modules.contains(module) {
            continue;
        }
        let mut k = w + 3;
        let mut last = None;
        while let Some((tok, _)) = toks.get(k) {
            match tok {
                Tok::Punct(';') => break,
                Tok::Punct('{') => {
                    for (name, _) in group_heads(&toks, k) {
                        out.insert(name, module.clone());
                    }
                    last = None;
                    break;
                }
                Tok::Ident(name) => last = Some(name.clone()),
                _ => {}
            }
            k += 1;
        }
        if let Some(name) = last {
            out.insert(name, module.clone());
        }
    }
    out
}

/// The top-level modules named in `text` (a file whose module path is `path`), each with
/// the lines that name it.
pub(crate) fn references(
    text: &str,
    path: &[String],
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> Vec<(String, usize)> {
    let toks = tokens(text);
    let resolve = |name: &str| -> Option<String> {
        if modules.contains(name) {
            Some(name.to_owned())
        } else {
            reexports.get(name).cloned()
        }
    };
    let mut out = Vec::new();
    let mut named_at = |k: usize| {
        for (name, line) in names_at(&toks, k) {
            out.extend(resolve(&name).map(|m| (m, line)));
        }
    };
    // Inline modules (`mod tests { … }`) deepen `super::` by one each.
    let mut inline: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let is =
            |k: usize, word: &str| matches!(toks.get(k), Some((Tok::Ident(w), _)) if w == word);
        let path_at = |k: usize| matches!(toks.get(k), Some((Tok::Path, _)));
        match &toks[i].0 {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last() == Some(&depth) {
                    inline.pop();
                }
            }
            Tok::Ident(m)
                if m == "mod"
                    && matches!(toks.get(i + 1), Some((Tok::Ident(_), _)))
                    && matches!(toks.get(i + 2), Some((Tok::Punct('{'), _))) =>
            {
                inline.push(depth);
            }
            Tok::Ident(_) if is(i, "crate") && path_at(i + 1) => named_at(i + 2),
            Tok::Ident(_) if is(i, "super") && !(i > 0 && path_at(i - 1)) => {
                // Count the chain of `super::`; if it climbs to the root, what follows
                // names a top-level module.
                let mut k = i;
                while is(k, "super") && path_at(k + 1) {
                    k += 2;
                }
                let ups = (k - i) / 2;
                if ups > 0 && ups == path.len() + inline.len() {
                    named_at(k);
                }
                i = k.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The names a path continues with at `toks[k]`: one identifier, or the heads of a group.
fn names_at(toks: &[(Tok, usize)], k: usize) -> Vec<(String, usize)> {
    match toks.get(k) {
        Some((Tok::Ident(name), line)) => vec![(name.clone(), *line)],
        Some((Tok::Punct('{'), _)) => group_heads(toks, k),
        _ => Vec::new(),
    }
}

mod tests {
    use super::*;

    fn mods(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn refs_of(text: &str, path: &[&str]) -> Vec<String> {
        let path: Vec<String> = path.iter().map(|p| (*p).to_owned()).collect();
        let reexports = BTreeMap::from([("Error".to_owned(), "error".to_owned())]);
        let mut out: Vec<String> = references(
            text,
            &path,
            &mods(&["audit", "error", "mfa", "store", "tenant"]),
            &reexports,
        )
        .into_iter()
        .map(|(m, _)| m)
        .collect();
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn reader_finds_paths_groups_reexports_and_climbs_to_the_root() {
        let text = r#"
            use crate::audit::NewEvent;
            use crate::{mfa, store::{Conflict, StoreError}};
            fn f() -> crate::Error { todo!() }
        "#;
        assert_eq!(
            refs_of(text, &["accounts"]),
            ["audit", "error", "mfa", "store"]
        );
        // `super::` from a top-level file is the root's items, not a module...
        assert_eq!(
            refs_of("use super::Vault;", &["accounts"]),
            Vec::<String>::new()
        );
        // ...but climbing out of a submodule to the root and down again is a reference.
        assert_eq!(
            refs_of("use super::super::tenant::x;", &["mfa", "prove"]),
            ["tenant"]
        );
        assert_eq!(
            refs_of("use super::super::{audit, mfa};", &["a", "b"]),
            ["audit", "mfa"]
        );
        // Inside an inline module, `super::` is the file's own module.
        let inline = "mod tests { use super::super::store; }";
        assert_eq!(refs_of(inline, &["mfa", "prove"]), Vec::<String>::new());
        assert_eq!(refs_of(inline, &["mfa"]), ["store"]);
    }

    #[test]
    fn reader_skips_comments_strings_and_char_literals() {
        let text = r###"
            //! Lives beside `crate::mfa`.
            /* crate::store /* nested crate::audit */ crate::tenant */
            /// See crate::error.
            const A: &str = "crate::store";
            const B: &str = r#"crate::audit " still in"#;
            const C: &[u8] = b"crate::tenant";
            const D: char = '"';
            const E: char = '\'';
            fn f<'a>(x: &'a str) -> &'a str { x }
            use crate::mfa;
        "###;
        assert_eq!(refs_of(text, &["accounts"]), ["mfa"]);
    }

    #[test]
    fn reader_counts_lines_through_comments_and_continued_strings() {
        let text = "/* one\n two */\nconst A: &str = \"a \\\n b\";\nuse crate::mfa;\n";
        let found = references(text, &["x".to_owned()], &mods(&["mfa"]), &BTreeMap::new());
        assert_eq!(found, [("mfa".to_owned(), 5)]);
    }
}
