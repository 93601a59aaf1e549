//! [`SessionStore`] on SQLite, and the insert of a session that the second factor of a
//! sign-in also makes inside its own transaction (`mfa_attempt`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::connection::SqliteStore;
use super::errors::map_err;
use super::rows::{from_us, us};
use crate::store::event::NewEvent;
use crate::store::{SessionRecord, SessionStore, StoreResult};

const SESSION_COLS: &str =
    "id, tenant_id, user_id, created_at, last_seen_at, expires_at, authenticated_at";

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        user_id: r.get(2)?,
        created_at: from_us(r.get(3)?),
        last_seen_at: from_us(r.get(4)?),
        expires_at: from_us(r.get(5)?),
        authenticated_at: from_us(r.get(6)?),
    })
}

/// Insert a new session (sign-in, or the 2FA step of one) inside a write transaction.
pub(crate) fn insert_session(
    tx: &Transaction<'_>,
    s: &SessionRecord,
    token_hash: &str,
) -> StoreResult<()> {
    tx.execute(
        &format!(
            "INSERT INTO sessions ({SESSION_COLS}, token_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ),
        params![
            s.id,
            s.tenant_id,
            s.user_id,
            us(s.created_at),
            us(s.last_seen_at),
            us(s.expires_at),
            us(s.authenticated_at),
            token_hash
        ],
    )
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        s: SessionRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(event, move |tx| insert_session(tx, &s, &token_hash))
            .await
    }

    async fn session_by_hash(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let h = token_hash.to_owned();
        self.point_read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE token_hash = ?1"
            ))
            .and_then(|mut s| s.query_row([h], session_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn session(
        &self,
        tenant_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SessionRecord>> {
        let (t, id) = (tenant_id.to_owned(), session_id.to_owned());
        self.point_read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE tenant_id = ?1 AND id = ?2"
            ))
            .and_then(|mut s| s.query_row([t, id], session_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn touch_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), session_id.to_owned());
        self.transact(move |c| {
            c.prepare_cached(
                "UPDATE sessions SET last_seen_at = ?3 WHERE tenant_id = ?1 AND id = ?2",
            )
            .and_then(|mut s| s.execute(params![t, id, us(now)]))
            .map_err(map_err)?;
            Ok(((), Vec::new()))
        })
        .await
    }

    async fn delete_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), session_id.to_owned());
        self.write(event, move |tx| {
            tx.execute(
                "DELETE FROM sessions WHERE tenant_id = ?1 AND id = ?2",
                params![t, id],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn sessions_of(
        &self,
        tenant_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.run(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {SESSION_COLS} FROM sessions
                     WHERE tenant_id = ?1 AND user_id = ?2 AND expires_at > ?3
                     ORDER BY created_at DESC, id"
                ))
                .map_err(map_err)?;
            st.query_map(params![t, u, us(now)], session_row)
                .and_then(Iterator::collect)
                .map_err(map_err)
        })
        .await
    }

    async fn delete_other_sessions(
        &self,
        tenant_id: &str,
        user_id: &str,
        keep: &str,
        event: NewEvent,
    ) -> StoreResult<u64> {
        let (t, u, k) = (tenant_id.to_owned(), user_id.to_owned(), keep.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "DELETE FROM sessions WHERE tenant_id = ?1 AND user_id = ?2 AND id <> ?3",
                    params![t, u, k],
                )
                .map_err(map_err)?;
            Ok(n as u64)
        })
        .await
    }
}
