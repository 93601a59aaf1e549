//! [`MfaStore`] for SQLite. Every spend of a second factor is a conditional `UPDATE` whose
//! changed-row count decides who won, inside a `BEGIN IMMEDIATE` transaction with the
//! effect and its audit events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{SESSION_COLS, SqliteStore, from_us, map_err, us};
use crate::audit::NewEvent;
use crate::store::mfa::{
    ALREADY_ENABLED, LockoutPolicy, MfaEffect, MfaState, MfaStore, MfaTicketRecord, PROOF_SPENT,
    Proof, TICKET_SPENT, TotpRecord,
};
use crate::store::{StoreError, StoreResult};

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

impl SqliteStore {
    /// Like `write`, but the closure returns the events to append (at least one), so an
    /// action whose audit trail depends on what the transaction found stays atomic.
    async fn write_events<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<(T, Vec<NewEvent>)> + Send + 'static,
    {
        self.transact(move |tx| {
            let (value, events) = f(tx)?;
            if events.is_empty() {
                return Err(StoreError::Other(anyhow::anyhow!(
                    "a security action must write an audit event"
                )));
            }
            Ok((value, events))
        })
        .await
    }
}

#[async_trait]
impl MfaStore for SqliteStore {
    async fn mfa_state(&self, tenant_id: &str, user_id: &str) -> StoreResult<MfaState> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.run(move |c| {
            let totp = c
                .prepare_cached(
                    "SELECT id, tenant_id, user_id, secret_sealed, created_at, confirmed_at, last_step
                     FROM mfa_totp WHERE tenant_id = ?1 AND user_id = ?2",
                )
                .and_then(|mut s| {
                    s.query_row(params![t, u], |r| {
                        Ok(TotpRecord {
                            id: r.get(0)?,
                            tenant_id: r.get(1)?,
                            user_id: r.get(2)?,
                            secret_sealed: r.get(3)?,
                            created_at: from_us(r.get(4)?),
                            confirmed_at: r.get::<_, Option<i64>>(5)?.map(from_us),
                            last_step: step_from_sql(r.get(6)?),
                        })
                    })
                    .optional()
                })
                .map_err(map_err)?;
            let remaining: i64 = c
                .prepare_cached(
                    "SELECT COUNT(*) FROM mfa_backup_codes
                     WHERE tenant_id = ?1 AND user_id = ?2 AND used_at IS NULL",
                )
                .and_then(|mut s| s.query_row(params![t, u], |r| r.get(0)))
                .map_err(map_err)?;
            let locked_until: Option<i64> = c
                .prepare_cached("SELECT mfa_locked_until FROM users WHERE tenant_id = ?1 AND id = ?2")
                .and_then(|mut s| s.query_row(params![t, u], |r| r.get(0)).optional())
                .map_err(map_err)?
                .flatten();
            Ok(MfaState {
                totp,
                backup_codes_remaining: u32::try_from(remaining).unwrap_or(0),
                locked_until: locked_until.map(from_us),
            })
        })
        .await
    }

    async fn start_totp_enrollment(&self, r: TotpRecord, event: NewEvent) -> StoreResult<()> {
        self.write(event, move |tx| {
            let active: Option<Option<i64>> = tx
                .query_row(
                    "SELECT confirmed_at FROM mfa_totp WHERE tenant_id = ?1 AND user_id = ?2",
                    params![r.tenant_id, r.user_id],
                    |row| row.get(0),
                )
                .optional()
                .map_err(map_err)?;
            if matches!(active, Some(Some(_))) {
                return Err(StoreError::Conflict(ALREADY_ENABLED));
            }
            tx.execute(
                "DELETE FROM mfa_totp WHERE tenant_id = ?1 AND user_id = ?2",
                params![r.tenant_id, r.user_id],
            )
            .map_err(map_err)?;
            tx.execute(
                "INSERT INTO mfa_totp (id, tenant_id, user_id, secret_sealed, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    r.id,
                    r.tenant_id,
                    r.user_id,
                    r.secret_sealed,
                    us(r.created_at)
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn use_second_factor(
        &self,
        tenant_id: &str,
        user_id: &str,
        proof: Proof,
        effect: MfaEffect,
        now: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.write_events(move |tx| {
            // 1. Spend the proof, or find it already spent.
            let spent = match &proof {
                Proof::Totp {
                    enrollment_id,
                    step,
                    confirmed,
                } => tx
                    .execute(
                        "UPDATE mfa_totp SET last_step = ?4
                         WHERE id = ?1 AND tenant_id = ?2 AND user_id = ?3
                           AND (confirmed_at IS NOT NULL) = ?5
                           AND (last_step IS NULL OR last_step < ?4)",
                        params![enrollment_id, t, u, step_to_sql(*step), confirmed],
                    )
                    .map_err(map_err)?,
                Proof::BackupCode { code_hash } => tx
                    .execute(
                        "UPDATE mfa_backup_codes SET used_at = ?4
                         WHERE tenant_id = ?1 AND user_id = ?2 AND code_hash = ?3
                           AND used_at IS NULL",
                        params![t, u, code_hash, us(now)],
                    )
                    .map_err(map_err)?,
            };
            if spent != 1 {
                return Err(StoreError::Conflict(PROOF_SPENT));
            }
            // 2. Its effect.
            match effect {
                MfaEffect::Enable { backup_code_hashes } => {
                    let Proof::Totp { enrollment_id, .. } = &proof else {
                        return Err(StoreError::Conflict(PROOF_SPENT));
                    };
                    tx.execute(
                        "UPDATE mfa_totp SET confirmed_at = ?2 WHERE id = ?1",
                        params![enrollment_id, us(now)],
                    )
                    .map_err(map_err)?;
                    insert_backup_codes(tx, &t, &u, &backup_code_hashes, now)?;
                    set_mfa_enabled(tx, &t, &u, true)?;
                }
                MfaEffect::ReplaceBackupCodes { backup_code_hashes } => {
                    insert_backup_codes(tx, &t, &u, &backup_code_hashes, now)?;
                }
                MfaEffect::Disable => {
                    for sql in [
                        "DELETE FROM mfa_totp WHERE tenant_id = ?1 AND user_id = ?2",
                        "DELETE FROM mfa_backup_codes WHERE tenant_id = ?1 AND user_id = ?2",
                        "DELETE FROM mfa_tickets WHERE tenant_id = ?1 AND user_id = ?2",
                    ] {
                        tx.execute(sql, params![t, u]).map_err(map_err)?;
                    }
                    set_mfa_enabled(tx, &t, &u, false)?;
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
                        return Err(StoreError::Conflict(TICKET_SPENT));
                    }
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
                }
            }
            Ok(((), events))
        })
        .await
    }

    async fn record_mfa_failure(
        &self,
        tenant_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        policy: LockoutPolicy,
        event: NewEvent,
        lock_event: NewEvent,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.write_events(move |tx| {
            let since = us(now - policy.window);
            tx.execute(
                "DELETE FROM mfa_failures WHERE tenant_id = ?1 AND user_id = ?2 AND at <= ?3",
                params![t, u, since],
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
            let mut events = vec![event];
            if count > i64::from(policy.max_failures) {
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
                if n == 1 {
                    events.push(lock_event);
                    return Ok((Some(until), events));
                }
            }
            Ok((None, events))
        })
        .await
    }

    async fn create_mfa_ticket(
        &self,
        k: MfaTicketRecord,
        ticket_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(event, move |tx| {
            // Expired and used tickets of this user go as new ones come.
            tx.execute(
                "DELETE FROM mfa_tickets WHERE tenant_id = ?1 AND user_id = ?2
                 AND (used_at IS NOT NULL OR expires_at <= ?3)",
                params![k.tenant_id, k.user_id, us(k.created_at)],
            )
            .map_err(map_err)?;
            tx.execute(
                "INSERT INTO mfa_tickets (id, tenant_id, user_id, ticket_hash, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    k.id,
                    k.tenant_id,
                    k.user_id,
                    ticket_hash,
                    us(k.created_at),
                    us(k.expires_at)
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn mfa_ticket_by_hash(&self, ticket_hash: &str) -> StoreResult<Option<MfaTicketRecord>> {
        let h = ticket_hash.to_owned();
        self.run(move |c| {
            c.prepare_cached(
                "SELECT id, tenant_id, user_id, created_at, expires_at, attempts, used_at
                 FROM mfa_tickets WHERE ticket_hash = ?1",
            )
            .and_then(|mut s| {
                s.query_row([h], |r| {
                    Ok(MfaTicketRecord {
                        id: r.get(0)?,
                        tenant_id: r.get(1)?,
                        user_id: r.get(2)?,
                        created_at: from_us(r.get(3)?),
                        expires_at: from_us(r.get(4)?),
                        attempts: r.get(5)?,
                        used_at: r.get::<_, Option<i64>>(6)?.map(from_us),
                    })
                })
                .optional()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn reserve_mfa_ticket_attempt(
        &self,
        tenant_id: &str,
        ticket_id: &str,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (t, id) = (tenant_id.to_owned(), ticket_id.to_owned());
        self.run(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE mfa_tickets SET attempts = attempts + 1
                     WHERE tenant_id = ?1 AND id = ?2 AND used_at IS NULL
                       AND expires_at > ?3 AND attempts < ?4",
                )
                .and_then(|mut s| s.execute(params![t, id, us(now), max_attempts]))
                .map_err(map_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn reauthenticate_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), session_id.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE sessions SET authenticated_at = ?3 WHERE tenant_id = ?1 AND id = ?2",
                    params![t, id, us(now)],
                )
                .map_err(map_err)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::NotFound)
            }
        })
        .await
    }
}
