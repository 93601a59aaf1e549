//! Scopes: never panic; a parsed scope prints back to the same text, is a subset of
//! itself, and allows only what its pattern matches.
#![no_main]

use keyhold_core::scope::Scope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Two scopes in one input, split at the first newline, for the subset relation.
    let (a, b) = text.split_once('\n').unwrap_or((text, "secrets:read:*"));
    let Ok(sa) = Scope::parse(a) else {
        return;
    };
    assert_eq!(sa.to_string(), a, "one spelling per scope");
    assert_eq!(Scope::parse(&sa.to_string()).ok().as_ref(), Some(&sa));
    assert!(sa.is_subset_of(&sa), "subset is reflexive");
    if let Ok(sb) = Scope::parse(b) {
        // Mutual inclusion is equality: the pattern language is exact.
        if sa.is_subset_of(&sb) && sb.is_subset_of(&sa) {
            assert_eq!(sa, sb);
        }
    }
});
