//! How every area reaches PostgreSQL: a pooled connection, a transaction, and in it the
//! row-level security settings the schema's policies read (0001_init.sql), set with
//! `set_config(name, value, true)`, i.e. `SET LOCAL`: they end with the transaction, so a
//! connection back in the pool carries nothing over to its next user.
//!
//! Statements go through `prepare_cached`: each pooled connection prepares a statement
//! once and then only binds and executes it, one round trip instead of two. And a setting
//! is not sent on its own: [`act`] queues it, and it goes out pipelined with the next
//! statement (tokio-postgres sends both before waiting for either answer), so acting for a
//! tenant costs no round trip of its own. A failed setting aborts the transaction, so the
//! statement after it fails too and never runs without it.

use std::future::Future;
use std::sync::Mutex;

use deadpool_postgres::{Object, Transaction};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::connection::PostgresStore;
use super::errors::{is_unique_violation, map_err, map_pool_err};
use crate::store::{Conflict, StoreError, StoreResult};

/// Whom a transaction acts for: which of the policies' settings it sets first.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Acting<'a> {
    /// The tenant's rows, and its audit chain.
    Tenant(&'a str),
    /// Before the tenant is known: the one row a presented credential's hash, an agent
    /// key's id or a signing-in email opens, to SELECT only.
    Lookup(&'a str),
    /// The tenant-less audit chain and the shared failure counters.
    System,
}

impl<'a> Acting<'a> {
    /// Whom reading or appending to audit `chain` acts for: its tenant, or the system for
    /// the tenant-less chain ('').
    pub(crate) fn for_chain(chain: &'a str) -> Self {
        if chain.is_empty() {
            Self::System
        } else {
            Self::Tenant(chain)
        }
    }
}

impl PostgresStore {
    /// A pooled connection.
    pub(crate) async fn conn(&self) -> StoreResult<Object> {
        self.pool.get().await.map_err(map_pool_err)
    }
}

/// A transaction, and the setting [`act`] queued for its next statement.
pub(crate) struct Tx<'c> {
    inner: Transaction<'c>,
    pending: Mutex<Option<(&'static str, String)>>,
}

const SET_CONFIG: &str = "SELECT set_config($1, $2, true)";

impl Tx<'_> {
    fn take_pending(&self) -> Option<(&'static str, String)> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Run `main` (a statement of this transaction, not yet polled), with the queued
    /// setting sent just before it in the same round trip.
    async fn with_setting<T>(
        &self,
        main: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, tokio_postgres::Error> {
        let Some((name, value)) = self.take_pending() else {
            return main.await;
        };
        let set = self.inner.prepare_cached(SET_CONFIG).await?;
        let (set, result) =
            futures::future::join(self.inner.execute(&set, &[&name, &value]), main).await;
        set?;
        result
    }
}

/// Begin a transaction on `conn` acting for `acting`.
pub(crate) async fn begin<'c>(conn: &'c mut Object, acting: Acting<'_>) -> StoreResult<Tx<'c>> {
    let inner = conn.transaction().await.map_err(map_err)?;
    let tx = Tx {
        inner,
        pending: Mutex::new(None),
    };
    act(&tx, acting).await?;
    Ok(tx)
}

/// Switch the open transaction to `acting`, e.g. to the tenant a lookup found. Settings
/// set before stay set: a lookup followed by its tenant sees both. Queued for the next
/// statement; one queued before and not yet sent is sent now.
pub(crate) async fn act(tx: &Tx<'_>, acting: Acting<'_>) -> StoreResult<()> {
    let (name, value) = match acting {
        Acting::Tenant(t) => ("keyhold.tenant", t),
        Acting::Lookup(v) => ("keyhold.lookup", v),
        Acting::System => ("keyhold.system", "on"),
    };
    let earlier = tx
        .pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .replace((name, value.to_owned()));
    if let Some((name, value)) = earlier {
        let set = tx.inner.prepare_cached(SET_CONFIG).await.map_err(map_err)?;
        tx.inner
            .execute(&set, &[&name, &value])
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

/// Run a statement, prepared once per connection; the number of rows it changed.
pub(crate) async fn exec(
    tx: &Tx<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<u64> {
    let st = tx.inner.prepare_cached(sql).await.map_err(map_err)?;
    tx.with_setting(tx.inner.execute(&st, params))
        .await
        .map_err(map_err)
}

/// [`exec`], a unique violation being the conflict `on_unique` (an email taken, a vote
/// already cast). The transaction is then aborted: return the error, do nothing more in it.
pub(crate) async fn exec_unique(
    tx: &Tx<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    on_unique: Conflict,
) -> StoreResult<u64> {
    let st = tx.inner.prepare_cached(sql).await.map_err(map_err)?;
    tx.with_setting(tx.inner.execute(&st, params))
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(on_unique)
            } else {
                map_err(e)
            }
        })
}

/// Every row of a query.
pub(crate) async fn rows(
    tx: &Tx<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<Row>> {
    let st = tx.inner.prepare_cached(sql).await.map_err(map_err)?;
    tx.with_setting(tx.inner.query(&st, params))
        .await
        .map_err(map_err)
}

/// At most one row.
pub(crate) async fn row(
    tx: &Tx<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Option<Row>> {
    let st = tx.inner.prepare_cached(sql).await.map_err(map_err)?;
    tx.with_setting(tx.inner.query_opt(&st, params))
        .await
        .map_err(map_err)
}

/// Commit, mapping a failed commit like any other error (a serialization failure at
/// commit is `Busy`; a lost connection `Unavailable`, and then the outcome is unknown to
/// us but the transaction is all or nothing). A setting still queued had no statement to
/// go with, so it is dropped unsent.
pub(crate) async fn commit(tx: Tx<'_>) -> StoreResult<()> {
    tx.inner.commit().await.map_err(map_err)
}
