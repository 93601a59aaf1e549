//! [`ApprovalStore`] on SQLite: requests, votes, denials and grants (the grant and
//! expiry statements that secrets' writes share are in `grants`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{ApprovalOperation, ApprovalStatus, ApprovalVote, PersonRef};
use keyhold_core::tier::Tier;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::connection::SqliteStore;
use super::errors::{is_unique_violation, map_err};
use super::grants::{ELIGIBLE_VOTES, REQ_COLS, eligible, expire_due, req_row, spend_grant};
use super::rows::{from_us, us};
use crate::store::event::NewEvent;
use crate::store::{
    ApprovalRecord, ApprovalStore, ApprovalView, Conflict, ExpiryEvent, Requester, StoreError,
    StoreResult, VoteEvent,
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

/// The open (pending or approved) request of the same requester, path, operation and
/// target tier as `new`, if any: `open_approval` reuses it rather than asking twice.
fn find_open(tx: &Transaction<'_>, new: &ApprovalRecord) -> StoreResult<Option<ApprovalRecord>> {
    tx.prepare_cached(&format!(
        "SELECT {REQ_COLS} FROM approval_requests r
         WHERE r.tenant_id = ?1 AND r.requester = ?2 AND r.path = ?3
           AND r.operation = ?4 AND COALESCE(r.to_tier, '') = COALESCE(?5, '')
           AND r.status IN ('pending', 'approved')"
    ))
    .and_then(|mut s| {
        s.query_row(
            params![
                new.tenant_id,
                new.requester.column(),
                new.path.as_str(),
                new.operation.as_str(),
                new.to_tier.map(Tier::as_str)
            ],
            req_row,
        )
        .optional()
    })
    .map_err(map_err)
}

/// Close an open request that can never be used (its secret is gone) as expired.
fn lapse(
    tx: &Transaction<'_>,
    mut r: ApprovalRecord,
    now: DateTime<Utc>,
) -> StoreResult<ApprovalRecord> {
    tx.execute(
        "UPDATE approval_requests SET status = 'expired',
             decided_at = COALESCE(decided_at, ?3)
         WHERE tenant_id = ?1 AND id = ?2",
        params![r.tenant_id, r.id, us(now)],
    )
    .map_err(map_err)?;
    r.status = ApprovalStatus::Expired;
    Ok(r)
}

/// Insert `new` as a pending request, with the rules in force copied into it.
fn insert_request(tx: &Transaction<'_>, new: &ApprovalRecord) -> StoreResult<()> {
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
            new.to_tier.map(Tier::as_str),
            new.requester.column(),
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
    Ok(())
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
            match find_open(tx, &new)? {
                // Still about the same secret: reuse it.
                Some(r) if r.secret_id == new.secret_id => return Ok(((r, false), events)),
                // Made for a secret that is gone (only rows from before requests recorded
                // the secret): it can never be used, so it lapses now.
                Some(r) => events.push(expired(&lapse(tx, r, now)?)),
                None => {}
            }
            insert_request(tx, &new)?;
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
}
