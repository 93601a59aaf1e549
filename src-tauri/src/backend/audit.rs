//! The audit log: pages of events under a filter, and the whole log as CSV or JSON.

use chrono::{DateTime, Utc};
use keyhold_core::Sensitive;
use keyhold_core::api::AuditQuery;

use super::Server;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::view::{AuditChainView, AuditEventView, AuditFilter, AuditPage, ExportProgress};

/// Parse an optional RFC 3339 time from the filter.
fn time(field: &str, value: Option<&String>) -> CommandResult<Option<DateTime<Utc>>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            DateTime::parse_from_rfc3339(v.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    CommandError::invalid(format!("The {field} time is not a valid date and time."))
                })
        })
        .transpose()
}

/// The server's query for the screen's filter: blank fields are no filter, and a range
/// that ends before it starts is refused here with words about the fields.
fn query_of(filter: &AuditFilter) -> CommandResult<AuditQuery> {
    let q = AuditQuery {
        action: filter.action.clone().filter(|s| !s.is_empty()),
        actor: filter.actor.clone().filter(|s| !s.is_empty()),
        since: time("start", filter.since.as_ref())?,
        until: time("end", filter.until.as_ref())?,
        ..AuditQuery::default()
    };
    if let (Some(since), Some(until)) = (q.since, q.until)
        && since >= until
    {
        return Err(CommandError::invalid("The end must be after the start."));
    }
    Ok(q)
}

pub async fn audit(
    server: &Server,
    token: &Sensitive<String>,
    filter: &AuditFilter,
    cursor: Option<&str>,
) -> CommandResult<AuditPage> {
    let query = AuditQuery {
        limit: Some(100),
        cursor: cursor.map(str::to_owned),
        ..query_of(filter)?
    };
    let page = server
        .authed(token)
        .audit(&query)
        .await
        .map_err(|e| server.error(e))?;
    Ok(AuditPage {
        items: page
            .items
            .into_iter()
            .map(|e| AuditEventView {
                id: e.id.to_string(),
                at: e.at.to_rfc3339(),
                actor_type: e.actor.kind,
                actor_id: e.actor.id.unwrap_or_default(),
                action: e.action,
                target: e.target,
                outcome: e.outcome,
                ip: e.ip,
                user_agent: e.user_agent,
                detail: e.detail.to_string(),
                severity: e.severity.as_str().to_owned(),
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}

/// The actions the log holds (for the action filter).
pub async fn audit_actions(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<Vec<String>> {
    let a = server
        .authed(token)
        .audit_actions()
        .await
        .map_err(|e| server.error(e))?;
    Ok(a.actions)
}

/// Check the tenant's hash chain (owners and admins).
pub async fn audit_verify(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<AuditChainView> {
    let r = server
        .authed(token)
        .audit_verify()
        .await
        .map_err(|e| server.error(e))?;
    Ok(AuditChainView {
        ok: r.ok,
        checked: u32::try_from(r.checked).unwrap_or(u32::MAX),
        first_bad: r.first_bad.map(|id| id.to_string()),
    })
}

/// The export of the filtered log, read chunk by chunk; `progress` hears how many events
/// and bytes have arrived after each chunk.
pub async fn audit_export(
    server: &Server,
    token: &Sensitive<String>,
    format: &str,
    filter: &AuditFilter,
    progress: impl Fn(ExportProgress),
) -> CommandResult<Vec<u8>> {
    let query = query_of(filter)?;
    let mut resp = server
        .authed(token)
        .audit_export_response(format, &query)
        .await
        .map_err(|e| server.error(e))?;
    let mut body = Vec::new();
    let mut lines = 0usize;
    let header = usize::from(format == "csv");
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        CommandError::new(
            ErrorKind::Offline,
            format!("The export stopped halfway ({e})."),
        )
    })? {
        body.extend_from_slice(&chunk);
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        progress(ExportProgress {
            events: u32::try_from(lines.saturating_sub(header)).unwrap_or(u32::MAX),
            bytes: u32::try_from(body.len()).unwrap_or(u32::MAX),
        });
    }
    Ok(body)
}
