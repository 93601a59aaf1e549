//! Storage for a tenant's members: who they are, their roles, and their removal. Joining
//! through an invitation is in [`super::invitations`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::Role;

use super::StoreResult;
use super::accounts::UserRecord;
use crate::store::event::NewEvent;

#[async_trait]
pub trait MemberStore: Send + Sync + 'static {
    /// Members of the tenant, oldest first.
    async fn members(&self, tenant_id: &str) -> StoreResult<Vec<UserRecord>>;

    /// `Conflict::LastOwner` when it would leave the tenant without an owner; `NotFound`.
    async fn set_role(
        &self,
        tenant_id: &str,
        user_id: &str,
        role: Role,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// Remove a member: they can no longer sign in, their sessions end, their agent
    /// keys (with every token) are revoked and the pending invitations they sent are void
    /// (one `member.invitation_revoked` event each, in the same transaction).
    /// `Conflict::LastOwner`; `NotFound`.
    async fn remove_member(
        &self,
        tenant_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
}
