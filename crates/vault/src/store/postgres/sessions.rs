//! [`SessionStore`] on PostgreSQL, and the insert of a session that the second factor of a
//! sign-in also makes inside its own transaction (`mfa`).

use super::tx::Tx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::connection::PostgresStore;
use super::events::append;
use super::rows::col;
use super::tx::{Acting, begin, commit, exec, row, rows};
use crate::store::event::NewEvent;
use crate::store::{SessionRecord, SessionStore, StoreResult};

const SESSION_COLS: &str =
    "id, tenant_id, user_id, created_at, last_seen_at, expires_at, authenticated_at";

fn session_row(r: &Row) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        id: col(r, 0, "session")?,
        tenant_id: col(r, 1, "session")?,
        user_id: col(r, 2, "session")?,
        created_at: col(r, 3, "session")?,
        last_seen_at: col(r, 4, "session")?,
        expires_at: col(r, 5, "session")?,
        authenticated_at: col(r, 6, "session")?,
    })
}

/// Insert a new session (sign-in, or the 2FA step of one) in a transaction acting for its
/// tenant.
pub(crate) async fn insert_session(
    tx: &Tx<'_>,
    s: &SessionRecord,
    token_hash: &str,
) -> StoreResult<()> {
    exec(
        tx,
        &format!(
            "INSERT INTO sessions ({SESSION_COLS}, token_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ),
        &[
            &s.id,
            &s.tenant_id,
            &s.user_id,
            &s.created_at,
            &s.last_seen_at,
            &s.expires_at,
            &s.authenticated_at,
            &token_hash,
        ],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn create_session(
        &self,
        s: SessionRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&s.tenant_id)).await?;
        insert_session(&tx, &s, &token_hash).await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn session_by_hash(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Lookup(token_hash)).await?;
        let found = row(
            &tx,
            &format!("SELECT {SESSION_COLS} FROM sessions WHERE token_hash = $1"),
            &[&token_hash],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(session_row).transpose()
    }

    async fn session(
        &self,
        tenant_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SessionRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            &format!("SELECT {SESSION_COLS} FROM sessions WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &session_id],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(session_row).transpose()
    }

    async fn touch_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        exec(
            &tx,
            "UPDATE sessions SET last_seen_at = $3 WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &session_id, &now],
        )
        .await?;
        commit(tx).await
    }

    async fn delete_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        exec(
            &tx,
            "DELETE FROM sessions WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &session_id],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn sessions_of(
        &self,
        tenant_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {SESSION_COLS} FROM sessions
                 WHERE tenant_id = $1 AND user_id = $2 AND expires_at > $3
                 ORDER BY created_at DESC, id"
            ),
            &[&tenant_id, &user_id, &now],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(session_row).collect()
    }

    async fn delete_other_sessions(
        &self,
        tenant_id: &str,
        user_id: &str,
        keep: &str,
        event: NewEvent,
    ) -> StoreResult<u64> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let n = exec(
            &tx,
            "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $3",
            &[&tenant_id, &user_id, &keep],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await?;
        Ok(n)
    }
}
