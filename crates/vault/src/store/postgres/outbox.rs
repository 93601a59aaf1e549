//! [`OutboxStore`] on PostgreSQL. Messages enter with their event (`events::append`);
//! here they are claimed, recorded and listed. Claims take `FOR UPDATE SKIP LOCKED` and a
//! lease, so replicas share the work without delivering one message at once twice; the
//! worker claims acting as the system (the outbox's one cross-tenant policy) and touches
//! endpoints acting for their tenant.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::tier::Tier;

use super::connection::PostgresStore;
use super::errors::bad;
use super::outbox_rows::{
    ENDPOINT_COLS, MESSAGE_COLS, endpoint_row, message_row, put_subscriptions,
};
use super::rows::{col, to_json};
use super::tx::{Acting, Tx, act, begin, commit, exec, row, rows};
use crate::store::event::NewEvent;
use crate::store::outbox::{
    Attempt, AttemptOutcome, EndpointRecord, MessageRecord, OutboxStore, retry_window,
};
use crate::store::{StoreError, StoreResult};

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

    async fn due_count(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::System).await?;
        let r = row(
            &tx,
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND next_at <= $1",
            &[&now],
        )
        .await?;
        commit(tx).await?;
        let n: i64 = match r {
            Some(r) => col(&r, 0, "outbox count")?,
            None => 0,
        };
        u64::try_from(n).map_err(|_| bad("outbox count"))
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
