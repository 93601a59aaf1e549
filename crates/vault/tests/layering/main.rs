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

mod reader;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use reader::{references, root_reexports};

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
    // The reader must see the crate, or an empty graph would pass: every domain module
    // reaches the store, so there are at least as many references as modules.
    let edges: usize = sites.values().map(BTreeMap::len).sum();
    assert!(
        sites.len() >= 10 && edges >= sites.len() && sites["accounts"].contains_key("store"),
        "the layering reader sees {} modules and {edges} references: is it reading src/?",
        sites.len()
    );
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
