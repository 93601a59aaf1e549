//! [`DetectionStore`] on SQLite: alert rules (one JSON document per tenant), alerts, key
//! suspension and address blocks.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{AlertRules, Severity};
use rusqlite::{OptionalExtension, Transaction, params};

use super::connection::SqliteStore;
use super::errors::map_err;
use super::rows::{from_us, us};
use crate::store::detect::{AlertAction, AlertFilter, AlertRecord, BlockRecord, DetectionStore};
use crate::store::event::NewEvent;
use crate::store::{StoreError, StoreResult};

const ALERT_COLS: &str = "id, tenant_id, rule, severity, message, subject, response, raised_at,
    acknowledged_at, acknowledged_by";
const BLOCK_COLS: &str = "id, tenant_id, address, rule, created_at, expires_at, lifted_at";

fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRecord> {
    Ok(AlertRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        rule: r.get(2)?,
        severity: Severity::parse(&r.get::<_, String>(3)?),
        message: r.get(4)?,
        subject: r.get(5)?,
        response: r.get(6)?,
        raised_at: from_us(r.get(7)?),
        acknowledged_at: r.get::<_, Option<i64>>(8)?.map(from_us),
        acknowledged_by: r.get(9)?,
    })
}

fn block_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BlockRecord> {
    Ok(BlockRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        address: r.get(2)?,
        rule: r.get(3)?,
        created_at: from_us(r.get(4)?),
        expires_at: from_us(r.get(5)?),
        lifted_at: r.get::<_, Option<i64>>(6)?.map(from_us),
    })
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Other(e.into())
}

/// The alert's row and its action, inside the alert's transaction.
fn insert_alert(tx: &Transaction<'_>, a: &AlertRecord, action: &AlertAction) -> StoreResult<()> {
    tx.execute(
        &format!(
            "INSERT INTO alerts ({ALERT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL)"
        ),
        params![
            a.id,
            a.tenant_id,
            a.rule,
            a.severity.as_str(),
            a.message,
            a.subject,
            a.response,
            us(a.raised_at)
        ],
    )
    .map_err(map_err)?;
    match action {
        AlertAction::None => {}
        AlertAction::SuspendKey(key_id) => {
            tx.execute(
                "UPDATE agent_keys SET suspended_at = COALESCE(suspended_at, ?3)
                 WHERE tenant_id = ?1 AND id = ?2 AND revoked_at IS NULL",
                params![a.tenant_id, key_id, us(a.raised_at)],
            )
            .map_err(map_err)?;
        }
        AlertAction::Block(b) => {
            tx.execute(
                &format!("INSERT INTO address_blocks ({BLOCK_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)"),
                params![
                    b.id,
                    b.tenant_id,
                    b.address,
                    b.rule,
                    us(b.created_at),
                    us(b.expires_at)
                ],
            )
            .map_err(map_err)?;
        }
    }
    Ok(())
}

#[async_trait]
impl DetectionStore for SqliteStore {
    async fn alert_rules(&self, tenant_id: &str) -> StoreResult<Option<AlertRules>> {
        let t = tenant_id.to_owned();
        let text: Option<String> = self
            .run(move |c| {
                c.prepare_cached("SELECT rules FROM alert_rules WHERE tenant_id = ?1")
                    .and_then(|mut s| s.query_row([t], |r| r.get(0)).optional())
                    .map_err(map_err)
            })
            .await?;
        text.map(|t| serde_json::from_str(&t).map_err(json_err))
            .transpose()
    }

    async fn put_alert_rules(
        &self,
        tenant_id: &str,
        rules: AlertRules,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let t = tenant_id.to_owned();
        let text = serde_json::to_string(&rules).map_err(json_err)?;
        self.write(event, move |tx| {
            tx.execute(
                "INSERT INTO alert_rules (tenant_id, rules, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tenant_id) DO UPDATE SET rules = ?2, updated_at = ?3",
                params![t, text, us(now)],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn all_alert_rules(&self) -> StoreResult<Vec<(String, AlertRules)>> {
        let rows: Vec<(String, String)> = self
            .run(|c| {
                let mut s = c
                    .prepare_cached("SELECT tenant_id, rules FROM alert_rules")
                    .map_err(map_err)?;
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .and_then(|r| r.collect())
                    .map_err(map_err)
            })
            .await?;
        rows.into_iter()
            .map(|(t, text)| Ok((t, serde_json::from_str(&text).map_err(json_err)?)))
            .collect()
    }

    async fn raise_alert(
        &self,
        alert: AlertRecord,
        action: AlertAction,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.transact(move |tx| {
            insert_alert(tx, &alert, &action)?;
            Ok(((), events))
        })
        .await
    }

    async fn list_alerts(
        &self,
        tenant_id: &str,
        filter: AlertFilter,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AlertRecord>> {
        let t = tenant_id.to_owned();
        let before = before_id.map(str::to_owned);
        let cond = match filter {
            AlertFilter::Open => " AND acknowledged_at IS NULL",
            AlertFilter::Acknowledged => " AND acknowledged_at IS NOT NULL",
            AlertFilter::All => "",
        };
        self.run(move |c| {
            let sql = format!(
                "SELECT {ALERT_COLS} FROM alerts WHERE tenant_id = ?1{cond}
                 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
            );
            let mut s = c.prepare_cached(&sql).map_err(map_err)?;
            s.query_map(params![t, before, i64::from(limit)], alert_row)
                .and_then(|r| r.collect())
                .map_err(map_err)
        })
        .await
    }

    async fn alert(&self, tenant_id: &str, id: &str) -> StoreResult<Option<AlertRecord>> {
        let (t, id) = (tenant_id.to_owned(), id.to_owned());
        self.point_read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {ALERT_COLS} FROM alerts WHERE tenant_id = ?1 AND id = ?2"
            ))
            .and_then(|mut s| s.query_row(params![t, id], alert_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn ack_alert(
        &self,
        tenant_id: &str,
        id: &str,
        by: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id, by) = (tenant_id.to_owned(), id.to_owned(), by.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE alerts SET acknowledged_at = ?3, acknowledged_by = ?4
                     WHERE tenant_id = ?1 AND id = ?2 AND acknowledged_at IS NULL",
                    params![t, id, us(now), by],
                )
                .map_err(map_err)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn open_critical_alerts(&self, tenant_id: &str) -> StoreResult<u32> {
        let t = tenant_id.to_owned();
        self.run(move |c| {
            c.prepare_cached(
                "SELECT COUNT(*) FROM alerts WHERE tenant_id = ?1 AND severity = 'critical'
                 AND acknowledged_at IS NULL",
            )
            .and_then(|mut s| s.query_row([t], |r| r.get(0)))
            .map_err(map_err)
        })
        .await
    }

    async fn reinstate_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, k) = (tenant_id.to_owned(), key_id.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE agent_keys SET suspended_at = NULL
                     WHERE tenant_id = ?1 AND id = ?2 AND suspended_at IS NOT NULL
                       AND revoked_at IS NULL",
                    params![t, k],
                )
                .map_err(map_err)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn active_blocks(&self, now: DateTime<Utc>) -> StoreResult<Vec<BlockRecord>> {
        self.run(move |c| {
            let mut s = c
                .prepare_cached(&format!(
                    "SELECT {BLOCK_COLS} FROM address_blocks
                     WHERE expires_at > ?1 AND lifted_at IS NULL ORDER BY id"
                ))
                .map_err(map_err)?;
            s.query_map([us(now)], block_row)
                .and_then(|r| r.collect())
                .map_err(map_err)
        })
        .await
    }

    async fn tenant_blocks(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<BlockRecord>> {
        let t = tenant_id.to_owned();
        self.run(move |c| {
            let mut s = c
                .prepare_cached(&format!(
                    "SELECT {BLOCK_COLS} FROM address_blocks
                     WHERE tenant_id = ?1 AND expires_at > ?2 AND lifted_at IS NULL ORDER BY id"
                ))
                .map_err(map_err)?;
            s.query_map(params![t, us(now)], block_row)
                .and_then(|r| r.collect())
                .map_err(map_err)
        })
        .await
    }

    async fn lift_block(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), id.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE address_blocks SET lifted_at = ?3
                     WHERE tenant_id = ?1 AND id = ?2 AND lifted_at IS NULL AND expires_at > ?3",
                    params![t, id, us(now)],
                )
                .map_err(map_err)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn tenant_ids(&self) -> StoreResult<Vec<String>> {
        self.run(|c| {
            let mut s = c
                .prepare_cached("SELECT id FROM tenants ORDER BY id")
                .map_err(map_err)?;
            s.query_map([], |r| r.get(0))
                .and_then(|r| r.collect())
                .map_err(map_err)
        })
        .await
    }
}
