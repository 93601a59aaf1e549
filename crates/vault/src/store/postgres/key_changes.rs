//! [`KeyChangeStore`] on PostgreSQL. A change first locks the key's row (`FOR UPDATE`), so
//! a revocation or another rotation on another replica waits for it, or it for them, and
//! the revoked check holds until commit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ipnet::IpNet;

use super::connection::PostgresStore;
use super::events::append;
use super::keys::insert_key;
use super::rows::to_json;
use super::tx::{Acting, Tx, begin, commit, exec, row, rows};
use crate::store::event::NewEvent;
use crate::store::{
    Conflict, KeyChangeStore, KeyRecord, KeyUsageRecord, OldKeyEnd, StoreError, StoreResult,
    UsageWindows,
};

/// Lock the key's row; `NotFound` for a key the tenant does not have, `KeyRevoked` for a
/// revoked one.
async fn lock_unrevoked(tx: &Tx<'_>, tenant_id: &str, key_id: &str) -> StoreResult<()> {
    let found = row(
        tx,
        "SELECT revoked_at FROM agent_keys WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        &[&tenant_id, &key_id],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let revoked: Option<DateTime<Utc>> = super::rows::col(&found, 0, "key")?;
    if revoked.is_some() {
        return Err(StoreError::Conflict(Conflict::KeyRevoked));
    }
    Ok(())
}

/// The events a key caused itself, then those of its tokens, since `$3`: two ranges of the
/// `audit_actor` index (tenant, actor) rather than a scan of the tenant's chain.
const KEY_EVENTS: &str = "
    SELECT at, ip, outcome FROM audit_events
     WHERE tenant_id = $1 AND actor_id = $2 AND actor_type = 'agent_key' AND at >= $3
    UNION ALL
    SELECT at, ip, outcome FROM audit_events
     WHERE tenant_id = $1 AND actor_type = 'token' AND at >= $3
       AND actor_id IN (SELECT id FROM tokens WHERE tenant_id = $1 AND key_id = $2)";

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[async_trait]
impl KeyChangeStore for PostgresStore {
    async fn update_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        expires_at: Option<DateTime<Utc>>,
        ip_allowlist: Vec<IpNet>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let nets = to_json(&ip_allowlist)?;
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        lock_unrevoked(&tx, tenant_id, key_id).await?;
        exec(
            &tx,
            "UPDATE agent_keys SET expires_at = $3, ip_allowlist = $4
             WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &key_id, &expires_at, &nets],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn rotate_key(
        &self,
        old_key_id: &str,
        end: OldKeyEnd,
        new: KeyRecord,
        secret_hash: String,
        event: NewEvent,
    ) -> StoreResult<DateTime<Utc>> {
        let tenant_id = new.tenant_id.as_str();
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        lock_unrevoked(&tx, tenant_id, old_key_id).await?;
        insert_key(&tx, &new, &secret_hash).await?;
        let ends = match end {
            OldKeyEnd::RevokeAt(at) => {
                exec(
                    &tx,
                    "UPDATE agent_keys SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2",
                    &[&tenant_id, &old_key_id, &at],
                )
                .await?;
                exec(
                    &tx,
                    "UPDATE tokens SET revoked_at = $3
                     WHERE tenant_id = $1 AND key_id = $2 AND revoked_at IS NULL",
                    &[&tenant_id, &old_key_id, &at],
                )
                .await?;
                at
            }
            OldKeyEnd::ExpireBy(at) => {
                let r = row(
                    &tx,
                    "UPDATE agent_keys SET expires_at = LEAST(COALESCE(expires_at, $3), $3)
                     WHERE tenant_id = $1 AND id = $2 RETURNING expires_at",
                    &[&tenant_id, &old_key_id, &at],
                )
                .await?
                .ok_or(StoreError::NotFound)?;
                super::rows::col::<Option<DateTime<Utc>>>(&r, 0, "key")?.unwrap_or(at)
            }
        };
        append(&tx, &event).await?;
        commit(tx).await?;
        Ok(ends)
    }

    async fn key_usage(
        &self,
        tenant_id: &str,
        key_id: &str,
        windows: UsageWindows,
    ) -> StoreResult<KeyUsageRecord> {
        let since = windows.day.min(windows.week).min(windows.addresses);
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let totals = row(
            &tx,
            &format!(
                "SELECT count(*) FILTER (WHERE at >= $4), count(*) FILTER (WHERE at >= $5),
                        count(*) FILTER (WHERE at >= $5 AND outcome <> 'success')
                 FROM ({KEY_EVENTS}) ev"
            ),
            &[&tenant_id, &key_id, &since, &windows.day, &windows.week],
        )
        .await?
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("no totals row")))?;
        let limit = i64::from(windows.max_addresses);
        let found = rows(
            &tx,
            &format!(
                "SELECT ip, max(at) AS last, count(*) FROM ({KEY_EVENTS}) ev
                 WHERE ip IS NOT NULL GROUP BY ip ORDER BY last DESC, ip LIMIT $4"
            ),
            &[&tenant_id, &key_id, &windows.addresses, &limit],
        )
        .await?;
        commit(tx).await?;
        let num = |r: &tokio_postgres::Row, i| super::rows::col::<i64>(r, i, "usage").map(count);
        let mut addresses = Vec::with_capacity(found.len());
        for r in &found {
            addresses.push((
                super::rows::col(r, 0, "usage")?,
                super::rows::col(r, 1, "usage")?,
                num(r, 2)?,
            ));
        }
        Ok(KeyUsageRecord {
            day: num(&totals, 0)?,
            week: num(&totals, 1)?,
            refused_week: num(&totals, 2)?,
            addresses,
        })
    }
}
