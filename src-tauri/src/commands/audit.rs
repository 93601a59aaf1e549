//! The audit log: pages of events and an export to a file.

use tauri::{AppHandle, State};

use super::files::write_download;
use super::{credentials, expire_on_401};
use crate::backend;
use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use crate::view::{AuditFilter, AuditPage, SavedFile};

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

/// Export the whole log as "csv" or "json" into the Downloads folder.
#[tauri::command]
#[specta::specta]
pub async fn export_audit(
    app: AppHandle,
    state: State<'_, AppState>,
    format: String,
) -> CommandResult<SavedFile> {
    if format != "csv" && format != "json" {
        return Err(CommandError::invalid("Export as csv or json."));
    }
    let (server, token) = credentials(&state).await?;
    let bytes = expire_on_401(
        &state,
        backend::audit_export(&server, &token, &format).await,
    )
    .await?;
    write_download(&app, &format!("keyhold-audit.{format}"), &bytes)
}
