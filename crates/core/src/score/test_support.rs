//! What the score tests share: facts for the three factors, a tidy agent key, and
//! shorthands for reading recommendations back.

use super::{KeyFacts, SecurityFacts, SecurityScore, Severity, security_score};

pub(super) fn facts(email: bool, mfa: bool, zxcvbn: u8) -> SecurityFacts {
    SecurityFacts {
        email_verified: email,
        mfa_enabled: mfa,
        password_zxcvbn: Some(zxcvbn),
        backup_codes_remaining: mfa.then_some(10),
        ..SecurityFacts::default()
    }
}

pub(super) fn ids(s: &SecurityScore) -> Vec<&str> {
    s.recommendations.iter().map(|r| r.id.as_str()).collect()
}

pub(super) fn key(id: &str) -> KeyFacts {
    KeyFacts {
        id: id.into(),
        name: format!("{id}-name"),
        has_expiry: true,
        wildcard_or_cross_env: false,
        last_used_days_ago: Some(0),
        age_days: 1,
    }
}

pub(super) fn key_recs(k: KeyFacts) -> Vec<(String, Severity, Option<String>)> {
    security_score(&SecurityFacts {
        keys: vec![k],
        ..facts(true, true, 4)
    })
    .recommendations
    .into_iter()
    .map(|r| (r.id, r.severity, r.target))
    .collect()
}
