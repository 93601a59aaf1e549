//! Bearer credentials: their text format, generation and offline recognition.
//!
//! Format: `<prefix>_[<32 hex id>]<43 chars base64url of 32 random bytes><6 chars checksum>`.
//! The checksum (the first 36 bits of SHA-256 over everything before it) lets a secret
//! scanner tell a real Keyhold credential from a look-alike without asking the server, and
//! lets the server refuse garbage before touching the store. The optional id (a UUID as 32
//! lowercase hex digits) names the record the credential belongs to: agent keys carry their
//! key id, so a leaked key tells its owner which key to revoke, and the server looks the key
//! up by id and compares the keyed hash. The regexes for scanners are in
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
/// Length of the optional embedded id: a UUID's 128 bits as lowercase hex.
pub const ID_LEN: usize = 32;

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
    /// `khr_`: the token in a password-reset link.
    PasswordReset,
}

impl CredentialKind {
    pub const ALL: [CredentialKind; 7] = [
        Self::Session,
        Self::AgentKey,
        Self::ScopedToken,
        Self::EmailVerification,
        Self::MfaTicket,
        Self::Invitation,
        Self::PasswordReset,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            Self::Session => "khs_",
            Self::AgentKey => "kha_",
            Self::ScopedToken => "kht_",
            Self::EmailVerification => "khv_",
            Self::MfaTicket => "khm_",
            Self::Invitation => "khi_",
            Self::PasswordReset => "khr_",
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
    #[error("an embedded id is 32 lowercase hex digits")]
    BadId,
}

fn is_id(s: &str) -> bool {
    s.len() == ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
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
        Self::generate_inner(kind, "")
    }

    /// A fresh credential that carries `id` (32 lowercase hex digits, e.g. a UUID's
    /// simple form) before its random body.
    pub fn generate_with_id(kind: CredentialKind, id: &str) -> Result<Self, CredentialError> {
        if !is_id(id) {
            return Err(CredentialError::BadId);
        }
        Ok(Self::generate_inner(kind, id))
    }

    fn generate_inner(kind: CredentialKind, id: &str) -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let mut payload = format!("{id}{}", URL_SAFE_NO_PAD.encode(bytes));
        zeroize::Zeroize::zeroize(&mut bytes);
        let check = checksum(kind.prefix(), &payload);
        let text = format!("{}{payload}{check}", kind.prefix());
        zeroize::Zeroize::zeroize(&mut payload);
        Self {
            kind,
            text: Sensitive::new(text),
        }
    }

    /// Recognise a credential of any kind, checking its shape and checksum.
    pub fn parse(text: &str) -> Result<Self, CredentialError> {
        let kind = CredentialKind::from_prefix(text).ok_or(CredentialError::Malformed)?;
        let rest = &text[kind.prefix().len()..];
        let with_id = rest.len() == ID_LEN + BODY_LEN + CHECK_LEN;
        if !(rest.len() == BODY_LEN + CHECK_LEN || with_id)
            || !rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            || (with_id && !is_id(&rest[..ID_LEN]))
        {
            return Err(CredentialError::Malformed);
        }
        let (payload, check) = rest.split_at(rest.len() - CHECK_LEN);
        let expected = checksum(kind.prefix(), payload);
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

    /// The id the credential carries (32 lowercase hex digits), if it has one. Not secret.
    pub fn embedded_id(&self) -> Option<&str> {
        let rest = &self.expose()[self.kind.prefix().len()..];
        (rest.len() == ID_LEN + BODY_LEN + CHECK_LEN).then(|| &rest[..ID_LEN])
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
    fn credentials_with_an_id_parse_back_and_expose_it() {
        let id = "0190f2a4c3b87e1d9a6b5c4d3e2f1a0b";
        let c = Credential::generate_with_id(CredentialKind::AgentKey, id).unwrap();
        assert_eq!(c.expose().len(), 4 + ID_LEN + BODY_LEN + CHECK_LEN);
        assert!(c.expose().starts_with(&format!("kha_{id}")));
        let p = Credential::parse(c.expose()).unwrap();
        assert_eq!(p.embedded_id(), Some(id));
        assert_eq!(p, c);
        assert_eq!(
            Credential::generate(CredentialKind::AgentKey).embedded_id(),
            None
        );
        // Changing the id breaks the checksum: an id cannot be swapped onto another body.
        let swapped = c
            .expose()
            .replacen(id, "0190f2a4c3b87e1d9a6b5c4d3e2f1a0c", 1);
        assert_eq!(
            Credential::parse(&swapped),
            Err(CredentialError::BadChecksum)
        );
        let upper = c.expose().replacen(id, &id.to_uppercase(), 1);
        assert_eq!(Credential::parse(&upper), Err(CredentialError::Malformed));
        assert_eq!(
            Credential::generate_with_id(CredentialKind::AgentKey, "xyz"),
            Err(CredentialError::BadId)
        );
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
