//! The body of `GET /v1/me/security` and its parts, as the API contract spells them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::KeyFacts;

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
// Named apart in the OpenAPI document: the audit and alert `Severity` (info, warning,
// critical) is another type, and two schemas of one name would overwrite each other.
#[schema(as = RecommendationSeverity)]
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
    AcknowledgeAlerts,
    KeySuspended,
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
            Self::AcknowledgeAlerts => "acknowledge_alerts",
            Self::KeySuspended => "key_suspended",
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
    pub(super) fn new(id: RecommendationId, severity: Severity, message: String) -> Self {
        Self {
            id: id.as_str().to_owned(),
            severity,
            message,
            target: None,
        }
    }

    pub(super) fn about(mut self, key: &KeyFacts) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::test_support::{facts, key};
    use crate::score::{KeyFacts, SecurityFacts, security_score};

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
