//! Members of a tenant: the list, invitations by mail link, role changes
//! (docs/permissions.md). Accepting an invitation is a sign-up (`accounts::signup`);
//! listing and revoking pending invitations is in [`crate::invitations`].

use chrono::Duration;
use keyhold_core::api::{Invitation, InviteRequest, Member, Role};
use keyhold_core::credential::{Credential, CredentialKind};
use keyhold_core::email::Email;

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::{Session, SudoSession};
use crate::error::{Error, Result};
use crate::ids;
use crate::store::{InvitationRecord, StoreError, UserRecord};

pub const INVITATION_TTL: Duration = Duration::days(7);
pub(crate) const ADMINS_ONLY: &str = "Only owners and admins manage the tenant's members.";
const OWNERS_ONLY: &str = "Only owners can make or change owners.";

fn to_api(u: &UserRecord) -> Member {
    Member {
        id: u.id.clone(),
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        role: u.role,
        mfa_enabled: u.mfa_enabled,
        created_at: u.created_at,
    }
}

/// `GET /v1/members`: every member of the tenant may see who else is in it.
pub async fn list(st: &Vault, s: &Session) -> Result<Vec<Member>> {
    Ok(st
        .store
        .members(s.tenant_id())
        .await?
        .iter()
        .map(to_api)
        .collect())
}

/// Whether `actor` may give or take `role` (owners manage owners; admins the rest).
pub(crate) fn may_manage(actor: Role, role: Role) -> Result<(), &'static str> {
    if !actor.is_admin() {
        return Err(ADMINS_ONLY);
    }
    if role == Role::Owner && actor != Role::Owner {
        return Err(OWNERS_ONLY);
    }
    Ok(())
}

/// `POST /v1/members/invitations`: mails `{public_url}/signup?invitation=…`, valid 7 days.
pub async fn invite(
    st: &Vault,
    s: &SudoSession,
    req: InviteRequest,
    client: &ClientInfo,
) -> Result<Invitation> {
    let now = st.clock.now();
    let base = NewEvent::new("member.invited", now, client).user(s.tenant_id(), &s.user.id);
    if let Err(m) = may_manage(s.user.role, req.role) {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(Error::Forbidden(m));
    }
    let email = Email::parse(&req.email).map_err(|e| {
        let mut extra = serde_json::Map::new();
        extra.insert("field".into(), "email".into());
        Error::Invalid {
            message: format!("Email: {e}."),
            extra,
        }
    })?;
    let token = Credential::generate(CredentialKind::Invitation);
    let record = InvitationRecord {
        id: ids::new_id(now),
        tenant_id: s.tenant_id().to_owned(),
        email: email.as_str().to_owned(),
        role: req.role,
        invited_by: s.user.id.clone(),
        created_at: now,
        expires_at: now + INVITATION_TTL,
        used_at: None,
        revoked_at: None,
    };
    let link = format!("{}/signup?invitation={}", st.public_url, token.expose());
    let body = format!(
        "Hello,\n\n{} invites you to their Keyhold vault as {}. Create your account with this link within 7 days:\n\n{}\n\nIf you did not expect this, ignore this message.\n",
        s.user.email,
        req.role.as_str(),
        link
    );
    // Sealed in the outbox with the invitation's event: mailed if and only if it exists.
    let mail = crate::events::mail::queue(
        st,
        &record.email,
        "You are invited to a Keyhold vault",
        body,
        Some(link),
    )?;
    let ev = base
        .target(format!("invitation:{}", record.id))
        .detail("email", record.email.clone())
        .detail("role", req.role.as_str())
        .with_outbound(mail);
    st.store
        .create_invitation(record.clone(), st.keys.credential_hash(token.expose()), ev)
        .await?;
    Ok(Invitation {
        id: record.id,
        email: record.email,
        role: record.role,
        expires_at: record.expires_at,
    })
}

/// The live invitation a sign-up token names, or `None` (unknown, used, revoked, expired).
pub async fn find_invitation(st: &Vault, token: &str) -> Result<Option<InvitationRecord>> {
    let Ok(cred) = Credential::parse_kind(token, CredentialKind::Invitation) else {
        return Ok(None);
    };
    let now = st.clock.now();
    Ok(st
        .store
        .invitation_by_hash(&st.keys.credential_hash(cred.expose()))
        .await?
        .filter(|i| i.used_at.is_none() && i.revoked_at.is_none() && i.expires_at > now))
}

/// `PUT /v1/members/{id}/role` (sudo window, checked by the guard). The last owner
/// cannot be demoted.
pub async fn set_role(
    st: &Vault,
    s: &SudoSession,
    user_id: &str,
    role: Role,
    client: &ClientInfo,
) -> Result<Member> {
    let now = st.clock.now();
    let base = NewEvent::new("member.role_changed", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("user:{user_id}"));
    let target = st
        .store
        .user(s.tenant_id(), user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Err(m) = may_manage(s.user.role, role).and(may_manage(s.user.role, target.role)) {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(Error::Forbidden(m));
    }
    let ev = base
        .clone()
        .detail("from", target.role.as_str())
        .detail("to", role.as_str());
    let change = crate::notify::Change::RoleChanged {
        from: target.role,
        to: role,
        by: s.user.email.clone(),
    };
    let ev = crate::notify::with_notice(st, ev, &target.email, &change, client)?;
    match st.store.set_role(s.tenant_id(), user_id, role, ev).await {
        Ok(()) => {}
        Err(StoreError::Conflict(m)) => {
            st.store
                .append_event(base.outcome(Outcome::Denied).detail("reason", "last_owner"))
                .await?;
            return Err(Error::Conflict(m.message()));
        }
        Err(e) => return Err(e.into()),
    }
    let u = st
        .store
        .user(s.tenant_id(), user_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(to_api(&u))
}

/// `DELETE /v1/members/{id}` (sudo window): owners and admins remove others (owners only
/// by owners); anyone may leave. The last owner can do neither. The pending invitations
/// the member sent are voided with the removal (an invitation outlives no one's trust).
pub async fn remove(st: &Vault, s: &SudoSession, user_id: &str, client: &ClientInfo) -> Result<()> {
    let now = st.clock.now();
    let base = NewEvent::new("member.removed", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("user:{user_id}"));
    let target = st
        .store
        .user(s.tenant_id(), user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if target.id != s.user.id
        && let Err(m) = may_manage(s.user.role, target.role)
    {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(Error::Forbidden(m));
    }
    let ev = base.clone().detail("role", target.role.as_str());
    match st
        .store
        .remove_member(s.tenant_id(), user_id, now, ev)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict(m)) => {
            st.store
                .append_event(base.outcome(Outcome::Denied).detail("reason", "last_owner"))
                .await?;
            Err(Error::Conflict(m.message()))
        }
        Err(e) => Err(e.into()),
    }
}
