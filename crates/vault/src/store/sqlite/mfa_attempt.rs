//! One second-factor attempt in SQLite ([`attempt_in`]): the lock check, the ticket's
//! attempt, the code's check against the stored replay guard, and then either its spend
//! and effect or the failure count and lock, all in the caller's transaction. Why one
//! transaction: with the lock check and the failure count outside it, 50 parallel wrong
//! codes all passed the check before any was counted (issue 15, item 5).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::errors::map_err;
use super::rows::{from_us, us};
use crate::store::event::NewEvent;
use crate::store::mfa::{AttemptOutcome, LockoutPolicy, MfaEffect, Proof, SecondFactorAttempt};
use crate::store::{Conflict, StoreError, StoreResult};

fn step_to_sql(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

fn step_from_sql(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

fn insert_backup_codes(
    tx: &Transaction<'_>,
    tenant_id: &str,
    user_id: &str,
    hashes: &[String],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM mfa_backup_codes WHERE tenant_id = ?1 AND user_id = ?2",
        params![tenant_id, user_id],
    )
    .map_err(map_err)?;
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO mfa_backup_codes (tenant_id, user_id, code_hash, created_at)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(map_err)?;
    for h in hashes {
        stmt.execute(params![tenant_id, user_id, h, us(now)])
            .map_err(map_err)?;
    }
    Ok(())
}

fn set_mfa_enabled(
    tx: &Transaction<'_>,
    tenant_id: &str,
    user_id: &str,
    on: bool,
) -> StoreResult<()> {
    let n = tx
        .execute(
            "UPDATE users SET mfa_enabled = ?3 WHERE tenant_id = ?1 AND id = ?2",
            params![tenant_id, user_id, on],
        )
        .map_err(map_err)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Second-factor attempts are refused until this time, if it is still ahead.
fn locked_until(
    tx: &Transaction<'_>,
    t: &str,
    u: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    let until: Option<i64> = tx
        .query_row(
            "SELECT mfa_locked_until FROM users WHERE tenant_id = ?1 AND id = ?2",
            params![t, u],
            |r| r.get(0),
        )
        .optional()
        .map_err(map_err)?
        .flatten();
    Ok(until.map(from_us).filter(|until| *until > now))
}

/// Count one attempt on a live ticket; `false` when it is used, expired or has had
/// `max_attempts` already.
fn reserve_ticket_attempt(
    tx: &Transaction<'_>,
    t: &str,
    ticket_id: &str,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE mfa_tickets SET attempts = attempts + 1
             WHERE tenant_id = ?1 AND id = ?2 AND used_at IS NULL
               AND expires_at > ?3 AND attempts < ?4",
            params![t, ticket_id, us(now), max_attempts],
        )
        .map_err(map_err)?;
    Ok(n == 1)
}

/// Check the proof against what is stored now and spend it: `Ok(Ok(()))` when spent,
/// `Ok(Err(reason))` when wrong, replayed, or the enrollment is not in the expected state.
fn spend(
    tx: &Transaction<'_>,
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
            let guard: Option<Option<i64>> = tx
                .query_row(
                    "SELECT last_step FROM mfa_totp
                     WHERE id = ?1 AND tenant_id = ?2 AND user_id = ?3
                       AND (confirmed_at IS NOT NULL) = ?4",
                    params![enrollment_id, t, u, confirmed],
                    |r| r.get(0),
                )
                .optional()
                .map_err(map_err)?;
            // The enrollment changed underneath (turned off, replaced): as good as spent.
            let Some(last_step) = guard else {
                return Ok(Err("replayed"));
            };
            let step = match check(step_from_sql(last_step)) {
                Ok(step) => step,
                Err(reason) => return Ok(Err(reason)),
            };
            tx.execute(
                "UPDATE mfa_totp SET last_step = ?2 WHERE id = ?1",
                params![enrollment_id, step_to_sql(step)],
            )
            .map_err(map_err)?;
            Ok(Ok(()))
        }
        Proof::BackupCode { code_hash } => {
            let n = tx
                .execute(
                    "UPDATE mfa_backup_codes SET used_at = ?4
                     WHERE tenant_id = ?1 AND user_id = ?2 AND code_hash = ?3
                       AND used_at IS NULL",
                    params![t, u, code_hash, us(now)],
                )
                .map_err(map_err)?;
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
fn count_failure(
    tx: &Transaction<'_>,
    t: &str,
    u: &str,
    now: DateTime<Utc>,
    policy: LockoutPolicy,
) -> StoreResult<Option<DateTime<Utc>>> {
    tx.execute(
        "DELETE FROM mfa_failures WHERE tenant_id = ?1 AND user_id = ?2 AND at <= ?3",
        params![t, u, us(now - policy.window)],
    )
    .map_err(map_err)?;
    tx.execute(
        "INSERT INTO mfa_failures (tenant_id, user_id, at) VALUES (?1, ?2, ?3)",
        params![t, u, us(now)],
    )
    .map_err(map_err)?;
    let count: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM mfa_failures WHERE tenant_id = ?1 AND user_id = ?2",
            params![t, u],
            |r| r.get(0),
        )
        .map_err(map_err)?;
    if count <= i64::from(policy.max_failures) {
        return Ok(None);
    }
    let until = now + policy.lock_for;
    // Only a lock that is not already running starts here (one mail per lock).
    let n = tx
        .execute(
            "UPDATE users SET mfa_locked_until = ?3
             WHERE tenant_id = ?1 AND id = ?2
               AND (mfa_locked_until IS NULL OR mfa_locked_until <= ?4)",
            params![t, u, us(until), us(now)],
        )
        .map_err(map_err)?;
    Ok((n == 1).then_some(until))
}

/// One second-factor attempt, start to end, inside the caller's transaction: the lock is
/// checked, and a failure counted, in the same transaction that checks and spends the code.
pub(super) fn attempt_in(
    tx: &Transaction<'_>,
    a: SecondFactorAttempt,
) -> StoreResult<(AttemptOutcome, Vec<NewEvent>)> {
    let (t, u, now) = (a.tenant_id.as_str(), a.user_id.as_str(), a.now);
    if let Some(until) = locked_until(tx, t, u, now)? {
        return Ok((AttemptOutcome::Locked(until), vec![a.locked_event]));
    }
    if let Some((ticket_id, max)) = &a.ticket
        && !reserve_ticket_attempt(tx, t, ticket_id, *max, now)?
    {
        return Ok((AttemptOutcome::TicketGone, Vec::new()));
    }
    let enrollment_id = match &a.proof {
        Proof::Totp { enrollment_id, .. } => Some(enrollment_id.clone()),
        Proof::BackupCode { .. } => None,
    };
    match spend(tx, t, u, a.proof, now)? {
        Ok(()) => {
            if a.events.is_empty() {
                return Err(StoreError::Other(anyhow::anyhow!(
                    "a security action must write an audit event"
                )));
            }
            apply_effect(tx, t, u, a.effect, enrollment_id.as_deref(), now)?;
            Ok((AttemptOutcome::Proved, a.events))
        }
        Err(reason) => {
            let locked_until = count_failure(tx, t, u, now, a.policy)?;
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
fn apply_effect(
    tx: &Transaction<'_>,
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
            tx.execute(
                "UPDATE mfa_totp SET confirmed_at = ?2 WHERE id = ?1",
                params![enrollment_id, us(now)],
            )
            .map_err(map_err)?;
            insert_backup_codes(tx, t, u, &backup_code_hashes, now)?;
            set_mfa_enabled(tx, t, u, true)?;
        }
        MfaEffect::ReplaceBackupCodes { backup_code_hashes } => {
            insert_backup_codes(tx, t, u, &backup_code_hashes, now)?;
        }
        MfaEffect::Disable => {
            for sql in [
                "DELETE FROM mfa_totp WHERE tenant_id = ?1 AND user_id = ?2",
                "DELETE FROM mfa_backup_codes WHERE tenant_id = ?1 AND user_id = ?2",
                "DELETE FROM mfa_tickets WHERE tenant_id = ?1 AND user_id = ?2",
            ] {
                tx.execute(sql, params![t, u]).map_err(map_err)?;
            }
            set_mfa_enabled(tx, t, u, false)?;
        }
        MfaEffect::ProofOnly => {}
        MfaEffect::Reauth { session_id } => {
            let n = tx
                .execute(
                    "UPDATE sessions SET authenticated_at = ?4
                     WHERE tenant_id = ?1 AND user_id = ?2 AND id = ?3",
                    params![t, u, session_id, us(now)],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::NotFound);
            }
        }
        MfaEffect::Login {
            ticket_id,
            session: s,
            token_hash,
        } => {
            let n = tx
                .execute(
                    "UPDATE mfa_tickets SET used_at = ?4
                     WHERE tenant_id = ?1 AND user_id = ?2 AND id = ?3
                       AND used_at IS NULL AND expires_at > ?4",
                    params![t, u, ticket_id, us(now)],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::Conflict(Conflict::TicketSpent));
            }
            super::sessions::insert_session(tx, &s, &token_hash)?;
        }
        effect @ (MfaEffect::ResetPassword { .. } | MfaEffect::ResetMember { .. }) => {
            super::recovery::apply_effect(tx, t, u, effect, now)?;
        }
    }
    Ok(())
}
