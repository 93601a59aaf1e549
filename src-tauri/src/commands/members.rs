//! The Team page: the tenant's pending invitations, listed and revoked. Inviting is
//! `secrets::invite_member` (the same dialog serves the Secrets page).

use tauri::State;

use super::{credentials, expire_on_401};
use crate::backend::members as backend;
use crate::error::CommandResult;
use crate::state::AppState;
use crate::view::members::PendingInvitationView;

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
