//! Pending invitations of a tenant: listed and revoked by owners and admins (issue 15,
//! item 2.4). An invitation is a standing offer of a role; whoever may make it may also
//! take it back before it is used, and it dies with the trust in its sender (a removed
//! member's invitations are voided by `members::remove`).

use keyhold_core::api::{Page, PendingInvitation};

use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Session;
use crate::members::{ADMINS_ONLY, may_manage};
use crate::state::AppState;
use crate::store::StoreError;

/// The cursor tag of this list (see `paging`).
const CURSOR: char = 'i';

/// `GET /v1/members/invitations` (owners and admins): pending ones, newest first, paged.
pub async fn list(
    st: &AppState,
    s: &Session,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Page<PendingInvitation>> {
    if !s.user.role.is_admin() {
        return Err(ApiError::Forbidden(ADMINS_ONLY));
    }
    let limit = crate::paging::limit(limit)?;
    let before = cursor
        .map(|c| crate::paging::decode_cursor(CURSOR, c))
        .transpose()?;
    let rows = st
        .store
        .pending_invitations(s.tenant_id(), st.clock.now(), before.as_deref(), limit)
        .await?;
    let next_cursor = crate::paging::next_cursor(&rows, limit, CURSOR, |(i, _)| i.id.clone());
    Ok(Page {
        items: rows
            .into_iter()
            .map(|(i, by)| PendingInvitation {
                id: i.id,
                email: i.email,
                role: i.role,
                invited_by: by,
                created_at: i.created_at,
                expires_at: i.expires_at,
            })
            .collect(),
        next_cursor,
    })
}

/// `DELETE /v1/members/invitations/{id}` (sudo window, checked by the guard): owners and
/// admins revoke a pending invitation; one for the owner role only an owner. Audited as
/// `member.invitation_revoked`; another tenant's id is 404; a used, revoked or expired
/// one is 409.
pub async fn revoke(st: &AppState, s: &Session, id: &str, client: &ClientInfo) -> ApiResult<()> {
    let now = st.clock.now();
    let base = NewEvent::new("member.invitation_revoked", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("invitation:{id}"));
    let inv = st
        .store
        .invitation(s.tenant_id(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Err(m) = may_manage(s.user.role, inv.role) {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(ApiError::Forbidden(m));
    }
    let ev = base
        .detail("email", inv.email.clone())
        .detail("role", inv.role.as_str())
        .detail("reason", "revoked");
    match st.store.revoke_invitation(s.tenant_id(), id, now, ev).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict(m)) => Err(ApiError::Conflict(m)),
        Err(e) => Err(e.into()),
    }
}
