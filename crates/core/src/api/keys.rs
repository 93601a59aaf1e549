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

/// `GET /v1/keys/{id}`: the key as the list shows it, and how it was used lately.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct KeyDetails {
    #[serde(flatten)]
    pub key: AgentKey,
    pub usage: KeyUsage,
}

/// How a key was used, read from the audit log (the key's own events and its tokens'):
/// secret reads and writes, tokens issued, approval requests and refused attempts. Counted
/// on request, so the agents' hot path writes nothing more for it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct KeyUsage {
    /// Audited requests in the last 24 hours.
    pub requests_24h: u64,
    /// Audited requests in the last 7 days.
    pub requests_7d: u64,
    /// Of the last 7 days' requests, those refused (scope, address, approval, lapsed key).
    pub refused_7d: u64,
    /// The addresses of the last 30 days, most recently seen first (at most 10).
    pub recent_ips: Vec<KeyAddress>,
}

/// One address a key (or one of its tokens) was used from.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct KeyAddress {
    pub ip: String,
    pub last_seen_at: DateTime<Utc>,
    /// Audited requests from it in the last 30 days.
    pub requests: u64,
}

/// A field that may be absent (leave it), `null` (clear it) or a value: absent reads as
/// `None`, `null` as `Some(None)`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /v1/keys/{id}`: change what a key may do without changing its secret. An absent
/// field is left as it is.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateKeyRequest {
    /// When the key stops working (RFC 3339, in the future), or `null` for never.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// CIDRs (or single addresses) the key may be used from; `[]` or `null`: anywhere.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = super::schema::ip_allowlist_or_null)]
    pub ip_allowlist: Option<Option<Vec<String>>>,
}

/// `POST /v1/keys/{id}/rotate`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeyRequest {
    /// How long the old key keeps working beside the new one: `"0s"` (revoked now, with
    /// its tokens) to `"7d"`; default `"1h"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::schema::rotation_overlap_or_null)]
    pub overlap: Option<String>,
}

/// `201` from `POST /v1/keys/{id}/rotate`: the new key and its secret (shown this once).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RotateKeyResponse {
    pub key: AgentKey,
    #[schema(value_type = String)]
    pub secret: Sensitive<String>,
    /// When the old key stops working: its revocation time when the overlap is 0, else
    /// the end of the overlap (or its own expiry, if sooner).
    pub old_key_expires_at: DateTime<Utc>,
}
