//! The otpauth:// enrollment URI: the parser never panics on any text, and the builder's
//! output always parses back to the same account and secret (round trip).
#![no_main]

use keyhold_core::totp::{TotpSecret, otpauth_uri, parse_otpauth_uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_otpauth_uri(text);
    }
    // Round trip: first byte = secret length, then the secret, then the account name.
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let len = usize::from(len).min(rest.len());
    let (secret, account) = rest.split_at(len);
    let (Ok(secret), Ok(account)) = (
        TotpSecret::from_bytes(secret.to_vec()),
        std::str::from_utf8(account),
    ) else {
        return;
    };
    if account.is_empty() {
        return;
    }
    let uri = otpauth_uri(&secret, account);
    let back = parse_otpauth_uri(uri.expose()).expect("a built URI parses back");
    assert_eq!(back.account, account);
    assert_eq!(back.secret.expose_bytes(), secret.expose_bytes());
    let b32 = TotpSecret::from_base32(secret.to_base32().expose()).expect("base32 round trip");
    assert_eq!(b32.expose_bytes(), secret.expose_bytes());
});
