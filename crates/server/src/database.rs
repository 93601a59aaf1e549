//! The PostgreSQL commands of `keyhold-server`: `migrate [--check]` and `migrate-store`
//! (docs/operations.md, "PostgreSQL and several replicas").

use std::path::Path;

use anyhow::{Context, bail};
use keyhold_vault::clock::{Clock, SystemClock};
use keyhold_vault::custody::{self, MemoryMasterKey};
use keyhold_vault::keys::{self, Keys};
use keyhold_vault::move_store::{self, Verified};
use keyhold_vault::store::Store;
use keyhold_vault::store::postgres::{self, Copied, SchemaStatus};
use keyhold_vault::store::sqlite::SqliteStore;

/// Apply missing migrations as the schema's owner (`keyhold-server migrate`, or `serve`
/// with `--migrate-database`). Returns the versions applied.
pub async fn migrate(owner_url: &str) -> anyhow::Result<Vec<i32>> {
    let mut client = postgres::connect_once(owner_url).await?;
    postgres::migrate(&mut client).await
}

/// Where the schema behind `url` stands (`keyhold-server migrate --check`).
pub async fn schema_status(url: &str) -> anyhow::Result<SchemaStatus> {
    let client = postgres::connect_once(url).await?;
    postgres::schema_status(&client).await
}

/// `keyhold-server migrate-store --from DATA_DIR --to URL`: copy the SQLite vault of
/// `data_dir` (its server stopped) into the empty database behind the owner's `to`, then
/// check the copy: every audit chain verifies and every secret decrypts to the same value.
/// The master key is the data dir's (or `KEYHOLD_MASTER_KEY`); the copy needs it only for
/// the check, and the replicas then need the same one.
pub async fn migrate_store(data_dir: &Path, to: &str) -> anyhow::Result<(Copied, Verified)> {
    let db = data_dir.join("keyhold.db");
    if !db.exists() {
        bail!("no database at {}", db.display());
    }
    if std::env::var_os(keys::MASTER_KEY_ENV).is_none() && !data_dir.join("master.key").exists() {
        bail!(
            "no master key: set {} or keep master.key in {}",
            keys::MASTER_KEY_ENV,
            data_dir.display()
        );
    }
    let (master, _) = keys::load_master_key(data_dir, false)?;
    let master = MemoryMasterKey::new(master);
    // Bring the source's schema up to this binary's, and give it its root key, as the
    // server would at start: the root key row is then copied with the rest.
    let source_db = db.clone();
    let source = tokio::task::spawn_blocking(move || SqliteStore::open(&source_db)).await??;
    let (root, _) = custody::open_root_key(&source, &master, SystemClock.now()).await?;
    let keys = Keys::from_root(&root)?;
    drop((root, master));
    source.close().await?;
    drop(source);
    let mut client = postgres::connect_once(to).await?;
    let copied = postgres::copy_from_sqlite(&db, &mut client)
        .await
        .context("copying")?;
    let verified = move_store::verify_copy(&db, to, &keys)
        .await
        .context("checking the copy")?;
    Ok((copied, verified))
}
