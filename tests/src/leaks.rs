//! Byte search for credentials and secret values where they must never be: the database,
//! its write-ahead log, the outbox, the server's log. Shared by every no-leak test.
//!
//! Each value is searched in the spellings a careless leak would take (as is, hex, base64),
//! all at once with one Aho-Corasick automaton, so megabytes of database cost one pass.
//! Failures name the label and the spelling, never the value.

use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// Shorter needles would match by chance in megabytes of random-looking bytes.
const MIN_NEEDLE: usize = 8;

/// Things that must not be found, each under a label that says what it is.
#[derive(Default)]
pub struct Needles {
    labels: Vec<String>,
    patterns: Vec<Vec<u8>>,
}

impl Needles {
    pub fn new() -> Self {
        Self::default()
    }

    /// `secret` as is, in lower and upper hex, and in standard and URL-safe base64.
    pub fn add(&mut self, label: &str, secret: impl AsRef<[u8]>) {
        let s = secret.as_ref();
        self.add_exact(&format!("{label} (as is)"), s);
        self.add_exact(&format!("{label} (hex)"), hex::encode(s));
        self.add_exact(&format!("{label} (HEX)"), hex::encode_upper(s));
        self.add_exact(&format!("{label} (base64)"), STANDARD_NO_PAD.encode(s));
        self.add_exact(&format!("{label} (base64url)"), URL_SAFE_NO_PAD.encode(s));
    }

    /// `bytes` exactly, in no other spelling.
    pub fn add_exact(&mut self, label: &str, bytes: impl AsRef<[u8]>) {
        let b = bytes.as_ref();
        assert!(
            b.len() >= MIN_NEEDLE,
            "{label}: needles under {MIN_NEEDLE} bytes would match by chance"
        );
        self.labels.push(label.to_owned());
        self.patterns.push(b.to_vec());
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Labels of the needles found in `haystack`, each once, in the order added.
    pub fn found_in(&self, haystack: &[u8]) -> Vec<&str> {
        if self.patterns.is_empty() {
            return Vec::new();
        }
        let ac = AhoCorasick::new(&self.patterns).unwrap();
        let mut hit = vec![false; self.patterns.len()];
        for m in ac.find_overlapping_iter(haystack) {
            hit[m.pattern().as_usize()] = true;
        }
        self.labels
            .iter()
            .zip(hit)
            .filter(|(_, h)| *h)
            .map(|(l, _)| l.as_str())
            .collect()
    }

    /// Panic naming every needle found in `haystack`; `place` says where it was looked.
    pub fn assert_none_in(&self, place: &str, haystack: &[u8]) {
        let found = self.found_in(haystack);
        assert!(found.is_empty(), "found in {place}: {found:?}");
    }
}

/// Every regular file under `dir` (recursively), with its bytes, sorted by path.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_spelling_and_names_only_the_label() {
        let secret = b"kht_~~~???>>>secret";
        let mut n = Needles::new();
        n.add("token", secret);
        let url = format!("xx {} yy", URL_SAFE_NO_PAD.encode(secret));
        assert_eq!(n.found_in(url.as_bytes()), ["token (base64url)"]);
        let std = format!("xx {} yy", STANDARD_NO_PAD.encode(secret));
        assert_eq!(n.found_in(std.as_bytes()), ["token (base64)"]);
        let hex = format!("..{}..", hex::encode(secret));
        assert_eq!(n.found_in(hex.as_bytes()), ["token (hex)"]);
        assert_eq!(n.found_in(b"a kht_~~~???>>>secret b"), ["token (as is)"]);
        assert!(n.found_in(b"kht_~~~???>>>secre").is_empty());
    }
}
