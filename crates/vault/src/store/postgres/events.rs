//! Appending audit events inside the transaction of the action they record.
//!
//! Each event chains onto the head of its chain (its tenant's, or the tenant-less one),
//! kept in `audit_chain_heads`. Taking the head locks its row until the transaction
//! commits, so appends to one chain from any number of replicas take turns, each chaining
//! onto the event committed before it, and the identity id taken under that lock orders a
//! chain's events as they committed (what the live tail's "after id" relies on). The
//! commit also notifies `keyhold_audit` with "chain:id", which every replica's listener
//! (`listen`) turns into the wake-ups of its live feeds.

use super::tx::Tx;
use super::tx::{Acting, act, row};
use crate::store::StoreResult;
use crate::store::event::{GENESIS_HASH, NewEvent, chain_hash};
use crate::store::outbox::{Outbound, event_body, outgoing_type, retry_window};

/// The channel every replica listens on; the payload is "chain:id".
pub(crate) const AUDIT_CHANNEL: &str = "keyhold_audit";

/// Append `e` in `tx`, which must act for its tenant (or [`Acting::System`] for an event
/// with no tenant: this sets it). Returns the event's id.
pub(crate) async fn append(tx: &Tx<'_>, e: &NewEvent) -> StoreResult<i64> {
    let chain = e.tenant_id.clone().unwrap_or_default();
    if chain.is_empty() {
        act(tx, Acting::System).await?;
    }
    // Insert the genesis head or lock the existing one; either way the row is ours until
    // commit and RETURNING gives its hash.
    let head = row(
        tx,
        "INSERT INTO audit_chain_heads (chain, hash) VALUES ($1, $2)
         ON CONFLICT (chain) DO UPDATE SET chain = EXCLUDED.chain
         RETURNING hash",
        &[&chain, &GENESIS_HASH],
    )
    .await?;
    let prev: String = match head {
        Some(r) => super::rows::col(&r, 0, "audit chain head")?,
        None => GENESIS_HASH.to_owned(),
    };
    let detail = e.detail.to_string();
    let hash = chain_hash(&prev, &e.chain_fields(&detail));
    let inserted = row(
        tx,
        "WITH ev AS (
             INSERT INTO audit_events (chain, tenant_id, at, actor_type, actor_id, action,
                 target, outcome, ip, user_agent, detail, prev_hash, hash, severity)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15)
             RETURNING id
         ), head AS (
             UPDATE audit_chain_heads SET hash = $13 WHERE chain = $1
         )
         SELECT id, pg_notify($14, $1 || ':' || id) FROM ev",
        &[
            &chain,
            &e.tenant_id,
            &e.at,
            &e.actor_kind.as_str(),
            &e.actor_id,
            &e.action,
            &e.target,
            &e.outcome.as_str(),
            &e.ip,
            &e.user_agent,
            &detail,
            &prev,
            &hash,
            &AUDIT_CHANNEL,
            &e.severity().as_str(),
        ],
    )
    .await?;
    let id: i64 = match inserted {
        Some(r) => super::rows::col(&r, 0, "audit event id")?,
        None => return Err(super::errors::bad("audit append")),
    };
    queue_messages(tx, e, id).await?;
    Ok(id)
}

/// Write the event's messages to the outbox in its transaction: one per subscribed,
/// enabled endpoint when its type goes out, and whatever the domain attached.
async fn queue_messages(tx: &Tx<'_>, e: &NewEvent, audit_id: i64) -> StoreResult<()> {
    let give_up = e.at + retry_window();
    if let (Some(event_type), Some(tenant)) = (outgoing_type(e), e.tenant_id.as_deref()) {
        let body = event_body(e, event_type, audit_id).into_bytes();
        super::tx::exec(
            tx,
            "INSERT INTO outbox (id, tenant_id, kind, endpoint_id, event_type, audit_id, payload,
                 created_at, give_up_at, next_at)
             SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), w.tenant_id, 'webhook',
                 w.id, $2, $3, $4, $5, $6, $5
             FROM webhook_endpoints w
             WHERE w.tenant_id = $1 AND w.enabled
               AND EXISTS (SELECT 1 FROM webhook_subscriptions s
                           WHERE s.tenant_id = $1 AND s.endpoint_id = w.id
                             AND s.event_type IN ($2, '*'))",
            &[&tenant, &event_type, &audit_id, &body, &e.at, &give_up],
        )
        .await?;
    }
    for m in &e.outbound {
        let (id, kind, endpoint, event_type, payload) = match m {
            Outbound::Mail { id, sealed } => (id, "mail", None, e.action, sealed.clone()),
            Outbound::Webhook {
                id,
                endpoint_id,
                event_type,
                body,
            } => (
                id,
                "webhook",
                Some(endpoint_id),
                event_type.as_str(),
                body.clone().into_bytes(),
            ),
        };
        super::tx::exec(
            tx,
            "INSERT INTO outbox (id, tenant_id, kind, endpoint_id, event_type, audit_id, payload,
                 created_at, give_up_at, next_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8)",
            &[
                id,
                &e.tenant_id,
                &kind,
                &endpoint,
                &event_type,
                &audit_id,
                &payload,
                &e.at,
                &give_up,
            ],
        )
        .await?;
    }
    Ok(())
}

/// The channel a KEK rotation notifies with the tenant's id, on commit.
pub(crate) const KEK_CHANNEL: &str = "keyhold_keks";

/// Tell every replica, once `tx` commits, that the tenant's KEKs changed.
pub(crate) async fn notify_kek_rotated(tx: &Tx<'_>, tenant_id: &str) -> StoreResult<()> {
    super::tx::exec(tx, "SELECT pg_notify($1, $2)", &[&KEK_CHANNEL, &tenant_id]).await?;
    Ok(())
}

/// Append every event in order.
pub(crate) async fn append_all(tx: &Tx<'_>, events: &[NewEvent]) -> StoreResult<()> {
    for e in events {
        append(tx, e).await?;
    }
    Ok(())
}
