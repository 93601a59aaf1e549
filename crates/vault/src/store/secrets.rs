//! Storage for tenant KEKs and encrypted secret versions. The store only ever sees
//! ciphertext and wrapped keys; sealing and opening happen in `crate::crypto`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::path::{PathPrefix, SecretPath};
use keyhold_core::tier::{SecretType, Tier};

use super::StoreResult;
use super::approvals::{GrantUse, VoidEvent};
use crate::store::event::NewEvent;

/// A tenant key-encryption key, wrapped by the master-derived wrap key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KekRow {
    pub tenant_id: String,
    pub version: u32,
    pub wrapped: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRecord {
    /// The secret's identity: a delete and re-create at the same path makes a new one.
    pub id: String,
    pub tenant_id: String,
    pub path: SecretPath,
    pub kind: SecretType,
    pub tier: Tier,
    pub current_version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One stored version: ciphertext and the wrapped data key, nothing readable.
#[derive(Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub version: u32,
    pub ciphertext: Vec<u8>,
    pub wrapped_dek: Vec<u8>,
    pub kek_version: u32,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl std::fmt::Debug for VersionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionRow")
            .field("version", &self.version)
            .field("kek_version", &self.kek_version)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// What a sealer returns for the version number it is given.
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub wrapped_dek: Vec<u8>,
}

/// Encrypts the value for the version number the store assigns, inside the write
/// transaction, so the version bound into the AAD is the one stored.
pub type Sealer = Box<dyn FnOnce(u32) -> StoreResult<Sealed> + Send>;

/// A stored data key, as rotation sees it.
pub struct DekRef<'a> {
    pub path: &'a str,
    pub version: u32,
    pub kek_version: u32,
    pub wrapped_dek: &'a [u8],
}

/// Re-wraps one data key under the new KEK.
pub type Rewrapper = Box<dyn FnMut(&DekRef<'_>) -> StoreResult<Vec<u8>> + Send>;

/// A write of a new version.
#[derive(Clone, Debug)]
pub struct NewVersion {
    pub tenant_id: String,
    pub path: SecretPath,
    /// `None` keeps the current type (or `generic` for a new secret).
    pub kind: Option<SecretType>,
    /// `None` keeps the current tier (or `standard` for a new secret).
    pub tier: Option<Tier>,
    /// The tenant KEK version the sealer wraps with; the write fails with `Conflict` if a
    /// rotation made another version current meanwhile.
    pub kek_version: u32,
    pub created_by: String,
    pub now: DateTime<Utc>,
    /// The secret as the gate saw it: `None` absent, else its id and tier. The write
    /// fails with `Conflict::SecretChanged` when the stored secret differs by then.
    pub seen: Option<(String, Tier)>,
    /// The grant this write spends (lowering the tier, an agent's write to a critical
    /// secret), in the same transaction; `Conflict::GrantGone` when it is not usable.
    pub grant: Option<GrantUse>,
    /// Raising the tier voids the secret's open requests and unused grants, each audited
    /// with the event this builds.
    pub voided: VoidEvent,
}

/// A delete as the gate decided it.
#[derive(Clone, Debug)]
pub struct Deletion {
    pub tenant_id: String,
    pub path: SecretPath,
    /// The identity of the secret the gate saw; `Conflict::SecretChanged` otherwise.
    pub secret_id: String,
    /// The `delete` grant this delete spends, for a tiered secret.
    pub grant: Option<String>,
    /// The delete voids the secret's other open requests and unused grants.
    pub voided: VoidEvent,
}

#[async_trait]
pub trait SecretStore: Send + Sync + 'static {
    /// The tenant's newest KEK.
    async fn current_kek(&self, tenant_id: &str) -> StoreResult<Option<KekRow>>;
    async fn kek(&self, tenant_id: &str, version: u32) -> StoreResult<Option<KekRow>>;
    /// Every KEK row of the tenant (for rotation).
    async fn keks(&self, tenant_id: &str) -> StoreResult<Vec<KekRow>>;
    /// Insert the tenant's first KEK unless another request got there first.
    async fn insert_first_kek(&self, row: KekRow) -> StoreResult<()>;
    /// Tenants that have a KEK (for `keyhold-server kek rotate`).
    async fn kek_tenants(&self) -> StoreResult<Vec<String>>;

    async fn secret(&self, tenant_id: &str, path: &SecretPath)
    -> StoreResult<Option<SecretRecord>>;
    /// The secret and one version (the current one when `version` is `None`).
    async fn secret_version(
        &self,
        tenant_id: &str,
        path: &SecretPath,
        version: Option<u32>,
    ) -> StoreResult<Option<(SecretRecord, VersionRow)>>;
    async fn secret_versions(
        &self,
        tenant_id: &str,
        path: &SecretPath,
    ) -> StoreResult<Vec<VersionInfo>>;
    /// Secrets below `prefix`, ordered by path, paths after `after`.
    async fn list_secrets(
        &self,
        tenant_id: &str,
        prefix: &PathPrefix,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SecretRecord>>;

    /// Write the next version. `event` gets `version` added to its detail.
    async fn put_secret(
        &self,
        new: NewVersion,
        seal: Sealer,
        event: NewEvent,
    ) -> StoreResult<SecretRecord>;

    /// Delete the secret and all its versions, spend the grant and void the rest.
    /// `NotFound` if absent.
    async fn delete_secret(&self, del: Deletion, event: NewEvent) -> StoreResult<()>;

    /// Make `new` the tenant's KEK: re-wrap every data key with `rewrap`, then drop the
    /// older KEK rows, all in one transaction with `event` (which gets the count added).
    /// `Conflict` if `new.version` is not the next version.
    async fn rotate_kek(&self, new: KekRow, rewrap: Rewrapper, event: NewEvent)
    -> StoreResult<u64>;
}
