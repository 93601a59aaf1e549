//! Two-factor authentication: TOTP enrollment, backup codes, and proving the second
//! factor wherever a code is asked for (sign-in and re-authentication in `crate::login`,
//! critical approvals in `crate::approvals`).
//!
//! Every code goes through [`prove`]: it checks the format and hands the code to the
//! store, which in one transaction refuses while the account is locked, verifies the code
//! (TOTP with `keyhold_core::totp` against the stored replay guard, or a backup code by
//! its keyed hash), and spends it and applies its effect, or counts the failure. A wrong,
//! replayed or raced code is counted: more than
//! [`LOCKOUT`]`.max_failures` in an hour locks second-factor attempts for the account and
//! mails its owner.
//!
//! The TOTP secret is sealed at rest (see `secret`). No secret, code or ticket is logged
//! or put in an error or audit event.

mod enrollment;
mod mail;
mod prove;
mod secret;

use chrono::Duration;

pub use enrollment::{
    confirm_enrollment, disable, regenerate_backup_codes, start_enrollment, status,
};
pub(crate) use mail::send_backup_code_mail;
pub(crate) use prove::{
    Attempt, Method, classify, confirmed, prove, ticket_gone, wrong_at_login, wrong_with_session,
};
pub use secret::{open_secret, seal_secret};

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent};
use crate::error::{Error, Result};
use crate::store::UserRecord;
use crate::store::mfa::{LockoutPolicy, MfaEffect};

/// Codes one MFA ticket may try, right or wrong.
pub const TICKET_ATTEMPTS: u32 = 5;
/// More than 10 wrong codes in an hour lock the account's 2FA attempts for 15 minutes.
pub const LOCKOUT: LockoutPolicy = LockoutPolicy {
    max_failures: 10,
    window: Duration::hours(1),
    lock_for: Duration::minutes(15),
};

const WRONG_CODE: &str = "The code is wrong or has already been used.";
const TICKET_GONE: &str =
    "This sign-in step has expired or was used up. Sign in again with your password.";
const NOTHING_PENDING: &str =
    "There is no two-factor enrollment to confirm. Start one with POST /v1/me/mfa/totp first.";
const MFA_OFF: &str = "Two-factor authentication is off.";

/// Confirm an approval with a fresh TOTP code (never a backup code): the code's time step
/// is spent like any other, so a replayed code is refused. 403 when 2FA is off or the code
/// is wrong or used.
pub async fn prove_for_approval(
    st: &Vault,
    user: &UserRecord,
    code: &str,
    approval_id: &str,
    client: &ClientInfo,
) -> Result<()> {
    classify(code, false)?;
    let state = st.store.mfa_state(&user.tenant_id, &user.id).await?;
    let totp = match state.totp.as_ref() {
        Some(t) if t.confirmed_at.is_some() && user.mfa_enabled => t,
        _ => {
            return Err(Error::Forbidden(
                "Approving a critical request needs two-factor authentication; turn it on first.",
            ));
        }
    };
    let now = st.clock.now();
    prove(
        st,
        Attempt {
            user,
            purpose: "approval",
            code,
            backup_allowed: false,
            totp,
            ticket_id: None,
            wrong: wrong_with_session,
            client,
        },
        |method| {
            let ev = NewEvent::new("auth.mfa", now, client)
                .user(&user.tenant_id, &user.id)
                .target(format!("approval:{approval_id}"))
                .detail("purpose", "approval")
                .detail("method", method.as_str());
            (MfaEffect::ProofOnly, vec![ev])
        },
    )
    .await?;
    Ok(())
}
