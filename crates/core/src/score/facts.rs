//! The facts the score is computed from, gathered by the server in one read.

use chrono::{DateTime, Utc};

use crate::scope::{Scope, is_cross_environment};

/// What the server knows about the signed-in person, gathered in one read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityFacts {
    pub email_verified: bool,
    pub mfa_enabled: bool,
    /// zxcvbn's 0–4 estimate, recorded when the password was last set; `None` when it was
    /// never recorded, which counts as not strong.
    pub password_zxcvbn: Option<u8>,
    /// Unused backup codes; `None` when 2FA is off.
    pub backup_codes_remaining: Option<u32>,
    /// The person's active agent keys (not revoked, not expired).
    pub keys: Vec<KeyFacts>,
    /// Approval requests this person may decide that are still pending.
    pub pending_approvals_for_me: u32,
    /// Critical alerts of the tenant nobody acknowledged (counted for owners and admins,
    /// who handle them; 0 for everyone else).
    pub open_critical_alerts: u32,
    /// The person's agent keys a detection rule suspended: (id, name).
    pub suspended_keys: Vec<(String, String)>,
}

/// The facts about one agent key that the recommendations need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFacts {
    pub id: String,
    pub name: String,
    pub has_expiry: bool,
    /// Any scope is `*`, or the scopes reach more than one top-level folder.
    pub wildcard_or_cross_env: bool,
    /// Whole days since last use; `None` if never used.
    pub last_used_days_ago: Option<i64>,
    pub age_days: i64,
}

impl KeyFacts {
    /// From a stored key's columns. `now` is a parameter so tests can freeze the clock; a
    /// timestamp in the future (clock skew between replicas) counts as zero days.
    pub fn from_key(
        id: impl Into<String>,
        name: impl Into<String>,
        scopes: &[Scope],
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        last_used_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let days = |t: DateTime<Utc>| (now - t).num_days().max(0);
        Self {
            id: id.into(),
            name: name.into(),
            has_expiry: expires_at.is_some(),
            wildcard_or_cross_env: scopes.iter().any(Scope::is_wildcard)
                || is_cross_environment(scopes),
            last_used_days_ago: last_used_at.map(days),
            age_days: days(created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn key_facts_from_a_stored_key() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let scopes = |v: &[&str]| {
            v.iter()
                .map(|s| Scope::parse(s).unwrap())
                .collect::<Vec<_>>()
        };
        let k = KeyFacts::from_key(
            "id1",
            "deploy",
            &scopes(&["secrets:read:prod/*", "secrets:write:prod/x"]),
            now - chrono::Duration::days(91),
            None,
            Some(now - chrono::Duration::hours(36)),
            now,
        );
        assert_eq!(
            k,
            KeyFacts {
                id: "id1".into(),
                name: "deploy".into(),
                has_expiry: false,
                wildcard_or_cross_env: false,
                last_used_days_ago: Some(1),
                age_days: 91,
            }
        );
        let wide = |v: &[&str]| {
            KeyFacts::from_key("i", "n", &scopes(v), now, Some(now), None, now)
                .wildcard_or_cross_env
        };
        assert!(wide(&["secrets:read:*"]));
        assert!(wide(&["secrets:read:prod/*", "secrets:read:staging/*"]));
        assert!(!wide(&["secrets:read:prod/a"]));
        // A clock running behind the key's creation counts as zero days, not negative.
        let future = KeyFacts::from_key(
            "i",
            "n",
            &[],
            now + chrono::Duration::days(2),
            None,
            None,
            now,
        );
        assert_eq!(future.age_days, 0);
    }
}
