//! [`RecoveryStore`] on PostgreSQL: password-reset links and turning a person's 2FA off
//! for them. The statements that also run after a proved second factor
//! (`MfaEffect::ResetPassword`, `MfaEffect::ResetMember`) are [`reset_password_in`] and
//! [`reset_mfa_in`], applied for `mfa_attempt` by [`apply_effect`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::connection::PostgresStore;
use super::events::append;
use super::mfa::lock_user;
use super::rows::col;
use super::tx::{Acting, Tx, begin, commit, exec, row};
use crate::store::event::NewEvent;
use crate::store::mfa::MfaEffect;
use crate::store::recovery::{RESET_PASSWORD, RecoveryStore};
use crate::store::{Conflict, EmailTokenRecord, StoreError, StoreResult};

/// Spend the reset token, set the password, void the user's other reset links, end every
/// session and sign-in ticket. `LinkUsed` when the token is not open any more.
async fn reset_password_in(
    tx: &Tx<'_>,
    token: &EmailTokenRecord,
    password_hash: &str,
    zxcvbn: u8,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (t, u) = (token.tenant_id.as_str(), token.user_id.as_str());
    let n = exec(
        tx,
        "UPDATE email_tokens SET used_at = $4
         WHERE tenant_id = $1 AND id = $2 AND user_id = $3 AND purpose = $5
           AND used_at IS NULL AND expires_at > $4",
        &[&t, &token.id, &u, &now, &RESET_PASSWORD],
    )
    .await?;
    if n != 1 {
        return Err(StoreError::Conflict(Conflict::LinkUsed));
    }
    let n = exec(
        tx,
        "UPDATE users SET password_hash = $3, password_zxcvbn = $4
         WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL",
        &[&t, &u, &password_hash, &i16::from(zxcvbn)],
    )
    .await?;
    if n != 1 {
        return Err(StoreError::NotFound);
    }
    exec(
        tx,
        "UPDATE email_tokens SET used_at = $3
         WHERE tenant_id = $1 AND user_id = $2 AND purpose = $4 AND used_at IS NULL",
        &[&t, &u, &now, &RESET_PASSWORD],
    )
    .await?;
    end_sessions(tx, t, u).await
}

/// Every session and open sign-in ticket of the user ends: whoever held one proved
/// something (the old password, the old second factor) that no longer stands.
async fn end_sessions(tx: &Tx<'_>, t: &str, u: &str) -> StoreResult<()> {
    for sql in [
        "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM mfa_tickets WHERE tenant_id = $1 AND user_id = $2",
    ] {
        exec(tx, sql, &[&t, &u]).await?;
    }
    Ok(())
}

/// Turn the user's 2FA off (enrollment, backup codes, wrong-code count and lock gone) and
/// end their sessions. `NotFound` when the user is not a member of the tenant.
async fn reset_mfa_in(tx: &Tx<'_>, t: &str, u: &str) -> StoreResult<()> {
    let n = exec(
        tx,
        "UPDATE users SET mfa_enabled = false, mfa_locked_until = NULL
         WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL",
        &[&t, &u],
    )
    .await?;
    if n != 1 {
        return Err(StoreError::NotFound);
    }
    for sql in [
        "DELETE FROM mfa_totp WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM mfa_backup_codes WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM mfa_failures WHERE tenant_id = $1 AND user_id = $2",
    ] {
        exec(tx, sql, &[&t, &u]).await?;
    }
    end_sessions(tx, t, u).await
}

/// The recovery effects of a proved second factor (`user` `u` proved it, in tenant `t`):
/// the reset link must be `u`'s own, and a member reset someone else's 2FA.
pub(super) async fn apply_effect(
    tx: &Tx<'_>,
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
            reset_password_in(tx, &token, &password_hash, zxcvbn, now).await
        }
        MfaEffect::ResetMember { user_id } if user_id != u => reset_mfa_in(tx, t, &user_id).await,
        other => Err(StoreError::Other(anyhow::anyhow!(
            "{other:?} is not a recovery effect (or resets the prover's own 2FA)"
        ))),
    }
}

#[async_trait]
impl RecoveryStore for PostgresStore {
    async fn create_password_reset(
        &self,
        token: EmailTokenRecord,
        token_hash: String,
        open_after: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&token.tenant_id)).await?;
        // The user's row lock orders parallel requests (across replicas too): the second
        // sees the first's link and stores none.
        lock_user(&tx, &token.tenant_id, &token.user_id).await?;
        let open = row(
            &tx,
            "SELECT count(*) FROM email_tokens
             WHERE tenant_id = $1 AND user_id = $2 AND purpose = $3
               AND used_at IS NULL AND expires_at > $4",
            &[
                &token.tenant_id,
                &token.user_id,
                &RESET_PASSWORD,
                &open_after,
            ],
        )
        .await?;
        let open: i64 = match open {
            Some(r) => col(&r, 0, "reset count")?,
            None => 0,
        };
        if open > 0 {
            return Err(StoreError::Conflict(Conflict::ResetRecentlySent));
        }
        exec(
            &tx,
            "INSERT INTO email_tokens (id, tenant_id, user_id, purpose, token_hash, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &token.id,
                &token.tenant_id,
                &token.user_id,
                &RESET_PASSWORD,
                &token_hash,
                &token.expires_at,
            ],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn reset_password(
        &self,
        token: &EmailTokenRecord,
        password_hash: String,
        zxcvbn: u8,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&token.tenant_id)).await?;
        reset_password_in(&tx, token, &password_hash, zxcvbn, now).await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn reset_mfa(&self, tenant_id: &str, user_id: &str, event: NewEvent) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        lock_user(&tx, tenant_id, user_id).await?;
        reset_mfa_in(&tx, tenant_id, user_id).await?;
        append(&tx, &event).await?;
        commit(tx).await
    }
}
