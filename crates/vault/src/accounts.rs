//! Accounts: sign-up, sign-out, the signed-in person's profile, password change and
//! email verification. Signing in (the password step, the second factor, re-authentication)
//! lives in `crate::login`, which this module uses for the shared failure limits.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use keyhold_core::api::{ChangePasswordRequest, MeResponse, Role, SignupRequest, SignupResponse};
use keyhold_core::credential::{Credential, CredentialKind};
use keyhold_core::email::{Email, clean_text};
use keyhold_core::password::{self, PolicyVerdict};

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::Session;
use crate::error::{Error, Result};
use crate::ids;
use crate::login::{parse_email, record_failure, throttled};
use crate::notify::{self, Change};
use crate::store::{
    Conflict, EmailTokenRecord, InvitationRecord, StoreError, TenantRecord, UserRecord,
};

const BAD_LINK: &str = "This verification link is invalid, used or expired. Ask for a new one.";
const BAD_INVITATION: &str = "This invitation is invalid, used or expired.";
pub const EMAIL_LINK_TTL: Duration = Duration::hours(24);

fn field(name: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("field".into(), name.into());
    m
}

/// The 422 for a password the policy refuses: the reasons and zxcvbn's suggestions.
pub(crate) fn policy_error(v: &PolicyVerdict, field_name: &str) -> Error {
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

fn bad_invitation() -> Error {
    Error::invalid_field(BAD_INVITATION, "invitation")
}

/// The person a sign-up makes, checked and hashed, before it knows its tenant.
struct Newcomer {
    email: Email,
    display_name: Option<String>,
    password_hash: String,
    zxcvbn: u8,
    now: DateTime<Utc>,
}

impl Newcomer {
    fn user(self, tenant_id: &str, role: Role, email_verified: bool) -> UserRecord {
        UserRecord {
            id: ids::new_id(self.now),
            tenant_id: tenant_id.to_owned(),
            email: self.email.as_str().to_owned(),
            display_name: self.display_name,
            password_hash: self.password_hash,
            password_zxcvbn: self.zxcvbn,
            email_verified_at: email_verified.then_some(self.now),
            mfa_enabled: false,
            role,
            created_at: self.now,
        }
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
        Some(n) => Some(
            clean_text(n, keyhold_core::api::schema::MAX_NAME_CHARS).ok_or_else(|| {
                Error::invalid_field(
                    "Display name must be 1 to 100 characters with no control characters.",
                    "display_name",
                )
            })?,
        ),
    };
    let invitation = invitation_for(st, &req, &email).await?;
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
    let newcomer = Newcomer {
        email,
        display_name,
        password_hash,
        zxcvbn,
        now: st.clock.now(),
    };
    match invitation {
        Some(inv) => join_by_invitation(st, inv, newcomer, client).await,
        None => open_own_vault(st, newcomer, client).await,
    }
}

/// The invitation a sign-up carries, if any: it must be live and sent to this address.
async fn invitation_for(
    st: &Vault,
    req: &SignupRequest,
    email: &Email,
) -> Result<Option<InvitationRecord>> {
    let Some(t) = req.invitation.as_ref() else {
        return Ok(None);
    };
    let inv = crate::members::find_invitation(st, t.expose())
        .await?
        .ok_or_else(bad_invitation)?;
    if !inv.email.eq_ignore_ascii_case(email.as_str()) {
        return Err(Error::invalid_field(
            "Sign up with the address the invitation was sent to.",
            "email",
        ));
    }
    Ok(Some(inv))
}

/// An invited sign-up joins the inviting tenant with the invited role.
async fn join_by_invitation(
    st: &Vault,
    inv: InvitationRecord,
    newcomer: Newcomer,
    client: &ClientInfo,
) -> Result<SignupResponse> {
    let now = newcomer.now;
    let tenant = st
        .store
        .tenant(&inv.tenant_id)
        .await?
        .ok_or_else(bad_invitation)?;
    // The invitation reached this address: it counts as verified.
    let user = newcomer.user(&tenant.id, inv.role, true);
    let event = NewEvent::new("member.joined", now, client)
        .user(&tenant.id, &user.id)
        .target(format!("user:{}", user.id))
        .detail("role", inv.role.as_str())
        .detail("invitation_id", inv.id.clone());
    match st
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
    }
}

/// A sign-up without an invitation opens a vault of its own, as its owner.
async fn open_own_vault(
    st: &Arc<Vault>,
    newcomer: Newcomer,
    client: &ClientInfo,
) -> Result<SignupResponse> {
    let now = newcomer.now;
    let tenant = TenantRecord {
        id: ids::new_id(now),
        name: format!(
            "{}'s vault",
            newcomer
                .display_name
                .as_deref()
                .unwrap_or(newcomer.email.local_part())
        ),
        created_at: now,
    };
    let email = newcomer.email.as_str().to_owned();
    let user = newcomer.user(&tenant.id, Role::Owner, false);
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
        Err(StoreError::Conflict(_)) => signup_attempted(st, &email, client),
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
        let ev = notify::with_notice(&st, ev, &owner.email, &Change::SignupAttempted, &client);
        if let Err(e) = async { st.store.append_event(ev?).await.map_err(Error::from) }.await {
            tracing::error!(error = %e, "auditing a refused sign-up failed");
        }
    });
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
    if let Some(wait) = throttled(st, key, client).await {
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
        record_failure(st, key, client).await;
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
    let ev = notify::with_notice(st, ev, &s.user.email, &Change::PasswordChanged, client)?;
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
    let link = format!("{}/verify-email?token={}", st.public_url, token.expose());
    let body = format!(
        "Hello,\n\nconfirm that {} is your address for Keyhold by opening this link within 24 hours:\n\n{}\n\nIf you did not ask for this, ignore this message.\n",
        s.user.email, link
    );
    // Sealed in the outbox with the token's event: sent if and only if the token exists.
    let mail = crate::events::mail::queue(
        st,
        &s.user.email,
        "Verify your email for Keyhold",
        body,
        Some(link),
    )?;
    let ev = NewEvent::new("email.verification_sent", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("user:{}", s.user.id))
        .with_outbound(mail);
    st.store
        .create_email_token(record, st.keys.credential_hash(token.expose()), ev)
        .await?;
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
