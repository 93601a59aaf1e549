//! The enrollment URI (`otpauth://totp/…`) that authenticator apps read from the QR code:
//! written for enrollment, and read back strictly so a tampered profile is refused.

use std::fmt;

use zeroize::Zeroizing;

use super::{DIGITS, ISSUER, PERIOD_SECS, SecretError, TotpSecret};
use crate::Sensitive;

/// RFC 3986 unreserved characters pass; every other byte becomes `%XX`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> Result<String, OtpauthError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(OtpauthError::BadEncoding)?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| OtpauthError::BadEncoding)
}

/// The enrollment URI that authenticator apps read from the QR code:
/// `otpauth://totp/Keyhold:<email>?secret=…&issuer=Keyhold&algorithm=SHA1&digits=6&period=30`.
///
/// It carries the secret, so it is [`Sensitive`] like the secret itself.
pub fn otpauth_uri(secret: &TotpSecret, email: &str) -> Sensitive<String> {
    let b32 = secret.to_base32();
    Sensitive::new(format!(
        "otpauth://totp/{ISSUER}:{}?secret={}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={PERIOD_SECS}",
        percent_encode(email),
        b32.expose(),
    ))
}

/// An enrollment URI read back, checked against Keyhold's parameters.
pub struct OtpauthUri {
    pub account: String,
    pub secret: TotpSecret,
}

impl fmt::Debug for OtpauthUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpauthUri")
            .field("account", &self.account)
            .field("secret", &self.secret)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OtpauthError {
    #[error("not an otpauth://totp/ URI")]
    NotTotp,
    #[error("bad percent-encoding")]
    BadEncoding,
    #[error("the label must be `Keyhold:<account>`")]
    BadLabel,
    #[error("query parameter {0:?} has no value")]
    BadParameter(String),
    #[error("query parameter {0:?} appears more than once")]
    Duplicate(String),
    #[error(
        "{param}={value:?} is not Keyhold's TOTP profile (issuer Keyhold, SHA1, 6 digits, 30 s)"
    )]
    Unsupported { param: String, value: String },
    #[error("the URI has no secret")]
    MissingSecret,
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// Reads an enrollment URI and checks that it describes Keyhold's TOTP profile. Strict
/// where a lax reader could be fooled: duplicated parameters are refused rather than
/// resolved one way or the other.
pub fn parse_otpauth_uri(uri: &str) -> Result<OtpauthUri, OtpauthError> {
    let rest = uri
        .strip_prefix("otpauth://totp/")
        .ok_or(OtpauthError::NotTotp)?;
    let (label, query) = rest.split_once('?').ok_or(OtpauthError::MissingSecret)?;
    let label = percent_decode(label)?;
    let (issuer, account) = label.split_once(':').ok_or(OtpauthError::BadLabel)?;
    if issuer != ISSUER || account.is_empty() {
        return Err(OtpauthError::BadLabel);
    }

    let mut seen: Vec<String> = Vec::new();
    let mut secret = None;
    for pair in query.split('&') {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| OtpauthError::BadParameter(pair.to_owned()))?;
        let key = percent_decode(key)?;
        let value = Zeroizing::new(percent_decode(value)?);
        if seen.contains(&key) {
            return Err(OtpauthError::Duplicate(key));
        }
        let expected = match key.as_str() {
            "secret" => {
                secret = Some(TotpSecret::from_base32(&value)?);
                None
            }
            "issuer" => Some(ISSUER.to_owned()),
            "algorithm" => Some("SHA1".to_owned()),
            "digits" => Some(DIGITS.to_string()),
            "period" => Some(PERIOD_SECS.to_string()),
            _ => None,
        };
        if let Some(expected) = expected
            && *value != expected
        {
            return Err(OtpauthError::Unsupported {
                param: key,
                value: value.to_string(),
            });
        }
        seen.push(key);
    }
    Ok(OtpauthUri {
        account: account.to_owned(),
        secret: secret.ok_or(OtpauthError::MissingSecret)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::totp::test_support::rfc_secret;
    use proptest::prelude::*;

    #[test]
    fn debug_hides_the_secret() {
        let s = rfc_secret();
        let b32 = s.to_base32();
        assert_eq!(format!("{s:?}"), "TotpSecret([redacted])");
        let uri = otpauth_uri(&s, "a@example.com");
        assert!(!format!("{uri:?}").contains(b32.expose().as_str()));
        let parsed = parse_otpauth_uri(uri.expose()).unwrap();
        assert!(!format!("{parsed:?}").contains(b32.expose().as_str()));
    }

    #[test]
    fn uri_has_the_exact_contract_shape() {
        let s = rfc_secret();
        let uri = otpauth_uri(&s, "ada+vault@example.com");
        assert_eq!(
            uri.expose(),
            "otpauth://totp/Keyhold:ada%2Bvault%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Keyhold&algorithm=SHA1&digits=6&period=30"
        );
        let back = parse_otpauth_uri(uri.expose()).unwrap();
        assert_eq!(back.account, "ada+vault@example.com");
        assert_eq!(back.secret, s);
    }

    #[test]
    fn uri_encodes_awkward_emails() {
        let s = rfc_secret();
        for email in ["a b@c.d", "x:y@z", "q?u&e=r#y@x", "名前@例え.jp", "%41@b"] {
            let uri = otpauth_uri(&s, email);
            let (label, _) = uri.expose().split_once('?').unwrap();
            assert!(!label["otpauth://".len()..].contains(['?', '&', '#', ' ', '=']));
            assert_eq!(parse_otpauth_uri(uri.expose()).unwrap().account, email);
        }
    }

    #[test]
    fn parse_refuses_other_profiles() {
        let ok = "otpauth://totp/Keyhold:a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert!(parse_otpauth_uri(ok).is_ok());
        for (bad, want) in [
            ("otpauth://hotp/Keyhold:a?secret=x", OtpauthError::NotTotp),
            ("https://totp/Keyhold:a?secret=x", OtpauthError::NotTotp),
            ("otpauth://totp/Other:a?secret=x", OtpauthError::BadLabel),
            ("otpauth://totp/a?secret=x", OtpauthError::BadLabel),
            ("otpauth://totp/Keyhold:?secret=x", OtpauthError::BadLabel),
            ("otpauth://totp/Keyhold:a", OtpauthError::MissingSecret),
            (
                "otpauth://totp/Keyhold:a?issuer=Keyhold",
                OtpauthError::MissingSecret,
            ),
            (
                "otpauth://totp/Keyhold:a%zz?secret=x",
                OtpauthError::BadEncoding,
            ),
            (
                "otpauth://totp/Keyhold:a%?secret=x",
                OtpauthError::BadEncoding,
            ),
            (
                "otpauth://totp/Keyhold:a%ff?secret=x",
                OtpauthError::BadEncoding,
            ),
        ] {
            assert_eq!(parse_otpauth_uri(bad).unwrap_err(), want, "{bad}");
        }
        for suffix in [
            "&algorithm=SHA256",
            "&digits=8",
            "&period=60",
            "&issuer=Evil",
        ] {
            assert!(matches!(
                parse_otpauth_uri(&format!("{ok}{suffix}")),
                Err(OtpauthError::Unsupported { .. })
            ));
        }
        assert_eq!(
            parse_otpauth_uri(&format!("{ok}&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
                .unwrap_err(),
            OtpauthError::Duplicate("secret".into())
        );
        assert!(matches!(
            parse_otpauth_uri(&format!("{ok}&digits")),
            Err(OtpauthError::BadParameter(_))
        ));
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,120}") {
            let _ = parse_otpauth_uri(&text);
            let _ = parse_otpauth_uri(&format!("otpauth://totp/{text}"));
            let _ = TotpSecret::from_base32(&text);
        }

        #[test]
        fn uri_round_trips(bytes in proptest::collection::vec(any::<u8>(), 16..=64), email in "\\PC{1,40}") {
            let s = TotpSecret::from_bytes(bytes).unwrap();
            let uri = otpauth_uri(&s, &email);
            let back = parse_otpauth_uri(uri.expose()).unwrap();
            prop_assert_eq!(back.account, email);
            prop_assert!(back.secret == s);
        }
    }
}
