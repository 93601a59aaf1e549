//! Password policy (NIST SP 800-63B rev. 4, single-factor passwords) and strength estimates.
//!
//! Length is counted in Unicode scalar values and checked before anything else, so an
//! oversized password is refused without running zxcvbn or a hash. No composition rules:
//! length and a guessability estimate do the work.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const MIN_CHARS: usize = 15;
pub const MAX_CHARS: usize = 128;
/// zxcvbn scores below this are refused.
pub const MIN_ZXCVBN_SCORE: u8 = 2;
/// zxcvbn scores at or above this count as a strong password in the security score.
pub const STRONG_ZXCVBN_SCORE: u8 = 3;

/// Why a password was refused. Serialised as snake_case reason codes in the 422 body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyReason {
    TooShort,
    TooLong,
    TooGuessable,
    ContainsEmail,
}

impl PolicyReason {
    pub fn message(self) -> String {
        match self {
            Self::TooShort => format!("Use at least {MIN_CHARS} characters."),
            Self::TooLong => format!("Use at most {MAX_CHARS} characters."),
            Self::TooGuessable => "This password is too easy to guess.".to_owned(),
            Self::ContainsEmail => "The password must not contain your email name.".to_owned(),
        }
    }
}

/// What zxcvbn thinks of a password: the data behind the live strength meter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Strength {
    /// 0 (guessable in 10^3 tries) to 4 (more than 10^10).
    pub score: u8,
    /// Time to crack offline against a slow hash at 10^4 guesses per second, in words.
    pub crack_time: String,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
}

/// The outcome of checking a password against the policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyVerdict {
    pub reasons: Vec<PolicyReason>,
    /// Absent when the length check refused the password before estimating it.
    pub strength: Option<Strength>,
}

impl PolicyVerdict {
    pub fn is_ok(&self) -> bool {
        self.reasons.is_empty()
    }

    /// One sentence naming every reason, for the error message.
    pub fn message(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.message())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The local part of an email address, lower-cased; empty when there is none.
fn email_local_part(email: &str) -> String {
    email
        .split('@')
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase()
}

/// Estimate a password's strength. `user_inputs` are words zxcvbn should treat as known
/// to an attacker (email, display name).
pub fn strength(password: &str, user_inputs: &[&str]) -> Strength {
    let entropy = zxcvbn::zxcvbn(password, user_inputs);
    let feedback = entropy.feedback();
    Strength {
        score: u8::from(entropy.score()),
        crack_time: entropy
            .crack_times()
            .offline_slow_hashing_1e4_per_second()
            .to_string(),
        warning: feedback.and_then(|f| f.warning()).map(|w| w.to_string()),
        suggestions: feedback
            .map(|f| f.suggestions().iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    }
}

/// Check a new password for `email` against the policy.
pub fn check(password: &str, email: &str) -> PolicyVerdict {
    let chars = password.chars().count();
    if chars > MAX_CHARS {
        return PolicyVerdict {
            reasons: vec![PolicyReason::TooLong],
            strength: None,
        };
    }
    let mut reasons = Vec::new();
    if chars < MIN_CHARS {
        reasons.push(PolicyReason::TooShort);
    }
    let local = email_local_part(email);
    let strength = strength(password, &[email, &local]);
    if strength.score < MIN_ZXCVBN_SCORE {
        reasons.push(PolicyReason::TooGuessable);
    }
    if local.chars().count() >= 3 && password.to_lowercase().contains(&local) {
        reasons.push(PolicyReason::ContainsEmail);
    }
    PolicyVerdict {
        reasons,
        strength: Some(strength),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "ada.lovelace@example.com";

    #[test]
    fn length_boundaries() {
        let p14 = "qz7$Kp2!vW9#mR";
        assert_eq!(p14.chars().count(), 14);
        assert!(check(p14, EMAIL).reasons.contains(&PolicyReason::TooShort));
        let p15 = "qz7$Kp2!vW9#mRx";
        assert!(check(p15, EMAIL).is_ok(), "{:?}", check(p15, EMAIL));
        let p128: String = "correct horse battery staple "
            .repeat(5)
            .chars()
            .take(128)
            .collect();
        assert!(!check(&p128, EMAIL).reasons.contains(&PolicyReason::TooLong));
        let p129: String = "x".repeat(129);
        let v = check(&p129, EMAIL);
        assert_eq!(v.reasons, vec![PolicyReason::TooLong]);
        assert!(v.strength.is_none(), "no estimate for oversized input");
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 15 characters, 45 bytes.
        let p = "日本語のパスワードは長くて安全だ";
        assert!(!check(p, EMAIL).reasons.contains(&PolicyReason::TooShort));
        let long: String = "é".repeat(100);
        assert!(!check(&long, EMAIL).reasons.contains(&PolicyReason::TooLong));
    }

    #[test]
    fn common_password_is_too_guessable() {
        let v = check("passwordpassword", EMAIL);
        assert!(v.reasons.contains(&PolicyReason::TooGuessable));
        assert!(!v.strength.unwrap().suggestions.is_empty() || v.reasons.len() == 1);
    }

    #[test]
    fn email_local_part_is_refused() {
        let v = check("my-Ada.Lovelace-vault-2026!", EMAIL);
        assert!(v.reasons.contains(&PolicyReason::ContainsEmail), "{v:?}");
    }

    #[test]
    fn message_names_every_reason() {
        let v = check("ada.lovelace", EMAIL);
        assert!(v.reasons.contains(&PolicyReason::TooShort));
        assert!(v.message().contains("15 characters"));
    }

    #[test]
    fn strength_of_a_passphrase() {
        let s = strength("violet anchor quietly juggles seven kites", &[]);
        assert!(s.score >= STRONG_ZXCVBN_SCORE);
        assert!(!s.crack_time.is_empty());
    }
}
