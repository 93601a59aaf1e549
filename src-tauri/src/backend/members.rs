//! The Team page's server calls: the members (their roles changed, removed, their 2FA
//! reset) and the pending invitations, listed and revoked (owners and admins; others get
//! `forbidden`). Changes need the sudo window (`reauth_required` outside it: the page asks
//! the person to confirm it's them and tries again).

use keyhold_core::Sensitive;
use keyhold_core::api::{Member, PendingInvitation, Role};

use super::Server;
use crate::error::{CommandError, CommandResult};
use crate::view::members::{MemberView, PendingInvitationView};

fn member_view(m: Member) -> MemberView {
    MemberView {
        id: m.id,
        email: m.email,
        display_name: m.display_name,
        role: m.role.as_str().to_owned(),
        mfa_enabled: m.mfa_enabled,
        created_at: m.created_at.to_rfc3339(),
    }
}

/// A member id from the page: never empty.
fn member_id(id: &str) -> CommandResult<&str> {
    let id = id.trim();
    if id.is_empty() {
        return Err(CommandError::invalid("Choose a member."));
    }
    Ok(id)
}

/// Everyone in the tenant, with role and 2FA.
pub async fn members(server: &Server, token: &Sensitive<String>) -> CommandResult<Vec<MemberView>> {
    server
        .authed(token)
        .members()
        .await
        .map(|all| all.into_iter().map(member_view).collect())
        .map_err(|e| server.error(e))
}

/// Give a member another role (the last owner cannot step down: the server says so).
pub async fn set_role(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
    role: Role,
) -> CommandResult<MemberView> {
    server
        .authed(token)
        .set_role(member_id(id)?, role)
        .await
        .map(member_view)
        .map_err(|e| server.error(e))
}

/// Remove a member: their sessions end, their keys and tokens are revoked.
pub async fn remove(server: &Server, token: &Sensitive<String>, id: &str) -> CommandResult<()> {
    server
        .authed(token)
        .remove_member(member_id(id)?)
        .await
        .map_err(|e| server.error(e))
}

/// Turn off another member's 2FA, proven with the caller's own current `code`.
pub async fn reset_mfa(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
    code: &Sensitive<String>,
) -> CommandResult<()> {
    server
        .authed(token)
        .reset_member_mfa(member_id(id)?, code.expose())
        .await
        .map_err(|e| server.error(e))
}

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
