//! The check after `store::postgres::copy_from_sqlite` (`keyhold-server migrate-store`):
//! every tenant's audit chain verifies on PostgreSQL with as many
//! events as in SQLite, and every secret's current version decrypts there to the same
//! bytes as in SQLite (compared in memory, never shown). Read through both stores' own
//! traits, as the server would read them.

use std::path::Path;

use anyhow::{Context, bail};
use keyhold_core::path::SecretPath;
use zeroize::Zeroizing;

use crate::crypto;
use crate::keys::Keys;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{AuditStore, Store};

/// What the check covered.
#[derive(Debug, Default)]
pub struct Verified {
    pub chains: u64,
    pub events: u64,
    pub secrets: u64,
}

/// Compare the SQLite vault at `sqlite` with its copy behind `owner_url`.
pub async fn verify_copy(sqlite: &Path, owner_url: &str, keys: &Keys) -> anyhow::Result<Verified> {
    let source = SqliteStore::open(sqlite)?;
    let target = PostgresStore::connect_for_copy(owner_url).await?;
    let (tenants, secrets) = inventory(sqlite)?;
    let mut v = Verified::default();
    for chain in tenants.iter().map(String::as_str).chain([""]) {
        let (a, b) = (
            source.audit_verify(chain).await?,
            target.audit_verify(chain).await?,
        );
        if !b.ok || b.checked != a.checked {
            bail!(
                "the audit chain of {:?} does not verify on PostgreSQL ({} of {} events checked, first bad {:?})",
                chain,
                b.checked,
                a.checked,
                b.first_bad
            );
        }
        v.chains += 1;
        v.events += b.checked;
    }
    for (tenant, path) in secrets {
        let path = SecretPath::parse(&path)
            .map_err(|_| anyhow::anyhow!("a stored path that does not parse"))?;
        let a = open_current(&source, keys, &tenant, &path).await?;
        let b = open_current(&target, keys, &tenant, &path).await?;
        if a != b {
            bail!(
                "secret {} of tenant {tenant} differs on PostgreSQL",
                path.as_str()
            );
        }
        v.secrets += 1;
    }
    source.close().await?;
    target.close().await?;
    Ok(v)
}

/// A secret's tenant and path.
type SecretAt = (String, String);

/// Tenant ids and every secret's (tenant, path), from SQLite.
fn inventory(sqlite: &Path) -> anyhow::Result<(Vec<String>, Vec<SecretAt>)> {
    let c =
        rusqlite::Connection::open_with_flags(sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let tenants = c
        .prepare("SELECT id FROM tenants ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let secrets = c
        .prepare("SELECT tenant_id, path FROM secrets ORDER BY tenant_id, path")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok((tenants, secrets))
}

/// The current version's number and plaintext, decrypted as a read would.
async fn open_current(
    store: &dyn Store,
    keys: &Keys,
    tenant: &str,
    path: &SecretPath,
) -> anyhow::Result<(u32, Zeroizing<Vec<u8>>)> {
    let (_, version) = store
        .secret_version(tenant, path, None)
        .await?
        .context("a secret without its current version")?;
    let row = store
        .kek(tenant, version.kek_version)
        .await?
        .context("a secret whose KEK is missing")?;
    let kek = crypto::unwrap_kek(&keys.wrap, tenant, row.version, &row.wrapped)
        .map_err(|_| anyhow::anyhow!("a KEK that does not unwrap with this master key"))?;
    let plain = crypto::open_value(
        &kek,
        tenant,
        path.as_str(),
        version.version,
        &version.ciphertext,
        &version.wrapped_dek,
    )
    .map_err(|_| {
        anyhow::anyhow!(
            "secret {} of tenant {tenant} does not decrypt",
            path.as_str()
        )
    })?;
    Ok((version.version, plain))
}
