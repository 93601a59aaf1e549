//! [`SecretStore`] on SQLite: KEK rows and encrypted secret versions.

use async_trait::async_trait;
use keyhold_core::api::ApprovalOperation;
use keyhold_core::path::{PathPrefix, SecretPath};
use rusqlite::{OptionalExtension, Transaction, params};

use super::connection::SqliteStore;
use super::errors::{bad, map_err};
use super::grants::{spend_grant, void_open};
use super::rows::{from_us, us};
use crate::store::event::NewEvent;
use crate::store::{
    Conflict, DekRef, Deletion, KekRow, NewVersion, Rewrapper, Sealer, SecretRecord, SecretStore,
    StoreError, StoreResult, VersionInfo, VersionRow,
};

const SECRET_COLS: &str =
    "s.tenant_id, s.path, s.type, s.tier, s.current_version, s.created_at, s.updated_at, s.id";

fn secret_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SecretRecord> {
    let path: String = r.get(1)?;
    let kind: String = r.get(2)?;
    let tier: String = r.get(3)?;
    Ok(SecretRecord {
        tenant_id: r.get(0)?,
        path: SecretPath::parse(&path).map_err(|_| bad("path"))?,
        kind: kind.parse().map_err(|_| bad("type"))?,
        tier: tier.parse().map_err(|_| bad("tier"))?,
        current_version: r.get(4)?,
        created_at: from_us(r.get(5)?),
        updated_at: from_us(r.get(6)?),
        id: r.get(7)?,
    })
}

fn kek_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KekRow> {
    Ok(KekRow {
        tenant_id: r.get(0)?,
        version: r.get(1)?,
        wrapped: r.get(2)?,
        created_at: from_us(r.get(3)?),
    })
}

fn max_kek_version(tx: &Transaction<'_>, tenant_id: &str) -> StoreResult<Option<u32>> {
    tx.query_row(
        "SELECT MAX(version) FROM tenant_keks WHERE tenant_id = ?1",
        [tenant_id],
        |r| r.get(0),
    )
    .map_err(map_err)
}

fn current_secret(
    tx: &Transaction<'_>,
    tenant_id: &str,
    path: &str,
) -> StoreResult<Option<SecretRecord>> {
    tx.prepare_cached(&format!(
        "SELECT {SECRET_COLS} FROM secrets s WHERE s.tenant_id = ?1 AND s.path = ?2"
    ))
    .and_then(|mut s| s.query_row(params![tenant_id, path], secret_row).optional())
    .map_err(map_err)
}

/// The next version of an existing secret: type and tier as asked, or as they were.
fn next_version(
    tx: &Transaction<'_>,
    new: &NewVersion,
    cur: SecretRecord,
) -> StoreResult<SecretRecord> {
    let version = cur
        .current_version
        .checked_add(1)
        .ok_or(StoreError::Conflict(Conflict::TooManyVersions))?;
    let rec = SecretRecord {
        kind: new.kind.unwrap_or(cur.kind),
        tier: new.tier.unwrap_or(cur.tier),
        current_version: version,
        updated_at: new.now,
        ..cur
    };
    tx.execute(
        "UPDATE secrets SET type = ?3, tier = ?4, current_version = ?5, updated_at = ?6
         WHERE tenant_id = ?1 AND path = ?2",
        params![
            rec.tenant_id,
            new.path.as_str(),
            rec.kind.as_str(),
            rec.tier.as_str(),
            version,
            us(new.now)
        ],
    )
    .map_err(map_err)?;
    Ok(rec)
}

/// A new secret with a new identity (random, so a re-created path is another secret).
fn first_version(tx: &Transaction<'_>, new: &NewVersion) -> StoreResult<SecretRecord> {
    let rec = SecretRecord {
        id: uuid::Uuid::new_v4().simple().to_string(),
        tenant_id: new.tenant_id.clone(),
        path: new.path.clone(),
        kind: new.kind.unwrap_or_default(),
        tier: new.tier.unwrap_or_default(),
        current_version: 1,
        created_at: new.now,
        updated_at: new.now,
    };
    tx.execute(
        "INSERT INTO secrets (id, tenant_id, path, type, tier, current_version, created_at,
             updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)",
        params![
            rec.id,
            rec.tenant_id,
            new.path.as_str(),
            rec.kind.as_str(),
            rec.tier.as_str(),
            us(new.now)
        ],
    )
    .map_err(map_err)?;
    Ok(rec)
}

impl SqliteStore {
    /// Like `write`, but `f` may add to the event (a version number, a count) before it
    /// is appended in the same transaction.
    async fn write_with<T, F>(&self, event: NewEvent, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, &mut NewEvent) -> StoreResult<T> + Send + 'static,
    {
        self.transact(move |tx| {
            let mut event = event;
            let value = f(tx, &mut event)?;
            Ok((value, vec![event]))
        })
        .await
    }
}

#[async_trait]
impl SecretStore for SqliteStore {
    async fn current_kek(&self, tenant_id: &str) -> StoreResult<Option<KekRow>> {
        let t = tenant_id.to_owned();
        self.run(move |c| {
            c.prepare_cached(
                "SELECT tenant_id, version, wrapped, created_at FROM tenant_keks
                 WHERE tenant_id = ?1 ORDER BY version DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row([t], kek_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn kek(&self, tenant_id: &str, version: u32) -> StoreResult<Option<KekRow>> {
        let t = tenant_id.to_owned();
        self.point_read(move |c| {
            c.prepare_cached(
                "SELECT tenant_id, version, wrapped, created_at FROM tenant_keks
                 WHERE tenant_id = ?1 AND version = ?2",
            )
            .and_then(|mut s| s.query_row(params![t, version], kek_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn keks(&self, tenant_id: &str) -> StoreResult<Vec<KekRow>> {
        let t = tenant_id.to_owned();
        self.run(move |c| {
            let mut s = c
                .prepare_cached(
                    "SELECT tenant_id, version, wrapped, created_at FROM tenant_keks
                     WHERE tenant_id = ?1 ORDER BY version",
                )
                .map_err(map_err)?;
            s.query_map([t], kek_row)
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(map_err)
        })
        .await
    }

    async fn insert_first_kek(&self, row: KekRow) -> StoreResult<()> {
        self.transact(move |c| {
            c.execute(
                "INSERT INTO tenant_keks (tenant_id, version, wrapped, created_at)
                 SELECT ?1, ?2, ?3, ?4
                 WHERE NOT EXISTS (SELECT 1 FROM tenant_keks WHERE tenant_id = ?1)",
                params![row.tenant_id, row.version, row.wrapped, us(row.created_at)],
            )
            .map_err(map_err)?;
            Ok(((), Vec::new()))
        })
        .await
    }

    async fn kek_tenants(&self) -> StoreResult<Vec<String>> {
        self.run(|c| {
            let mut s = c
                .prepare("SELECT DISTINCT tenant_id FROM tenant_keks ORDER BY tenant_id")
                .map_err(map_err)?;
            s.query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(map_err)
        })
        .await
    }

    async fn secret(
        &self,
        tenant_id: &str,
        path: &SecretPath,
    ) -> StoreResult<Option<SecretRecord>> {
        let (t, p) = (tenant_id.to_owned(), path.as_str().to_owned());
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SECRET_COLS} FROM secrets s WHERE s.tenant_id = ?1 AND s.path = ?2"
            ))
            .and_then(|mut s| s.query_row([t, p], secret_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn secret_version(
        &self,
        tenant_id: &str,
        path: &SecretPath,
        version: Option<u32>,
    ) -> StoreResult<Option<(SecretRecord, VersionRow)>> {
        let (t, p) = (tenant_id.to_owned(), path.as_str().to_owned());
        self.point_read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SECRET_COLS}, v.version, v.ciphertext, v.wrapped_dek, v.kek_version,
                        v.created_at, v.created_by
                 FROM secrets s JOIN secret_versions v
                   ON v.tenant_id = s.tenant_id AND v.path = s.path
                  AND v.version = COALESCE(?3, s.current_version)
                 WHERE s.tenant_id = ?1 AND s.path = ?2"
            ))
            .and_then(|mut s| {
                s.query_row(params![t, p, version], |r| {
                    Ok((
                        secret_row(r)?,
                        VersionRow {
                            version: r.get(8)?,
                            ciphertext: r.get(9)?,
                            wrapped_dek: r.get(10)?,
                            kek_version: r.get(11)?,
                            created_at: from_us(r.get(12)?),
                            created_by: r.get(13)?,
                        },
                    ))
                })
                .optional()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn secret_versions(
        &self,
        tenant_id: &str,
        path: &SecretPath,
    ) -> StoreResult<Vec<VersionInfo>> {
        let (t, p) = (tenant_id.to_owned(), path.as_str().to_owned());
        self.run(move |c| {
            let mut s = c
                .prepare_cached(
                    "SELECT version, created_at, created_by FROM secret_versions
                     WHERE tenant_id = ?1 AND path = ?2 ORDER BY version",
                )
                .map_err(map_err)?;
            s.query_map([t, p], |r| {
                Ok(VersionInfo {
                    version: r.get(0)?,
                    created_at: from_us(r.get(1)?),
                    created_by: r.get(2)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(map_err)
        })
        .await
    }

    async fn list_secrets(
        &self,
        tenant_id: &str,
        prefix: &PathPrefix,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SecretRecord>> {
        let t = tenant_id.to_owned();
        // A byte-prefix test, not LIKE: `_` is a LIKE wildcard and a legal path character.
        let pre = prefix.as_string();
        let after = after.map(str::to_owned);
        self.run(move |c| {
            let mut s = c
                .prepare_cached(&format!(
                    "SELECT {SECRET_COLS} FROM secrets s
                     WHERE s.tenant_id = ?1 AND substr(s.path, 1, length(?2)) = ?2
                       AND (?3 IS NULL OR s.path > ?3)
                     ORDER BY s.path LIMIT ?4"
                ))
                .map_err(map_err)?;
            s.query_map(params![t, pre, after, i64::from(limit)], secret_row)
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(map_err)
        })
        .await
    }

    async fn put_secret(
        &self,
        new: NewVersion,
        seal: Sealer,
        event: NewEvent,
    ) -> StoreResult<SecretRecord> {
        self.transact(move |tx| {
            if max_kek_version(tx, &new.tenant_id)? != Some(new.kek_version) {
                return Err(StoreError::Conflict(Conflict::StaleKek));
            }
            let current = current_secret(tx, &new.tenant_id, new.path.as_str())?;
            let seen = current.as_ref().map(|c| (c.id.clone(), c.tier));
            if seen != new.seen {
                return Err(StoreError::Conflict(Conflict::SecretChanged));
            }
            let mut events = Vec::new();
            if let (Some(g), Some(cur)) = (&new.grant, &current)
                && !spend_grant(
                    tx,
                    &new.tenant_id,
                    &g.approval_id,
                    &cur.id,
                    g.operation,
                    new.now,
                )?
            {
                return Err(StoreError::Conflict(Conflict::GrantGone));
            }
            let raised = match (&current, new.tier) {
                (Some(cur), Some(tier)) => tier > cur.tier,
                _ => false,
            };
            if raised {
                let voided = void_open(
                    tx,
                    &new.tenant_id,
                    new.path.as_str(),
                    None,
                    "tier_raised",
                    new.now,
                )?;
                events.extend(
                    voided
                        .iter()
                        .map(|r| (new.voided)(&event, r, "tier_raised")),
                );
            }
            let record = match current {
                Some(cur) => next_version(tx, &new, cur)?,
                None => first_version(tx, &new)?,
            };
            let sealed = seal(record.current_version)?;
            tx.execute(
                "INSERT INTO secret_versions (tenant_id, path, version, ciphertext, wrapped_dek,
                     kek_version, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    record.tenant_id,
                    new.path.as_str(),
                    record.current_version,
                    sealed.ciphertext,
                    sealed.wrapped_dek,
                    new.kek_version,
                    us(new.now),
                    new.created_by
                ],
            )
            .map_err(map_err)?;
            events.insert(0, event.detail("version", record.current_version));
            Ok((record, events))
        })
        .await
    }

    async fn delete_secret(&self, del: Deletion, event: NewEvent) -> StoreResult<()> {
        self.transact(move |tx| {
            let (t, p) = (&del.tenant_id, del.path.as_str());
            let current = current_secret(tx, t, p)?.ok_or(StoreError::NotFound)?;
            if current.id != del.secret_id {
                return Err(StoreError::Conflict(Conflict::SecretChanged));
            }
            let now = event.at;
            if let Some(g) = &del.grant
                && !spend_grant(tx, t, g, &current.id, ApprovalOperation::Delete, now)?
            {
                return Err(StoreError::Conflict(Conflict::GrantGone));
            }
            let voided = void_open(tx, t, p, del.grant.as_deref(), "secret_deleted", now)?;
            tx.execute(
                "DELETE FROM secret_versions WHERE tenant_id = ?1 AND path = ?2",
                params![t, p],
            )
            .map_err(map_err)?;
            tx.execute(
                "DELETE FROM secrets WHERE tenant_id = ?1 AND path = ?2",
                params![t, p],
            )
            .map_err(map_err)?;
            let mut events: Vec<NewEvent> = voided
                .iter()
                .map(|r| (del.voided)(&event, r, "secret_deleted"))
                .collect();
            events.insert(0, event);
            Ok(((), events))
        })
        .await
    }

    async fn rotate_kek(
        &self,
        new: KekRow,
        rewrap: Rewrapper,
        event: NewEvent,
    ) -> StoreResult<u64> {
        self.write_with(event, move |tx, event| {
            let mut rewrap = rewrap;
            let current = max_kek_version(tx, &new.tenant_id)?.unwrap_or(0);
            if current.checked_add(1) != Some(new.version) {
                return Err(StoreError::Conflict(Conflict::RotationRaced));
            }
            tx.execute(
                "INSERT INTO tenant_keks (tenant_id, version, wrapped, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![new.tenant_id, new.version, new.wrapped, us(new.created_at)],
            )
            .map_err(map_err)?;
            let rows: Vec<(String, u32, u32, Vec<u8>)> = {
                let mut s = tx
                    .prepare(
                        "SELECT path, version, kek_version, wrapped_dek FROM secret_versions
                         WHERE tenant_id = ?1 ORDER BY path, version",
                    )
                    .map_err(map_err)?;
                s.query_map([&new.tenant_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(map_err)?
            };
            let mut count = 0u64;
            for (path, version, kek_version, wrapped) in &rows {
                let rewrapped = rewrap(&DekRef {
                    path,
                    version: *version,
                    kek_version: *kek_version,
                    wrapped_dek: wrapped,
                })?;
                tx.execute(
                    "UPDATE secret_versions SET wrapped_dek = ?4, kek_version = ?5
                     WHERE tenant_id = ?1 AND path = ?2 AND version = ?3",
                    params![new.tenant_id, path, version, rewrapped, new.version],
                )
                .map_err(map_err)?;
                count += 1;
            }
            tx.execute(
                "DELETE FROM tenant_keks WHERE tenant_id = ?1 AND version < ?2",
                params![new.tenant_id, new.version],
            )
            .map_err(map_err)?;
            *event = event
                .clone()
                .detail("kek_version", new.version)
                .detail("rewrapped", count);
            Ok(count)
        })
        .await
    }
}
