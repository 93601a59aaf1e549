//! The audit log: pages of events and an export to a file.

use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use super::files::write_download;
use super::{credentials, expire_on_401};
use crate::backend;
use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use crate::view::{AuditChainView, AuditFilter, AuditPage, ExportProgress, SavedFile};

#[tauri::command]
#[specta::specta]
pub async fn audit_events(
    state: State<'_, AppState>,
    filter: AuditFilter,
    cursor: Option<String>,
) -> CommandResult<AuditPage> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::audit(&server, &token, &filter, cursor.as_deref()).await,
    )
    .await
}

/// Export the log under `filter` (the view on screen) as "csv" or "json" into the
/// Downloads folder; `on_progress` hears the events received as the body streams in.
#[tauri::command]
#[specta::specta]
pub async fn export_audit(
    app: AppHandle,
    state: State<'_, AppState>,
    format: String,
    filter: AuditFilter,
    on_progress: Channel<ExportProgress>,
) -> CommandResult<SavedFile> {
    if format != "csv" && format != "json" {
        return Err(CommandError::invalid("Export as csv or json."));
    }
    let (server, token) = credentials(&state).await?;
    let progress = |p: ExportProgress| {
        // A closed page stops listening; the export itself goes on.
        let _ = on_progress.send(p);
    };
    let bytes = expire_on_401(
        &state,
        backend::audit_export(&server, &token, &format, &filter, progress).await,
    )
    .await?;
    write_download(&app, &format!("keyhold-audit.{format}"), &bytes)
}

/// The actions the visible log holds, for the action filter.
#[tauri::command]
#[specta::specta]
pub async fn audit_actions(state: State<'_, AppState>) -> CommandResult<Vec<String>> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::audit_actions(&server, &token).await).await
}

/// Check the tenant's hash chain (owners and admins).
#[tauri::command]
#[specta::specta]
pub async fn verify_audit(state: State<'_, AppState>) -> CommandResult<AuditChainView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::audit_verify(&server, &token).await).await
}
