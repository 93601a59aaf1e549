//! [`AccountStore`] on PostgreSQL: tenants, users, passwords and email verification.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::connection::PostgresStore;
use super::events::append;
use super::rows::{USER_COLS, col, insert_user, user_row};
use super::tx::{Acting, begin, commit, exec, row};
use crate::store::event::NewEvent;
use crate::store::{
    AccountStore, Conflict, EmailTokenRecord, StoreError, StoreResult, TenantRecord, UserRecord,
};

#[async_trait]
impl AccountStore for PostgresStore {
    async fn create_account(
        &self,
        tenant: TenantRecord,
        user: UserRecord,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&tenant.id)).await?;
        exec(
            &tx,
            "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
            &[&tenant.id, &tenant.name, &tenant.created_at],
        )
        .await?;
        insert_user(&tx, &user).await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Lookup(email)).await?;
        let found = row(
            &tx,
            &format!("SELECT {USER_COLS} FROM users WHERE email = $1 AND removed_at IS NULL"),
            &[&email],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(user_row).transpose()
    }

    async fn user(&self, tenant_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            &format!(
                "SELECT {USER_COLS} FROM users
                 WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL"
            ),
            &[&tenant_id, &user_id],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(user_row).transpose()
    }

    async fn tenant(&self, tenant_id: &str) -> StoreResult<Option<TenantRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            "SELECT id, name, created_at FROM tenants WHERE id = $1",
            &[&tenant_id],
        )
        .await?;
        commit(tx).await?;
        found
            .map(|r| {
                Ok(TenantRecord {
                    id: col(&r, 0, "tenant")?,
                    name: col(&r, 1, "tenant")?,
                    created_at: col(&r, 2, "tenant")?,
                })
            })
            .transpose()
    }

    async fn set_password(
        &self,
        tenant_id: &str,
        user_id: &str,
        password_hash: String,
        zxcvbn: u8,
        keep_session: Option<&str>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let n = exec(
            &tx,
            "UPDATE users SET password_hash = $3, password_zxcvbn = $4
             WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &user_id, &password_hash, &i16::from(zxcvbn)],
        )
        .await?;
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        exec(
            &tx,
            "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2
             AND ($3::text IS NULL OR id <> $3)",
            &[&tenant_id, &user_id, &keep_session],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn create_email_token(
        &self,
        token: EmailTokenRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&token.tenant_id)).await?;
        exec(
            &tx,
            "INSERT INTO email_tokens (id, tenant_id, user_id, purpose, token_hash, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &token.id,
                &token.tenant_id,
                &token.user_id,
                &token.purpose,
                &token_hash,
                &token.expires_at,
            ],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn email_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<EmailTokenRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Lookup(token_hash)).await?;
        let found = row(
            &tx,
            "SELECT id, tenant_id, user_id, purpose, expires_at, used_at
             FROM email_tokens WHERE token_hash = $1",
            &[&token_hash],
        )
        .await?;
        commit(tx).await?;
        found
            .map(|r| {
                Ok(EmailTokenRecord {
                    id: col(&r, 0, "email token")?,
                    tenant_id: col(&r, 1, "email token")?,
                    user_id: col(&r, 2, "email token")?,
                    purpose: col(&r, 3, "email token")?,
                    expires_at: col(&r, 4, "email token")?,
                    used_at: col(&r, 5, "email token")?,
                })
            })
            .transpose()
    }

    async fn consume_email_verification(
        &self,
        token: &EmailTokenRecord,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&token.tenant_id)).await?;
        let n = exec(
            &tx,
            "UPDATE email_tokens SET used_at = $3
             WHERE tenant_id = $1 AND id = $2 AND used_at IS NULL",
            &[&token.tenant_id, &token.id, &now],
        )
        .await?;
        if n != 1 {
            return Err(StoreError::Conflict(Conflict::LinkUsed));
        }
        exec(
            &tx,
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3)
             WHERE tenant_id = $1 AND id = $2",
            &[&token.tenant_id, &token.user_id, &now],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }
}
