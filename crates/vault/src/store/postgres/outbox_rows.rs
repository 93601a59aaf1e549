//! Rows of the outbox's tables on PostgreSQL, and the subscriptions an endpoint's event
//! filter expands to (`outbox` uses them).

use tokio_postgres::Row;

use super::errors::bad;
use super::rows::{col, from_json, to_u32};
use super::tx::{Tx, exec};
use crate::store::StoreResult;
use crate::store::outbox::{EndpointRecord, MessageKind, MessageRecord};
use chrono::{DateTime, Utc};
use keyhold_core::api::EndpointKind;

pub(super) const ENDPOINT_COLS: &str =
    "id, tenant_id, kind, url_sealed, url_display, events, description,
    secret_sealed, previous_secret_sealed, previous_until, secret_version, enabled,
    disabled_reason, failing_since, created_at";

pub(super) fn endpoint_row(r: &Row) -> StoreResult<EndpointRecord> {
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

pub(super) const MESSAGE_COLS: &str =
    "id, tenant_id, kind, endpoint_id, event_type, payload, status,
    attempts, created_at, give_up_at, next_at, last_attempt_at, last_status, last_error,
    last_response";

pub(super) fn message_row(r: &Row) -> StoreResult<MessageRecord> {
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

pub(super) async fn put_subscriptions(
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
