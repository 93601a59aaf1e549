//! [`MfaStore`] for SQLite. A second-factor attempt is one job on the store's single
//! writer: the lock check, the ticket's attempt, the code's check against the stored replay
//! guard, and then either its spend and effect or the failure count and lock, all in one
//! transaction with the audit events. Jobs on the writer run one after another, so
//! parallel attempts are judged strictly in turn.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::connection::SqliteStore;
use super::errors::map_err;
use super::rows::{from_us, us};
use crate::store::event::NewEvent;
use crate::store::mfa::{
    AttemptOutcome, MfaState, MfaStore, MfaTicketRecord, SecondFactorAttempt, TotpRecord,
};
use crate::store::{Conflict, StoreError, StoreResult};

fn step_from_sql(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
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
                return Err(StoreError::Conflict(Conflict::MfaAlreadyEnabled));
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

    async fn attempt_second_factor(&self, a: SecondFactorAttempt) -> StoreResult<AttemptOutcome> {
        // `transact`, not `write_events`: a used-up ticket is answered with no event.
        self.transact(move |tx| super::mfa_attempt::attempt_in(tx, a))
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
