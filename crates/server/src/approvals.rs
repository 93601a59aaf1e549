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
//! expire. Every step is audited in the same transaction.

use chrono::{DateTime, Duration, Utc};
use keyhold_core::api::{
    Approval, ApprovalOperation, ApprovalQuery, ApprovalStatus, ApproveRequest,
    CreateApprovalRequest, DenyRequest, MAX_PAGE_LIMIT, Page, PersonRef, RequestedBy,
    TenantSettings,
};
use keyhold_core::duration;
use keyhold_core::email::clean_text;
use keyhold_core::scope::Action;
use keyhold_core::tier::Tier;

use crate::agent_keys::agent_allows;
use crate::audit::{ActorKind, ClientInfo, NewEvent, Outcome};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{SecretsCaller, Session};
use crate::state::AppState;
use crate::store::{
    ALREADY_VOTED, ApprovalRecord, ApprovalView, ExpiryEvent, NOT_OPEN, NOT_PENDING, Requester,
    SecretRecord, StoreError,
};

const NOT_APPROVER: &str = "Only approvers, admins and owners of the tenant decide approvals.";
const OWN_KEY: &str = "You cannot approve your own request, or one made by an agent key you own.";
const NOT_IN_SCOPE: &str = "Your scopes do not allow this on this secret.";
const ADMINS_ONLY: &str = "Only owners and admins can change the tenant's settings.";

/// The longest a request may wait, and a grant stay open, whatever the settings say.
const MAX_REQUEST_TTL: Duration = Duration::days(7);
const MAX_GRANT_TTL: Duration = Duration::hours(24);
const MAX_DELAY: Duration = Duration::hours(24);
const MAX_TOKEN_TTL_LIMIT: Duration = Duration::days(30);

/// Tenant settings, parsed and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub sensitive: u32,
    pub critical: u32,
    pub critical_delay: Duration,
    pub request_ttl: Duration,
    pub grant_ttl: Duration,
    pub max_token_ttl: Duration,
}

fn field(name: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("field".into(), name.into());
    m
}

fn invalid(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::Invalid {
        message: message.into(),
        extra: field(name),
    }
}

/// A duration setting between `min` and `max`; `"0s"`/`"0m"`/`"0h"` mean zero.
fn setting(name: &str, text: &str, min: Duration, max: Duration) -> ApiResult<Duration> {
    let d = if matches!(text, "0" | "0s" | "0m" | "0h") {
        Duration::zero()
    } else {
        duration::parse(text).map_err(|e| invalid(name, format!("{name}: {e}.")))?
    };
    if d < min || d > max {
        return Err(invalid(
            name,
            format!(
                "{name} must be between {} and {}.",
                if min.is_zero() {
                    "0s".to_owned()
                } else {
                    duration::format(min)
                },
                duration::format(max)
            ),
        ));
    }
    Ok(d)
}

/// Validate settings: 1–5 approvals for sensitive and 2–5 for critical (critical at least
/// as many as sensitive; a critical secret never opens on one person's word), delay
/// 0–24 h, request TTL 5 min–7 days, grant TTL 1 min–24 h, max token TTL 1 min–30 days.
pub fn rules(s: &TenantSettings) -> ApiResult<Rules> {
    let a = &s.approvals;
    for (name, n, floor) in [
        ("approvals.sensitive", a.sensitive, 1),
        ("approvals.critical", a.critical, 2),
    ] {
        if !(floor..=5).contains(&n) {
            return Err(invalid(
                name,
                format!("{name} must be between {floor} and 5."),
            ));
        }
    }
    if a.critical < a.sensitive {
        return Err(invalid(
            "approvals.critical",
            "approvals.critical must be at least approvals.sensitive.",
        ));
    }
    Ok(Rules {
        sensitive: a.sensitive,
        critical: a.critical,
        critical_delay: setting(
            "approvals.critical_delay",
            &a.critical_delay,
            Duration::zero(),
            MAX_DELAY,
        )?,
        request_ttl: setting(
            "approvals.request_ttl",
            &a.request_ttl,
            Duration::minutes(5),
            MAX_REQUEST_TTL,
        )?,
        grant_ttl: setting(
            "approvals.grant_ttl",
            &a.grant_ttl,
            Duration::minutes(1),
            MAX_GRANT_TTL,
        )?,
        max_token_ttl: setting(
            "max_token_ttl",
            &s.max_token_ttl,
            Duration::minutes(1),
            MAX_TOKEN_TTL_LIMIT,
        )?,
    })
}

pub async fn settings(st: &AppState, tenant_id: &str) -> ApiResult<TenantSettings> {
    Ok(st
        .store
        .tenant_settings(tenant_id)
        .await?
        .unwrap_or_default())
}

pub async fn rules_of(st: &AppState, tenant_id: &str) -> ApiResult<Rules> {
    rules(&settings(st, tenant_id).await?)
}

/// `GET /v1/tenant/settings`: every member may read them.
pub async fn get_settings(st: &AppState, s: &Session) -> ApiResult<TenantSettings> {
    settings(st, s.tenant_id()).await
}

/// `PUT /v1/tenant/settings` (owners and admins, sudo window checked by the guard),
/// audited as `tenant.settings_changed` and mailed to every owner and admin.
pub async fn put_settings(
    st: &AppState,
    s: &Session,
    req: TenantSettings,
    client: &ClientInfo,
) -> ApiResult<TenantSettings> {
    let now = st.clock.now();
    let base = NewEvent::new("tenant.settings_changed", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("tenant:{}", s.tenant_id()));
    if !s.user.role.is_admin() {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(ApiError::Forbidden(ADMINS_ONLY));
    }
    rules(&req)?;
    let before = settings(st, s.tenant_id()).await?;
    let ev = base
        .detail("before", serde_json::to_value(&before).unwrap_or_default())
        .detail("after", serde_json::to_value(&req).unwrap_or_default());
    st.store
        .put_tenant_settings(s.tenant_id(), req.clone(), now, ev)
        .await?;
    crate::notices::settings_changed(st, s, &before, &req, now, client).await;
    Ok(req)
}

/// The wire form of a request. Agents see approvers' names and decisions, not their
/// email addresses or comments.
fn to_api(v: ApprovalView, for_agent: bool) -> Approval {
    let r = v.record;
    let hide = |mut p: PersonRef| {
        if for_agent {
            p.email = None;
        }
        p
    };
    let requested_by = match (&r.requester, v.key_name) {
        (Requester::Agent { key_id, token_id }, Some(key_name)) => RequestedBy::Agent {
            key_id: key_id.clone(),
            key_name,
            owner: hide(v.owner),
            token_id: token_id.clone(),
        },
        _ => RequestedBy::Person {
            user: hide(v.owner),
        },
    };
    let approvals = v
        .votes
        .into_iter()
        .map(|mut vote| {
            vote.user = hide(vote.user);
            if for_agent {
                vote.comment = None;
            }
            vote
        })
        .collect();
    Approval {
        id: r.id,
        path: r.path,
        tier: r.tier,
        operation: r.operation,
        to_tier: r.to_tier,
        requested_by,
        reason: r.reason,
        requested_at: r.requested_at,
        expires_at: r.expires_at,
        approvals,
        required_approvals: r.required_approvals,
        eligible_approvers: v.eligible_approvers,
        status: r.status,
        available_at: r.available_at,
        grant_expires_at: r.grant_expires_at,
        denied_by: v.denied_by.map(hide),
        deny_reason: r.deny_reason,
        used_at: r.used_at,
        void_reason: r.void_reason,
    }
}

fn expiry_event(now: DateTime<Utc>, client: &ClientInfo) -> ExpiryEvent {
    let client = client.clone();
    Box::new(move |r: &ApprovalRecord| {
        let mut ev = NewEvent::new("approval.expired", now, &client)
            .tenant(&r.tenant_id)
            .target(format!("approval:{}", r.id))
            .detail("path", r.path.as_str())
            .detail("operation", r.operation.as_str())
            .detail("requester", r.requester.column())
            .detail(
                "was",
                if r.used_at.is_none() && r.available_at.is_some() {
                    "approved"
                } else {
                    "pending"
                },
            );
        ev.actor_kind = ActorKind::System;
        ev
    })
}

/// The `approval.voided` event of a request voided by a change to its secret: same actor,
/// time and address as the change (`base`), which the voided request names.
pub fn voided_event(base: &NewEvent, r: &ApprovalRecord, reason: &'static str) -> NewEvent {
    let mut ev = base.clone();
    ev.action = "approval.voided";
    ev.outcome = Outcome::Success;
    ev.target = Some(format!("approval:{}", r.id));
    ev.detail = serde_json::json!({
        "path": r.path.as_str(),
        "operation": r.operation.as_str(),
        "tier": r.tier.as_str(),
        "requester": r.requester.column(),
        "reason": reason,
        "by": base.action,
    });
    ev
}

/// The 403 a caller gets while its request is not usable.
pub fn required(r: &ApprovalRecord, eligible_approvers: u32) -> ApiError {
    ApiError::ApprovalRequired {
        approval_id: r.id.clone(),
        required_approvals: r.required_approvals,
        eligible_approvers,
        operation: r.operation.as_str(),
        status: r.status.as_str(),
        available_at: r.available_at,
    }
}

/// Whether the request's grant can be used now.
pub fn usable(r: &ApprovalRecord, now: DateTime<Utc>) -> bool {
    r.status == ApprovalStatus::Approved
        && r.available_at.is_some_and(|a| a <= now)
        && r.grant_expires_at.is_some_and(|g| g > now)
}

/// Who is asking, as the store records it.
fn requester_of(c: &SecretsCaller) -> Requester {
    match c {
        SecretsCaller::Session(s) => Requester::Person {
            user_id: s.user.id.clone(),
        },
        SecretsCaller::Key(k) => Requester::Agent {
            key_id: k.key.id.clone(),
            token_id: None,
        },
        SecretsCaller::Token(t) => Requester::Agent {
            key_id: t.key.id.clone(),
            token_id: Some(t.token.id.clone()),
        },
    }
}

/// The person who may not approve `c`'s requests: the person, or the key's owner.
fn answerable(c: &SecretsCaller) -> &str {
    match c {
        SecretsCaller::Session(s) => &s.user.id,
        SecretsCaller::Key(k) => &k.key.owner_id,
        SecretsCaller::Token(t) => &t.key.owner_id,
    }
}

fn tenant_of(c: &SecretsCaller) -> &str {
    match c {
        SecretsCaller::Session(s) => s.tenant_id(),
        SecretsCaller::Key(k) => &k.key.tenant_id,
        SecretsCaller::Token(t) => &t.token.tenant_id,
    }
}

/// An event whose actor is the caller (a person, an agent key, or a token and its key).
pub(crate) fn caller_event(
    c: &SecretsCaller,
    action: &'static str,
    now: DateTime<Utc>,
    client: &ClientInfo,
) -> NewEvent {
    let ev = NewEvent::new(action, now, client);
    match c {
        SecretsCaller::Session(s) => ev.user(s.tenant_id(), &s.user.id),
        SecretsCaller::Key(k) => ev
            .tenant(&k.key.tenant_id)
            .actor(ActorKind::AgentKey, &k.key.id),
        SecretsCaller::Token(t) => ev
            .tenant(&t.token.tenant_id)
            .actor(ActorKind::Token, &t.token.id)
            .detail("key_id", t.key.id.clone()),
    }
}

/// What a gated call asks to do with one secret.
#[derive(Clone, Copy, Debug)]
pub struct Ask<'a> {
    pub secret: &'a SecretRecord,
    pub operation: ApprovalOperation,
    pub to_tier: Option<Tier>,
}

/// The caller's open request for this operation on this secret, created (and audited as
/// `approval.requested`) when there is none. Never two open requests per requester, path
/// and operation. The request records the secret's identity and its tier now.
pub async fn open_request(
    st: &AppState,
    c: &SecretsCaller,
    ask: Ask<'_>,
    reason: Option<String>,
    client: &ClientInfo,
) -> ApiResult<ApprovalRecord> {
    let tenant_id = tenant_of(c).to_owned();
    let r = rules_of(st, &tenant_id).await?;
    let now = st.clock.now();
    let tier = ask.secret.tier;
    let (required_approvals, delay) = match tier {
        Tier::Critical => (r.critical, r.critical_delay),
        _ => (r.sensitive, Duration::zero()),
    };
    let new = ApprovalRecord {
        id: crate::accounts::new_id(),
        tenant_id,
        path: ask.secret.path.clone(),
        secret_id: Some(ask.secret.id.clone()),
        tier,
        operation: ask.operation,
        to_tier: ask.to_tier,
        requester: requester_of(c),
        reason: reason.clone(),
        required_approvals,
        delay_secs: delay.num_seconds(),
        grant_ttl_secs: r.grant_ttl.num_seconds(),
        status: ApprovalStatus::Pending,
        requested_at: now,
        expires_at: now + r.request_ttl,
        available_at: None,
        grant_expires_at: None,
        decided_at: None,
        denied_by: None,
        deny_reason: None,
        used_at: None,
        void_reason: None,
    };
    let mut requested = caller_event(c, "approval.requested", now, client)
        .target(format!("approval:{}", new.id))
        .detail("path", ask.secret.path.as_str())
        .detail("tier", tier.as_str())
        .detail("operation", ask.operation.as_str())
        .detail("required_approvals", required_approvals)
        .detail("delay_secs", delay.num_seconds());
    if let Some(t) = ask.to_tier {
        requested = requested.detail("to_tier", t.as_str());
    }
    if let Some(reason) = &reason {
        requested = requested.detail("reason", reason.clone());
    }
    let (record, _created) = st
        .store
        .open_approval(new, expiry_event(now, client), requested)
        .await?;
    Ok(record)
}

/// The 403 for `r`, with how many people could approve it.
pub async fn refusal(st: &AppState, c: &SecretsCaller, r: &ApprovalRecord) -> ApiResult<ApiError> {
    let eligible = st
        .store
        .eligible_approvers(tenant_of(c), r.tier, answerable(c))
        .await?;
    Ok(required(r, eligible))
}

/// Whether `op` on `secret` needs a grant for `c` (API.md "Approvals").
fn gated(
    c: &SecretsCaller,
    secret: &SecretRecord,
    op: ApprovalOperation,
    to: Option<Tier>,
) -> bool {
    match op {
        ApprovalOperation::Read | ApprovalOperation::Delete => secret.tier.needs_approval(),
        ApprovalOperation::LowerTier => to.is_some_and(|t| t < secret.tier),
        ApprovalOperation::AgentWrite => {
            !matches!(c, SecretsCaller::Session(_)) && secret.tier == Tier::Critical
        }
    }
}

/// `POST /v1/approvals`: ask ahead of the gated call, for any operation the gate covers.
pub async fn create(
    st: &AppState,
    c: &SecretsCaller,
    req: CreateApprovalRequest,
    client: &ClientInfo,
) -> ApiResult<Approval> {
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
        return Err(ApiError::Forbidden(NOT_IN_SCOPE));
    }
    let reason = clean_text(&req.reason, 500).ok_or_else(|| {
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
        .ok_or(ApiError::NotFound)?;
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
        .ok_or(ApiError::NotFound)?;
    Ok(to_api(v, is_agent(c)))
}

fn is_agent(c: &SecretsCaller) -> bool {
    !matches!(c, SecretsCaller::Session(_))
}

/// `GET /v1/approvals`: approvers see the tenant's requests; an agent its key's own.
pub async fn list(
    st: &AppState,
    c: &SecretsCaller,
    q: &ApprovalQuery,
    client: &ClientInfo,
) -> ApiResult<Page<Approval>> {
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
pub async fn get(
    st: &AppState,
    c: &SecretsCaller,
    id: &str,
    client: &ClientInfo,
) -> ApiResult<Approval> {
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
        .ok_or(ApiError::NotFound)?;
    Ok(to_api(v, is_agent(c)))
}

/// Load a request for a decision by `s`: 404 outside the tenant, 403 without the role,
/// 403 for a request from a key `s` owns. Refusals are audited with `action`.
async fn for_decision(
    st: &AppState,
    s: &Session,
    id: &str,
    action: &'static str,
    client: &ClientInfo,
) -> ApiResult<ApprovalView> {
    let now = st.clock.now();
    st.store
        .expire_approvals(s.tenant_id(), now, expiry_event(now, client))
        .await?;
    let v = st
        .store
        .approval(s.tenant_id(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let refuse = |reason: &'static str| {
        NewEvent::new(action, now, client)
            .user(s.tenant_id(), &s.user.id)
            .target(format!("approval:{id}"))
            .outcome(Outcome::Denied)
            .detail("reason", reason)
    };
    if !s.user.role.can_approve() {
        st.store.append_event(refuse("role")).await?;
        return Err(ApiError::Forbidden(NOT_APPROVER));
    }
    if action == "approval.approved" && v.owner.id == s.user.id {
        let reason = match v.record.requester {
            Requester::Person { .. } => "own_request",
            Requester::Agent { .. } => "own_key",
        };
        st.store.append_event(refuse(reason)).await?;
        return Err(ApiError::Forbidden(OWN_KEY));
    }
    Ok(v)
}

/// `POST /v1/approvals/{id}/approve`.
pub async fn approve(
    st: &AppState,
    s: &Session,
    id: &str,
    req: ApproveRequest,
    client: &ClientInfo,
) -> ApiResult<Approval> {
    let v = for_decision(st, s, id, "approval.approved", client).await?;
    let comment = match req.comment.as_deref() {
        None => None,
        Some(c) => Some(clean_text(c, 500).ok_or_else(|| {
            invalid(
                "comment",
                "comment must be 1 to 500 characters with no control characters.",
            )
        })?),
    };
    if v.record.status != ApprovalStatus::Pending {
        return Err(ApiError::Conflict(NOT_PENDING));
    }
    if v.votes.iter().any(|vote| vote.user.id == s.user.id) {
        return Err(ApiError::Conflict(ALREADY_VOTED));
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
    let event = Box::new(move |votes: u32, quorum: bool| {
        NewEvent::new("approval.approved", now, &c2)
            .user(&t, &u)
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
        Err(StoreError::Conflict(m)) => return Err(ApiError::Conflict(m)),
        Err(e) => return Err(e.into()),
    }
    let v = st
        .store
        .approval(s.tenant_id(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(to_api(v, false))
}

/// `POST /v1/approvals/{id}/deny`: any approver may deny, also during a critical delay.
pub async fn deny(
    st: &AppState,
    s: &Session,
    id: &str,
    req: DenyRequest,
    client: &ClientInfo,
) -> ApiResult<Approval> {
    let reason = clean_text(&req.reason, 500).ok_or_else(|| {
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
    match st
        .store
        .deny_approval(s.tenant_id(), id, &s.user.id, reason, now, ev)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(m)) if m == NOT_OPEN => return Err(ApiError::Conflict(NOT_OPEN)),
        Err(e) => return Err(e.into()),
    }
    let v = st
        .store
        .approval(s.tenant_id(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(to_api(v, false))
}

/// Requests waiting on `user` (for the security score): pending, not from their keys, not
/// yet approved by them.
pub async fn pending_for(st: &AppState, s: &Session) -> ApiResult<u32> {
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
pub async fn feed_item(st: &AppState, c: &SecretsCaller, id: &str) -> ApiResult<Option<Approval>> {
    Ok(st
        .store
        .approval(tenant_of(c), id)
        .await?
        .filter(|v| may_see(c, v))
        .map(|v| to_api(v, is_agent(c))))
}
