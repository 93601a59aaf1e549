//! [`ApprovalStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{ApprovalStatus, ApprovalVote, PersonRef, Role, TenantSettings};
use keyhold_core::path::SecretPath;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{SqliteStore, USER_COLS, from_us, is_unique_violation, map_err, us, user_row};
use crate::audit::NewEvent;
use crate::store::{
    ALREADY_VOTED, ApprovalRecord, ApprovalStore, ApprovalView, ExpiryEvent, INVITATION_SPENT,
    InvitationRecord, LAST_OWNER, NOT_OPEN, NOT_PENDING, StoreError, StoreResult, UserRecord,
    VoteEvent,
};

fn bad(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("stored {what} is not valid").into(),
    )
}

const REQ_COLS: &str = "r.id, r.tenant_id, r.path, r.tier, r.key_id, r.token_id, r.reason,
    r.required_approvals, r.delay_secs, r.grant_ttl_secs, r.status, r.requested_at, r.expires_at,
    r.available_at, r.grant_expires_at, r.decided_at, r.denied_by, r.deny_reason, r.used_at";

fn req_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApprovalRecord> {
    let path: String = r.get(2)?;
    let tier: String = r.get(3)?;
    let status: String = r.get(10)?;
    Ok(ApprovalRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        path: SecretPath::parse(&path).map_err(|_| bad("path"))?,
        tier: tier.parse().map_err(|_| bad("tier"))?,
        key_id: r.get(4)?,
        token_id: r.get(5)?,
        reason: r.get(6)?,
        required_approvals: r.get(7)?,
        delay_secs: r.get(8)?,
        grant_ttl_secs: r.get(9)?,
        status: ApprovalStatus::parse(&status).ok_or_else(|| bad("status"))?,
        requested_at: from_us(r.get(11)?),
        expires_at: from_us(r.get(12)?),
        available_at: r.get::<_, Option<i64>>(13)?.map(from_us),
        grant_expires_at: r.get::<_, Option<i64>>(14)?.map(from_us),
        decided_at: r.get::<_, Option<i64>>(15)?.map(from_us),
        denied_by: r.get(16)?,
        deny_reason: r.get(17)?,
        used_at: r.get::<_, Option<i64>>(18)?.map(from_us),
    })
}

fn get_req(c: &Connection, tenant_id: &str, id: &str) -> StoreResult<Option<ApprovalRecord>> {
    c.prepare_cached(&format!(
        "SELECT {REQ_COLS} FROM approval_requests r WHERE r.tenant_id = ?1 AND r.id = ?2"
    ))
    .and_then(|mut s| s.query_row([tenant_id, id], req_row).optional())
    .map_err(map_err)
}

fn person(c: &Connection, tenant_id: &str, user_id: &str) -> StoreResult<PersonRef> {
    c.prepare_cached("SELECT id, email, display_name FROM users WHERE tenant_id = ?1 AND id = ?2")
        .and_then(|mut s| {
            s.query_row([tenant_id, user_id], |r| {
                Ok(PersonRef {
                    id: r.get(0)?,
                    email: r.get(1)?,
                    display_name: r.get(2)?,
                })
            })
        })
        .map_err(map_err)
}

fn view(c: &Connection, record: ApprovalRecord) -> StoreResult<ApprovalView> {
    let t = record.tenant_id.clone();
    let (key_name, owner_id): (String, String) = c
        .prepare_cached("SELECT name, owner_id FROM agent_keys WHERE tenant_id = ?1 AND id = ?2")
        .and_then(|mut s| s.query_row([&t, &record.key_id], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(map_err)?;
    let owner = person(c, &t, &owner_id)?;
    let votes = c
        .prepare_cached(
            "SELECT u.id, u.email, u.display_name, v.at, v.comment FROM approval_votes v
             JOIN users u ON u.id = v.user_id
             WHERE v.tenant_id = ?1 AND v.request_id = ?2 ORDER BY v.at, u.id",
        )
        .and_then(|mut s| {
            s.query_map([&t, &record.id], |r| {
                Ok(ApprovalVote {
                    user: PersonRef {
                        id: r.get(0)?,
                        email: r.get(1)?,
                        display_name: r.get(2)?,
                    },
                    at: from_us(r.get(3)?),
                    comment: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(map_err)?;
    let denied_by = match &record.denied_by {
        Some(u) => Some(person(c, &t, u)?),
        None => None,
    };
    Ok(ApprovalView {
        record,
        key_name,
        owner,
        votes,
        denied_by,
    })
}

/// Close the tenant's requests whose time is up; returns them (now `expired`).
fn expire_due(
    tx: &Transaction<'_>,
    tenant_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ApprovalRecord>> {
    let due = tx
        .prepare_cached(&format!(
            "SELECT {REQ_COLS} FROM approval_requests r WHERE r.tenant_id = ?1 AND (
                 (r.status = 'pending' AND r.expires_at <= ?2)
              OR (r.status = 'approved' AND r.grant_expires_at <= ?2))"
        ))
        .and_then(|mut s| {
            s.query_map(params![tenant_id, us(now)], req_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(map_err)?;
    let mut out = Vec::with_capacity(due.len());
    for mut r in due {
        tx.execute(
            "UPDATE approval_requests SET status = 'expired', decided_at = COALESCE(decided_at, ?3)
             WHERE tenant_id = ?1 AND id = ?2",
            params![tenant_id, r.id, us(now)],
        )
        .map_err(map_err)?;
        r.status = ApprovalStatus::Expired;
        out.push(r);
    }
    Ok(out)
}

impl SqliteStore {
    /// A write transaction whose events (possibly none) depend on what it found.
    async fn tx_with_events<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<(T, Vec<NewEvent>)> + Send + 'static,
    {
        self.transact(f).await
    }
}

pub(crate) const INV_COLS: &str =
    "id, tenant_id, email, role, invited_by, created_at, expires_at, used_at, revoked_at";

pub(crate) fn inv_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InvitationRecord> {
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

#[async_trait]
impl ApprovalStore for SqliteStore {
    async fn tenant_settings(&self, tenant_id: &str) -> StoreResult<Option<TenantSettings>> {
        let t = tenant_id.to_owned();
        let text: Option<String> = self
            .run(move |c| {
                c.prepare_cached("SELECT settings FROM tenant_settings WHERE tenant_id = ?1")
                    .and_then(|mut s| s.query_row([t], |r| r.get(0)).optional())
                    .map_err(map_err)
            })
            .await?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Other(e.into())))
            .transpose()
    }

    async fn put_tenant_settings(
        &self,
        tenant_id: &str,
        settings: TenantSettings,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let t = tenant_id.to_owned();
        let text = serde_json::to_string(&settings).map_err(|e| StoreError::Other(e.into()))?;
        self.write(event, move |tx| {
            tx.execute(
                "INSERT INTO tenant_settings (tenant_id, settings, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tenant_id) DO UPDATE SET settings = ?2, updated_at = ?3",
                params![t, text, us(now)],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn expire_approvals(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
        expired: ExpiryEvent,
    ) -> StoreResult<Vec<ApprovalRecord>> {
        let t = tenant_id.to_owned();
        self.tx_with_events(move |tx| {
            let done = expire_due(tx, &t, now)?;
            let events = done.iter().map(expired).collect();
            Ok((done, events))
        })
        .await
    }

    async fn open_approval(
        &self,
        new: ApprovalRecord,
        expired: ExpiryEvent,
        requested: NewEvent,
    ) -> StoreResult<(ApprovalRecord, bool)> {
        self.tx_with_events(move |tx| {
            let now = new.requested_at;
            let done = expire_due(tx, &new.tenant_id, now)?;
            let mut events: Vec<NewEvent> = done.iter().map(expired).collect();
            let open = tx
                .prepare_cached(&format!(
                    "SELECT {REQ_COLS} FROM approval_requests r
                     WHERE r.tenant_id = ?1 AND r.key_id = ?2 AND r.path = ?3
                       AND r.status IN ('pending', 'approved')"
                ))
                .and_then(|mut s| {
                    s.query_row(
                        params![new.tenant_id, new.key_id, new.path.as_str()],
                        req_row,
                    )
                    .optional()
                })
                .map_err(map_err)?;
            if let Some(r) = open {
                return Ok(((r, false), events));
            }
            tx.execute(
                "INSERT INTO approval_requests (id, tenant_id, path, tier, key_id, token_id, reason,
                     required_approvals, delay_secs, grant_ttl_secs, status, requested_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?11, ?12)",
                params![
                    new.id,
                    new.tenant_id,
                    new.path.as_str(),
                    new.tier.as_str(),
                    new.key_id,
                    new.token_id,
                    new.reason,
                    new.required_approvals,
                    new.delay_secs,
                    new.grant_ttl_secs,
                    us(new.requested_at),
                    us(new.expires_at)
                ],
            )
            .map_err(map_err)?;
            events.push(requested);
            Ok(((new, true), events))
        })
        .await
    }

    async fn approval(&self, tenant_id: &str, id: &str) -> StoreResult<Option<ApprovalView>> {
        let (t, i) = (tenant_id.to_owned(), id.to_owned());
        self.run(move |c| match get_req(c, &t, &i)? {
            Some(r) => Ok(Some(view(c, r)?)),
            None => Ok(None),
        })
        .await
    }

    async fn list_approvals(
        &self,
        tenant_id: &str,
        status: Option<ApprovalStatus>,
        key_id: Option<&str>,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ApprovalView>> {
        let t = tenant_id.to_owned();
        let status = status.map(|s| s.as_str().to_owned());
        let key = key_id.map(str::to_owned);
        let before = before_id.map(str::to_owned);
        self.run(move |c| {
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {REQ_COLS} FROM approval_requests r
                     WHERE r.tenant_id = ?1 AND (?2 IS NULL OR r.status = ?2)
                       AND (?3 IS NULL OR r.key_id = ?3) AND (?4 IS NULL OR r.id < ?4)
                     ORDER BY r.id DESC LIMIT ?5"
                ))
                .and_then(|mut s| {
                    s.query_map(params![t, status, key, before, limit], req_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(map_err)?;
            rows.into_iter().map(|r| view(c, r)).collect()
        })
        .await
    }

    async fn vote_approval(
        &self,
        tenant_id: &str,
        id: &str,
        user_id: &str,
        comment: Option<String>,
        now: DateTime<Utc>,
        event: VoteEvent,
    ) -> StoreResult<ApprovalRecord> {
        let (t, i, u) = (tenant_id.to_owned(), id.to_owned(), user_id.to_owned());
        self.tx_with_events(move |tx| {
            let r = get_req(tx, &t, &i)?.ok_or(StoreError::NotFound)?;
            if r.status != ApprovalStatus::Pending || r.expires_at <= now {
                return Err(StoreError::Conflict(NOT_PENDING));
            }
            tx.execute(
                "INSERT INTO approval_votes (request_id, tenant_id, user_id, at, comment)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![i, t, u, us(now), comment],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(ALREADY_VOTED)
                } else {
                    map_err(e)
                }
            })?;
            let votes: u32 = tx
                .query_row(
                    "SELECT COUNT(*) FROM approval_votes WHERE tenant_id = ?1 AND request_id = ?2",
                    params![t, i],
                    |row| row.get(0),
                )
                .map_err(map_err)?;
            let quorum = votes >= r.required_approvals;
            if quorum {
                let available = now + chrono::Duration::seconds(r.delay_secs);
                let until = available + chrono::Duration::seconds(r.grant_ttl_secs);
                let n = tx
                    .execute(
                        "UPDATE approval_requests
                         SET status = 'approved', decided_at = ?3, available_at = ?4,
                             grant_expires_at = ?5
                         WHERE tenant_id = ?1 AND id = ?2 AND status = 'pending'",
                        params![t, i, us(now), us(available), us(until)],
                    )
                    .map_err(map_err)?;
                if n != 1 {
                    return Err(StoreError::Conflict(NOT_PENDING));
                }
            }
            let r = get_req(tx, &t, &i)?.ok_or(StoreError::NotFound)?;
            Ok((r, vec![event(votes, quorum)]))
        })
        .await
    }

    async fn deny_approval(
        &self,
        tenant_id: &str,
        id: &str,
        user_id: &str,
        reason: String,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<ApprovalRecord> {
        let (t, i, u) = (tenant_id.to_owned(), id.to_owned(), user_id.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE approval_requests
                     SET status = 'denied', decided_at = ?3, denied_by = ?4, deny_reason = ?5
                     WHERE tenant_id = ?1 AND id = ?2 AND (
                         (status = 'pending' AND expires_at > ?3)
                      OR (status = 'approved' AND grant_expires_at > ?3))",
                    params![t, i, us(now), u, reason],
                )
                .map_err(map_err)?;
            let r = get_req(tx, &t, &i)?.ok_or(StoreError::NotFound)?;
            if n != 1 {
                return Err(StoreError::Conflict(NOT_OPEN));
            }
            Ok(r)
        })
        .await
    }

    async fn consume_grant(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<bool> {
        let (t, i) = (tenant_id.to_owned(), id.to_owned());
        self.tx_with_events(move |tx| {
            let n = tx
                .execute(
                    "UPDATE approval_requests SET status = 'used', used_at = ?3
                     WHERE tenant_id = ?1 AND id = ?2 AND status = 'approved'
                       AND available_at <= ?3 AND grant_expires_at > ?3",
                    params![t, i, us(now)],
                )
                .map_err(map_err)?;
            if n == 1 {
                Ok((true, vec![event]))
            } else {
                Ok((false, Vec::new()))
            }
        })
        .await
    }

    async fn members(&self, tenant_id: &str) -> StoreResult<Vec<UserRecord>> {
        let t = tenant_id.to_owned();
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {USER_COLS} FROM users WHERE tenant_id = ?1 AND removed_at IS NULL
                 ORDER BY created_at, id"
            ))
            .and_then(|mut s| {
                s.query_map([t], user_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(map_err)
        })
        .await
    }

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
                return Err(StoreError::Conflict(INVITATION_SPENT));
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
                    StoreError::Conflict("An account with this email already exists.")
                } else {
                    map_err(e)
                }
            })?;
            Ok(())
        })
        .await
    }

    async fn set_role(
        &self,
        tenant_id: &str,
        user_id: &str,
        role: Role,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE users SET role = ?3 WHERE tenant_id = ?1 AND id = ?2 AND removed_at IS NULL",
                    params![t, u, role.as_str()],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::NotFound);
            }
            let owners: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM users
                     WHERE tenant_id = ?1 AND role = 'owner' AND removed_at IS NULL",
                    [&t],
                    |r| r.get(0),
                )
                .map_err(map_err)?;
            if owners == 0 {
                return Err(StoreError::Conflict(LAST_OWNER));
            }
            Ok(())
        })
        .await
    }

    async fn remove_member(
        &self,
        tenant_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.transact(move |tx| {
            let n = tx
                .execute(
                    "UPDATE users SET removed_at = ?3
                     WHERE tenant_id = ?1 AND id = ?2 AND removed_at IS NULL",
                    params![t, u, us(now)],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::NotFound);
            }
            let owners: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM users
                     WHERE tenant_id = ?1 AND role = 'owner' AND removed_at IS NULL",
                    [&t],
                    |r| r.get(0),
                )
                .map_err(map_err)?;
            if owners == 0 {
                return Err(StoreError::Conflict(LAST_OWNER));
            }
            for sql in [
                "DELETE FROM sessions WHERE tenant_id = ?1 AND user_id = ?2",
                "DELETE FROM mfa_tickets WHERE tenant_id = ?1 AND user_id = ?2",
                "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?3)
                 WHERE tenant_id = ?1 AND key_id IN
                     (SELECT id FROM agent_keys WHERE tenant_id = ?1 AND owner_id = ?2)",
                "UPDATE agent_keys SET revoked_at = COALESCE(revoked_at, ?3)
                 WHERE tenant_id = ?1 AND owner_id = ?2",
            ] {
                let now_us = us(now);
                if sql.contains("?3") {
                    tx.execute(sql, params![t, u, now_us]).map_err(map_err)?;
                } else {
                    tx.execute(sql, params![t, u]).map_err(map_err)?;
                }
            }
            let voided = super::invitations::void_sent(tx, &t, &u, now)?;
            let mut events = vec![event.clone()];
            events.extend(
                voided
                    .iter()
                    .map(|inv| super::invitations::voided_event(&event, inv)),
            );
            Ok(((), events))
        })
        .await
    }
}
