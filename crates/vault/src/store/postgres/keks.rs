//! The tenants' KEK rows on PostgreSQL, for [`crate::store::SecretStore`] (whose impl in
//! `secrets` calls these): reads, the first KEK, the tenants that have one, and rotation.
//!
//! A rotation re-wraps every data key and drops the older KEKs; a secret write seals under
//! the current KEK. SQLite's one writer kept them apart; here the tenant's KEK lock does:
//! a transaction-level advisory lock (the server's role may not lock `tenant_keks` rows,
//! which would need UPDATE on them), shared by writes, exclusive for a rotation. A
//! rotation waits for the writes in flight, and a write waits for the rotation and then
//! finds its KEK stale, so no version is ever left wrapped by a KEK the rotation dropped.

use super::tx::Tx;
use tokio_postgres::Row;

use super::connection::PostgresStore;
use super::events::{append, notify_kek_rotated};
use super::rows::{col, to_u32};
use super::tx::{Acting, act, begin, commit, exec, row, rows};
use crate::store::event::NewEvent;
use crate::store::{Conflict, DekRef, KekRow, Rewrapper, StoreError, StoreResult};

/// The first key of the two-key advisory lock a tenant's KEK is guarded by (its second
/// key is the tenant id's hash): "kek" in ASCII, apart from every other advisory lock
/// (the migrations' takes one 64-bit key, a key space that never meets the two-key one).
const KEK_LOCK_CLASS: i32 = 0x006B_656B;

fn kek_row(r: &Row) -> StoreResult<KekRow> {
    Ok(KekRow {
        tenant_id: col(r, 0, "kek")?,
        version: to_u32(col(r, 1, "kek")?, "kek version")?,
        wrapped: col(r, 2, "kek")?,
        created_at: col(r, 3, "kek")?,
    })
}

/// Take the tenant's KEK lock until the transaction ends: shared for a write that seals
/// under the current KEK, exclusive for a rotation.
pub(super) async fn lock_kek(tx: &Tx<'_>, tenant_id: &str, exclusive: bool) -> StoreResult<()> {
    let sql = if exclusive {
        "SELECT pg_advisory_xact_lock($1, hashtext($2))"
    } else {
        "SELECT pg_advisory_xact_lock_shared($1, hashtext($2))"
    };
    row(tx, sql, &[&KEK_LOCK_CLASS, &tenant_id]).await?;
    Ok(())
}

/// The tenant's newest KEK version; `None` before its first KEK.
pub(super) async fn max_kek_version(tx: &Tx<'_>, tenant_id: &str) -> StoreResult<Option<u32>> {
    let found = row(
        tx,
        "SELECT MAX(version) FROM tenant_keks WHERE tenant_id = $1",
        &[&tenant_id],
    )
    .await?;
    let max: Option<i64> = match found {
        Some(r) => col(&r, 0, "kek version")?,
        None => None,
    };
    max.map(|v| to_u32(v, "kek version")).transpose()
}

/// Re-wrap every data key of the tenant under KEK `version`, in path and version order
/// (byte order, as SQLite sorts). Returns how many.
async fn rewrap_all(
    tx: &Tx<'_>,
    tenant_id: &str,
    version: u32,
    rewrap: &mut Rewrapper,
) -> StoreResult<u64> {
    let found = rows(
        tx,
        "SELECT path, version, kek_version, wrapped_dek FROM secret_versions
         WHERE tenant_id = $1 ORDER BY path COLLATE \"C\", version",
        &[&tenant_id],
    )
    .await?;
    let mut count = 0u64;
    for r in &found {
        let path: String = col(r, 0, "secret version")?;
        let v: i64 = col(r, 1, "secret version")?;
        let wrapped: Vec<u8> = col(r, 3, "secret version")?;
        let rewrapped = rewrap(&DekRef {
            path: &path,
            version: to_u32(v, "secret version")?,
            kek_version: to_u32(col(r, 2, "secret version")?, "kek version")?,
            wrapped_dek: &wrapped,
        })?;
        exec(
            tx,
            "UPDATE secret_versions SET wrapped_dek = $4, kek_version = $5
             WHERE tenant_id = $1 AND path = $2 AND version = $3",
            &[&tenant_id, &path, &v, &rewrapped, &i64::from(version)],
        )
        .await?;
        count += 1;
    }
    Ok(count)
}

impl PostgresStore {
    pub(super) async fn read_current_kek(&self, tenant_id: &str) -> StoreResult<Option<KekRow>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            "SELECT tenant_id, version, wrapped, created_at FROM tenant_keks
             WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1",
            &[&tenant_id],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(kek_row).transpose()
    }

    pub(super) async fn read_kek(
        &self,
        tenant_id: &str,
        version: u32,
    ) -> StoreResult<Option<KekRow>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            "SELECT tenant_id, version, wrapped, created_at FROM tenant_keks
             WHERE tenant_id = $1 AND version = $2",
            &[&tenant_id, &i64::from(version)],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(kek_row).transpose()
    }

    pub(super) async fn read_keks(&self, tenant_id: &str) -> StoreResult<Vec<KekRow>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            "SELECT tenant_id, version, wrapped, created_at FROM tenant_keks
             WHERE tenant_id = $1 ORDER BY version",
            &[&tenant_id],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(kek_row).collect()
    }

    /// `ON CONFLICT DO NOTHING` as well as `NOT EXISTS`: two first requests racing both
    /// see no KEK, and the second insert then waits for the first and does nothing.
    pub(super) async fn add_first_kek(&self, row: KekRow) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&row.tenant_id)).await?;
        exec(
            &tx,
            "INSERT INTO tenant_keks (tenant_id, version, wrapped, created_at)
             SELECT $1, $2, $3, $4
             WHERE NOT EXISTS (SELECT 1 FROM tenant_keks WHERE tenant_id = $1)
             ON CONFLICT (tenant_id, version) DO NOTHING",
            &[
                &row.tenant_id,
                &i64::from(row.version),
                &row.wrapped,
                &row.created_at,
            ],
        )
        .await?;
        commit(tx).await
    }

    /// Across tenants, so no single tenant's transaction sees them: the tenants' ids are
    /// read acting for the system (the one cross-tenant read the schema allows, ids and
    /// names only), then each tenant is asked, acting for it, whether it has a KEK. The
    /// wrapped KEKs stay readable to their own tenant only.
    pub(super) async fn list_kek_tenants(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        let tenants = rows(&tx, "SELECT id FROM tenants ORDER BY id COLLATE \"C\"", &[]).await?;
        let mut out = Vec::new();
        for t in &tenants {
            let id: String = col(t, 0, "tenant")?;
            act(&tx, Acting::Tenant(&id)).await?;
            let has = row(
                &tx,
                "SELECT 1 FROM tenant_keks WHERE tenant_id = $1 LIMIT 1",
                &[&id],
            )
            .await?;
            if has.is_some() {
                out.push(id);
            }
        }
        commit(tx).await?;
        Ok(out)
    }

    pub(super) async fn rotate_tenant_kek(
        &self,
        new: KekRow,
        rewrap: Rewrapper,
        event: NewEvent,
    ) -> StoreResult<u64> {
        let mut rewrap = rewrap;
        let mut conn = self.conn().await?;
        let t = new.tenant_id.as_str();
        let tx = begin(&mut conn, Acting::Tenant(t)).await?;
        lock_kek(&tx, t, true).await?;
        let current = max_kek_version(&tx, t).await?.unwrap_or(0);
        if current.checked_add(1) != Some(new.version) {
            return Err(StoreError::Conflict(Conflict::RotationRaced));
        }
        exec(
            &tx,
            "INSERT INTO tenant_keks (tenant_id, version, wrapped, created_at)
             VALUES ($1, $2, $3, $4)",
            &[&t, &i64::from(new.version), &new.wrapped, &new.created_at],
        )
        .await?;
        let count = rewrap_all(&tx, t, new.version, &mut rewrap).await?;
        exec(
            &tx,
            "DELETE FROM tenant_keks WHERE tenant_id = $1 AND version < $2",
            &[&t, &i64::from(new.version)],
        )
        .await?;
        let event = event
            .detail("kek_version", new.version)
            .detail("rewrapped", count);
        append(&tx, &event).await?;
        // Every replica forgets the tenant's cached KEKs once this commits.
        notify_kek_rotated(&tx, t).await?;
        commit(tx).await?;
        Ok(count)
    }
}
