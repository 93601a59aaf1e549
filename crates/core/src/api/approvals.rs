//! Approvals, tenant settings and members (API.md "Approvals", "Tenant settings",
//! "Members").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Role;
use crate::Sensitive;
use crate::path::SecretPath;
use crate::tier::Tier;

/// Where an approval request stands. `used` means its one operation has happened;
/// `voided` that the secret changed under it (tier raised, or deleted) before it was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    Expired,
    Used,
    Voided,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Used => "used",
            Self::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "approved" => Some(Self::Approved),
            "denied" => Some(Self::Denied),
            "expired" => Some(Self::Expired),
            "used" => Some(Self::Used),
            "voided" => Some(Self::Voided),
            _ => None,
        }
    }
}

/// What a grant allows, once: the gate covers more than reads (API.md "Approvals").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalOperation {
    /// Read the value of a `sensitive` or `critical` secret.
    #[default]
    Read,
    /// Delete a `sensitive` or `critical` secret.
    Delete,
    /// Write a new version with a lower tier than the current one.
    LowerTier,
    /// An agent writes a new version of a `critical` secret.
    AgentWrite,
}

impl ApprovalOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Delete => "delete",
            Self::LowerTier => "lower_tier",
            Self::AgentWrite => "agent_write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "delete" => Some(Self::Delete),
            "lower_tier" => Some(Self::LowerTier),
            "agent_write" => Some(Self::AgentWrite),
            _ => None,
        }
    }
}

/// `POST /v1/approvals`: ask ahead of the gated call. `operation` defaults to `read`;
/// `to_tier` names the new tier of a `lower_tier` request.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApprovalRequest {
    pub path: SecretPath,
    #[schema(schema_with = super::schema::reason)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<ApprovalOperation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_tier: Option<Tier>,
}

/// A person, as approval requests show them. `email` is left out for agents, who see
/// approvers' names and decisions but not their addresses.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub display_name: Option<String>,
}

impl PersonRef {
    /// The display name, else the email, else the id: what a list shows.
    pub fn label(&self) -> &str {
        self.display_name
            .as_deref()
            .or(self.email.as_deref())
            .unwrap_or(&self.id)
    }
}

/// Who asked: an agent key (with the person who owns it) or a person themself.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RequestedBy {
    Agent {
        key_id: String,
        key_name: String,
        owner: PersonRef,
        /// The scoped token that asked, when it was a token.
        token_id: Option<String>,
    },
    Person {
        user: PersonRef,
    },
}

impl RequestedBy {
    /// The person answerable for the request: the key's owner, or the person who asked.
    /// Neither may approve it.
    pub fn person(&self) -> &PersonRef {
        match self {
            Self::Agent { owner, .. } => owner,
            Self::Person { user } => user,
        }
    }

    /// "key-name (owner)" for an agent, the person's label otherwise.
    pub fn label(&self) -> String {
        match self {
            Self::Agent {
                key_name, owner, ..
            } => format!("{key_name} ({})", owner.label()),
            Self::Person { user } => user.label().to_owned(),
        }
    }
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
    /// The one operation the grant allows.
    #[serde(default)]
    pub operation: ApprovalOperation,
    /// For `lower_tier`: the tier the secret may be lowered to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_tier: Option<Tier>,
    pub requested_by: RequestedBy,
    pub reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// The request lapses at this time unless decided.
    pub expires_at: DateTime<Utc>,
    pub approvals: Vec<ApprovalVote>,
    pub required_approvals: u32,
    /// Seconds between the deciding vote and the grant becoming usable (the critical
    /// delay copied when the request was made; 0 for none): what an approver is agreeing
    /// to, shown before they vote.
    #[serde(default)]
    pub delay_secs: u32,
    /// Seconds the grant stays usable once available (the grant TTL copied when the
    /// request was made).
    #[serde(default)]
    pub grant_ttl_secs: u32,
    /// People who could approve this request at all (approver roles, not the requester
    /// or the key's owner, with 2FA for critical): fewer than `required_approvals` means
    /// the team must grow before it can pass.
    #[serde(default)]
    pub eligible_approvers: u32,
    pub status: ApprovalStatus,
    /// When approved: the read is allowed from this time (after the critical delay)...
    pub available_at: Option<DateTime<Utc>>,
    /// ...until this time, once.
    pub grant_expires_at: Option<DateTime<Utc>>,
    pub denied_by: Option<PersonRef>,
    pub deny_reason: Option<String>,
    pub used_at: Option<DateTime<Utc>>,
    /// Why a `voided` request was voided (`tier_raised`, `secret_deleted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub void_reason: Option<String>,
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
    #[schema(schema_with = super::schema::reason_or_null)]
    pub comment: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::totp_code_or_null)]
    pub code: Option<Sensitive<String>>,
}

/// `POST /v1/approvals/{id}/deny`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyRequest {
    #[schema(schema_with = super::schema::reason)]
    pub reason: String,
}

/// Approval rules of a tenant. Durations are strings like `"10m"`; `critical_delay` may
/// be `"0s"`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSettings {
    /// 1 to 5.
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "super::schema::whole::u32")]
    pub sensitive: u32,
    /// 2 to 5, and at least `sensitive` (422 otherwise).
    #[schema(minimum = 2, maximum = 5)]
    #[serde(deserialize_with = "super::schema::whole::u32")]
    pub critical: u32,
    #[schema(schema_with = super::schema::critical_delay)]
    pub critical_delay: String,
    #[schema(schema_with = super::schema::request_ttl)]
    pub request_ttl: String,
    #[schema(schema_with = super::schema::grant_ttl)]
    pub grant_ttl: String,
}

/// `GET`/`PUT /v1/tenant/settings`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    pub approvals: ApprovalSettings,
    #[schema(schema_with = super::schema::max_token_ttl)]
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
    #[schema(schema_with = super::schema::email)]
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
