//! Storage for approval requests and their grants, tenant settings, and members
//! (invitations and roles).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{ApprovalStatus, ApprovalVote, PersonRef, Role, TenantSettings};
use keyhold_core::path::SecretPath;
use keyhold_core::tier::Tier;

use super::{StoreResult, UserRecord};
use crate::audit::NewEvent;

/// `Conflict` messages the approval service maps to its answers.
pub const NOT_PENDING: &str = "This request is no longer waiting for approvals.";
pub const ALREADY_VOTED: &str = "You have already approved this request.";
pub const NOT_OPEN: &str = "This request is already decided, used or expired.";
pub const LAST_OWNER: &str = "The tenant's last owner cannot be demoted or removed.";
pub const INVITATION_SPENT: &str = "This invitation is invalid, used or expired.";

/// One approval request row. The rules in force when it was made are copied into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalRecord {
    pub id: String,
    pub tenant_id: String,
    pub path: SecretPath,
    pub tier: Tier,
    pub key_id: String,
    pub token_id: Option<String>,
    pub reason: Option<String>,
    pub required_approvals: u32,
    pub delay_secs: i64,
    pub grant_ttl_secs: i64,
    pub status: ApprovalStatus,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub available_at: Option<DateTime<Utc>>,
    pub grant_expires_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub denied_by: Option<String>,
    pub deny_reason: Option<String>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A request with who asked (key and owner), the votes so far and who denied it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalView {
    pub record: ApprovalRecord,
    pub key_name: String,
    pub owner: PersonRef,
    pub votes: Vec<ApprovalVote>,
    pub denied_by: Option<PersonRef>,
}

/// Builds the `approval.expired` event of a request the store finds expired.
pub type ExpiryEvent = Box<dyn Fn(&ApprovalRecord) -> NewEvent + Send>;
/// Builds the `approval.approved` event from the number of votes after this one and
/// whether the quorum is now reached.
pub type VoteEvent = Box<dyn FnOnce(u32, bool) -> NewEvent + Send>;

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
pub trait ApprovalStore: Send + Sync + 'static {
    async fn tenant_settings(&self, tenant_id: &str) -> StoreResult<Option<TenantSettings>>;
    async fn put_tenant_settings(
        &self,
        tenant_id: &str,
        settings: TenantSettings,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// Mark every request of the tenant whose time is up as expired (pending past
    /// `expires_at`, approved but unused past `grant_expires_at`), one event each.
    async fn expire_approvals(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
        expired: ExpiryEvent,
    ) -> StoreResult<Vec<ApprovalRecord>>;

    /// The open (pending or approved, unexpired) request of `new.key_id` for `new.path`,
    /// or `new` inserted with `requested`; expired requests are closed first. In one
    /// transaction, so parallel reads never create two. `true` when `new` was inserted.
    async fn open_approval(
        &self,
        new: ApprovalRecord,
        expired: ExpiryEvent,
        requested: NewEvent,
    ) -> StoreResult<(ApprovalRecord, bool)>;

    async fn approval(&self, tenant_id: &str, id: &str) -> StoreResult<Option<ApprovalView>>;

    /// Newest first; ids before `before_id`; of one key if given.
    async fn list_approvals(
        &self,
        tenant_id: &str,
        status: Option<ApprovalStatus>,
        key_id: Option<&str>,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ApprovalView>>;

    /// Count `user_id`'s approval of a pending, unexpired request; when the votes reach
    /// the quorum the request becomes approved, its grant opening after the delay.
    /// `Conflict(NOT_PENDING)`, `Conflict(ALREADY_VOTED)`, `NotFound`.
    async fn vote_approval(
        &self,
        tenant_id: &str,
        id: &str,
        user_id: &str,
        comment: Option<String>,
        now: DateTime<Utc>,
        event: VoteEvent,
    ) -> StoreResult<ApprovalRecord>;

    /// Deny a pending request or an approved one whose grant is not used yet (a veto
    /// during the delay). `Conflict(NOT_OPEN)`, `NotFound`.
    async fn deny_approval(
        &self,
        tenant_id: &str,
        id: &str,
        user_id: &str,
        reason: String,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<ApprovalRecord>;

    /// Use the grant of an approved request once, atomically: a single conditional UPDATE
    /// that succeeds only while it is approved, available and unexpired; `event` (the
    /// `secret.read`) commits with it. `false` when the grant was not usable.
    async fn consume_grant(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<bool>;

    /// Members of the tenant, oldest first.
    async fn members(&self, tenant_id: &str) -> StoreResult<Vec<UserRecord>>;
    async fn create_invitation(
        &self,
        invitation: InvitationRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()>;
    async fn invitation_by_hash(&self, token_hash: &str) -> StoreResult<Option<InvitationRecord>>;
    /// Use the invitation once (unused, unexpired, not revoked) and add `user` to its tenant.
    /// `Conflict(INVITATION_SPENT)`, or a conflict on the email.
    async fn accept_invitation(
        &self,
        invitation_id: &str,
        user: UserRecord,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
    /// `Conflict(LAST_OWNER)` when it would leave the tenant without an owner; `NotFound`.
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
    /// `Conflict(LAST_OWNER)`; `NotFound`.
    async fn remove_member(
        &self,
        tenant_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
}
