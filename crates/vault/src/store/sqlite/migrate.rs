//! The schema: the migrations in order, and how they are applied. `PRAGMA user_version`
//! records how many ran, so opening a database brings it up to date exactly once.

use anyhow::Context;
use rusqlite::{Connection, TransactionBehavior};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/0001_init.sql"),
    include_str!("../../../migrations/0002_mfa.sql"),
    include_str!("../../../migrations/0003_keys_secrets.sql"),
    include_str!("../../../migrations/0004_approvals.sql"),
    include_str!("../../../migrations/0005_approval_gate.sql"),
    include_str!("../../../migrations/0006_invitations.sql"),
    include_str!("../../../migrations/0007_outbox.sql"),
    include_str!("../../../migrations/0008_recovery.sql"),
    // Files are named by issue (0009 detection, 0010 signing keys, 0011 root key); the
    // order is the order the work was merged.
    include_str!("../../../migrations/0010_signing_keys.sql"),
    include_str!("../../../migrations/0011_root_key.sql"),
    include_str!("../../../migrations/0009_detection.sql"),
];

pub(super) fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Apply the migrations up to `target` (a test brings a database to an older schema).
pub(super) fn migrate_to(conn: &mut Connection, target: usize) -> anyhow::Result<()> {
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
