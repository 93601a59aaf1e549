//! [`SigningKeyStore`] on PostgreSQL. A signed request names its key id before its tenant
//! is known: the key and its public keys are read under the id's lookup policy, as a
//! `kha_` key is. Adding a public key locks the key's row first, so two replicas adding
//! at once cannot both pass the two-key limit; a nonce is one `INSERT … ON CONFLICT DO
//! NOTHING` on the (key, nonce) primary key, so every replica sees every accepted nonce.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::connection::PostgresStore;
use super::events::append;
use super::keys::{KEY_COLS, insert_key, key_row};
use super::rows::col;
use super::tx::{Acting, Tx, begin, commit, exec, exec_unique, row, rows};
use crate::store::event::NewEvent;
use crate::store::signing_keys::MAX_LIVE_PUBLIC_KEYS;
use crate::store::{
    Conflict, KeyRecord, PublicKeyRecord, SigningKeyStore, StoreError, StoreResult,
};

const PK_COLS: &str = "key_id, fingerprint, public_key, added_at, retired_at";

fn pk_row(r: &Row) -> StoreResult<PublicKeyRecord> {
    let raw: Vec<u8> = col(r, 2, "public key")?;
    let public_key = <[u8; 32]>::try_from(raw.as_slice())
        .map_err(|_| StoreError::Other(anyhow::anyhow!("stored public key is not 32 bytes")))?;
    Ok(PublicKeyRecord {
        key_id: col(r, 0, "public key")?,
        fingerprint: col(r, 1, "public key")?,
        public_key,
        added_at: col(r, 3, "public key")?,
        retired_at: col(r, 4, "public key")?,
    })
}

async fn insert_pk(tx: &Tx<'_>, tenant_id: &str, pk: &PublicKeyRecord) -> StoreResult<()> {
    exec_unique(
        tx,
        "INSERT INTO agent_key_public_keys (tenant_id, key_id, fingerprint, public_key, added_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &tenant_id,
            &pk.key_id,
            &pk.fingerprint,
            &pk.public_key.as_slice(),
            &pk.added_at,
        ],
        Conflict::PublicKeyExists,
    )
    .await?;
    Ok(())
}

/// Lock the tenant's key row, then count its unretired public keys; `NotFound` when it has
/// none at all (unknown, or a `kha_` key).
async fn lock_and_count(tx: &Tx<'_>, tenant_id: &str, key_id: &str) -> StoreResult<usize> {
    row(
        tx,
        "SELECT 1 FROM agent_keys WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        &[&tenant_id, &key_id],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let counts = row(
        tx,
        "SELECT count(*), count(*) FILTER (WHERE retired_at IS NULL)
         FROM agent_key_public_keys WHERE tenant_id = $1 AND key_id = $2",
        &[&tenant_id, &key_id],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let (all, live): (i64, i64) = (col(&counts, 0, "count")?, col(&counts, 1, "count")?);
    if all == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(usize::try_from(live).unwrap_or(usize::MAX))
}

#[async_trait]
impl SigningKeyStore for PostgresStore {
    async fn create_signing_key(
        &self,
        key: KeyRecord,
        public_key: PublicKeyRecord,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&key.tenant_id)).await?;
        insert_key(&tx, &key, &format!("ed25519:{}", key.id)).await?;
        insert_pk(&tx, &key.tenant_id, &public_key).await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn signing_key_for_auth(
        &self,
        key_id: &str,
    ) -> StoreResult<Option<(KeyRecord, Vec<PublicKeyRecord>)>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Lookup(key_id)).await?;
        let found = row(
            &tx,
            &format!("SELECT {KEY_COLS} FROM agent_keys WHERE id = $1"),
            &[&key_id],
        )
        .await?;
        let Some(found) = found else {
            commit(tx).await?;
            return Ok(None);
        };
        let key = key_row(&found)?;
        let pks = rows(
            &tx,
            &format!(
                "SELECT {PK_COLS} FROM agent_key_public_keys
                 WHERE key_id = $1 ORDER BY added_at, fingerprint"
            ),
            &[&key_id],
        )
        .await?;
        commit(tx).await?;
        Ok(Some((
            key,
            pks.iter().map(pk_row).collect::<StoreResult<_>>()?,
        )))
    }

    async fn public_keys(
        &self,
        tenant_id: &str,
        key_ids: &[String],
    ) -> StoreResult<Vec<PublicKeyRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {PK_COLS} FROM agent_key_public_keys
                 WHERE tenant_id = $1 AND key_id = ANY($2)
                 ORDER BY key_id, added_at, fingerprint"
            ),
            &[&tenant_id, &key_ids],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(pk_row).collect()
    }

    async fn add_public_key(
        &self,
        tenant_id: &str,
        public_key: PublicKeyRecord,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        if lock_and_count(&tx, tenant_id, &public_key.key_id).await? >= MAX_LIVE_PUBLIC_KEYS {
            return Err(StoreError::Conflict(Conflict::PublicKeyLimit));
        }
        insert_pk(&tx, tenant_id, &public_key).await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn retire_public_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let live = lock_and_count(&tx, tenant_id, key_id).await;
        let found = row(
            &tx,
            "SELECT retired_at FROM agent_key_public_keys
             WHERE tenant_id = $1 AND key_id = $2 AND fingerprint = $3",
            &[&tenant_id, &key_id, &fingerprint],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
        let retired: Option<DateTime<Utc>> = col(&found, 0, "public key")?;
        if retired.is_some() {
            return Err(StoreError::Conflict(Conflict::PublicKeyRetired));
        }
        if live? <= 1 {
            return Err(StoreError::Conflict(Conflict::PublicKeyLast));
        }
        exec(
            &tx,
            "UPDATE agent_key_public_keys SET retired_at = $4
             WHERE tenant_id = $1 AND key_id = $2 AND fingerprint = $3",
            &[&tenant_id, &key_id, &fingerprint, &now],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn remember_nonce(
        &self,
        tenant_id: &str,
        key_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        exec(
            &tx,
            "DELETE FROM signature_nonces WHERE tenant_id = $1 AND expires_at <= $2",
            &[&tenant_id, &now],
        )
        .await?;
        let added = exec(
            &tx,
            "INSERT INTO signature_nonces (tenant_id, key_id, nonce, expires_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (key_id, nonce) DO NOTHING",
            &[&tenant_id, &key_id, &nonce, &expires_at],
        )
        .await?;
        commit(tx).await?;
        Ok(added == 1)
    }
}
