//! [`KeyStore`] on PostgreSQL: agent keys and the scoped tokens they issue.
//!
//! An agent presents its key (found by id) or a token (found by its keyed hash) before its
//! tenant is known: those reads act as a lookup and, for a token, then for the token's
//! tenant to read its key (SQLite's one join becomes two reads in one transaction).
//! Counting a token's uses is one conditional UPDATE: PostgreSQL re-checks its condition
//! on the row a parallel caller just changed, so `max_uses` holds across replicas.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::connection::PostgresStore;
use super::events::append;
use super::rows::{col, from_json, to_json, to_u32};
use super::tx::{Acting, Tx, act, begin, commit, exec, row, rows};
use crate::store::event::NewEvent;
use crate::store::{KeyRecord, KeyStore, StoreError, StoreResult, TokenRecord};

/// The key columns in the order [`key_row`] reads them; the address is `inet`, read back
/// as its text without a mask.
pub(super) const KEY_COLS: &str = "id, tenant_id, owner_id, name, prefix, scopes, ip_allowlist,
    expires_at, created_at, last_used_at, host(last_used_ip), revoked_at,
    suspended_at";

/// How many columns `KEY_COLS` names: what a query selects after them starts here.
pub(super) const KEY_COUNT: usize = 13;

const TOKEN_COLS: &str = "id, tenant_id, key_id, scopes, ip_allowlist, expires_at,
    max_uses, uses, created_at, revoked_at";

pub(super) fn key_row(r: &Row) -> StoreResult<KeyRecord> {
    Ok(KeyRecord {
        id: col(r, 0, "key")?,
        tenant_id: col(r, 1, "key")?,
        owner_id: col(r, 2, "key")?,
        name: col(r, 3, "key")?,
        prefix: col(r, 4, "key")?,
        scopes: from_json(col(r, 5, "key")?, "scopes")?,
        ip_allowlist: from_json(col(r, 6, "key")?, "ip allowlist")?,
        expires_at: col(r, 7, "key")?,
        created_at: col(r, 8, "key")?,
        last_used_at: col(r, 9, "key")?,
        last_used_ip: col(r, 10, "key")?,
        revoked_at: col(r, 11, "key")?,
        suspended_at: col(r, 12, "key")?,
    })
}

fn token_row(r: &Row) -> StoreResult<TokenRecord> {
    let max_uses: Option<i64> = col(r, 6, "token")?;
    Ok(TokenRecord {
        id: col(r, 0, "token")?,
        tenant_id: col(r, 1, "token")?,
        key_id: col(r, 2, "token")?,
        scopes: from_json(col(r, 3, "token")?, "scopes")?,
        ip_allowlist: from_json(col(r, 4, "token")?, "ip allowlist")?,
        expires_at: col(r, 5, "token")?,
        max_uses: max_uses.map(|m| to_u32(m, "token")).transpose()?,
        uses: to_u32(col(r, 7, "token")?, "token")?,
        created_at: col(r, 8, "token")?,
        revoked_at: col(r, 9, "token")?,
    })
}

/// A new key's `agent_keys` row, for both kinds: a `kha_` key's keyed credential hash, or
/// for an Ed25519 key a marker (`ed25519:ID`) that no bearer credential can hash to.
pub(super) async fn insert_key(tx: &Tx<'_>, key: &KeyRecord, secret_hash: &str) -> StoreResult<()> {
    let (scopes, nets) = (to_json(&key.scopes)?, to_json(&key.ip_allowlist)?);
    exec(
        tx,
        "INSERT INTO agent_keys (id, tenant_id, owner_id, name, prefix, secret_hash, scopes,
             ip_allowlist, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &key.id,
            &key.tenant_id,
            &key.owner_id,
            &key.name,
            &key.prefix,
            &secret_hash,
            &scopes,
            &nets,
            &key.expires_at,
            &key.created_at,
        ],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn create_key(
        &self,
        key: KeyRecord,
        secret_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&key.tenant_id)).await?;
        insert_key(&tx, &key, &secret_hash).await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn key_for_auth(&self, key_id: &str) -> StoreResult<Option<(KeyRecord, String)>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Lookup(key_id)).await?;
        let found = row(
            &tx,
            &format!("SELECT {KEY_COLS}, secret_hash FROM agent_keys WHERE id = $1"),
            &[&key_id],
        )
        .await?;
        commit(tx).await?;
        found
            .map(|r| Ok((key_row(&r)?, col(&r, KEY_COUNT, "key")?)))
            .transpose()
    }

    async fn key(&self, tenant_id: &str, key_id: &str) -> StoreResult<Option<KeyRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            &format!("SELECT {KEY_COLS} FROM agent_keys WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &key_id],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(key_row).transpose()
    }

    async fn list_keys(
        &self,
        tenant_id: &str,
        owner_id: Option<&str>,
        after_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<KeyRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {KEY_COLS} FROM agent_keys
                 WHERE tenant_id = $1 AND ($2::text IS NULL OR owner_id = $2)
                   AND ($3::text IS NULL OR id > $3)
                 ORDER BY id ASC LIMIT $4"
            ),
            &[&tenant_id, &owner_id, &after_id, &i64::from(limit)],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(key_row).collect()
    }

    async fn touch_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        now: DateTime<Utc>,
        ip: Option<String>,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        // Bound as text and cast, so that the parameter's type is text (a bare `$4::inet`
        // would make it inet, which a Rust string does not bind to).
        exec(
            &tx,
            "UPDATE agent_keys SET last_used_at = $3, last_used_ip = $4::text::inet
             WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &key_id, &now, &ip],
        )
        .await?;
        commit(tx).await
    }

    async fn revoke_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        // One UPDATE both tells whether the key exists and keeps the first revocation
        // time; it also locks the key's row until commit, so parallel revocations of
        // one key take turns.
        let n = exec(
            &tx,
            "UPDATE agent_keys SET revoked_at = COALESCE(revoked_at, $3)
             WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &key_id, &now],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        exec(
            &tx,
            "UPDATE tokens SET revoked_at = $3
             WHERE tenant_id = $1 AND key_id = $2 AND revoked_at IS NULL",
            &[&tenant_id, &key_id, &now],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn create_token(
        &self,
        token: TokenRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (scopes, nets) = (to_json(&token.scopes)?, to_json(&token.ip_allowlist)?);
        let max_uses = token.max_uses.map(i64::from);
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&token.tenant_id)).await?;
        exec(
            &tx,
            "INSERT INTO tokens (id, tenant_id, key_id, token_hash, scopes, ip_allowlist,
                 expires_at, max_uses, uses, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
            &[
                &token.id,
                &token.tenant_id,
                &token.key_id,
                &token_hash,
                &scopes,
                &nets,
                &token.expires_at,
                &max_uses,
                &token.created_at,
            ],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn token_for_auth(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(TokenRecord, KeyRecord)>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Lookup(token_hash)).await?;
        let found = row(
            &tx,
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE token_hash = $1"),
            &[&token_hash],
        )
        .await?;
        let Some(t) = found.as_ref().map(token_row).transpose()? else {
            commit(tx).await?;
            return Ok(None);
        };
        // The token names its tenant; its key is a row of that tenant (the foreign key
        // says so), read acting for it.
        act(&tx, Acting::Tenant(&t.tenant_id)).await?;
        let key = row(
            &tx,
            &format!("SELECT {KEY_COLS} FROM agent_keys WHERE tenant_id = $1 AND id = $2"),
            &[&t.tenant_id, &t.key_id],
        )
        .await?;
        commit(tx).await?;
        match key.as_ref().map(key_row).transpose()? {
            Some(k) => Ok(Some((t, k))),
            None => Ok(None),
        }
    }

    async fn token(&self, tenant_id: &str, token_id: &str) -> StoreResult<Option<TokenRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &token_id],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(token_row).transpose()
    }

    async fn use_token(
        &self,
        tenant_id: &str,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        // One statement, no read before it: a caller that finds the row locked by a
        // parallel use waits for it and then re-checks the condition on the row that use
        // left (READ COMMITTED's re-check), so no more than `max_uses` ever succeed, from
        // any number of replicas.
        let n = exec(
            &tx,
            "UPDATE tokens SET uses = uses + 1
             WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL AND expires_at > $3
               AND (max_uses IS NULL OR uses < max_uses)",
            &[&tenant_id, &token_id, &now],
        )
        .await?;
        commit(tx).await?;
        Ok(n == 1)
    }

    async fn revoke_token(
        &self,
        tenant_id: &str,
        token_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let n = exec(
            &tx,
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $3)
             WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &token_id, &now],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        append(&tx, &event).await?;
        commit(tx).await
    }
}
