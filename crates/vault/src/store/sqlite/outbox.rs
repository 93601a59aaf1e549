//! [`OutboxStore`] on SQLite: webhook endpoints, the outbox's messages and notification
//! choices. Messages enter with their event (`events::insert_event`); here they are
//! claimed, recorded and listed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::EndpointKind;
use keyhold_core::tier::Tier;
use rusqlite::{OptionalExtension, Transaction, params};

use super::connection::SqliteStore;
use super::errors::{bad, map_err};
use super::rows::{from_us, us};
use crate::store::event::NewEvent;
use crate::store::outbox::{
    Attempt, AttemptOutcome, EndpointRecord, MessageKind, MessageRecord, OutboxStore, retry_window,
};
use crate::store::{StoreError, StoreResult};

const ENDPOINT_COLS: &str = "id, tenant_id, kind, url_sealed, url_display, events, description,
    secret_sealed, previous_secret_sealed, previous_until_us, secret_version, enabled,
    disabled_reason, failing_since_us, created_us";

fn endpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EndpointRecord> {
    let kind: String = r.get(2)?;
    let events: String = r.get(5)?;
    Ok(EndpointRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        kind: EndpointKind::parse(&kind).ok_or_else(|| bad("endpoint kind"))?,
        url_sealed: r.get(3)?,
        url_display: r.get(4)?,
        events: serde_json::from_str(&events).map_err(|_| bad("endpoint events"))?,
        description: r.get(6)?,
        secret_sealed: r.get(7)?,
        previous_secret_sealed: r.get(8)?,
        previous_until: r.get::<_, Option<i64>>(9)?.map(from_us),
        secret_version: r.get(10)?,
        enabled: r.get(11)?,
        disabled_reason: r.get(12)?,
        failing_since: r.get::<_, Option<i64>>(13)?.map(from_us),
        created_at: from_us(r.get(14)?),
    })
}

const MESSAGE_COLS: &str = "id, tenant_id, kind, endpoint_id, event_type, payload, status,
    attempts, created_us, give_up_us, next_us, last_attempt_us, last_status, last_error,
    last_response";

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRecord> {
    let kind: String = r.get(2)?;
    let status: String = r.get(6)?;
    Ok(MessageRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        kind: MessageKind::parse(&kind).ok_or_else(|| bad("message kind"))?,
        endpoint_id: r.get(3)?,
        event_type: r.get(4)?,
        payload: r.get(5)?,
        next_at: (status == "pending")
            .then(|| r.get(10).map(from_us))
            .transpose()?,
        status,
        attempts: r.get(7)?,
        created_at: from_us(r.get(8)?),
        give_up_at: from_us(r.get(9)?),
        last_attempt_at: r.get::<_, Option<i64>>(11)?.map(from_us),
        last_status: r.get(12)?,
        last_error: r.get(13)?,
        last_response: r.get(14)?,
    })
}

fn events_json(e: &EndpointRecord) -> StoreResult<String> {
    serde_json::to_string(&e.events).map_err(|e| StoreError::Other(e.into()))
}

fn put_subscriptions(
    tx: &Transaction<'_>,
    tenant_id: &str,
    endpoint_id: &str,
    types: &[String],
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM webhook_subscriptions WHERE tenant_id = ?1 AND endpoint_id = ?2",
        params![tenant_id, endpoint_id],
    )
    .map_err(map_err)?;
    for t in types {
        tx.execute(
            "INSERT OR IGNORE INTO webhook_subscriptions (endpoint_id, tenant_id, event_type)
             VALUES (?1, ?2, ?3)",
            params![endpoint_id, tenant_id, t],
        )
        .map_err(map_err)?;
    }
    Ok(())
}

fn found(n: usize) -> StoreResult<()> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn one_message(
    c: &rusqlite::Connection,
    tenant_id: &str,
    id: &str,
) -> StoreResult<Option<MessageRecord>> {
    c.prepare_cached(&format!(
        "SELECT {MESSAGE_COLS} FROM outbox WHERE tenant_id = ?1 AND id = ?2"
    ))
    .and_then(|mut s| s.query_row(params![tenant_id, id], message_row).optional())
    .map_err(map_err)
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn create_endpoint(
        &self,
        endpoint: EndpointRecord,
        subscriptions: Vec<String>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let events = events_json(&endpoint)?;
        self.write(event, move |tx| {
            let e = &endpoint;
            tx.execute(
                &format!(
                    "INSERT INTO webhook_endpoints ({ENDPOINT_COLS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ),
                params![
                    e.id,
                    e.tenant_id,
                    e.kind.as_str(),
                    e.url_sealed,
                    e.url_display,
                    events,
                    e.description,
                    e.secret_sealed,
                    e.previous_secret_sealed,
                    e.previous_until.map(us),
                    e.secret_version,
                    e.enabled,
                    e.disabled_reason,
                    e.failing_since.map(us),
                    us(e.created_at)
                ],
            )
            .map_err(map_err)?;
            put_subscriptions(tx, &e.tenant_id, &e.id, &subscriptions)
        })
        .await
    }

    async fn endpoints(&self, tenant_id: &str) -> StoreResult<Vec<EndpointRecord>> {
        let t = tenant_id.to_owned();
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = ?1
                 ORDER BY created_us, id"
            ))
            .and_then(|mut s| {
                s.query_map([t], endpoint_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn endpoint(&self, tenant_id: &str, id: &str) -> StoreResult<Option<EndpointRecord>> {
        let (t, id) = (tenant_id.to_owned(), id.to_owned());
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = ?1 AND id = ?2"
            ))
            .and_then(|mut s| s.query_row(params![t, id], endpoint_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn update_endpoint(
        &self,
        endpoint: EndpointRecord,
        subscriptions: Option<Vec<String>>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let events = events_json(&endpoint)?;
        self.write(event, move |tx| {
            let e = &endpoint;
            let n = tx
                .execute(
                    "UPDATE webhook_endpoints SET url_sealed = ?3, url_display = ?4, events = ?5,
                         description = ?6, secret_sealed = ?7, previous_secret_sealed = ?8,
                         previous_until_us = ?9, secret_version = ?10, enabled = ?11,
                         disabled_reason = ?12, failing_since_us = ?13
                     WHERE tenant_id = ?1 AND id = ?2",
                    params![
                        e.tenant_id,
                        e.id,
                        e.url_sealed,
                        e.url_display,
                        events,
                        e.description,
                        e.secret_sealed,
                        e.previous_secret_sealed,
                        e.previous_until.map(us),
                        e.secret_version,
                        e.enabled,
                        e.disabled_reason,
                        e.failing_since.map(us)
                    ],
                )
                .map_err(map_err)?;
            found(n)?;
            match &subscriptions {
                Some(types) => put_subscriptions(tx, &e.tenant_id, &e.id, types),
                None => Ok(()),
            }
        })
        .await
    }

    async fn delete_endpoint(&self, tenant_id: &str, id: &str, event: NewEvent) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), id.to_owned());
        self.write(event, move |tx| {
            for sql in [
                "DELETE FROM webhook_subscriptions WHERE tenant_id = ?1 AND endpoint_id = ?2",
                "DELETE FROM outbox WHERE tenant_id = ?1 AND endpoint_id = ?2",
            ] {
                tx.execute(sql, params![t, id]).map_err(map_err)?;
            }
            let n = tx
                .execute(
                    "DELETE FROM webhook_endpoints WHERE tenant_id = ?1 AND id = ?2",
                    params![t, id],
                )
                .map_err(map_err)?;
            found(n)
        })
        .await
    }

    async fn disable_endpoint(
        &self,
        tenant_id: &str,
        id: &str,
        reason: &str,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id, reason) = (tenant_id.to_owned(), id.to_owned(), reason.to_owned());
        let at = us(event.at);
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?3
                     WHERE tenant_id = ?1 AND id = ?2 AND enabled = 1",
                    params![t, id, reason],
                )
                .map_err(map_err)?;
            found(n)?;
            tx.execute(
                "UPDATE outbox SET status = 'failed', last_error = 'endpoint disabled',
                     lease_until_us = NULL, last_attempt_us = COALESCE(last_attempt_us, ?3)
                 WHERE tenant_id = ?1 AND endpoint_id = ?2 AND status = 'pending'",
                params![t, id, at],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn messages(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        before: Option<(DateTime<Utc>, String)>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        let (t, e) = (tenant_id.to_owned(), endpoint_id.to_owned());
        let (b_us, b_id) = match before {
            Some((at, id)) => (us(at), id),
            None => (i64::MAX, String::new()),
        };
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {MESSAGE_COLS} FROM outbox
                 WHERE tenant_id = ?1 AND endpoint_id = ?2
                   AND (created_us < ?3 OR (created_us = ?3 AND id < ?4))
                 ORDER BY created_us DESC, id DESC LIMIT ?5"
            ))
            .and_then(|mut s| {
                s.query_map(params![t, e, b_us, b_id, limit], message_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn message(&self, tenant_id: &str, id: &str) -> StoreResult<Option<MessageRecord>> {
        let (t, id) = (tenant_id.to_owned(), id.to_owned());
        self.run(move |c| one_message(c, &t, &id)).await
    }

    async fn retry_message(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<MessageRecord> {
        let (t, id) = (tenant_id.to_owned(), id.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE outbox SET status = 'pending', next_us = ?3, give_up_us = ?4,
                         lease_until_us = NULL
                     WHERE tenant_id = ?1 AND id = ?2",
                    params![t, id, us(now), us(now + retry_window())],
                )
                .map_err(map_err)?;
            found(n)?;
            one_message(tx, &t, &id)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        // Asked after every burst of audit events: a reader answers "nothing due" without
        // queueing a job for the one writer, which the secret reads' audit events need.
        let due: bool = self
            .point_read(move |c| {
                c.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'pending'
                         AND next_us <= ?1 AND (lease_until_us IS NULL OR lease_until_us <= ?1))",
                )
                .and_then(|mut s| s.query_row([us(now)], |r| r.get(0)))
                .map_err(map_err)
            })
            .await?;
        if !due {
            return Ok(Vec::new());
        }
        self.transact(move |tx| {
            let claimed = tx
                .prepare_cached(&format!(
                    "UPDATE outbox SET lease_until_us = ?2
                     WHERE id IN (SELECT id FROM outbox
                                  WHERE status = 'pending' AND next_us <= ?1
                                    AND (lease_until_us IS NULL OR lease_until_us <= ?1)
                                  ORDER BY next_us LIMIT ?3)
                     RETURNING {MESSAGE_COLS}"
                ))
                .and_then(|mut s| {
                    s.query_map(params![us(now), us(until), limit], message_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(map_err)?;
            Ok((claimed, Vec::new()))
        })
        .await
    }

    async fn due_count(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let n: i64 = self
            .run(move |c| {
                c.prepare_cached(
                    "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND next_us <= ?1",
                )
                .and_then(|mut s| s.query_row([us(now)], |r| r.get(0)))
                .map_err(map_err)
            })
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn finish_attempt(
        &self,
        message: &MessageRecord,
        attempt: Attempt,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let m = message.clone();
        self.transact(move |tx| {
            let (status, next) = match attempt.outcome {
                AttemptOutcome::Delivered => ("delivered", None),
                AttemptOutcome::RetryAt(at) => ("pending", Some(us(at))),
                AttemptOutcome::Failed => ("failed", None),
            };
            tx.execute(
                "UPDATE outbox SET status = ?2, next_us = COALESCE(?3, next_us),
                     attempts = attempts + 1, lease_until_us = NULL, last_attempt_us = ?4,
                     last_status = ?5, last_error = ?6, last_response = ?7
                 WHERE id = ?1 AND status = 'pending'",
                params![
                    m.id,
                    status,
                    next,
                    us(attempt.at),
                    attempt.status,
                    attempt.error,
                    attempt.response
                ],
            )
            .map_err(map_err)?;
            let (Some(t), Some(e)) = (&m.tenant_id, &m.endpoint_id) else {
                return Ok((None, Vec::new()));
            };
            // A success clears the failure record; a failure starts it unless it runs.
            let failing = (attempt.outcome != AttemptOutcome::Delivered).then(|| us(attempt.at));
            let since: Option<Option<i64>> = tx
                .query_row(
                    "UPDATE webhook_endpoints
                     SET failing_since_us = CASE WHEN ?3 IS NULL THEN NULL
                                                 ELSE COALESCE(failing_since_us, ?3) END
                     WHERE tenant_id = ?1 AND id = ?2 RETURNING failing_since_us",
                    params![t, e, failing],
                    |r| r.get(0),
                )
                .optional()
                .map_err(map_err)?;
            Ok((since.flatten().map(from_us), Vec::new()))
        })
        .await
    }

    async fn approval_mail(&self, tenant_id: &str, user_id: &str) -> StoreResult<bool> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.run(move |c| {
            c.prepare_cached(
                "SELECT approval_mail FROM notification_prefs WHERE tenant_id = ?1 AND user_id = ?2",
            )
            .and_then(|mut s| s.query_row(params![t, u], |r| r.get(0)).optional())
            .map(|on: Option<bool>| on.unwrap_or(true))
            .map_err(map_err)
        })
        .await
    }

    async fn set_approval_mail(
        &self,
        tenant_id: &str,
        user_id: &str,
        on: bool,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.write(event, move |tx| {
            tx.execute(
                "INSERT INTO notification_prefs (user_id, tenant_id, approval_mail)
                 SELECT id, tenant_id, ?3 FROM users WHERE tenant_id = ?1 AND id = ?2
                 ON CONFLICT (user_id) DO UPDATE SET approval_mail = ?3",
                params![t, u, on],
            )
            .map_err(map_err)
            .and_then(found)
        })
        .await
    }

    async fn approval_mail_recipients(
        &self,
        tenant_id: &str,
        tier: Tier,
        excluded: &str,
    ) -> StoreResult<Vec<String>> {
        let (t, x) = (tenant_id.to_owned(), excluded.to_owned());
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT u.email FROM users u WHERE {}
                   AND NOT EXISTS (SELECT 1 FROM notification_prefs p
                                   WHERE p.user_id = u.id AND p.approval_mail = 0)
                 ORDER BY u.email",
                super::grants::ELIGIBLE_APPROVER
            ))
            .and_then(|mut s| {
                s.query_map(params![t, x, i64::from(tier == Tier::Critical)], |r| {
                    r.get(0)
                })?
                .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(map_err)
        })
        .await
    }
}
