//! Storage for Ed25519 agent keys (issue 20): the public keys an agent key verifies with
//! (two at once while it rotates), and the nonces of accepted signed requests. Kept apart
//! from `keys` (the `agent_keys` rows themselves): an Ed25519 key is an ordinary agent-key
//! row whose secret hash matches no credential, plus rows here.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::store::KeyRecord;
use crate::store::event::NewEvent;

/// At most this many unretired public keys per agent key: the old and the new while it
/// rotates.
pub const MAX_LIVE_PUBLIC_KEYS: usize = 2;

/// One public key of an agent key. Not secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyRecord {
    pub key_id: String,
    /// Hex SHA-256 of the raw key: how the API names it.
    pub fingerprint: String,
    /// The 32 raw bytes of the Ed25519 public key.
    pub public_key: [u8; 32],
    pub added_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait SigningKeyStore: Send + Sync + 'static {
    /// Create an agent key that authenticates by signature: its row (with a secret hash
    /// that no credential matches, `ed25519:<id>`) and its first public key, with `event`.
    async fn create_signing_key(
        &self,
        key: KeyRecord,
        public_key: PublicKeyRecord,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// The key a signed request names, with every public key it has (retired ones too),
    /// by id alone: the id comes from the request, and the caller verifies the signature
    /// before trusting the row.
    async fn signing_key_for_auth(
        &self,
        key_id: &str,
    ) -> StoreResult<Option<(KeyRecord, Vec<PublicKeyRecord>)>>;

    /// The public keys of the tenant's keys in `key_ids`, oldest first.
    async fn public_keys(
        &self,
        tenant_id: &str,
        key_ids: &[String],
    ) -> StoreResult<Vec<PublicKeyRecord>>;

    /// Add a public key to a key that has at least one already. `NotFound` when the tenant
    /// has no such key or it has no public key (a `kha_` key); `PublicKeyExists` when the
    /// key has this public key (even retired); `PublicKeyLimit` at
    /// [`MAX_LIVE_PUBLIC_KEYS`] unretired ones.
    async fn add_public_key(
        &self,
        tenant_id: &str,
        public_key: PublicKeyRecord,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// Retire one public key. `NotFound` when the key has no such public key;
    /// `PublicKeyRetired` when it is retired already; `PublicKeyLast` when it is the only
    /// unretired one (revoke the key instead).
    async fn retire_public_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// Remember a nonce of an accepted signature until `expires_at`, atomically: `false`
    /// when the key already used it and it has not expired. Expired nonces of the tenant
    /// are deleted in the same transaction.
    async fn remember_nonce(
        &self,
        tenant_id: &str,
        key_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<bool>;
}
