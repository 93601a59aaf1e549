//! Opening a request for a gated call, and how requests are shown and refused: what the
//! caller asked (operation, secret, tier), who asked, the `approval_required` answer, and
//! the events of expiry and voiding.

use chrono::{DateTime, Duration, Utc};
use keyhold_core::api::{Approval, ApprovalOperation, ApprovalStatus, PersonRef, RequestedBy};
use keyhold_core::tier::Tier;

use crate::Vault;
use crate::audit::{ActorKind, ClientInfo, NewEvent, Outcome};
use crate::auth::SecretsCaller;
use crate::error::{Error, Result};
use crate::store::{ApprovalRecord, ApprovalView, ExpiryEvent, Requester, SecretRecord};
use crate::tenant::rules_of;

/// The wire form of a request. Agents see approvers' names and decisions, not their
/// email addresses or comments.
pub(super) fn to_api(v: ApprovalView, for_agent: bool) -> Approval {
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
        delay_secs: u32::try_from(r.delay_secs).unwrap_or(0),
        grant_ttl_secs: u32::try_from(r.grant_ttl_secs).unwrap_or(0),
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

pub(super) fn expiry_event(now: DateTime<Utc>, client: &ClientInfo) -> ExpiryEvent {
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
pub fn required(r: &ApprovalRecord, eligible_approvers: u32) -> Error {
    Error::ApprovalRequired {
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
pub(super) fn requester_of(c: &SecretsCaller) -> Requester {
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

/// Who asks, in words for the approvers' mail.
fn asker(c: &SecretsCaller) -> String {
    match c {
        SecretsCaller::Session(s) => s.user.email.clone(),
        SecretsCaller::Key(k) => format!("The agent key \"{}\"", k.key.name),
        SecretsCaller::Token(t) => format!("A token of the agent key \"{}\"", t.key.name),
    }
}

/// The person who may not approve `c`'s requests: the person, or the key's owner.
pub(super) fn answerable(c: &SecretsCaller) -> &str {
    match c {
        SecretsCaller::Session(s) => &s.user.id,
        SecretsCaller::Key(k) => &k.key.owner_id,
        SecretsCaller::Token(t) => &t.key.owner_id,
    }
}

pub(super) fn tenant_of(c: &SecretsCaller) -> &str {
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
    st: &Vault,
    c: &SecretsCaller,
    ask: Ask<'_>,
    reason: Option<String>,
    client: &ClientInfo,
) -> Result<ApprovalRecord> {
    let tenant_id = tenant_of(c).to_owned();
    let r = rules_of(st, &tenant_id).await?;
    let now = st.clock.now();
    let tier = ask.secret.tier;
    let (required_approvals, delay) = match tier {
        Tier::Critical => (r.critical, r.critical_delay),
        _ => (r.sensitive, Duration::zero()),
    };
    let new = ApprovalRecord {
        id: crate::ids::new_id(now),
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
    let requested =
        super::mail::to_approvers(st, &new, &asker(c), answerable(c), requested).await?;
    let (record, _created) = st
        .store
        .open_approval(new, expiry_event(now, client), requested)
        .await?;
    Ok(record)
}

/// The 403 for `r`, with how many people could approve it.
pub async fn refusal(st: &Vault, c: &SecretsCaller, r: &ApprovalRecord) -> Result<Error> {
    let eligible = st
        .store
        .eligible_approvers(tenant_of(c), r.tier, answerable(c))
        .await?;
    Ok(required(r, eligible))
}

/// Whether `op` on `secret` needs a grant for `c` (API.md "Approvals").
pub(super) fn gated(
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
