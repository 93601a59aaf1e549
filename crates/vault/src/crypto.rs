//! Envelope encryption (security invariant 2) and the in-memory cache of tenant KEKs.
//!
//! Each secret version gets a fresh 256-bit data key (DEK). The value is sealed with
//! AES-256-GCM under the DEK, with a random 96-bit nonce and the AAD
//! `keyhold/secret/v1|tenant|path|version`. The DEK is sealed the same way under the
//! tenant's current key-encryption key (KEK), AAD `keyhold/dek/v1|tenant|path|version`, and
//! the KEK under `Keys.wrap` (derived from the master key), AAD
//! `keyhold/kek/v1|tenant|kek version`. Every blob is `nonce || ciphertext+tag`.
//!
//! Because every layer's AAD names the row it belongs to, a ciphertext or wrapped key
//! copied to another path, version or tenant fails authentication: the result is always
//! [`IntegrityError`], never another secret's plaintext. Paths cannot contain `|`, and
//! tenant ids are UUIDs, so the AAD fields cannot run into each other.

use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::{Zeroize, Zeroizing};

use crate::keys::Key32;

const NONCE_LEN: usize = 12;

/// Authentication failed: the blob was altered, moved, or sealed under another key. The
/// message says nothing about which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("stored ciphertext failed its integrity check")]
pub struct IntegrityError;

fn cipher(key: &Key32) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.bytes()))
}

fn seal(key: &Key32, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, IntegrityError> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let ct = cipher(key)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| IntegrityError)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open(key: &Key32, blob: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, IntegrityError> {
    if blob.len() < NONCE_LEN + 16 {
        return Err(IntegrityError);
    }
    let (nonce, ct) = blob.split_at(NONCE_LEN);
    cipher(key)
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| IntegrityError)
}

pub(crate) fn key_from(bytes: &[u8]) -> Result<Key32, IntegrityError> {
    let mut k = [0u8; 32];
    if bytes.len() != 32 {
        return Err(IntegrityError);
    }
    k.copy_from_slice(bytes);
    let key = Key32::from_bytes(k);
    k.zeroize();
    Ok(key)
}

fn random_key() -> Key32 {
    let mut k = [0u8; 32];
    OsRng.fill_bytes(&mut k);
    let key = Key32::from_bytes(k);
    k.zeroize();
    key
}

fn kek_aad(tenant: &str, version: u32) -> Vec<u8> {
    format!("keyhold/kek/v1|{tenant}|{version}").into_bytes()
}

fn dek_aad(tenant: &str, path: &str, version: u32) -> Vec<u8> {
    format!("keyhold/dek/v1|{tenant}|{path}|{version}").into_bytes()
}

fn value_aad(tenant: &str, path: &str, version: u32) -> Vec<u8> {
    format!("keyhold/secret/v1|{tenant}|{path}|{version}").into_bytes()
}

/// A new random KEK.
/// Seal a 256-bit key under `key` with the caller's AAD (the root key under a master key
/// held in memory: `custody`).
pub(crate) fn wrap_key_with(key: &Key32, k: &Key32, aad: &[u8]) -> Result<Vec<u8>, IntegrityError> {
    seal(key, k.bytes(), aad)
}

/// Open what [`wrap_key_with`] sealed.
pub(crate) fn unwrap_key_with(
    key: &Key32,
    blob: &[u8],
    aad: &[u8],
) -> Result<Key32, IntegrityError> {
    key_from(&open(key, blob, aad)?)
}

pub fn new_kek() -> Key32 {
    random_key()
}

pub fn wrap_kek(
    wrap: &Key32,
    tenant: &str,
    version: u32,
    kek: &Key32,
) -> Result<Vec<u8>, IntegrityError> {
    seal(wrap, kek.bytes(), &kek_aad(tenant, version))
}

pub fn unwrap_kek(
    wrap: &Key32,
    tenant: &str,
    version: u32,
    blob: &[u8],
) -> Result<Key32, IntegrityError> {
    key_from(&open(wrap, blob, &kek_aad(tenant, version))?)
}

/// Seal `plaintext` under `key` with `aad` naming what it is and where it belongs (the
/// outbox's mail, a webhook's URL and signing secret): `nonce || ciphertext+tag`.
pub fn seal_bound(key: &Key32, plaintext: &[u8], aad: &str) -> Result<Vec<u8>, IntegrityError> {
    seal(key, plaintext, aad.as_bytes())
}

/// Open what [`seal_bound`] sealed with the same `aad`.
pub fn open_bound(
    key: &Key32,
    blob: &[u8],
    aad: &str,
) -> Result<Zeroizing<Vec<u8>>, IntegrityError> {
    open(key, blob, aad.as_bytes())
}

/// Encrypt one secret version: `(ciphertext, wrapped DEK)`.
pub fn seal_value(
    kek: &Key32,
    tenant: &str,
    path: &str,
    version: u32,
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), IntegrityError> {
    let dek = random_key();
    let ciphertext = seal(&dek, plaintext, &value_aad(tenant, path, version))?;
    let wrapped = seal(kek, dek.bytes(), &dek_aad(tenant, path, version))?;
    Ok((ciphertext, wrapped))
}

pub fn open_value(
    kek: &Key32,
    tenant: &str,
    path: &str,
    version: u32,
    ciphertext: &[u8],
    wrapped_dek: &[u8],
) -> Result<Zeroizing<Vec<u8>>, IntegrityError> {
    let dek = key_from(&open(kek, wrapped_dek, &dek_aad(tenant, path, version))?)?;
    open(&dek, ciphertext, &value_aad(tenant, path, version))
}

/// Move a wrapped DEK from one KEK to another; the ciphertext is untouched.
pub fn rewrap_dek(
    old: &Key32,
    new: &Key32,
    tenant: &str,
    path: &str,
    version: u32,
    wrapped_dek: &[u8],
) -> Result<Vec<u8>, IntegrityError> {
    let aad = dek_aad(tenant, path, version);
    let dek = open(old, wrapped_dek, &aad)?;
    seal(new, &dek, &aad)
}

/// Unwrapped tenant KEKs, so the hot path does not unwrap one per request. Bounded by a
/// `moka` cache with least-recently-used eviction (every entry can be unwrapped again from
/// the store; LRU rather than moka's default TinyLFU admission, so a tenant's freshly
/// rotated KEK is always taken in). Entries are [`Key32`], wiped when the last `Arc` drops.
pub struct KekCache {
    entries: Cache<(String, u32), Arc<Key32>>,
}

impl KekCache {
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity.max(1))
                .eviction_policy(EvictionPolicy::lru())
                .build(),
        }
    }

    pub fn get(&self, tenant: &str, version: u32) -> Option<Arc<Key32>> {
        self.entries.get(&(tenant.to_owned(), version))
    }

    pub fn insert(&self, tenant: &str, version: u32, key: Arc<Key32>) {
        self.entries.insert((tenant.to_owned(), version), key);
    }

    /// Drop a tenant's entries (after a rotation retired its old KEKs).
    pub fn forget_tenant(&self, tenant: &str) {
        for (k, _) in self.entries.iter() {
            if k.0 == tenant {
                self.entries.invalidate(&*k);
            }
        }
    }

    /// Drop every entry (rotations may have been missed).
    pub fn forget_all(&self) {
        self.entries.invalidate_all();
    }

    /// Entries held, after the cache has applied pending evictions.
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for KekCache {
    fn default() -> Self {
        Self::new(10_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(b: u8) -> Key32 {
        Key32::from_bytes([b; 32])
    }

    #[test]
    fn value_round_trips_and_is_bound_to_its_row() {
        let kek = k(1);
        let (ct, wd) = seal_value(&kek, "t1", "a/b", 1, b"hunter2").unwrap();
        assert_eq!(
            &**open_value(&kek, "t1", "a/b", 1, &ct, &wd).unwrap(),
            b"hunter2"
        );
        assert_eq!(
            open_value(&kek, "t2", "a/b", 1, &ct, &wd),
            Err(IntegrityError)
        );
        assert_eq!(
            open_value(&kek, "t1", "a/c", 1, &ct, &wd),
            Err(IntegrityError)
        );
        assert_eq!(
            open_value(&kek, "t1", "a/b", 2, &ct, &wd),
            Err(IntegrityError)
        );
        assert_eq!(
            open_value(&k(2), "t1", "a/b", 1, &ct, &wd),
            Err(IntegrityError)
        );
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 1;
            assert_eq!(
                open_value(&kek, "t1", "a/b", 1, &bad, &wd),
                Err(IntegrityError)
            );
        }
        assert_eq!(
            open_value(&kek, "t1", "a/b", 1, &ct[..10], &wd),
            Err(IntegrityError)
        );
    }

    #[test]
    fn fresh_dek_and_nonce_each_time() {
        let kek = k(1);
        let (c1, w1) = seal_value(&kek, "t", "p", 1, b"same").unwrap();
        let (c2, w2) = seal_value(&kek, "t", "p", 1, b"same").unwrap();
        assert_ne!(c1, c2);
        assert_ne!(w1, w2);
    }

    #[test]
    fn rewrap_keeps_the_ciphertext_readable() {
        let (old, new) = (k(1), k(2));
        let (ct, wd) = seal_value(&old, "t", "p", 3, b"v").unwrap();
        let wd2 = rewrap_dek(&old, &new, "t", "p", 3, &wd).unwrap();
        assert_eq!(&**open_value(&new, "t", "p", 3, &ct, &wd2).unwrap(), b"v");
        assert!(open_value(&old, "t", "p", 3, &ct, &wd2).is_err());
    }

    #[test]
    fn kek_wrap_is_bound_to_tenant_and_version() {
        let wrap = k(9);
        let kek = new_kek();
        let blob = wrap_kek(&wrap, "t", 1, &kek).unwrap();
        assert_eq!(
            unwrap_kek(&wrap, "t", 1, &blob).unwrap().bytes(),
            kek.bytes()
        );
        assert!(unwrap_kek(&wrap, "t", 2, &blob).is_err());
        assert!(unwrap_kek(&wrap, "u", 1, &blob).is_err());
    }

    #[test]
    fn cache_is_bounded() {
        let c = KekCache::new(2);
        c.insert("a", 1, Arc::new(k(1)));
        c.insert("b", 1, Arc::new(k(2)));
        assert_eq!(c.len(), 2);
        assert!(c.get("a", 1).is_some(), "a used last, b least recently");
        c.insert("c", 1, Arc::new(k(3)));
        assert_eq!(c.len(), 2);
        assert!(c.get("c", 1).is_some(), "a new entry is always taken in");
        assert!(c.get("b", 1).is_none(), "the least recently used one went");
        c.forget_tenant("c");
        assert!(c.get("c", 1).is_none());
        assert!(c.get("a", 1).is_some(), "other tenants stay");
        c.forget_tenant("a");
        assert!(c.is_empty());
    }
}
