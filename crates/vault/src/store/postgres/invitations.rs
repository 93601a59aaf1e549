//! [`InvitationStore`] on PostgreSQL, and the voiding of a removed member's invitations
//! (`members` calls it inside the removal's transaction).
//!
//! The invitee is not signed in: the mailed token's hash finds the invitation acting as a
//! lookup. Accepting acts for the joining user's tenant, so an invitation of another
//! tenant is not found and is answered like a spent one. Spending it is one conditional
//! UPDATE, which parallel accepts (from any replica) pass one at a time: one wins.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{PersonRef, Role};
use tokio_postgres::Row;

use super::connection::PostgresStore;
use super::errors::bad;
use super::events::append;
use super::rows::{col, insert_user};
use super::tx::{Acting, Tx, begin, commit, exec, row, rows};
use crate::store::event::NewEvent;
use crate::store::{
    Conflict, InvitationRecord, InvitationStore, StoreError, StoreResult, UserRecord,
};

/// The invitation columns in the order [`inv_row`] reads them.
const INV_COLS: &str =
    "id, tenant_id, email, role, invited_by, created_at, expires_at, used_at, revoked_at";

fn inv_row(r: &Row) -> StoreResult<InvitationRecord> {
    let role: String = col(r, 3, "invitation")?;
    Ok(InvitationRecord {
        id: col(r, 0, "invitation")?,
        tenant_id: col(r, 1, "invitation")?,
        email: col(r, 2, "invitation")?,
        role: Role::parse(&role).ok_or_else(|| bad("role"))?,
        invited_by: col(r, 4, "invitation")?,
        created_at: col(r, 5, "invitation")?,
        expires_at: col(r, 6, "invitation")?,
        used_at: col(r, 7, "invitation")?,
        revoked_at: col(r, 8, "invitation")?,
    })
}

/// Revoke every pending invitation `user_id` sent (they are being removed); returns them,
/// oldest id first (the order SQLite reads them in). One UPDATE: an invitation accepted
/// meanwhile by a parallel call is either accepted or voided, never both.
pub(super) async fn void_sent(
    tx: &Tx<'_>,
    tenant_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<InvitationRecord>> {
    let voided = rows(
        tx,
        &format!(
            "WITH v AS (
                 UPDATE invitations SET revoked_at = $3
                 WHERE tenant_id = $1 AND invited_by = $2
                   AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3
                 RETURNING {INV_COLS}
             )
             SELECT {INV_COLS} FROM v ORDER BY id"
        ),
        &[&tenant_id, &user_id, &now],
    )
    .await?;
    voided.iter().map(inv_row).collect()
}

/// The `member.invitation_revoked` event of an invitation voided by its sender's removal,
/// by the same actor, at the same time and from the same address as the removal.
pub(super) fn voided_event(removal: &NewEvent, inv: &InvitationRecord) -> NewEvent {
    let mut e = removal.clone();
    e.action = "member.invitation_revoked";
    e.target = Some(format!("invitation:{}", inv.id));
    e.detail = serde_json::json!({
        "email": inv.email,
        "role": inv.role.as_str(),
        "reason": "inviter_removed",
    });
    e
}

#[async_trait]
impl InvitationStore for PostgresStore {
    async fn create_invitation(
        &self,
        inv: InvitationRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&inv.tenant_id)).await?;
        exec(
            &tx,
            &format!(
                "INSERT INTO invitations ({INV_COLS}, token_hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8)"
            ),
            &[
                &inv.id,
                &inv.tenant_id,
                &inv.email,
                &inv.role.as_str(),
                &inv.invited_by,
                &inv.created_at,
                &inv.expires_at,
                &token_hash,
            ],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn invitation_by_hash(&self, token_hash: &str) -> StoreResult<Option<InvitationRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Lookup(token_hash)).await?;
        let found = row(
            &tx,
            &format!("SELECT {INV_COLS} FROM invitations WHERE token_hash = $1"),
            &[&token_hash],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(inv_row).transpose()
    }

    async fn accept_invitation(
        &self,
        invitation_id: &str,
        user: UserRecord,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&user.tenant_id)).await?;
        let n = exec(
            &tx,
            "UPDATE invitations SET used_at = $3
             WHERE tenant_id = $1 AND id = $2 AND used_at IS NULL AND revoked_at IS NULL
               AND expires_at > $3",
            &[&user.tenant_id, &invitation_id, &now],
        )
        .await?;
        if n != 1 {
            return Err(StoreError::Conflict(Conflict::InvitationSpent));
        }
        insert_user(&tx, &user).await?;
        append(&tx, &event).await?;
        commit(tx).await
    }

    async fn pending_invitations(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(InvitationRecord, PersonRef)>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            "SELECT i.id, i.tenant_id, i.email, i.role, i.invited_by, i.created_at,
                    i.expires_at, i.used_at, i.revoked_at, u.id, u.email, u.display_name
             FROM invitations i
             JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.invited_by
             WHERE i.tenant_id = $1 AND i.used_at IS NULL AND i.revoked_at IS NULL
               AND i.expires_at > $2 AND ($3::text IS NULL OR i.id < $3)
             ORDER BY i.id DESC LIMIT $4",
            &[&tenant_id, &now, &before_id, &i64::from(limit)],
        )
        .await?;
        commit(tx).await?;
        found
            .iter()
            .map(|r| {
                Ok((
                    inv_row(r)?,
                    PersonRef {
                        id: col(r, 9, "invitation")?,
                        email: col(r, 10, "invitation")?,
                        display_name: col(r, 11, "invitation")?,
                    },
                ))
            })
            .collect()
    }

    async fn invitation(&self, tenant_id: &str, id: &str) -> StoreResult<Option<InvitationRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            &format!("SELECT {INV_COLS} FROM invitations WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &id],
        )
        .await?;
        commit(tx).await?;
        found.as_ref().map(inv_row).transpose()
    }

    async fn revoke_invitation(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let n = exec(
            &tx,
            "UPDATE invitations SET revoked_at = $3
             WHERE tenant_id = $1 AND id = $2
               AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
            &[&tenant_id, &id, &now],
        )
        .await?;
        if n == 1 {
            append(&tx, &event).await?;
            return commit(tx).await;
        }
        let exists = row(
            &tx,
            "SELECT 1 FROM invitations WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &id],
        )
        .await?;
        Err(match exists {
            Some(_) => StoreError::Conflict(Conflict::InvitationNotPending),
            None => StoreError::NotFound,
        })
    }
}
