//! TOTP second factor (RFC 6238): HMAC-SHA1, 6 digits, 30-second steps, 160-bit secrets.
//!
//! These are the parameters every authenticator app supports; anything else trades
//! compatibility for nothing (HMAC-SHA1 is not weakened by SHA-1 collisions).
//!
//! The acceptance rule lives in [`verify`] so the server cannot get it subtly wrong in a
//! handler: exactly six ASCII digits, one step of clock drift either way, every candidate
//! compared in constant time with no early exit, and any step at or before the last one
//! accepted refused, so an observed code cannot be replayed, not even within its own step.
//! The caller stores the returned step and passes it back next time.

use std::fmt;

use rand::RngCore;
use rand::rngs::OsRng;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use crate::Sensitive;

pub const DIGITS: usize = 6;
pub const PERIOD_SECS: u64 = 30;
/// 160 bits, the size RFC 4226 recommends and the API promises.
pub const SECRET_BYTES: usize = 20;
/// Steps either side of the server's current step that are still accepted.
pub const DRIFT_STEPS: u64 = 1;
pub const ISSUER: &str = "Keyhold";

/// RFC 4226 forbids shorter keys; longer than one HMAC-SHA1 block only gets hashed down.
const MIN_SECRET_BYTES: usize = 16;
const MAX_SECRET_BYTES: usize = 64;
const BASE32: base32::Alphabet = base32::Alphabet::Rfc4648 { padding: false };

/// Why a submitted code was refused. The server should answer `Invalid` and `Replayed`
/// alike to the client (both are just "wrong code"); the distinction is for the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("a code is exactly {DIGITS} digits")]
    Malformed,
    #[error("the code is wrong or has expired")]
    Invalid,
    #[error("this code has already been used; wait for the next one")]
    Replayed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a TOTP secret is base32 (RFC 4648, A-Z and 2-7)")]
    NotBase32,
    #[error("a TOTP secret is 16 to 64 bytes long")]
    BadLength,
}

/// The shared key between the server and the user's authenticator. `Debug` is redacted and
/// the bytes are wiped on drop; there is deliberately no `Serialize`, so the secret leaves
/// only through [`TotpSecret::to_base32`] or [`otpauth_uri`], at enrollment.
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

/// The time step a Unix time falls in.
pub fn step_of(unix_time: u64) -> u64 {
    unix_time / PERIOD_SECS
}

/// HOTP (RFC 4226) for one counter value, with the given number of digits.
fn hotp(secret: &[u8], counter: u64, digits: usize) -> String {
    // A one-second period makes totp-rs's `time / step` the counter itself.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        digits,
        0,
        1,
        secret.to_vec(),
        None,
        String::new(),
    )
    .generate(counter)
}

/// The 6-digit code for one time step.
pub fn code_for_step(secret: &TotpSecret, step: u64) -> String {
    hotp(secret.expose_bytes(), step, DIGITS)
}

/// The code an authenticator shows at `unix_time`.
pub fn code_at(secret: &TotpSecret, unix_time: u64) -> String {
    code_for_step(secret, step_of(unix_time))
}

/// Checks a submitted code and returns the step it was accepted for, which the caller must
/// store and pass as `last_accepted_step` from then on.
///
/// The three candidate steps are all computed and compared, whatever the outcome, so the
/// time taken says nothing about which one (if any) matched.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    now_unix: u64,
    last_accepted_step: Option<u64>,
) -> Result<u64, TotpError> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::Malformed);
    }
    let now = step_of(now_unix);
    let first = now.saturating_sub(DRIFT_STEPS);
    let last = now.saturating_add(DRIFT_STEPS);

    let mut matched = Choice::from(0);
    let mut matched_fresh = Choice::from(0);
    let mut accepted = 0u64;
    // Ascending, so when more than one fresh step matches the latest wins, which moves the
    // replay guard furthest forward.
    for step in first..=last {
        let expected = Zeroizing::new(code_for_step(secret, step));
        let equal = expected.as_bytes().ct_eq(code.as_bytes());
        let fresh = Choice::from(u8::from(last_accepted_step.is_none_or(|l| step > l)));
        let take = equal & fresh;
        matched |= equal;
        matched_fresh |= take;
        accepted = u64::conditional_select(&accepted, &step, take);
    }
    if bool::from(matched_fresh) {
        Ok(accepted)
    } else if bool::from(matched) {
        Err(TotpError::Replayed)
    } else {
        Err(TotpError::Invalid)
    }
}

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
    use proptest::prelude::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    /// RFC 6238 appendix B, SHA1 column.
    const RFC_VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn rfc_6238_sha1_vectors() {
        let secret = rfc_secret();
        for (t, eight) in RFC_VECTORS {
            assert_eq!(hotp(secret.expose_bytes(), step_of(t), 8), eight, "T={t}");
            assert_eq!(code_at(&secret, t), eight[2..], "T={t}");
        }
    }

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

    const NOW: u64 = 1_700_000_015; // 15 s into step 56_666_667.

    #[test]
    fn current_step_is_accepted_and_returned() {
        let s = rfc_secret();
        let code = code_at(&s, NOW);
        assert_eq!(verify(&s, &code, NOW, None), Ok(step_of(NOW)));
    }

    #[test]
    fn one_step_of_drift_either_way() {
        let s = rfc_secret();
        let step = step_of(NOW);
        let behind = code_for_step(&s, step - 1);
        let ahead = code_for_step(&s, step + 1);
        assert_eq!(verify(&s, &behind, NOW, None), Ok(step - 1));
        assert_eq!(verify(&s, &ahead, NOW, None), Ok(step + 1));
        // The same codes, read from a clock at the edges of the window.
        assert_eq!(verify(&s, &code_at(&s, NOW - 30), NOW, None), Ok(step - 1));
        assert_eq!(verify(&s, &code_at(&s, NOW + 30), NOW, None), Ok(step + 1));
    }

    #[test]
    fn two_steps_of_drift_are_refused() {
        let s = rfc_secret();
        let step = step_of(NOW);
        for far in [step - 2, step + 2, step - 10, step + 10] {
            let code = code_for_step(&s, far);
            // Skip the (one in a million) case where a far code equals a near one.
            if (step - 1..=step + 1).all(|n| code_for_step(&s, n) != code) {
                assert_eq!(verify(&s, &code, NOW, None), Err(TotpError::Invalid));
            }
        }
    }

    #[test]
    fn replay_is_refused() {
        let s = rfc_secret();
        let step = step_of(NOW);
        let code = code_at(&s, NOW);
        let accepted = verify(&s, &code, NOW, None).unwrap();
        assert_eq!(
            verify(&s, &code, NOW, Some(accepted)),
            Err(TotpError::Replayed)
        );
        // Later in the same step, and after the step, the code is still spent.
        assert_eq!(
            verify(&s, &code, NOW + 10, Some(accepted)),
            Err(TotpError::Replayed)
        );
        assert_eq!(
            verify(&s, &code, NOW + 30, Some(accepted)),
            Err(TotpError::Replayed)
        );
        // An older code after a newer one was accepted is refused too.
        let older = code_for_step(&s, step - 1);
        assert_eq!(
            verify(&s, &older, NOW, Some(step)),
            Err(TotpError::Replayed)
        );
        // The next step's code is still good.
        let next = code_for_step(&s, step + 1);
        assert_eq!(verify(&s, &next, NOW + 30, Some(step)), Ok(step + 1));
    }

    #[test]
    fn malformed_codes_are_refused_before_any_work() {
        let s = rfc_secret();
        let code = code_at(&s, NOW);
        for bad in [
            "",
            &code[..5],
            &format!("{code}0"),
            "12345a",
            "abcdef",
            " 12345",
            "123 456",
            "１２３４５６",
            "+12345",
            "-12345",
        ] {
            assert_eq!(
                verify(&s, bad, NOW, None),
                Err(TotpError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_wrong_code_is_invalid() {
        let s = rfc_secret();
        let step = step_of(NOW);
        let wrong = (0..1_000_000u32)
            .map(|n| format!("{n:06}"))
            .find(|c| (step - 1..=step + 1).all(|n| &code_for_step(&s, n) != c))
            .unwrap();
        assert_eq!(verify(&s, &wrong, NOW, None), Err(TotpError::Invalid));
    }

    #[test]
    fn step_zero_has_no_step_before_it() {
        let s = rfc_secret();
        assert_eq!(verify(&s, &code_for_step(&s, 0), 0, None), Ok(0));
        assert_eq!(verify(&s, &code_for_step(&s, 1), 0, None), Ok(1));
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

        #[test]
        fn verify_never_panics(code in "\\PC{0,10}", now in any::<u64>(), last in proptest::option::of(any::<u64>())) {
            let _ = verify(&rfc_secret(), &code, now, last);
        }

        #[test]
        fn own_code_accepted_once(now in 0u64..4_000_000_000) {
            let s = rfc_secret();
            let code = code_at(&s, now);
            let step = verify(&s, &code, now, None).unwrap();
            prop_assert!(step >= step_of(now));
            prop_assert_eq!(verify(&s, &code, now, Some(step)), Err(TotpError::Replayed));
        }
    }
}
