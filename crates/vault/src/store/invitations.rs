//! Storage for invitations to join a tenant: create, find by token, accept (which adds the
//! member), list the pending ones and revoke.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{PersonRef, Role};

use super::StoreResult;
use super::accounts::UserRecord;
use crate::store::event::NewEvent;

/// An invitation row (its token's keyed hash is stored beside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRecord {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// Set when an owner or admin revoked it, or its sender was removed.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait InvitationStore: Send + Sync + 'static {
    async fn create_invitation(
        &self,
        invitation: InvitationRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()>;
    async fn invitation_by_hash(&self, token_hash: &str) -> StoreResult<Option<InvitationRecord>>;
    /// Use the invitation once (unused, unexpired, not revoked) and add `user` to its tenant.
    /// `Conflict::InvitationSpent`, or a conflict on the email.
    async fn accept_invitation(
        &self,
        invitation_id: &str,
        user: UserRecord,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// The tenant's pending invitations (unused, unexpired at `now`, not revoked) with who
    /// sent each, newest first; ids before `before_id`.
    async fn pending_invitations(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(InvitationRecord, PersonRef)>>;

    /// One invitation of the tenant, whatever its state; `None` for another tenant's id.
    async fn invitation(&self, tenant_id: &str, id: &str) -> StoreResult<Option<InvitationRecord>>;

    /// Revoke a pending invitation, with `event`, in one transaction: its token can no
    /// longer be used to sign up. `NotFound`; `Conflict::InvitationNotPending`.
    async fn revoke_invitation(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
}
