//! The SQL of the approval gate on PostgreSQL: which votes still count, who could approve
//! at all, voiding a secret's open requests when it changes, spending a grant inside the
//! action's transaction, sending requests back to pending when a voter loses the right,
//! and closing requests whose time is up; and how a request row reads.
//!
//! Several replicas run these at once, so each decision is made where PostgreSQL
//! serialises it: a grant is spent by one conditional UPDATE (a second spender waits for
//! the first's commit, then finds the row no longer `approved`), and the statements that
//! read rows before changing them (`void_open`, `expire_due`) lock them first with
//! `FOR UPDATE`, in id order so that two such transactions never lock in opposite orders.
//! A row another transaction changed meanwhile is re-checked under the lock and skipped
//! when it no longer qualifies, so each request is voided or expired, and its event
//! written, exactly once.

use super::tx::Tx;
use chrono::{DateTime, Utc};
use keyhold_core::api::{ApprovalOperation, ApprovalStatus};
use keyhold_core::path::SecretPath;
use keyhold_core::tier::Tier;
use tokio_postgres::Row;

use super::errors::bad;
use super::rows::{col, to_u32};
use super::tx::{exec, row, rows};
use crate::store::{ApprovalRecord, Requester, StoreResult};

/// The columns [`req_row`] reads, in its order, of `approval_requests r`.
pub(super) const REQ_COLS: &str =
    "r.id, r.tenant_id, r.path, r.secret_id, r.tier, r.operation, r.to_tier,
    r.key_id, r.token_id, r.user_id, r.reason, r.required_approvals, r.delay_secs,
    r.grant_ttl_secs, r.status, r.requested_at, r.expires_at, r.available_at,
    r.grant_expires_at, r.decided_at, r.denied_by, r.deny_reason, r.used_at, r.void_reason";

const WHAT: &str = "approval request";

fn tier(v: &str) -> StoreResult<Tier> {
    v.parse().map_err(|_| bad("tier"))
}

/// A request row read with [`REQ_COLS`].
pub(super) fn req_row(r: &Row) -> StoreResult<ApprovalRecord> {
    let path: String = col(r, 2, WHAT)?;
    let operation: String = col(r, 5, WHAT)?;
    let status: String = col(r, 14, WHAT)?;
    let key_id: Option<String> = col(r, 7, WHAT)?;
    let user_id: Option<String> = col(r, 9, WHAT)?;
    let requester = match (key_id, user_id) {
        (Some(key_id), None) => Requester::Agent {
            key_id,
            token_id: col(r, 8, WHAT)?,
        },
        (None, Some(user_id)) => Requester::Person { user_id },
        _ => return Err(bad("requester")),
    };
    Ok(ApprovalRecord {
        id: col(r, 0, WHAT)?,
        tenant_id: col(r, 1, WHAT)?,
        path: SecretPath::parse(&path).map_err(|_| bad("path"))?,
        secret_id: col(r, 3, WHAT)?,
        tier: tier(&col::<String>(r, 4, WHAT)?)?,
        operation: ApprovalOperation::parse(&operation).ok_or_else(|| bad("operation"))?,
        to_tier: col::<Option<String>>(r, 6, WHAT)?
            .map(|t| tier(&t))
            .transpose()?,
        requester,
        reason: col(r, 10, WHAT)?,
        required_approvals: to_u32(col(r, 11, WHAT)?, WHAT)?,
        delay_secs: col(r, 12, WHAT)?,
        grant_ttl_secs: col(r, 13, WHAT)?,
        status: ApprovalStatus::parse(&status).ok_or_else(|| bad("status"))?,
        requested_at: col(r, 15, WHAT)?,
        expires_at: col(r, 16, WHAT)?,
        available_at: col(r, 17, WHAT)?,
        grant_expires_at: col(r, 18, WHAT)?,
        decided_at: col(r, 19, WHAT)?,
        denied_by: col(r, 20, WHAT)?,
        deny_reason: col(r, 21, WHAT)?,
        used_at: col(r, 22, WHAT)?,
        void_reason: col(r, 23, WHAT)?,
    })
}

/// Every row of a query, as requests.
pub(super) fn req_rows(found: &[Row]) -> StoreResult<Vec<ApprovalRecord>> {
    found.iter().map(req_row).collect()
}

/// Votes of request `r` cast by people who may still approve: a removed or demoted
/// approver's vote drops out of the quorum until someone eligible replaces it.
pub(crate) const ELIGIBLE_VOTES: &str = "(SELECT COUNT(*) FROM approval_votes v
    JOIN users u ON u.tenant_id = v.tenant_id AND u.id = v.user_id
    WHERE v.tenant_id = r.tenant_id AND v.request_id = r.id
      AND u.removed_at IS NULL AND u.role IN ('owner', 'admin', 'approver'))";

/// See [`crate::store::ApprovalStore::eligible_approvers`].
/// Who may approve: a member of tenant $1 with an approving role, not removed, not $2
/// (the requester or the key's owner), with 2FA on when $3 (critical). Shared by the count
/// and by the approval mail's recipients, so both name the same people.
pub(super) const ELIGIBLE_APPROVER: &str =
    "u.tenant_id = $1 AND u.removed_at IS NULL AND u.id <> $2
           AND u.role IN ('owner', 'admin', 'approver')
           AND (NOT $3 OR EXISTS (SELECT 1 FROM mfa_totp m WHERE m.tenant_id = u.tenant_id
                                  AND m.user_id = u.id AND m.confirmed_at IS NOT NULL))";

pub(super) async fn eligible(
    tx: &Tx<'_>,
    tenant_id: &str,
    tier: Tier,
    excluded: &str,
) -> StoreResult<u32> {
    let found = row(
        tx,
        &format!("SELECT COUNT(*) FROM users u WHERE {ELIGIBLE_APPROVER}"),
        &[&tenant_id, &excluded, &(tier == Tier::Critical)],
    )
    .await?;
    match found {
        Some(r) => to_u32(col(&r, 0, "approver count")?, "approver count"),
        None => Err(bad("approver count")),
    }
}

/// Void the open requests and unused grants on `path` (but `except`), with `reason`.
/// Runs in the transaction of the change that voids them (a tier raised, a delete),
/// which holds the secret's row lock, so no request of it is spent meanwhile. Returns
/// them as they were, but voided.
pub(crate) async fn void_open(
    tx: &Tx<'_>,
    tenant_id: &str,
    path: &str,
    except: Option<&str>,
    reason: &'static str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ApprovalRecord>> {
    let open = rows(
        tx,
        &format!(
            "SELECT {REQ_COLS} FROM approval_requests r
             WHERE r.tenant_id = $1 AND r.path = $2 AND r.status IN ('pending', 'approved')
               AND ($3::text IS NULL OR r.id <> $3)
             ORDER BY r.id FOR UPDATE"
        ),
        &[&tenant_id, &path, &except],
    )
    .await?;
    let mut out = req_rows(&open)?;
    let ids: Vec<&str> = out.iter().map(|r| r.id.as_str()).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    exec(
        tx,
        "UPDATE approval_requests SET status = 'voided', void_reason = $3,
             decided_at = COALESCE(decided_at, $4)
         WHERE tenant_id = $1 AND id = ANY($2)",
        &[&tenant_id, &ids, &reason, &now],
    )
    .await?;
    for r in &mut out {
        r.status = ApprovalStatus::Voided;
        r.void_reason = Some(reason.to_owned());
    }
    Ok(out)
}

/// Spend a grant once, inside the action's transaction: only while it is approved,
/// available, unexpired, for this operation on this very secret, and still backed by
/// enough eligible votes. One conditional UPDATE, so of parallel spenders on any replica
/// exactly one changes the row. `false` when it is not usable.
pub(crate) async fn spend_grant(
    tx: &Tx<'_>,
    tenant_id: &str,
    id: &str,
    secret_id: &str,
    operation: ApprovalOperation,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = exec(
        tx,
        &format!(
            "UPDATE approval_requests AS r SET status = 'used', used_at = $3
             WHERE r.tenant_id = $1 AND r.id = $2 AND r.status = 'approved'
               AND r.available_at <= $3 AND r.grant_expires_at > $3
               AND r.secret_id = $4 AND r.operation = $5
               AND {ELIGIBLE_VOTES} >= r.required_approvals"
        ),
        &[&tenant_id, &id, &now, &secret_id, &operation.as_str()],
    )
    .await?;
    Ok(n == 1)
}

/// After a role change or a removal: approved, unused requests whose eligible votes fell
/// below the quorum wait for approvals again. Run in the transaction of that change.
pub(crate) async fn requeue_short(tx: &Tx<'_>, tenant_id: &str) -> StoreResult<()> {
    exec(
        tx,
        &format!(
            "UPDATE approval_requests AS r
             SET status = 'pending', available_at = NULL, grant_expires_at = NULL,
                 decided_at = NULL
             WHERE r.tenant_id = $1 AND r.status = 'approved'
               AND {ELIGIBLE_VOTES} < r.required_approvals"
        ),
        &[&tenant_id],
    )
    .await?;
    Ok(())
}

/// Close the tenant's requests whose time is up; returns them as they were, but
/// `expired`. Locked before they change, so a request that another transaction expires
/// (or decides) first is skipped here rather than expired, and audited, twice.
pub(super) async fn expire_due(
    tx: &Tx<'_>,
    tenant_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ApprovalRecord>> {
    let due = rows(
        tx,
        &format!(
            "SELECT {REQ_COLS} FROM approval_requests r WHERE r.tenant_id = $1 AND (
                 (r.status = 'pending' AND r.expires_at <= $2)
              OR (r.status = 'approved' AND r.grant_expires_at <= $2))
             ORDER BY r.id FOR UPDATE"
        ),
        &[&tenant_id, &now],
    )
    .await?;
    let mut out = req_rows(&due)?;
    let ids: Vec<&str> = out.iter().map(|r| r.id.as_str()).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    exec(
        tx,
        "UPDATE approval_requests SET status = 'expired', decided_at = COALESCE(decided_at, $3)
         WHERE tenant_id = $1 AND id = ANY($2)",
        &[&tenant_id, &ids, &now],
    )
    .await?;
    for r in &mut out {
        r.status = ApprovalStatus::Expired;
    }
    Ok(out)
}
