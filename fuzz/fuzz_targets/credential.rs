//! Credentials (khs_/kha_/kht_/… with checksum): never panic; whatever parses keeps its
//! text, its kind's prefix, and a well-formed embedded id.
#![no_main]

use keyhold_core::credential::Credential;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(c) = Credential::parse(text) else {
        return;
    };
    assert_eq!(c.expose(), text);
    assert!(text.starts_with(c.kind().prefix()));
    assert!(Credential::parse_kind(text, c.kind()).is_ok());
    if let Some(id) = c.embedded_id() {
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    assert!(text.starts_with(&c.display_prefix()));
    // Changing the last character breaks the checksum (or the shape).
    let mut tampered = text[..text.len() - 1].to_owned();
    tampered.push(if text.ends_with('A') { 'B' } else { 'A' });
    assert!(
        Credential::parse(&tampered).is_err(),
        "checksum must catch a changed character"
    );
});
