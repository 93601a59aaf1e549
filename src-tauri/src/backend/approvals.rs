//! The approval inbox: the requests, their live feed, and approving or denying one.

use keyhold_client::sse::EventStream;
use keyhold_core::Sensitive;
use keyhold_core::api::{Approval, ApprovalStatus, PersonRef, RequestedBy};

use super::Server;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::view::{ApprovalView, ApprovalVote};

fn person(p: &PersonRef) -> String {
    p.label().to_owned()
}

pub fn approval_view(a: &Approval) -> ApprovalView {
    ApprovalView {
        id: a.id.clone(),
        path: a.path.to_string(),
        tier: a.tier.as_str().to_owned(),
        key_id: match &a.requested_by {
            RequestedBy::Agent { key_id, .. } => Some(key_id.clone()),
            RequestedBy::Person { .. } => None,
        },
        key_name: match &a.requested_by {
            RequestedBy::Agent { key_name, .. } => Some(key_name.clone()),
            RequestedBy::Person { .. } => None,
        },
        owner: person(a.requested_by.person()),
        owner_id: a.requested_by.person().id.clone(),
        operation: a.operation.as_str().to_owned(),
        to_tier: a.to_tier.map(|t| t.as_str().to_owned()),
        eligible_approvers: Some(a.eligible_approvers),
        reason: a.reason.clone(),
        requested_at: a.requested_at.to_rfc3339(),
        expires_at: a.expires_at.to_rfc3339(),
        approvals: a
            .approvals
            .iter()
            .map(|v| ApprovalVote {
                user: person(&v.user),
                user_id: v.user.id.clone(),
                at: v.at.to_rfc3339(),
                comment: v.comment.clone(),
            })
            .collect(),
        required_approvals: a.required_approvals,
        delay_secs: a.delay_secs,
        grant_ttl_secs: a.grant_ttl_secs,
        status: a.status.as_str().to_owned(),
        available_at: a.available_at.map(|t| t.to_rfc3339()),
    }
}

/// The inbox: `status` is "pending", "history" (everything decided or expired), "all", or
/// one of the server's statuses.
pub async fn list_approvals(
    server: &Server,
    token: &Sensitive<String>,
    status: &str,
) -> CommandResult<Vec<ApprovalView>> {
    let filter = match status {
        "all" | "history" | "" => None,
        s => Some(ApprovalStatus::parse(s).ok_or_else(|| {
            CommandError::new(ErrorKind::InvalidRequest, format!("Unknown status {s:?}."))
        })?),
    };
    let page = server
        .authed(token)
        .list_approvals(filter, Some(500), None)
        .await
        .map_err(|e| server.error(e))?;
    let history = status == "history";
    Ok(page
        .items
        .iter()
        .filter(|a| !history || a.status != ApprovalStatus::Pending)
        .map(approval_view)
        .collect())
}

/// The live feed of the tenant's approval requests (server-sent events).
pub async fn approvals_feed(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<EventStream> {
    server
        .authed(token)
        .approvals_stream()
        .await
        .map_err(|e| server.error(e))
}

pub async fn approve(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
    comment: Option<&str>,
    code: Option<&Sensitive<String>>,
) -> CommandResult<()> {
    server
        .authed(token)
        .approve(id, comment, code.map(|c| c.expose().as_str()))
        .await
        .map(|_| ())
        .map_err(|e| server.error(e))
}

pub async fn deny(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
    reason: &str,
) -> CommandResult<()> {
    server
        .authed(token)
        .deny(id, reason)
        .await
        .map(|_| ())
        .map_err(|e| server.error(e))
}
