//! The Team page's server calls: the tenant's pending invitations, listed and revoked
//! (owners and admins; others get `forbidden`). Revoking needs the sudo window
//! (`reauth_required` outside it: the page asks the person to confirm it's them and
//! tries again).

use keyhold_core::Sensitive;
use keyhold_core::api::PendingInvitation;

use super::Server;
use crate::error::{CommandError, CommandResult};
use crate::view::members::PendingInvitationView;

fn invitation_view(i: PendingInvitation) -> PendingInvitationView {
    PendingInvitationView {
        invited_by: i.invited_by.label().to_owned(),
        invited_by_id: i.invited_by.id,
        id: i.id,
        email: i.email,
        role: i.role.as_str().to_owned(),
        created_at: i.created_at.to_rfc3339(),
        expires_at: i.expires_at.to_rfc3339(),
    }
}

/// Every pending invitation of the tenant, newest first (following the pages).
pub async fn invitations(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<Vec<PendingInvitationView>> {
    server
        .authed(token)
        .all_pending_invitations()
        .await
        .map(|all| all.into_iter().map(invitation_view).collect())
        .map_err(|e| server.error(e))
}

/// Revoke one: its link no longer signs anyone up.
pub async fn revoke_invitation(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
) -> CommandResult<()> {
    let id = id.trim();
    if id.is_empty() {
        return Err(CommandError::invalid("Choose the invitation to revoke."));
    }
    server
        .authed(token)
        .revoke_invitation(id)
        .await
        .map_err(|e| server.error(e))
}
