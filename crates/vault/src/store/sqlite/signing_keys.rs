//! [`SigningKeyStore`] on SQLite: Ed25519 public keys of agent keys, and the nonces of
//! accepted signed requests. The live-key count and the nonce check each run inside one
//! write transaction, which the single writer serialises.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::connection::SqliteStore;
use super::errors::{is_unique_violation, map_err};
use super::keys::{KEY_COLS, insert_key, key_row, to_json};
use super::rows::{from_us, us};
use crate::store::event::NewEvent;
use crate::store::signing_keys::MAX_LIVE_PUBLIC_KEYS;
use crate::store::{
    Conflict, KeyRecord, PublicKeyRecord, SigningKeyStore, StoreError, StoreResult,
};

const PK_COLS: &str = "key_id, fingerprint, public_key, added_at, retired_at";

fn pk_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PublicKeyRecord> {
    let raw: Vec<u8> = r.get(2)?;
    let public_key = <[u8; 32]>::try_from(raw.as_slice()).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Blob,
            "stored public key is not 32 bytes".into(),
        )
    })?;
    Ok(PublicKeyRecord {
        key_id: r.get(0)?,
        fingerprint: r.get(1)?,
        public_key,
        added_at: from_us(r.get(3)?),
        retired_at: r.get::<_, Option<i64>>(4)?.map(from_us),
    })
}

fn insert_pk(tx: &Transaction<'_>, tenant_id: &str, pk: &PublicKeyRecord) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO agent_key_public_keys (tenant_id, key_id, fingerprint, public_key, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            tenant_id,
            pk.key_id,
            pk.fingerprint,
            pk.public_key.to_vec(),
            us(pk.added_at)
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(Conflict::PublicKeyExists)
        } else {
            map_err(e)
        }
    })?;
    Ok(())
}

/// The unretired public keys of the tenant's key, counted in `tx`; `NotFound` when the key
/// has no public key at all (unknown, or a `kha_` key).
fn live_count(tx: &Transaction<'_>, tenant_id: &str, key_id: &str) -> StoreResult<usize> {
    let (all, live): (i64, i64) = tx
        .query_row(
            "SELECT count(*), count(*) FILTER (WHERE retired_at IS NULL)
             FROM agent_key_public_keys WHERE tenant_id = ?1 AND key_id = ?2",
            params![tenant_id, key_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(map_err)?;
    if all == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(usize::try_from(live).unwrap_or(usize::MAX))
}

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn create_signing_key(
        &self,
        key: KeyRecord,
        public_key: PublicKeyRecord,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(event, move |tx| {
            insert_key(tx, &key, &format!("ed25519:{}", key.id))?;
            insert_pk(tx, &key.tenant_id, &public_key)
        })
        .await
    }

    async fn signing_key_for_auth(
        &self,
        key_id: &str,
    ) -> StoreResult<Option<(KeyRecord, Vec<PublicKeyRecord>)>> {
        let id = key_id.to_owned();
        self.point_read(move |c| {
            let key = c
                .prepare_cached(&format!(
                    "SELECT {KEY_COLS} FROM agent_keys k WHERE k.id = ?1"
                ))
                .and_then(|mut s| s.query_row([&id], |r| key_row(r, 0)).optional())
                .map_err(map_err)?;
            let Some(key) = key else { return Ok(None) };
            let pks = c
                .prepare_cached(&format!(
                    "SELECT {PK_COLS} FROM agent_key_public_keys
                     WHERE tenant_id = ?1 AND key_id = ?2 ORDER BY added_at, fingerprint"
                ))
                .and_then(|mut s| {
                    s.query_map([&key.tenant_id, &id], pk_row)?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(map_err)?;
            Ok(Some((key, pks)))
        })
        .await
    }

    async fn public_keys(
        &self,
        tenant_id: &str,
        key_ids: &[String],
    ) -> StoreResult<Vec<PublicKeyRecord>> {
        let t = tenant_id.to_owned();
        let ids = to_json(&key_ids)?;
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {PK_COLS} FROM agent_key_public_keys
                 WHERE tenant_id = ?1 AND key_id IN (SELECT value FROM json_each(?2))
                 ORDER BY key_id, added_at, fingerprint"
            ))
            .and_then(|mut s| {
                s.query_map(params![t, ids], pk_row)?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn add_public_key(
        &self,
        tenant_id: &str,
        public_key: PublicKeyRecord,
        event: NewEvent,
    ) -> StoreResult<()> {
        let t = tenant_id.to_owned();
        self.write(event, move |tx| {
            if live_count(tx, &t, &public_key.key_id)? >= MAX_LIVE_PUBLIC_KEYS {
                return Err(StoreError::Conflict(Conflict::PublicKeyLimit));
            }
            insert_pk(tx, &t, &public_key)
        })
        .await
    }

    async fn retire_public_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id, fp) = (
            tenant_id.to_owned(),
            key_id.to_owned(),
            fingerprint.to_owned(),
        );
        self.write(event, move |tx| {
            let retired: Option<Option<i64>> = tx
                .query_row(
                    "SELECT retired_at FROM agent_key_public_keys
                     WHERE tenant_id = ?1 AND key_id = ?2 AND fingerprint = ?3",
                    params![t, id, fp],
                    |r| r.get(0),
                )
                .optional()
                .map_err(map_err)?;
            match retired {
                None => return Err(StoreError::NotFound),
                Some(Some(_)) => return Err(StoreError::Conflict(Conflict::PublicKeyRetired)),
                Some(None) => {}
            }
            if live_count(tx, &t, &id)? <= 1 {
                return Err(StoreError::Conflict(Conflict::PublicKeyLast));
            }
            tx.execute(
                "UPDATE agent_key_public_keys SET retired_at = ?4
                 WHERE tenant_id = ?1 AND key_id = ?2 AND fingerprint = ?3",
                params![t, id, fp, us(now)],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn remember_nonce(
        &self,
        tenant_id: &str,
        key_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (t, id, n) = (tenant_id.to_owned(), key_id.to_owned(), nonce.to_owned());
        self.transact(move |tx| {
            tx.prepare_cached(
                "DELETE FROM signature_nonces WHERE tenant_id = ?1 AND expires_at <= ?2",
            )
            .and_then(|mut s| s.execute(params![t, us(now)]))
            .map_err(map_err)?;
            let added = tx
                .prepare_cached(
                    "INSERT INTO signature_nonces (tenant_id, key_id, nonce, expires_at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                )
                .and_then(|mut s| s.execute(params![t, id, n, us(expires_at)]))
                .map_err(map_err)?;
            Ok((added == 1, Vec::new()))
        })
        .await
    }
}
