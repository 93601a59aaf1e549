//! Failed sign-ins counted in the database, so that every replica on one PostgreSQL sees
//! the same counts (`throttle::FailureLimiter` in its shared mode). The count is GCRA
//! state: one "theoretical arrival time" per key, as the in-memory limiter keeps it.
//! SQLite, with one server per database, keeps its counters in memory instead.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::StoreResult;

#[async_trait]
pub trait FailureStore: Send + Sync + 'static {
    /// The key's state; `None` when it has no failure on record (a full bucket).
    async fn failure_tat(&self, key: &str) -> StoreResult<Option<DateTime<Utc>>>;

    /// Spend one failure, atomically: the state becomes `max(tat, now) + interval`, unless
    /// that is more than `limit` ahead of `now` (no failure left: nothing changes).
    async fn record_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        interval: Duration,
        limit: Duration,
    ) -> StoreResult<()>;

    /// Forget the key's failures (after a success).
    async fn clear_failures(&self, key: &str) -> StoreResult<()>;
}
