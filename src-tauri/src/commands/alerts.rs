//! The Security Vault's alerts panel and blocks list (owners and admins; docs/alerts.md).

use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use super::{credentials, expire_on_401};
use crate::alerts_feed;
use crate::backend::alerts as backend;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::state::AppState;
use crate::view::alerts::{AlertFeedEvent, AlertView, BlockView};

/// `status`: "open" (not yet acknowledged) or "all"; newest first.
#[tauri::command]
#[specta::specta]
pub async fn list_alerts(
    state: State<'_, AppState>,
    status: String,
) -> CommandResult<Vec<AlertView>> {
    if status != "open" && status != "all" {
        return Err(CommandError::invalid(
            "Ask for the open alerts or all of them.",
        ));
    }
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::list_alerts(&server, &token, &status).await).await
}

/// Mark an alert as seen; it stops lowering the security score.
#[tauri::command]
#[specta::specta]
pub async fn acknowledge_alert(state: State<'_, AppState>, id: String) -> CommandResult<AlertView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::acknowledge_alert(&server, &token, &id).await,
    )
    .await
}

/// Follow the tenant's detection events live: each arrives on `on_event` (a hint to
/// reload), and each critical alert raises an OS notification. Owners and admins only —
/// nobody else may list alerts, so nobody else needs the feed (the server limits a
/// session's live feeds). Replaces the feed of an earlier call; signing out stops it.
#[tauri::command]
#[specta::specta]
pub async fn watch_alerts(
    app: AppHandle,
    state: State<'_, AppState>,
    on_event: Channel<AlertFeedEvent>,
) -> CommandResult<()> {
    let (server, token) = credentials(&state).await?;
    let role = state.inner.lock().await.session()?.view.role.clone();
    if !matches!(role.as_deref(), Some("owner" | "admin")) {
        return Err(CommandError::new(
            ErrorKind::Forbidden,
            "Only owners and admins see the team's alerts.",
        ));
    }
    let task = tauri::async_runtime::spawn(alerts_feed::run(app, server, token, on_event));
    state.replace_alert_feed(Some(task));
    Ok(())
}

/// The addresses blocked for the team, with when each block ends.
#[tauri::command]
#[specta::specta]
pub async fn list_blocks(state: State<'_, AppState>) -> CommandResult<Vec<BlockView>> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::list_blocks(&server, &token).await).await
}

/// Lift a block before it ends (sudo window).
#[tauri::command]
#[specta::specta]
pub async fn lift_block(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::lift_block(&server, &token, &id).await).await
}
