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

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;
use std::time::Duration;

use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;

/// At most one checkpoint per interval: commits in between are folded in together, and the
/// WAL holds at most about this much work between checkpoints.
const INTERVAL: Duration = Duration::from_millis(200);

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
pub(crate) fn start(conn: PooledConnection<SqliteConnectionManager>) -> std::io::Result<Nudge> {
    let (tx, rx) = sync_channel(1);
    thread::Builder::new()
        .name("keyhold-checkpoint".into())
        .spawn(move || run(&conn, &rx))?;
    Ok(Nudge(tx))
}

fn run(conn: &rusqlite::Connection, nudges: &Receiver<()>) {
    // Blocks while the server is idle: no polling.
    while nudges.recv().is_ok() {
        if let Err(e) = passive(conn) {
            // Not fatal: the WAL keeps every commit, and the next nudge tries again.
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
        thread::sleep(INTERVAL);
    }
}

fn passive(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::DateTime;

    use super::super::SqliteStore;
    use crate::audit::{ClientInfo, NewEvent};

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
                    .map_err(super::super::map_err)
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
                    .map_err(super::super::map_err)?;
                Ok((n, vec![]))
            })
            .await
            .unwrap();
        assert_eq!(autocheckpoint, 0, "the writer must not checkpoint inline");
    }
}
