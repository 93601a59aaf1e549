//! The security score behind `GET /v1/me/security` and the dashboard's headline number.
//!
//! A pure function of facts the server gathers, so the rules can be read in one place and
//! tested without a database. The score and status come from three account factors only
//! (email verified, 2FA on, strong password), so a person can always see why the number is
//! what it is; everything else (agent-key hygiene, backup codes, approvals waiting) becomes
//! recommendations. docs/security-score.md explains the weights to users and reviewers.
//!
//! Built from named steps, one file each: `facts` (what the server gathers), `factors` (the
//! three account factors, the points and the status), `recommendations` (advice about the
//! account), `keys` (advice about each agent key) and `report` (the wire types). Everything
//! public is re-exported here, so callers keep using `keyhold_core::score::…`.

mod factors;
mod facts;
mod incidents;
mod keys;
mod recommendations;
mod report;
#[cfg(test)]
mod test_support;

pub use facts::{KeyFacts, SecurityFacts};
pub use report::{
    Factor, FactorId, Recommendation, RecommendationId, ScoreStatus, SecurityScore, Severity,
};

/// Points for a verified email: it is how a person recovers the account and hears of
/// sign-ins, but on its own it stops no attacker.
pub const EMAIL_WEIGHT: u8 = 20;
/// Points for 2FA: the factor that stops a stolen password, so it carries half the score.
pub const MFA_WEIGHT: u8 = 50;
/// Points for a password zxcvbn rates strong
/// ([`STRONG_ZXCVBN_SCORE`](crate::password::STRONG_ZXCVBN_SCORE) or more).
pub const PASSWORD_WEIGHT: u8 = 30;
/// Points an open critical alert takes off (once, however many), and each suspended key
/// of the person: an incident in progress outweighs a good configuration.
pub const INCIDENT_PENALTY: u8 = 25;
/// At or below this many backup codes left, suggest a new set.
pub const FEW_BACKUP_CODES: u32 = 3;
/// An agent key unused this long (or never used, and this old) is probably not needed.
pub const UNUSED_DAYS: i64 = 30;
/// An agent key this old should be rotated.
pub const OLD_KEY_DAYS: i64 = 90;

/// The score, status and factors of one person's account, and what to do about it, most
/// severe first.
pub fn security_score(facts: &SecurityFacts) -> SecurityScore {
    let factors = factors::factors(facts);
    let mut recommendations = recommendations::for_account(facts);
    recommendations.extend(facts.keys.iter().flat_map(keys::for_key));
    recommendations.extend(incidents::recommendations(facts));
    // Stable, so within one severity the account's own items stay ahead of per-key ones.
    recommendations.sort_by_key(|r| std::cmp::Reverse(r.severity));

    SecurityScore {
        score: incidents::score(factors::points(&factors), facts),
        status: incidents::status(factors::status(&factors), facts),
        factors,
        recommendations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::test_support::{facts, ids, key};

    #[test]
    fn most_severe_first() {
        let s = security_score(&SecurityFacts {
            keys: vec![
                KeyFacts {
                    last_used_days_ago: None,
                    age_days: 100,
                    has_expiry: false,
                    ..key("a")
                },
                KeyFacts {
                    wildcard_or_cross_env: true,
                    ..key("b")
                },
            ],
            pending_approvals_for_me: 2,
            ..facts(false, false, 2)
        });
        let sev: Vec<Severity> = s.recommendations.iter().map(|r| r.severity).collect();
        let mut sorted = sev.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(sev, sorted);
        assert_eq!(
            ids(&s),
            [
                "enable_mfa",
                "key_broad_scope",
                "strengthen_password",
                "verify_email",
                "pending_approvals",
                "key_without_expiry",
                "key_old",
                "key_unused",
            ]
        );
    }
}
