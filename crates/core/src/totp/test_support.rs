//! What the TOTP tests share: the key from RFC 6238's test vectors.

use super::TotpSecret;

pub(super) fn rfc_secret() -> TotpSecret {
    TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
}
