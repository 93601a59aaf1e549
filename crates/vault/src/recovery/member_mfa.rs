//! A lost authenticator and lost backup codes: someone else turns the person's 2FA off.
//!
//! - `POST /v1/members/{user_id}/mfa/reset` ([`reset_member_mfa`]): an owner or admin of
//!   the same tenant, in the sudo window, proving it is them with a current TOTP code of
//!   their own (so they must have 2FA on themselves). Never their own account (that is
//!   `DELETE /v1/me/mfa/totp`, with a code). The role rule is the one for role changes
//!   (`crate::members`): admins reset admins, approvers and members; only owners reset an
//!   owner.
//! - `keyhold-server admin reset-2fa EMAIL` ([`reset_mfa_by_operator`]): for a lone owner,
//!   whom nobody else in the tenant can help; the server's operator acts, as the `System`
//!   actor.
//!
//! Either way the person's enrollment, backup codes, wrong-code count and lock are gone,
//! every session of theirs ends, the change is audited as `mfa.reset`, and they are mailed.

use keyhold_core::api::Role;

use crate::Vault;
use crate::audit::{ActorKind, ClientInfo, NewEvent, Outcome};
use crate::auth::SudoSession;
use crate::error::{Error, Result};
use crate::login::parse_email;
use crate::mfa::{Attempt, classify, prove, wrong_with_session};
use crate::notify::{self, Change};
use crate::store::mfa::MfaEffect;

const NOT_YOURSELF: &str = "You cannot reset your own two-factor authentication here: turn it \
                            off with a code in your security settings, or ask another owner \
                            or admin.";
const ADMINS_ONLY: &str = "Only owners and admins can reset a member's two-factor authentication.";
const OWNERS_ONLY: &str = "Only an owner can reset an owner's two-factor authentication.";
const OWN_2FA_NEEDED: &str = "Resetting a member's two-factor authentication needs your own: \
                              turn two-factor authentication on for your account first, then \
                              confirm with a code from your authenticator app.";
const ALREADY_OFF: &str = "This member's two-factor authentication is already off.";
/// Who the operator's reset is audited as.
pub const OPERATOR: &str = "keyhold-server admin reset-2fa";

/// Whether `actor` may reset the 2FA of someone whose role is `target`.
fn may_reset(actor: Role, target: Role) -> Result<(), &'static str> {
    if !actor.is_admin() {
        return Err(ADMINS_ONLY);
    }
    if target == Role::Owner && actor != Role::Owner {
        return Err(OWNERS_ONLY);
    }
    Ok(())
}

/// `POST /v1/members/{user_id}/mfa/reset` (sudo window, checked by the guard), with the
/// caller's own TOTP code (never a backup code).
pub async fn reset_member_mfa(
    st: &Vault,
    s: &SudoSession,
    user_id: &str,
    code: &str,
    client: &ClientInfo,
) -> Result<()> {
    let now = st.clock.now();
    let base = NewEvent::new("mfa.reset", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("user:{user_id}"));
    if user_id == s.user.id {
        return Err(Error::Forbidden(NOT_YOURSELF));
    }
    let target = st
        .store
        .user(s.tenant_id(), user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Err(m) = may_reset(s.user.role, target.role) {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(Error::Forbidden(m));
    }
    classify(code, false)?;
    let state = st.store.mfa_state(s.tenant_id(), &s.user.id).await?;
    let totp = match state.totp.as_ref() {
        Some(t) if t.confirmed_at.is_some() && s.user.mfa_enabled => t,
        _ => return Err(Error::Forbidden(OWN_2FA_NEEDED)),
    };
    if !target.mfa_enabled {
        return Err(Error::Conflict(ALREADY_OFF));
    }
    let attempt = Attempt {
        user: &s.user,
        purpose: "member_mfa_reset",
        code,
        backup_allowed: false,
        totp,
        ticket_id: None,
        wrong: wrong_with_session,
        client,
    };
    let change = Change::MfaResetByAdmin {
        by: s.user.email.clone(),
    };
    let notice = notify::notice(st, &target.email, &change, now, client)?;
    prove(st, attempt, |method| {
        let ev = base
            .with_outbound(notice)
            .detail("method", method.as_str())
            .detail("role", target.role.as_str())
            .detail("sessions_ended", true);
        let effect = MfaEffect::ResetMember {
            user_id: target.id.clone(),
        };
        (effect, vec![ev])
    })
    .await?;
    Ok(())
}

/// What `keyhold-server admin reset-2fa` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorReset {
    /// 2FA was on and is now off; the person's sessions ended and they were mailed.
    Reset { user_id: String, tenant_id: String },
    /// 2FA was already off: nothing changed.
    AlreadyOff { user_id: String, tenant_id: String },
}

/// `keyhold-server admin reset-2fa EMAIL`: turn off the 2FA of the account of `email`.
/// `NotFound` when no account has that address.
pub async fn reset_mfa_by_operator(st: &Vault, email: &str) -> Result<OperatorReset> {
    let email = parse_email(email)?;
    let user = st
        .store
        .user_by_email(email.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    let (user_id, tenant_id) = (user.id.clone(), user.tenant_id.clone());
    if !user.mfa_enabled {
        return Ok(OperatorReset::AlreadyOff { user_id, tenant_id });
    }
    let now = st.clock.now();
    let client = ClientInfo::default();
    let ev = NewEvent::new("mfa.reset", now, &client)
        .tenant(&tenant_id)
        .actor(ActorKind::System, OPERATOR)
        .target(format!("user:{user_id}"))
        .detail("method", "server_operator")
        .detail("role", user.role.as_str())
        .detail("sessions_ended", true);
    let ev = notify::with_notice(st, ev, &user.email, &Change::MfaResetByOperator, &client)?;
    st.store.reset_mfa(&tenant_id, &user_id, ev).await?;
    Ok(OperatorReset::Reset { user_id, tenant_id })
}
