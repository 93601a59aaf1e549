//! [`MfaStore`] on PostgreSQL. A second-factor attempt is one transaction (`mfa_attempt`)
//! that first locks the user's row: attempts for one user, from any number of replicas,
//! take turns on that lock as SQLite's attempts take turns on its single writer, and each
//! sees everything the turns before it committed (the lock, the failures, the replay
//! guard, the spent codes). Enrollment takes the same lock, so it never interleaves with
//! an attempt that enables 2FA.

use super::tx::Tx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::connection::PostgresStore;
use super::events::{append, append_all};
use super::rows::{col, to_u32};
use super::tx::{Acting, begin, commit, exec, row};
use crate::store::event::NewEvent;
use crate::store::mfa::{
    AttemptOutcome, MfaState, MfaStore, MfaTicketRecord, SecondFactorAttempt, TotpRecord,
};
use crate::store::{Conflict, StoreError, StoreResult};

/// A stored replay guard back into a step; bigint, never negative (the schema's CHECK).
pub(super) fn step_from_sql(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

/// Lock the user's row until commit, so this user's second-factor work takes turns; the
/// end of a running lock, if any. `FOR NO KEY UPDATE` rather than `FOR UPDATE`: inserts
/// of rows that refer to the user (sessions, tickets) need not wait for it. No row (no
/// such user in this tenant) locks nothing; what follows then finds nothing to spend.
pub(super) async fn lock_user(
    tx: &Tx<'_>,
    tenant_id: &str,
    user_id: &str,
) -> StoreResult<Option<DateTime<Utc>>> {
    let found = row(
        tx,
        "SELECT mfa_locked_until FROM users WHERE tenant_id = $1 AND id = $2
         FOR NO KEY UPDATE",
        &[&tenant_id, &user_id],
    )
    .await?;
    match found {
        Some(r) => col(&r, 0, "user"),
        None => Ok(None),
    }
}

fn ticket_row(r: &tokio_postgres::Row) -> StoreResult<MfaTicketRecord> {
    Ok(MfaTicketRecord {
        id: col(r, 0, "mfa ticket")?,
        tenant_id: col(r, 1, "mfa ticket")?,
        user_id: col(r, 2, "mfa ticket")?,
        created_at: col(r, 3, "mfa ticket")?,
        expires_at: col(r, 4, "mfa ticket")?,
        attempts: to_u32(col(r, 5, "mfa ticket")?, "mfa ticket")?,
        used_at: col(r, 6, "mfa ticket")?,
    })
}

/// The enrollment columns of [`MfaStore::mfa_state`]'s row (from index 2), if there is one.
fn totp_row(r: &tokio_postgres::Row) -> StoreResult<Option<TotpRecord>> {
    let Some(id) = col::<Option<String>>(r, 2, "mfa enrollment")? else {
        return Ok(None);
    };
    Ok(Some(TotpRecord {
        id,
        tenant_id: col(r, 3, "mfa enrollment")?,
        user_id: col(r, 4, "mfa enrollment")?,
        secret_sealed: col(r, 5, "mfa enrollment")?,
        created_at: col(r, 6, "mfa enrollment")?,
        confirmed_at: col(r, 7, "mfa enrollment")?,
        last_step: step_from_sql(col(r, 8, "mfa enrollment")?),
    }))
}

#[async_trait]
impl MfaStore for PostgresStore {
    async fn mfa_state(&self, tenant_id: &str, user_id: &str) -> StoreResult<MfaState> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        // One statement, so one snapshot: never a Disable half seen (enrollment gone,
        // codes still counted).
        let found = row(
            &tx,
            "SELECT u.mfa_locked_until,
                    (SELECT COUNT(*) FROM mfa_backup_codes b
                     WHERE b.tenant_id = $1 AND b.user_id = $2 AND b.used_at IS NULL),
                    t.id, t.tenant_id, t.user_id, t.secret_sealed, t.created_at,
                    t.confirmed_at, t.last_step
             FROM (SELECT 1) AS one
             LEFT JOIN users u ON u.tenant_id = $1 AND u.id = $2
             LEFT JOIN mfa_totp t ON t.tenant_id = $1 AND t.user_id = $2",
            &[&tenant_id, &user_id],
        )
        .await?;
        commit(tx).await?;
        let Some(r) = found else {
            return Err(super::errors::bad("mfa state"));
        };
        Ok(MfaState {
            totp: totp_row(&r)?,
            backup_codes_remaining: to_u32(col(&r, 1, "mfa state")?, "mfa state")?,
            locked_until: col(&r, 0, "mfa state")?,
        })
    }

    async fn start_totp_enrollment(&self, r: TotpRecord, event: NewEvent) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&r.tenant_id)).await?;
        lock_user(&tx, &r.tenant_id, &r.user_id).await?;
        let active = row(
            &tx,
            "SELECT confirmed_at FROM mfa_totp WHERE tenant_id = $1 AND user_id = $2",
            &[&r.tenant_id, &r.user_id],
        )
        .await?;
        if let Some(a) = active
            && col::<Option<DateTime<Utc>>>(&a, 0, "mfa enrollment")?.is_some()
        {
            return Err(StoreError::Conflict(Conflict::MfaAlreadyEnabled));
        }
        exec(
            &tx,
            "DELETE FROM mfa_totp WHERE tenant_id = $1 AND user_id = $2",
            &[&r.tenant_id, &r.user_id],
        )
        .await?;
        exec(
            &tx,
            "INSERT INTO mfa_totp (id, tenant_id, user_id, secret_sealed, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &r.id,
                &r.tenant_id,
                &r.user_id,
                &r.secret_sealed,
                &r.created_at,
            ],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn attempt_second_factor(&self, a: SecondFactorAttempt) -> StoreResult<AttemptOutcome> {
        let tenant_id = a.tenant_id.clone();
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&tenant_id)).await?;
        // An error returns before the commit: the transaction rolls back, events and all.
        // A used-up ticket commits with no event (nothing changed).
        let (outcome, events) = super::mfa_attempt::attempt_in(&tx, a).await?;
        append_all(&tx, &events).await?;
        commit(tx).await?;
        Ok(outcome)
    }

    async fn create_mfa_ticket(
        &self,
        k: MfaTicketRecord,
        ticket_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&k.tenant_id)).await?;
        // Expired and used tickets of this user go as new ones come.
        exec(
            &tx,
            "DELETE FROM mfa_tickets WHERE tenant_id = $1 AND user_id = $2
             AND (used_at IS NOT NULL OR expires_at <= $3)",
            &[&k.tenant_id, &k.user_id, &k.created_at],
        )
        .await?;
        exec(
            &tx,
            "INSERT INTO mfa_tickets (id, tenant_id, user_id, ticket_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &k.id,
                &k.tenant_id,
                &k.user_id,
                &ticket_hash,
                &k.created_at,
                &k.expires_at,
            ],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn mfa_ticket_by_hash(&self, ticket_hash: &str) -> StoreResult<Option<MfaTicketRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Lookup(ticket_hash)).await?;
        let found = row(
            &tx,
            "SELECT id, tenant_id, user_id, created_at, expires_at, attempts, used_at
             FROM mfa_tickets WHERE ticket_hash = $1",
            &[&ticket_hash],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(ticket_row).transpose()
    }

    async fn reauthenticate_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let n = exec(
            &tx,
            "UPDATE sessions SET authenticated_at = $3 WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &session_id, &now],
        )
        .await?;
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        append(&tx, &event).await?;
        commit(tx).await
    }
}
