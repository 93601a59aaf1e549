//! Agent keys: list (following the pages), create, revoke, reinstate a suspended key, and
//! revoke a leaked key (no session needed).

use keyhold_core::Sensitive;
use keyhold_core::api::{AgentKey, CreateKeyRequest};
use keyhold_core::scope::Scope;

use super::Server;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::view::{AgentKeyView, CreatedAgentKey, NewAgentKey};

fn key_view(k: &AgentKey) -> AgentKeyView {
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
