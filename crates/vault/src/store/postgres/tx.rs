//! How every area reaches PostgreSQL: a pooled connection, a transaction, and in it the
//! row-level security settings the schema's policies read (0001_init.sql), set with
//! `set_config(name, value, true)`, i.e. `SET LOCAL`: they end with the transaction, so a
//! connection back in the pool carries nothing over to its next user.
//!
//! Statements go through `prepare_cached`: each pooled connection prepares a statement
//! once and then only binds and executes it, one round trip instead of two.

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

impl PostgresStore {
    /// A pooled connection.
    pub(crate) async fn conn(&self) -> StoreResult<Object> {
        self.pool.get().await.map_err(map_pool_err)
    }
}

/// Begin a transaction on `conn` acting for `acting`.
pub(crate) async fn begin<'c>(
    conn: &'c mut Object,
    acting: Acting<'_>,
) -> StoreResult<Transaction<'c>> {
    let tx = conn.transaction().await.map_err(map_err)?;
    act(&tx, acting).await?;
    Ok(tx)
}

/// Switch the open transaction to `acting`, e.g. to the tenant a lookup found. Settings
/// set before stay set: a lookup followed by its tenant sees both.
pub(crate) async fn act(tx: &Transaction<'_>, acting: Acting<'_>) -> StoreResult<()> {
    let (name, value) = match acting {
        Acting::Tenant(t) => ("keyhold.tenant", t),
        Acting::Lookup(v) => ("keyhold.lookup", v),
        Acting::System => ("keyhold.system", "on"),
    };
    exec(tx, "SELECT set_config($1, $2, true)", &[&name, &value]).await?;
    Ok(())
}

/// Run a statement, prepared once per connection; the number of rows it changed.
pub(crate) async fn exec(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<u64> {
    let st = tx.prepare_cached(sql).await.map_err(map_err)?;
    tx.execute(&st, params).await.map_err(map_err)
}

/// [`exec`], a unique violation being the conflict `on_unique` (an email taken, a vote
/// already cast). The transaction is then aborted: return the error, do nothing more in it.
pub(crate) async fn exec_unique(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    on_unique: Conflict,
) -> StoreResult<u64> {
    let st = tx.prepare_cached(sql).await.map_err(map_err)?;
    tx.execute(&st, params).await.map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(on_unique)
        } else {
            map_err(e)
        }
    })
}

/// Every row of a query.
pub(crate) async fn rows(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<Row>> {
    let st = tx.prepare_cached(sql).await.map_err(map_err)?;
    tx.query(&st, params).await.map_err(map_err)
}

/// At most one row.
pub(crate) async fn row(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Option<Row>> {
    let st = tx.prepare_cached(sql).await.map_err(map_err)?;
    tx.query_opt(&st, params).await.map_err(map_err)
}

/// Commit, mapping a failed commit like any other error (a serialization failure at
/// commit is `Busy`; a lost connection `Unavailable`, and then the outcome is unknown to
/// us but the transaction is all or nothing).
pub(crate) async fn commit(tx: Transaction<'_>) -> StoreResult<()> {
    tx.commit().await.map_err(map_err)
}
