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
    #[schema(schema_with = super::schema::name)]
    pub name: String,
    #[schema(schema_with = super::schema::scopes)]
    pub scopes: Vec<Scope>,
    /// Optional lifetime, e.g. `"90d"`; without it the key lives until revoked.
    #[serde(default)]
    #[schema(schema_with = super::schema::key_lifetime_or_null)]
    pub expires_in: Option<String>,
    /// CIDRs (or single addresses) the key may be used from; empty or absent: anywhere.
    #[serde(default)]
    #[schema(schema_with = super::schema::ip_allowlist_or_null)]
    pub ip_allowlist: Option<Vec<String>>,
    /// An Ed25519 public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`): the key then
    /// authenticates by signing requests (RFC 9421, docs/credentials.md) and no `kha_`
    /// secret is made. The private key never reaches the server.
    #[serde(default)]
    #[schema(max_length = 1024)]
    pub public_key: Option<String>,
}

/// One Ed25519 public key of an agent key. Not secret.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct PublicKeyInfo {
    /// Hex SHA-256 of the 32 raw key bytes; names the key in the rotation routes.
    pub fingerprint: String,
    /// SPKI PEM, as it was given.
    pub public_key: String,
    pub added_at: DateTime<Utc>,
    /// Set once retired: signatures made with it are refused from then on.
    pub retired_at: Option<DateTime<Utc>>,
}

/// `POST /v1/keys/{id}/public-keys`: the new public key of a rotation.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddPublicKeyRequest {
    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`) of an Ed25519 key.
    #[schema(max_length = 1024)]
    pub public_key: String,
}

/// `201` from `POST /v1/keys` with a `public_key`: there is no secret to show. No other
/// field, so that the document's `oneOf` tells the two answers apart.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSigningKeyResponse {
    pub key: AgentKey,
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
    /// An Ed25519 key's public keys (two while it rotates, retired ones included); absent
    /// for a `kha_` key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<PublicKeyInfo>,
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

/// `201` from `POST /v1/keys`: a `kha_` key with its secret, or an Ed25519 key (made from
/// a `public_key`) without one.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum CreateKeyResult {
    Secret(CreateKeyResponse),
    Signing(CreateSigningKeyResponse),
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
    #[schema(schema_with = super::schema::scopes)]
    pub scopes: Vec<Scope>,
    /// Lifetime, default `"1h"`, at most the tenant's `max_token_ttl` (24 h).
    #[serde(default)]
    #[schema(schema_with = super::schema::token_ttl_or_null)]
    pub ttl: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::ip_allowlist_or_null)]
    pub ip_allowlist: Option<Vec<String>>,
    /// How many requests the token may make; at least 1.
    #[serde(default, deserialize_with = "super::schema::whole::opt_u32")]
    #[schema(schema_with = super::schema::max_uses_or_null)]
    pub max_uses: Option<u32>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct IssueTokenResponse {
    #[schema(value_type = String)]
    pub token: Sensitive<String>,
    pub id: String,
    pub expires_at: DateTime<Utc>,
}
