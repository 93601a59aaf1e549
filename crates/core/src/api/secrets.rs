//! Secrets and their metadata (API.md "Secrets").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Sensitive;
use crate::path::SecretPath;
use crate::tier::{SecretType, Tier};

/// `PUT /v1/secrets/{path}`. Omitted `type`/`tier` keep the secret's current ones (or the
/// defaults, `generic` and `standard`, for a new secret).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutSecretRequest {
    #[schema(value_type = String)]
    pub value: Sensitive<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<SecretType>,
    #[serde(default)]
    pub tier: Option<Tier>,
}

/// `200` from `PUT /v1/secrets/{path}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct SecretWritten {
    pub path: SecretPath,
    pub version: u32,
    pub tier: Tier,
    #[serde(rename = "type")]
    pub kind: SecretType,
    pub updated_at: DateTime<Utc>,
}

/// `200` from `GET /v1/secrets/{path}`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct SecretValue {
    pub path: SecretPath,
    pub version: u32,
    #[schema(value_type = String)]
    pub value: Sensitive<String>,
    #[serde(rename = "type")]
    pub kind: SecretType,
    pub tier: Tier,
}

/// `?version=N` on `GET /v1/secrets/{path}`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretReadQuery {
    pub version: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct SecretVersionInfo {
    pub version: u32,
    pub created_at: DateTime<Utc>,
    /// `user:<id>`, `agent_key:<id>` or `token:<id>`.
    pub created_by: String,
}

/// `GET /v1/metadata/{path}`: everything about a secret but its value.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct SecretMetadata {
    pub path: SecretPath,
    #[serde(rename = "type")]
    pub kind: SecretType,
    pub tier: Tier,
    pub current_version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub versions: Vec<SecretVersionInfo>,
}

/// One item of `GET /v1/metadata?prefix=`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct SecretSummary {
    pub path: SecretPath,
    #[serde(rename = "type")]
    pub kind: SecretType,
    pub tier: Tier,
    pub current_version: u32,
    pub updated_at: DateTime<Utc>,
}

/// `GET /v1/metadata?prefix=&limit=&cursor=`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetadataQuery {
    pub prefix: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `200` from `POST /v1/admin/kek/rotate`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct KekRotated {
    pub kek_version: u32,
    /// How many secret versions had their data key re-wrapped.
    pub rewrapped: u64,
}
