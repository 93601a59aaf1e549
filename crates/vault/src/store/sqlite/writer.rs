//! Group commit: every write of the store runs on one thread that owns the write
//! connection, and the jobs that queue up while a commit is being made durable share the
//! next transaction and its fsync.
//!
//! Why: with `synchronous=FULL` each commit costs an fsync, and every read of a secret
//! writes its audit event. One transaction per request made the fsync the ceiling on
//! secret reads; sharing it lets throughput grow with concurrency instead. Nothing is
//! weakened: a job's caller is answered only after the transaction that holds its changes
//! has committed, so an acknowledged read was audited and an acknowledged write is on disk.
//!
//! Each job runs inside its own SAVEPOINT, so a job that fails (a conflict, a constraint)
//! is rolled back alone and its neighbours in the batch still commit. A job that only
//! appends one audit event (every audited read) needs none: its single INSERT is atomic
//! on its own, and it is the commonest job by far. A single writer also means writers
//! never meet SQLite's busy lock: they wait their turn in the queue.
//!
//! The writer remembers the head of each audit chain between events (`chain_heads`). This
//! file is the handle that queues jobs; `batch` is the thread that commits them.

use std::thread;

use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Transaction;
use tokio::sync::{mpsc, oneshot};

use super::batch::{self, Job, Run, Staged};
use super::chain_heads::ChainHeads;
use super::checkpoint;
use super::events::insert_event;
use crate::store::audit_signals::AuditSignals;
use crate::store::event::NewEvent;
use crate::store::metrics::StoreMetrics;
use crate::store::{StoreError, StoreResult};

/// The metric labels of `events`: action and severity.
fn labels_of(events: &[NewEvent]) -> Vec<(&'static str, &'static str)> {
    events
        .iter()
        .map(|e| (e.action, e.severity().as_str()))
        .collect()
}

/// Jobs waiting for the writer. Beyond this, callers wait to enqueue (backpressure).
const QUEUE: usize = 4096;

/// The handle the store keeps: a queue into the writer thread.
pub(crate) struct Writer {
    queue: mpsc::Sender<Job>,
    /// Counts the events of each committed job.
    metrics: StoreMetrics,
}

impl Writer {
    /// Start the writer thread on `conn`. It stops when the store (the last sender) drops.
    /// Checkpoints run on `checkpointer`, off the commit path (`checkpoint`).
    pub(crate) fn start(
        conn: PooledConnection<SqliteConnectionManager>,
        checkpointer: PooledConnection<SqliteConnectionManager>,
        signals: std::sync::Arc<AuditSignals>,
        metrics: StoreMetrics,
    ) -> std::io::Result<Self> {
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0")
            .map_err(std::io::Error::other)?;
        checkpoint::writer_waits(&conn).map_err(std::io::Error::other)?;
        let nudge = checkpoint::start(checkpointer, metrics.checkpoint_seconds.clone())?;
        let (queue, jobs) = mpsc::channel(QUEUE);
        let counted = metrics.clone();
        thread::Builder::new()
            .name("keyhold-writer".into())
            .spawn(move || batch::run(conn, jobs, &signals, &nudge, &metrics))?;
        Ok(Self {
            queue,
            metrics: counted,
        })
    }

    /// Run `f` in the next shared transaction and append the events it returns; answer
    /// once that transaction has committed (or with why it did not).
    pub(crate) async fn transact<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<(T, Vec<NewEvent>)> + Send + 'static,
    {
        let (value, labels) = self
            .submit(true, move |tx, heads| {
                f(tx).and_then(|(value, events)| {
                    let mut last = None;
                    for e in &events {
                        last = Some(insert_event(tx, heads, e)?);
                    }
                    Ok(((value, labels_of(&events)), last))
                })
            })
            .await?;
        self.metrics.audit_written(&labels);
        Ok(value)
    }

    /// Append one audit event in the next shared transaction; answer once it is durable.
    /// An event that also writes to the outbox is more than one INSERT, so it takes a
    /// savepoint like any other job.
    pub(crate) async fn append(&self, event: NewEvent) -> StoreResult<()> {
        let savepoint = crate::store::outbox::needs_outbox(&event);
        let labels = labels_of(std::slice::from_ref(&event));
        self.submit(savepoint, move |tx, heads| {
            Ok(((), Some(insert_event(tx, heads, &event)?)))
        })
        .await?;
        self.metrics.audit_written(&labels);
        Ok(())
    }

    /// Queue `f` for the writer and wait for its batch's fate. `f` returns its value and
    /// the id of the last audit event it appended.
    async fn submit<T, F>(&self, savepoint: bool, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, &mut ChainHeads) -> StoreResult<(T, Option<i64>)>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<T>>();
        let run: Run = Box::new(move |batch| {
            let result = batch.map(|(tx, heads)| f(tx, heads));
            let ok = matches!(result, Some(Ok(_)));
            let last_event = match &result {
                Some(Ok((_, last))) => *last,
                _ => None,
            };
            Staged {
                ok,
                last_event,
                answer: Box::new(move |batch| {
                    let out = match (result, batch) {
                        (Some(Err(e)), _) => Err(e),
                        (_, Err(b)) => Err(b.into_store()),
                        (Some(Ok((value, _))), Ok(())) => Ok(value),
                        (None, Ok(())) => Err(StoreError::Other(anyhow::anyhow!(
                            "a write was skipped by its batch"
                        ))),
                    };
                    // The caller may have gone (request cancelled); the commit stands.
                    let _ = reply.send(out);
                }),
            }
        });
        self.queue
            .send(Job { run, savepoint })
            .await
            .map_err(|_| StoreError::Other(anyhow::anyhow!("the store's writer has stopped")))?;
        answer
            .await
            .map_err(|_| StoreError::Other(anyhow::anyhow!("the store's writer dropped a write")))?
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Conflict;
    use std::sync::Arc;

    use chrono::DateTime;

    use crate::store::event::{ClientInfo, NewEvent};
    use crate::store::sqlite::SqliteStore;
    use crate::store::{AuditStore, StoreError};

    fn event(n: usize) -> NewEvent {
        NewEvent::new("test.write", DateTime::UNIX_EPOCH, &ClientInfo::default())
            .tenant("t1")
            .target(format!("row:{n}"))
    }

    /// A store on a new database file (the directory lives as long as the guard).
    fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("w.db")).unwrap();
        (dir, store)
    }

    async fn count(store: &SqliteStore, sql: &'static str) -> i64 {
        store
            .run(move |c| {
                c.query_row(sql, [], |r| r.get(0))
                    .map_err(super::super::errors::map_err)
            })
            .await
            .unwrap()
    }

    /// Many concurrent writers share batches; the one that fails is rolled back alone and
    /// every other write and its event commit, with the audit chain intact.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_failing_job_is_rolled_back_alone_and_its_batch_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("w.db")).unwrap());
        store
            .run(|c| {
                c.execute_batch("CREATE TABLE rows (n INTEGER PRIMARY KEY)")
                    .map_err(super::super::errors::map_err)
            })
            .await
            .unwrap();
        let tasks: Vec<_> = (0..200usize)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .transact(move |tx| {
                            tx.execute("INSERT INTO rows (n) VALUES (?1)", [n as i64])
                                .map_err(super::super::errors::map_err)?;
                            if n % 50 == 7 {
                                // Fails after its own insert: that insert must not stay.
                                return Err(StoreError::Conflict(Conflict::JobRefused));
                            }
                            Ok((n, vec![event(n)]))
                        })
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        for (n, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(v) => {
                    assert_eq!(v, n);
                    ok += 1;
                }
                Err(StoreError::Conflict(_)) => assert_eq!(n % 50, 7),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(ok, 196);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM rows").await, 196);
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM rows WHERE n % 50 = 7").await,
            0
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM audit_events WHERE action = 'test.write'"
            )
            .await,
            196
        );
        let verify = store.audit_verify("t1").await.unwrap();
        assert!(verify.ok, "{verify:?}");
    }

    /// Two processes on one database (`keyhold-server kek rotate` beside a running server)
    /// append to the same chain in turns: each writer must see the other's events as the
    /// chain's head, not the head it remembers from its own last commit.
    #[tokio::test]
    async fn writers_of_two_stores_on_one_file_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.db");
        let a = SqliteStore::open(&path).unwrap();
        let b = SqliteStore::open(&path).unwrap();
        for n in 0..20 {
            let store = if n % 3 == 0 { &b } else { &a };
            store.append_event(event(n)).await.unwrap();
        }
        a.transact(|_| Ok(((), vec![event(20), event(21)])))
            .await
            .unwrap();
        b.append_event(event(22)).await.unwrap();
        let verify = a.audit_verify("t1").await.unwrap();
        assert!(verify.ok, "{verify:?}");
        assert_eq!(verify.checked, 23);
    }

    /// An append whose INSERT fails leaves no head behind: the next event chains onto
    /// the last one that was written.
    #[tokio::test]
    async fn a_failed_append_does_not_move_the_chain() {
        let (_dir, store) = fresh_store();
        store.append_event(event(1)).await.unwrap();
        store
            .run(|c| {
                c.execute_batch(
                    "CREATE TRIGGER refuse BEFORE INSERT ON audit_events
                     WHEN NEW.target = 'row:2' BEGIN SELECT RAISE(ABORT, 'refused'); END",
                )
                .map_err(super::super::errors::map_err)
            })
            .await
            .unwrap();
        assert!(store.append_event(event(2)).await.is_err());
        store.append_event(event(3)).await.unwrap();
        let verify = store.audit_verify("t1").await.unwrap();
        assert!(verify.ok, "{verify:?}");
        assert_eq!(verify.checked, 2);
    }

    /// A job without a savepoint that panics after writing cannot be undone alone: its
    /// whole batch is abandoned, so neither its row nor a broken chain is left behind.
    #[tokio::test]
    async fn a_job_without_savepoint_that_panics_abandons_its_batch() {
        let (_dir, store) = fresh_store();
        store.append_event(event(1)).await.unwrap();
        let r = store
            .writer
            .submit(
                false,
                |tx, heads| -> crate::store::StoreResult<((), Option<i64>)> {
                    super::insert_event(tx, heads, &event(2))?;
                    panic!("after the insert")
                },
            )
            .await;
        assert!(r.is_err());
        store.append_event(event(3)).await.unwrap();
        let verify = store.audit_verify("t1").await.unwrap();
        assert!(verify.ok, "{verify:?}");
        assert_eq!(verify.checked, 2);
    }

    /// A tenant's watch wakes for its own events only, and only once they are committed.
    #[tokio::test]
    async fn a_tenants_watch_wakes_for_its_own_events() {
        let (_dir, store) = fresh_store();
        let mut mine = store.tenant_audit_watch("t1");
        let mut theirs = store.tenant_audit_watch("t2");
        store.append_event(event(1)).await.unwrap();
        assert!(mine.has_changed().unwrap());
        assert!(!theirs.has_changed().unwrap());
        let id = *mine.borrow_and_update();
        store.append_event(event(2).tenant("t2")).await.unwrap();
        assert!(!mine.has_changed().unwrap());
        assert!(*theirs.borrow_and_update() > id);
        let r = store
            .transact(|_| -> crate::store::StoreResult<((), Vec<NewEvent>)> {
                Err(StoreError::Conflict(Conflict::JobRefused))
            })
            .await;
        assert!(r.is_err());
        assert!(!mine.has_changed().unwrap());
    }

    /// A panicking job must not take the writer down with it.
    #[tokio::test]
    async fn a_panicking_job_leaves_the_writer_running() {
        let (_dir, store) = fresh_store();
        let r = store
            .transact(|_| -> crate::store::StoreResult<((), Vec<NewEvent>)> { panic!("boom") })
            .await;
        assert!(r.is_err());
        let n = store.transact(|_| Ok((5, vec![event(1)]))).await.unwrap();
        assert_eq!(n, 5);
    }
}
