//! Pending invitations of a tenant: listed and revoked by owners and admins (issue 15,
//! item 2.4). An invitation is a standing offer of a role; whoever may make it may also
//! take it back before it is used, and it dies with the trust in its sender (a removed
//! member's invitations are voided by `members::remove`).

use keyhold_core::api::{Page, PendingInvitation};

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::{Session, SudoSession};
use crate::error::{Error, Result};
use crate::members::{ADMINS_ONLY, may_manage};
use crate::store::StoreError;

/// The cursor tag of this list (see `paging`).
const CURSOR: char = 'i';

/// `GET /v1/members/invitations` (owners and admins): pending ones, newest first, paged.
pub async fn list(
    st: &Vault,
    s: &Session,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<PendingInvitation>> {
    if !s.user.role.is_admin() {
        return Err(Error::Forbidden(ADMINS_ONLY));
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
pub async fn revoke(st: &Vault, s: &SudoSession, id: &str, client: &ClientInfo) -> Result<()> {
    let now = st.clock.now();
    let base = NewEvent::new("member.invitation_revoked", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("invitation:{id}"));
    let inv = st
        .store
        .invitation(s.tenant_id(), id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Err(m) = may_manage(s.user.role, inv.role) {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(Error::Forbidden(m));
    }
    let ev = base
        .detail("email", inv.email.clone())
        .detail("role", inv.role.as_str())
        .detail("reason", "revoked");
    match st.store.revoke_invitation(s.tenant_id(), id, now, ev).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict(m)) => Err(Error::Conflict(m.message())),
        Err(e) => Err(e.into()),
    }
}
