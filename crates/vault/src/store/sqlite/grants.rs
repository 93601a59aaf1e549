//! The SQL of the approval gate: which votes still count, who could approve at all,
//! voiding a secret's open requests when it changes, spending a grant inside the action's
//! transaction, sending requests back to pending when a voter loses the right, and
//! closing requests whose time is up; and how a request row reads.

use chrono::{DateTime, Utc};
use keyhold_core::api::{ApprovalOperation, ApprovalStatus};
use keyhold_core::path::SecretPath;
use keyhold_core::tier::Tier;
use rusqlite::{Connection, Transaction, params};

use super::errors::{bad, map_err};
use super::rows::{from_us, us};
use crate::store::{ApprovalRecord, Requester, StoreResult};

pub(super) const REQ_COLS: &str =
    "r.id, r.tenant_id, r.path, r.secret_id, r.tier, r.operation, r.to_tier,
    r.key_id, r.token_id, r.user_id, r.reason, r.required_approvals, r.delay_secs,
    r.grant_ttl_secs, r.status, r.requested_at, r.expires_at, r.available_at,
    r.grant_expires_at, r.decided_at, r.denied_by, r.deny_reason, r.used_at, r.void_reason";

fn opt_tier(v: Option<String>) -> rusqlite::Result<Option<Tier>> {
    v.map(|t| t.parse().map_err(|_| bad("tier"))).transpose()
}

pub(super) fn req_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApprovalRecord> {
    let path: String = r.get(2)?;
    let tier: String = r.get(4)?;
    let operation: String = r.get(5)?;
    let status: String = r.get(14)?;
    let key_id: Option<String> = r.get(7)?;
    let user_id: Option<String> = r.get(9)?;
    let requester = match (key_id, user_id) {
        (Some(key_id), None) => Requester::Agent {
            key_id,
            token_id: r.get(8)?,
        },
        (None, Some(user_id)) => Requester::Person { user_id },
        _ => return Err(bad("requester")),
    };
    Ok(ApprovalRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        path: SecretPath::parse(&path).map_err(|_| bad("path"))?,
        secret_id: r.get(3)?,
        tier: tier.parse().map_err(|_| bad("tier"))?,
        operation: ApprovalOperation::parse(&operation).ok_or_else(|| bad("operation"))?,
        to_tier: opt_tier(r.get(6)?)?,
        requester,
        reason: r.get(10)?,
        required_approvals: r.get(11)?,
        delay_secs: r.get(12)?,
        grant_ttl_secs: r.get(13)?,
        status: ApprovalStatus::parse(&status).ok_or_else(|| bad("status"))?,
        requested_at: from_us(r.get(15)?),
        expires_at: from_us(r.get(16)?),
        available_at: r.get::<_, Option<i64>>(17)?.map(from_us),
        grant_expires_at: r.get::<_, Option<i64>>(18)?.map(from_us),
        decided_at: r.get::<_, Option<i64>>(19)?.map(from_us),
        denied_by: r.get(20)?,
        deny_reason: r.get(21)?,
        used_at: r.get::<_, Option<i64>>(22)?.map(from_us),
        void_reason: r.get(23)?,
    })
}

/// Votes of request `r` cast by people who may still approve: a removed or demoted
/// approver's vote drops out of the quorum until someone eligible replaces it.
pub(crate) const ELIGIBLE_VOTES: &str = "(SELECT COUNT(*) FROM approval_votes v
    JOIN users u ON u.tenant_id = v.tenant_id AND u.id = v.user_id
    WHERE v.tenant_id = r.tenant_id AND v.request_id = r.id
      AND u.removed_at IS NULL AND u.role IN ('owner', 'admin', 'approver'))";

/// See [`ApprovalStore::eligible_approvers`].
/// Who may approve: a member of tenant ?1 with an approving role, not removed, not ?2
/// (the requester or the key's owner), with 2FA on when ?3 (critical). Shared by the count
/// and by the approval mail's recipients, so both name the same people.
pub(super) const ELIGIBLE_APPROVER: &str =
    "u.tenant_id = ?1 AND u.removed_at IS NULL AND u.id <> ?2
           AND u.role IN ('owner', 'admin', 'approver')
           AND (?3 = 0 OR EXISTS (SELECT 1 FROM mfa_totp m WHERE m.tenant_id = u.tenant_id
                                  AND m.user_id = u.id AND m.confirmed_at IS NOT NULL))";

pub(super) fn eligible(
    c: &Connection,
    tenant_id: &str,
    tier: Tier,
    excluded: &str,
) -> StoreResult<u32> {
    c.prepare_cached(&format!(
        "SELECT COUNT(*) FROM users u WHERE {ELIGIBLE_APPROVER}"
    ))
    .and_then(|mut s| {
        s.query_row(
            params![tenant_id, excluded, i64::from(tier == Tier::Critical)],
            |r| r.get(0),
        )
    })
    .map_err(map_err)
}

/// Void the open requests and unused grants on `path` (but `except`), with `reason`.
/// Runs in the transaction of the change that voids them (a tier raised, a delete).
pub(crate) fn void_open(
    tx: &Transaction<'_>,
    tenant_id: &str,
    path: &str,
    except: Option<&str>,
    reason: &'static str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ApprovalRecord>> {
    let open = tx
        .prepare_cached(&format!(
            "SELECT {REQ_COLS} FROM approval_requests r
             WHERE r.tenant_id = ?1 AND r.path = ?2 AND r.status IN ('pending', 'approved')
               AND (?3 IS NULL OR r.id <> ?3)"
        ))
        .and_then(|mut s| {
            s.query_map(params![tenant_id, path, except], req_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(map_err)?;
    let mut out = Vec::with_capacity(open.len());
    for mut r in open {
        tx.execute(
            "UPDATE approval_requests SET status = 'voided', void_reason = ?3,
                 decided_at = COALESCE(decided_at, ?4)
             WHERE tenant_id = ?1 AND id = ?2",
            params![tenant_id, r.id, reason, us(now)],
        )
        .map_err(map_err)?;
        r.status = ApprovalStatus::Voided;
        r.void_reason = Some(reason.to_owned());
        out.push(r);
    }
    Ok(out)
}

/// Spend a write or delete grant once, inside the action's transaction: only while it is
/// approved, available, unexpired, for this operation on this very secret, and still
/// backed by enough eligible votes. `false` when it is not usable.
pub(crate) fn spend_grant(
    tx: &Transaction<'_>,
    tenant_id: &str,
    id: &str,
    secret_id: &str,
    operation: ApprovalOperation,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = tx
        .prepare_cached(&format!(
            "UPDATE approval_requests AS r SET status = 'used', used_at = ?3
             WHERE r.tenant_id = ?1 AND r.id = ?2 AND r.status = 'approved'
               AND r.available_at <= ?3 AND r.grant_expires_at > ?3
               AND r.secret_id = ?4 AND r.operation = ?5
               AND {ELIGIBLE_VOTES} >= r.required_approvals"
        ))
        .and_then(|mut s| {
            s.execute(params![
                tenant_id,
                id,
                us(now),
                secret_id,
                operation.as_str()
            ])
        })
        .map_err(map_err)?;
    Ok(n == 1)
}

/// After a role change or a removal: approved, unused requests whose eligible votes fell
/// below the quorum wait for approvals again.
pub(crate) fn requeue_short(tx: &Transaction<'_>, tenant_id: &str) -> StoreResult<()> {
    tx.prepare_cached(&format!(
        "UPDATE approval_requests AS r
         SET status = 'pending', available_at = NULL, grant_expires_at = NULL, decided_at = NULL
         WHERE r.tenant_id = ?1 AND r.status = 'approved'
           AND {ELIGIBLE_VOTES} < r.required_approvals"
    ))
    .and_then(|mut s| s.execute([tenant_id]))
    .map_err(map_err)?;
    Ok(())
}

/// Close the tenant's requests whose time is up; returns them (now `expired`).
pub(super) fn expire_due(
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
