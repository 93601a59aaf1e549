//! Storage for the audit log: one hash chain per tenant, read in pages, exported, verified
//! and watched live. Events that go with a write are passed to that write's method and
//! commit in its transaction; [`AuditStore::append_event`] is for events with no write.

use async_trait::async_trait;
use keyhold_core::api::{AuditEvent, AuditQuery};
use tokio::sync::watch;

use super::StoreResult;
use crate::store::event::NewEvent;

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

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
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
    /// The distinct actions in `scope`'s events, sorted: what the audit screen offers as
    /// its action filter, so a new action appears there without a client release.
    async fn audit_actions(&self, scope: &AuditScope) -> StoreResult<Vec<String>>;
    /// The id just before the `window` newest events of `scope` (0 when it has no more than
    /// that): how far back a resumed live feed may replay (`live::REPLAY_WINDOW`). With a
    /// window of 0, the id of `scope`'s newest event: where a new feed starts.
    async fn audit_replay_floor(&self, scope: &AuditScope, window: u32) -> StoreResult<i64>;
    async fn audit_verify(&self, tenant_id: &str) -> StoreResult<AuditVerify>;
    /// Wakes up whenever any event is appended (carries the newest event id).
    fn audit_watch(&self) -> watch::Receiver<i64>;
    /// Wakes up whenever an event is appended to the tenant's chain (carries the newest
    /// event id of the whole log): what a tenant's live feeds wait on.
    fn tenant_audit_watch(&self, tenant_id: &str) -> watch::Receiver<i64>;
}
