//! Opening the embedded store (the pragmas, the connection pool, the schema, the writer)
//! and the ways its areas reach SQLite: a pooled read, a point read on the calling
//! thread, or a write through the writer's shared transactions.
//!
//! rusqlite is blocking, so every call runs on the blocking pool with a pooled connection.
//! Writes take the write lock up front (`BEGIN IMMEDIATE`), so two writers never deadlock
//! upgrading a read lock, and the audit chain's "read previous hash, insert next" cannot
//! interleave.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction};

use super::errors::map_err;
use super::migrate::migrate;
use super::writer::Writer;
use crate::store::audit_signals::AuditSignals;
use crate::store::event::NewEvent;
use crate::store::metrics::StoreMetrics;
use crate::store::{Store, StoreError, StoreResult};

/// The SQLite store: WAL mode, `synchronous=FULL`, foreign keys on.
pub struct SqliteStore {
    pool: Pool<SqliteConnectionManager>,
    /// Wakes the live feeds once their events are committed (read by `audit`).
    pub(super) audit_signals: Arc<AuditSignals>,
    /// Every write goes through here (group commit, see `writer`).
    pub(super) writer: Writer,
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
        let audit_signals = Arc::new(AuditSignals::new(last));
        let writer = Writer::start(conn, pool.get()?, audit_signals.clone(), metrics)
            .context("starting the store's writer thread")?;
        Ok(Self {
            pool,
            audit_signals,
            writer,
        })
    }

    /// Run `f` with a pooled connection on the blocking pool: rusqlite blocks, and a scan
    /// or a checkpoint must not hold up an async worker.
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
impl Store for SqliteStore {
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
}
