//! The Settings area: the tenant's approval policy and the person's own notification
//! preferences. Saving the policy needs the sudo window (`reauth_required`: the page asks
//! the person to confirm it's them and saves again).

use tauri::State;

use super::{credentials, expire_on_401};
use crate::backend::settings as backend;
use crate::error::CommandResult;
use crate::state::AppState;
use crate::view::settings::{NotificationPrefsView, TenantSettingsView};

/// The approval policy (owners and admins; others get `forbidden`).
#[tauri::command]
#[specta::specta]
pub async fn tenant_settings(state: State<'_, AppState>) -> CommandResult<TenantSettingsView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::tenant_settings(&server, &token).await).await
}

/// Save the approval policy; the answer is what the server kept.
#[tauri::command]
#[specta::specta]
pub async fn save_tenant_settings(
    state: State<'_, AppState>,
    settings: TenantSettingsView,
) -> CommandResult<TenantSettingsView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::save_tenant_settings(&server, &token, &settings).await,
    )
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn notification_prefs(
    state: State<'_, AppState>,
) -> CommandResult<NotificationPrefsView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::notification_prefs(&server, &token).await).await
}

#[tauri::command]
#[specta::specta]
pub async fn save_notification_prefs(
    state: State<'_, AppState>,
    prefs: NotificationPrefsView,
) -> CommandResult<NotificationPrefsView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::save_notification_prefs(&server, &token, &prefs).await,
    )
    .await
}

/// Background mode on or off (Settings → This device): whether closing the window keeps
/// the app running in the tray. The web view calls it at start and on every change; the
/// answer also says whether a tray exists here.
#[tauri::command]
#[specta::specta]
pub fn set_background_mode(
    background: State<'_, crate::background::Background>,
    enabled: bool,
) -> crate::background::BackgroundView {
    background.set_enabled(enabled);
    background.view()
}
