//! [`MemberStore`] on PostgreSQL: the member list, roles, and removal (which ends the
//! member's sessions, revokes their keys and voids the invitations they sent).
//!
//! "The tenant keeps an owner" is a read-then-write decision: SQLite's single writer makes
//! it safe; here two replicas demoting (or removing) the tenant's two owners at once could
//! each still count the other. So every role change and removal first locks the tenant's
//! owner rows, in id order: such changes of one tenant take turns, and each counts the
//! owners the one before it left.

use super::tx::Tx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::Role;

use super::connection::PostgresStore;
use super::events::{append, append_all};
use super::grants::requeue_short;
use super::invitations::{void_sent, voided_event};
use super::rows::{USER_COLS, col, user_row};
use super::tx::{Acting, begin, commit, exec, row, rows};
use crate::store::event::NewEvent;
use crate::store::{Conflict, MemberStore, StoreError, StoreResult, UserRecord};

/// Lock the tenant's current owners until commit (see the module doc). Id order, so two
/// transactions taking the locks never wait for each other crosswise.
async fn lock_owners(tx: &Tx<'_>, tenant_id: &str) -> StoreResult<()> {
    rows(
        tx,
        "SELECT id FROM users WHERE tenant_id = $1 AND role = 'owner' AND removed_at IS NULL
         ORDER BY id FOR UPDATE",
        &[&tenant_id],
    )
    .await?;
    Ok(())
}

/// `LastOwner` when the change just made left the tenant without an owner; the caller
/// then returns the error, and the transaction rolls back whole.
async fn keep_an_owner(tx: &Tx<'_>, tenant_id: &str) -> StoreResult<()> {
    let owners = row(
        tx,
        "SELECT COUNT(*) FROM users
         WHERE tenant_id = $1 AND role = 'owner' AND removed_at IS NULL",
        &[&tenant_id],
    )
    .await?;
    let n: i64 = match owners {
        Some(r) => col(&r, 0, "owner count")?,
        None => 0,
    };
    if n == 0 {
        return Err(StoreError::Conflict(Conflict::LastOwner));
    }
    Ok(())
}

/// End what a removed member held: sessions and pending second steps, their keys and every
/// token those keys issued (a revocation time already set stays).
async fn end_holdings(
    tx: &Tx<'_>,
    tenant_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for sql in [
        "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM mfa_tickets WHERE tenant_id = $1 AND user_id = $2",
    ] {
        exec(tx, sql, &[&tenant_id, &user_id]).await?;
    }
    for sql in [
        "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $3)
         WHERE tenant_id = $1 AND key_id IN
             (SELECT id FROM agent_keys WHERE tenant_id = $1 AND owner_id = $2)",
        "UPDATE agent_keys SET revoked_at = COALESCE(revoked_at, $3)
         WHERE tenant_id = $1 AND owner_id = $2",
    ] {
        exec(tx, sql, &[&tenant_id, &user_id, &now]).await?;
    }
    Ok(())
}

#[async_trait]
impl MemberStore for PostgresStore {
    async fn members(&self, tenant_id: &str) -> StoreResult<Vec<UserRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {USER_COLS} FROM users WHERE tenant_id = $1 AND removed_at IS NULL
                 ORDER BY created_at, id"
            ),
            &[&tenant_id],
        )
        .await?;
        commit(tx).await?;
        found.iter().map(user_row).collect()
    }

    async fn set_role(
        &self,
        tenant_id: &str,
        user_id: &str,
        role: Role,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        lock_owners(&tx, tenant_id).await?;
        let n = exec(
            &tx,
            "UPDATE users SET role = $3 WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL",
            &[&tenant_id, &user_id, &role.as_str()],
        )
        .await?;
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        keep_an_owner(&tx, tenant_id).await?;
        requeue_short(&tx, tenant_id).await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn remove_member(
        &self,
        tenant_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        lock_owners(&tx, tenant_id).await?;
        let n = exec(
            &tx,
            "UPDATE users SET removed_at = $3
             WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL",
            &[&tenant_id, &user_id, &now],
        )
        .await?;
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        keep_an_owner(&tx, tenant_id).await?;
        end_holdings(&tx, tenant_id, user_id, now).await?;
        requeue_short(&tx, tenant_id).await?;
        let voided = void_sent(&tx, tenant_id, user_id, now).await?;
        let mut events = vec![event.clone()];
        events.extend(voided.iter().map(|inv| voided_event(&event, inv)));
        append_all(&tx, &events).await?;
        commit(tx).await
    }
}
