//! WAL checkpoints off the writer's path.
//!
//! Why: by default SQLite folds the WAL back into the database file from inside the commit
//! that crosses `wal_autocheckpoint` pages, so every thousandth page or so one commit (and
//! every request waiting on its batch) also pays for copying the WAL and an fsync of the
//! main file. That showed up as p99 stalls of hundreds of milliseconds on secret reads.
//! Here the writer connection has automatic checkpoints off, and this thread runs PASSIVE
//! checkpoints on its own connection shortly after commits: a passive checkpoint never
//! blocks the writer or readers, and durability is unchanged (a committed transaction is
//! durable in the WAL; the checkpoint only copies it).
//!
//! A passive checkpoint alone is not enough under steady load: SQLite can only start the
//! WAL over from its beginning when no reader is still using it, and with reads arriving
//! every few microseconds one always is, so the WAL grew by gigabytes a minute in the soak
//! benchmark (checkpoint starvation). Once the WAL holds more than [`RESTART_FRAMES`], this
//! thread runs a RESTART checkpoint instead: it holds new writes back for the moment it
//! takes to copy the rest and for the readers in flight to finish, so the next commit
//! starts the WAL over. `journal_size_limit` then trims the file.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;

use crate::store::metrics::CheckpointLabels;

type Timings = Family<CheckpointLabels, Histogram>;

/// At most one checkpoint per interval: commits in between are folded in together, and the
/// WAL holds at most about this much work between checkpoints.
const INTERVAL: Duration = Duration::from_millis(200);

/// WAL size (in frames, one page each: 16 MiB at 4 KiB pages) beyond which the next
/// checkpoint also makes the WAL start over.
const RESTART_FRAMES: i64 = 4096;

/// Lock waits look again every 100 µs: SQLite's own busy handler sleeps 1, 2, 5, 10… up to
/// 100 ms between looks, so a RESTART checkpoint waiting for readers that finish within
/// microseconds (and the writer waiting for that checkpoint) slept for tens of
/// milliseconds, and the p99 of secret reads went from 2 ms to about 80 ms.
const LOCK_POLL: Duration = Duration::from_micros(100);

/// A busy handler that gives up after `POLLS` looks, `LOCK_POLL` apart.
fn retry<const POLLS: i32>(count: i32) -> bool {
    if count >= POLLS {
        return false;
    }
    thread::sleep(LOCK_POLL);
    true
}

/// The writer waits up to 10 s for a lock (as `busy_timeout` did), looking every 100 µs.
pub(crate) fn writer_waits(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.busy_handler(Some(retry::<100_000>))
}

/// The checkpointer gives up after 20 ms: a RESTART holds new writes back while it waits
/// for readers, so a long read (an audit export) must cost the writer at most that, once
/// per interval; the next interval tries again.
fn checkpointer_waits(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.busy_handler(Some(retry::<200>))
}

/// The writer's side: tells the checkpointer that something was committed.
pub(crate) struct Nudge(SyncSender<()>);

impl Nudge {
    /// Never blocks: if a nudge is already pending, this one is folded into it; if the
    /// checkpointer has stopped, the WAL simply waits for the next start or clean stop.
    pub(crate) fn committed(&self) {
        let _ = self.0.try_send(());
    }
}

/// Start the checkpointer on `conn`; it stops when the returned [`Nudge`] is dropped.
pub(crate) fn start(
    conn: PooledConnection<SqliteConnectionManager>,
    timings: Timings,
) -> std::io::Result<Nudge> {
    checkpointer_waits(&conn).map_err(std::io::Error::other)?;
    let (tx, rx) = sync_channel(1);
    thread::Builder::new()
        .name("keyhold-checkpoint".into())
        .spawn(move || run(&conn, &rx, &timings))?;
    Ok(Nudge(tx))
}

fn run(conn: &rusqlite::Connection, nudges: &Receiver<()>, timings: &Timings) {
    // Blocks while the server is idle: no polling.
    while nudges.recv().is_ok() {
        if let Err(e) = checkpoint(conn, timings) {
            // Not fatal: the WAL keeps every commit, and the next nudge tries again.
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
        thread::sleep(INTERVAL);
    }
}

/// A passive checkpoint, and a restarting one when the WAL has grown past its bound.
fn checkpoint(conn: &rusqlite::Connection, timings: &Timings) -> rusqlite::Result<()> {
    let timed = |mode: &'static str| {
        let started = Instant::now();
        let r = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        });
        timings
            .get_or_create(&CheckpointLabels { mode })
            .observe(started.elapsed().as_secs_f64());
        r
    };
    let (_, frames) = timed("passive")?;
    if frames >= RESTART_FRAMES {
        // The first column is 1 when readers did not clear in time: not an error, the
        // next interval tries again.
        let (busy, _) = timed("restart")?;
        if busy != 0 {
            tracing::debug!(frames, "WAL restart postponed: readers still in the WAL");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::DateTime;

    use crate::store::event::{ClientInfo, NewEvent};
    use crate::store::sqlite::SqliteStore;

    /// The writer no longer checkpoints by itself, so this thread must keep the WAL from
    /// growing without bound: after many commits, the WAL's frames have been copied into
    /// the database file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commits_are_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("c.db")).unwrap());
        for n in 0..300 {
            let e = NewEvent::new("test.write", DateTime::UNIX_EPOCH, &ClientInfo::default())
                .tenant("t1")
                .target(format!("row:{n}"));
            store.transact(move |_| Ok(((), vec![e]))).await.unwrap();
        }
        // The database file itself (not the WAL) must grow to every page the latest
        // snapshot has, without anyone here asking for a checkpoint.
        let db = dir.path().join("c.db");
        let mut sizes = (0, 0);
        for _ in 0..50 {
            tokio::time::sleep(super::INTERVAL).await;
            let pages: i64 = store
                .run(|c| {
                    c.query_row(
                        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(super::super::errors::map_err)
                })
                .await
                .unwrap();
            sizes = (std::fs::metadata(&db).unwrap().len(), pages as u64);
            if sizes.0 == sizes.1 {
                break;
            }
        }
        assert_eq!(
            sizes.0, sizes.1,
            "WAL frames never reached the database file"
        );
        let autocheckpoint: i64 = store
            .transact(|tx| {
                let n = tx
                    .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
                    .map_err(super::super::errors::map_err)?;
                Ok((n, vec![]))
            })
            .await
            .unwrap();
        assert_eq!(autocheckpoint, 0, "the writer must not checkpoint inline");
    }

    /// Checkpoint starvation: with readers always in flight, a passive checkpoint never
    /// lets the WAL start over and the file grows with every commit. Writing many times
    /// `RESTART_FRAMES` worth of pages while readers loop must leave a WAL far smaller than
    /// what was written.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_wal_starts_over_while_readers_keep_reading() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        let store = Arc::new(SqliteStore::open(&db).unwrap());
        store
            .transact(|tx| {
                tx.execute_batch("CREATE TABLE blobs (n INTEGER PRIMARY KEY, b BLOB)")
                    .map_err(super::super::errors::map_err)?;
                Ok(((), vec![]))
            })
            .await
            .unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let (store, stop) = (store.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        store
                            .run(|c| {
                                c.query_row("SELECT COUNT(*) FROM blobs", [], |r| {
                                    r.get::<_, i64>(0)
                                })
                                .map_err(super::super::errors::map_err)
                            })
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        // Writes without a pause for several checkpoint intervals (a pause would let a
        // passive checkpoint catch up and the WAL start over by itself).
        let until = std::time::Instant::now() + super::INTERVAL * 8;
        let rows = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let (store, rows) = (store.clone(), rows.clone());
                tokio::spawn(async move {
                    while std::time::Instant::now() < until {
                        store
                            .transact(|tx| {
                                tx.execute("INSERT INTO blobs (b) VALUES (zeroblob(65536))", [])
                                    .map_err(super::super::errors::map_err)?;
                                Ok(((), vec![]))
                            })
                            .await
                            .unwrap();
                        rows.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for r in readers {
            r.await.unwrap();
        }
        let written = rows.load(std::sync::atomic::Ordering::Relaxed) * 65536;
        let bound = u64::try_from(super::RESTART_FRAMES).unwrap() * 4096;
        assert!(
            written > 4 * bound,
            "only {written} bytes written: too few to tell"
        );
        let wal = std::fs::metadata(dir.path().join("r.db-wal"))
            .unwrap()
            .len();
        assert!(
            wal < written / 2,
            "the WAL ({wal} bytes) kept growing with the {written} bytes written"
        );
    }
}
