//! Agent keys: list, create (the secret is shown once), details with usage, edit expiry
//! and allowlist, rotate (the new secret is shown once), revoke, revoke a leaked key.

use keyhold_core::Sensitive;
use tauri::State;

use super::{credentials, expire_on_401};
use crate::backend;
use keyhold_core::scope::{Action, Pattern, Scope};

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use crate::view::keys::{KeyChanges, KeyDetailsView, RotatedAgentKey};
use crate::view::{AgentKeyView, CreatedAgentKey, NewAgentKey, ScopeCheck};

#[tauri::command]
#[specta::specta]
pub async fn list_keys(state: State<'_, AppState>) -> CommandResult<Vec<AgentKeyView>> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::list_keys(&server, &token).await).await
}

/// Validate one scope as it is typed (grammar from keyhold-core).
#[tauri::command]
#[specta::specta]
pub fn check_scope(scope: String) -> CommandResult<ScopeCheck> {
    Ok(match Scope::parse(scope.trim()) {
        Ok(s) => ScopeCheck {
            ok: true,
            problem: None,
            summary: Some(describe(&s)),
        },
        Err(e) => ScopeCheck {
            ok: false,
            problem: Some(sentence(&e.to_string())),
            summary: None,
        },
    })
}

/// "secrets:read:production/*" → "Read every secret below production/."
fn describe(scope: &Scope) -> String {
    let verb = match scope.action {
        Action::Read => "Read",
        Action::Write => "Write",
        Action::Delete => "Delete",
    };
    match &scope.pattern {
        Pattern::Any => format!("{verb} every secret of your team — the widest possible scope."),
        Pattern::Below(folder) => format!("{verb} every secret below {folder}/."),
        Pattern::Exact(path) => format!("{verb} the secret {path} only."),
    }
}

/// Core's messages are lower-case fragments; the UI shows sentences.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_checked_and_explained() {
        let ok = check_scope("secrets:read:production/*".into()).unwrap();
        assert!(ok.ok);
        assert_eq!(
            ok.summary.as_deref(),
            Some("Read every secret below production/.")
        );
        let exact = check_scope("secrets:write:production/stripe/KEY".into()).unwrap();
        assert_eq!(
            exact.summary.as_deref(),
            Some("Write the secret production/stripe/KEY only.")
        );
        let any = check_scope("secrets:delete:*".into()).unwrap();
        assert!(any.summary.unwrap().contains("widest"));
        for bad in [
            "secrets:read:../etc",
            "secrets:own:*",
            "read:*",
            "secrets:read:a/*/b",
        ] {
            let c = check_scope(bad.into()).unwrap();
            assert!(!c.ok, "{bad}");
            let p = c.problem.unwrap();
            assert!(
                p.ends_with('.') && !p.starts_with(char::is_lowercase),
                "{p}"
            );
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn create_key(
    state: State<'_, AppState>,
    key: NewAgentKey,
) -> CommandResult<CreatedAgentKey> {
    if key.name.trim().is_empty() {
        return Err(CommandError::invalid(
            "Give the key a name, such as \"billing-agent\".",
        ));
    }
    if key.scopes.is_empty() {
        return Err(CommandError::invalid("Add at least one scope."));
    }
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::create_key(&server, &token, &key).await).await
}

#[tauri::command]
#[specta::specta]
pub async fn revoke_key(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::revoke_key(&server, &token, &id).await).await
}

/// One key with its usage (requests, refusals, recent addresses).
#[tauri::command]
#[specta::specta]
pub async fn key_details(state: State<'_, AppState>, id: String) -> CommandResult<KeyDetailsView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::key_details(&server, &token, &id).await).await
}

/// A new expiry and allowlist for a key (sudo window, which the UI's reauth step handles).
#[tauri::command]
#[specta::specta]
pub async fn update_key(
    state: State<'_, AppState>,
    id: String,
    changes: KeyChanges,
) -> CommandResult<AgentKeyView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::update_key(&server, &token, &id, &changes).await,
    )
    .await
}

/// Rotate a key (sudo window): the new secret comes back once; the old key ends after
/// `overlap` ("0s": revoked now).
#[tauri::command]
#[specta::specta]
pub async fn rotate_key(
    state: State<'_, AppState>,
    id: String,
    overlap: String,
) -> CommandResult<RotatedAgentKey> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::rotate_key(&server, &token, &id, &overlap).await,
    )
    .await
}

/// A key a detection rule suspended works again (its owner or an admin, sudo window).
#[tauri::command]
#[specta::specta]
pub async fn reinstate_key(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::reinstate_key(&server, &token, &id).await).await
}

/// Anyone who finds a leaked `kha_` key can kill it; no session needed.
#[tauri::command]
#[specta::specta]
pub async fn revoke_leaked_key(
    state: State<'_, AppState>,
    server_url: String,
    secret: String,
) -> CommandResult<()> {
    let secret = Sensitive::new(secret.trim().to_owned());
    if !secret.expose().starts_with("kha_") {
        return Err(CommandError::invalid(
            "Paste the whole agent key; it starts with kha_.",
        ));
    }
    let server = match state.inner.lock().await.session.as_ref() {
        Some(s) => s.server.clone(),
        None => crate::state::parse_server(&server_url)?,
    };
    backend::revoke_leaked_key(&state.server(&server)?, &secret).await
}
