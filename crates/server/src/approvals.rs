//! Human approval for agents' reads of `sensitive` and `critical` secrets (security
//! invariant 6), and the tenant settings that govern it.
//!
//! An agent's read with no usable grant opens (or reuses) a request and gets 403
//! `approval_required`. Approvers (owner, admin, approver roles) approve or deny; nobody
//! approves a request from a key they own. A critical approval needs 2FA and a fresh TOTP
//! code. When the quorum of distinct approvers is reached the grant opens after the delay
//! and allows one read of exactly that path within the grant TTL, consumed atomically.
//! Requests and grants expire. Every step is audited in the same transaction.

use chrono::{DateTime, Duration, Utc};
use keyhold_core::api::{
    Approval, ApprovalQuery, ApprovalStatus, ApproveRequest, CreateApprovalRequest, DenyRequest,
    MAX_PAGE_LIMIT, Page, RequestedBy, TenantSettings,
};
use keyhold_core::duration;
use keyhold_core::email::clean_text;
use keyhold_core::path::SecretPath;
use keyhold_core::scope::Action;
use keyhold_core::tier::Tier;

use crate::agent_keys::agent_allows;
use crate::audit::{ActorKind, ClientInfo, NewEvent, Outcome};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{SecretsCaller, Session};
use crate::state::AppState;
use crate::store::{
    ALREADY_VOTED, ApprovalRecord, ApprovalView, ExpiryEvent, NOT_OPEN, NOT_PENDING, StoreError,
};

const NOT_APPROVER: &str = "Only approvers, admins and owners of the tenant decide approvals.";
const OWN_KEY: &str = "You cannot approve a request made by an agent key you own.";
const AGENTS_ONLY: &str = "Approval requests are made by agents (kha_ or kht_ credentials).";
const NOT_IN_SCOPE: &str = "Your scopes do not allow reading this secret.";
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

fn to_api(v: ApprovalView) -> Approval {
    let r = v.record;
    Approval {
        id: r.id,
        path: r.path,
        tier: r.tier,
        requested_by: RequestedBy {
            key_id: r.key_id,
            key_name: v.key_name,
            owner: v.owner,
            token_id: r.token_id,
        },
        reason: r.reason,
        requested_at: r.requested_at,
        expires_at: r.expires_at,
        approvals: v.votes,
        required_approvals: r.required_approvals,
        status: r.status,
        available_at: r.available_at,
        grant_expires_at: r.grant_expires_at,
        denied_by: v.denied_by,
        deny_reason: r.deny_reason,
        used_at: r.used_at,
    }
}

fn expiry_event(now: DateTime<Utc>, client: &ClientInfo) -> ExpiryEvent {
    let client = client.clone();
    Box::new(move |r: &ApprovalRecord| {
        let mut ev = NewEvent::new("approval.expired", now, &client)
            .tenant(&r.tenant_id)
            .target(format!("approval:{}", r.id))
            .detail("path", r.path.as_str())
            .detail("key_id", r.key_id.clone())
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

/// The 403 an agent gets while its request is not usable.
pub fn required(r: &ApprovalRecord) -> ApiError {
    ApiError::ApprovalRequired {
        approval_id: r.id.clone(),
        required_approvals: r.required_approvals,
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

fn agent_event(
    c: &SecretsCaller,
    action: &'static str,
    now: DateTime<Utc>,
    client: &ClientInfo,
) -> Option<NewEvent> {
    let ev = NewEvent::new(action, now, client);
    match c {
        SecretsCaller::Session(_) => None,
        SecretsCaller::Key(k) => Some(
            ev.tenant(&k.key.tenant_id)
                .actor(ActorKind::AgentKey, &k.key.id),
        ),
        SecretsCaller::Token(t) => Some(
            ev.tenant(&t.token.tenant_id)
                .actor(ActorKind::Token, &t.token.id)
                .detail("key_id", t.key.id.clone()),
        ),
    }
}

/// The open request of the calling agent for `path`, created (and audited as
/// `approval.requested`) when there is none. Never two open requests per key and path.
pub async fn open_request(
    st: &AppState,
    c: &SecretsCaller,
    path: &SecretPath,
    tier: Tier,
    reason: Option<String>,
    client: &ClientInfo,
) -> ApiResult<ApprovalRecord> {
    let (tenant_id, key_id, token_id) = match c {
        SecretsCaller::Session(_) => return Err(ApiError::Forbidden(AGENTS_ONLY)),
        SecretsCaller::Key(k) => (k.key.tenant_id.clone(), k.key.id.clone(), None),
        SecretsCaller::Token(t) => (
            t.token.tenant_id.clone(),
            t.key.id.clone(),
            Some(t.token.id.clone()),
        ),
    };
    let r = rules_of(st, &tenant_id).await?;
    let now = st.clock.now();
    let (required_approvals, delay) = match tier {
        Tier::Critical => (r.critical, r.critical_delay),
        _ => (r.sensitive, Duration::zero()),
    };
    let new = ApprovalRecord {
        id: crate::accounts::new_id(),
        tenant_id,
        path: path.clone(),
        tier,
        key_id,
        token_id,
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
    };
    let mut requested = agent_event(c, "approval.requested", now, client)
        .ok_or(ApiError::Forbidden(AGENTS_ONLY))?
        .target(format!("approval:{}", new.id))
        .detail("path", path.as_str())
        .detail("tier", tier.as_str())
        .detail("required_approvals", required_approvals)
        .detail("delay_secs", delay.num_seconds());
    if let Some(reason) = &reason {
        requested = requested.detail("reason", reason.clone());
    }
    let (record, _created) = st
        .store
        .open_approval(new, expiry_event(now, client), requested)
        .await?;
    Ok(record)
}

/// `POST /v1/approvals`: an agent asks ahead of reading.
pub async fn create(
    st: &AppState,
    c: &SecretsCaller,
    req: CreateApprovalRequest,
    client: &ClientInfo,
) -> ApiResult<Approval> {
    let allowed = match c {
        SecretsCaller::Session(_) => return Err(ApiError::Forbidden(AGENTS_ONLY)),
        SecretsCaller::Key(k) => agent_allows(&k.key, None, Action::Read, &req.path),
        SecretsCaller::Token(t) => agent_allows(&t.key, Some(&t.token), Action::Read, &req.path),
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
    let tenant_id = match c {
        SecretsCaller::Key(k) => k.key.tenant_id.clone(),
        SecretsCaller::Token(t) => t.token.tenant_id.clone(),
        SecretsCaller::Session(s) => s.tenant_id().to_owned(),
    };
    let secret = st
        .store
        .secret(&tenant_id, &req.path)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !secret.tier.needs_approval() {
        return Err(invalid(
            "path",
            "This secret is standard tier: reading it needs no approval.",
        ));
    }
    let r = open_request(st, c, &req.path, secret.tier, Some(reason), client).await?;
    let v = st
        .store
        .approval(&tenant_id, &r.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(to_api(v))
}

/// `GET /v1/approvals`: approvers see the tenant's requests; an agent its key's own.
pub async fn list(
    st: &AppState,
    c: &SecretsCaller,
    q: &ApprovalQuery,
    client: &ClientInfo,
) -> ApiResult<Page<Approval>> {
    let limit = crate::paging::limit(q.limit)?;
    let (tenant_id, key_id) = match c {
        SecretsCaller::Session(s) => {
            if !s.user.role.can_approve() {
                return Err(ApiError::Forbidden(NOT_APPROVER));
            }
            (s.tenant_id().to_owned(), None)
        }
        SecretsCaller::Key(k) => (k.key.tenant_id.clone(), Some(k.key.id.clone())),
        SecretsCaller::Token(t) => (t.token.tenant_id.clone(), Some(t.key.id.clone())),
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
            key_id.as_deref(),
            before.as_deref(),
            limit,
        )
        .await?;
    let next_cursor = crate::paging::next_cursor(&items, limit, 'r', |v| v.record.id.clone());
    Ok(Page {
        items: items.into_iter().map(to_api).collect(),
        next_cursor,
    })
}

/// Whether `c` may see request `v`: an approver of its tenant, or the key that asked.
fn may_see(c: &SecretsCaller, v: &ApprovalView) -> bool {
    match c {
        SecretsCaller::Session(s) => s.user.role.can_approve(),
        SecretsCaller::Key(k) => k.key.id == v.record.key_id,
        SecretsCaller::Token(t) => t.key.id == v.record.key_id,
    }
}

/// `GET /v1/approvals/{id}`. Another tenant's request, or another key's, is 404.
pub async fn get(
    st: &AppState,
    c: &SecretsCaller,
    id: &str,
    client: &ClientInfo,
) -> ApiResult<Approval> {
    let tenant_id = match c {
        SecretsCaller::Session(s) => s.tenant_id().to_owned(),
        SecretsCaller::Key(k) => k.key.tenant_id.clone(),
        SecretsCaller::Token(t) => t.token.tenant_id.clone(),
    };
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
    Ok(to_api(v))
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
        st.store.append_event(refuse("own_key")).await?;
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
    let (t, u, path, tier) = (
        s.tenant_id().to_owned(),
        s.user.id.clone(),
        v.record.path.to_string(),
        v.record.tier,
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
    Ok(to_api(v))
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
    Ok(to_api(v))
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
    let tenant_id = match c {
        SecretsCaller::Session(s) => s.tenant_id().to_owned(),
        SecretsCaller::Key(k) => k.key.tenant_id.clone(),
        SecretsCaller::Token(t) => t.token.tenant_id.clone(),
    };
    Ok(st
        .store
        .approval(&tenant_id, id)
        .await?
        .filter(|v| may_see(c, v))
        .map(to_api))
}
