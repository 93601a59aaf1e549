//! [`InvitationStore`] on SQLite, and the voiding of a removed member's invitations
//! (`members` calls it inside the removal's transaction).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{PersonRef, Role};
use rusqlite::{OptionalExtension, Transaction, params};

use super::connection::SqliteStore;
use super::errors::{bad, is_unique_violation, map_err};
use super::rows::{USER_COLS, from_us, us};
use crate::store::event::NewEvent;
use crate::store::{
    Conflict, InvitationRecord, InvitationStore, StoreError, StoreResult, UserRecord,
};

pub(super) const INV_COLS: &str =
    "id, tenant_id, email, role, invited_by, created_at, expires_at, used_at, revoked_at";

pub(super) fn inv_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InvitationRecord> {
    let role: String = r.get(3)?;
    Ok(InvitationRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        email: r.get(2)?,
        role: Role::parse(&role).ok_or_else(|| bad("role"))?,
        invited_by: r.get(4)?,
        created_at: from_us(r.get(5)?),
        expires_at: from_us(r.get(6)?),
        used_at: r.get::<_, Option<i64>>(7)?.map(from_us),
        revoked_at: r.get::<_, Option<i64>>(8)?.map(from_us),
    })
}

/// `INV_COLS` qualified with the table alias `i`, for joins.
fn qualified_cols() -> String {
    INV_COLS
        .split(',')
        .map(|c| format!("i.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Revoke every pending invitation `user_id` sent (they are being removed); returns them.
pub(super) fn void_sent(
    tx: &Transaction<'_>,
    tenant_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<InvitationRecord>> {
    let pending = tx
        .prepare_cached(&format!(
            "SELECT {INV_COLS} FROM invitations
             WHERE tenant_id = ?1 AND invited_by = ?2
               AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?3"
        ))
        .and_then(|mut s| {
            s.query_map(params![tenant_id, user_id, us(now)], inv_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(map_err)?;
    for inv in &pending {
        tx.execute(
            "UPDATE invitations SET revoked_at = ?3 WHERE tenant_id = ?1 AND id = ?2",
            params![tenant_id, inv.id, us(now)],
        )
        .map_err(map_err)?;
    }
    Ok(pending)
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
impl InvitationStore for SqliteStore {
    async fn create_invitation(
        &self,
        inv: InvitationRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(event, move |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO invitations ({INV_COLS}, token_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL, ?8)"
                ),
                params![
                    inv.id,
                    inv.tenant_id,
                    inv.email,
                    inv.role.as_str(),
                    inv.invited_by,
                    us(inv.created_at),
                    us(inv.expires_at),
                    token_hash
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn invitation_by_hash(&self, token_hash: &str) -> StoreResult<Option<InvitationRecord>> {
        let h = token_hash.to_owned();
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {INV_COLS} FROM invitations WHERE token_hash = ?1"
            ))
            .and_then(|mut s| s.query_row([h], inv_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn accept_invitation(
        &self,
        invitation_id: &str,
        user: UserRecord,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let id = invitation_id.to_owned();
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE invitations SET used_at = ?3
                     WHERE tenant_id = ?1 AND id = ?2 AND used_at IS NULL AND revoked_at IS NULL
                       AND expires_at > ?3",
                    params![user.tenant_id, id, us(now)],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::Conflict(Conflict::InvitationSpent));
            }
            tx.execute(
                &format!(
                    "INSERT INTO users ({USER_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ),
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

    async fn pending_invitations(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(InvitationRecord, PersonRef)>> {
        let (t, before) = (tenant_id.to_owned(), before_id.map(str::to_owned));
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {}, u.id, u.email, u.display_name FROM invitations i
                 JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.invited_by
                 WHERE i.tenant_id = ?1 AND i.used_at IS NULL AND i.revoked_at IS NULL
                   AND i.expires_at > ?2 AND (?3 IS NULL OR i.id < ?3)
                 ORDER BY i.id DESC LIMIT ?4",
                qualified_cols()
            ))
            .and_then(|mut s| {
                s.query_map(params![t, us(now), before, limit], |r| {
                    Ok((
                        inv_row(r)?,
                        PersonRef {
                            id: r.get(9)?,
                            email: r.get(10)?,
                            display_name: r.get(11)?,
                        },
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn invitation(&self, tenant_id: &str, id: &str) -> StoreResult<Option<InvitationRecord>> {
        let (t, id) = (tenant_id.to_owned(), id.to_owned());
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {INV_COLS} FROM invitations WHERE tenant_id = ?1 AND id = ?2"
            ))
            .and_then(|mut s| s.query_row([t, id], inv_row).optional())
            .map_err(map_err)
        })
        .await
    }

    async fn revoke_invitation(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, id) = (tenant_id.to_owned(), id.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE invitations SET revoked_at = ?3
                     WHERE tenant_id = ?1 AND id = ?2
                       AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?3",
                    params![t, id, us(now)],
                )
                .map_err(map_err)?;
            if n == 1 {
                return Ok(());
            }
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM invitations WHERE tenant_id = ?1 AND id = ?2",
                    params![t, id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(map_err)?;
            Err(match exists {
                Some(_) => StoreError::Conflict(Conflict::InvitationNotPending),
                None => StoreError::NotFound,
            })
        })
        .await
    }
}
