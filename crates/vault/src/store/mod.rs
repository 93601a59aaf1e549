//! The storage seam. Handlers and services see only [`Store`]; SQLite implements it now and
//! a PostgreSQL store can implement it later without touching them.
//!
//! Every method that performs a security-relevant action takes the audit event to write and
//! commits both in one transaction (security invariant 7): if the event cannot be written,
//! the action does not happen.

pub mod approvals;
pub mod conflict;
pub mod event;
pub mod invitations;
pub mod keys;
pub mod metrics;
pub mod mfa;
pub mod secrets;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{AuditEvent, AuditQuery, Role};
use tokio::sync::watch;

use crate::store::event::NewEvent;
pub use keys::{KeyRecord, KeyStore, TokenRecord};
pub use secrets::{
    DekRef, Deletion, KekRow, NewVersion, Rewrapper, Sealed, Sealer, SecretRecord, SecretStore,
    VersionInfo, VersionRow,
};

pub use approvals::{
    ApprovalRecord, ApprovalStore, ApprovalView, ExpiryEvent, GrantUse, InvitationRecord,
    Requester, VoidEvent, VoteEvent,
};
pub use conflict::Conflict;
pub use invitations::InvitationStore;
pub use mfa::MfaStore;

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRecord {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A user row. `password_hash` is an argon2id PHC string, never a password.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub password_hash: String,
    /// zxcvbn score of the current password, recorded when it was set.
    pub password_zxcvbn: u8,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub mfa_enabled: bool,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl UserRecord {
    pub fn to_api(&self) -> keyhold_core::api::User {
        keyhold_core::api::User {
            id: self.id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            email_verified: self.email_verified_at.is_some(),
            mfa_enabled: self.mfa_enabled,
            created_at: self.created_at,
        }
    }
}

impl TenantRecord {
    pub fn to_api(&self) -> keyhold_core::api::Tenant {
        keyhold_core::api::Tenant {
            id: self.id.clone(),
            name: self.name.clone(),
            created_at: self.created_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Absolute end of the session, whatever its activity.
    pub expires_at: DateTime<Utc>,
    /// Last time the person proved themselves (login or re-auth): the sudo window.
    pub authenticated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailTokenRecord {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub purpose: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Whose events an audit read may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditScope {
    /// Owners and admins: the whole tenant.
    Tenant(String),
    /// Everyone else: the events they caused.
    Actor { tenant_id: String, actor_id: String },
}

impl AuditScope {
    pub fn tenant_id(&self) -> &str {
        match self {
            Self::Tenant(t) => t,
            Self::Actor { tenant_id, .. } => tenant_id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditVerify {
    pub ok: bool,
    pub checked: u64,
    pub first_bad: Option<i64>,
}

/// Everything the server needs from storage. Each area of the vault adds its own trait
/// (in its own file) and joins it here, so areas can grow independently.
pub trait Store:
    AccountStore
    + MfaStore
    + KeyStore
    + SecretStore
    + ApprovalStore
    + InvitationStore
    + Send
    + Sync
    + 'static
{
}

impl<
    T: AccountStore
        + MfaStore
        + KeyStore
        + SecretStore
        + ApprovalStore
        + InvitationStore
        + Send
        + Sync
        + 'static,
> Store for T
{
}

/// Accounts, sessions, email tokens and the audit log.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Cheap check that the store answers, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    /// Flush and close: called once on shutdown.
    async fn close(&self) -> StoreResult<()>;

    async fn create_account(
        &self,
        tenant: TenantRecord,
        user: UserRecord,
        event: NewEvent,
    ) -> StoreResult<()>;

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn user(&self, tenant_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>>;
    async fn tenant(&self, tenant_id: &str) -> StoreResult<Option<TenantRecord>>;

    async fn create_session(
        &self,
        session: SessionRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()>;
    async fn session_by_hash(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>>;
    /// A session by id, for re-checking one that a long-lived response was opened with.
    async fn session(
        &self,
        tenant_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn delete_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// Replace the password hash and end every session of the user but `keep_session`.
    async fn set_password(
        &self,
        tenant_id: &str,
        user_id: &str,
        password_hash: String,
        zxcvbn: u8,
        keep_session: Option<&str>,
        event: NewEvent,
    ) -> StoreResult<()>;

    async fn create_email_token(
        &self,
        token: EmailTokenRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()>;
    async fn email_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<EmailTokenRecord>>;
    /// Mark the token used and the user's email verified, once: a second call (or a
    /// racing one) gets `Conflict`.
    async fn consume_email_verification(
        &self,
        token: &EmailTokenRecord,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// An event with no other write attached (failed logins, refused requests).
    async fn append_event(&self, event: NewEvent) -> StoreResult<()>;

    /// Newest first, filtered as `query` says; `limit` already clamped by the caller.
    async fn audit_page(
        &self,
        scope: &AuditScope,
        query: &AuditQuery,
        before_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>>;
    /// Oldest first, strictly after `after_id`: for export and the live tail.
    async fn audit_after(
        &self,
        scope: &AuditScope,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>>;
    /// The id just before the `window` newest events of `scope` (0 when it has no more than
    /// that): how far back a resumed live feed may replay (`live::REPLAY_WINDOW`).
    async fn audit_replay_floor(&self, scope: &AuditScope, window: u32) -> StoreResult<i64>;
    async fn audit_verify(&self, tenant_id: &str) -> StoreResult<AuditVerify>;
    /// Wakes up whenever any event is appended (carries the newest event id).
    fn audit_watch(&self) -> watch::Receiver<i64>;
    /// Wakes up whenever an event is appended to the tenant's chain (carries the newest
    /// event id of the whole log): what a tenant's live feeds wait on.
    fn tenant_audit_watch(&self, tenant_id: &str) -> watch::Receiver<i64>;
}
