//! Accounts and sessions: sign-up, sign-in, sign-out, password change, email verification.
//! The second step of a 2FA sign-in lives in `crate::mfa`.

use crate::store::Conflict;
use std::sync::Arc;

use chrono::Duration;
use keyhold_core::api::{
    ChangePasswordRequest, LoginRequest, MeResponse, Role, SessionResponse, SignupRequest,
    SignupResponse,
};
use keyhold_core::credential::{Credential, CredentialKind};
use keyhold_core::email::{Email, clean_text};
use keyhold_core::password::{self, PolicyVerdict};

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::Session;
use crate::error::{Error, Result};
use crate::ids;
use crate::mail::Mail;
use crate::notify::{self, Change};
use crate::sessions;
use crate::store::{EmailTokenRecord, SessionRecord, StoreError, TenantRecord, UserRecord};

const BAD_CREDENTIALS: &str = "Email or password is incorrect.";
const BAD_LINK: &str = "This verification link is invalid, used or expired. Ask for a new one.";
pub const EMAIL_LINK_TTL: Duration = Duration::hours(24);

fn parse_email(s: &str) -> Result<Email> {
    Email::parse(s).map_err(|e| Error::Invalid {
        message: format!("Email: {e}."),
        extra: field("email"),
    })
}

fn field(name: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("field".into(), name.into());
    m
}

/// The 422 for a password the policy refuses: the reasons and zxcvbn's suggestions.
fn policy_error(v: &PolicyVerdict, field_name: &str) -> Error {
    let mut extra = field(field_name);
    extra.insert("reasons".into(), serde_json::json!(v.reasons));
    if let Some(s) = &v.strength {
        extra.insert("suggestions".into(), serde_json::json!(s.suggestions));
        if let Some(w) = &s.warning {
            extra.insert("warning".into(), w.clone().into());
        }
    }
    Error::Invalid {
        message: format!("Choose a different password. {}", v.message()),
        extra,
    }
}

/// Takes the `Arc` because a sign-up to a taken address mails its owner in the
/// background, so that the answer takes as long as a real sign-up's.
pub async fn signup(
    st: &Arc<Vault>,
    req: SignupRequest,
    client: &ClientInfo,
) -> Result<SignupResponse> {
    let email = parse_email(&req.email)?;
    let display_name = match req.display_name.as_deref() {
        None => None,
        Some(n) => Some(clean_text(n, 100).ok_or_else(|| Error::Invalid {
            message: "Display name must be 1 to 100 characters with no control characters.".into(),
            extra: field("display_name"),
        })?),
    };
    let bad_invitation = || Error::Invalid {
        message: "This invitation is invalid, used or expired.".into(),
        extra: field("invitation"),
    };
    let invitation = match req.invitation.as_ref() {
        None => None,
        Some(t) => Some(
            crate::members::find_invitation(st, t.expose())
                .await?
                .ok_or_else(bad_invitation)?,
        ),
    };
    if let Some(inv) = &invitation
        && !inv.email.eq_ignore_ascii_case(email.as_str())
    {
        return Err(Error::Invalid {
            message: "Sign up with the address the invitation was sent to.".into(),
            extra: field("email"),
        });
    }
    // Length is checked first inside `check`, so an oversized password is never hashed.
    let verdict = st
        .hasher
        .check_policy(req.password.expose(), email.as_str())
        .await?;
    if !verdict.is_ok() {
        return Err(policy_error(&verdict, "password"));
    }
    let zxcvbn = verdict.strength.as_ref().map_or(0, |s| s.score);
    let password_hash = st.hasher.hash(req.password.expose()).await?;
    let now = st.clock.now();
    if let Some(inv) = invitation {
        let tenant = st
            .store
            .tenant(&inv.tenant_id)
            .await?
            .ok_or_else(bad_invitation)?;
        let user = UserRecord {
            id: ids::new_id(now),
            tenant_id: tenant.id.clone(),
            email: email.as_str().to_owned(),
            display_name,
            password_hash,
            password_zxcvbn: zxcvbn,
            // The invitation reached this address: it counts as verified.
            email_verified_at: Some(now),
            mfa_enabled: false,
            role: inv.role,
            created_at: now,
        };
        let event = NewEvent::new("member.joined", now, client)
            .user(&tenant.id, &user.id)
            .target(format!("user:{}", user.id))
            .detail("role", inv.role.as_str())
            .detail("invitation_id", inv.id.clone());
        return match st
            .store
            .accept_invitation(&inv.id, user.clone(), now, event)
            .await
        {
            Ok(()) => Ok(SignupResponse {
                user: user.to_api(),
                tenant: tenant.to_api(),
            }),
            Err(StoreError::Conflict(Conflict::InvitationSpent)) => Err(bad_invitation()),
            Err(e) => Err(e.into()),
        };
    }
    let tenant = TenantRecord {
        id: ids::new_id(now),
        name: format!(
            "{}'s vault",
            display_name.as_deref().unwrap_or(email.local_part())
        ),
        created_at: now,
    };
    let user = UserRecord {
        id: ids::new_id(now),
        tenant_id: tenant.id.clone(),
        email: email.as_str().to_owned(),
        display_name,
        password_hash,
        password_zxcvbn: zxcvbn,
        email_verified_at: None,
        mfa_enabled: false,
        role: Role::Owner,
        created_at: now,
    };
    let event = NewEvent::new("member.joined", now, client)
        .user(&tenant.id, &user.id)
        .target(format!("user:{}", user.id))
        .detail("role", Role::Owner.as_str())
        .detail("tenant_created", true);
    // The answer is the same whether or not the address already has an account: the new
    // user and tenant, or look-alikes that were never stored (issue 15, item 10). Both
    // paths did the same policy check, hashing and write attempt, so time does not tell
    // them apart either; the owner of the address is told in the background.
    match st
        .store
        .create_account(tenant.clone(), user.clone(), event)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => signup_attempted(st, email.as_str(), client),
        Err(e) => return Err(e.into()),
    }
    Ok(SignupResponse {
        user: user.to_api(),
        tenant: tenant.to_api(),
    })
}

/// Someone tried to sign up with an address that has an account: audit it in the owner's
/// tenant and mail the owner. In a task of its own, so the answer goes out as fast as a
/// real sign-up's; a failure is logged, never answered.
fn signup_attempted(st: &Arc<Vault>, email: &str, client: &ClientInfo) {
    let (st, email, client) = (st.clone(), email.to_owned(), client.clone());
    tokio::spawn(async move {
        let now = st.clock.now();
        let owner = match st.store.user_by_email(&email).await {
            Ok(Some(u)) => u,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, "looking up the account of a refused sign-up failed");
                return;
            }
        };
        let ev = NewEvent::new("auth.signup", now, &client)
            .tenant(&owner.tenant_id)
            .target(format!("user:{}", owner.id))
            .outcome(Outcome::Denied)
            .detail("reason", "email_in_use");
        if let Err(e) = st.store.append_event(ev).await {
            tracing::error!(error = %e, "auditing a refused sign-up failed");
        }
        notify::account_changed(&st, &owner.email, Change::SignupAttempted, now, &client).await;
    });
}

pub(crate) fn throttled(st: &Vault, email: &str, client: &ClientInfo) -> Option<u64> {
    let now = st.clock.now();
    let by_account = st.login_failures_by_account.check(email, now).err();
    let by_ip = client
        .ip
        .as_deref()
        .and_then(|ip| st.login_failures_by_ip.check(ip, now).err());
    by_account.max(by_ip)
}

pub(crate) fn record_failure(st: &Vault, email: &str, client: &ClientInfo) {
    let now = st.clock.now();
    st.login_failures_by_account.record(email, now);
    if let Some(ip) = &client.ip {
        st.login_failures_by_ip.record(ip, now);
    }
}

/// Check an email and password. On success the account's failure count is cleared. Wrong
/// password, unknown email and oversized password all give the same 401.
pub async fn check_password_login(
    st: &Vault,
    req: &LoginRequest,
    client: &ClientInfo,
) -> Result<UserRecord> {
    let email = parse_email(&req.email)?;
    let key = email.as_str();
    let now = st.clock.now();
    if let Some(wait) = throttled(st, key, client) {
        st.metrics.auth("rate_limited");
        st.metrics.rate_limited.inc();
        let user = st.store.user_by_email(key).await?;
        let mut ev = NewEvent::new("auth.login", now, client)
            .outcome(Outcome::Denied)
            .detail("reason", "rate_limited");
        if let Some(u) = &user {
            ev = ev.user(&u.tenant_id, &u.id);
        }
        st.store.append_event(ev).await?;
        return Err(Error::RateLimited {
            retry_after_secs: wait,
        });
    }
    let user = st.store.user_by_email(key).await?;
    let pw = req.password.expose();
    let ok = if pw.chars().count() > password::MAX_CHARS {
        false
    } else {
        st.hasher
            .verify(pw, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?
    };
    match user {
        Some(u) if ok => {
            st.login_failures_by_account.clear(key);
            Ok(u)
        }
        other => {
            record_failure(st, key, client);
            st.metrics.auth("failure");
            let mut ev = NewEvent::new("auth.login", st.clock.now(), client)
                .outcome(Outcome::Failure)
                .detail("reason", "bad_credentials");
            if let Some(u) = &other {
                ev = ev.user(&u.tenant_id, &u.id);
            }
            st.store.append_event(ev).await?;
            Err(Error::Unauthenticated(BAD_CREDENTIALS))
        }
    }
}

/// Open a session for a user who has fully proved themselves.
pub async fn open_session(
    st: &Vault,
    user: &UserRecord,
    client: &ClientInfo,
    method: &str,
) -> Result<SessionResponse> {
    let now = st.clock.now();
    let token = Credential::generate(CredentialKind::Session);
    let record = SessionRecord {
        id: ids::new_id(now),
        tenant_id: user.tenant_id.clone(),
        user_id: user.id.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + sessions::ABSOLUTE,
        authenticated_at: now,
    };
    let event = NewEvent::new("auth.login", now, client)
        .user(&user.tenant_id, &user.id)
        .target(format!("session:{}", record.id))
        .detail("method", method);
    let expires_at = record.expires_at;
    st.store
        .create_session(record, st.keys.credential_hash(token.expose()), event)
        .await?;
    st.metrics.auth("success");
    Ok(SessionResponse {
        session_token: token.expose().to_owned().into(),
        expires_at,
        user: user.to_api(),
    })
}

pub async fn login(st: &Vault, req: LoginRequest, client: &ClientInfo) -> Result<SessionResponse> {
    let user = check_password_login(st, &req, client).await?;
    if user.mfa_enabled {
        // The password alone is not enough: 401 `mfa_required` with a ticket for
        // `POST /v1/auth/login/mfa`.
        return Err(crate::mfa::issue_ticket(st, &user, client).await);
    }
    open_session(st, &user, client, "password").await
}

pub async fn logout(st: &Vault, s: &Session, client: &ClientInfo) -> Result<()> {
    let ev = NewEvent::new("auth.logout", st.clock.now(), client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("session:{}", s.session.id));
    st.store
        .delete_session(s.tenant_id(), &s.session.id, ev)
        .await?;
    Ok(())
}

pub async fn me(st: &Vault, s: &Session) -> Result<MeResponse> {
    let tenant = st
        .store
        .tenant(s.tenant_id())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(MeResponse {
        user: s.user.to_api(),
        tenant: tenant.to_api(),
        role: s.user.role,
    })
}

pub async fn change_password(
    st: &Vault,
    s: &Session,
    req: ChangePasswordRequest,
    client: &ClientInfo,
) -> Result<()> {
    let verdict = st
        .hasher
        .check_policy(req.new_password.expose(), &s.user.email)
        .await?;
    if !verdict.is_ok() {
        return Err(policy_error(&verdict, "new_password"));
    }
    let key = s.user.email.as_str();
    if let Some(wait) = throttled(st, key, client) {
        st.metrics.rate_limited.inc();
        return Err(Error::RateLimited {
            retry_after_secs: wait,
        });
    }
    let current = req.current_password.expose();
    let ok = current.chars().count() <= password::MAX_CHARS
        && st
            .hasher
            .verify(current, Some(&s.user.password_hash))
            .await?;
    if !ok {
        record_failure(st, key, client);
        let ev = NewEvent::new("password.changed", st.clock.now(), client)
            .user(s.tenant_id(), &s.user.id)
            .outcome(Outcome::Failure)
            .detail("reason", "wrong_current_password");
        st.store.append_event(ev).await?;
        return Err(Error::Forbidden("The current password is incorrect."));
    }
    let zxcvbn = verdict.strength.as_ref().map_or(0, |s| s.score);
    let hash = st.hasher.hash(req.new_password.expose()).await?;
    let now = st.clock.now();
    let ev = NewEvent::new("password.changed", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("user:{}", s.user.id))
        .detail("other_sessions_ended", true);
    st.store
        .set_password(
            s.tenant_id(),
            &s.user.id,
            hash,
            zxcvbn,
            Some(&s.session.id),
            ev,
        )
        .await?;
    notify::account_changed(st, &s.user.email, Change::PasswordChanged, now, client).await;
    Ok(())
}

pub async fn request_email_verification(
    st: &Vault,
    s: &Session,
    client: &ClientInfo,
) -> Result<()> {
    if s.user.email_verified_at.is_some() {
        return Err(Error::Conflict("Your email address is already verified."));
    }
    let now = st.clock.now();
    let token = Credential::generate(CredentialKind::EmailVerification);
    let record = EmailTokenRecord {
        id: ids::new_id(now),
        tenant_id: s.tenant_id().to_owned(),
        user_id: s.user.id.clone(),
        purpose: "verify_email".to_owned(),
        expires_at: now + EMAIL_LINK_TTL,
        used_at: None,
    };
    let ev = NewEvent::new("email.verification_sent", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("user:{}", s.user.id));
    st.store
        .create_email_token(record, st.keys.credential_hash(token.expose()), ev)
        .await?;
    let link = format!("{}/verify-email?token={}", st.public_url, token.expose());
    let body = format!(
        "Hello,\n\nconfirm that {} is your address for Keyhold by opening this link within 24 hours:\n\n{}\n\nIf you did not ask for this, ignore this message.\n",
        s.user.email, link
    );
    st.mailer
        .send(Mail {
            to: &s.user.email,
            subject: "Verify your email for Keyhold",
            body,
            link: Some(&link),
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "sending verification mail failed");
            Error::Unavailable
        })?;
    Ok(())
}

pub async fn verify_email(st: &Vault, token: &str, client: &ClientInfo) -> Result<()> {
    let now = st.clock.now();
    let invalid = || Error::Invalid {
        message: BAD_LINK.into(),
        extra: field("token"),
    };
    let refused = |reason: &'static str| {
        NewEvent::new("email.verified", now, client)
            .outcome(Outcome::Failure)
            .detail("reason", reason)
    };
    let Ok(cred) = Credential::parse_kind(token, CredentialKind::EmailVerification) else {
        st.store.append_event(refused("malformed")).await?;
        return Err(invalid());
    };
    let Some(record) = st
        .store
        .email_token_by_hash(&st.keys.credential_hash(cred.expose()))
        .await?
    else {
        st.store.append_event(refused("unknown")).await?;
        return Err(invalid());
    };
    let scoped = |reason| refused(reason).user(&record.tenant_id, &record.user_id);
    if record.used_at.is_some() {
        st.store.append_event(scoped("used")).await?;
        return Err(invalid());
    }
    if now >= record.expires_at {
        st.store.append_event(scoped("expired")).await?;
        return Err(invalid());
    }
    let ev = NewEvent::new("email.verified", now, client)
        .user(&record.tenant_id, &record.user_id)
        .target(format!("user:{}", record.user_id));
    match st.store.consume_email_verification(&record, now, ev).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict(_)) => {
            st.store.append_event(scoped("used")).await?;
            Err(invalid())
        }
        Err(e) => Err(e.into()),
    }
}
