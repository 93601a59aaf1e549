//! The HTTP API's request and response bodies (API.md), shared by server and client.
//!
//! Requests refuse unknown fields so that a typo in a field name is an error rather than
//! a silently ignored setting. Secrets travel in [`Sensitive`] so they cannot be logged
//! by accident on either side.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Sensitive;

/// A member's role in their tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Approver,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Approver => "approver",
            Self::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Self::Owner),
            "admin" => Some(Self::Admin),
            "approver" => Some(Self::Approver),
            "member" => Some(Self::Member),
            _ => None,
        }
    }

    /// Owners and admins see the whole tenant's audit log and manage its settings.
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }

    /// Owners, admins and approvers decide approval requests.
    pub fn can_approve(self) -> bool {
        matches!(self, Self::Owner | Self::Admin | Self::Approver)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub email_verified: bool,
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    #[schema(schema_with = schema::email)]
    pub email: String,
    #[schema(schema_with = schema::new_password)]
    pub password: Sensitive<String>,
    #[serde(default)]
    #[schema(schema_with = schema::name_or_null)]
    pub display_name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub invitation: Option<Sensitive<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignupResponse {
    pub user: User,
    pub tenant: Tenant,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(schema_with = schema::email)]
    pub email: String,
    #[schema(value_type = String)]
    pub password: Sensitive<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginMfaRequest {
    #[schema(value_type = String)]
    pub mfa_ticket: Sensitive<String>,
    #[schema(schema_with = schema::mfa_code)]
    pub code: Sensitive<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct SessionResponse {
    #[schema(value_type = String)]
    pub session_token: Sensitive<String>,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    pub user: User,
    pub tenant: Tenant,
    pub role: Role,
}

/// One of the signed-in person's sessions (`GET /v1/me/sessions`). The id is not the
/// session token, which the server never stores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The session this request came with.
    pub current: bool,
}

/// `POST /v1/me/sessions/end-others`: how many sessions were signed out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EndedSessions {
    pub ended: u64,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String)]
    pub current_password: Sensitive<String>,
    #[schema(schema_with = schema::new_password)]
    pub new_password: Sensitive<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    #[schema(value_type = String)]
    pub token: Sensitive<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthRequest {
    /// The 6-digit TOTP code when 2FA is on, else the password.
    #[schema(value_type = String)]
    pub code: Sensitive<String>,
}

/// Who did something, in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    /// `user`, `agent_key`, `token`, `anonymous` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    /// Microsecond precision.
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub target: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// `info`, `warning` or `critical` (docs/audit.md#severity).
    #[serde(default)]
    pub severity: Severity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditVerifyResponse {
    pub ok: bool,
    pub checked: u64,
    pub first_bad: Option<i64>,
}

/// `GET /v1/audit/actions`: the distinct actions of the events the caller may read,
/// sorted; the audit screen's action filter lists these.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditActions {
    pub actions: Vec<String>,
}

/// Filters for `GET /v1/audit`. All optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// The lowest severity to include: `warning` gives warnings and critical events.
    pub severity: Option<Severity>,
}

pub const DEFAULT_PAGE_LIMIT: u32 = 50;
pub const MAX_PAGE_LIMIT: u32 = 500;

// Each area of the API keeps its wire types in its own file, re-exported here.

mod mfa;
pub mod schema;
pub use mfa::*;
mod detect;
pub use detect::*;
mod keys;
pub use keys::*;
mod secrets;
pub use secrets::*;
mod approvals;
pub use approvals::*;
mod events;
pub use events::*;
