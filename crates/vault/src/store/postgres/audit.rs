//! [`AuditStore`] on PostgreSQL: pages, export, the replay floor, chain verification and the
//! live watches. Appends happen in the transaction of their action (`events`); the watches
//! are woken by `listen`, for commits of every replica.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{Actor, AuditEvent, AuditQuery};
use tokio::sync::watch;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::connection::PostgresStore;
use super::rows::col;
use super::tx::{Acting, begin, commit, row, rows};
use crate::store::event::{ChainCheck, NewEvent, StoredEvent};
use crate::store::{AuditScope, AuditStore, AuditVerify, StoreResult};

const AUDIT_COLS: &str =
    "id, at, actor_type, actor_id, action, target, outcome, ip, user_agent, detail,
    severity";

fn audit_row(r: &Row) -> StoreResult<AuditEvent> {
    let detail: String = col(r, 9, "audit event")?;
    Ok(AuditEvent {
        id: col(r, 0, "audit event")?,
        at: col(r, 1, "audit event")?,
        actor: Actor {
            kind: col(r, 2, "audit event")?,
            id: col(r, 3, "audit event")?,
        },
        action: col(r, 4, "audit event")?,
        target: col(r, 5, "audit event")?,
        outcome: col(r, 6, "audit event")?,
        ip: col(r, 7, "audit event")?,
        user_agent: col(r, 8, "audit event")?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
        severity: keyhold_core::api::Severity::parse(&col::<String>(r, 10, "audit event")?),
    })
}

/// A LIKE pattern matching `prefix` literally at the start.
fn like_prefix(prefix: &str) -> String {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

/// The filters of a page, as SQL with numbered parameters and their values.
fn page_filter(
    scope: &AuditScope,
    query: &AuditQuery,
    before_id: Option<i64>,
    limit: u32,
) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let mut sql = format!("SELECT {AUDIT_COLS} FROM audit_events WHERE chain = $1");
    let mut args: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(scope.tenant_id().to_owned())];
    let mut bind = |sql: &mut String, clause: &str, v: Box<dyn ToSql + Sync + Send>| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("${}", args.len())));
    };
    if let AuditScope::Actor { actor_id, .. } = scope {
        bind(&mut sql, " AND actor_id = ?", Box::new(actor_id.clone()));
    }
    if let Some(a) = &query.actor {
        bind(&mut sql, " AND actor_id = ?", Box::new(a.clone()));
    }
    if let Some(a) = &query.action {
        match a.strip_suffix('*') {
            Some(prefix) => bind(
                &mut sql,
                " AND action LIKE ? ESCAPE '\\'",
                Box::new(like_prefix(prefix)),
            ),
            None => bind(&mut sql, " AND action = ?", Box::new(a.clone())),
        }
    }
    if let Some(sv) = query.severity {
        let at_least: Vec<String> = sv.at_least().iter().map(|s| (*s).to_owned()).collect();
        bind(&mut sql, " AND severity = ANY(?)", Box::new(at_least));
    }
    let times: [(&str, Option<DateTime<Utc>>); 2] =
        [(" AND at >= ?", query.since), (" AND at < ?", query.until)];
    for (clause, t) in times {
        if let Some(t) = t {
            bind(&mut sql, clause, Box::new(t));
        }
    }
    if let Some(b) = before_id {
        bind(&mut sql, " AND id < ?", Box::new(b));
    }
    bind(
        &mut sql,
        " ORDER BY id DESC LIMIT ?",
        Box::new(i64::from(limit)),
    );
    (sql, args)
}

fn actor_of(scope: &AuditScope) -> Option<&str> {
    match scope {
        AuditScope::Actor { actor_id, .. } => Some(actor_id),
        AuditScope::Tenant(_) => None,
    }
}

#[async_trait]
impl AuditStore for PostgresStore {
    /// Through the replica's group commit (`appender`), unless the event also writes to
    /// the outbox: the group commit inserts audit rows only, so such an event (rare: none
    /// of the hot path's) takes a transaction of its own.
    async fn append_event(&self, event: NewEvent) -> StoreResult<()> {
        if !crate::store::outbox::needs_outbox(&event) {
            return self.appender.append(event).await;
        }
        let mut conn = self.conn().await?;
        let tx = begin(
            &mut conn,
            Acting::for_chain(event.tenant_id.as_deref().unwrap_or("")),
        )
        .await?;
        super::events::append(&tx, &event).await?;
        commit(tx).await
    }

    async fn audit_page(
        &self,
        scope: &AuditScope,
        query: &AuditQuery,
        before_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let (sql, args) = page_filter(scope, query, before_id, limit);
        let params: Vec<&(dyn ToSql + Sync)> = args
            .iter()
            .map(|a| a.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::for_chain(scope.tenant_id())).await?;
        let found = rows(&tx, &sql, &params).await?;
        commit(tx).await?;
        found.iter().map(audit_row).collect()
    }

    async fn audit_after(
        &self,
        scope: &AuditScope,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::for_chain(scope.tenant_id())).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {AUDIT_COLS} FROM audit_events
                 WHERE chain = $1 AND id > $2 AND ($3::text IS NULL OR actor_id = $3)
                 ORDER BY id ASC LIMIT $4"
            ),
            &[
                &scope.tenant_id(),
                &after_id,
                &actor_of(scope),
                &i64::from(limit),
            ],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(audit_row).collect()
    }

    async fn audit_actions(&self, scope: &AuditScope) -> StoreResult<Vec<String>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::for_chain(scope.tenant_id())).await?;
        let found = rows(
            &tx,
            "SELECT action FROM audit_events
             WHERE chain = $1 AND ($2::text IS NULL OR actor_id = $2)
             GROUP BY action ORDER BY action COLLATE \"C\"",
            &[&scope.tenant_id(), &actor_of(scope)],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(|r| col(r, 0, "audit action")).collect()
    }

    async fn audit_replay_floor(&self, scope: &AuditScope, window: u32) -> StoreResult<i64> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::for_chain(scope.tenant_id())).await?;
        let floor = row(
            &tx,
            "SELECT id FROM audit_events
             WHERE chain = $1 AND ($2::text IS NULL OR actor_id = $2)
             ORDER BY id DESC LIMIT 1 OFFSET $3",
            &[&scope.tenant_id(), &actor_of(scope), &i64::from(window)],
        )
        .await?;
        commit(tx).await?;
        floor.map_or(Ok(0), |r| col(&r, 0, "audit event id"))
    }

    async fn audit_verify(&self, tenant_id: &str) -> StoreResult<AuditVerify> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::for_chain(tenant_id)).await?;
        let found = rows(
            &tx,
            "SELECT id, tenant_id, at, actor_type, actor_id, action, target, outcome,
                    ip, user_agent, detail, prev_hash, hash
             FROM audit_events WHERE chain = $1 ORDER BY id ASC",
            &[&tenant_id],
        )
        .await?;
        commit(tx).await?;
        verify_rows(&found)
    }

    fn audit_watch(&self) -> watch::Receiver<i64> {
        self.audit_signals.all()
    }

    fn tenant_audit_watch(&self, tenant_id: &str) -> watch::Receiver<i64> {
        self.audit_signals.chain(tenant_id)
    }
}

/// Recompute the chain over its rows, oldest first.
fn verify_rows(found: &[Row]) -> StoreResult<AuditVerify> {
    let mut check = ChainCheck::default();
    for r in found {
        if !check.push(&stored_event(r)?) {
            break;
        }
    }
    Ok(check.result())
}

/// A row of the chain query in `audit_verify`, as the chain check reads it.
fn stored_event(r: &Row) -> StoreResult<StoredEvent> {
    let s = |i| col::<Option<String>>(r, i, "audit event");
    Ok(StoredEvent {
        id: col(r, 0, "audit event")?,
        tenant_id: s(1)?,
        at_us: col::<DateTime<Utc>>(r, 2, "audit event")?.timestamp_micros(),
        actor_kind: s(3)?.unwrap_or_default(),
        actor_id: s(4)?,
        action: s(5)?.unwrap_or_default(),
        target: s(6)?,
        outcome: s(7)?.unwrap_or_default(),
        ip: s(8)?,
        user_agent: s(9)?,
        detail: s(10)?.unwrap_or_default(),
        prev_hash: col(r, 11, "audit event")?,
        hash: col(r, 12, "audit event")?,
    })
}
