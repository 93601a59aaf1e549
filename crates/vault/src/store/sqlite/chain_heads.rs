//! The hash at the head of each audit chain, remembered by the writer between events.
//!
//! Why: every audited request appends an event whose hash covers the previous event of
//! its chain, and looking that hash up was an indexed query per event on the one thread
//! every write waits for. The writer is the only writer of this process, so it can carry
//! the heads forward itself, as long as three things can never hand it a stale head:
//!
//! - a job rolled back to its savepoint: its heads are kept apart until it is released;
//! - a batch that did not commit: its heads are dropped, and so is everything remembered,
//!   since what is on disk is then not worth guessing at;
//! - another process writing the same database (`keyhold-server kek rotate` next to a
//!   running server): SQLite's `PRAGMA data_version` changes when another connection has
//!   committed, and the writer reads it at the start of every batch, under the write lock,
//!   and forgets every head when it moved.
//!
//! A head that is not remembered is read from the table, as before.

use std::collections::HashMap;

use rusqlite::Transaction;

/// Beyond this many chains (tenants), forget them all rather than grow without bound.
const MAX_CHAINS: usize = 10_000;

#[derive(Default)]
pub(crate) struct ChainHeads {
    /// Heads as of the last commit this writer made.
    committed: HashMap<String, String>,
    /// Heads written by released jobs of the batch in progress.
    batch: HashMap<String, String>,
    /// Heads written by the job in progress.
    job: Vec<(String, String)>,
    /// `PRAGMA data_version` at the start of the current batch.
    data_version: Option<i64>,
}

impl ChainHeads {
    /// Call right after the batch's `BEGIN IMMEDIATE`: forget every head if another
    /// connection committed since this writer last looked.
    pub(crate) fn begin_batch(&mut self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let version: i64 = tx
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        if self.data_version != Some(version) {
            self.committed.clear();
            self.data_version = Some(version);
        }
        self.batch.clear();
        self.job.clear();
        Ok(())
    }

    /// The newest hash of `chain` written in this batch or remembered from earlier ones.
    pub(crate) fn get(&self, chain: &str) -> Option<&str> {
        self.job
            .iter()
            .rev()
            .find(|(c, _)| c == chain)
            .map(|(_, h)| h)
            .or_else(|| self.batch.get(chain))
            .or_else(|| self.committed.get(chain))
            .map(String::as_str)
    }

    /// `hash` is now the head of `chain` (inside the current job).
    pub(crate) fn advance(&mut self, chain: String, hash: String) {
        self.job.push((chain, hash));
    }

    /// The current job ended: its heads stand if its changes do (`kept`).
    pub(crate) fn end_job(&mut self, kept: bool) {
        if kept {
            self.batch.extend(self.job.drain(..));
        } else {
            self.job.clear();
        }
    }

    /// The chains the released jobs of this batch appended to.
    pub(crate) fn batch_chains(&self) -> impl Iterator<Item = &str> {
        self.batch.keys().map(String::as_str)
    }

    /// The batch ended: its heads become the remembered ones if it committed; if not,
    /// nothing is remembered.
    pub(crate) fn end_batch(&mut self, committed: bool) {
        self.job.clear();
        if committed {
            if self.committed.len() + self.batch.len() > MAX_CHAINS {
                self.committed.clear();
            }
            self.committed.extend(self.batch.drain());
        } else {
            self.batch.clear();
            self.committed.clear();
            self.data_version = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heads_in(tx: &Transaction<'_>) -> ChainHeads {
        let mut h = ChainHeads::default();
        h.begin_batch(tx).unwrap();
        h
    }

    #[test]
    fn a_released_job_carries_its_heads_and_a_rolled_back_one_does_not() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        let mut h = heads_in(&tx);
        h.advance("t1".into(), "a".into());
        h.advance("t1".into(), "b".into());
        assert_eq!(h.get("t1"), Some("b"));
        h.end_job(true);
        h.advance("t1".into(), "c".into());
        h.advance("t2".into(), "x".into());
        assert_eq!(h.get("t1"), Some("c"));
        h.end_job(false);
        assert_eq!(h.get("t1"), Some("b"));
        assert_eq!(h.get("t2"), None);
        h.end_batch(true);
        assert_eq!(h.get("t1"), Some("b"));
    }

    #[test]
    fn a_batch_that_did_not_commit_forgets_everything() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        let mut h = heads_in(&tx);
        h.advance("t1".into(), "a".into());
        h.end_job(true);
        h.end_batch(true);
        h.begin_batch(&tx).unwrap();
        h.advance("t2".into(), "b".into());
        h.end_job(true);
        h.end_batch(false);
        assert_eq!(h.get("t1"), None);
        assert_eq!(h.get("t2"), None);
    }

    #[test]
    fn another_connections_commit_forgets_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let mut mine = rusqlite::Connection::open(&path).unwrap();
        mine.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER)")
            .unwrap();
        let other = rusqlite::Connection::open(&path).unwrap();
        let mut h = ChainHeads::default();
        let tx = mine.transaction().unwrap();
        h.begin_batch(&tx).unwrap();
        h.advance("t1".into(), "a".into());
        h.end_job(true);
        tx.commit().unwrap();
        h.end_batch(true);

        // Nobody else wrote: the head is still known.
        let tx = mine.transaction().unwrap();
        h.begin_batch(&tx).unwrap();
        assert_eq!(h.get("t1"), Some("a"));
        tx.commit().unwrap();
        h.end_batch(true);

        other.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let tx = mine.transaction().unwrap();
        h.begin_batch(&tx).unwrap();
        assert_eq!(h.get("t1"), None);
    }
}
