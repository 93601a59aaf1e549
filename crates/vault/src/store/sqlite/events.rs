//! Appending one audit event inside the writer's transaction: it chains onto the head of
//! its tenant's chain, so the writer (the only caller) keeps the heads between events.

use rusqlite::{OptionalExtension, Transaction, params};

use super::chain_heads::ChainHeads;
use super::errors::map_err;
use super::rows::us;
use crate::store::StoreResult;
use crate::store::event::{GENESIS_HASH, NewEvent, chain_hash};
use crate::store::outbox::{Outbound, event_body, outgoing_type, retry_window};

/// Append an event inside the writer's transaction. Returns its id.
pub(crate) fn insert_event(
    tx: &Transaction<'_>,
    heads: &mut ChainHeads,
    e: &NewEvent,
) -> StoreResult<i64> {
    let chain = e.tenant_id.clone().unwrap_or_default();
    let prev: String = match heads.get(&chain) {
        Some(h) => h.to_owned(),
        None => tx
            .prepare_cached(
                "SELECT hash FROM audit_events WHERE chain = ?1 ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row([&chain], |r| r.get(0)).optional())
            .map_err(map_err)?
            .unwrap_or_else(|| GENESIS_HASH.to_owned()),
    };
    let detail = e.detail.to_string();
    let fields = e.chain_fields(&detail);
    let hash = chain_hash(&prev, &fields);
    tx.prepare_cached(
        "INSERT INTO audit_events (chain, tenant_id, at_us, actor_type, actor_id, action, target,
             outcome, ip, user_agent, detail, prev_hash, hash, severity)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )
    .and_then(|mut s| {
        s.execute(params![
            chain,
            fields.tenant_id,
            fields.at_us,
            fields.actor_kind,
            fields.actor_id,
            fields.action,
            fields.target,
            fields.outcome,
            fields.ip,
            fields.user_agent,
            detail,
            prev,
            hash,
            e.severity().as_str()
        ])
    })
    .map_err(map_err)?;
    heads.advance(chain, hash);
    let id = tx.last_insert_rowid();
    queue_messages(tx, e, id)?;
    Ok(id)
}

/// Write the event's messages to the outbox in its transaction: one per subscribed,
/// enabled endpoint when its type goes out, and whatever the domain attached.
fn queue_messages(tx: &Transaction<'_>, e: &NewEvent, audit_id: i64) -> StoreResult<()> {
    let (created, give_up) = (us(e.at), us(e.at + retry_window()));
    if let (Some(event_type), Some(tenant)) = (outgoing_type(e), e.tenant_id.as_deref()) {
        tx.prepare_cached(
            "INSERT INTO outbox (id, tenant_id, kind, endpoint_id, event_type, audit_id, payload,
                 created_us, give_up_us, next_us)
             SELECT 'msg_' || lower(hex(randomblob(16))), w.tenant_id, 'webhook', w.id, ?2, ?3,
                 ?4, ?5, ?6, ?5
             FROM webhook_endpoints w
             WHERE w.tenant_id = ?1 AND w.enabled = 1
               AND EXISTS (SELECT 1 FROM webhook_subscriptions s
                           WHERE s.tenant_id = ?1 AND s.endpoint_id = w.id
                             AND s.event_type IN (?2, '*'))",
        )
        .and_then(|mut s| {
            s.execute(params![
                tenant,
                event_type,
                audit_id,
                event_body(e, event_type, audit_id).into_bytes(),
                created,
                give_up
            ])
        })
        .map_err(map_err)?;
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
        tx.prepare_cached(
            "INSERT INTO outbox (id, tenant_id, kind, endpoint_id, event_type, audit_id, payload,
                 created_us, give_up_us, next_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?8)",
        )
        .and_then(|mut s| {
            s.execute(params![
                id,
                e.tenant_id,
                kind,
                endpoint,
                event_type,
                audit_id,
                payload,
                created,
                give_up
            ])
        })
        .map_err(map_err)?;
    }
    Ok(())
}
