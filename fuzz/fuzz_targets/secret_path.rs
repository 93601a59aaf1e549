//! Secret paths and path prefixes: never panic, and whatever parses prints back to the
//! same text and parses again to an equal value (one spelling per path).
#![no_main]

use keyhold_core::path::{PathPrefix, SecretPath};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = SecretPath::parse(text) {
        assert_eq!(p.as_str(), text, "a parsed path keeps its exact spelling");
        let again = SecretPath::parse(&p.to_string()).expect("a printed path parses");
        assert_eq!(again, p);
        assert_eq!(p.segments().count(), p.segment_count());
        if let Some(parent) = p.parent() {
            assert!(p.is_below(&parent), "a path is below its parent");
        }
        assert!(!p.is_below(&p), "a path is not strictly below itself");
    }
    if let Ok(prefix) = PathPrefix::parse(text) {
        let again = PathPrefix::parse(&prefix.as_string()).expect("a printed prefix parses");
        assert_eq!(again.as_string(), prefix.as_string());
    }
});
