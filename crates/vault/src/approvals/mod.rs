//! Human approval for protected secrets (security invariant 6), for every caller, and the
//! tenant settings that govern it.
//!
//! A gated call (reading or deleting a `sensitive`/`critical` secret, lowering its tier,
//! an agent's write to a `critical` one) with no usable grant opens (or reuses) a request
//! and gets 403 `approval_required`, whoever asks: an agent key, a token or a person of any
//! role. Approvers (owner, admin, approver roles) approve or deny; nobody approves their
//! own request or one from a key they own, and votes of people who can no longer approve
//! drop out. A critical approval needs 2FA and a fresh TOTP code. When the quorum is
//! reached the grant opens after the delay and allows the one operation it names, on the
//! very secret (identity and tier) it was asked for, once, within the grant TTL. Raising
//! the tier or deleting the secret voids open requests and grants. Requests and grants
//! expire. Every step is audited in the same transaction. The rules themselves (quorums,
//! delay, lifetimes) are the tenant's settings, in `crate::tenant`.

use keyhold_core::api::{
    Approval, ApprovalOperation, ApprovalQuery, ApprovalStatus, ApproveRequest,
    CreateApprovalRequest, DenyRequest, MAX_PAGE_LIMIT, Page,
};
use keyhold_core::email::clean_text;
use keyhold_core::scope::Action;
use keyhold_core::tier::Tier;
use request::{expiry_event, gated, requester_of, tenant_of, to_api};

use crate::Vault;
use crate::agent_keys::agent_allows;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::{SecretsCaller, Session};
use crate::error::{Error, Result};
use crate::store::{ApprovalView, Conflict, Requester, StoreError};
use crate::tenant::invalid;

mod mail;
mod request;
pub(crate) use request::caller_event;
pub use request::{Ask, open_request, refusal, required, usable, voided_event};

const NOT_APPROVER: &str = "Only approvers, admins and owners of the tenant decide approvals.";
const OWN_KEY: &str = "You cannot approve your own request, or one made by an agent key you own.";
const NOT_IN_SCOPE: &str = "Your scopes do not allow this on this secret.";
/// `POST /v1/approvals`: ask ahead of the gated call, for any operation the gate covers.
pub async fn create(
    st: &Vault,
    c: &SecretsCaller,
    req: CreateApprovalRequest,
    client: &ClientInfo,
) -> Result<Approval> {
    let op = req.operation.unwrap_or_default();
    let action = match op {
        ApprovalOperation::Read => Action::Read,
        ApprovalOperation::Delete => Action::Delete,
        ApprovalOperation::LowerTier | ApprovalOperation::AgentWrite => Action::Write,
    };
    let allowed = match c {
        SecretsCaller::Session(_) => true,
        SecretsCaller::Key(k) => agent_allows(&k.key, None, action, &req.path),
        SecretsCaller::Token(t) => agent_allows(&t.key, Some(&t.token), action, &req.path),
    };
    if !allowed {
        return Err(Error::Forbidden(NOT_IN_SCOPE));
    }
    let reason =
        clean_text(&req.reason, keyhold_core::api::schema::MAX_REASON_CHARS).ok_or_else(|| {
            invalid(
                "reason",
                "reason must be 1 to 500 characters with no control characters.",
            )
        })?;
    if (op == ApprovalOperation::LowerTier) != req.to_tier.is_some() {
        return Err(invalid(
            "to_tier",
            "to_tier is required for operation lower_tier, and only for it.",
        ));
    }
    let secret = st
        .store
        .secret(tenant_of(c), &req.path)
        .await?
        .ok_or(Error::NotFound)?;
    if !gated(c, &secret, op, req.to_tier) {
        return Err(invalid(
            "operation",
            format!(
                "This secret is {}: {} needs no approval.",
                secret.tier.as_str(),
                op.as_str()
            ),
        ));
    }
    let ask = Ask {
        secret: &secret,
        operation: op,
        to_tier: req.to_tier,
    };
    let r = open_request(st, c, ask, Some(reason), client).await?;
    let v = st
        .store
        .approval(tenant_of(c), &r.id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(to_api(v, is_agent(c)))
}

fn is_agent(c: &SecretsCaller) -> bool {
    !matches!(c, SecretsCaller::Session(_))
}

/// `GET /v1/approvals`: approvers see the tenant's requests; an agent its key's own.
pub async fn list(
    st: &Vault,
    c: &SecretsCaller,
    q: &ApprovalQuery,
    client: &ClientInfo,
) -> Result<Page<Approval>> {
    let limit = crate::paging::limit(q.limit)?;
    let tenant_id = tenant_of(c).to_owned();
    // Approvers see the tenant's requests; everyone else (people and agents) their own.
    let requester = match c {
        SecretsCaller::Session(s) if s.user.role.can_approve() => None,
        _ => Some(requester_of(c).column()),
    };
    let now = st.clock.now();
    st.store
        .expire_approvals(&tenant_id, now, expiry_event(now, client))
        .await?;
    let before = q
        .cursor
        .as_deref()
        .map(|c| crate::paging::decode_cursor('r', c))
        .transpose()?;
    let items = st
        .store
        .list_approvals(
            &tenant_id,
            q.status,
            requester.as_deref(),
            before.as_deref(),
            limit,
        )
        .await?;
    let next_cursor = crate::paging::next_cursor(&items, limit, 'r', |v| v.record.id.clone());
    Ok(Page {
        items: items.into_iter().map(|v| to_api(v, is_agent(c))).collect(),
        next_cursor,
    })
}

/// Whether `c` may see request `v`: an approver of its tenant, or whoever asked (a key
/// sees its tokens' requests too).
fn may_see(c: &SecretsCaller, v: &ApprovalView) -> bool {
    match c {
        SecretsCaller::Session(s) if s.user.role.can_approve() => true,
        _ => requester_of(c).column() == v.record.requester.column(),
    }
}

/// `GET /v1/approvals/{id}`. Another tenant's request, or another key's, is 404.
pub async fn get(st: &Vault, c: &SecretsCaller, id: &str, client: &ClientInfo) -> Result<Approval> {
    let tenant_id = tenant_of(c).to_owned();
    let now = st.clock.now();
    st.store
        .expire_approvals(&tenant_id, now, expiry_event(now, client))
        .await?;
    let v = st
        .store
        .approval(&tenant_id, id)
        .await?
        .filter(|v| may_see(c, v))
        .ok_or(Error::NotFound)?;
    Ok(to_api(v, is_agent(c)))
}

/// Load a request for a decision by `s`: 404 outside the tenant, 403 without the role,
/// 403 for a request from a key `s` owns. Refusals are audited with `action`.
async fn for_decision(
    st: &Vault,
    s: &Session,
    id: &str,
    action: &'static str,
    client: &ClientInfo,
) -> Result<ApprovalView> {
    let now = st.clock.now();
    st.store
        .expire_approvals(s.tenant_id(), now, expiry_event(now, client))
        .await?;
    let v = st
        .store
        .approval(s.tenant_id(), id)
        .await?
        .ok_or(Error::NotFound)?;
    let refuse = |reason: &'static str| {
        NewEvent::new(action, now, client)
            .user(s.tenant_id(), &s.user.id)
            .target(format!("approval:{id}"))
            .outcome(Outcome::Denied)
            .detail("reason", reason)
    };
    if !s.user.role.can_approve() {
        st.store.append_event(refuse("role")).await?;
        return Err(Error::Forbidden(NOT_APPROVER));
    }
    if action == "approval.approved" && v.owner.id == s.user.id {
        let reason = match v.record.requester {
            Requester::Person { .. } => "own_request",
            Requester::Agent { .. } => "own_key",
        };
        st.store.append_event(refuse(reason)).await?;
        return Err(Error::Forbidden(OWN_KEY));
    }
    Ok(v)
}

/// `POST /v1/approvals/{id}/approve`.
pub async fn approve(
    st: &Vault,
    s: &Session,
    id: &str,
    req: ApproveRequest,
    client: &ClientInfo,
) -> Result<Approval> {
    let v = for_decision(st, s, id, "approval.approved", client).await?;
    let comment = match req.comment.as_deref() {
        None => None,
        Some(c) => Some(
            clean_text(c, keyhold_core::api::schema::MAX_REASON_CHARS).ok_or_else(|| {
                invalid(
                    "comment",
                    "comment must be 1 to 500 characters with no control characters.",
                )
            })?,
        ),
    };
    if v.record.status != ApprovalStatus::Pending {
        return Err(Error::Conflict(Conflict::NotPending.message()));
    }
    if v.votes.iter().any(|vote| vote.user.id == s.user.id) {
        return Err(Error::Conflict(Conflict::AlreadyVoted.message()));
    }
    if v.record.tier == Tier::Critical {
        let Some(code) = req.code.as_ref() else {
            return Err(invalid(
                "code",
                "Approving a critical request needs a fresh code from your authenticator app.",
            ));
        };
        crate::mfa::prove_for_approval(st, &s.user, code.expose(), id, client).await?;
    }
    let now = st.clock.now();
    let (t, u, path, tier, operation) = (
        s.tenant_id().to_owned(),
        s.user.id.clone(),
        v.record.path.to_string(),
        v.record.tier,
        v.record.operation,
    );
    let required = v.record.required_approvals;
    let c2 = client.clone();
    let idc = id.to_owned();
    // Sealed now, sent only if this vote completes the quorum.
    let approved_mail = mail::to_requester(st, &v, "approved", &s.user.email, None).await?;
    let event = Box::new(move |votes: u32, quorum: bool| {
        let ev = NewEvent::new("approval.approved", now, &c2);
        let ev = match approved_mail {
            Some(m) if quorum => ev.with_outbound(m),
            _ => ev,
        };
        ev.user(&t, &u)
            .target(format!("approval:{idc}"))
            .detail("path", path)
            .detail("tier", tier.as_str())
            .detail("operation", operation.as_str())
            .detail("approvals", votes)
            .detail("required_approvals", required)
            .detail("quorum", quorum)
    });
    match st
        .store
        .vote_approval(s.tenant_id(), id, &s.user.id, comment, now, event)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(m)) => return Err(Error::Conflict(m.message())),
        Err(e) => return Err(e.into()),
    }
    let v = st
        .store
        .approval(s.tenant_id(), id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(to_api(v, false))
}

/// `POST /v1/approvals/{id}/deny`: any approver may deny, also during a critical delay.
pub async fn deny(
    st: &Vault,
    s: &Session,
    id: &str,
    req: DenyRequest,
    client: &ClientInfo,
) -> Result<Approval> {
    let reason =
        clean_text(&req.reason, keyhold_core::api::schema::MAX_REASON_CHARS).ok_or_else(|| {
            invalid(
                "reason",
                "reason is required: 1 to 500 characters with no control characters.",
            )
        })?;
    let v = for_decision(st, s, id, "approval.denied", client).await?;
    let now = st.clock.now();
    let ev = NewEvent::new("approval.denied", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("approval:{id}"))
        .detail("path", v.record.path.as_str())
        .detail("tier", v.record.tier.as_str())
        .detail("operation", v.record.operation.as_str())
        .detail("reason", reason.clone())
        .detail("was", v.record.status.as_str());
    let ev = match mail::to_requester(st, &v, "denied", &s.user.email, Some(&reason)).await? {
        Some(m) => ev.with_outbound(m),
        None => ev,
    };
    match st
        .store
        .deny_approval(s.tenant_id(), id, &s.user.id, reason, now, ev)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(Conflict::NotOpen)) => {
            return Err(Error::Conflict(Conflict::NotOpen.message()));
        }
        Err(e) => return Err(e.into()),
    }
    let v = st
        .store
        .approval(s.tenant_id(), id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(to_api(v, false))
}

/// Requests waiting on `user` (for the security score): pending, not from their keys, not
/// yet approved by them.
pub async fn pending_for(st: &Vault, s: &Session) -> Result<u32> {
    if !s.user.role.can_approve() {
        return Ok(0);
    }
    let items = st
        .store
        .list_approvals(
            s.tenant_id(),
            Some(ApprovalStatus::Pending),
            None,
            None,
            MAX_PAGE_LIMIT,
        )
        .await?;
    let now = st.clock.now();
    let n = items
        .iter()
        .filter(|v| v.record.expires_at > now)
        .filter(|v| v.owner.id != s.user.id)
        .filter(|v| !v.votes.iter().any(|x| x.user.id == s.user.id))
        .count();
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Whether an approval event (by id) concerns `c`, for the live feed.
pub async fn feed_item(st: &Vault, c: &SecretsCaller, id: &str) -> Result<Option<Approval>> {
    Ok(st
        .store
        .approval(tenant_of(c), id)
        .await?
        .filter(|v| may_see(c, v))
        .map(|v| to_api(v, is_agent(c))))
}
