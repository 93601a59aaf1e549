//! `keyhold-server migrate-store`: copy a SQLite vault into an empty PostgreSQL database,
//! row for row. Ciphertexts, wrapped keys and hashes are copied as they are (nothing is
//! decrypted or re-encrypted); audit events keep their ids and hashes, so every chain
//! verifies on the other side exactly as it did. `crate::move_store` then checks the result.
//!
//! The copy runs as the schema's owner (it sets the identity sequences past the copied
//! ids, which only the owner may), in one transaction: a failure leaves the target empty.
//! Row-level security binds the owner too, so each row is written acting for its tenant.
//! Tables are copied generically: the target's columns and types come from
//! `information_schema`, the same columns are read from SQLite and converted by type
//! (integer microseconds to `timestamptz`, JSON text to `jsonb`, text to `inet`).

use std::path::Path;

use anyhow::{Context, bail};
use chrono::DateTime;
use rusqlite::types::Value;
use tokio_postgres::Client;
use tokio_postgres::types::ToSql;

use super::migrate::migrate;

/// Tables in an order that satisfies the foreign keys, and the column naming each row's
/// tenant (`chain` for the audit log: '' is the tenant-less chain; none for a table that
/// belongs to no tenant).
const TABLES: &[(&str, &str)] = &[
    ("tenants", "id"),
    ("users", "tenant_id"),
    ("sessions", "tenant_id"),
    ("email_tokens", "tenant_id"),
    ("audit_events", "chain"),
    ("mfa_totp", "tenant_id"),
    ("mfa_backup_codes", "tenant_id"),
    ("mfa_tickets", "tenant_id"),
    ("mfa_failures", "tenant_id"),
    ("agent_keys", "tenant_id"),
    ("tokens", "tenant_id"),
    ("tenant_keks", "tenant_id"),
    ("secrets", "tenant_id"),
    ("secret_versions", "tenant_id"),
    ("tenant_settings", "tenant_id"),
    ("approval_requests", "tenant_id"),
    ("approval_votes", "tenant_id"),
    ("invitations", "tenant_id"),
    // No tenant: the vault's one wrapped root key, written acting as the system.
    ("root_key", ""),
    ("alert_rules", "tenant_id"),
    ("alerts", "tenant_id"),
    ("address_blocks", "tenant_id"),
];

/// Identity columns whose sequences must start past the copied ids.
const IDENTITIES: &[&str] = &["audit_events", "mfa_backup_codes", "mfa_failures"];

/// What was copied: rows per table.
#[derive(Debug, Default)]
pub struct Copied {
    pub tables: Vec<(&'static str, u64)>,
}

/// One column of the target: its name, and how a SQLite value is bound for it.
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Time,
    Int,
    Bool,
    Text,
    Bytes,
    Json,
    Inet,
}

impl Kind {
    fn of(pg_type: &str) -> anyhow::Result<Self> {
        Ok(match pg_type {
            "timestamp with time zone" => Self::Time,
            "bigint" | "integer" | "smallint" => Self::Int,
            "boolean" => Self::Bool,
            "text" => Self::Text,
            "bytea" => Self::Bytes,
            "jsonb" => Self::Json,
            "inet" => Self::Inet,
            other => bail!("no conversion for a {other} column"),
        })
    }

    /// The placeholder: every parameter is bound as the type named here.
    fn placeholder(self, n: usize) -> String {
        match self {
            Self::Time => format!("${n}::timestamptz"),
            Self::Int => format!("${n}::bigint"),
            Self::Bool => format!("${n}::boolean"),
            Self::Text => format!("${n}::text"),
            Self::Bytes => format!("${n}::bytea"),
            Self::Json => format!("${n}::jsonb"),
            Self::Inet => format!("(${n}::text)::inet"),
        }
    }

    /// A SQLite value as this kind's Rust type (NULL as `None` of it).
    fn bind(self, v: Value) -> anyhow::Result<Box<dyn ToSql + Sync + Send>> {
        let int = |v: &Value| match v {
            Value::Integer(i) => Ok(Some(*i)),
            Value::Null => Ok(None),
            _ => bail!("expected an integer"),
        };
        let text = |v: Value| match v {
            Value::Text(t) => Ok(Some(t)),
            Value::Null => Ok(None),
            _ => bail!("expected text"),
        };
        Ok(match self {
            Self::Time => Box::new(
                int(&v)?
                    .map(|us| DateTime::from_timestamp_micros(us).context("a time out of range"))
                    .transpose()?,
            ),
            Self::Int => Box::new(int(&v)?),
            Self::Bool => Box::new(int(&v)?.map(|i| i != 0)),
            Self::Text | Self::Inet => Box::new(text(v)?),
            Self::Bytes => Box::new(match v {
                Value::Blob(b) => Some(b),
                Value::Null => None,
                _ => bail!("expected bytes"),
            }),
            Self::Json => Box::new(
                text(v)?
                    .map(|t| serde_json::from_str::<serde_json::Value>(&t))
                    .transpose()
                    .context("a JSON column that does not parse")?,
            ),
        })
    }
}

/// Copy every row of the SQLite database at `sqlite` into the PostgreSQL database the
/// owner's `client` is connected to, after bringing its schema up to date. Refuses a target
/// that has ever held a vault.
pub async fn copy_from_sqlite(sqlite: &Path, client: &mut Client) -> anyhow::Result<Copied> {
    migrate(client).await?;
    refuse_used_target(client).await?;
    let source = rusqlite::Connection::open_with_flags(
        sqlite,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {}", sqlite.display()))?;
    let tx = client.transaction().await?;
    let mut copied = Copied::default();
    for (table, tenant_col) in TABLES {
        let columns = target_columns(&tx, table).await?;
        let n = copy_table(&source, &tx, table, tenant_col, &columns).await?;
        copied.tables.push((table, n));
    }
    set_chain_heads(&source, &tx).await?;
    for table in IDENTITIES {
        let max: i64 = source.query_row(
            &format!("SELECT coalesce(max(id), 0) FROM {table}"),
            [],
            |r| r.get(0),
        )?;
        if max > 0 {
            tx.execute(
                "SELECT setval(pg_get_serial_sequence($1, 'id'), $2::bigint, true)",
                &[table, &max],
            )
            .await
            .with_context(|| format!("advancing the ids of {table}"))?;
        }
    }
    tx.commit().await.context("committing the copy")?;
    Ok(copied)
}

/// A target whose audit log has ever handed out an id has held a vault: refuse it. (Row
/// counts would not tell: row-level security hides every row from the owner too.)
async fn refuse_used_target(client: &Client) -> anyhow::Result<()> {
    let used: bool = client
        .query_one("SELECT is_called FROM audit_events_id_seq", &[])
        .await?
        .try_get(0)?;
    if used {
        bail!(
            "the target database is not empty (it has held a vault): migrate-store copies into an empty one only"
        );
    }
    Ok(())
}

async fn target_columns(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
) -> anyhow::Result<Vec<Column>> {
    let rows = tx
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Column {
                name: r.try_get(0)?,
                kind: Kind::of(&r.try_get::<_, String>(1)?)?,
            })
        })
        .collect()
}

/// The SQLite column a target column is read from (the audit log's time is `at_us`).
fn source_column(table: &str, column: &str) -> String {
    match (table, column) {
        ("audit_events", "at") => "at_us".to_owned(),
        _ => column.to_owned(),
    }
}

async fn copy_table(
    source: &rusqlite::Connection,
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    tenant_col: &str,
    columns: &[Column],
) -> anyhow::Result<u64> {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let select: Vec<String> = names.iter().map(|c| source_column(table, c)).collect();
    let tenant_at = if tenant_col.is_empty() {
        None
    } else {
        Some(
            names
                .iter()
                .position(|c| *c == tenant_col)
                .context("the tenant column")?,
        )
    };
    let placeholders: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| c.kind.placeholder(i + 1))
        .collect();
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {table} ({}) OVERRIDING SYSTEM VALUE VALUES ({})",
            names.join(", "),
            placeholders.join(", ")
        ))
        .await?;
    let mut stmt = source.prepare(&format!(
        "SELECT {} FROM {table} ORDER BY rowid",
        select.join(", ")
    ))?;
    let mut rows = stmt.query([])?;
    let (mut n, mut acting) = (0u64, None::<String>);
    while let Some(row) = rows.next()? {
        let values: Vec<Value> = (0..columns.len())
            .map(|i| row.get(i))
            .collect::<Result<_, _>>()?;
        let tenant = match tenant_at.map(|i| &values[i]) {
            None => String::new(),
            Some(Value::Text(t)) => t.clone(),
            Some(_) => bail!("a row of {table} without its tenant"),
        };
        if acting.as_deref() != Some(tenant.as_str()) {
            act_for(tx, &tenant).await?;
            acting = Some(tenant);
        }
        let params: Vec<Box<dyn ToSql + Sync + Send>> = columns
            .iter()
            .zip(values)
            .map(|(c, v)| {
                c.kind
                    .bind(v)
                    .with_context(|| format!("{table}.{}", c.name))
            })
            .collect::<anyhow::Result<_>>()?;
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        tx.execute(&insert, &refs)
            .await
            .with_context(|| format!("copying a row of {table}"))?;
        n += 1;
    }
    Ok(n)
}

/// Act for `tenant` ('' being the tenant-less audit chain) from here on.
async fn act_for(tx: &tokio_postgres::Transaction<'_>, tenant: &str) -> anyhow::Result<()> {
    let system = if tenant.is_empty() { "on" } else { "off" };
    tx.execute(
        "SELECT set_config('keyhold.tenant', $1, true), set_config('keyhold.system', $2, true)",
        &[&tenant, &system],
    )
    .await?;
    Ok(())
}

/// Each chain's head: the hash of its newest event, as the appends expect it.
async fn set_chain_heads(
    source: &rusqlite::Connection,
    tx: &tokio_postgres::Transaction<'_>,
) -> anyhow::Result<()> {
    let mut stmt = source.prepare(
        "SELECT chain, hash FROM audit_events
         WHERE id IN (SELECT max(id) FROM audit_events GROUP BY chain)",
    )?;
    let heads: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (chain, hash) in heads {
        act_for(tx, &chain).await?;
        tx.execute(
            "INSERT INTO audit_chain_heads (chain, hash) VALUES ($1, $2)",
            &[&chain, &hash],
        )
        .await?;
    }
    Ok(())
}
