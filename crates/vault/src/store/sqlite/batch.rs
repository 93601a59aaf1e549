//! The writer thread's side of group commit: take the jobs that queued up, run them in one
//! transaction (each in its own SAVEPOINT when it needs one), commit, then answer every
//! job with the batch's fate. The handle that queues jobs is in `writer`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Transaction, TransactionBehavior};
use tokio::sync::mpsc;

use super::chain_heads::ChainHeads;
use super::checkpoint;
use super::errors::is_unavailable;
use crate::store::StoreError;
use crate::store::audit_signals::AuditSignals;
use crate::store::metrics::StoreMetrics;

/// How many jobs may share one transaction; bounds the work lost to one failed commit
/// and the latency of the first job in a batch.
const MAX_BATCH: usize = 256;

/// Why a batch did not commit, told to every job in it.
#[derive(Clone, Debug)]
pub(super) enum BatchError {
    /// The database cannot take writes now (locked, full, read-only, I/O error).
    Unavailable(String),
    Other(String),
}

impl BatchError {
    fn of(e: &rusqlite::Error) -> Self {
        if is_unavailable(e) {
            Self::Unavailable(e.to_string())
        } else {
            Self::Other(e.to_string())
        }
    }

    pub(super) fn into_store(self) -> StoreError {
        match self {
            Self::Unavailable(m) => {
                tracing::error!(error = %m, "write not committed: the database is unavailable");
                StoreError::Unavailable
            }
            Self::Other(m) => StoreError::Other(anyhow::anyhow!("commit failed: {m}")),
        }
    }
}

/// What a job left behind once it ran: whether its savepoint stands, the id of the last
/// audit event it appended, and how to answer its caller once the batch's fate is known.
pub(super) struct Staged {
    pub(super) ok: bool,
    pub(super) last_event: Option<i64>,
    pub(super) answer: Box<dyn FnOnce(Result<(), BatchError>) + Send>,
}

/// A job runs against the batch's transaction, or against `None` when its batch could not
/// start (then it only prepares its answer, which will carry the batch's error).
pub(super) type Run = Box<dyn FnOnce(Option<(&Transaction<'_>, &mut ChainHeads)>) -> Staged + Send>;

pub(super) struct Job {
    pub(super) run: Run,
    /// Whether the job needs a savepoint of its own: false only when all it does is one
    /// statement, which SQLite applies or undoes whole.
    pub(super) savepoint: bool,
}

/// The writer thread's loop: gather what is queued (up to `MAX_BATCH`), commit it as one
/// batch, nudge the checkpointer after a commit. Returns when every sender is gone.
pub(super) fn run(
    mut conn: PooledConnection<SqliteConnectionManager>,
    mut jobs: mpsc::Receiver<Job>,
    signals: &AuditSignals,
    nudge: &checkpoint::Nudge,
    metrics: &StoreMetrics,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut heads = ChainHeads::default();
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics.batch_jobs.observe(batch.len() as f64);
        let started = Instant::now();
        let committed = commit_batch(&mut conn, &mut batch, &mut heads, signals);
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        if committed {
            nudge.committed();
        } else {
            metrics.commit_failures.inc();
        }
    }
}

/// Run every job of `batch` in one transaction, then answer them all. True when the
/// transaction committed.
pub(super) fn commit_batch(
    conn: &mut rusqlite::Connection,
    batch: &mut Vec<Job>,
    heads: &mut ChainHeads,
    signals: &AuditSignals,
) -> bool {
    let tx = match conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .and_then(|tx| heads.begin_batch(&tx).map(|()| tx))
    {
        Ok(tx) => tx,
        Err(e) => {
            let why = BatchError::of(&e);
            for job in batch.drain(..) {
                fail_unrun(job, why.clone());
            }
            heads.end_batch(false);
            return false;
        }
    };
    let mut staged = Vec::with_capacity(batch.len());
    let mut broken: Option<BatchError> = None;
    for job in batch.drain(..) {
        if let Some(why) = &broken {
            fail_unrun(job, why.clone());
            continue;
        }
        match run_job(&tx, job, heads) {
            Ok((s, Ok(()))) => staged.push(s),
            Ok((s, Err(why))) => {
                broken = Some(why);
                staged.push(s);
            }
            Err(why) => broken = Some(why),
        }
    }
    let outcome = match broken {
        Some(why) => Err(why),
        None => tx.commit().map_err(|e| BatchError::of(&e)),
    };
    answer_all(staged, outcome, heads, signals)
}

/// Run one job inside the batch's transaction, in its own savepoint when it has one.
/// `Err` when its savepoint could not even open (the job is answered already); otherwise
/// what it staged, and `Err` beside it when the batch can no longer commit.
fn run_job(
    tx: &Transaction<'_>,
    job: Job,
    heads: &mut ChainHeads,
) -> Result<(Staged, Result<(), BatchError>), BatchError> {
    if job.savepoint
        && let Err(e) = exec(tx, "SAVEPOINT job")
    {
        fail_unrun(job, BatchError::of(&e));
        return Err(BatchError::of(&e));
    }
    let run = job.run;
    let (s, panicked) = match catch_unwind(AssertUnwindSafe(|| run(Some((tx, &mut *heads))))) {
        Ok(s) => (s, false),
        Err(_) => {
            let s = Staged {
                ok: false,
                last_event: None,
                answer: Box::new(|_| {}),
            };
            (s, true)
        }
    };
    let end = match (job.savepoint, s.ok) {
        (true, true) => exec(tx, "RELEASE job"),
        (true, false) => exec(tx, "ROLLBACK TO job").and_then(|()| exec(tx, "RELEASE job")),
        // Without a savepoint, a job that panicked may have left a change behind that
        // nothing can take back alone: the batch does not commit.
        (false, _) if panicked || tx.is_autocommit() => Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
            Some("the batch was abandoned".into()),
        )),
        (false, _) => Ok(()),
    };
    heads.end_job(s.ok && end.is_ok());
    // On error, SQLite rolled the whole transaction back (disk full, I/O error), or a job
    // without a savepoint panicked: nothing of this batch can commit.
    let end = end.map_err(|e| BatchError::of(&e));
    Ok((s, end))
}

/// Tell the live feeds about what committed, settle the chain heads, and answer every
/// job that ran with the batch's `outcome`. True when the batch committed.
fn answer_all(
    staged: Vec<Staged>,
    outcome: Result<(), BatchError>,
    heads: &mut ChainHeads,
    signals: &AuditSignals,
) -> bool {
    if outcome.is_ok()
        && let Some(last) = staged
            .iter()
            .filter(|s| s.ok)
            .filter_map(|s| s.last_event)
            .max()
    {
        signals.committed(last, heads.batch_chains());
    }
    heads.end_batch(outcome.is_ok());
    let committed = outcome.is_ok();
    for s in staged {
        (s.answer)(outcome.clone());
    }
    committed
}

/// A statement the writer runs for every job, prepared once per connection.
fn exec(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Answer a job that never ran with why its batch failed.
fn fail_unrun(job: Job, why: BatchError) {
    ((job.run)(None).answer)(Err(why));
}
