//! One second-factor attempt in PostgreSQL ([`attempt_in`]): the lock check, the ticket's
//! attempt, the code's check against the stored replay guard, and then either its spend
//! and effect or the failure count and lock, all in the caller's transaction.
//!
//! Why it holds under parallel attempts from several replicas: the first statement locks
//! the user's row (`mfa::lock_user`), so one user's attempts run one after another, and in
//! READ COMMITTED every later statement of a turn sees all that the turns before it
//! committed. Parallel wrong codes therefore each count the failures before them and
//! cannot outrun the lock (issue 15, item 5), and one code offered twice is spent once.
//! The spends are conditional UPDATEs besides, so they stay exactly-once even for a row
//! the lock does not cover.

use super::tx::Tx;
use chrono::{DateTime, Utc};

use super::mfa::{lock_user, step_from_sql};
use super::rows::col;
use super::tx::{exec, row};
use crate::store::event::NewEvent;
use crate::store::mfa::{AttemptOutcome, LockoutPolicy, MfaEffect, Proof, SecondFactorAttempt};
use crate::store::{Conflict, SessionRecord, StoreError, StoreResult};

fn step_to_sql(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

/// Replace the user's backup-code hashes with `hashes`, in one statement.
async fn insert_backup_codes(
    tx: &Tx<'_>,
    tenant_id: &str,
    user_id: &str,
    hashes: &[String],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    exec(
        tx,
        "DELETE FROM mfa_backup_codes WHERE tenant_id = $1 AND user_id = $2",
        &[&tenant_id, &user_id],
    )
    .await?;
    exec(
        tx,
        "INSERT INTO mfa_backup_codes (tenant_id, user_id, code_hash, created_at)
         SELECT $1, $2, h, $4 FROM unnest($3::text[]) WITH ORDINALITY AS c(h, n) ORDER BY n",
        &[&tenant_id, &user_id, &hashes, &now],
    )
    .await?;
    Ok(())
}

async fn set_mfa_enabled(tx: &Tx<'_>, tenant_id: &str, user_id: &str, on: bool) -> StoreResult<()> {
    let n = exec(
        tx,
        "UPDATE users SET mfa_enabled = $3 WHERE tenant_id = $1 AND id = $2",
        &[&tenant_id, &user_id, &on],
    )
    .await?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Count one attempt on a live ticket; `false` when it is used, expired or has had
/// `max_attempts` already.
async fn reserve_ticket_attempt(
    tx: &Tx<'_>,
    t: &str,
    ticket_id: &str,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = exec(
        tx,
        "UPDATE mfa_tickets SET attempts = attempts + 1
         WHERE tenant_id = $1 AND id = $2 AND used_at IS NULL
           AND expires_at > $3 AND attempts < $4",
        &[&t, &ticket_id, &now, &i64::from(max_attempts)],
    )
    .await?;
    Ok(n == 1)
}

/// Check the proof against what is stored now and spend it: `Ok(Ok(()))` when spent,
/// `Ok(Err(reason))` when wrong, replayed, or the enrollment is not in the expected state.
async fn spend(
    tx: &Tx<'_>,
    t: &str,
    u: &str,
    proof: Proof,
    now: DateTime<Utc>,
) -> StoreResult<Result<(), &'static str>> {
    match proof {
        Proof::Totp {
            enrollment_id,
            confirmed,
            check,
        } => {
            let guard = row(
                tx,
                "SELECT last_step FROM mfa_totp
                 WHERE id = $1 AND tenant_id = $2 AND user_id = $3
                   AND (confirmed_at IS NOT NULL) = $4",
                &[&enrollment_id, &t, &u, &confirmed],
            )
            .await?;
            // The enrollment changed underneath (turned off, replaced): as good as spent.
            let Some(guard) = guard else {
                return Ok(Err("replayed"));
            };
            let last_step = step_from_sql(col(&guard, 0, "mfa enrollment")?);
            let step = match check(last_step) {
                Ok(step) => step,
                Err(reason) => return Ok(Err(reason)),
            };
            exec(
                tx,
                "UPDATE mfa_totp SET last_step = $3 WHERE tenant_id = $1 AND id = $2",
                &[&t, &enrollment_id, &step_to_sql(step)],
            )
            .await?;
            Ok(Ok(()))
        }
        Proof::BackupCode { code_hash } => {
            let n = exec(
                tx,
                "UPDATE mfa_backup_codes SET used_at = $4
                 WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3
                   AND used_at IS NULL",
                &[&t, &u, &code_hash, &now],
            )
            .await?;
            Ok(if n == 1 {
                Ok(())
            } else {
                Err("invalid_backup_code")
            })
        }
    }
}

/// Count a wrong code. When it makes more than the policy allows and no lock is running,
/// start one and return its end.
async fn count_failure(
    tx: &Tx<'_>,
    t: &str,
    u: &str,
    now: DateTime<Utc>,
    policy: LockoutPolicy,
) -> StoreResult<Option<DateTime<Utc>>> {
    exec(
        tx,
        "DELETE FROM mfa_failures WHERE tenant_id = $1 AND user_id = $2 AND at <= $3",
        &[&t, &u, &(now - policy.window)],
    )
    .await?;
    exec(
        tx,
        "INSERT INTO mfa_failures (tenant_id, user_id, at) VALUES ($1, $2, $3)",
        &[&t, &u, &now],
    )
    .await?;
    let count = row(
        tx,
        "SELECT COUNT(*) FROM mfa_failures WHERE tenant_id = $1 AND user_id = $2",
        &[&t, &u],
    )
    .await?;
    let count: i64 = match count {
        Some(r) => col(&r, 0, "mfa failures")?,
        None => 0,
    };
    if count <= i64::from(policy.max_failures) {
        return Ok(None);
    }
    let until = now + policy.lock_for;
    // Only a lock that is not already running starts here (one mail per lock).
    let n = exec(
        tx,
        "UPDATE users SET mfa_locked_until = $3
         WHERE tenant_id = $1 AND id = $2
           AND (mfa_locked_until IS NULL OR mfa_locked_until <= $4)",
        &[&t, &u, &until, &now],
    )
    .await?;
    Ok((n == 1).then_some(until))
}

/// One second-factor attempt, start to end, inside the caller's transaction (acting for
/// the attempt's tenant): the outcome and the events to append before the commit.
pub(super) async fn attempt_in(
    tx: &Tx<'_>,
    a: SecondFactorAttempt,
) -> StoreResult<(AttemptOutcome, Vec<NewEvent>)> {
    let (t, u, now) = (a.tenant_id.as_str(), a.user_id.as_str(), a.now);
    if let Some(until) = lock_user(tx, t, u).await?.filter(|until| *until > now) {
        return Ok((AttemptOutcome::Locked(until), vec![a.locked_event]));
    }
    if let Some((ticket_id, max)) = &a.ticket
        && !reserve_ticket_attempt(tx, t, ticket_id, *max, now).await?
    {
        return Ok((AttemptOutcome::TicketGone, Vec::new()));
    }
    let enrollment_id = match &a.proof {
        Proof::Totp { enrollment_id, .. } => Some(enrollment_id.clone()),
        Proof::BackupCode { .. } => None,
    };
    match spend(tx, t, u, a.proof, now).await? {
        Ok(()) => {
            if a.events.is_empty() {
                return Err(StoreError::Other(anyhow::anyhow!(
                    "a security action must write an audit event"
                )));
            }
            apply_effect(tx, t, u, a.effect, enrollment_id.as_deref(), now).await?;
            Ok((AttemptOutcome::Proved, a.events))
        }
        Err(reason) => {
            let locked_until = count_failure(tx, t, u, now, a.policy).await?;
            let mut events = vec![a.failure_event.detail("reason", reason)];
            if locked_until.is_some() {
                events.push(a.lock_event);
            }
            Ok((
                AttemptOutcome::Wrong {
                    reason,
                    locked_until,
                },
                events,
            ))
        }
    }
}

/// What a spent proof does.
async fn apply_effect(
    tx: &Tx<'_>,
    t: &str,
    u: &str,
    effect: MfaEffect,
    enrollment_id: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    match effect {
        MfaEffect::Enable { backup_code_hashes } => {
            let Some(enrollment_id) = enrollment_id else {
                return Err(StoreError::Other(anyhow::anyhow!(
                    "2FA is enabled by a TOTP code only"
                )));
            };
            exec(
                tx,
                "UPDATE mfa_totp SET confirmed_at = $3 WHERE tenant_id = $1 AND id = $2",
                &[&t, &enrollment_id, &now],
            )
            .await?;
            insert_backup_codes(tx, t, u, &backup_code_hashes, now).await?;
            set_mfa_enabled(tx, t, u, true).await
        }
        MfaEffect::ReplaceBackupCodes { backup_code_hashes } => {
            insert_backup_codes(tx, t, u, &backup_code_hashes, now).await
        }
        MfaEffect::Disable => disable(tx, t, u).await,
        MfaEffect::ProofOnly => Ok(()),
        MfaEffect::Reauth { session_id } => {
            let n = exec(
                tx,
                "UPDATE sessions SET authenticated_at = $4
                 WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
                &[&t, &u, &session_id, &now],
            )
            .await?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::NotFound)
            }
        }
        MfaEffect::Login {
            ticket_id,
            session,
            token_hash,
        } => login(tx, t, u, &ticket_id, &session, &token_hash, now).await,
        effect @ (MfaEffect::ResetPassword { .. } | MfaEffect::ResetMember { .. }) => {
            super::recovery::apply_effect(tx, t, u, effect, now).await
        }
    }
}

/// Remove the enrollment, the backup codes and open tickets; mark 2FA off.
async fn disable(tx: &Tx<'_>, t: &str, u: &str) -> StoreResult<()> {
    for sql in [
        "DELETE FROM mfa_totp WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM mfa_backup_codes WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM mfa_tickets WHERE tenant_id = $1 AND user_id = $2",
    ] {
        exec(tx, sql, &[&t, &u]).await?;
    }
    set_mfa_enabled(tx, t, u, false).await
}

/// Use up the ticket and open the session; `TicketSpent` when the ticket was used (or ran
/// out) meanwhile, which rolls the whole attempt back.
async fn login(
    tx: &Tx<'_>,
    t: &str,
    u: &str,
    ticket_id: &str,
    session: &SessionRecord,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let n = exec(
        tx,
        "UPDATE mfa_tickets SET used_at = $4
         WHERE tenant_id = $1 AND user_id = $2 AND id = $3
           AND used_at IS NULL AND expires_at > $4",
        &[&t, &u, &ticket_id, &now],
    )
    .await?;
    if n != 1 {
        return Err(StoreError::Conflict(Conflict::TicketSpent));
    }
    super::sessions::insert_session(tx, session, token_hash).await
}
