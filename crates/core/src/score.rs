//! The security score behind `GET /v1/me/security` and the dashboard's headline number.
//!
//! A pure function of facts the server gathers, so the rules can be read in one place and
//! tested without a database. The score and status come from three account factors only
//! (email verified, 2FA on, strong password), so a person can always see why the number is
//! what it is; everything else (agent-key hygiene, backup codes, approvals waiting) becomes
//! recommendations. docs/security-score.md explains the weights to users and reviewers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::password::STRONG_ZXCVBN_SCORE;
use crate::scope::{Scope, is_cross_environment};

/// Points for a verified email: it is how a person recovers the account and hears of
/// sign-ins, but on its own it stops no attacker.
pub const EMAIL_WEIGHT: u8 = 20;
/// Points for 2FA: the factor that stops a stolen password, so it carries half the score.
pub const MFA_WEIGHT: u8 = 50;
/// Points for a password zxcvbn rates strong ([`STRONG_ZXCVBN_SCORE`] or more).
pub const PASSWORD_WEIGHT: u8 = 30;
/// At or below this many backup codes left, suggest a new set.
pub const FEW_BACKUP_CODES: u32 = 3;
/// An agent key unused this long (or never used, and this old) is probably not needed.
pub const UNUSED_DAYS: i64 = 30;
/// An agent key this old should be rotated.
pub const OLD_KEY_DAYS: i64 = 90;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoreStatus {
    /// All three factors hold.
    Protected,
    /// Something is missing, but a stolen password alone is not enough to get in.
    AtRisk,
    /// 2FA is off and at most one factor holds: a guessed or phished password is the
    /// whole account.
    Exposed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FactorId {
    EmailVerified,
    Mfa,
    PasswordStrength,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Factor {
    pub id: FactorId,
    pub ok: bool,
    /// One sentence for the dashboard.
    pub detail: String,
}

/// Ordered so that sorting descending puts the most urgent first.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// The recommendation ids the server emits. On the wire the id is a plain string, so an
/// older desktop app shows a newer server's recommendation instead of failing to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecommendationId {
    VerifyEmail,
    EnableMfa,
    StrengthenPassword,
    RegenerateBackupCodes,
    KeyWithoutExpiry,
    KeyBroadScope,
    KeyUnused,
    KeyOld,
    PendingApprovals,
}

impl RecommendationId {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::EnableMfa => "enable_mfa",
            Self::StrengthenPassword => "strengthen_password",
            Self::RegenerateBackupCodes => "regenerate_backup_codes",
            Self::KeyWithoutExpiry => "key_without_expiry",
            Self::KeyBroadScope => "key_broad_scope",
            Self::KeyUnused => "key_unused",
            Self::KeyOld => "key_old",
            Self::PendingApprovals => "pending_approvals",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    /// One of [`RecommendationId`]'s strings.
    pub id: String,
    pub severity: Severity,
    pub message: String,
    /// The agent key it is about, for per-key recommendations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Recommendation {
    fn new(id: RecommendationId, severity: Severity, message: String) -> Self {
        Self {
            id: id.as_str().to_owned(),
            severity,
            message,
            target: None,
        }
    }

    fn about(mut self, key: &KeyFacts) -> Self {
        self.target = Some(key.id.clone());
        self
    }
}

/// The body of `GET /v1/me/security`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecurityScore {
    /// 0 to 100.
    pub score: u8,
    pub status: ScoreStatus,
    /// Always the three factors, in the order email, 2FA, password.
    pub factors: Vec<Factor>,
    /// Most severe first.
    pub recommendations: Vec<Recommendation>,
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

pub fn security_score(facts: &SecurityFacts) -> SecurityScore {
    use RecommendationId as R;
    use Severity::{High, Low, Medium};

    let email_ok = facts.email_verified;
    let mfa_ok = facts.mfa_enabled;
    let password_ok = facts
        .password_zxcvbn
        .is_some_and(|s| s >= STRONG_ZXCVBN_SCORE);

    let factors = vec![
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
    ];

    let score = [
        (email_ok, EMAIL_WEIGHT),
        (mfa_ok, MFA_WEIGHT),
        (password_ok, PASSWORD_WEIGHT),
    ]
    .into_iter()
    .filter(|(ok, _)| *ok)
    .map(|(_, w)| w)
    .sum();

    let ok_count = factors.iter().filter(|f| f.ok).count();
    let status = if ok_count == factors.len() {
        ScoreStatus::Protected
    } else if !mfa_ok && ok_count < 2 {
        ScoreStatus::Exposed
    } else {
        ScoreStatus::AtRisk
    };

    let mut recs = Vec::new();
    if !mfa_ok {
        recs.push(Recommendation::new(
            R::EnableMfa,
            High,
            "Turn on two-factor authentication with an authenticator app.".to_owned(),
        ));
    }
    if !password_ok {
        recs.push(Recommendation::new(
            R::StrengthenPassword,
            Medium,
            "Change your password to a longer passphrase of unrelated words.".to_owned(),
        ));
    }
    if !email_ok {
        recs.push(Recommendation::new(
            R::VerifyEmail,
            Medium,
            "Verify your email address so you can recover your account.".to_owned(),
        ));
    }
    if mfa_ok
        && let Some(left) = facts.backup_codes_remaining
        && left <= FEW_BACKUP_CODES
    {
        let severity = if left == 0 { High } else { Medium };
        recs.push(Recommendation::new(
            R::RegenerateBackupCodes,
            severity,
            format!(
                "You have {} left; generate a new set and store it safely.",
                plural(left, "backup code", "backup codes")
            ),
        ));
    }
    if facts.pending_approvals_for_me > 0 {
        recs.push(Recommendation::new(
            R::PendingApprovals,
            Medium,
            format!(
                "{} waiting for your decision.",
                plural(
                    facts.pending_approvals_for_me,
                    "approval request is",
                    "approval requests are"
                )
            ),
        ));
    }
    for key in &facts.keys {
        let name = &key.name;
        if key.wildcard_or_cross_env {
            recs.push(
                Recommendation::new(
                    R::KeyBroadScope,
                    High,
                    format!(
                        "Agent key \"{name}\" reaches every secret or more than one environment; narrow its scopes."
                    ),
                )
                .about(key),
            );
        }
        if !key.has_expiry {
            recs.push(
                Recommendation::new(
                    R::KeyWithoutExpiry,
                    Medium,
                    format!("Agent key \"{name}\" never expires; give it an expiry date."),
                )
                .about(key),
            );
        }
        if key.age_days >= OLD_KEY_DAYS {
            recs.push(
                Recommendation::new(
                    R::KeyOld,
                    Medium,
                    format!(
                        "Agent key \"{name}\" is {} days old; rotate it.",
                        key.age_days
                    ),
                )
                .about(key),
            );
        }
        let idle_days = key.last_used_days_ago.unwrap_or(key.age_days);
        if idle_days >= UNUSED_DAYS {
            let message = match key.last_used_days_ago {
                Some(d) => format!(
                    "Agent key \"{name}\" has not been used for {d} days; revoke it if it is no longer needed."
                ),
                None => format!(
                    "Agent key \"{name}\" has never been used; revoke it if it is no longer needed."
                ),
            };
            recs.push(Recommendation::new(R::KeyUnused, Low, message).about(key));
        }
    }
    // Stable, so within one severity the account's own items stay ahead of per-key ones.
    recs.sort_by_key(|r| std::cmp::Reverse(r.severity));

    SecurityScore {
        score,
        status,
        factors,
        recommendations: recs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn facts(email: bool, mfa: bool, zxcvbn: u8) -> SecurityFacts {
        SecurityFacts {
            email_verified: email,
            mfa_enabled: mfa,
            password_zxcvbn: Some(zxcvbn),
            backup_codes_remaining: mfa.then_some(10),
            ..SecurityFacts::default()
        }
    }

    fn ids(s: &SecurityScore) -> Vec<&str> {
        s.recommendations.iter().map(|r| r.id.as_str()).collect()
    }

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

    fn key(id: &str) -> KeyFacts {
        KeyFacts {
            id: id.into(),
            name: format!("{id}-name"),
            has_expiry: true,
            wildcard_or_cross_env: false,
            last_used_days_ago: Some(0),
            age_days: 1,
        }
    }

    fn key_recs(k: KeyFacts) -> Vec<(String, Severity, Option<String>)> {
        security_score(&SecurityFacts {
            keys: vec![k],
            ..facts(true, true, 4)
        })
        .recommendations
        .into_iter()
        .map(|r| (r.id, r.severity, r.target))
        .collect()
    }

    #[test]
    fn a_tidy_key_has_no_recommendations() {
        assert!(key_recs(key("k")).is_empty());
    }

    #[test]
    fn key_recommendations() {
        let t = Some("k".to_owned());
        assert_eq!(
            key_recs(KeyFacts {
                has_expiry: false,
                ..key("k")
            }),
            [("key_without_expiry".into(), Severity::Medium, t.clone())]
        );
        assert_eq!(
            key_recs(KeyFacts {
                wildcard_or_cross_env: true,
                ..key("k")
            }),
            [("key_broad_scope".into(), Severity::High, t.clone())]
        );
        // Unused: by last use, or by age when never used; 29 days is not yet.
        let unused = [("key_unused".to_owned(), Severity::Low, t.clone())];
        assert_eq!(
            key_recs(KeyFacts {
                last_used_days_ago: Some(30),
                age_days: 40,
                ..key("k")
            }),
            unused
        );
        assert!(
            key_recs(KeyFacts {
                last_used_days_ago: Some(29),
                age_days: 40,
                ..key("k")
            })
            .is_empty()
        );
        assert_eq!(
            key_recs(KeyFacts {
                last_used_days_ago: None,
                age_days: 30,
                ..key("k")
            }),
            unused
        );
        assert!(
            key_recs(KeyFacts {
                last_used_days_ago: None,
                age_days: 29,
                ..key("k")
            })
            .is_empty()
        );
        // Old: 90 days and more.
        assert_eq!(
            key_recs(KeyFacts {
                age_days: 90,
                ..key("k")
            }),
            [("key_old".into(), Severity::Medium, t.clone())]
        );
        assert!(
            key_recs(KeyFacts {
                age_days: 89,
                ..key("k")
            })
            .is_empty()
        );
    }

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

    #[test]
    fn serde_shape_matches_the_contract() {
        let s = security_score(&SecurityFacts {
            keys: vec![KeyFacts {
                has_expiry: false,
                ..key("k1")
            }],
            ..facts(true, false, 4)
        });
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["score"], 50);
        assert_eq!(v["status"], "at_risk");
        assert_eq!(
            v["factors"][0],
            serde_json::json!({"id": "email_verified", "ok": true, "detail": "Your email address is verified."})
        );
        assert_eq!(v["factors"][1]["id"], "mfa");
        assert_eq!(v["factors"][2]["id"], "password_strength");
        let recs = v["recommendations"].as_array().unwrap();
        assert_eq!(recs[0]["id"], "enable_mfa");
        assert_eq!(recs[0]["severity"], "high");
        assert!(recs[0].get("target").is_none(), "absent, not null");
        assert_eq!(recs[1]["id"], "key_without_expiry");
        assert_eq!(recs[1]["severity"], "medium");
        assert_eq!(recs[1]["target"], "k1");
        let back: SecurityScore = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            serde_json::to_value(ScoreStatus::Protected).unwrap(),
            "protected"
        );
        assert_eq!(
            serde_json::to_value(ScoreStatus::Exposed).unwrap(),
            "exposed"
        );
        assert_eq!(serde_json::to_value(Severity::Low).unwrap(), "low");
    }
}
