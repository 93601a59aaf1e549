//! Key custody: the root key every other key is derived from, and the master key that only
//! wraps it (docs/encryption.md, "Key hierarchy").
//!
//! Why the indirection: the password pepper and the credential-hash key end up inside
//! every stored password hash and credential hash, so they can never change without every
//! person choosing a new password and every agent getting a new key. Derived straight
//! from the master key, they pinned the master key for ever. Derived from a random root
//! key that the master key only wraps, the master key can be rotated (file to file, file
//! to HSM, HSM to a new HSM key) by re-wrapping one row, and nothing else changes.
//!
//! The wrapped root key is kept in the store, not in the data dir: replicas on one
//! PostgreSQL database must all derive the same keys, and a backup then carries it (it is
//! useless without the master key). A vault made before the root key existed derived its
//! keys from the master key's bytes, so on its first start those bytes become its root key
//! ([`open_root_key`]): every password, session, key and secret keeps working.

pub mod pkcs11;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::crypto;
use crate::keys::Key32;
use crate::store::event::NewEvent;
use crate::store::{CustodyStore, RootKeyInit, StoreError, WrappedRootKey};

/// A key that wraps the root key: a 32-byte key in memory (file, environment, keyring) or
/// an AES key inside a PKCS#11 token ([`pkcs11::Pkcs11MasterKey`]).
pub trait MasterKey: Send + Sync {
    /// What an operator knows this key as, stored beside the wrapped root key so an error
    /// can name the key that is needed. Never key material, never a PIN.
    fn describe(&self) -> String;
    /// `nonce || AES-256-GCM(master key, root)` with `aad`.
    fn wrap(&self, root: &Key32, aad: &[u8]) -> anyhow::Result<Vec<u8>>;
    /// The root key, or an error when `wrapped` was not sealed by this key with `aad`.
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> anyhow::Result<Key32>;
    /// The root key of a vault made before root keys existed (its keys came from this key's
    /// bytes): `None` for a key that never leaves its token, which cannot have made one.
    fn legacy_root(&self) -> Option<Key32>;
}

/// A master key held in memory: `master.key`, `KEYHOLD_MASTER_KEY` or the OS keyring.
pub struct MemoryMasterKey {
    key: Key32,
    fingerprint: String,
}

impl MemoryMasterKey {
    pub fn new(key: Key32) -> Self {
        // Names the key in errors and the audit log without revealing it: 32 bits of a
        // domain-separated hash of 256 random bits.
        let digest = Sha256::new()
            .chain_update(b"keyhold/master-key-fingerprint/v1|")
            .chain_update(key.bytes())
            .finalize();
        Self {
            key,
            fingerprint: hex::encode(&digest[..4]),
        }
    }
}

impl std::fmt::Debug for MemoryMasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemoryMasterKey({})", self.fingerprint)
    }
}

impl MasterKey for MemoryMasterKey {
    fn describe(&self) -> String {
        format!("key file {}", self.fingerprint)
    }

    fn wrap(&self, root: &Key32, aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        crypto::wrap_key_with(&self.key, root, aad).map_err(|e| anyhow::anyhow!("{e}"))
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> anyhow::Result<Key32> {
        crypto::unwrap_key_with(&self.key, wrapped, aad).map_err(|e| anyhow::anyhow!("{e}"))
    }

    fn legacy_root(&self) -> Option<Key32> {
        Some(self.key.clone())
    }
}

/// The AAD of the root key's wrapping: names what it is and its version, so a wrapped
/// root key of another version (an old row put back) does not open as this one.
pub fn root_aad(version: u32) -> Vec<u8> {
    format!("keyhold/root/v1|{version}").into_bytes()
}

fn wrap_row(
    master: &dyn MasterKey,
    root: &Key32,
    version: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<WrappedRootKey> {
    Ok(WrappedRootKey {
        version,
        wrapped: master.wrap(root, &root_aad(version))?,
        master: master.describe(),
        updated_at: now,
    })
}

fn unwrap_row(master: &dyn MasterKey, row: &WrappedRootKey) -> anyhow::Result<Key32> {
    master.unwrap(&row.wrapped, &root_aad(row.version)).map_err(|_| {
        anyhow::anyhow!(
            "the master key ({}) does not open this vault's root key, which {} wrapped (version {}): start with that master key",
            master.describe(),
            row.master,
            row.version
        )
    })
}

/// How [`open_root_key`] found the root key, for the start-up log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootKeyOrigin {
    /// Stored before, opened with the master key.
    Stored,
    /// A new vault: a random root key was made and stored.
    Created,
    /// A vault made before root keys existed: its master key's bytes became its root key.
    Adopted,
}

/// The vault's root key, opened with `master`; on the first start of a vault, made
/// (a new vault: random) or adopted (a vault that holds data: the master key's bytes).
pub async fn open_root_key(
    store: &dyn CustodyStore,
    master: &dyn MasterKey,
    now: DateTime<Utc>,
) -> anyhow::Result<(Key32, RootKeyOrigin)> {
    if let Some(row) = store.root_key().await? {
        return Ok((unwrap_row(master, &row)?, RootKeyOrigin::Stored));
    }
    let fresh_root = crypto::new_kek();
    let fresh = wrap_row(master, &fresh_root, 1, now)?;
    let legacy = master
        .legacy_root()
        .map(|root| wrap_row(master, &root, 1, now))
        .transpose()?;
    match store.init_root_key(fresh, legacy).await? {
        RootKeyInit::Existing(row) => Ok((unwrap_row(master, &row)?, RootKeyOrigin::Stored)),
        RootKeyInit::Created(row) => Ok((unwrap_row(master, &row)?, RootKeyOrigin::Created)),
        RootKeyInit::Adopted(row) => Ok((unwrap_row(master, &row)?, RootKeyOrigin::Adopted)),
        RootKeyInit::LegacyNeeded => anyhow::bail!(
            "this vault holds data made before its keys had a root key, and the master key ({}) \
             is not the one that made it: start once with the vault's master key file (or \
             KEYHOLD_MASTER_KEY), then move to this key with `keyhold-server master-key rotate`",
            master.describe()
        ),
    }
}

/// What a master key rotation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewrapped {
    pub version: u32,
    pub from: String,
    pub to: String,
}

/// Re-wrap the root key from `old` to `new` (`keyhold-server master-key rotate`), audited
/// as `master_key.rotated` on the tenant-less chain in the same transaction. The new
/// wrapping is opened with `new` before it is stored, so a key that cannot unwrap what it
/// wrapped is never made the only way in. Nothing else changes: every derived key stays.
pub async fn rotate_master_key(
    store: &dyn CustodyStore,
    old: &dyn MasterKey,
    new: &dyn MasterKey,
    now: DateTime<Utc>,
    event: impl FnOnce(&Rewrapped) -> NewEvent,
) -> anyhow::Result<Rewrapped> {
    let (root, _) = open_root_key(store, old, now).await?;
    let current = store
        .root_key()
        .await?
        .ok_or_else(|| anyhow::anyhow!("the vault has no root key"))?;
    let version = current
        .version
        .checked_add(1)
        .ok_or_else(|| anyhow::anyhow!("the root key cannot be re-wrapped again"))?;
    let row = wrap_row(new, &root, version, now)?;
    let back = new.unwrap(&row.wrapped, &root_aad(version))?;
    if back.bytes() != root.bytes() {
        anyhow::bail!("the new master key did not give back the root key it wrapped");
    }
    let done = Rewrapped {
        version,
        from: current.master,
        to: row.master.clone(),
    };
    match store.rewrap_root_key(row, event(&done)).await {
        Ok(()) => Ok(done),
        Err(StoreError::Conflict(c)) => anyhow::bail!("{}", c.message()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests;
