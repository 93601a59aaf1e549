//! Agent keys: list (following the pages), create, details with usage, edit expiry and
//! allowlist, rotate, revoke, reinstate a suspended key, and revoke a leaked key (no
//! session needed).

use chrono::{DateTime, Utc};
use keyhold_core::Sensitive;
use keyhold_core::api::{AgentKey, CreateKeyRequest, UpdateKeyRequest};
use keyhold_core::scope::Scope;

use super::Server;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::view::keys::{KeyAddressView, KeyChanges, KeyDetailsView, RotatedAgentKey};
use crate::view::{AgentKeyView, CreatedAgentKey, NewAgentKey};

pub(crate) fn key_view(k: &AgentKey) -> AgentKeyView {
    AgentKeyView {
        id: k.id.clone(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        scopes: k.scopes.iter().map(ToString::to_string).collect(),
        created_at: k.created_at.to_rfc3339(),
        expires_at: k.expires_at.map(|t| t.to_rfc3339()),
        last_used_at: k.last_used_at.map(|t| t.to_rfc3339()),
        last_used_ip: k.last_used_ip.clone(),
        revoked_at: k.revoked_at.map(|t| t.to_rfc3339()),
        suspended_at: k.suspended_at.map(|t| t.to_rfc3339()),
        ip_allowlist: k.ip_allowlist.clone(),
    }
}

pub async fn list_keys(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<Vec<AgentKeyView>> {
    let c = server.authed(token);
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = c
            .list_keys(Some(500), cursor.as_deref())
            .await
            .map_err(|e| server.error(e))?;
        out.extend(page.items.iter().map(key_view));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

pub async fn create_key(
    server: &Server,
    token: &Sensitive<String>,
    new: &NewAgentKey,
) -> CommandResult<CreatedAgentKey> {
    let scopes = new
        .scopes
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CommandError::new(ErrorKind::InvalidRequest, format!("Scope: {e}.")))?;
    let req = CreateKeyRequest {
        name: new.name.clone(),
        scopes,
        expires_in: new.expires_in.clone(),
        ip_allowlist: (!new.ip_allowlist.is_empty()).then(|| new.ip_allowlist.clone()),
        public_key: None,
    };
    let created = server
        .authed(token)
        .create_key(&req)
        .await
        .map_err(|e| server.error(e))?;
    Ok(CreatedAgentKey {
        key: key_view(&created.key),
        secret: created.secret.expose().clone(),
    })
}

pub async fn revoke_key(server: &Server, token: &Sensitive<String>, id: &str) -> CommandResult<()> {
    server
        .authed(token)
        .revoke_key(id)
        .await
        .map_err(|e| server.error(e))
}

pub async fn reinstate_key(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
) -> CommandResult<()> {
    server
        .authed(token)
        .reinstate_key(id)
        .await
        .map_err(|e| server.error(e))
}

pub async fn revoke_leaked_key(server: &Server, secret: &Sensitive<String>) -> CommandResult<()> {
    server
        .anonymous()
        .revoke_leaked(secret.expose())
        .await
        .map_err(|e| server.error(e))
}

/// Counts cross to the web view as u32 (specta refuses u64); a count past that is shown
/// as the largest u32, which no screen can tell from more anyway.
fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub async fn key_details(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
) -> CommandResult<KeyDetailsView> {
    let d = server
        .authed(token)
        .key(id)
        .await
        .map_err(|e| server.error(e))?;
    Ok(KeyDetailsView {
        key: key_view(&d.key),
        requests_24h: small(d.usage.requests_24h),
        requests_7d: small(d.usage.requests_7d),
        refused_7d: small(d.usage.refused_7d),
        recent_ips: d
            .usage
            .recent_ips
            .iter()
            .map(|a| KeyAddressView {
                ip: a.ip.clone(),
                last_seen_at: a.last_seen_at.to_rfc3339(),
                requests: small(a.requests),
            })
            .collect(),
    })
}

/// The edit dialog sends both fields as they should be; the server changes (and audits)
/// only what differs.
pub async fn update_key(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
    changes: &KeyChanges,
) -> CommandResult<AgentKeyView> {
    let expires_at = match changes.expires_at.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text)
                .map_err(|_| {
                    CommandError::new(
                        ErrorKind::InvalidRequest,
                        "Give the expiry as a date and time.",
                    )
                    .with_field("expires_at")
                })?
                .with_timezone(&Utc),
        ),
    };
    let req = UpdateKeyRequest {
        expires_at: Some(expires_at),
        ip_allowlist: Some(Some(changes.ip_allowlist.clone())),
    };
    let k = server
        .authed(token)
        .update_key(id, &req)
        .await
        .map_err(|e| server.error(e))?;
    Ok(key_view(&k))
}

pub async fn rotate_key(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
    overlap: &str,
) -> CommandResult<RotatedAgentKey> {
    let r = server
        .authed(token)
        .rotate_key(id, Some(overlap))
        .await
        .map_err(|e| server.error(e))?;
    Ok(RotatedAgentKey {
        key: key_view(&r.key),
        secret: r.secret.expose().clone(),
        old_key_expires_at: r.old_key_expires_at.to_rfc3339(),
    })
}
