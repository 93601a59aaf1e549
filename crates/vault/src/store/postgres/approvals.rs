//! [`ApprovalStore`] on PostgreSQL: requests, votes, denials and grants (the grant and
//! expiry statements that secrets' writes share are in `grants`).
//!
//! What SQLite's single writer serialised, replicas serialise here: a vote locks its
//! request's row first, so votes on one request count one after another (each sees the
//! votes committed before it, and the quorum is reached exactly once); one person's vote
//! sent twice meets the vote table's primary key (`AlreadyVoted`). Opening a request locks
//! the open one it finds, and inserts with `ON CONFLICT DO NOTHING` on the "one open
//! request" index: of parallel requests one inserts and the others, once it commits,
//! find and return it. A deny and a grant's use are single conditional UPDATEs.

use super::tx::Tx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{ApprovalOperation, ApprovalStatus, ApprovalVote, PersonRef};
use keyhold_core::tier::Tier;
use tokio_postgres::Row;

use super::connection::PostgresStore;
use super::errors::bad;
use super::events::{append, append_all};
use super::grants::{
    ELIGIBLE_VOTES, REQ_COLS, eligible, expire_due, req_row, req_rows, spend_grant,
};
use super::rows::{col, to_u32};
use super::tx::{Acting, begin, commit, exec, exec_unique, row, rows};
use crate::store::event::NewEvent;
use crate::store::{
    ApprovalRecord, ApprovalStore, ApprovalView, Conflict, ExpiryEvent, Requester, StoreError,
    StoreResult, VoteEvent,
};

/// How often `open_approval` looks again after its insert met a request another
/// transaction opened meanwhile; that request is committed by then, so one more look
/// finds it unless it was closed in the same instant.
const OPEN_TRIES: usize = 3;

/// Request `id`; with `lock`, its row is locked until the transaction ends.
async fn get_req(
    tx: &Tx<'_>,
    tenant_id: &str,
    id: &str,
    lock: bool,
) -> StoreResult<Option<ApprovalRecord>> {
    let sql = format!(
        "SELECT {REQ_COLS} FROM approval_requests r WHERE r.tenant_id = $1 AND r.id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let found = row(tx, &sql, &[&tenant_id, &id]).await?;
    found.as_ref().map(req_row).transpose()
}

fn person_row(r: &Row) -> StoreResult<PersonRef> {
    Ok(PersonRef {
        id: col(r, 0, "person")?,
        email: Some(col(r, 1, "person")?),
        display_name: col(r, 2, "person")?,
    })
}

async fn person(tx: &Tx<'_>, tenant_id: &str, user_id: &str) -> StoreResult<PersonRef> {
    let found = row(
        tx,
        "SELECT id, email, display_name FROM users WHERE tenant_id = $1 AND id = $2",
        &[&tenant_id, &user_id],
    )
    .await?;
    found
        .as_ref()
        .map(person_row)
        .ok_or_else(|| bad("person"))?
}

/// The votes of request `id` that still count, oldest first.
async fn votes(tx: &Tx<'_>, tenant_id: &str, id: &str) -> StoreResult<Vec<ApprovalVote>> {
    let found = rows(
        tx,
        "SELECT u.id, u.email, u.display_name, v.at, v.comment FROM approval_votes v
         JOIN users u ON u.tenant_id = v.tenant_id AND u.id = v.user_id
         WHERE v.tenant_id = $1 AND v.request_id = $2
           AND u.removed_at IS NULL AND u.role IN ('owner', 'admin', 'approver')
         ORDER BY v.at, u.id COLLATE \"C\"",
        &[&tenant_id, &id],
    )
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(ApprovalVote {
                user: person_row(r)?,
                at: col(r, 3, "vote")?,
                comment: col(r, 4, "vote")?,
            })
        })
        .collect()
}

async fn view(tx: &Tx<'_>, record: ApprovalRecord) -> StoreResult<ApprovalView> {
    let t = record.tenant_id.clone();
    let (key_name, owner_id) = match &record.requester {
        Requester::Agent { key_id, .. } => {
            let found = row(
                tx,
                "SELECT name, owner_id FROM agent_keys WHERE tenant_id = $1 AND id = $2",
                &[&t, key_id],
            )
            .await?
            .ok_or_else(|| bad("agent key"))?;
            let name: String = col(&found, 0, "agent key")?;
            (Some(name), col::<String>(&found, 1, "agent key")?)
        }
        Requester::Person { user_id } => (None, user_id.clone()),
    };
    let owner = person(tx, &t, &owner_id).await?;
    let votes = votes(tx, &t, &record.id).await?;
    let denied_by = match &record.denied_by {
        Some(u) => Some(person(tx, &t, u).await?),
        None => None,
    };
    let eligible_approvers = eligible(tx, &t, record.tier, &owner_id).await?;
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
/// target tier as `new`, if any, locked: `open_approval` reuses it rather than asking
/// twice, or lapses it.
async fn find_open(tx: &Tx<'_>, new: &ApprovalRecord) -> StoreResult<Option<ApprovalRecord>> {
    let found = row(
        tx,
        &format!(
            "SELECT {REQ_COLS} FROM approval_requests r
             WHERE r.tenant_id = $1 AND r.requester = $2 AND r.path = $3
               AND r.operation = $4 AND COALESCE(r.to_tier, '') = COALESCE($5, '')
               AND r.status IN ('pending', 'approved')
             FOR UPDATE"
        ),
        &[
            &new.tenant_id,
            &new.requester.column(),
            &new.path.as_str(),
            &new.operation.as_str(),
            &new.to_tier.map(Tier::as_str),
        ],
    )
    .await?;
    found.as_ref().map(req_row).transpose()
}

/// Close an open request that can never be used (its secret is gone) as expired.
async fn lapse(
    tx: &Tx<'_>,
    mut r: ApprovalRecord,
    now: DateTime<Utc>,
) -> StoreResult<ApprovalRecord> {
    exec(
        tx,
        "UPDATE approval_requests SET status = 'expired',
             decided_at = COALESCE(decided_at, $3)
         WHERE tenant_id = $1 AND id = $2",
        &[&r.tenant_id, &r.id, &now],
    )
    .await?;
    r.status = ApprovalStatus::Expired;
    Ok(r)
}

/// Insert `new` as a pending request, with the rules in force copied into it, unless an
/// open request of the same kind exists (committed by another transaction meanwhile,
/// which this insert waits for): `false` then.
async fn insert_request(tx: &Tx<'_>, new: &ApprovalRecord) -> StoreResult<bool> {
    let (key_id, token_id, user_id) = match &new.requester {
        Requester::Agent { key_id, token_id } => (Some(key_id), token_id.as_ref(), None),
        Requester::Person { user_id } => (None, None, Some(user_id)),
    };
    let n = exec(
        tx,
        "INSERT INTO approval_requests (id, tenant_id, path, secret_id, tier, operation,
             to_tier, requester, key_id, token_id, user_id, reason, required_approvals,
             delay_secs, grant_ttl_secs, status, requested_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
             'pending', $16, $17)
         ON CONFLICT (tenant_id, requester, path, operation, (COALESCE(to_tier, '')))
             WHERE status IN ('pending', 'approved') DO NOTHING",
        &[
            &new.id,
            &new.tenant_id,
            &new.path.as_str(),
            &new.secret_id,
            &new.tier.as_str(),
            &new.operation.as_str(),
            &new.to_tier.map(Tier::as_str),
            &new.requester.column(),
            &key_id,
            &token_id,
            &user_id,
            &new.reason,
            &i64::from(new.required_approvals),
            &new.delay_secs,
            &new.grant_ttl_secs,
            &new.requested_at,
            &new.expires_at,
        ],
    )
    .await?;
    Ok(n == 1)
}

/// Hold the secret a request is made for against a change until the request commits: a
/// tier raise or a delete (which lock the row for update) then either waits for the
/// request and voids it, or commits first, as SQLite's one writer would order them.
async fn hold_secret(tx: &Tx<'_>, tenant_id: &str, secret_id: &str) -> StoreResult<()> {
    rows(
        tx,
        "SELECT 1 FROM secrets WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE",
        &[&tenant_id, &secret_id],
    )
    .await?;
    Ok(())
}

/// Cast `user_id`'s vote on the locked, pending request `r`, and approve it when the
/// votes that count reach its quorum. Returns the number of votes and whether approved.
async fn cast_vote(
    tx: &Tx<'_>,
    r: &ApprovalRecord,
    user_id: &str,
    comment: Option<String>,
    now: DateTime<Utc>,
) -> StoreResult<(u32, bool)> {
    let (t, i) = (r.tenant_id.as_str(), r.id.as_str());
    exec_unique(
        tx,
        "INSERT INTO approval_votes (request_id, tenant_id, user_id, at, comment)
         VALUES ($1, $2, $3, $4, $5)",
        &[&i, &t, &user_id, &now, &comment],
        Conflict::AlreadyVoted,
    )
    .await?;
    let found = row(
        tx,
        &format!(
            "SELECT {ELIGIBLE_VOTES} FROM approval_requests r
             WHERE r.tenant_id = $1 AND r.id = $2"
        ),
        &[&t, &i],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let votes = to_u32(col(&found, 0, "vote count")?, "vote count")?;
    let quorum = votes >= r.required_approvals;
    if quorum {
        let available = now + chrono::Duration::seconds(r.delay_secs);
        let until = available + chrono::Duration::seconds(r.grant_ttl_secs);
        let n = exec(
            tx,
            "UPDATE approval_requests
             SET status = 'approved', decided_at = $3, available_at = $4,
                 grant_expires_at = $5
             WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
            &[&t, &i, &now, &available, &until],
        )
        .await?;
        if n != 1 {
            return Err(StoreError::Conflict(Conflict::NotPending));
        }
    }
    Ok((votes, quorum))
}

#[async_trait]
impl ApprovalStore for PostgresStore {
    async fn expire_approvals(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
        expired: ExpiryEvent,
    ) -> StoreResult<Vec<ApprovalRecord>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let done = expire_due(&tx, tenant_id, now).await?;
        let events: Vec<NewEvent> = done.iter().map(expired).collect();
        append_all(&tx, &events).await?;
        commit(tx).await?;
        Ok(done)
    }

    async fn open_approval(
        &self,
        new: ApprovalRecord,
        expired: ExpiryEvent,
        requested: NewEvent,
    ) -> StoreResult<(ApprovalRecord, bool)> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(&new.tenant_id)).await?;
        let now = new.requested_at;
        if let Some(sid) = &new.secret_id {
            hold_secret(&tx, &new.tenant_id, sid).await?;
        }
        let done = expire_due(&tx, &new.tenant_id, now).await?;
        let mut events: Vec<NewEvent> = done.iter().map(&expired).collect();
        for _ in 0..OPEN_TRIES {
            match find_open(&tx, &new).await? {
                // Still about the same secret: reuse it.
                Some(r) if r.secret_id == new.secret_id => {
                    append_all(&tx, &events).await?;
                    commit(tx).await?;
                    return Ok((r, false));
                }
                // Made for a secret that is gone (only rows from before requests recorded
                // the secret): it can never be used, so it lapses now.
                Some(r) => {
                    let r = lapse(&tx, r, now).await?;
                    events.push(expired(&r));
                }
                None => {}
            }
            if insert_request(&tx, &new).await? {
                events.push(requested);
                append_all(&tx, &events).await?;
                commit(tx).await?;
                return Ok((new, true));
            }
        }
        Err(StoreError::Busy)
    }

    async fn approval(&self, tenant_id: &str, id: &str) -> StoreResult<Option<ApprovalView>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = match get_req(&tx, tenant_id, id, false).await? {
            Some(r) => Some(view(&tx, r).await?),
            None => None,
        };
        commit(tx).await?;
        Ok(found)
    }

    /// Newest first by id in byte order (as SQLite compares), the cursor likewise.
    async fn list_approvals(
        &self,
        tenant_id: &str,
        status: Option<ApprovalStatus>,
        requester: Option<&str>,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ApprovalView>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = rows(
            &tx,
            &format!(
                "SELECT {REQ_COLS} FROM approval_requests r
                 WHERE r.tenant_id = $1 AND ($2::text IS NULL OR r.status = $2)
                   AND ($3::text IS NULL OR r.requester = $3)
                   AND ($4::text IS NULL OR r.id < $4 COLLATE \"C\")
                 ORDER BY r.id COLLATE \"C\" DESC LIMIT $5"
            ),
            &[
                &tenant_id,
                &status.map(ApprovalStatus::as_str),
                &requester,
                &before_id,
                &i64::from(limit),
            ],
        )
        .await?;
        let mut out = Vec::with_capacity(found.len());
        for r in req_rows(&found)? {
            out.push(view(&tx, r).await?);
        }
        commit(tx).await?;
        Ok(out)
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
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let r = get_req(&tx, tenant_id, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        if r.status != ApprovalStatus::Pending || r.expires_at <= now {
            return Err(StoreError::Conflict(Conflict::NotPending));
        }
        let (votes, quorum) = cast_vote(&tx, &r, user_id, comment, now).await?;
        let r = get_req(&tx, tenant_id, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        append(&tx, &event(votes, quorum)).await?;
        commit(tx).await?;
        Ok(r)
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
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let n = exec(
            &tx,
            "UPDATE approval_requests
             SET status = 'denied', decided_at = $3, denied_by = $4, deny_reason = $5
             WHERE tenant_id = $1 AND id = $2 AND (
                 (status = 'pending' AND expires_at > $3)
              OR (status = 'approved' AND grant_expires_at > $3))",
            &[&tenant_id, &id, &now, &user_id, &reason],
        )
        .await?;
        let r = get_req(&tx, tenant_id, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        if n != 1 {
            return Err(StoreError::Conflict(Conflict::NotOpen));
        }
        append(&tx, &event).await?;
        commit(tx).await?;
        Ok(r)
    }

    async fn consume_grant(
        &self,
        tenant_id: &str,
        id: &str,
        secret_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        if !spend_grant(&tx, tenant_id, id, secret_id, ApprovalOperation::Read, now).await? {
            commit(tx).await?;
            return Ok(false);
        }
        append(&tx, &event).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn eligible_approvers(
        &self,
        tenant_id: &str,
        tier: Tier,
        excluded: &str,
    ) -> StoreResult<u32> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let n = eligible(&tx, tenant_id, tier, excluded).await?;
        commit(tx).await?;
        Ok(n)
    }
}
