//! [`KeyChangeStore`] on SQLite: one writer, so a key's state read at the start of a
//! write transaction holds until its commit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use rusqlite::{OptionalExtension, Transaction, params};

use super::connection::SqliteStore;
use super::errors::map_err;
use super::keys::{insert_key, to_json};
use super::rows::{from_us, us};
use crate::store::event::NewEvent;
use crate::store::{
    Conflict, KeyChangeStore, KeyRecord, KeyUsageRecord, OldKeyEnd, StoreError, StoreResult,
    UsageWindows,
};

/// `NotFound` for a key the tenant does not have, `KeyRevoked` for a revoked one.
fn check_unrevoked(tx: &Transaction<'_>, tenant_id: &str, key_id: &str) -> StoreResult<()> {
    let revoked: Option<Option<i64>> = tx
        .query_row(
            "SELECT revoked_at FROM agent_keys WHERE tenant_id = ?1 AND id = ?2",
            params![tenant_id, key_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(map_err)?;
    match revoked {
        None => Err(StoreError::NotFound),
        Some(Some(_)) => Err(StoreError::Conflict(Conflict::KeyRevoked)),
        Some(None) => Ok(()),
    }
}

/// The events a key caused itself, then those of its tokens, since `?3`: two index ranges
/// of `audit_actor` (tenant, actor) rather than one scan of the tenant's chain.
const KEY_EVENTS: &str = "
    SELECT at_us, ip, outcome FROM audit_events
     WHERE tenant_id = ?1 AND actor_id = ?2 AND actor_type = 'agent_key' AND at_us >= ?3
    UNION ALL
    SELECT at_us, ip, outcome FROM audit_events
     WHERE tenant_id = ?1 AND actor_type = 'token' AND at_us >= ?3
       AND actor_id IN (SELECT id FROM tokens WHERE tenant_id = ?1 AND key_id = ?2)";

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[async_trait]
impl KeyChangeStore for SqliteStore {
    async fn update_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        expires_at: Option<DateTime<Utc>>,
        ip_allowlist: Vec<IpNet>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), key_id.to_owned());
        let nets = to_json(&ip_allowlist)?;
        self.write(event, move |tx| {
            check_unrevoked(tx, &t, &id)?;
            tx.execute(
                "UPDATE agent_keys SET expires_at = ?3, ip_allowlist = ?4
                 WHERE tenant_id = ?1 AND id = ?2",
                params![t, id, expires_at.map(us), nets],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn rotate_key(
        &self,
        old_key_id: &str,
        end: OldKeyEnd,
        new: KeyRecord,
        secret_hash: String,
        event: NewEvent,
    ) -> StoreResult<DateTime<Utc>> {
        let old = old_key_id.to_owned();
        self.write(event, move |tx| {
            let t = new.tenant_id.clone();
            check_unrevoked(tx, &t, &old)?;
            insert_key(tx, &new, &secret_hash)?;
            match end {
                OldKeyEnd::RevokeAt(at) => {
                    tx.execute(
                        "UPDATE agent_keys SET revoked_at = ?3 WHERE tenant_id = ?1 AND id = ?2",
                        params![t, old, us(at)],
                    )
                    .map_err(map_err)?;
                    tx.execute(
                        "UPDATE tokens SET revoked_at = ?3
                         WHERE tenant_id = ?1 AND key_id = ?2 AND revoked_at IS NULL",
                        params![t, old, us(at)],
                    )
                    .map_err(map_err)?;
                    Ok(at)
                }
                OldKeyEnd::ExpireBy(at) => tx
                    .query_row(
                        "UPDATE agent_keys SET expires_at = MIN(COALESCE(expires_at, ?3), ?3)
                         WHERE tenant_id = ?1 AND id = ?2 RETURNING expires_at",
                        params![t, old, us(at)],
                        |r| r.get::<_, i64>(0),
                    )
                    .map(from_us)
                    .map_err(map_err),
            }
        })
        .await
    }

    async fn key_usage(
        &self,
        tenant_id: &str,
        key_id: &str,
        windows: UsageWindows,
    ) -> StoreResult<KeyUsageRecord> {
        let (t, id) = (tenant_id.to_owned(), key_id.to_owned());
        let since = windows.day.min(windows.week).min(windows.addresses);
        self.run(move |c| {
            let (day, week, refused) = c
                .prepare_cached(&format!(
                    "SELECT COALESCE(SUM(at_us >= ?4), 0), COALESCE(SUM(at_us >= ?5), 0),
                            COALESCE(SUM(at_us >= ?5 AND outcome <> 'success'), 0)
                     FROM ({KEY_EVENTS})"
                ))
                .and_then(|mut s| {
                    s.query_row(
                        params![t, id, us(since), us(windows.day), us(windows.week)],
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, i64>(1)?,
                                r.get::<_, i64>(2)?,
                            ))
                        },
                    )
                })
                .map_err(map_err)?;
            let addresses = c
                .prepare_cached(&format!(
                    "SELECT ip, MAX(at_us) AS last, COUNT(*) FROM ({KEY_EVENTS})
                     WHERE ip IS NOT NULL GROUP BY ip ORDER BY last DESC, ip LIMIT ?4"
                ))
                .and_then(|mut s| {
                    s.query_map(
                        params![
                            t,
                            id,
                            us(windows.addresses),
                            i64::from(windows.max_addresses)
                        ],
                        |r| Ok((r.get(0)?, from_us(r.get(1)?), count(r.get(2)?))),
                    )?
                    .collect::<Result<Vec<_>, _>>()
                })
                .map_err(map_err)?;
            Ok(KeyUsageRecord {
                day: count(day),
                week: count(week),
                refused_week: count(refused),
                addresses,
            })
        })
        .await
    }
}
