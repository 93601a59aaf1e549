//! Storage for sign-in sessions. A session is found by its token's keyed hash, never by
//! the token itself.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::store::event::NewEvent;

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

/// Opening, finding, touching and ending sessions. (A session opened by the second factor
/// of a sign-in is created inside [`super::MfaStore::attempt_second_factor`].)
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
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
    /// The person's sessions that have not reached their absolute end, newest first (the
    /// idle limit is the domain's to apply: `sessions::is_live`).
    async fn sessions_of(
        &self,
        tenant_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>>;
    /// End every session of the person but `keep`, with `event`; how many ended.
    async fn delete_other_sessions(
        &self,
        tenant_id: &str,
        user_id: &str,
        keep: &str,
        event: NewEvent,
    ) -> StoreResult<u64>;
}
