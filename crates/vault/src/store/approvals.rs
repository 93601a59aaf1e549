//! Storage for approval requests and their grants. Tenant settings (which hold the
//! approval rules), members and invitations have their own traits.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{ApprovalOperation, ApprovalStatus, ApprovalVote, PersonRef};
use keyhold_core::path::SecretPath;
use keyhold_core::tier::Tier;

use super::StoreResult;
use crate::store::event::NewEvent;

/// Who asked for an approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requester {
    /// An agent key, or a scoped token of it.
    Agent {
        key_id: String,
        token_id: Option<String>,
    },
    /// A signed-in person.
    Person { user_id: String },
}

impl Requester {
    /// The value of the `requester` column: one open request per requester, path and
    /// operation, whichever kind asked.
    pub fn column(&self) -> String {
        match self {
            Self::Agent { key_id, .. } => format!("key:{key_id}"),
            Self::Person { user_id } => format!("user:{user_id}"),
        }
    }
}

/// One approval request row. The rules in force when it was made are copied into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalRecord {
    pub id: String,
    pub tenant_id: String,
    pub path: SecretPath,
    /// The secret's identity when the request was made (a re-created secret is another).
    pub secret_id: Option<String>,
    /// The secret's tier when the request was made.
    pub tier: Tier,
    pub operation: ApprovalOperation,
    /// For `lower_tier`: the tier the grant allows lowering to.
    pub to_tier: Option<Tier>,
    pub requester: Requester,
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
    pub void_reason: Option<String>,
}

/// A request with who asked (the person, and the key's name for an agent), the votes
/// that count so far, who denied it, and how many people could approve it at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalView {
    pub record: ApprovalRecord,
    /// The agent key's name; `None` for a person's own request.
    pub key_name: Option<String>,
    /// The key's owner, or the person who asked: never counted toward the quorum.
    pub owner: PersonRef,
    /// Votes of people who may still approve (removed or demoted voters drop out).
    pub votes: Vec<ApprovalVote>,
    pub denied_by: Option<PersonRef>,
    pub eligible_approvers: u32,
}

/// Builds the `approval.voided` event of a request that a secret's change voided, from
/// the event of that change (its actor, time and address) and the reason.
pub type VoidEvent = fn(&NewEvent, &ApprovalRecord, &'static str) -> NewEvent;

/// A grant to spend in the transaction of the gated write or delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantUse {
    pub approval_id: String,
    pub operation: ApprovalOperation,
}

/// Builds the `approval.expired` event of a request the store finds expired.
pub type ExpiryEvent = Box<dyn Fn(&ApprovalRecord) -> NewEvent + Send>;
/// Builds the `approval.approved` event from the number of votes after this one and
/// whether the quorum is now reached.
pub type VoteEvent = Box<dyn FnOnce(u32, bool) -> NewEvent + Send>;

/// Requests, votes, denials and the spending of grants.
#[async_trait]
pub trait ApprovalStore: Send + Sync + 'static {
    /// Mark every request of the tenant whose time is up as expired (pending past
    /// `expires_at`, approved but unused past `grant_expires_at`), one event each.
    async fn expire_approvals(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
        expired: ExpiryEvent,
    ) -> StoreResult<Vec<ApprovalRecord>>;

    /// The open (pending or approved, unexpired) request of `new.requester` for
    /// `new.path`, `new.operation` and `new.to_tier` on the same secret, or `new` inserted
    /// with `requested`; expired requests are closed first. In one transaction, so
    /// parallel calls never create two. `true` when `new` was inserted.
    async fn open_approval(
        &self,
        new: ApprovalRecord,
        expired: ExpiryEvent,
        requested: NewEvent,
    ) -> StoreResult<(ApprovalRecord, bool)>;

    async fn approval(&self, tenant_id: &str, id: &str) -> StoreResult<Option<ApprovalView>>;

    /// Newest first; ids before `before_id`; of one requester (`Requester::column`) if
    /// given.
    async fn list_approvals(
        &self,
        tenant_id: &str,
        status: Option<ApprovalStatus>,
        requester: Option<&str>,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ApprovalView>>;

    /// Count `user_id`'s approval of a pending, unexpired request; when the votes of
    /// people who may approve reach the quorum the request becomes approved, its grant
    /// opening after the delay.
    /// `Conflict::NotPending`, `Conflict::AlreadyVoted`, `NotFound`.
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
    /// during the delay). `Conflict::NotOpen`, `NotFound`.
    async fn deny_approval(
        &self,
        tenant_id: &str,
        id: &str,
        user_id: &str,
        reason: String,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<ApprovalRecord>;

    /// Use the read grant of an approved request once, atomically: a single conditional
    /// UPDATE that succeeds only while it is approved, available, unexpired, still for
    /// the same secret and still backed by enough eligible votes; `event` (the
    /// `secret.read`) commits with it. `false` when the grant was not usable.
    async fn consume_grant(
        &self,
        tenant_id: &str,
        id: &str,
        secret_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<bool>;

    /// How many people could approve a request of `tenant_id` for a secret of `tier`:
    /// members with an approving role, not removed, not `excluded` (the requester or the
    /// key's owner), and with 2FA on for critical.
    async fn eligible_approvers(
        &self,
        tenant_id: &str,
        tier: Tier,
        excluded: &str,
    ) -> StoreResult<u32>;
}
