//! Agent keys and scoped tokens (API.md "Agent keys", "Scoped tokens").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Sensitive;
use crate::scope::Scope;

/// `POST /v1/keys`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Optional lifetime, e.g. `"90d"`; without it the key lives until revoked.
    #[serde(default)]
    pub expires_in: Option<String>,
    /// CIDRs (or single addresses) the key may be used from; empty or absent: anywhere.
    #[serde(default)]
    pub ip_allowlist: Option<Vec<String>>,
}

/// An agent key as people see it. Never carries the secret.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct AgentKey {
    pub id: String,
    pub name: String,
    /// The first characters of the secret (`kha_` and the start of the key id), enough to
    /// recognise a key and nothing to use it with.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub ip_allowlist: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The person who created the key.
    pub owner_id: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Set while a detection rule holds the key suspended (docs/alerts.md): its tokens are
    /// refused with 401 `key_suspended` until an owner or admin reinstates or revokes it.
    #[serde(default)]
    pub suspended_at: Option<DateTime<Utc>>,
}

/// `201` from `POST /v1/keys`: the one and only time the secret is shown.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CreateKeyResponse {
    pub key: AgentKey,
    #[schema(value_type = String)]
    pub secret: Sensitive<String>,
}

/// `POST /v1/keys/revoke-leaked`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeLeakedRequest {
    #[schema(value_type = String)]
    pub secret: Sensitive<String>,
}

/// `POST /v1/tokens` (authenticated with a `kha_` key).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueTokenRequest {
    pub scopes: Vec<Scope>,
    /// Lifetime, default `"1h"`, at most the tenant's `max_token_ttl` (24 h).
    #[serde(default)]
    pub ttl: Option<String>,
    #[serde(default)]
    pub ip_allowlist: Option<Vec<String>>,
    /// How many requests the token may make; at least 1.
    #[serde(default)]
    pub max_uses: Option<u32>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct IssueTokenResponse {
    #[schema(value_type = String)]
    pub token: Sensitive<String>,
    pub id: String,
    pub expires_at: DateTime<Utc>,
}
