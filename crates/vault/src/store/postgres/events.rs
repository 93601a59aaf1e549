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
                 target, outcome, ip, user_agent, detail, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
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
        ],
    )
    .await?;
    match inserted {
        Some(r) => super::rows::col(&r, 0, "audit event id"),
        None => Err(super::errors::bad("audit append")),
    }
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
