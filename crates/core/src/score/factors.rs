//! The three account factors (email verified, 2FA on, strong password), the points they
//! earn and the status they add up to: the score can always be explained by them alone.

use super::{EMAIL_WEIGHT, MFA_WEIGHT, PASSWORD_WEIGHT, SecurityFacts};
use super::{Factor, FactorId, ScoreStatus};
use crate::password::STRONG_ZXCVBN_SCORE;

/// Whether the password was measured and rated strong; never measured counts as not strong.
pub(super) fn password_is_strong(facts: &SecurityFacts) -> bool {
    facts
        .password_zxcvbn
        .is_some_and(|s| s >= STRONG_ZXCVBN_SCORE)
}

/// Always the three factors, in the order email, 2FA, password.
pub(super) fn factors(facts: &SecurityFacts) -> Vec<Factor> {
    let email_ok = facts.email_verified;
    let mfa_ok = facts.mfa_enabled;
    let password_ok = password_is_strong(facts);

    vec![
        Factor {
            id: FactorId::EmailVerified,
            ok: email_ok,
            detail: if email_ok {
                "Your email address is verified."
            } else {
                "Your email address is not verified yet."
            }
            .to_owned(),
        },
        Factor {
            id: FactorId::Mfa,
            ok: mfa_ok,
            detail: if mfa_ok {
                "Two-factor authentication is on."
            } else {
                "Two-factor authentication is off: your password alone opens your account."
            }
            .to_owned(),
        },
        Factor {
            id: FactorId::PasswordStrength,
            ok: password_ok,
            detail: match facts.password_zxcvbn {
                _ if password_ok => "Your password is strong.",
                Some(_) => "Your password is acceptable but could be guessed with effort.",
                None => "Your password's strength has not been measured yet.",
            }
            .to_owned(),
        },
    ]
}

fn weight(id: FactorId) -> u8 {
    match id {
        FactorId::EmailVerified => EMAIL_WEIGHT,
        FactorId::Mfa => MFA_WEIGHT,
        FactorId::PasswordStrength => PASSWORD_WEIGHT,
    }
}

/// 0 to 100: the weights of the factors that hold.
pub(super) fn points(factors: &[Factor]) -> u8 {
    factors.iter().filter(|f| f.ok).map(|f| weight(f.id)).sum()
}

/// Protected when all factors hold; exposed when 2FA is off and at most one holds, because
/// then a guessed or phished password is the whole account; at risk otherwise.
pub(super) fn status(factors: &[Factor]) -> ScoreStatus {
    let mfa_ok = factors.iter().any(|f| f.id == FactorId::Mfa && f.ok);
    let ok_count = factors.iter().filter(|f| f.ok).count();
    if ok_count == factors.len() {
        ScoreStatus::Protected
    } else if !mfa_ok && ok_count < 2 {
        ScoreStatus::Exposed
    } else {
        ScoreStatus::AtRisk
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::test_support::{facts, ids};
    use crate::score::{Severity, security_score};

    #[test]
    fn weights_add_up_to_100() {
        assert_eq!(
            u32::from(EMAIL_WEIGHT) + u32::from(MFA_WEIGHT) + u32::from(PASSWORD_WEIGHT),
            100
        );
    }

    #[test]
    fn all_eight_factor_combinations() {
        use ScoreStatus::*;
        // (email, mfa, strong password) -> (score, status)
        let table = [
            ((false, false, false), (0, Exposed)),
            ((true, false, false), (20, Exposed)),
            ((false, false, true), (30, Exposed)),
            ((true, false, true), (50, AtRisk)),
            ((false, true, false), (50, AtRisk)),
            ((true, true, false), (70, AtRisk)),
            ((false, true, true), (80, AtRisk)),
            ((true, true, true), (100, Protected)),
        ];
        for ((email, mfa, strong), (score, status)) in table {
            let zxcvbn = if strong {
                STRONG_ZXCVBN_SCORE
            } else {
                STRONG_ZXCVBN_SCORE - 1
            };
            let s = security_score(&facts(email, mfa, zxcvbn));
            let case = format!("email={email} mfa={mfa} strong={strong}");
            assert_eq!(s.score, score, "{case}");
            assert_eq!(s.status, status, "{case}");
            assert_eq!(
                s.factors.iter().map(|f| (f.id, f.ok)).collect::<Vec<_>>(),
                vec![
                    (FactorId::EmailVerified, email),
                    (FactorId::Mfa, mfa),
                    (FactorId::PasswordStrength, strong),
                ],
                "{case}"
            );
            // Each unmet factor has its recommendation, and only those.
            let r = ids(&s);
            assert_eq!(r.contains(&"verify_email"), !email, "{case}");
            assert_eq!(r.contains(&"enable_mfa"), !mfa, "{case}");
            assert_eq!(r.contains(&"strengthen_password"), !strong, "{case}");
        }
    }

    #[test]
    fn a_new_account_is_exposed() {
        // The weakest password the policy accepts, email not verified, no 2FA.
        let s = security_score(&SecurityFacts {
            password_zxcvbn: Some(crate::password::MIN_ZXCVBN_SCORE),
            ..SecurityFacts::default()
        });
        assert_eq!(s.status, ScoreStatus::Exposed);
        assert_eq!(s.score, 0);
        assert_eq!(s.recommendations[0].id, "enable_mfa");
        assert_eq!(s.recommendations[0].severity, Severity::High);
    }

    #[test]
    fn password_threshold_and_unknown_strength() {
        let at = security_score(&facts(true, true, STRONG_ZXCVBN_SCORE));
        assert!(at.factors[2].ok);
        let below = security_score(&facts(true, true, STRONG_ZXCVBN_SCORE - 1));
        assert!(!below.factors[2].ok);
        let unknown = security_score(&SecurityFacts {
            password_zxcvbn: None,
            ..facts(true, true, 4)
        });
        assert!(!unknown.factors[2].ok);
        assert!(unknown.factors[2].detail.contains("not been measured"));
    }
}
