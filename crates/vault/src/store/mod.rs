//! The storage seam. The domain sees only [`Store`]; SQLite implements it now and a
//! PostgreSQL store can implement it later without touching the domain ([`postgres`] has
//! its schema and migrations so far).
//!
//! One trait per area, each in its own file with its records ([`accounts`], [`sessions`],
//! [`audit`], [`keys`], [`secrets`], [`approvals`], [`settings`], [`members`],
//! [`invitations`], [`mfa`], [`recovery`], [`signing_keys`], [`key_changes`]), re-exported here so `crate::store::X` names any of them.
//! A backend implements every area trait and [`Store`] itself; refusals it reports with
//! the typed [`Conflict`], so the domain matches on variants whatever the backend.
//!
//! Every method that performs a security-relevant action takes the audit event to write and
//! commits both in one transaction (security invariant 7): if the event cannot be written,
//! the action does not happen.

pub mod accounts;
pub mod approvals;
pub mod audit;
pub(crate) mod audit_signals;
pub mod conflict;
pub mod custody;
pub mod detect;
pub mod event;
pub mod failures;
pub mod invitations;
pub mod key_changes;
pub mod keys;
pub mod members;
pub mod metrics;
pub mod mfa;
pub mod outbox;
pub mod postgres;
pub mod recovery;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod signing_keys;
pub mod sqlite;

use async_trait::async_trait;

pub use accounts::{AccountStore, EmailTokenRecord, TenantRecord, UserRecord};
pub use approvals::{
    ApprovalRecord, ApprovalStore, ApprovalView, ExpiryEvent, GrantUse, Requester, VoidEvent,
    VoteEvent,
};
pub use audit::{AuditScope, AuditStore, AuditVerify};
pub use conflict::Conflict;
pub use custody::{CustodyStore, RootKeyInit, WrappedRootKey};
pub use detect::DetectionStore;
pub use failures::FailureStore;
pub use invitations::{InvitationRecord, InvitationStore};
pub use key_changes::{KeyChangeStore, KeyUsageRecord, OldKeyEnd, UsageWindows};
pub use keys::{KeyRecord, KeyStore, TokenRecord};
pub use members::MemberStore;
pub use mfa::MfaStore;
pub use outbox::OutboxStore;
pub use recovery::RecoveryStore;
pub use secrets::{
    DekRef, Deletion, KekRow, NewVersion, Rewrapper, Sealed, Sealer, SecretRecord, SecretStore,
    VersionInfo, VersionRow,
};
pub use sessions::{SessionRecord, SessionStore};
pub use settings::SettingsStore;
pub use signing_keys::{PublicKeyRecord, SigningKeyStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(Conflict),
    #[error("store busy")]
    Busy,
    /// The database cannot take writes at all right now (disk full, read-only, I/O
    /// error). Callers fail closed: nothing that needed the write is answered.
    #[error("store unavailable")]
    Unavailable,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the vault needs from storage: every area's trait, and what only the store as
/// a whole can answer (is it up, close it). Each backend implements it once, so a backend
/// that misses an area does not compile.
#[async_trait]
pub trait Store:
    AccountStore
    + SessionStore
    + AuditStore
    + MfaStore
    + KeyStore
    + KeyChangeStore
    + SecretStore
    + ApprovalStore
    + SettingsStore
    + MemberStore
    + InvitationStore
    + RecoveryStore
    + OutboxStore
    + SigningKeyStore
    + CustodyStore
    + DetectionStore
    + Send
    + Sync
    + 'static
{
    /// Cheap check that the store answers, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    /// Flush and close: called once on shutdown.
    async fn close(&self) -> StoreResult<()>;

    /// Tenants whose KEKs were rotated by another process sharing this database (another
    /// replica on PostgreSQL): the vault then forgets their unwrapped KEKs, so no replica
    /// keeps a retired key in memory. `None` where one process owns the store (SQLite).
    fn kek_rotations(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        None
    }
}
