//! The Team page: the members (role, removal, 2FA reset) and the tenant's pending
//! invitations, listed and revoked. Inviting is `secrets::invite_member` (the same dialog
//! serves the Secrets page).

use keyhold_core::Sensitive;
use keyhold_core::api::Role;
use tauri::State;

use super::{credentials, expire_on_401};
use crate::backend::members as backend;
use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use crate::view::members::{MemberView, PendingInvitationView};

/// Pending invitations (email, role, who sent it, expiry). Owners and admins only: others
/// get `forbidden`, which the page shows as a sentence.
#[tauri::command]
#[specta::specta]
pub async fn list_invitations(
    state: State<'_, AppState>,
) -> CommandResult<Vec<PendingInvitationView>> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::invitations(&server, &token).await).await
}

/// Revoke a pending invitation. Needs the sudo window (`reauth_required`: the page asks
/// the person to confirm it's them, calls `reauthenticate` and tries again).
#[tauri::command]
#[specta::specta]
pub async fn revoke_invitation(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::revoke_invitation(&server, &token, &id).await,
    )
    .await
}

/// Everyone in the tenant, with role and 2FA.
#[tauri::command]
#[specta::specta]
pub async fn list_members(state: State<'_, AppState>) -> CommandResult<Vec<MemberView>> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::members(&server, &token).await).await
}

/// Give a member another role. Needs the sudo window.
#[tauri::command]
#[specta::specta]
pub async fn change_member_role(
    state: State<'_, AppState>,
    id: String,
    role: String,
) -> CommandResult<MemberView> {
    let role = Role::parse(role.trim())
        .ok_or_else(|| CommandError::invalid("Choose a role: owner, admin, approver or member."))?;
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::set_role(&server, &token, &id, role).await).await
}

/// Remove a member (their sessions end, their keys are revoked). Needs the sudo window.
#[tauri::command]
#[specta::specta]
pub async fn remove_member(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::remove(&server, &token, &id).await).await
}

/// Turn off another member's 2FA with the caller's own current code. Needs the sudo
/// window.
#[tauri::command]
#[specta::specta]
pub async fn reset_member_mfa(
    state: State<'_, AppState>,
    id: String,
    code: String,
) -> CommandResult<()> {
    let code = Sensitive::new(code.trim().replace([' ', '-'], ""));
    if code.expose().is_empty() {
        return Err(CommandError::invalid(
            "Enter the current code from your authenticator app.",
        ));
    }
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::reset_mfa(&server, &token, &id, &code).await,
    )
    .await
}
