//! [`RecoveryStore`] on SQLite: password-reset links and turning a person's 2FA off for
//! them. The statements that also run after a proved second factor
//! (`MfaEffect::ResetPassword`, `MfaEffect::ResetMember`) are [`reset_password_in`] and
//! [`reset_mfa_in`], applied for `mfa_attempt` by [`apply_effect`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::connection::SqliteStore;
use super::errors::map_err;
use super::rows::us;
use crate::store::event::NewEvent;
use crate::store::mfa::MfaEffect;
use crate::store::recovery::{RESET_PASSWORD, RecoveryStore};
use crate::store::{Conflict, EmailTokenRecord, StoreError, StoreResult};

/// Spend the reset token, set the password, void the user's other reset links, end every
/// session and sign-in ticket. `LinkUsed` when the token is not open any more.
fn reset_password_in(
    tx: &Transaction<'_>,
    token: &EmailTokenRecord,
    password_hash: &str,
    zxcvbn: u8,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (t, u) = (token.tenant_id.as_str(), token.user_id.as_str());
    let n = tx
        .execute(
            "UPDATE email_tokens SET used_at = ?4
             WHERE tenant_id = ?1 AND id = ?2 AND user_id = ?3 AND purpose = ?5
               AND used_at IS NULL AND expires_at > ?4",
            params![t, token.id, u, us(now), RESET_PASSWORD],
        )
        .map_err(map_err)?;
    if n != 1 {
        return Err(StoreError::Conflict(Conflict::LinkUsed));
    }
    let n = tx
        .execute(
            "UPDATE users SET password_hash = ?3, password_zxcvbn = ?4
             WHERE tenant_id = ?1 AND id = ?2 AND removed_at IS NULL",
            params![t, u, password_hash, zxcvbn],
        )
        .map_err(map_err)?;
    if n != 1 {
        return Err(StoreError::NotFound);
    }
    tx.execute(
        "UPDATE email_tokens SET used_at = ?3
         WHERE tenant_id = ?1 AND user_id = ?2 AND purpose = ?4 AND used_at IS NULL",
        params![t, u, us(now), RESET_PASSWORD],
    )
    .map_err(map_err)?;
    end_sessions(tx, t, u)
}

/// Every session and open sign-in ticket of the user ends: whoever held one proved
/// something (the old password, the old second factor) that no longer stands.
fn end_sessions(tx: &Transaction<'_>, t: &str, u: &str) -> StoreResult<()> {
    for sql in [
        "DELETE FROM sessions WHERE tenant_id = ?1 AND user_id = ?2",
        "DELETE FROM mfa_tickets WHERE tenant_id = ?1 AND user_id = ?2",
    ] {
        tx.execute(sql, params![t, u]).map_err(map_err)?;
    }
    Ok(())
}

/// Turn the user's 2FA off (enrollment, backup codes, wrong-code count and lock gone) and
/// end their sessions. `NotFound` when the user is not a member of the tenant.
fn reset_mfa_in(tx: &Transaction<'_>, t: &str, u: &str) -> StoreResult<()> {
    let n = tx
        .execute(
            "UPDATE users SET mfa_enabled = 0, mfa_locked_until = NULL
             WHERE tenant_id = ?1 AND id = ?2 AND removed_at IS NULL",
            params![t, u],
        )
        .map_err(map_err)?;
    if n != 1 {
        return Err(StoreError::NotFound);
    }
    for sql in [
        "DELETE FROM mfa_totp WHERE tenant_id = ?1 AND user_id = ?2",
        "DELETE FROM mfa_backup_codes WHERE tenant_id = ?1 AND user_id = ?2",
        "DELETE FROM mfa_failures WHERE tenant_id = ?1 AND user_id = ?2",
    ] {
        tx.execute(sql, params![t, u]).map_err(map_err)?;
    }
    end_sessions(tx, t, u)
}

/// The recovery effects of a proved second factor (`user` `u` proved it, in tenant `t`):
/// the reset link must be `u`'s own, and a member reset someone else's 2FA.
pub(super) fn apply_effect(
    tx: &Transaction<'_>,
    t: &str,
    u: &str,
    effect: MfaEffect,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    match effect {
        MfaEffect::ResetPassword {
            token,
            password_hash,
            zxcvbn,
        } => {
            if token.tenant_id != t || token.user_id != u {
                return Err(StoreError::Conflict(Conflict::LinkUsed));
            }
            reset_password_in(tx, &token, &password_hash, zxcvbn, now)
        }
        MfaEffect::ResetMember { user_id } if user_id != u => reset_mfa_in(tx, t, &user_id),
        other => Err(StoreError::Other(anyhow::anyhow!(
            "{other:?} is not a recovery effect (or resets the prover's own 2FA)"
        ))),
    }
}

#[async_trait]
impl RecoveryStore for SqliteStore {
    async fn create_password_reset(
        &self,
        token: EmailTokenRecord,
        token_hash: String,
        open_after: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        // One writer runs jobs in turn: the check and the insert cannot interleave with
        // another request's.
        self.write(event, move |tx| {
            let open: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM email_tokens
                     WHERE tenant_id = ?1 AND user_id = ?2 AND purpose = ?3
                       AND used_at IS NULL AND expires_at > ?4",
                    params![
                        token.tenant_id,
                        token.user_id,
                        RESET_PASSWORD,
                        us(open_after)
                    ],
                    |r| r.get(0),
                )
                .map_err(map_err)?;
            if open > 0 {
                return Err(StoreError::Conflict(Conflict::ResetRecentlySent));
            }
            tx.execute(
                "INSERT INTO email_tokens (id, tenant_id, user_id, purpose, token_hash, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    token.id,
                    token.tenant_id,
                    token.user_id,
                    RESET_PASSWORD,
                    token_hash,
                    us(token.expires_at)
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn reset_password(
        &self,
        token: &EmailTokenRecord,
        password_hash: String,
        zxcvbn: u8,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let token = token.clone();
        self.write(event, move |tx| {
            reset_password_in(tx, &token, &password_hash, zxcvbn, now)
        })
        .await
    }

    async fn reset_mfa(&self, tenant_id: &str, user_id: &str, event: NewEvent) -> StoreResult<()> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.write(event, move |tx| reset_mfa_in(tx, &t, &u)).await
    }
}
