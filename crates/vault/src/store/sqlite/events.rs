//! Appending one audit event inside the writer's transaction: it chains onto the head of
//! its tenant's chain, so the writer (the only caller) keeps the heads between events.

use rusqlite::{OptionalExtension, Transaction, params};

use super::chain_heads::ChainHeads;
use super::errors::map_err;
use crate::store::StoreResult;
use crate::store::event::{GENESIS_HASH, NewEvent, chain_hash};

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
             outcome, ip, user_agent, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
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
            hash
        ])
    })
    .map_err(map_err)?;
    heads.advance(chain, hash);
    Ok(tx.last_insert_rowid())
}
