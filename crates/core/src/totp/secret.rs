//! The key shared with the user's authenticator: made fresh, read from bytes or base32,
//! written back as base32, and never shown by `Debug`.

use std::fmt;

use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::SECRET_BYTES;
use crate::Sensitive;

/// RFC 4226 forbids shorter keys; longer than one HMAC-SHA1 block only gets hashed down.
const MIN_SECRET_BYTES: usize = 16;
const MAX_SECRET_BYTES: usize = 64;
const BASE32: base32::Alphabet = base32::Alphabet::Rfc4648 { padding: false };

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a TOTP secret is base32 (RFC 4648, A-Z and 2-7)")]
    NotBase32,
    #[error("a TOTP secret is 16 to 64 bytes long")]
    BadLength,
}

/// The shared key between the server and the user's authenticator. `Debug` is redacted and
/// the bytes are wiped on drop; there is deliberately no `Serialize`, so the secret leaves
/// only through [`TotpSecret::to_base32`] or [`otpauth_uri`](super::otpauth_uri), at enrollment.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Sensitive<Vec<u8>>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

impl TotpSecret {
    /// A fresh 160-bit secret from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self(Sensitive::new(bytes))
    }

    /// From raw key bytes, as stored (encrypted) by the server.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretError> {
        let bytes = Sensitive::new(bytes);
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.expose().len()) {
            return Err(SecretError::BadLength);
        }
        Ok(Self(bytes))
    }

    /// From the base32 text people copy into an authenticator. Case, spaces and `=`
    /// padding are forgiven; anything that would not re-encode to the same text is not, so
    /// each secret has exactly one spelling.
    pub fn from_base32(text: &str) -> Result<Self, SecretError> {
        let canonical: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect::<String>()
                .trim_end_matches('=')
                .to_ascii_uppercase(),
        );
        let bytes = base32::decode(BASE32, &canonical).ok_or(SecretError::NotBase32)?;
        let bytes = Sensitive::new(bytes);
        let again = Zeroizing::new(base32::encode(BASE32, bytes.expose()));
        if *again != *canonical {
            return Err(SecretError::NotBase32);
        }
        Self::from_bytes(bytes.expose().clone())
    }

    /// Upper-case RFC 4648 base32 without padding, as authenticators expect.
    pub fn to_base32(&self) -> Sensitive<String> {
        Sensitive::new(base32::encode(BASE32, self.0.expose()))
    }

    pub fn expose_bytes(&self) -> &[u8] {
        self.0.expose()
    }
}

/// A fresh 160-bit secret from the operating system's CSPRNG.
pub fn generate_secret() -> TotpSecret {
    TotpSecret::generate()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::totp::test_support::rfc_secret;

    #[test]
    fn generated_secrets_are_160_bits_and_differ() {
        let a = generate_secret();
        let b = generate_secret();
        assert_eq!(a.expose_bytes().len(), 20);
        assert_ne!(a, b);
        assert_eq!(a.to_base32().expose().len(), 32);
    }

    #[test]
    fn base32_round_trip_and_forgiveness() {
        let s = rfc_secret();
        let b32 = s.to_base32();
        assert_eq!(b32.expose(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSecret::from_base32(b32.expose()).unwrap(), s);
        assert_eq!(
            TotpSecret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(),
            s
        );
        assert_eq!(
            TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====").unwrap(),
            s
        );
        assert_eq!(
            TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1"),
            Err(SecretError::NotBase32)
        );
        assert_eq!(
            TotpSecret::from_base32("GEZDGNBV"),
            Err(SecretError::BadLength)
        );
        assert_eq!(TotpSecret::from_base32(""), Err(SecretError::BadLength));
        assert_eq!(
            TotpSecret::from_bytes(vec![0; 15]),
            Err(SecretError::BadLength)
        );
        assert_eq!(
            TotpSecret::from_bytes(vec![0; 65]),
            Err(SecretError::BadLength)
        );
    }
}
