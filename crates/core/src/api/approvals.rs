//! Approvals, tenant settings and members (API.md "Approvals", "Tenant settings",
//! "Members").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Role;
use crate::Sensitive;
use crate::path::SecretPath;
use crate::tier::Tier;

/// Where an approval request stands. `used` means its one read has happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    Expired,
    Used,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Used => "used",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "approved" => Some(Self::Approved),
            "denied" => Some(Self::Denied),
            "expired" => Some(Self::Expired),
            "used" => Some(Self::Used),
            _ => None,
        }
    }
}

/// `POST /v1/approvals` (authenticated as an agent).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApprovalRequest {
    pub path: SecretPath,
    pub reason: String,
}

/// A person, as approval requests show them.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
}

/// The agent key behind a request and the person who owns it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct RequestedBy {
    pub key_id: String,
    pub key_name: String,
    pub owner: PersonRef,
    /// The scoped token that asked, when it was a token.
    pub token_id: Option<String>,
}

/// One approver's yes.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct ApprovalVote {
    pub user: PersonRef,
    pub at: DateTime<Utc>,
    pub comment: Option<String>,
}

/// An approval request, as the inbox and the agent see it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct Approval {
    pub id: String,
    pub path: SecretPath,
    pub tier: Tier,
    pub requested_by: RequestedBy,
    pub reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// The request lapses at this time unless decided.
    pub expires_at: DateTime<Utc>,
    pub approvals: Vec<ApprovalVote>,
    pub required_approvals: u32,
    pub status: ApprovalStatus,
    /// When approved: the read is allowed from this time (after the critical delay)...
    pub available_at: Option<DateTime<Utc>>,
    /// ...until this time, once.
    pub grant_expires_at: Option<DateTime<Utc>>,
    pub denied_by: Option<PersonRef>,
    pub deny_reason: Option<String>,
    pub used_at: Option<DateTime<Utc>>,
}

/// `GET /v1/approvals?status=&limit=&cursor=`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalQuery {
    #[serde(default)]
    pub status: Option<ApprovalStatus>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `POST /v1/approvals/{id}/approve`. `code`: a fresh TOTP code, required for critical.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub code: Option<Sensitive<String>>,
}

/// `POST /v1/approvals/{id}/deny`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyRequest {
    pub reason: String,
}

/// Approval rules of a tenant. Durations are strings like `"10m"`; `critical_delay` may
/// be `"0s"`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSettings {
    pub sensitive: u32,
    pub critical: u32,
    pub critical_delay: String,
    pub request_ttl: String,
    pub grant_ttl: String,
}

/// `GET`/`PUT /v1/tenant/settings`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    pub approvals: ApprovalSettings,
    pub max_token_ttl: String,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            approvals: ApprovalSettings {
                sensitive: 1,
                critical: 2,
                critical_delay: "10m".into(),
                request_ttl: "24h".into(),
                grant_ttl: "1h".into(),
            },
            max_token_ttl: "24h".into(),
        }
    }
}

/// A member of the tenant (`GET /v1/members`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct Member {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/members/invitations`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub email: String,
    pub role: Role,
}

/// `201` from `POST /v1/members/invitations`. The token travels only in the mailed link.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// `PUT /v1/members/{id}/role`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub role: Role,
}

/// An item of `GET /v1/members/invitations`: a pending invitation (unused, unexpired, not
/// revoked) and who sent it. Never its token, which travels only in the mailed link.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct PendingInvitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: PersonRef,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
