//! Bearer credentials: their text format, generation and offline recognition.
//!
//! Format: `<prefix>_<43 chars base64url of 32 random bytes><6 chars checksum>`. The
//! checksum (the first 36 bits of SHA-256 over prefix and body) lets a secret scanner tell
//! a real Keyhold credential from a look-alike without asking the server, and lets the
//! server refuse garbage before touching the store. The regex for scanners is in
//! docs/credentials.md.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Sensitive;

const BODY_LEN: usize = 43;
const CHECK_LEN: usize = 6;

/// What a credential grants; the prefix says it so that a leaked one is recognisable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// `khs_`: a signed-in person's session.
    Session,
    /// `kha_`: an agent's long-lived programmatic key.
    AgentKey,
    /// `kht_`: a short-lived scoped token issued by an agent key.
    ScopedToken,
    /// `khv_`: the token in an email-verification link.
    EmailVerification,
    /// `khm_`: a ticket for the second step of a 2FA login.
    MfaTicket,
    /// `khi_`: the token in an invitation link.
    Invitation,
}

impl CredentialKind {
    pub const ALL: [CredentialKind; 6] = [
        Self::Session,
        Self::AgentKey,
        Self::ScopedToken,
        Self::EmailVerification,
        Self::MfaTicket,
        Self::Invitation,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            Self::Session => "khs_",
            Self::AgentKey => "kha_",
            Self::ScopedToken => "kht_",
            Self::EmailVerification => "khv_",
            Self::MfaTicket => "khm_",
            Self::Invitation => "khi_",
        }
    }

    fn from_prefix(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| s.starts_with(k.prefix()))
    }
}

/// A credential's text. Never printed: `Debug` shows only its kind.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    kind: CredentialKind,
    text: Sensitive<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({:?}, [redacted])", self.kind)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("not a Keyhold credential")]
    Malformed,
    #[error("credential checksum does not match")]
    BadChecksum,
}

fn checksum(prefix: &str, body: &str) -> String {
    let digest = Sha256::new()
        .chain_update(prefix.as_bytes())
        .chain_update(body.as_bytes())
        .finalize();
    let mut s = URL_SAFE_NO_PAD.encode(&digest[..6]);
    s.truncate(CHECK_LEN);
    s
}

impl Credential {
    /// A fresh credential: 256 bits from the OS CSPRNG.
    pub fn generate(kind: CredentialKind) -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let body = URL_SAFE_NO_PAD.encode(bytes);
        zeroize::Zeroize::zeroize(&mut bytes);
        let check = checksum(kind.prefix(), &body);
        Self {
            kind,
            text: Sensitive::new(format!("{}{body}{check}", kind.prefix())),
        }
    }

    /// Recognise a credential of any kind, checking its shape and checksum.
    pub fn parse(text: &str) -> Result<Self, CredentialError> {
        let kind = CredentialKind::from_prefix(text).ok_or(CredentialError::Malformed)?;
        let rest = &text[kind.prefix().len()..];
        if rest.len() != BODY_LEN + CHECK_LEN
            || !rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(CredentialError::Malformed);
        }
        let (body, check) = rest.split_at(BODY_LEN);
        let expected = checksum(kind.prefix(), body);
        if !bool::from(expected.as_bytes().ct_eq(check.as_bytes())) {
            return Err(CredentialError::BadChecksum);
        }
        Ok(Self {
            kind,
            text: Sensitive::new(text.to_owned()),
        })
    }

    /// Parse and require a particular kind.
    pub fn parse_kind(text: &str, kind: CredentialKind) -> Result<Self, CredentialError> {
        let c = Self::parse(text)?;
        if c.kind == kind {
            Ok(c)
        } else {
            Err(CredentialError::Malformed)
        }
    }

    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    pub fn expose(&self) -> &str {
        self.text.expose()
    }

    /// The first characters, safe to display so people can tell their keys apart.
    pub fn display_prefix(&self) -> String {
        self.expose().chars().take(12).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_credentials_parse_back() {
        for kind in CredentialKind::ALL {
            let c = Credential::generate(kind);
            assert!(c.expose().starts_with(kind.prefix()));
            assert_eq!(c.expose().len(), 4 + BODY_LEN + CHECK_LEN);
            let p = Credential::parse(c.expose()).unwrap();
            assert_eq!(p.kind(), kind);
            assert_eq!(p, c);
        }
    }

    #[test]
    fn two_credentials_differ() {
        let a = Credential::generate(CredentialKind::Session);
        let b = Credential::generate(CredentialKind::Session);
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn any_changed_character_is_refused() {
        let c = Credential::generate(CredentialKind::AgentKey);
        let text = c.expose().to_owned();
        for i in 4..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(Credential::parse(&changed).is_err(), "position {i}");
        }
    }

    #[test]
    fn wrong_kind_and_shapes_are_refused() {
        let c = Credential::generate(CredentialKind::AgentKey);
        assert!(Credential::parse_kind(c.expose(), CredentialKind::Session).is_err());
        assert_eq!(Credential::parse(""), Err(CredentialError::Malformed));
        assert_eq!(Credential::parse("khs_"), Err(CredentialError::Malformed));
        assert_eq!(
            Credential::parse("xyz_abc"),
            Err(CredentialError::Malformed)
        );
        let long = format!("{}x", c.expose());
        assert_eq!(Credential::parse(&long), Err(CredentialError::Malformed));
    }

    #[test]
    fn debug_never_shows_the_text() {
        let c = Credential::generate(CredentialKind::Session);
        let d = format!("{c:?}");
        assert!(!d.contains(&c.expose()[4..]));
        assert!(d.contains("Session"));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = Credential::parse(&s);
        }
    }
}
