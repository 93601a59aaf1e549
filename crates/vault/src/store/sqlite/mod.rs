//! The embedded store: SQLite in WAL mode with `synchronous=FULL` and foreign keys on.
//!
//! rusqlite is blocking, so every call runs on the blocking pool with a pooled connection.
//! Writes take the write lock up front (`BEGIN IMMEDIATE`), so two writers never deadlock
//! upgrading a read lock, and the audit chain's "read previous hash, insert next" cannot
//! interleave.

mod approvals;
mod audit_signals;
mod chain_heads;
mod checkpoint;
mod grants;
mod invitations;
mod keys;
mod mfa;
mod mfa_attempt;
#[cfg(test)]
mod migration_tests;
mod secrets;
mod writer;

use crate::store::Conflict;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{Actor, AuditEvent, AuditQuery, Role};
use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tokio::sync::watch;

use super::{
    AccountStore, AuditScope, AuditVerify, EmailTokenRecord, SessionRecord, StoreError,
    StoreResult, TenantRecord, UserRecord,
};
use crate::store::event::{ChainFields, GENESIS_HASH, NewEvent, chain_hash};
use crate::store::metrics::StoreMetrics;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/0001_init.sql"),
    include_str!("../../../migrations/0002_mfa.sql"),
    include_str!("../../../migrations/0003_keys_secrets.sql"),
    include_str!("../../../migrations/0004_approvals.sql"),
    include_str!("../../../migrations/0005_approval_gate.sql"),
    include_str!("../../../migrations/0006_invitations.sql"),
];

pub struct SqliteStore {
    pool: Pool<SqliteConnectionManager>,
    audit_signals: Arc<audit_signals::AuditSignals>,
    /// Every write goes through here (group commit, see `writer`).
    writer: writer::Writer,
}

pub(crate) fn us(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_us(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(v).unwrap_or_default()
}

/// Errors that say the database cannot be written now rather than that the request was
/// wrong: busy or locked, disk full, read-only, an I/O failure.
pub(crate) fn is_unavailable(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(
        f.code,
        C::DatabaseBusy
            | C::DatabaseLocked
            | C::DiskFull
            | C::ReadOnly
            | C::SystemIoFailure
            | C::CannotOpen
    ))
}

pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && matches!(
            f.code,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
        )
    {
        return StoreError::Busy;
    }
    if is_unavailable(&e) {
        return StoreError::Unavailable;
    }
    StoreError::Other(anyhow::Error::new(e))
}

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Apply the migrations up to `target` (a test brings a database to an older schema).
fn migrate_to(conn: &mut Connection, target: usize) -> anyhow::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let current = usize::try_from(current).context("negative schema version")?;
    if current > MIGRATIONS.len() {
        anyhow::bail!(
            "database schema version {current} is newer than this server ({}); upgrade the server",
            MIGRATIONS.len()
        );
    }
    if current >= target {
        return Ok(());
    }
    // A migration that rebuilds a table others refer to (SQLite's documented way to change
    // a column) needs foreign keys off while it runs; each one must leave them all intact,
    // checked with `foreign_key_check` before it commits. The pragma is a no-op inside a
    // transaction, so it is switched here, and back on whatever happens.
    let fk_on: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = apply(conn, current, target);
    conn.pragma_update(None, "foreign_keys", fk_on)?;
    result
}

fn apply(conn: &mut Connection, current: usize, target: usize) -> anyhow::Result<()> {
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        tx.execute_batch(sql)
            .with_context(|| format!("migration {}", i + 1))?;
        let broken: i64 =
            tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            anyhow::bail!("migration {} would break {broken} foreign key(s)", i + 1);
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// A stored value that does not parse back (a tier, a status, a path...).
pub(super) fn bad(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("stored {what} is not valid").into(),
    )
}

/// Insert a new session (sign-in, or the 2FA step of one) inside a write transaction.
pub(crate) fn insert_session(
    tx: &Transaction<'_>,
    s: &SessionRecord,
    token_hash: &str,
) -> StoreResult<()> {
    tx.execute(
        &format!(
            "INSERT INTO sessions ({SESSION_COLS}, token_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ),
        params![
            s.id,
            s.tenant_id,
            s.user_id,
            us(s.created_at),
            us(s.last_seen_at),
            us(s.expires_at),
            us(s.authenticated_at),
            token_hash
        ],
    )
    .map_err(map_err)?;
    Ok(())
}

/// Append an event inside the writer's transaction. Returns its id.
pub(crate) fn insert_event(
    tx: &Transaction<'_>,
    heads: &mut chain_heads::ChainHeads,
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
    let fields = ChainFields {
        tenant_id: e.tenant_id.as_deref(),
        at_us: e.at_micros(),
        actor_kind: e.actor_kind.as_str(),
        actor_id: e.actor_id.as_deref(),
        action: e.action,
        target: e.target.as_deref(),
        outcome: e.outcome.as_str(),
        ip: e.ip.as_deref(),
        user_agent: e.user_agent.as_deref(),
        detail: &detail,
    };
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

pub(crate) const USER_COLS: &str =
    "id, tenant_id, email, display_name, password_hash, password_zxcvbn,
    email_verified_at, mfa_enabled, role, created_at";

pub(crate) fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    let role: String = r.get(8)?;
    Ok(UserRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        email: r.get(2)?,
        display_name: r.get(3)?,
        password_hash: r.get(4)?,
        password_zxcvbn: r.get(5)?,
        email_verified_at: r.get::<_, Option<i64>>(6)?.map(from_us),
        mfa_enabled: r.get(7)?,
        role: Role::parse(&role).unwrap_or(Role::Member),
        created_at: from_us(r.get(9)?),
    })
}

const SESSION_COLS: &str =
    "id, tenant_id, user_id, created_at, last_seen_at, expires_at, authenticated_at";

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        user_id: r.get(2)?,
        created_at: from_us(r.get(3)?),
        last_seen_at: from_us(r.get(4)?),
        expires_at: from_us(r.get(5)?),
        authenticated_at: from_us(r.get(6)?),
    })
}

const AUDIT_COLS: &str =
    "id, at_us, actor_type, actor_id, action, target, outcome, ip, user_agent, detail";

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
    })
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Self::open_observed(path, StoreMetrics::new())
    }

    /// [`Self::open`], with the writer and checkpointer reporting into `metrics`.
    pub fn open_observed(path: &Path, metrics: StoreMetrics) -> anyhow::Result<Self> {
        let manager = SqliteConnectionManager::file(path).with_init(|c| {
            c.execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 10000;
                 PRAGMA journal_size_limit = 67108864;",
            )
        });
        // Eight readers, the writer thread's own connection and the checkpointer's.
        // No test on check-out: r2d2 would run a statement through SQLite's parser on
        // every borrow (about 2% of the server's CPU on secret reads), and a connection to
        // a local file has no peer that could have gone away; a real failure surfaces as
        // the query's own error.
        let pool = Pool::builder()
            .max_size(10)
            .test_on_check_out(false)
            .build(manager)
            .with_context(|| format!("opening {}", path.display()))?;
        let mut conn = pool.get()?;
        migrate(&mut conn)?;
        let last: i64 =
            conn.query_row("SELECT COALESCE(MAX(id), 0) FROM audit_events", [], |r| {
                r.get(0)
            })?;
        let audit_signals = Arc::new(audit_signals::AuditSignals::new(last));
        let writer = writer::Writer::start(conn, pool.get()?, audit_signals.clone(), metrics)
            .context("starting the store's writer thread")?;
        Ok(Self {
            pool,
            audit_signals,
            writer,
        })
    }

    pub(crate) async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| StoreError::Other(e.into()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Other(e.into()))?
    }

    /// Run a point read (one indexed row, no scan) on the calling task's thread when a
    /// connection is free, else like [`Self::run`].
    ///
    /// Why: the hot path (token lookup, then the secret row) took two trips to the
    /// blocking pool per request, and profiling showed the thread hand-offs (futex wakes
    /// and context switches) costing far more CPU than the queries, which read a few
    /// cached pages in microseconds. In WAL mode a reader never waits for the writer, so
    /// such a read does not stall the async worker; `try_get` never waits for a
    /// connection either. Anything that scans, sorts or may touch many pages uses `run`.
    pub(crate) async fn point_read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        match self.pool.try_get() {
            Some(mut conn) => f(&mut conn),
            None => self.run(f).await,
        }
    }

    /// Run `f` in a write transaction together with the audit events it returns (possibly
    /// none): both commit or neither. The answer comes once the commit is durable.
    pub(crate) async fn transact<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<(T, Vec<NewEvent>)> + Send + 'static,
    {
        self.writer.transact(f).await
    }

    /// Run `f` in a write transaction that also appends `event`; commit both or neither.
    pub(crate) async fn write<T, F>(&self, event: NewEvent, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.transact(move |tx| Ok((f(tx)?, vec![event]))).await
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.run(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(map_err))
            .await
    }

    async fn close(&self) -> StoreResult<()> {
        // Fold the WAL back into the main file so a copy of keyhold.db alone is complete.
        self.run(|c| {
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(map_err)
        })
        .await
    }

    async fn create_account(
        &self,
        tenant: TenantRecord,
        user: UserRecord,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(event, move |tx| {
            tx.execute(
                "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO NOTHING",
                params![tenant.id, tenant.name, us(tenant.created_at)],
            )
            .map_err(map_err)?;
            tx.execute(
                &format!("INSERT INTO users ({USER_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
                params![
                    user.id,
                    user.tenant_id,
                    user.email,
                    user.display_name,
                    user.password_hash,
                    user.password_zxcvbn,
                    user.email_verified_at.map(us),
                    user.mfa_enabled,
                    user.role.as_str(),
                    us(user.created_at)
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(Conflict::EmailTaken)
                } else {
                    map_err(e)
                }
            })?;
            Ok(())
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let email = email.to_owned();
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {USER_COLS} FROM users WHERE email = ?1 AND removed_at IS NULL"
            ))
            .and_then(|mut s| s.query_row([email], user_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn user(&self, tenant_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.point_read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {USER_COLS} FROM users WHERE tenant_id = ?1 AND id = ?2 AND removed_at IS NULL"
            ))
            .and_then(|mut s| s.query_row([t, u], user_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn tenant(&self, tenant_id: &str) -> StoreResult<Option<TenantRecord>> {
        let t = tenant_id.to_owned();
        self.run(move |c| {
            c.prepare_cached("SELECT id, name, created_at FROM tenants WHERE id = ?1")
                .and_then(|mut s| {
                    s.query_row([t], |r| {
                        Ok(TenantRecord {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            created_at: from_us(r.get(2)?),
                        })
                    })
                    .optional()
                })
                .map_err(map_err)
        })
        .await
    }

    async fn create_session(
        &self,
        s: SessionRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(event, move |tx| insert_session(tx, &s, &token_hash))
            .await
    }

    async fn session_by_hash(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let h = token_hash.to_owned();
        self.point_read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE token_hash = ?1"
            ))
            .and_then(|mut s| s.query_row([h], session_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn session(
        &self,
        tenant_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SessionRecord>> {
        let (t, id) = (tenant_id.to_owned(), session_id.to_owned());
        self.point_read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE tenant_id = ?1 AND id = ?2"
            ))
            .and_then(|mut s| s.query_row([t, id], session_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn touch_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), session_id.to_owned());
        self.transact(move |c| {
            c.prepare_cached(
                "UPDATE sessions SET last_seen_at = ?3 WHERE tenant_id = ?1 AND id = ?2",
            )
            .and_then(|mut s| s.execute(params![t, id, us(now)]))
            .map_err(map_err)?;
            Ok(((), Vec::new()))
        })
        .await
    }

    async fn delete_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), session_id.to_owned());
        self.write(event, move |tx| {
            tx.execute(
                "DELETE FROM sessions WHERE tenant_id = ?1 AND id = ?2",
                params![t, id],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn set_password(
        &self,
        tenant_id: &str,
        user_id: &str,
        password_hash: String,
        zxcvbn: u8,
        keep_session: Option<&str>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        let keep = keep_session.map(str::to_owned);
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE users SET password_hash = ?3, password_zxcvbn = ?4
                     WHERE tenant_id = ?1 AND id = ?2",
                    params![t, u, password_hash, zxcvbn],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "DELETE FROM sessions WHERE tenant_id = ?1 AND user_id = ?2
                 AND (?3 IS NULL OR id <> ?3)",
                params![t, u, keep],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn create_email_token(
        &self,
        token: EmailTokenRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(event, move |tx| {
            tx.execute(
                "INSERT INTO email_tokens (id, tenant_id, user_id, purpose, token_hash, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    token.id,
                    token.tenant_id,
                    token.user_id,
                    token.purpose,
                    token_hash,
                    us(token.expires_at)
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn email_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<EmailTokenRecord>> {
        let h = token_hash.to_owned();
        self.run(move |c| {
            c.prepare_cached(
                "SELECT id, tenant_id, user_id, purpose, expires_at, used_at
                 FROM email_tokens WHERE token_hash = ?1",
            )
            .and_then(|mut s| {
                s.query_row([h], |r| {
                    Ok(EmailTokenRecord {
                        id: r.get(0)?,
                        tenant_id: r.get(1)?,
                        user_id: r.get(2)?,
                        purpose: r.get(3)?,
                        expires_at: from_us(r.get(4)?),
                        used_at: r.get::<_, Option<i64>>(5)?.map(from_us),
                    })
                })
                .optional()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn consume_email_verification(
        &self,
        token: &EmailTokenRecord,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let token = token.clone();
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE email_tokens SET used_at = ?3
                     WHERE tenant_id = ?1 AND id = ?2 AND used_at IS NULL",
                    params![token.tenant_id, token.id, us(now)],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::Conflict(Conflict::LinkUsed));
            }
            tx.execute(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?3)
                 WHERE tenant_id = ?1 AND id = ?2",
                params![token.tenant_id, token.user_id, us(now)],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

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
            let mut expected_prev = GENESIS_HASH.to_owned();
            let mut checked = 0u64;
            while let Some(r) = rows.next().map_err(map_err)? {
                let get = |i| r.get::<_, Option<String>>(i);
                let id: i64 = r.get(0).map_err(map_err)?;
                let at_us: i64 = r.get(2).map_err(map_err)?;
                let (tenant, actor_kind, actor_id, action, target, outcome, ip, ua, detail) = (
                    get(1).map_err(map_err)?,
                    get(3).map_err(map_err)?.unwrap_or_default(),
                    get(4).map_err(map_err)?,
                    get(5).map_err(map_err)?.unwrap_or_default(),
                    get(6).map_err(map_err)?,
                    get(7).map_err(map_err)?.unwrap_or_default(),
                    get(8).map_err(map_err)?,
                    get(9).map_err(map_err)?,
                    get(10).map_err(map_err)?.unwrap_or_default(),
                );
                let prev: String = r.get(11).map_err(map_err)?;
                let hash: String = r.get(12).map_err(map_err)?;
                let recomputed = chain_hash(
                    &prev,
                    &ChainFields {
                        tenant_id: tenant.as_deref(),
                        at_us,
                        actor_kind: &actor_kind,
                        actor_id: actor_id.as_deref(),
                        action: &action,
                        target: target.as_deref(),
                        outcome: &outcome,
                        ip: ip.as_deref(),
                        user_agent: ua.as_deref(),
                        detail: &detail,
                    },
                );
                checked += 1;
                if prev != expected_prev || recomputed != hash {
                    return Ok(AuditVerify {
                        ok: false,
                        checked,
                        first_bad: Some(id),
                    });
                }
                expected_prev = hash;
            }
            Ok(AuditVerify {
                ok: true,
                checked,
                first_bad: None,
            })
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
