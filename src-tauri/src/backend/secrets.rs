//! The Secrets page's server calls: metadata, writes, reads, deletes, the status of an
//! approval request, and invitations. A call the approval gate stops comes back as an
//! `ApprovalRequired` outcome (with the request the server opened), not as an error: the
//! page shows its progress instead of a failure.

use std::collections::HashMap;

use keyhold_client::ClientError;
use keyhold_core::api::{MetadataQuery, Role, SecretValue};
use keyhold_core::path::{PathPrefix, SecretPath};
use keyhold_core::tier::{SecretType, Tier};
use keyhold_core::{ErrorCode, Sensitive};

use super::{Server, approval_view};
use crate::error::{CommandError, CommandResult};
use crate::view::ApprovalView;
use crate::view::secrets::{
    ApprovalNeeded, DeleteOutcome, InvitationView, SecretDetailsView, SecretSummaryView,
    SecretVersionView, SecretWrittenView, WriteOutcome,
};

/// A secret path typed by a person, or a sentence saying what is wrong with it.
pub fn parse_path(path: &str) -> CommandResult<SecretPath> {
    SecretPath::parse(path.trim())
        .map_err(|e| CommandError::invalid(format!("The path is not valid: {e}.")))
}

pub fn parse_tier(tier: &str) -> CommandResult<Tier> {
    tier.parse()
        .map_err(|e| CommandError::invalid(format!("{e}.")))
}

pub fn parse_kind(kind: &str) -> CommandResult<SecretType> {
    kind.parse()
        .map_err(|e| CommandError::invalid(format!("{e}.")))
}

/// The body of a `403 approval_required`, or `None` for any other error.
pub fn approval_needed(e: &ClientError) -> Option<ApprovalNeeded> {
    let ClientError::Api { code, extra, .. } = e else {
        return None;
    };
    if *code != ErrorCode::ApprovalRequired {
        return None;
    }
    let text = |k: &str| extra.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let count = |k: &str| {
        extra
            .get(k)
            .and_then(serde_json::Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    Some(ApprovalNeeded {
        approval_id: text("approval_id")?,
        required_approvals: count("required_approvals").unwrap_or(0),
        eligible_approvers: count("eligible_approvers"),
        status: text("status").unwrap_or_else(|| "pending".to_owned()),
        operation: text("operation"),
        available_at: text("available_at"),
    })
}

/// Every secret below `prefix` ("" for all), following the pages.
pub async fn list(
    server: &Server,
    token: &Sensitive<String>,
    prefix: &str,
) -> CommandResult<Vec<SecretSummaryView>> {
    let prefix = PathPrefix::parse(prefix.trim())
        .map_err(|e| CommandError::invalid(format!("The folder is not valid: {e}.")))?;
    let c = server.authed(token);
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = MetadataQuery {
            prefix: Some(prefix.as_string()),
            limit: Some(500),
            cursor: cursor.take(),
        };
        let page = c.list_metadata(&q).await.map_err(|e| server.error(e))?;
        out.extend(page.items.into_iter().map(|s| SecretSummaryView {
            path: s.path.to_string(),
            kind: s.kind.as_str().to_owned(),
            tier: s.tier.as_str().to_owned(),
            current_version: s.current_version,
            updated_at: s.updated_at.to_rfc3339(),
        }));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// `a1b2c3d4-…` → `a1b2c3d4…`: enough to tell ids apart in a table.
fn short(id: &str) -> String {
    match id.char_indices().nth(8) {
        Some((at, _)) => format!("{}…", &id[..at]),
        None => id.to_owned(),
    }
}

/// Who wrote a version, as a person reads it. `names` maps user ids to names.
pub fn author(created_by: &str, me: &str, names: &HashMap<String, String>) -> String {
    match created_by.split_once(':') {
        Some(("user", id)) if id == me => "You".to_owned(),
        Some(("user", id)) => names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("user {}", short(id))),
        Some(("agent_key", id)) => format!("agent key {}", short(id)),
        Some(("token", id)) => format!("token {}", short(id)),
        _ => created_by.to_owned(),
    }
}

/// The secret's metadata; authors are named from the member list when it can be read.
pub async fn details(
    server: &Server,
    token: &Sensitive<String>,
    path: &SecretPath,
    me: &str,
) -> CommandResult<SecretDetailsView> {
    let c = server.authed(token);
    let m = c.secret_metadata(path).await.map_err(|e| server.error(e))?;
    // Names are a nicety: without them the table shows short ids.
    let names: HashMap<String, String> = c
        .members()
        .await
        .map(|members| {
            members
                .into_iter()
                .map(|m| (m.id, m.display_name.unwrap_or(m.email)))
                .collect()
        })
        .unwrap_or_default();
    let mut versions: Vec<SecretVersionView> = m
        .versions
        .iter()
        .map(|v| SecretVersionView {
            version: v.version,
            created_at: v.created_at.to_rfc3339(),
            created_by: v.created_by.clone(),
            author: author(&v.created_by, me, &names),
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.version));
    Ok(SecretDetailsView {
        path: m.path.to_string(),
        kind: m.kind.as_str().to_owned(),
        tier: m.tier.as_str().to_owned(),
        current_version: m.current_version,
        created_at: m.created_at.to_rfc3339(),
        updated_at: m.updated_at.to_rfc3339(),
        versions,
    })
}

pub async fn write(
    server: &Server,
    token: &Sensitive<String>,
    path: &SecretPath,
    value: &Sensitive<String>,
    kind: Option<SecretType>,
    tier: Option<Tier>,
) -> CommandResult<WriteOutcome> {
    match server
        .authed(token)
        .put_secret(path, value.expose(), kind, tier)
        .await
    {
        Ok(w) => Ok(WriteOutcome::Written {
            written: SecretWrittenView {
                path: w.path.to_string(),
                version: w.version,
                tier: w.tier.as_str().to_owned(),
                kind: w.kind.as_str().to_owned(),
                updated_at: w.updated_at.to_rfc3339(),
            },
        }),
        Err(e) => match approval_needed(&e) {
            Some(approval) => Ok(WriteOutcome::ApprovalRequired { approval }),
            None => Err(server.error(e)),
        },
    }
}

/// A read: the value itself, or the approval request the gate opened.
pub enum Read {
    Value(SecretValue),
    ApprovalRequired(ApprovalNeeded),
}

pub async fn read(
    server: &Server,
    token: &Sensitive<String>,
    path: &SecretPath,
) -> CommandResult<Read> {
    match server.authed(token).get_secret(path, None).await {
        Ok(v) => Ok(Read::Value(v)),
        Err(e) => match approval_needed(&e) {
            Some(a) => Ok(Read::ApprovalRequired(a)),
            None => Err(server.error(e)),
        },
    }
}

pub async fn delete(
    server: &Server,
    token: &Sensitive<String>,
    path: &SecretPath,
) -> CommandResult<DeleteOutcome> {
    match server.authed(token).delete_secret(path).await {
        Ok(()) => Ok(DeleteOutcome::Deleted),
        Err(e) => match approval_needed(&e) {
            Some(approval) => Ok(DeleteOutcome::ApprovalRequired { approval }),
            None => Err(server.error(e)),
        },
    }
}

/// Where one approval request stands (`GET /v1/approvals/{id}`).
pub async fn approval(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
) -> CommandResult<ApprovalView> {
    server
        .authed(token)
        .approval(id)
        .await
        .map(|a| approval_view(&a))
        .map_err(|e| server.error(e))
}

pub async fn invite(
    server: &Server,
    token: &Sensitive<String>,
    email: &str,
    role: Role,
) -> CommandResult<InvitationView> {
    server
        .authed(token)
        .invite(email, role)
        .await
        .map(|i| InvitationView {
            id: i.id,
            email: i.email,
            role: i.role.as_str().to_owned(),
            expires_at: i.expires_at.to_rfc3339(),
        })
        .map_err(|e| server.error(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authors_read_as_people() {
        let names = HashMap::from([("u-bob".to_owned(), "Bob Babbage".to_owned())]);
        assert_eq!(author("user:u-ada", "u-ada", &names), "You");
        assert_eq!(author("user:u-bob", "u-ada", &names), "Bob Babbage");
        assert_eq!(
            author("user:0123456789abcdef", "u-ada", &names),
            "user 01234567…"
        );
        assert_eq!(
            author("agent_key:feedbeefcafe", "u-ada", &names),
            "agent key feedbeef…"
        );
        assert_eq!(author("token:t1", "u-ada", &names), "token t1");
        assert_eq!(author("system", "u-ada", &names), "system");
    }

    fn api_error(code: ErrorCode, extra: serde_json::Value) -> ClientError {
        ClientError::Api {
            status: 403,
            code,
            message: "Approval needed.".to_owned(),
            extra: extra.as_object().cloned().unwrap_or_default(),
            retry_after: None,
        }
    }

    #[test]
    fn reads_the_approval_required_body() {
        let e = api_error(
            ErrorCode::ApprovalRequired,
            serde_json::json!({
                "approval_id": "apr_1",
                "required_approvals": 2,
                "eligible_approvers": 1,
                "status": "pending",
                "operation": "read",
                "available_at": null
            }),
        );
        assert_eq!(
            approval_needed(&e),
            Some(ApprovalNeeded {
                approval_id: "apr_1".to_owned(),
                required_approvals: 2,
                eligible_approvers: Some(1),
                status: "pending".to_owned(),
                operation: Some("read".to_owned()),
                available_at: None,
            })
        );
        // Without an id it is not something the page can follow.
        assert_eq!(
            approval_needed(&api_error(
                ErrorCode::ApprovalRequired,
                serde_json::json!({})
            )),
            None
        );
        assert_eq!(
            approval_needed(&api_error(
                ErrorCode::Forbidden,
                serde_json::json!({"approval_id": "x"})
            )),
            None
        );
    }

    #[test]
    fn paths_tiers_and_types_are_checked() {
        assert!(parse_path(" prod/db/password ").is_ok());
        let bad = parse_path("../etc/passwd").unwrap_err();
        assert!(bad.message.starts_with("The path is not valid"), "{bad:?}");
        assert_eq!(parse_tier("critical").unwrap(), Tier::Critical);
        assert!(parse_tier("top").unwrap_err().message.contains("standard"));
        assert_eq!(parse_kind("api_key").unwrap(), SecretType::ApiKey);
        assert!(parse_kind("blob").is_err());
    }
}
