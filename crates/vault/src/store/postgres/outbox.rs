//! [`OutboxStore`] on PostgreSQL. Messages enter with their event (`events::append`);
//! here they are claimed, recorded and listed. Claims take `FOR UPDATE SKIP LOCKED` and a
//! lease, so replicas share the work without delivering one message at once twice; the
//! worker claims acting as the system (the outbox's one cross-tenant policy) and touches
//! endpoints acting for their tenant.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::EndpointKind;
use keyhold_core::tier::Tier;
use tokio_postgres::Row;

use super::connection::PostgresStore;
use super::errors::bad;
use super::rows::{col, from_json, to_json, to_u32};
use super::tx::{Acting, Tx, act, begin, commit, exec, row, rows};
use crate::store::event::NewEvent;
use crate::store::outbox::{
    Attempt, AttemptOutcome, EndpointRecord, MessageKind, MessageRecord, OutboxStore, retry_window,
};
use crate::store::{StoreError, StoreResult};

const ENDPOINT_COLS: &str = "id, tenant_id, kind, url_sealed, url_display, events, description,
    secret_sealed, previous_secret_sealed, previous_until, secret_version, enabled,
    disabled_reason, failing_since, created_at";

fn endpoint_row(r: &Row) -> StoreResult<EndpointRecord> {
    const W: &str = "webhook endpoint";
    let kind: String = col(r, 2, W)?;
    let version: i32 = col(r, 10, W)?;
    Ok(EndpointRecord {
        id: col(r, 0, W)?,
        tenant_id: col(r, 1, W)?,
        kind: EndpointKind::parse(&kind).ok_or_else(|| bad(W))?,
        url_sealed: col(r, 3, W)?,
        url_display: col(r, 4, W)?,
        events: from_json(col(r, 5, W)?, W)?,
        description: col(r, 6, W)?,
        secret_sealed: col(r, 7, W)?,
        previous_secret_sealed: col(r, 8, W)?,
        previous_until: col(r, 9, W)?,
        secret_version: u32::try_from(version).map_err(|_| bad(W))?,
        enabled: col(r, 11, W)?,
        disabled_reason: col(r, 12, W)?,
        failing_since: col(r, 13, W)?,
        created_at: col(r, 14, W)?,
    })
}

const MESSAGE_COLS: &str = "id, tenant_id, kind, endpoint_id, event_type, payload, status,
    attempts, created_at, give_up_at, next_at, last_attempt_at, last_status, last_error,
    last_response";

fn message_row(r: &Row) -> StoreResult<MessageRecord> {
    const M: &str = "outbox message";
    let kind: String = col(r, 2, M)?;
    let status: String = col(r, 6, M)?;
    let attempts: i32 = col(r, 7, M)?;
    let last_status: Option<i32> = col(r, 12, M)?;
    let next_at: DateTime<Utc> = col(r, 10, M)?;
    Ok(MessageRecord {
        id: col(r, 0, M)?,
        tenant_id: col(r, 1, M)?,
        kind: MessageKind::parse(&kind).ok_or_else(|| bad(M))?,
        endpoint_id: col(r, 3, M)?,
        event_type: col(r, 4, M)?,
        payload: col(r, 5, M)?,
        next_at: (status == "pending").then_some(next_at),
        status,
        attempts: to_u32(i64::from(attempts), M)?,
        created_at: col(r, 8, M)?,
        give_up_at: col(r, 9, M)?,
        last_attempt_at: col(r, 11, M)?,
        last_status: last_status.and_then(|s| u16::try_from(s).ok()),
        last_error: col(r, 13, M)?,
        last_response: col(r, 14, M)?,
    })
}

async fn put_subscriptions(
    tx: &Tx<'_>,
    tenant_id: &str,
    endpoint_id: &str,
    types: &[String],
) -> StoreResult<()> {
    exec(
        tx,
        "DELETE FROM webhook_subscriptions WHERE tenant_id = $1 AND endpoint_id = $2",
        &[&tenant_id, &endpoint_id],
    )
    .await?;
    exec(
        tx,
        "INSERT INTO webhook_subscriptions (endpoint_id, tenant_id, event_type)
         SELECT DISTINCT $1, $2, t FROM unnest($3::text[]) AS t",
        &[&endpoint_id, &tenant_id, &types],
    )
    .await?;
    Ok(())
}

fn found(n: u64) -> StoreResult<()> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn version(e: &EndpointRecord) -> StoreResult<i32> {
    i32::try_from(e.secret_version).map_err(|_| bad("secret version"))
}

async fn one_message(tx: &Tx<'_>, tenant_id: &str, id: &str) -> StoreResult<Option<MessageRecord>> {
    row(
        tx,
        &format!("SELECT {MESSAGE_COLS} FROM outbox WHERE tenant_id = $1 AND id = $2"),
        &[&tenant_id, &id],
    )
    .await?
    .map(|r| message_row(&r))
    .transpose()
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn create_endpoint(
        &self,
        e: EndpointRecord,
        subscriptions: Vec<String>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (events, v) = (to_json(&e.events)?, version(&e)?);
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&e.tenant_id)).await?;
        exec(
            &tx,
            &format!(
                "INSERT INTO webhook_endpoints ({ENDPOINT_COLS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            ),
            &[
                &e.id,
                &e.tenant_id,
                &e.kind.as_str(),
                &e.url_sealed,
                &e.url_display,
                &events,
                &e.description,
                &e.secret_sealed,
                &e.previous_secret_sealed,
                &e.previous_until,
                &v,
                &e.enabled,
                &e.disabled_reason,
                &e.failing_since,
                &e.created_at,
            ],
        )
        .await?;
        put_subscriptions(&tx, &e.tenant_id, &e.id, &subscriptions).await?;
        super::events::append(&tx, &event).await?;
        commit(tx).await
    }

    async fn endpoints(&self, tenant_id: &str) -> StoreResult<Vec<EndpointRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = $1
                 ORDER BY created_at, id"
            ),
            &[&tenant_id],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(endpoint_row).collect()
    }

    async fn endpoint(&self, tenant_id: &str, id: &str) -> StoreResult<Option<EndpointRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            &format!(
                "SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2"
            ),
            &[&tenant_id, &id],
        )
        .await?;
        commit(tx).await?;
        found.map(|r| endpoint_row(&r)).transpose()
    }

    async fn update_endpoint(
        &self,
        e: EndpointRecord,
        subscriptions: Option<Vec<String>>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (events, v) = (to_json(&e.events)?, version(&e)?);
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&e.tenant_id)).await?;
        let n = exec(
            &tx,
            "UPDATE webhook_endpoints SET url_sealed = $3, url_display = $4, events = $5,
                 description = $6, secret_sealed = $7, previous_secret_sealed = $8,
                 previous_until = $9, secret_version = $10, enabled = $11,
                 disabled_reason = $12, failing_since = $13
             WHERE tenant_id = $1 AND id = $2",
            &[
                &e.tenant_id,
                &e.id,
                &e.url_sealed,
                &e.url_display,
                &events,
                &e.description,
                &e.secret_sealed,
                &e.previous_secret_sealed,
                &e.previous_until,
                &v,
                &e.enabled,
                &e.disabled_reason,
                &e.failing_since,
            ],
        )
        .await?;
        found(n)?;
        if let Some(types) = &subscriptions {
            put_subscriptions(&tx, &e.tenant_id, &e.id, types).await?;
        }
        super::events::append(&tx, &event).await?;
        commit(tx).await
    }

    async fn delete_endpoint(&self, tenant_id: &str, id: &str, event: NewEvent) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        for sql in [
            "DELETE FROM webhook_subscriptions WHERE tenant_id = $1 AND endpoint_id = $2",
            "DELETE FROM outbox WHERE tenant_id = $1 AND endpoint_id = $2",
        ] {
            exec(&tx, sql, &[&tenant_id, &id]).await?;
        }
        let n = exec(
            &tx,
            "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await?;
        found(n)?;
        super::events::append(&tx, &event).await?;
        commit(tx).await
    }

    async fn disable_endpoint(
        &self,
        tenant_id: &str,
        id: &str,
        reason: &str,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let n = exec(
            &tx,
            "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $3
             WHERE tenant_id = $1 AND id = $2 AND enabled",
            &[&tenant_id, &id, &reason],
        )
        .await?;
        found(n)?;
        exec(
            &tx,
            "UPDATE outbox SET status = 'failed', last_error = 'endpoint disabled',
                 lease_until = NULL, last_attempt_at = COALESCE(last_attempt_at, $3)
             WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'pending'",
            &[&tenant_id, &id, &event.at],
        )
        .await?;
        super::events::append(&tx, &event).await?;
        commit(tx).await
    }

    async fn messages(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        before: Option<(DateTime<Utc>, String)>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        let (b_at, b_id) = match before {
            Some((at, id)) => (Some(at), id),
            None => (None, String::new()),
        };
        let limit = i64::from(limit);
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {MESSAGE_COLS} FROM outbox
                 WHERE tenant_id = $1 AND endpoint_id = $2
                   AND ($3::timestamptz IS NULL OR created_at < $3
                        OR (created_at = $3 AND id < $4))
                 ORDER BY created_at DESC, id DESC LIMIT $5"
            ),
            &[&tenant_id, &endpoint_id, &b_at, &b_id, &limit],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(message_row).collect()
    }

    async fn message(&self, tenant_id: &str, id: &str) -> StoreResult<Option<MessageRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = one_message(&tx, tenant_id, id).await?;
        commit(tx).await?;
        Ok(found)
    }

    async fn retry_message(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<MessageRecord> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let n = exec(
            &tx,
            "UPDATE outbox SET status = 'pending', next_at = $3, give_up_at = $4,
                 lease_until = NULL
             WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id, &now, &(now + retry_window())],
        )
        .await?;
        found(n)?;
        let m = one_message(&tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        super::events::append(&tx, &event).await?;
        commit(tx).await?;
        Ok(m)
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        let limit = i64::from(limit);
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        let found = rows(
            &tx,
            &format!(
                "UPDATE outbox o SET lease_until = $2
                 FROM (SELECT id FROM outbox
                       WHERE status = 'pending' AND next_at <= $1
                         AND (lease_until IS NULL OR lease_until <= $1)
                       ORDER BY next_at LIMIT $3
                       FOR UPDATE SKIP LOCKED) due
                 WHERE o.id = due.id
                 RETURNING {}",
                MESSAGE_COLS
                    .split(',')
                    .map(|c| format!("o.{}", c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &[&now, &until, &limit],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(message_row).collect()
    }

    async fn finish_attempt(
        &self,
        m: &MessageRecord,
        attempt: Attempt,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let (status, next) = match attempt.outcome {
            AttemptOutcome::Delivered => ("delivered", None),
            AttemptOutcome::RetryAt(at) => ("pending", Some(at)),
            AttemptOutcome::Failed => ("failed", None),
        };
        let code = attempt.status.map(i32::from);
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        exec(
            &tx,
            "UPDATE outbox SET status = $2, next_at = COALESCE($3, next_at),
                 attempts = attempts + 1, lease_until = NULL, last_attempt_at = $4,
                 last_status = $5, last_error = $6, last_response = $7
             WHERE id = $1 AND status = 'pending'",
            &[
                &m.id,
                &status,
                &next,
                &attempt.at,
                &code,
                &attempt.error,
                &attempt.response,
            ],
        )
        .await?;
        let since = match (&m.tenant_id, &m.endpoint_id) {
            (Some(t), Some(e)) => {
                act(&tx, Acting::Tenant(t)).await?;
                // A success clears the failure record; a failure starts it unless it runs.
                let failing = (attempt.outcome != AttemptOutcome::Delivered).then_some(attempt.at);
                let r = row(
                    &tx,
                    "UPDATE webhook_endpoints
                     SET failing_since = CASE WHEN $3::timestamptz IS NULL THEN NULL
                                              ELSE COALESCE(failing_since, $3) END
                     WHERE tenant_id = $1 AND id = $2 RETURNING failing_since",
                    &[t, e, &failing],
                )
                .await?;
                match r {
                    Some(r) => col::<Option<DateTime<Utc>>>(&r, 0, "endpoint health")?,
                    None => None,
                }
            }
            _ => None,
        };
        commit(tx).await?;
        Ok(since)
    }

    async fn approval_mail(&self, tenant_id: &str, user_id: &str) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let r = row(
            &tx,
            "SELECT approval_mail FROM notification_prefs WHERE tenant_id = $1 AND user_id = $2",
            &[&tenant_id, &user_id],
        )
        .await?;
        commit(tx).await?;
        match r {
            Some(r) => col(&r, 0, "notification prefs"),
            None => Ok(true),
        }
    }

    async fn set_approval_mail(
        &self,
        tenant_id: &str,
        user_id: &str,
        on: bool,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let n = exec(
            &tx,
            "INSERT INTO notification_prefs (user_id, tenant_id, approval_mail)
             SELECT id, tenant_id, $3 FROM users WHERE tenant_id = $1 AND id = $2
             ON CONFLICT (user_id) DO UPDATE SET approval_mail = EXCLUDED.approval_mail",
            &[&tenant_id, &user_id, &on],
        )
        .await?;
        found(n)?;
        super::events::append(&tx, &event).await?;
        commit(tx).await
    }

    async fn approval_mail_recipients(
        &self,
        tenant_id: &str,
        tier: Tier,
        excluded: &str,
    ) -> StoreResult<Vec<String>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT u.email FROM users u WHERE {}
                   AND NOT EXISTS (SELECT 1 FROM notification_prefs p
                                   WHERE p.user_id = u.id AND NOT p.approval_mail)
                 ORDER BY u.email",
                super::grants::ELIGIBLE_APPROVER
            ),
            &[&tenant_id, &excluded, &(tier == Tier::Critical)],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(|r| col(r, 0, "approver email")).collect()
    }
}
