//! The audit log: pages of events under a filter, and the whole log as CSV or JSON.

use chrono::{DateTime, Utc};
use keyhold_core::Sensitive;
use keyhold_core::api::AuditQuery;

use super::Server;
use crate::error::{CommandError, CommandResult};
use crate::view::{AuditEventView, AuditFilter, AuditPage};

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

pub async fn audit(
    server: &Server,
    token: &Sensitive<String>,
    filter: &AuditFilter,
    cursor: Option<&str>,
) -> CommandResult<AuditPage> {
    let query = AuditQuery {
        limit: Some(100),
        cursor: cursor.map(str::to_owned),
        action: filter.action.clone().filter(|s| !s.is_empty()),
        actor: filter.actor.clone().filter(|s| !s.is_empty()),
        since: time("start", filter.since.as_ref())?,
        until: time("end", filter.until.as_ref())?,
        severity: None,
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
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}

pub async fn audit_export(
    server: &Server,
    token: &Sensitive<String>,
    format: &str,
) -> CommandResult<Vec<u8>> {
    let text = server
        .authed(token)
        .audit_export(format)
        .await
        .map_err(|e| server.error(e))?;
    Ok(text.into_bytes())
}
