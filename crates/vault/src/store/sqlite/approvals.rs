//! [`ApprovalStore`] on SQLite.

use crate::store::Conflict;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{
    ApprovalOperation, ApprovalStatus, ApprovalVote, PersonRef, Role, TenantSettings,
};
use keyhold_core::tier::Tier;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::grants::{
    ELIGIBLE_VOTES, REQ_COLS, eligible, expire_due, req_row, requeue_short, spend_grant,
};

use super::invitations::{INV_COLS, inv_row, void_sent, voided_event};
use super::{SqliteStore, USER_COLS, from_us, is_unique_violation, map_err, us, user_row};
use crate::store::event::NewEvent;
use crate::store::{
    ApprovalRecord, ApprovalStore, ApprovalView, ExpiryEvent, InvitationRecord, Requester,
    StoreError, StoreResult, UserRecord, VoteEvent,
};

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
                    email: Some(r.get(1)?),
                    display_name: r.get(2)?,
                })
            })
        })
        .map_err(map_err)
}

fn view(c: &Connection, record: ApprovalRecord) -> StoreResult<ApprovalView> {
    let t = record.tenant_id.clone();
    let (key_name, owner_id) = match &record.requester {
        Requester::Agent { key_id, .. } => {
            let (name, owner): (String, String) = c
                .prepare_cached(
                    "SELECT name, owner_id FROM agent_keys WHERE tenant_id = ?1 AND id = ?2",
                )
                .and_then(|mut s| s.query_row([&t, key_id], |r| Ok((r.get(0)?, r.get(1)?))))
                .map_err(map_err)?;
            (Some(name), owner)
        }
        Requester::Person { user_id } => (None, user_id.clone()),
    };
    let owner = person(c, &t, &owner_id)?;
    let votes = c
        .prepare_cached(
            "SELECT u.id, u.email, u.display_name, v.at, v.comment FROM approval_votes v
             JOIN users u ON u.tenant_id = v.tenant_id AND u.id = v.user_id
             WHERE v.tenant_id = ?1 AND v.request_id = ?2
               AND u.removed_at IS NULL AND u.role IN ('owner', 'admin', 'approver')
             ORDER BY v.at, u.id",
        )
        .and_then(|mut s| {
            s.query_map([&t, &record.id], |r| {
                Ok(ApprovalVote {
                    user: PersonRef {
                        id: r.get(0)?,
                        email: Some(r.get(1)?),
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
    let eligible_approvers = eligible(c, &t, record.tier, &owner_id)?;
    Ok(ApprovalView {
        record,
        key_name,
        owner,
        votes,
        denied_by,
        eligible_approvers,
    })
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
            let mut events: Vec<NewEvent> = done.iter().map(&expired).collect();
            let requester = new.requester.column();
            let to_tier = new.to_tier.map(Tier::as_str);
            let open = tx
                .prepare_cached(&format!(
                    "SELECT {REQ_COLS} FROM approval_requests r
                     WHERE r.tenant_id = ?1 AND r.requester = ?2 AND r.path = ?3
                       AND r.operation = ?4 AND COALESCE(r.to_tier, '') = COALESCE(?5, '')
                       AND r.status IN ('pending', 'approved')"
                ))
                .and_then(|mut s| {
                    s.query_row(
                        params![
                            new.tenant_id,
                            requester,
                            new.path.as_str(),
                            new.operation.as_str(),
                            to_tier
                        ],
                        req_row,
                    )
                    .optional()
                })
                .map_err(map_err)?;
            match open {
                // Still about the same secret: reuse it.
                Some(r) if r.secret_id == new.secret_id => return Ok(((r, false), events)),
                // Made for a secret that is gone: it can never be used.
                // Made for a secret that is gone (only rows from before requests recorded
                // the secret): it can never be used, so it lapses now.
                Some(mut r) => {
                    tx.execute(
                        "UPDATE approval_requests SET status = 'expired',
                             decided_at = COALESCE(decided_at, ?3)
                         WHERE tenant_id = ?1 AND id = ?2",
                        params![r.tenant_id, r.id, us(now)],
                    )
                    .map_err(map_err)?;
                    r.status = ApprovalStatus::Expired;
                    events.push(expired(&r));
                }
                None => {}
            }
            let (key_id, token_id, user_id) = match &new.requester {
                Requester::Agent { key_id, token_id } => (Some(key_id), token_id.as_ref(), None),
                Requester::Person { user_id } => (None, None, Some(user_id)),
            };
            tx.execute(
                "INSERT INTO approval_requests (id, tenant_id, path, secret_id, tier, operation,
                     to_tier, requester, key_id, token_id, user_id, reason, required_approvals,
                     delay_secs, grant_ttl_secs, status, requested_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                     'pending', ?16, ?17)",
                params![
                    new.id,
                    new.tenant_id,
                    new.path.as_str(),
                    new.secret_id,
                    new.tier.as_str(),
                    new.operation.as_str(),
                    to_tier,
                    requester,
                    key_id,
                    token_id,
                    user_id,
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
        requester: Option<&str>,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ApprovalView>> {
        let t = tenant_id.to_owned();
        let status = status.map(|s| s.as_str().to_owned());
        let key = requester.map(str::to_owned);
        let before = before_id.map(str::to_owned);
        self.run(move |c| {
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {REQ_COLS} FROM approval_requests r
                     WHERE r.tenant_id = ?1 AND (?2 IS NULL OR r.status = ?2)
                       AND (?3 IS NULL OR r.requester = ?3) AND (?4 IS NULL OR r.id < ?4)
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
                return Err(StoreError::Conflict(Conflict::NotPending));
            }
            tx.execute(
                "INSERT INTO approval_votes (request_id, tenant_id, user_id, at, comment)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![i, t, u, us(now), comment],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(Conflict::AlreadyVoted)
                } else {
                    map_err(e)
                }
            })?;
            let votes: u32 = tx
                .query_row(
                    &format!(
                        "SELECT {ELIGIBLE_VOTES} FROM approval_requests r
                         WHERE r.tenant_id = ?1 AND r.id = ?2"
                    ),
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
                    return Err(StoreError::Conflict(Conflict::NotPending));
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
                return Err(StoreError::Conflict(Conflict::NotOpen));
            }
            Ok(r)
        })
        .await
    }

    async fn consume_grant(
        &self,
        tenant_id: &str,
        id: &str,
        secret_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<bool> {
        let (t, i, sid) = (tenant_id.to_owned(), id.to_owned(), secret_id.to_owned());
        self.tx_with_events(move |tx| {
            if spend_grant(tx, &t, &i, &sid, ApprovalOperation::Read, now)? {
                Ok((true, vec![event]))
            } else {
                Ok((false, Vec::new()))
            }
        })
        .await
    }

    async fn eligible_approvers(
        &self,
        tenant_id: &str,
        tier: Tier,
        excluded: &str,
    ) -> StoreResult<u32> {
        let (t, x) = (tenant_id.to_owned(), excluded.to_owned());
        self.run(move |c| eligible(c, &t, tier, &x)).await
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
                return Err(StoreError::Conflict(Conflict::LastOwner));
            }
            requeue_short(tx, &t)
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
                return Err(StoreError::Conflict(Conflict::LastOwner));
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
            requeue_short(tx, &t)?;
            let voided = void_sent(tx, &t, &u, now)?;
            let mut events = vec![event.clone()];
            events.extend(voided.iter().map(|inv| voided_event(&event, inv)));
            Ok(((), events))
        })
        .await
    }
}
