//! Storage for the pending invitations of a tenant: list and revoke (issue 15, item 2.4).
//! Creating and accepting an invitation live with the members in [`super::approvals`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::PersonRef;

use super::{InvitationRecord, StoreResult};
use crate::store::event::NewEvent;

#[async_trait]
pub trait InvitationStore: Send + Sync + 'static {
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
