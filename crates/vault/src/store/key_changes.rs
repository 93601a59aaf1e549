//! Storage for changes to an agent key after its creation (its expiry and allowlist, a
//! rotation) and for reading how it was used, from the audit log.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ipnet::IpNet;

use super::StoreResult;
use crate::store::KeyRecord;
use crate::store::event::NewEvent;

/// How a rotation ends the old key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OldKeyEnd {
    /// Revoked at this time, with every token it issued (an overlap of zero).
    RevokeAt(DateTime<Utc>),
    /// Expires at this time, or at its own expiry if sooner; its tokens lapse with it.
    ExpireBy(DateTime<Utc>),
}

/// The periods [`KeyChangeStore::key_usage`] counts over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageWindows {
    pub day: DateTime<Utc>,
    pub week: DateTime<Utc>,
    /// Addresses seen since then are listed.
    pub addresses: DateTime<Utc>,
    /// At most this many addresses, most recently seen first.
    pub max_addresses: u32,
}

/// What the audit log says of one key and its tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyUsageRecord {
    pub day: u64,
    pub week: u64,
    /// Events of the week whose outcome is not `success`.
    pub refused_week: u64,
    /// `(address, last seen, events since UsageWindows::addresses)`.
    pub addresses: Vec<(String, DateTime<Utc>, u64)>,
}

#[async_trait]
pub trait KeyChangeStore: Send + Sync + 'static {
    /// Set a key's expiry and allowlist, in one transaction with `event`. `NotFound` when
    /// the tenant has no such key; `Conflict::KeyRevoked` when it is revoked.
    async fn update_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        expires_at: Option<DateTime<Utc>>,
        ip_allowlist: Vec<IpNet>,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// Create `new` (with its secret's keyed hash) and end the key `old_key_id` as `end`
    /// says, in one transaction with `event`. Returns when the old key stops working.
    /// `NotFound` when the tenant has no such key; `Conflict::KeyRevoked` when it is
    /// revoked (also when a parallel call revoked or rotated it away first).
    async fn rotate_key(
        &self,
        old_key_id: &str,
        end: OldKeyEnd,
        new: KeyRecord,
        secret_hash: String,
        event: NewEvent,
    ) -> StoreResult<DateTime<Utc>>;

    /// Counts of the audit events the key or its tokens caused since each window's start,
    /// and the addresses they came from. A read of the log: nothing is written.
    async fn key_usage(
        &self,
        tenant_id: &str,
        key_id: &str,
        windows: UsageWindows,
    ) -> StoreResult<KeyUsageRecord>;
}
