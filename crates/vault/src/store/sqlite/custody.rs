//! [`CustodyStore`] on SQLite: the one row of `root_key`. Writes go through the single
//! writer, so two starts cannot both store a root key.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Transaction, params};

use super::connection::SqliteStore;
use super::errors::map_err;
use super::rows::{from_us, us};
use crate::store::event::NewEvent;
use crate::store::{Conflict, CustodyStore, RootKeyInit, StoreError, StoreResult, WrappedRootKey};

const SELECT: &str = "SELECT version, wrapped, master, updated_at FROM root_key WHERE id = 1";

fn read(c: &rusqlite::Connection) -> StoreResult<Option<WrappedRootKey>> {
    c.prepare_cached(SELECT)
        .and_then(|mut s| {
            s.query_row([], |r| {
                Ok(WrappedRootKey {
                    version: r.get(0)?,
                    wrapped: r.get(1)?,
                    master: r.get(2)?,
                    updated_at: from_us(r.get(3)?),
                })
            })
            .optional()
        })
        .map_err(map_err)
}

fn insert(tx: &Transaction<'_>, row: &WrappedRootKey) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO root_key (id, version, wrapped, master, updated_at) VALUES (1, ?1, ?2, ?3, ?4)",
        params![row.version, row.wrapped, row.master, us(row.updated_at)],
    )
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl CustodyStore for SqliteStore {
    async fn root_key(&self) -> StoreResult<Option<WrappedRootKey>> {
        self.run(|c| read(c)).await
    }

    async fn init_root_key(
        &self,
        fresh: WrappedRootKey,
        legacy: Option<WrappedRootKey>,
    ) -> StoreResult<RootKeyInit> {
        self.transact(move |tx| {
            if let Some(existing) = read(tx)? {
                return Ok((RootKeyInit::Existing(existing), vec![]));
            }
            let has_data: bool = tx
                .query_row("SELECT EXISTS (SELECT 1 FROM tenants)", [], |r| r.get(0))
                .map_err(map_err)?;
            let done = match (has_data, legacy) {
                (false, _) => {
                    insert(tx, &fresh)?;
                    RootKeyInit::Created(fresh)
                }
                (true, Some(legacy)) => {
                    insert(tx, &legacy)?;
                    RootKeyInit::Adopted(legacy)
                }
                (true, None) => RootKeyInit::LegacyNeeded,
            };
            Ok((done, vec![]))
        })
        .await
    }

    async fn rewrap_root_key(&self, row: WrappedRootKey, event: NewEvent) -> StoreResult<()> {
        self.write(event, move |tx| {
            let changed = tx
                .execute(
                    "UPDATE root_key SET version = ?1, wrapped = ?2, master = ?3, updated_at = ?4
                     WHERE id = 1 AND version = ?1 - 1",
                    params![row.version, row.wrapped, row.master, us(row.updated_at)],
                )
                .map_err(map_err)?;
            if changed != 1 {
                return Err(StoreError::Conflict(Conflict::RootKeyChanged));
            }
            Ok(())
        })
        .await
    }
}
