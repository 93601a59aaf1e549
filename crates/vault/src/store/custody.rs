//! Storage for the vault's root key, as the master key wrapped it (`crate::custody`). One
//! row for the whole vault, not per tenant: every replica on one database must derive the
//! same keys, so the row lives where they all read it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::store::event::NewEvent;

/// The root key as stored: sealed under the master key, never in clear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedRootKey {
    /// Counts re-wraps from 1; part of the wrapping's AAD, so an older row put back
    /// does not open as the current one.
    pub version: u32,
    /// `nonce || AES-256-GCM(master key, root key)`.
    pub wrapped: Vec<u8>,
    /// Which master key wrapped it (`custody::MasterKey::describe`), so an error can name
    /// the key that is needed. Never key material.
    pub master: String,
    pub updated_at: DateTime<Utc>,
}

/// What [`CustodyStore::init_root_key`] found or did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootKeyInit {
    /// A root key was there already (another replica, or an earlier start).
    Existing(WrappedRootKey),
    /// The vault held no tenant: the fresh, random root key was stored.
    Created(WrappedRootKey),
    /// The vault holds data made before the root key existed: the legacy one was stored.
    Adopted(WrappedRootKey),
    /// The vault holds data made before the root key existed, and no legacy root key was
    /// given (the master key is one that cannot have made that data).
    LegacyNeeded,
}

#[async_trait]
pub trait CustodyStore: Send + Sync + 'static {
    /// The wrapped root key, `None` before the first start of a version that has one.
    async fn root_key(&self) -> StoreResult<Option<WrappedRootKey>>;

    /// On a start that finds no root key, in one transaction: keep a row another replica
    /// stored meanwhile; else store `legacy` when the vault holds any tenant (its keys were
    /// derived before the root key existed), else `fresh`. Replicas starting together so
    /// agree on one root key.
    async fn init_root_key(
        &self,
        fresh: WrappedRootKey,
        legacy: Option<WrappedRootKey>,
    ) -> StoreResult<RootKeyInit>;

    /// Replace the root key of version `row.version - 1` by `row` (the same key wrapped
    /// anew), with `event`. `Conflict::RootKeyChanged` when the stored version is another:
    /// a rotation raced this one, and nothing is written.
    async fn rewrap_root_key(&self, row: WrappedRootKey, event: NewEvent) -> StoreResult<()>;
}
