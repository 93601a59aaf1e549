//! [`CustodyStore`] on PostgreSQL: the one row of `root_key`, read and written acting as
//! the system (it belongs to no tenant). Replicas starting together each try to store a
//! root key; `ON CONFLICT DO NOTHING` keeps the first, and every one reads that back.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::connection::PostgresStore;
use super::events::append;
use super::rows::col;
use super::tx::{Acting, Tx, begin, commit, exec, row};
use crate::store::event::NewEvent;
use crate::store::{Conflict, CustodyStore, RootKeyInit, StoreError, StoreResult, WrappedRootKey};

const SELECT: &str = "SELECT version, wrapped, master, updated_at FROM root_key WHERE id = 1";

fn root_row(r: &Row) -> StoreResult<WrappedRootKey> {
    let version: i64 = col(r, 0, "root key")?;
    Ok(WrappedRootKey {
        version: u32::try_from(version)
            .map_err(|_| StoreError::Other(anyhow::anyhow!("root key version out of range")))?,
        wrapped: col(r, 1, "root key")?,
        master: col(r, 2, "root key")?,
        updated_at: col::<DateTime<Utc>>(r, 3, "root key")?,
    })
}

async fn read(tx: &Tx<'_>) -> StoreResult<Option<WrappedRootKey>> {
    row(tx, SELECT, &[])
        .await?
        .map(|r| root_row(&r))
        .transpose()
}

/// Store `r` unless a row is there; `true` when this call stored it.
async fn insert(tx: &Tx<'_>, r: &WrappedRootKey) -> StoreResult<bool> {
    let n = exec(
        tx,
        "INSERT INTO root_key (id, version, wrapped, master, updated_at)
         VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        &[&i64::from(r.version), &r.wrapped, &r.master, &r.updated_at],
    )
    .await?;
    Ok(n == 1)
}

#[async_trait]
impl CustodyStore for PostgresStore {
    async fn root_key(&self) -> StoreResult<Option<WrappedRootKey>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        let found = read(&tx).await?;
        commit(tx).await?;
        Ok(found)
    }

    async fn init_root_key(
        &self,
        fresh: WrappedRootKey,
        legacy: Option<WrappedRootKey>,
    ) -> StoreResult<RootKeyInit> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        if let Some(existing) = read(&tx).await? {
            commit(tx).await?;
            return Ok(RootKeyInit::Existing(existing));
        }
        // The tenants' ids are readable acting as the system (tenants_system_list).
        let has_data = row(&tx, "SELECT 1 FROM tenants LIMIT 1", &[])
            .await?
            .is_some();
        let (candidate, adopted) = match (has_data, legacy) {
            (false, _) => (fresh, false),
            (true, Some(legacy)) => (legacy, true),
            (true, None) => {
                commit(tx).await?;
                return Ok(RootKeyInit::LegacyNeeded);
            }
        };
        if !insert(&tx, &candidate).await? {
            // Another replica stored one between our read and our insert: use it.
            let theirs = read(&tx).await?.ok_or(StoreError::NotFound)?;
            commit(tx).await?;
            return Ok(RootKeyInit::Existing(theirs));
        }
        commit(tx).await?;
        Ok(if adopted {
            RootKeyInit::Adopted(candidate)
        } else {
            RootKeyInit::Created(candidate)
        })
    }

    async fn rewrap_root_key(&self, r: WrappedRootKey, event: NewEvent) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        let changed = exec(
            &tx,
            "UPDATE root_key SET version = $1::bigint, wrapped = $2, master = $3, updated_at = $4
             WHERE id = 1 AND version = $1::bigint - 1",
            &[&i64::from(r.version), &r.wrapped, &r.master, &r.updated_at],
        )
        .await?;
        if changed != 1 {
            return Err(StoreError::Conflict(Conflict::RootKeyChanged));
        }
        append(&tx, &event).await?;
        commit(tx).await
    }
}
