//! The approval inbox.

use keyhold_core::Sensitive;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use super::{credentials, expire_on_401};
use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use crate::view::{ApprovalFeedEvent, ApprovalView};
use crate::{approvals_feed, backend};

/// `status`: "pending" or "history".
#[tauri::command]
#[specta::specta]
pub async fn list_approvals(
    state: State<'_, AppState>,
    status: String,
) -> CommandResult<Vec<ApprovalView>> {
    if status != "pending" && status != "history" {
        return Err(CommandError::invalid(
            "Ask for pending requests or the history.",
        ));
    }
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::list_approvals(&server, &token, &status).await,
    )
    .await
}

/// Approve; critical requests need a fresh TOTP code.
#[tauri::command]
#[specta::specta]
pub async fn approve_request(
    state: State<'_, AppState>,
    id: String,
    comment: Option<String>,
    code: Option<String>,
) -> CommandResult<()> {
    let code = code.map(|c| Sensitive::new(c.trim().replace(' ', "")));
    let (server, token) = credentials(&state).await?;
    let result = backend::approve(&server, &token, &id, comment.as_deref(), code.as_ref()).await;
    expire_on_401(&state, result).await
}

#[tauri::command]
#[specta::specta]
pub async fn deny_request(
    state: State<'_, AppState>,
    id: String,
    reason: String,
) -> CommandResult<()> {
    if reason.trim().is_empty() {
        return Err(CommandError::invalid(
            "Say why you deny it; the agent's owner will see it.",
        ));
    }
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::deny(&server, &token, &id, reason.trim()).await,
    )
    .await
}

/// Follow the inbox live: every change arrives on `on_event`, and each new request waiting
/// on this person raises an OS notification. Replaces the feed of an earlier call (a
/// reloaded page); signing out stops it.
#[tauri::command]
#[specta::specta]
pub async fn watch_approvals(
    app: AppHandle,
    state: State<'_, AppState>,
    on_event: Channel<ApprovalFeedEvent>,
) -> CommandResult<()> {
    let (server, token) = credentials(&state).await?;
    let me = state.inner.lock().await.session()?.view.user.id.clone();
    let task = tauri::async_runtime::spawn(approvals_feed::run(app, server, token, me, on_event));
    state.replace_feed(Some(task));
    Ok(())
}
