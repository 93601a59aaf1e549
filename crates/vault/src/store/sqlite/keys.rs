//! [`KeyStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use keyhold_core::scope::Scope;
use rusqlite::{OptionalExtension, params};

use super::connection::SqliteStore;
use super::errors::map_err;
use super::rows::{from_us, us};
use crate::store::event::NewEvent;
use crate::store::{KeyRecord, KeyStore, StoreError, StoreResult, TokenRecord};

pub(super) const KEY_COLS: &str =
    "k.id, k.tenant_id, k.owner_id, k.name, k.prefix, k.scopes, k.ip_allowlist,
    k.expires_at, k.created_at, k.last_used_at, k.last_used_ip, k.revoked_at,
    k.suspended_at";

/// How many columns `KEY_COLS` names: what a query selects after them starts here.
pub(super) const KEY_COUNT: usize = 13;

const TOKEN_COLS: &str = "t.id, t.tenant_id, t.key_id, t.scopes, t.ip_allowlist, t.expires_at,
    t.max_uses, t.uses, t.created_at, t.revoked_at";

fn bad_row(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("stored {what} is not valid").into(),
    )
}

fn scopes_col(text: &str) -> rusqlite::Result<Vec<Scope>> {
    serde_json::from_str(text).map_err(|_| bad_row("scopes"))
}

fn nets_col(text: &str) -> rusqlite::Result<Vec<IpNet>> {
    serde_json::from_str(text).map_err(|_| bad_row("ip allowlist"))
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(e.into()))
}

/// Reads the key columns starting at `o`.
pub(super) fn key_row(r: &rusqlite::Row<'_>, o: usize) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        id: r.get(o)?,
        tenant_id: r.get(o + 1)?,
        owner_id: r.get(o + 2)?,
        name: r.get(o + 3)?,
        prefix: r.get(o + 4)?,
        scopes: scopes_col(&r.get::<_, String>(o + 5)?)?,
        ip_allowlist: nets_col(&r.get::<_, String>(o + 6)?)?,
        expires_at: r.get::<_, Option<i64>>(o + 7)?.map(from_us),
        created_at: from_us(r.get(o + 8)?),
        last_used_at: r.get::<_, Option<i64>>(o + 9)?.map(from_us),
        last_used_ip: r.get(o + 10)?,
        revoked_at: r.get::<_, Option<i64>>(o + 11)?.map(from_us),
        suspended_at: r.get::<_, Option<i64>>(o + 12)?.map(from_us),
    })
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        key_id: r.get(2)?,
        scopes: scopes_col(&r.get::<_, String>(3)?)?,
        ip_allowlist: nets_col(&r.get::<_, String>(4)?)?,
        expires_at: from_us(r.get(5)?),
        max_uses: r.get(6)?,
        uses: r.get(7)?,
        created_at: from_us(r.get(8)?),
        revoked_at: r.get::<_, Option<i64>>(9)?.map(from_us),
    })
}

/// A new key's `agent_keys` row, for both kinds: a `kha_` key's keyed credential hash, or
/// for an Ed25519 key a marker (`ed25519:ID`) that no bearer credential can hash to.
pub(super) fn insert_key(
    tx: &rusqlite::Transaction<'_>,
    key: &KeyRecord,
    secret_hash: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO agent_keys (id, tenant_id, owner_id, name, prefix, secret_hash, scopes,
             ip_allowlist, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            key.id,
            key.tenant_id,
            key.owner_id,
            key.name,
            key.prefix,
            secret_hash,
            to_json(&key.scopes)?,
            to_json(&key.ip_allowlist)?,
            key.expires_at.map(us),
            us(key.created_at)
        ],
    )
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn create_key(
        &self,
        key: KeyRecord,
        secret_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(event, move |tx| insert_key(tx, &key, &secret_hash))
            .await
    }

    async fn key_for_auth(&self, key_id: &str) -> StoreResult<Option<(KeyRecord, String)>> {
        let id = key_id.to_owned();
        self.point_read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {KEY_COLS}, k.secret_hash FROM agent_keys k WHERE k.id = ?1"
            ))
            .and_then(|mut s| {
                s.query_row([id], |r| Ok((key_row(r, 0)?, r.get(KEY_COUNT)?)))
                    .optional()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn key(&self, tenant_id: &str, key_id: &str) -> StoreResult<Option<KeyRecord>> {
        let (t, id) = (tenant_id.to_owned(), key_id.to_owned());
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {KEY_COLS} FROM agent_keys k WHERE k.tenant_id = ?1 AND k.id = ?2"
            ))
            .and_then(|mut s| s.query_row([t, id], |r| key_row(r, 0)).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn list_keys(
        &self,
        tenant_id: &str,
        owner_id: Option<&str>,
        after_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<KeyRecord>> {
        let t = tenant_id.to_owned();
        let owner = owner_id.map(str::to_owned);
        let after = after_id.map(str::to_owned);
        self.run(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {KEY_COLS} FROM agent_keys k
                     WHERE k.tenant_id = ?1 AND (?2 IS NULL OR k.owner_id = ?2)
                       AND (?3 IS NULL OR k.id > ?3)
                     ORDER BY k.id ASC LIMIT ?4"
                ))
                .map_err(map_err)?;
            stmt.query_map(params![t, owner, after, i64::from(limit)], |r| {
                key_row(r, 0)
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(map_err)
        })
        .await
    }

    async fn touch_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        now: DateTime<Utc>,
        ip: Option<String>,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), key_id.to_owned());
        self.transact(move |c| {
            c.prepare_cached(
                "UPDATE agent_keys SET last_used_at = ?3, last_used_ip = ?4
                 WHERE tenant_id = ?1 AND id = ?2",
            )
            .and_then(|mut s| s.execute(params![t, id, us(now), ip]))
            .map_err(map_err)?;
            Ok(((), Vec::new()))
        })
        .await
    }

    async fn revoke_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), key_id.to_owned());
        self.write(event, move |tx| {
            let exists = tx
                .query_row(
                    "SELECT 1 FROM agent_keys WHERE tenant_id = ?1 AND id = ?2",
                    params![t, id],
                    |_| Ok(()),
                )
                .optional()
                .map_err(map_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "UPDATE agent_keys SET revoked_at = ?3
                 WHERE tenant_id = ?1 AND id = ?2 AND revoked_at IS NULL",
                params![t, id, us(now)],
            )
            .map_err(map_err)?;
            tx.execute(
                "UPDATE tokens SET revoked_at = ?3
                 WHERE tenant_id = ?1 AND key_id = ?2 AND revoked_at IS NULL",
                params![t, id, us(now)],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn create_token(
        &self,
        token: TokenRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        let scopes = to_json(&token.scopes)?;
        let nets = to_json(&token.ip_allowlist)?;
        self.write(event, move |tx| {
            tx.execute(
                "INSERT INTO tokens (id, tenant_id, key_id, token_hash, scopes, ip_allowlist,
                     expires_at, max_uses, uses, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9)",
                params![
                    token.id,
                    token.tenant_id,
                    token.key_id,
                    token_hash,
                    scopes,
                    nets,
                    us(token.expires_at),
                    token.max_uses,
                    us(token.created_at)
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn token_for_auth(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(TokenRecord, KeyRecord)>> {
        let h = token_hash.to_owned();
        self.point_read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {TOKEN_COLS}, {KEY_COLS} FROM tokens t
                 JOIN agent_keys k ON k.tenant_id = t.tenant_id AND k.id = t.key_id
                 WHERE t.token_hash = ?1"
            ))
            .and_then(|mut s| {
                s.query_row([h], |r| Ok((token_row(r)?, key_row(r, 10)?)))
                    .optional()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn token(&self, tenant_id: &str, token_id: &str) -> StoreResult<Option<TokenRecord>> {
        let (t, id) = (tenant_id.to_owned(), token_id.to_owned());
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {TOKEN_COLS} FROM tokens t WHERE t.tenant_id = ?1 AND t.id = ?2"
            ))
            .and_then(|mut s| s.query_row([t, id], token_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn use_token(
        &self,
        tenant_id: &str,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (t, id) = (tenant_id.to_owned(), token_id.to_owned());
        self.transact(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE tokens SET uses = uses + 1
                     WHERE tenant_id = ?1 AND id = ?2 AND revoked_at IS NULL AND expires_at > ?3
                       AND (max_uses IS NULL OR uses < max_uses)",
                )
                .and_then(|mut s| s.execute(params![t, id, us(now)]))
                .map_err(map_err)?;
            Ok((n == 1, Vec::new()))
        })
        .await
    }

    async fn revoke_token(
        &self,
        tenant_id: &str,
        token_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), token_id.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?3)
                     WHERE tenant_id = ?1 AND id = ?2",
                    params![t, id, us(now)],
                )
                .map_err(map_err)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }
}
