//! [`FailureStore`] on PostgreSQL: the shared failure counters of `failure_counters`, read
//! and written acting as the system (they belong to no tenant). Each record also deletes a
//! few rows whose time has passed, so keys of made-up emails do not pile up.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::connection::PostgresStore;
use super::rows::col;
use super::tx::{Acting, begin, commit, exec, row};
use crate::store::{FailureStore, StoreResult};

/// Rows whose time has passed that one record deletes at most.
const SWEEP: i64 = 100;

#[async_trait]
impl FailureStore for PostgresStore {
    async fn failure_tat(&self, key: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        let found = row(
            &tx,
            "SELECT tat FROM failure_counters WHERE key = $1",
            &[&key],
        )
        .await?;
        commit(tx).await?;
        found.map(|r| col(&r, 0, "failure counter")).transpose()
    }

    async fn record_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        interval: Duration,
        limit: Duration,
    ) -> StoreResult<()> {
        let (first, ceiling) = (now + interval, now + limit);
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        exec(
            &tx,
            "INSERT INTO failure_counters AS f (key, tat) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE
                 SET tat = GREATEST(f.tat, $3) + ($2 - $3)
                 WHERE GREATEST(f.tat, $3) + ($2 - $3) <= $4",
            &[&key, &first, &now, &ceiling],
        )
        .await?;
        exec(
            &tx,
            "DELETE FROM failure_counters WHERE key IN
                 (SELECT key FROM failure_counters WHERE tat < $1 LIMIT $2)",
            &[&now, &SWEEP],
        )
        .await?;
        commit(tx).await
    }

    async fn clear_failures(&self, key: &str) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        exec(&tx, "DELETE FROM failure_counters WHERE key = $1", &[&key]).await?;
        commit(tx).await
    }
}
