//! [`SecretStore`] on PostgreSQL: encrypted secret versions (the KEK rows are in `keks`).
//!
//! What SQLite's single writer serialised, replicas serialise here with locks: a write or
//! delete locks the secret's row (`FOR UPDATE`) before it compares it with what the gate
//! saw, so two writes of one secret number their versions one after the other, and the
//! second compares against the first's result; two first writes of one path meet at its
//! primary key, and the loser is `SecretChanged` (as it would be after the winner's
//! commit). A write also holds the tenant's KEK lock shared while it seals (see `keks`).

use super::tx::Tx;
use async_trait::async_trait;
use keyhold_core::api::ApprovalOperation;
use keyhold_core::path::{PathPrefix, SecretPath};
use tokio_postgres::Row;

use super::connection::PostgresStore;
use super::errors::bad;
use super::events::{append, append_all};
use super::grants::{spend_grant, void_open};
use super::keks::{lock_kek, max_kek_version};
use super::rows::{col, to_u32};
use super::tx::{Acting, begin, commit, exec, exec_unique, row, rows};
use crate::store::event::NewEvent;
use crate::store::{
    Conflict, Deletion, KekRow, NewVersion, Rewrapper, Sealer, SecretRecord, SecretStore,
    StoreError, StoreResult, VersionInfo, VersionRow,
};

const SECRET_COLS: &str =
    "s.tenant_id, s.path, s.type, s.tier, s.current_version, s.created_at, s.updated_at, s.id";

fn secret_row(r: &Row) -> StoreResult<SecretRecord> {
    let path: String = col(r, 1, "secret")?;
    let kind: String = col(r, 2, "secret")?;
    let tier: String = col(r, 3, "secret")?;
    Ok(SecretRecord {
        tenant_id: col(r, 0, "secret")?,
        path: SecretPath::parse(&path).map_err(|_| bad("path"))?,
        kind: kind.parse().map_err(|_| bad("type"))?,
        tier: tier.parse().map_err(|_| bad("tier"))?,
        current_version: to_u32(col(r, 4, "secret")?, "secret version")?,
        created_at: col(r, 5, "secret")?,
        updated_at: col(r, 6, "secret")?,
        id: col(r, 7, "secret")?,
    })
}

/// The secret at `path`, its row locked until the transaction ends.
async fn lock_secret(
    tx: &Tx<'_>,
    tenant_id: &str,
    path: &str,
) -> StoreResult<Option<SecretRecord>> {
    let found = row(
        tx,
        &format!(
            "SELECT {SECRET_COLS} FROM secrets s WHERE s.tenant_id = $1 AND s.path = $2
             FOR UPDATE"
        ),
        &[&tenant_id, &path],
    )
    .await?;
    found.as_ref().map(secret_row).transpose()
}

/// The next version of an existing secret: type and tier as asked, or as they were.
async fn next_version(
    tx: &Tx<'_>,
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
    exec(
        tx,
        "UPDATE secrets SET type = $3, tier = $4, current_version = $5, updated_at = $6
         WHERE tenant_id = $1 AND path = $2",
        &[
            &rec.tenant_id,
            &new.path.as_str(),
            &rec.kind.as_str(),
            &rec.tier.as_str(),
            &i64::from(version),
            &new.now,
        ],
    )
    .await?;
    Ok(rec)
}

/// A new secret with a new identity (random, so a re-created path is another secret).
/// A parallel first write of the same path that committed first makes this one
/// `SecretChanged`: the gate saw no secret, and there is one now.
async fn first_version(tx: &Tx<'_>, new: &NewVersion) -> StoreResult<SecretRecord> {
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
    exec_unique(
        tx,
        "INSERT INTO secrets (id, tenant_id, path, type, tier, current_version, created_at,
             updated_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
        &[
            &rec.id,
            &rec.tenant_id,
            &new.path.as_str(),
            &rec.kind.as_str(),
            &rec.tier.as_str(),
            &new.now,
        ],
        Conflict::SecretChanged,
    )
    .await?;
    Ok(rec)
}

/// The checks and grant of a write, in its transaction, before anything changes: the
/// KEK is still current, the secret is what the gate saw, and its grant (if any) is
/// spent now. Returns the locked current secret.
async fn gate_write(tx: &Tx<'_>, new: &NewVersion) -> StoreResult<Option<SecretRecord>> {
    lock_kek(tx, &new.tenant_id, false).await?;
    if max_kek_version(tx, &new.tenant_id).await? != Some(new.kek_version) {
        return Err(StoreError::Conflict(Conflict::StaleKek));
    }
    let current = lock_secret(tx, &new.tenant_id, new.path.as_str()).await?;
    let seen = current.as_ref().map(|c| (c.id.clone(), c.tier));
    if seen != new.seen {
        return Err(StoreError::Conflict(Conflict::SecretChanged));
    }
    if let (Some(g), Some(cur)) = (&new.grant, &current)
        && !spend_grant(
            tx,
            &new.tenant_id,
            &g.approval_id,
            &cur.id,
            g.operation,
            new.now,
        )
        .await?
    {
        return Err(StoreError::Conflict(Conflict::GrantGone));
    }
    Ok(current)
}

/// Store the sealed version `record.current_version` of `new`.
async fn insert_version(
    tx: &Tx<'_>,
    new: &NewVersion,
    record: &SecretRecord,
    seal: Sealer,
) -> StoreResult<()> {
    let sealed = seal(record.current_version)?;
    exec(
        tx,
        "INSERT INTO secret_versions (tenant_id, path, version, ciphertext, wrapped_dek,
             kek_version, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &record.tenant_id,
            &new.path.as_str(),
            &i64::from(record.current_version),
            &sealed.ciphertext,
            &sealed.wrapped_dek,
            &i64::from(new.kek_version),
            &new.now,
            &new.created_by,
        ],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl SecretStore for PostgresStore {
    async fn current_kek(&self, tenant_id: &str) -> StoreResult<Option<KekRow>> {
        self.read_current_kek(tenant_id).await
    }

    async fn kek(&self, tenant_id: &str, version: u32) -> StoreResult<Option<KekRow>> {
        self.read_kek(tenant_id, version).await
    }

    async fn keks(&self, tenant_id: &str) -> StoreResult<Vec<KekRow>> {
        self.read_keks(tenant_id).await
    }

    async fn insert_first_kek(&self, row: KekRow) -> StoreResult<()> {
        self.add_first_kek(row).await
    }

    async fn kek_tenants(&self) -> StoreResult<Vec<String>> {
        self.list_kek_tenants().await
    }

    async fn secret(
        &self,
        tenant_id: &str,
        path: &SecretPath,
    ) -> StoreResult<Option<SecretRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            &format!("SELECT {SECRET_COLS} FROM secrets s WHERE s.tenant_id = $1 AND s.path = $2"),
            &[&tenant_id, &path.as_str()],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(secret_row).transpose()
    }

    async fn secret_version(
        &self,
        tenant_id: &str,
        path: &SecretPath,
        version: Option<u32>,
    ) -> StoreResult<Option<(SecretRecord, VersionRow)>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            &format!(
                "SELECT {SECRET_COLS}, v.version, v.ciphertext, v.wrapped_dek, v.kek_version,
                        v.created_at, v.created_by
                 FROM secrets s JOIN secret_versions v
                   ON v.tenant_id = s.tenant_id AND v.path = s.path
                  AND v.version = COALESCE($3, s.current_version)
                 WHERE s.tenant_id = $1 AND s.path = $2"
            ),
            &[&tenant_id, &path.as_str(), &version.map(i64::from)],
        )
        .await?;
        commit(tx).await?;
        let Some(r) = found else { return Ok(None) };
        let v = VersionRow {
            version: to_u32(col(&r, 8, "secret version")?, "secret version")?,
            ciphertext: col(&r, 9, "secret version")?,
            wrapped_dek: col(&r, 10, "secret version")?,
            kek_version: to_u32(col(&r, 11, "secret version")?, "kek version")?,
            created_at: col(&r, 12, "secret version")?,
            created_by: col(&r, 13, "secret version")?,
        };
        Ok(Some((secret_row(&r)?, v)))
    }

    async fn secret_versions(
        &self,
        tenant_id: &str,
        path: &SecretPath,
    ) -> StoreResult<Vec<VersionInfo>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            "SELECT version, created_at, created_by FROM secret_versions
             WHERE tenant_id = $1 AND path = $2 ORDER BY version",
            &[&tenant_id, &path.as_str()],
        )
        .await?;
        commit(tx).await?;
        found
            .iter()
            .map(|r| {
                Ok(VersionInfo {
                    version: to_u32(col(r, 0, "secret version")?, "secret version")?,
                    created_at: col(r, 1, "secret version")?,
                    created_by: col(r, 2, "secret version")?,
                })
            })
            .collect()
    }

    /// A byte-prefix test (`starts_with`, not LIKE: `_` is a LIKE wildcard and a legal
    /// path character), and byte order for the cursor and the sort whatever the
    /// database's collation, as SQLite compares.
    async fn list_secrets(
        &self,
        tenant_id: &str,
        prefix: &PathPrefix,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SecretRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {SECRET_COLS} FROM secrets s
                 WHERE s.tenant_id = $1 AND starts_with(s.path, $2)
                   AND ($3::text IS NULL OR s.path > $3 COLLATE \"C\")
                 ORDER BY s.path COLLATE \"C\" LIMIT $4"
            ),
            &[&tenant_id, &prefix.as_string(), &after, &i64::from(limit)],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(secret_row).collect()
    }

    async fn put_secret(
        &self,
        new: NewVersion,
        seal: Sealer,
        event: NewEvent,
    ) -> StoreResult<SecretRecord> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&new.tenant_id)).await?;
        let current = gate_write(&tx, &new).await?;
        let raised = match (&current, new.tier) {
            (Some(cur), Some(tier)) => tier > cur.tier,
            _ => false,
        };
        let mut voided = Vec::new();
        if raised {
            let path = new.path.as_str();
            let open = void_open(&tx, &new.tenant_id, path, None, "tier_raised", new.now).await?;
            voided.extend(open.iter().map(|r| (new.voided)(&event, r, "tier_raised")));
        }
        let record = match current {
            Some(cur) => next_version(&tx, &new, cur).await?,
            None => first_version(&tx, &new).await?,
        };
        insert_version(&tx, &new, &record, seal).await?;
        append(&tx, &event.detail("version", record.current_version)).await?;
        append_all(&tx, &voided).await?;
        commit(tx).await?;
        Ok(record)
    }

    async fn delete_secret(&self, del: Deletion, event: NewEvent) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let (t, p) = (del.tenant_id.as_str(), del.path.as_str());
        let tx = begin(&mut conn, Acting::Tenant(t)).await?;
        let current = lock_secret(&tx, t, p).await?.ok_or(StoreError::NotFound)?;
        if current.id != del.secret_id {
            return Err(StoreError::Conflict(Conflict::SecretChanged));
        }
        let now = event.at;
        if let Some(g) = &del.grant
            && !spend_grant(&tx, t, g, &current.id, ApprovalOperation::Delete, now).await?
        {
            return Err(StoreError::Conflict(Conflict::GrantGone));
        }
        let open = void_open(&tx, t, p, del.grant.as_deref(), "secret_deleted", now).await?;
        exec(
            &tx,
            "DELETE FROM secret_versions WHERE tenant_id = $1 AND path = $2",
            &[&t, &p],
        )
        .await?;
        exec(
            &tx,
            "DELETE FROM secrets WHERE tenant_id = $1 AND path = $2",
            &[&t, &p],
        )
        .await?;
        append(&tx, &event).await?;
        for r in &open {
            append(&tx, &(del.voided)(&event, r, "secret_deleted")).await?;
        }
        commit(tx).await
    }

    async fn rotate_kek(
        &self,
        new: KekRow,
        rewrap: Rewrapper,
        event: NewEvent,
    ) -> StoreResult<u64> {
        self.rotate_tenant_kek(new, rewrap, event).await
    }
}
