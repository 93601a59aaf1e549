//! [`DetectionStore`] on PostgreSQL: alert rules, alerts, key suspension and address
//! blocks, each acting for its tenant; the two cross-tenant reads (active blocks, saved
//! rules) act for the system, which 0004_detection.sql lets SELECT those tables only.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{AlertRules, Severity};
use tokio_postgres::Row;

use super::connection::PostgresStore;
use super::events::{append, append_all};
use super::rows::{col, from_json, to_json};
use super::tx::{Acting, Tx, begin, commit, exec, row, rows};
use crate::store::detect::{AlertAction, AlertFilter, AlertRecord, BlockRecord, DetectionStore};
use crate::store::event::NewEvent;
use crate::store::{StoreError, StoreResult};

const ALERT_COLS: &str = "id, tenant_id, rule, severity, message, subject, response, raised_at,
    acknowledged_at, acknowledged_by";
const BLOCK_COLS: &str = "id, tenant_id, address, rule, created_at, expires_at, lifted_at";

fn alert_row(r: &Row) -> StoreResult<AlertRecord> {
    Ok(AlertRecord {
        id: col(r, 0, "alert")?,
        tenant_id: col(r, 1, "alert")?,
        rule: col(r, 2, "alert")?,
        severity: Severity::parse(col(r, 3, "alert")?),
        message: col(r, 4, "alert")?,
        subject: col(r, 5, "alert")?,
        response: col(r, 6, "alert")?,
        raised_at: col(r, 7, "alert")?,
        acknowledged_at: col(r, 8, "alert")?,
        acknowledged_by: col(r, 9, "alert")?,
    })
}

fn block_row(r: &Row) -> StoreResult<BlockRecord> {
    Ok(BlockRecord {
        id: col(r, 0, "block")?,
        tenant_id: col(r, 1, "block")?,
        address: col(r, 2, "block")?,
        rule: col(r, 3, "block")?,
        created_at: col(r, 4, "block")?,
        expires_at: col(r, 5, "block")?,
        lifted_at: col(r, 6, "block")?,
    })
}

async fn insert_alert(tx: &Tx<'_>, a: &AlertRecord, action: &AlertAction) -> StoreResult<()> {
    exec(
        tx,
        &format!(
            "INSERT INTO alerts ({ALERT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL)"
        ),
        &[
            &a.id,
            &a.tenant_id,
            &a.rule,
            &a.severity.as_str(),
            &a.message,
            &a.subject,
            &a.response,
            &a.raised_at,
        ],
    )
    .await?;
    match action {
        AlertAction::None => {}
        AlertAction::SuspendKey(key_id) => {
            exec(
                tx,
                "UPDATE agent_keys SET suspended_at = COALESCE(suspended_at, $3)
                 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
                &[&a.tenant_id, key_id, &a.raised_at],
            )
            .await?;
        }
        AlertAction::Block(b) => {
            exec(
                tx,
                &format!(
                    "INSERT INTO address_blocks ({BLOCK_COLS}) VALUES ($1, $2, $3, $4, $5, $6, NULL)"
                ),
                &[
                    &b.id,
                    &b.tenant_id,
                    &b.address,
                    &b.rule,
                    &b.created_at,
                    &b.expires_at,
                ],
            )
            .await?;
        }
    }
    Ok(())
}

/// One conditional UPDATE of the tenant's row and `event`, `NotFound` when it changed
/// nothing.
async fn update_one(
    store: &PostgresStore,
    tenant_id: &str,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    event: &NewEvent,
) -> StoreResult<()> {
    let mut conn = store.conn().await?;
    let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
    if exec(&tx, sql, params).await? == 0 {
        return Err(StoreError::NotFound);
    }
    append(&tx, event).await?;
    commit(tx).await
}

#[async_trait]
impl DetectionStore for PostgresStore {
    async fn alert_rules(&self, tenant_id: &str) -> StoreResult<Option<AlertRules>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            "SELECT rules FROM alert_rules WHERE tenant_id = $1",
            &[&tenant_id],
        )
        .await?;
        commit(tx).await?;
        found
            .map(|r| from_json(col(&r, 0, "alert rules")?, "alert rules"))
            .transpose()
    }

    async fn put_alert_rules(
        &self,
        tenant_id: &str,
        rules: AlertRules,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let doc = to_json(&rules)?;
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        exec(
            &tx,
            "INSERT INTO alert_rules (tenant_id, rules, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id) DO UPDATE
             SET rules = EXCLUDED.rules, updated_at = EXCLUDED.updated_at",
            &[&tenant_id, &doc, &now],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn all_alert_rules(&self) -> StoreResult<Vec<(String, AlertRules)>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        let found = rows(&tx, "SELECT tenant_id, rules FROM alert_rules", &[]).await?;
        commit(tx).await?;
        found
            .iter()
            .map(|r| {
                Ok((
                    col(r, 0, "alert rules")?,
                    from_json(col(r, 1, "alert rules")?, "alert rules")?,
                ))
            })
            .collect()
    }

    async fn raise_alert(
        &self,
        alert: AlertRecord,
        action: AlertAction,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&alert.tenant_id)).await?;
        insert_alert(&tx, &alert, &action).await?;
        append_all(&tx, &events).await?;
        commit(tx).await
    }

    async fn list_alerts(
        &self,
        tenant_id: &str,
        filter: AlertFilter,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AlertRecord>> {
        let cond = match filter {
            AlertFilter::Open => " AND acknowledged_at IS NULL",
            AlertFilter::Acknowledged => " AND acknowledged_at IS NOT NULL",
            AlertFilter::All => "",
        };
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {ALERT_COLS} FROM alerts WHERE tenant_id = $1{cond}
                 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
            ),
            &[&tenant_id, &before_id, &i64::from(limit)],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(alert_row).collect()
    }

    async fn alert(&self, tenant_id: &str, id: &str) -> StoreResult<Option<AlertRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            &format!("SELECT {ALERT_COLS} FROM alerts WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &id],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(alert_row).transpose()
    }

    async fn ack_alert(
        &self,
        tenant_id: &str,
        id: &str,
        by: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        update_one(
            self,
            tenant_id,
            "UPDATE alerts SET acknowledged_at = $3, acknowledged_by = $4
             WHERE tenant_id = $1 AND id = $2 AND acknowledged_at IS NULL",
            &[&tenant_id, &id, &now, &by],
            &event,
        )
        .await
    }

    async fn open_critical_alerts(&self, tenant_id: &str) -> StoreResult<u32> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            "SELECT COUNT(*) FROM alerts WHERE tenant_id = $1 AND severity = 'critical'
             AND acknowledged_at IS NULL",
            &[&tenant_id],
        )
        .await?;
        commit(tx).await?;
        let n: i64 = match found {
            Some(r) => col(&r, 0, "alert count")?,
            None => 0,
        };
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn reinstate_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        event: NewEvent,
    ) -> StoreResult<()> {
        update_one(
            self,
            tenant_id,
            "UPDATE agent_keys SET suspended_at = NULL
             WHERE tenant_id = $1 AND id = $2 AND suspended_at IS NOT NULL
               AND revoked_at IS NULL",
            &[&tenant_id, &key_id],
            &event,
        )
        .await
    }

    async fn active_blocks(&self, now: DateTime<Utc>) -> StoreResult<Vec<BlockRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {BLOCK_COLS} FROM address_blocks
                 WHERE expires_at > $1 AND lifted_at IS NULL ORDER BY id"
            ),
            &[&now],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(block_row).collect()
    }

    async fn tenant_blocks(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<BlockRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {BLOCK_COLS} FROM address_blocks
                 WHERE tenant_id = $1 AND expires_at > $2 AND lifted_at IS NULL ORDER BY id"
            ),
            &[&tenant_id, &now],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(block_row).collect()
    }

    async fn lift_block(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        update_one(
            self,
            tenant_id,
            "UPDATE address_blocks SET lifted_at = $3
             WHERE tenant_id = $1 AND id = $2 AND lifted_at IS NULL AND expires_at > $3",
            &[&tenant_id, &id, &now],
            &event,
        )
        .await
    }

    async fn tenant_ids(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        let found = rows(&tx, "SELECT id FROM tenants ORDER BY id COLLATE \"C\"", &[]).await?;
        commit(tx).await?;
        found.iter().map(|r| col(r, 0, "tenant")).collect()
    }
}
