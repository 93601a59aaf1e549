//! [`AuditStore`] on SQLite: pages, export, the replay floor, chain verification and the
//! live watches. Appends go through the writer (`events` chains each one).

use async_trait::async_trait;
use keyhold_core::api::{Actor, AuditEvent, AuditQuery};
use rusqlite::{OptionalExtension, params};
use tokio::sync::watch;

use super::connection::SqliteStore;
use super::errors::map_err;
use super::rows::{from_us, us};
use crate::store::event::{ChainCheck, NewEvent, StoredEvent};
use crate::store::{AuditScope, AuditStore, AuditVerify, StoreResult};

const AUDIT_COLS: &str =
    "id, at_us, actor_type, actor_id, action, target, outcome, ip, user_agent, detail,
    severity";

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEvent> {
    let detail: String = r.get(9)?;
    Ok(AuditEvent {
        id: r.get(0)?,
        at: from_us(r.get(1)?),
        actor: Actor {
            kind: r.get(2)?,
            id: r.get(3)?,
        },
        action: r.get(4)?,
        target: r.get(5)?,
        outcome: r.get(6)?,
        ip: r.get(7)?,
        user_agent: r.get(8)?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
        severity: keyhold_core::api::Severity::parse(&r.get::<_, String>(10)?),
    })
}

/// A row of the chain query in `audit_verify`, as the chain check reads it.
fn stored_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        at_us: r.get(2)?,
        actor_kind: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        actor_id: r.get(4)?,
        action: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
        target: r.get(6)?,
        outcome: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
        ip: r.get(8)?,
        user_agent: r.get(9)?,
        detail: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
        prev_hash: r.get(11)?,
        hash: r.get(12)?,
    })
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_event(&self, event: NewEvent) -> StoreResult<()> {
        self.writer.append(event).await
    }

    async fn audit_page(
        &self,
        scope: &AuditScope,
        query: &AuditQuery,
        before_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let scope = scope.clone();
        let query = query.clone();
        self.run(move |c| {
            let mut sql = format!("SELECT {AUDIT_COLS} FROM audit_events WHERE chain = ?1");
            let mut args: Vec<rusqlite::types::Value> = vec![scope.tenant_id().to_owned().into()];
            let mut bind = |sql: &mut String, clause: &str, v: rusqlite::types::Value| {
                args.push(v);
                sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
            };
            if let AuditScope::Actor { actor_id, .. } = &scope {
                bind(&mut sql, " AND actor_id = ?", actor_id.clone().into());
            }
            if let Some(a) = &query.actor {
                bind(&mut sql, " AND actor_id = ?", a.clone().into());
            }
            if let Some(a) = &query.action {
                if let Some(prefix) = a.strip_suffix('*') {
                    let escaped = prefix
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    bind(
                        &mut sql,
                        " AND action LIKE ? ESCAPE '\\'",
                        format!("{escaped}%").into(),
                    );
                } else {
                    bind(&mut sql, " AND action = ?", a.clone().into());
                }
            }
            if let Some(sv) = query.severity {
                sql.push_str(" AND severity IN (");
                for (i, text) in sv.at_least().into_iter().enumerate() {
                    bind(
                        &mut sql,
                        if i == 0 { "?" } else { ", ?" },
                        text.to_owned().into(),
                    );
                }
                sql.push(')');
            }
            if let Some(t) = query.since {
                bind(&mut sql, " AND at_us >= ?", us(t).into());
            }
            if let Some(t) = query.until {
                bind(&mut sql, " AND at_us < ?", us(t).into());
            }
            if let Some(b) = before_id {
                bind(&mut sql, " AND id < ?", b.into());
            }
            bind(
                &mut sql,
                " ORDER BY id DESC LIMIT ?",
                i64::from(limit).into(),
            );
            let mut stmt = c.prepare_cached(&sql).map_err(map_err)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), audit_row)
                .and_then(|r| r.collect::<Result<Vec<_>, _>>())
                .map_err(map_err)?;
            Ok(rows)
        })
        .await
    }

    async fn audit_after(
        &self,
        scope: &AuditScope,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let scope = scope.clone();
        self.run(move |c| {
            let actor = match &scope {
                AuditScope::Actor { actor_id, .. } => Some(actor_id.clone()),
                AuditScope::Tenant(_) => None,
            };
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {AUDIT_COLS} FROM audit_events
                     WHERE chain = ?1 AND id > ?2 AND (?3 IS NULL OR actor_id = ?3)
                     ORDER BY id ASC LIMIT ?4"
                ))
                .map_err(map_err)?;
            let rows = stmt
                .query_map(
                    params![scope.tenant_id(), after_id, actor, i64::from(limit)],
                    audit_row,
                )
                .and_then(|r| r.collect::<Result<Vec<_>, _>>())
                .map_err(map_err)?;
            Ok(rows)
        })
        .await
    }

    async fn audit_actions(&self, scope: &AuditScope) -> StoreResult<Vec<String>> {
        let scope = scope.clone();
        self.run(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT DISTINCT action FROM audit_events
                     WHERE chain = ?1 AND (?2 IS NULL OR actor_id = ?2)
                     ORDER BY action",
                )
                .map_err(map_err)?;
            let actor = match &scope {
                AuditScope::Actor { actor_id, .. } => Some(actor_id.clone()),
                AuditScope::Tenant(_) => None,
            };
            let rows = stmt
                .query_map(params![scope.tenant_id(), actor], |r| r.get::<_, String>(0))
                .and_then(|r| r.collect::<Result<Vec<_>, _>>())
                .map_err(map_err)?;
            Ok(rows)
        })
        .await
    }

    async fn audit_replay_floor(&self, scope: &AuditScope, window: u32) -> StoreResult<i64> {
        let scope = scope.clone();
        self.run(move |c| {
            let actor = match &scope {
                AuditScope::Actor { actor_id, .. } => Some(actor_id.clone()),
                AuditScope::Tenant(_) => None,
            };
            let mut stmt = c
                .prepare_cached(
                    "SELECT id FROM audit_events
                     WHERE chain = ?1 AND (?2 IS NULL OR actor_id = ?2)
                     ORDER BY id DESC LIMIT 1 OFFSET ?3",
                )
                .map_err(map_err)?;
            let floor = stmt
                .query_row(params![scope.tenant_id(), actor, i64::from(window)], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()
                .map_err(map_err)?;
            Ok(floor.unwrap_or(0))
        })
        .await
    }

    async fn audit_verify(&self, tenant_id: &str) -> StoreResult<AuditVerify> {
        let chain = tenant_id.to_owned();
        self.run(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, tenant_id, at_us, actor_type, actor_id, action, target, outcome,
                            ip, user_agent, detail, prev_hash, hash
                     FROM audit_events WHERE chain = ?1 ORDER BY id ASC",
                )
                .map_err(map_err)?;
            let mut rows = stmt.query([&chain]).map_err(map_err)?;
            let mut check = ChainCheck::default();
            while let Some(r) = rows.next().map_err(map_err)? {
                if !check.push(&stored_event(r).map_err(map_err)?) {
                    break;
                }
            }
            Ok(check.result())
        })
        .await
    }

    fn audit_watch(&self) -> watch::Receiver<i64> {
        self.audit_signals.all()
    }

    fn tenant_audit_watch(&self, tenant_id: &str) -> watch::Receiver<i64> {
        self.audit_signals.chain(tenant_id)
    }
}
