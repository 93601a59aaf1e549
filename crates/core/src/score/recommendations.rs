//! Advice about the account itself: each missing factor, a running-low set of backup
//! codes, and approval requests waiting for this person.

use super::Severity::{High, Medium};
use super::factors::password_is_strong;
use super::{FEW_BACKUP_CODES, Recommendation, RecommendationId as R, SecurityFacts};

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// In this order before sorting: 2FA, password, email, backup codes, approvals.
pub(super) fn for_account(facts: &SecurityFacts) -> Vec<Recommendation> {
    let mut recs = missing_factors(facts);
    recs.extend(backup_codes(facts));
    recs.extend(pending_approvals(facts));
    recs
}

fn missing_factors(facts: &SecurityFacts) -> Vec<Recommendation> {
    let mut recs = Vec::new();
    if !facts.mfa_enabled {
        recs.push(Recommendation::new(
            R::EnableMfa,
            High,
            "Turn on two-factor authentication with an authenticator app.".to_owned(),
        ));
    }
    if !password_is_strong(facts) {
        recs.push(Recommendation::new(
            R::StrengthenPassword,
            Medium,
            "Change your password to a longer passphrase of unrelated words.".to_owned(),
        ));
    }
    if !facts.email_verified {
        recs.push(Recommendation::new(
            R::VerifyEmail,
            Medium,
            "Verify your email address so you can recover your account.".to_owned(),
        ));
    }
    recs
}

/// With 2FA off, backup codes are moot: turning 2FA on is the advice.
fn backup_codes(facts: &SecurityFacts) -> Option<Recommendation> {
    let left = facts.backup_codes_remaining.filter(|_| facts.mfa_enabled)?;
    if left > FEW_BACKUP_CODES {
        return None;
    }
    let severity = if left == 0 { High } else { Medium };
    Some(Recommendation::new(
        R::RegenerateBackupCodes,
        severity,
        format!(
            "You have {} left; generate a new set and store it safely.",
            plural(left, "backup code", "backup codes")
        ),
    ))
}

fn pending_approvals(facts: &SecurityFacts) -> Option<Recommendation> {
    let n = facts.pending_approvals_for_me;
    (n > 0).then(|| {
        Recommendation::new(
            R::PendingApprovals,
            Medium,
            format!(
                "{} waiting for your decision.",
                plural(n, "approval request is", "approval requests are")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::score::test_support::{facts, ids};
    use crate::score::{SecurityFacts, Severity, security_score};

    #[test]
    fn few_backup_codes() {
        let with = |left: u32| {
            security_score(&SecurityFacts {
                backup_codes_remaining: Some(left),
                ..facts(true, true, 4)
            })
        };
        assert!(!ids(&with(4)).contains(&"regenerate_backup_codes"));
        let three = with(3);
        assert_eq!(ids(&three), ["regenerate_backup_codes"]);
        assert_eq!(three.recommendations[0].severity, Severity::Medium);
        assert!(three.recommendations[0].message.contains("3 backup codes"));
        assert!(
            with(1).recommendations[0]
                .message
                .contains("1 backup code left")
        );
        assert_eq!(with(0).recommendations[0].severity, Severity::High);
        // With 2FA off, backup codes are moot; turning 2FA on is the advice.
        let off = security_score(&SecurityFacts {
            backup_codes_remaining: Some(0),
            ..facts(true, false, 4)
        });
        assert!(!ids(&off).contains(&"regenerate_backup_codes"));
    }

    #[test]
    fn pending_approvals() {
        let with = |n: u32| {
            security_score(&SecurityFacts {
                pending_approvals_for_me: n,
                ..facts(true, true, 4)
            })
        };
        assert!(with(0).recommendations.is_empty());
        assert_eq!(ids(&with(1)), ["pending_approvals"]);
        assert!(
            with(1).recommendations[0]
                .message
                .starts_with("1 approval request is")
        );
        assert!(
            with(2).recommendations[0]
                .message
                .starts_with("2 approval requests are")
        );
    }
}
