//! The vault's modules import one way: no two top-level modules reach each other, directly
//! or through others, and the store imports nothing of the domain (issue 16).
//!
//! Why a test: the crate boundary (keyhold-vault has no axum) keeps HTTP out, but inside
//! the crate the compiler accepts any cycle, and cycles are how `accounts`, `mfa`,
//! `approvals` and `http::extract` once grew into one knot. This reads the sources, so it
//! needs no dependency and runs with the rest of the suite.
//!
//! What counts:
//! - A module is `src/x.rs` or `src/x/` (with everything under it); `lib.rs` is the root,
//!   not a module.
//! - A module references another when any of its files names `crate::other` (in a path or
//!   a `use`, including each item of a `use crate::{a, b::c}` group), names an item the
//!   root re-exports from it (`crate::Error` is `error`'s), or climbs with `super::` out to
//!   the root and down into another module. `super::` from a top-level file stays in the
//!   crate root's items, which are not modules. Comments, doc comments, strings and char
//!   literals are skipped, so prose that mentions `crate::x` does not count.
//! - `#[cfg(test)]` code counts like any other. A unit test is compiled into its module
//!   and read as part of it; one that needs a module which depends back on its own is
//!   testing across layers and belongs beside the higher module or in `tests/`. Counting
//!   it also keeps this reader simple (no attribute or `cfg` evaluation).
//!
//! A failure names every cycle (each strongly connected component of more than one
//! module) with the file and line of every reference inside it.

// A test binary: a source it cannot read is a failure, said by `expect`.
#![allow(clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Where one module references another: file (relative to the crate) and line.
type Sites = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The crate's top-level modules: `src/x.rs` and `src/x/`.
fn top_level_modules(src: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in fs::read_dir(src).expect("src is readable") {
        let path = entry.expect("src entry is readable").path();
        let name = path
            .file_stem()
            .and_then(|n| n.to_str())
            .expect("file names are UTF-8")
            .to_owned();
        if path.is_dir() || (path.extension().is_some_and(|e| e == "rs") && name != "lib") {
            out.insert(name);
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("source dir is readable") {
        let path = entry.expect("source entry is readable").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `mfa/prove.rs` is `[mfa, prove]`, `mfa/mod.rs` is `[mfa]`,
/// `lib.rs` is `[]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_str().expect("paths are UTF-8").to_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" && stem != "lib" {
            parts.push(stem.to_owned());
        }
    }
    parts
}

// ---------------------------------------------------------------------------------------
// Reading Rust just well enough: tokens without comments, strings or char literals.

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
                line += usize::from(chars[i] == '\n');
                i += if chars[i] == '\\' { 2 } else { 1 };
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
fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
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
fn references(
    text: &str,
    path: &[String],
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> Vec<(String, usize)> {
    let toks = tokens(text);
    let mut out = Vec::new();
    let resolve = |name: &str| -> Option<String> {
        if modules.contains(name) {
            Some(name.to_owned())
        } else {
            reexports.get(name).cloned()
        }
    };
    // Inline modules (`mod tests { … }`) deepen `super::` by one each.
    let mut inline: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
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
            Tok::Ident(c) if c == "crate" && toks.get(i + 1).map(|t| &t.0) == Some(&Tok::Path) => {
                match toks.get(i + 2) {
                    Some((Tok::Ident(name), line)) => {
                        out.extend(resolve(name).map(|m| (m, *line)));
                    }
                    Some((Tok::Punct('{'), _)) => {
                        for (name, line) in group_heads(&toks, i + 2) {
                            out.extend(resolve(&name).map(|m| (m, line)));
                        }
                    }
                    _ => {}
                }
            }
            Tok::Ident(s)
                if s == "super"
                    && !matches!(i.checked_sub(1).map(|p| &toks[p].0), Some(Tok::Path)) =>
            {
                // Count the chain of `super::`; if it climbs to the root, what follows
                // names a top-level module.
                let mut k = i;
                let mut ups = 0;
                while matches!(toks.get(k).map(|t| &t.0), Some(Tok::Ident(s)) if s == "super")
                    && toks.get(k + 1).map(|t| &t.0) == Some(&Tok::Path)
                {
                    ups += 1;
                    k += 2;
                }
                if ups == 0 {
                    i += 1;
                    continue;
                }
                let level = path.len() + inline.len();
                if ups == level {
                    match toks.get(k) {
                        Some((Tok::Ident(name), line)) => {
                            out.extend(resolve(name).map(|m| (m, *line)));
                        }
                        Some((Tok::Punct('{'), _)) => {
                            for (name, line) in group_heads(&toks, k) {
                                out.extend(resolve(&name).map(|m| (m, line)));
                            }
                        }
                        _ => {}
                    }
                }
                i = k;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Module → module it references → where (file:line, deduplicated).
fn graph() -> Sites {
    let src = src_dir();
    let modules = top_level_modules(&src);
    let lib = fs::read_to_string(src.join("lib.rs")).expect("lib.rs is readable");
    let reexports = root_reexports(&lib, &modules);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut sites: Sites = modules
        .iter()
        .map(|m| (m.clone(), BTreeMap::new()))
        .collect();
    for file in files {
        let relative = file.strip_prefix(&src).expect("files are under src");
        let path = module_path(relative);
        let Some(own) = path.first() else {
            continue; // lib.rs: the root is not a module
        };
        let text = fs::read_to_string(&file).expect("source is readable");
        for (other, line) in references(&text, &path, &modules, &reexports) {
            if &other != own {
                let at = format!("src/{}:{line}", relative.display());
                let list = sites
                    .entry(own.clone())
                    .or_default()
                    .entry(other)
                    .or_default();
                if !list.contains(&at) {
                    list.push(at);
                }
            }
        }
    }
    sites
}

/// Strongly connected components of more than one module (Tarjan), each sorted.
fn cycles(sites: &Sites) -> Vec<Vec<String>> {
    struct State<'a> {
        sites: &'a Sites,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in s.sites.get(v).into_iter().flat_map(|m| m.keys()) {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        sites,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in sites.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found.sort();
    s.found
}

/// Every cycle, with the references that make it.
fn describe(sites: &Sites, found: &[Vec<String>]) -> String {
    let mut msg = format!(
        "{} import cycle(s) between the vault's top-level modules. Imports go one way \
         (issue 16): move the code that needs both modules into the one that \
         uses the other, or into a module of its own above them.\n",
        found.len()
    );
    for component in found {
        msg += &format!("\n  cycle among: {}\n", component.join(", "));
        for from in component {
            for (to, at) in &sites[from] {
                if component.contains(to) {
                    msg += &format!("    {from} -> {to}: {}\n", at.join(", "));
                }
            }
        }
    }
    msg
}

#[test]
fn no_two_modules_of_the_vault_import_each_other() {
    let sites = graph();
    // The reader must see the crate, or an empty graph would pass: these are known.
    for (from, to) in [
        ("accounts", "store"),
        ("login", "mfa"),
        ("secrets", "approvals"),
    ] {
        assert!(
            sites.get(from).is_some_and(|m| m.contains_key(to)),
            "the layering reader no longer sees {from} -> {to}: is it reading src/?"
        );
    }
    let found = cycles(&sites);
    assert!(found.is_empty(), "{}", describe(&sites, &found));
}

#[test]
fn the_store_imports_nothing_of_the_domain() {
    let sites = graph();
    let outgoing = &sites["store"];
    assert!(
        outgoing.is_empty(),
        "the store must not import the domain (imports go domain -> store); plain data \
         types it writes belong in store/ itself. Found:\n{}",
        outgoing
            .iter()
            .map(|(to, at)| format!("  store -> {to}: {}\n", at.join(", ")))
            .collect::<String>()
    );
}

// ---------------------------------------------------------------------------------------
// The reader itself, on small inputs.

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
fn cycles_are_found_and_named_with_their_sites() {
    let mut sites: Sites = BTreeMap::new();
    let mut edge = |a: &str, b: &str| {
        sites
            .entry(a.to_owned())
            .or_default()
            .insert(b.to_owned(), vec![format!("src/{a}.rs:1")]);
        sites.entry(b.to_owned()).or_default();
    };
    edge("accounts", "mfa");
    edge("mfa", "accounts");
    edge("approvals", "tenant");
    edge("tenant", "audit");
    edge("audit", "approvals");
    edge("secrets", "approvals");
    let found = cycles(&sites);
    assert_eq!(
        found,
        [
            vec!["accounts".to_owned(), "mfa".to_owned()],
            vec![
                "approvals".to_owned(),
                "audit".to_owned(),
                "tenant".to_owned()
            ],
        ]
    );
    let msg = describe(&sites, &found);
    assert!(msg.contains("accounts -> mfa: src/accounts.rs:1"), "{msg}");
    assert!(msg.contains("audit -> approvals: src/audit.rs:1"), "{msg}");
    assert!(!msg.contains("secrets"), "{msg}");
}
