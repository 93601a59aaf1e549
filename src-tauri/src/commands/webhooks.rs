//! Webhooks in the Settings area (owners and admins): list, add (the signing secret comes
//! back once), change, enable or disable, remove, rotate the secret, send a test, the
//! delivery log and a retry. Changes need the sudo window.

use tauri::State;

use super::{credentials, expire_on_401};
use crate::backend::webhooks as backend;
use crate::error::CommandResult;
use crate::state::AppState;
use crate::view::settings::{CreatedWebhook, DeliveryView, NewWebhook, WebhookChange, WebhookView};

#[tauri::command]
#[specta::specta]
pub async fn list_webhooks(state: State<'_, AppState>) -> CommandResult<Vec<WebhookView>> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::webhooks(&server, &token).await).await
}

/// Register an endpoint: its signing secret is in the answer, the one time it is shown.
#[tauri::command]
#[specta::specta]
pub async fn create_webhook(
    state: State<'_, AppState>,
    webhook: NewWebhook,
) -> CommandResult<CreatedWebhook> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::create_webhook(&server, &token, &webhook).await,
    )
    .await
}

/// Change an endpoint (URL, events, description, enabled): only the fields set change.
#[tauri::command]
#[specta::specta]
pub async fn update_webhook(
    state: State<'_, AppState>,
    id: String,
    change: WebhookChange,
) -> CommandResult<WebhookView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::update_webhook(&server, &token, &id, &change).await,
    )
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_webhook(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::delete_webhook(&server, &token, &id).await).await
}

/// A new signing secret, shown once; the old one still signs for 24 hours.
#[tauri::command]
#[specta::specta]
pub async fn rotate_webhook_secret(
    state: State<'_, AppState>,
    id: String,
) -> CommandResult<CreatedWebhook> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::rotate_webhook_secret(&server, &token, &id).await,
    )
    .await
}

/// Queue a test event: the delivery, as the log will show it.
#[tauri::command]
#[specta::specta]
pub async fn test_webhook(state: State<'_, AppState>, id: String) -> CommandResult<DeliveryView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::test_webhook(&server, &token, &id).await).await
}

/// The endpoint's newest deliveries.
#[tauri::command]
#[specta::specta]
pub async fn webhook_deliveries(
    state: State<'_, AppState>,
    id: String,
) -> CommandResult<Vec<DeliveryView>> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::deliveries(&server, &token, &id).await).await
}

/// Send a delivery again now.
#[tauri::command]
#[specta::specta]
pub async fn retry_webhook_delivery(
    state: State<'_, AppState>,
    id: String,
    delivery_id: String,
) -> CommandResult<DeliveryView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::retry_delivery(&server, &token, &id, &delivery_id).await,
    )
    .await
}
