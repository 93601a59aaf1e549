//! `keyhold-server backup` and `restore` for the embedded SQLite store (issue 21).
//!
//! A backup is `VACUUM INTO` on a read transaction of its own: a consistent snapshot of
//! the database as of one commit, taken while the server keeps serving (WAL readers never
//! block writers), written compact and checked (`PRAGMA integrity_check`) before it is
//! kept. It holds no master key, by design: a backup alone opens no secret, so keep the
//! master key's own copy apart from it. `--keep N` into a folder keeps the N newest.
//! A restore refuses a data dir that holds anything, checks the file is an intact Keyhold
//! database, and copies it in (0600) for a server started with the same master key.
//! PostgreSQL has its own tools (pg_dump, point-in-time recovery): docs/operations.md.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rusqlite::{Connection, OpenFlags};

/// Backup files written into a folder: `keyhold-<UTC time>.db`, which sort by age.
const PREFIX: &str = "keyhold-";

fn check_intact(path: &Path) -> anyhow::Result<()> {
    let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", path.display()))?;
    let verdict: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .with_context(|| format!("{} is not a SQLite database", path.display()))?;
    if verdict != "ok" {
        bail!("{} failed its integrity check: {verdict}", path.display());
    }
    let tables: i64 = c.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('audit_events', 'secrets', 'tenants')",
        [],
        |r| r.get(0),
    )?;
    if tables != 3 {
        bail!("{} is not a Keyhold database", path.display());
    }
    Ok(())
}

/// Where a backup goes: `to` itself, or a new timestamped file when `to` is a folder.
fn target(to: &Path, now: chrono::DateTime<chrono::Utc>) -> PathBuf {
    if to.is_dir() {
        to.join(format!("{PREFIX}{}.db", now.format("%Y%m%dT%H%M%S%.3fZ")))
    } else {
        to.to_owned()
    }
}

/// Snapshot `db` (a serving vault's database) into `to`; with `keep`, `to` must be a folder
/// and only its `keep` newest backups stay. Returns the file written and those removed.
pub fn backup(
    db: &Path,
    to: &Path,
    keep: Option<usize>,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    if !db.exists() {
        bail!("no database at {}", db.display());
    }
    if keep.is_some() && !to.is_dir() {
        bail!("--keep needs --to to be an existing folder");
    }
    let file = target(to, now);
    if file.exists() {
        bail!(
            "{} exists: a backup never overwrites a file",
            file.display()
        );
    }
    let partial = file.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let c = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", db.display()))?;
    c.busy_timeout(std::time::Duration::from_secs(30))?;
    let made = c
        .execute("VACUUM INTO ?1", [partial.to_string_lossy().as_ref()])
        .with_context(|| format!("writing {}", partial.display()));
    if let Err(e) = made
        .and_then(|_| private(&partial))
        .and_then(|()| check_intact(&partial))
    {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &file)?;
    let removed = match keep {
        Some(n) => prune(to, n.max(1))?,
        None => Vec::new(),
    };
    Ok((file, removed))
}

fn private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Remove all but the `keep` newest backups in `dir` (only files this command names).
fn prune(dir: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".db"))
        })
        .collect();
    found.sort();
    let excess = found.len().saturating_sub(keep);
    let old: Vec<PathBuf> = found.drain(..excess).collect();
    for p in &old {
        std::fs::remove_file(p).with_context(|| format!("removing {}", p.display()))?;
    }
    Ok(old)
}

/// Put the backup `from` into the empty data dir `data_dir` as its database.
pub fn restore(from: &Path, data_dir: &Path) -> anyhow::Result<PathBuf> {
    check_intact(from)?;
    if data_dir.exists()
        && std::fs::read_dir(data_dir)
            .with_context(|| format!("reading {}", data_dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty: restore only into an empty data dir, so nothing is overwritten",
            data_dir.display()
        );
    }
    let mut dir = std::fs::DirBuilder::new();
    dir.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
    dir.create(data_dir)?;
    let db = data_dir.join("keyhold.db");
    std::fs::copy(from, &db).with_context(|| format!("copying into {}", db.display()))?;
    private(&db)?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_the_newest_of_its_own_files_only() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "keyhold-20260101T000000.000Z.db",
            "keyhold-20260102T000000.000Z.db",
            "keyhold-20260103T000000.000Z.db",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        let removed = prune(dir.path(), 2).unwrap();
        assert_eq!(
            removed,
            vec![dir.path().join("keyhold-20260101T000000.000Z.db")]
        );
        assert!(dir.path().join("notes.txt").exists());
    }

    #[test]
    fn restore_refuses_a_non_empty_dir_and_a_file_that_is_not_a_vault() {
        let dir = tempfile::tempdir().unwrap();
        let not_db = dir.path().join("x.db");
        std::fs::write(&not_db, b"not sqlite").unwrap();
        assert!(restore(&not_db, &dir.path().join("new")).is_err());
        let empty_db = dir.path().join("empty.db");
        Connection::open(&empty_db)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        let e = restore(&empty_db, &dir.path().join("new")).unwrap_err();
        assert!(e.to_string().contains("not a Keyhold database"), "{e}");
        assert!(
            !dir.path().join("new").exists(),
            "a refused restore made nothing"
        );
    }
}
