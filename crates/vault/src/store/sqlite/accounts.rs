//! [`AccountStore`] on SQLite: tenants, users, passwords and email verification.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::connection::SqliteStore;
use super::errors::{is_unique_violation, map_err};
use super::rows::{USER_COLS, from_us, us, user_row};
use crate::store::event::NewEvent;
use crate::store::{
    AccountStore, Conflict, EmailTokenRecord, StoreError, StoreResult, TenantRecord, UserRecord,
};

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(
        &self,
        tenant: TenantRecord,
        user: UserRecord,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(event, move |tx| {
            tx.execute(
                "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO NOTHING",
                params![tenant.id, tenant.name, us(tenant.created_at)],
            )
            .map_err(map_err)?;
            tx.execute(
                &format!("INSERT INTO users ({USER_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
                params![
                    user.id,
                    user.tenant_id,
                    user.email,
                    user.display_name,
                    user.password_hash,
                    user.password_zxcvbn,
                    user.email_verified_at.map(us),
                    user.mfa_enabled,
                    user.role.as_str(),
                    us(user.created_at)
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(Conflict::EmailTaken)
                } else {
                    map_err(e)
                }
            })?;
            Ok(())
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let email = email.to_owned();
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {USER_COLS} FROM users WHERE email = ?1 AND removed_at IS NULL"
            ))
            .and_then(|mut s| s.query_row([email], user_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn user(&self, tenant_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.point_read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {USER_COLS} FROM users WHERE tenant_id = ?1 AND id = ?2 AND removed_at IS NULL"
            ))
            .and_then(|mut s| s.query_row([t, u], user_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn tenant(&self, tenant_id: &str) -> StoreResult<Option<TenantRecord>> {
        let t = tenant_id.to_owned();
        self.run(move |c| {
            c.prepare_cached("SELECT id, name, created_at FROM tenants WHERE id = ?1")
                .and_then(|mut s| {
                    s.query_row([t], |r| {
                        Ok(TenantRecord {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            created_at: from_us(r.get(2)?),
                        })
                    })
                    .optional()
                })
                .map_err(map_err)
        })
        .await
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
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        let keep = keep_session.map(str::to_owned);
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE users SET password_hash = ?3, password_zxcvbn = ?4
                     WHERE tenant_id = ?1 AND id = ?2",
                    params![t, u, password_hash, zxcvbn],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "DELETE FROM sessions WHERE tenant_id = ?1 AND user_id = ?2
                 AND (?3 IS NULL OR id <> ?3)",
                params![t, u, keep],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn create_email_token(
        &self,
        token: EmailTokenRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(event, move |tx| {
            tx.execute(
                "INSERT INTO email_tokens (id, tenant_id, user_id, purpose, token_hash, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    token.id,
                    token.tenant_id,
                    token.user_id,
                    token.purpose,
                    token_hash,
                    us(token.expires_at)
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn email_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<EmailTokenRecord>> {
        let h = token_hash.to_owned();
        self.run(move |c| {
            c.prepare_cached(
                "SELECT id, tenant_id, user_id, purpose, expires_at, used_at
                 FROM email_tokens WHERE token_hash = ?1",
            )
            .and_then(|mut s| {
                s.query_row([h], |r| {
                    Ok(EmailTokenRecord {
                        id: r.get(0)?,
                        tenant_id: r.get(1)?,
                        user_id: r.get(2)?,
                        purpose: r.get(3)?,
                        expires_at: from_us(r.get(4)?),
                        used_at: r.get::<_, Option<i64>>(5)?.map(from_us),
                    })
                })
                .optional()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn consume_email_verification(
        &self,
        token: &EmailTokenRecord,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let token = token.clone();
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE email_tokens SET used_at = ?3
                     WHERE tenant_id = ?1 AND id = ?2 AND used_at IS NULL",
                    params![token.tenant_id, token.id, us(now)],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::Conflict(Conflict::LinkUsed));
            }
            tx.execute(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?3)
                 WHERE tenant_id = ?1 AND id = ?2",
                params![token.tenant_id, token.user_id, us(now)],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }
}
