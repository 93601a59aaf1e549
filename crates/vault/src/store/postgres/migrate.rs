//! The PostgreSQL schema's migrations: embedded in the binary, applied in order, once.
//!
//! Replicas that start together all call [`migrate`]; each takes the same transaction-level
//! advisory lock first, so one applies what is missing while the others wait, then find
//! every version recorded and apply nothing. Everything happens in that one transaction
//! (PostgreSQL's DDL is transactional): a failed migration leaves the schema as it was.
//! `keyhold_schema` records each applied version with a SHA-256 of its text, so a database
//! made by an edited migration is refused rather than trusted. [`schema_status`] answers
//! "is the schema current?" without changing anything (for `keyhold-server migrate --check`),
//! and works as the server's role, which may read that table and nothing more of it.
//! A migration therefore cannot use what refuses to run in a transaction block (`CREATE
//! INDEX CONCURRENTLY`, `ALTER TYPE … ADD VALUE` before PostgreSQL 12).

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use tokio_postgres::{Client, GenericClient};

/// One embedded migration. `version` counts from 1 with no gaps.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// What `keyhold_schema.checksum` records: hex SHA-256 of the migration's text.
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// The migrations, in order. Append only: an applied migration's text must never change.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "outbox",
        sql: include_str!("../../../migrations/postgres/0002_outbox.sql"),
    },
    Migration {
        version: 3,
        name: "recovery",
        sql: include_str!("../../../migrations/postgres/0003_recovery.sql"),
    },
    // Files are named by issue (0004 detection, 0005 signing keys, 0006 root key, fixed
    // before the work began); versions count in the order the work was merged.
    Migration {
        version: 4,
        name: "signing_keys",
        sql: include_str!("../../../migrations/postgres/0005_signing_keys.sql"),
    },
    Migration {
        version: 5,
        name: "root_key",
        sql: include_str!("../../../migrations/postgres/0006_root_key.sql"),
    },
    Migration {
        version: 6,
        name: "detection",
        sql: include_str!("../../../migrations/postgres/0004_detection.sql"),
    },
];

/// The roles the schema assumes (keyhold_owner, keyhold_app), run once per database by a
/// superuser before the first migration; the same text as the file in the repository.
pub const ROLES_SQL: &str = include_str!("../../../migrations/postgres/roles.sql");

/// Taken by every migrating transaction: "keyhold" in ASCII, and 1.
const MIGRATION_LOCK: i64 = 0x6b65_7968_6f6c_6401;

/// The bookkeeping table. No row-level security: it holds no tenant's data, and the
/// server's role may only read it (to check the schema), never change it.
const BOOKKEEPING: &str = "
    CREATE TABLE IF NOT EXISTS keyhold_schema (
        version     integer PRIMARY KEY,
        name        text NOT NULL,
        checksum    text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
    );
    GRANT SELECT ON keyhold_schema TO keyhold_app;";

/// Where a database's schema stands against this binary's migrations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaStatus {
    /// Every migration is applied, as written.
    Current { version: i32 },
    /// Migrations after `applied` are still to run (0: none has run).
    Behind { applied: i32, latest: i32 },
    /// A newer server has migrated the database: this one must not use it.
    Ahead { applied: i32, latest: i32 },
    /// The recorded checksum of `version` is not that of the embedded migration.
    Altered { version: i32 },
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        matches!(self, Self::Current { .. })
    }
}

/// Apply every migration not yet applied, under the advisory lock, in one transaction.
/// Returns the versions this call applied (empty when another runner got there first).
/// Run as the schema's owner (keyhold_owner); the server's role cannot create tables.
pub async fn migrate(client: &mut Client) -> anyhow::Result<Vec<i32>> {
    let tx = client.transaction().await.context("begin the migration")?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .context("take the migration lock")?;
    tx.batch_execute(BOOKKEEPING)
        .await
        .context("create keyhold_schema (do the roles of roles.sql exist?)")?;
    let applied = match status_of(recorded(&tx).await?) {
        SchemaStatus::Ahead { applied, latest } => {
            bail!(
                "the database's schema is at version {applied}, newer than this server's {latest}; upgrade the server"
            )
        }
        SchemaStatus::Altered { version } => {
            bail!(
                "migration {version} in the database differs from this server's; refusing to continue"
            )
        }
        SchemaStatus::Current { version } => version,
        SchemaStatus::Behind { applied, .. } => applied,
    };
    let mut done = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > applied) {
        tx.batch_execute(m.sql)
            .await
            .with_context(|| format!("migration {} ({})", m.version, m.name))?;
        tx.execute(
            "INSERT INTO keyhold_schema (version, name, checksum) VALUES ($1, $2, $3)",
            &[&m.version, &m.name, &m.checksum()],
        )
        .await
        .with_context(|| format!("record migration {}", m.version))?;
        done.push(m.version);
    }
    tx.commit().await.context("commit the migration")?;
    Ok(done)
}

/// Is the schema current? Reads only; any role that may read `keyhold_schema` can ask.
pub async fn schema_status(client: &impl GenericClient) -> anyhow::Result<SchemaStatus> {
    let exists: bool = client
        .query_one("SELECT to_regclass('keyhold_schema') IS NOT NULL", &[])
        .await
        .context("look for keyhold_schema")?
        .get(0);
    if !exists {
        return Ok(status_of(Vec::new()));
    }
    Ok(status_of(recorded(client).await?))
}

/// The applied versions and their checksums, in order.
async fn recorded(client: &impl GenericClient) -> anyhow::Result<Vec<(i32, String)>> {
    let rows = client
        .query(
            "SELECT version, checksum FROM keyhold_schema ORDER BY version",
            &[],
        )
        .await
        .context("read keyhold_schema")?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Compare what the database recorded with the embedded migrations.
fn status_of(recorded: Vec<(i32, String)>) -> SchemaStatus {
    let latest = MIGRATIONS.last().map_or(0, |m| m.version);
    let applied = recorded.last().map_or(0, |(v, _)| *v);
    if applied > latest {
        return SchemaStatus::Ahead { applied, latest };
    }
    for (version, checksum) in &recorded {
        let embedded = MIGRATIONS.iter().find(|m| m.version == *version);
        if embedded.is_none_or(|m| m.checksum() != *checksum) {
            return SchemaStatus::Altered { version: *version };
        }
    }
    if applied < latest {
        SchemaStatus::Behind { applied, latest }
    } else {
        SchemaStatus::Current { version: applied }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "migration {}", m.name);
        }
    }

    /// docs/operations.md gives the roles script to copy: the same statements as the file
    /// the tests run, comments aside.
    #[test]
    fn the_roles_script_in_the_docs_is_the_one_in_the_repository() {
        let docs = include_str!("../../../../../docs/operations.md");
        let section = docs
            .split("## PostgreSQL and several replicas")
            .nth(1)
            .expect("operations.md has the PostgreSQL section");
        let block = section
            .split("```sql\n")
            .nth(1)
            .and_then(|b| b.split("```").next())
            .expect("the section has an sql block");
        let statements = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim_end)
                .filter(|l| !l.is_empty() && !l.trim_start().starts_with("--"))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(statements(block), statements(ROLES_SQL));
    }

    #[test]
    fn status_compares_versions_and_checksums() {
        let latest = MIGRATIONS.len() as i32;
        let all: Vec<_> = MIGRATIONS
            .iter()
            .map(|m| (m.version, m.checksum()))
            .collect();
        assert_eq!(
            status_of(Vec::new()),
            SchemaStatus::Behind { applied: 0, latest }
        );
        assert_eq!(
            status_of(all.clone()),
            SchemaStatus::Current { version: latest }
        );
        let mut ahead = all.clone();
        ahead.push((latest + 1, "x".into()));
        assert_eq!(
            status_of(ahead),
            SchemaStatus::Ahead {
                applied: latest + 1,
                latest
            }
        );
        let mut altered = all;
        altered[0].1 = "edited".into();
        assert_eq!(status_of(altered), SchemaStatus::Altered { version: 1 });
    }
}
