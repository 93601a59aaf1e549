//! A forgotten password: `POST /v1/auth/password-reset` mails a single-use link valid
//! [`RESET_LINK_TTL`]; `POST /v1/auth/password-reset/confirm` (or the page the link opens)
//! sets a new password with it, with a TOTP or backup code when the account has 2FA on,
//! and ends every session of the account.
//!
//! The request answers the same, at once, whatever the address: the account is looked up,
//! and the link stored and mailed, in a task of its own after the answer. An unknown
//! address leaves nothing behind (no row, no audit event, no log line naming it). While a
//! link mailed less than [`RESEND_AFTER`] ago is still open, asking again mails nothing,
//! so the route cannot flood someone's mailbox.
//!
//! A link is stored as the keyed hash of its `khr_` token (an email token of purpose
//! `reset_password`) and found by that hash, like every credential. A wrong second-factor
//! code does not spend the link (the person may retry within the hour); wrong codes count
//! toward the account's 2FA lockout like everywhere else, and a backup code that works is
//! used up.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use keyhold_core::api::{PasswordResetConfirm, PasswordResetRequest};
use keyhold_core::credential::{Credential, CredentialKind};

use crate::Vault;
use crate::accounts::policy_error;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::ids;
use crate::login::parse_email;
use crate::mfa::{Attempt, Method, classify, confirmed, prove, send_backup_code_mail};
use crate::notify::{self, Change};
use crate::store::mfa::MfaEffect;
use crate::store::outbox::Outbound;
use crate::store::recovery::RESET_PASSWORD;
use crate::store::{Conflict, EmailTokenRecord, StoreError, UserRecord};

/// How long a mailed reset link works.
pub const RESET_LINK_TTL: Duration = Duration::hours(1);
/// While a link mailed less than this long ago is open, no new one is mailed.
pub const RESEND_AFTER: Duration = Duration::minutes(15);

const RESET_SUBJECT: &str = "Reset your Keyhold password";
const BAD_LINK: &str = "This password-reset link is invalid, used or expired. Ask for a new one.";
const CODE_NEEDED: &str = "This account has two-factor authentication on: enter a code from \
                           your authenticator app, or one of your backup codes.";
const WRONG_CODE: &str = "The code is wrong or has already been used. Enter a current code \
                          from your authenticator app, or an unused backup code.";

fn bad_link() -> Error {
    Error::InvalidLink(BAD_LINK)
}

fn wrong_code() -> Error {
    Error::CodeRequired(WRONG_CODE)
}

/// `POST /v1/auth/password-reset`: checks only that `email` is an address, then answers;
/// the link is issued in the background (see the module doc). Takes the `Arc` for that
/// task.
pub async fn request_password_reset(
    st: &Arc<Vault>,
    req: &PasswordResetRequest,
    client: &ClientInfo,
) -> Result<()> {
    let email = parse_email(&req.email)?.as_str().to_owned();
    let (st, client) = (st.clone(), client.clone());
    tokio::spawn(async move {
        if let Err(e) = issue(&st, &email, &client).await {
            tracing::error!(error = %e, "issuing a password-reset link failed");
        }
    });
    Ok(())
}

/// Store and mail a reset link for the account of `email`, if there is one and no recent
/// link of it is open.
async fn issue(st: &Vault, email: &str, client: &ClientInfo) -> Result<()> {
    let Some(user) = st.store.user_by_email(email).await? else {
        return Ok(());
    };
    let now = st.clock.now();
    let token = Credential::generate(CredentialKind::PasswordReset);
    let record = EmailTokenRecord {
        id: ids::new_id(now),
        tenant_id: user.tenant_id.clone(),
        user_id: user.id.clone(),
        purpose: RESET_PASSWORD.to_owned(),
        expires_at: now + RESET_LINK_TTL,
        used_at: None,
    };
    let link = format!("{}/reset-password?token={}", st.public_url, token.expose());
    // Sealed in the outbox with the link's event: mailed if and only if the link is stored.
    let mail = reset_mail(st, &user.email, link, client)?;
    let ev = NewEvent::new("password.reset_requested", now, client)
        .tenant(&user.tenant_id)
        .target(format!("user:{}", user.id))
        .detail("link_id", record.id.clone())
        .detail("mfa_required", user.mfa_enabled)
        .with_outbound(mail);
    let open_after = now + RESET_LINK_TTL - RESEND_AFTER;
    let hash = st.keys.credential_hash(token.expose());
    match st
        .store
        .create_password_reset(record, hash, open_after, ev)
        .await
    {
        Ok(()) => Ok(()),
        // A link went out a short while ago and is still open: that one will do.
        Err(StoreError::Conflict(Conflict::ResetRecentlySent)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The mail with the link, sealed for the outbox: what it is for, how long it works, and
/// what to do if the person did not ask.
fn reset_mail(st: &Vault, to: &str, link: String, client: &ClientInfo) -> Result<Outbound> {
    let from = client.ip.as_deref().unwrap_or("an unknown address");
    let body = format!(
        "Hello,\n\nsomeone (from address {from}) asked to reset the password of your Keyhold \
         account ({to}). Choose a new password with this link within 1 hour; it works once:\n\n\
         {link}\n\nIf two-factor authentication is on for the account, you will also need a \
         code from your authenticator app or one of your backup codes.\n\n\
         If you did not ask for this, ignore this message: your password stays as it is.\n"
    );
    crate::events::mail::queue(st, to, RESET_SUBJECT, body, Some(link))
}

/// The open reset link `token` names, and its account; 400 `invalid_request` (`field:
/// token`) for anything else. A used or expired link of a real account is audited.
async fn open_link(
    st: &Vault,
    token: &str,
    now: DateTime<Utc>,
    client: &ClientInfo,
) -> Result<(EmailTokenRecord, UserRecord)> {
    let Ok(cred) = Credential::parse_kind(token, CredentialKind::PasswordReset) else {
        return Err(bad_link());
    };
    let Some(record) = st
        .store
        .email_token_by_hash(&st.keys.credential_hash(cred.expose()))
        .await?
        .filter(|r| r.purpose == RESET_PASSWORD)
    else {
        return Err(bad_link());
    };
    let refused = |reason: &'static str| {
        NewEvent::new("password.reset", now, client)
            .user(&record.tenant_id, &record.user_id)
            .target(format!("user:{}", record.user_id))
            .outcome(Outcome::Failure)
            .detail("reason", reason)
    };
    let why = if record.used_at.is_some() {
        Some("used")
    } else if now >= record.expires_at {
        Some("expired")
    } else {
        None
    };
    if let Some(reason) = why {
        st.store.append_event(refused(reason)).await?;
        return Err(bad_link());
    }
    let user = st
        .store
        .user(&record.tenant_id, &record.user_id)
        .await?
        .ok_or_else(bad_link)?;
    Ok((record, user))
}

/// The checked new password: its argon2id hash and zxcvbn score.
struct NewPassword {
    hash: String,
    zxcvbn: u8,
}

/// `POST /v1/auth/password-reset/confirm`. In order: the link (400), the password policy
/// (422), the code's presence and shape when 2FA is on (401 `mfa_required`, 422), then the
/// change, with the code checked and spent in the same transaction.
pub async fn confirm_password_reset(
    st: &Vault,
    req: &PasswordResetConfirm,
    client: &ClientInfo,
) -> Result<()> {
    let now = st.clock.now();
    // Trimmed: a token pasted into an app often brings a space or a line break along.
    let (record, user) = open_link(st, req.token.expose().trim(), now, client).await?;
    let new_password = req.new_password.expose();
    let verdict = st.hasher.check_policy(new_password, &user.email).await?;
    if !verdict.is_ok() {
        return Err(policy_error(&verdict, "new_password"));
    }
    let code = req
        .code
        .as_ref()
        .map(|c| c.expose().as_str())
        .filter(|c| !c.is_empty());
    if user.mfa_enabled {
        classify(code.ok_or(Error::CodeRequired(CODE_NEEDED))?, true)?;
    }
    let password = NewPassword {
        hash: st.hasher.hash(new_password).await?,
        zxcvbn: verdict.strength.as_ref().map_or(0, |s| s.score),
    };
    let method = match code.filter(|_| user.mfa_enabled) {
        Some(code) => Some(with_code(st, &user, record, password, code, now, client).await?),
        None => {
            let ev = reset_event(&user, "link", now, client);
            let ev = notify::with_notice(st, ev, &user.email, &Change::PasswordReset, client)?;
            match st
                .store
                .reset_password(&record, password.hash, password.zxcvbn, now, ev)
                .await
            {
                Ok(()) => None,
                Err(StoreError::Conflict(Conflict::LinkUsed)) => return Err(bad_link()),
                Err(e) => return Err(e.into()),
            }
        }
    };
    st.login_failures_by_account.clear(&user.email).await;
    if method == Some(Method::BackupCode) {
        send_backup_code_mail(st, &user, "reset your password").await;
    }
    Ok(())
}

fn reset_event(user: &UserRecord, method: &str, now: DateTime<Utc>, c: &ClientInfo) -> NewEvent {
    NewEvent::new("password.reset", now, c)
        .user(&user.tenant_id, &user.id)
        .target(format!("user:{}", user.id))
        .detail("method", method)
        .detail("sessions_ended", true)
}

/// 2FA on: the code is checked, and the link spent with the change, in one transaction.
async fn with_code(
    st: &Vault,
    user: &UserRecord,
    token: EmailTokenRecord,
    password: NewPassword,
    code: &str,
    now: DateTime<Utc>,
    client: &ClientInfo,
) -> Result<Method> {
    let state = st.store.mfa_state(&user.tenant_id, &user.id).await?;
    let totp = confirmed(&state)?;
    let attempt = Attempt {
        user,
        purpose: "password_reset",
        code,
        backup_allowed: true,
        totp,
        ticket_id: None,
        wrong: wrong_code,
        client,
    };
    let notice = notify::notice(st, &user.email, &Change::PasswordReset, now, client)?;
    let proved = prove(st, attempt, |method| {
        let ev = reset_event(user, &format!("link+{}", method.as_str()), now, client)
            .with_outbound(notice);
        let effect = MfaEffect::ResetPassword {
            token,
            password_hash: password.hash,
            zxcvbn: password.zxcvbn,
        };
        (effect, vec![ev])
    })
    .await;
    match proved {
        // The link was spent by a racing request between the check and the change.
        Err(Error::Conflict(m)) if m == Conflict::LinkUsed.message() => Err(bad_link()),
        other => other,
    }
}
