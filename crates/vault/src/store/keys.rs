//! Storage for agent keys and the scoped tokens they issue.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use keyhold_core::scope::Scope;

use super::StoreResult;
use crate::store::event::NewEvent;

/// An agent key row. The secret itself is never stored; its keyed hash is passed beside
/// the record when it is created and compared when the key is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub ip_allowlist: Vec<IpNet>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Set while a detection rule holds the key suspended (`store::detect`).
    pub suspended_at: Option<DateTime<Utc>>,
}

/// A scoped token row (its hash is stored beside it, never the token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub tenant_id: String,
    pub key_id: String,
    pub scopes: Vec<Scope>,
    pub ip_allowlist: Vec<IpNet>,
    pub expires_at: DateTime<Utc>,
    pub max_uses: Option<u32>,
    pub uses: u32,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    async fn create_key(
        &self,
        key: KeyRecord,
        secret_hash: String,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// A key and its stored secret hash, by id alone: the id comes from the credential
    /// itself, and the caller compares the hash before trusting the row.
    async fn key_for_auth(&self, key_id: &str) -> StoreResult<Option<(KeyRecord, String)>>;

    async fn key(&self, tenant_id: &str, key_id: &str) -> StoreResult<Option<KeyRecord>>;

    /// Keys of the tenant (of one owner if given), oldest first, ids after `after_id`.
    async fn list_keys(
        &self,
        tenant_id: &str,
        owner_id: Option<&str>,
        after_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<KeyRecord>>;

    /// Record a use: the caller decides when (at most once a minute).
    async fn touch_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        now: DateTime<Utc>,
        ip: Option<String>,
    ) -> StoreResult<()>;

    /// Revoke the key and every token it issued, in one transaction with `event`.
    /// `NotFound` when the tenant has no such key; revoking twice keeps the first time.
    async fn revoke_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;

    async fn create_token(
        &self,
        token: TokenRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// A token with the key that issued it, by the token's keyed hash.
    async fn token_for_auth(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(TokenRecord, KeyRecord)>>;

    async fn token(&self, tenant_id: &str, token_id: &str) -> StoreResult<Option<TokenRecord>>;

    /// Count one use of a token with `max_uses`, atomically: a single conditional UPDATE
    /// that succeeds only while uses remain, the token is unrevoked and unexpired.
    /// `false` when no use was left.
    async fn use_token(
        &self,
        tenant_id: &str,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// `NotFound` when the tenant has no such token.
    async fn revoke_token(
        &self,
        tenant_id: &str,
        token_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
}
