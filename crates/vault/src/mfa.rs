//! Two-factor authentication: TOTP enrollment, backup codes, the MFA sign-in step,
//! re-authentication for the sudo window, and the security score.
//!
//! Every code goes through [`prove`]: it checks the format and hands the code to the
//! store, which in one transaction refuses while the account is locked, verifies the code
//! (TOTP with `keyhold_core::totp` against the stored replay guard, or a backup code by
//! its keyed hash), and spends it and applies its effect, or counts the failure. A wrong,
//! replayed or raced code is counted: more than
//! [`LOCKOUT`]`.max_failures` in an hour locks second-factor attempts for the account and
//! mails its owner.
//!
//! The TOTP secret is sealed with AES-256-GCM under the wrap key before it is stored, with
//! the tenant and user as associated data, so a sealed secret copied to another row does
//! not open. No secret, code or ticket is logged or put in an error or audit event.

use crate::store::Conflict;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use keyhold_core::api::{
    BackupCodesResponse, LoginMfaRequest, MfaStatus, SessionResponse, TotpEnrollment,
};
use keyhold_core::credential::{Credential, CredentialKind};
use keyhold_core::password;
use keyhold_core::score::{KeyFacts, SecurityFacts, SecurityScore, security_score};
use keyhold_core::totp::{self, TotpError, TotpSecret};
use keyhold_core::{Sensitive, backup_codes};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::Vault;
use crate::accounts::{record_failure, throttled};
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::Session;
use crate::error::{Error, Result};
use crate::ids;
use crate::keys::Keys;
use crate::mail::Mail;
use crate::notify::{self, Change};
use crate::sessions;
use crate::store::mfa::{
    AttemptOutcome, LockoutPolicy, MfaEffect, MfaState, MfaTicketRecord, Proof,
    SecondFactorAttempt, TotpCheck, TotpRecord,
};
use crate::store::{SessionRecord, StoreError, UserRecord};

/// How long the second step of a 2FA sign-in may take.
pub const TICKET_TTL: Duration = Duration::minutes(5);
/// Codes one MFA ticket may try, right or wrong.
pub const TICKET_ATTEMPTS: u32 = 5;
/// More than 10 wrong codes in an hour lock the account's 2FA attempts for 15 minutes.
pub const LOCKOUT: LockoutPolicy = LockoutPolicy {
    max_failures: 10,
    window: Duration::hours(1),
    lock_for: Duration::minutes(15),
};

const NONCE_LEN: usize = 12;
const WRONG_CODE: &str = "The code is wrong or has already been used.";
const TICKET_GONE: &str =
    "This sign-in step has expired or was used up. Sign in again with your password.";
const NOTHING_PENDING: &str =
    "There is no two-factor enrollment to confirm. Start one with POST /v1/me/mfa/totp first.";
const MFA_OFF: &str = "Two-factor authentication is off.";

// ---------------------------------------------------------------------------------------
// The TOTP secret at rest.

fn secret_aad(tenant_id: &str, user_id: &str) -> Vec<u8> {
    format!("keyhold/totp-secret/v1\0{tenant_id}\0{user_id}").into_bytes()
}

/// `nonce || AES-256-GCM(secret)` with a random 96-bit nonce, bound to the tenant and user.
pub fn seal_secret(
    keys: &Keys,
    tenant_id: &str,
    user_id: &str,
    secret: &TotpSecret,
) -> anyhow::Result<Vec<u8>> {
    let cipher = Aes256Gcm::new_from_slice(keys.wrap.bytes())
        .map_err(|_| anyhow::anyhow!("wrap key has the wrong length"))?;
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let aad = secret_aad(tenant_id, user_id);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret.expose_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| anyhow::anyhow!("sealing the TOTP secret failed"))?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// The inverse of [`seal_secret`]; fails if the box was altered or belongs to someone else.
pub fn open_secret(
    keys: &Keys,
    tenant_id: &str,
    user_id: &str,
    sealed: &[u8],
) -> anyhow::Result<TotpSecret> {
    if sealed.len() <= NONCE_LEN {
        anyhow::bail!("sealed TOTP secret is truncated");
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new_from_slice(keys.wrap.bytes())
        .map_err(|_| anyhow::anyhow!("wrap key has the wrong length"))?;
    let aad = secret_aad(tenant_id, user_id);
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
        .map_err(|_| anyhow::anyhow!("the sealed TOTP secret does not open"))?;
    TotpSecret::from_bytes(plain).context("stored TOTP secret has a bad length")
}

/// The keyed hash a backup code is stored under: of its normalised form, per user.
fn backup_code_hash(keys: &Keys, user_id: &str, normalized: &Sensitive<String>) -> String {
    let input = Zeroizing::new(format!("backup-code:{user_id}:{}", normalized.expose()));
    keys.credential_hash(&input)
}

/// A fresh set of codes to show once, and their hashes to store.
fn new_backup_codes(keys: &Keys, user_id: &str) -> (Vec<Sensitive<String>>, Vec<String>) {
    let codes = backup_codes::generate();
    let hashes = codes
        .iter()
        .filter_map(|c| backup_codes::normalize(c.expose()))
        .map(|n| backup_code_hash(keys, user_id, &n))
        .collect();
    (codes, hashes)
}

// ---------------------------------------------------------------------------------------
// Checking a code.

/// What a submitted code looks like.
enum Submitted {
    Totp,
    Backup(Sensitive<String>),
}

fn classify(code: &str, backup_allowed: bool) -> Result<Submitted> {
    if code.len() == totp::DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Submitted::Totp);
    }
    if backup_allowed && let Some(n) = backup_codes::normalize(code) {
        return Ok(Submitted::Backup(n));
    }
    let message = if backup_allowed {
        "Enter the 6-digit code from your authenticator app, or one of your backup codes (xxxx-xxxx-xxxx)."
    } else {
        "Enter the 6-digit code from your authenticator app."
    };
    let mut extra = serde_json::Map::new();
    extra.insert("field".into(), "code".into());
    Err(Error::Invalid {
        message: message.into(),
        extra,
    })
}

fn unix_secs(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

fn wait_secs(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1)
}

/// How a second factor was proved, for audit details and mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Totp,
    BackupCode,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::BackupCode => "backup_code",
        }
    }
}

/// One attempt to prove the second factor.
struct Attempt<'a> {
    user: &'a UserRecord,
    /// Where the code was entered, for the audit log: `login`, `reauth`, `confirm`,
    /// `disable` or `backup_codes`.
    purpose: &'static str,
    code: &'a str,
    backup_allowed: bool,
    /// The enrollment the code is checked against (pending for `confirm`).
    totp: &'a TotpRecord,
    /// For sign-in: the ticket whose attempt this is.
    ticket_id: Option<&'a str>,
    /// The error a wrong code gets (401 at sign-in, 403 with a session).
    wrong: fn() -> Error,
    client: &'a ClientInfo,
}

fn wrong_with_session() -> Error {
    Error::Forbidden(WRONG_CODE)
}

fn wrong_at_login() -> Error {
    Error::Unauthenticated(WRONG_CODE)
}

fn ticket_gone() -> Error {
    Error::Unauthenticated(TICKET_GONE)
}

/// Check the code and spend it with the effect and events `then` makes, or count the
/// failure: all in one store transaction, lock check included (issue 15, item 5), so
/// parallel guesses are judged in turn and none outruns the lock. Returns how the factor
/// was proved.
async fn prove(
    st: &Vault,
    a: Attempt<'_>,
    then: impl FnOnce(Method) -> (MfaEffect, Vec<NewEvent>),
) -> Result<Method> {
    let submitted = classify(a.code, a.backup_allowed)?;
    let now = st.clock.now();
    let tenant_id = a.user.tenant_id.as_str();
    let user_id = a.user.id.as_str();
    let event = |action: &'static str| {
        NewEvent::new(action, now, a.client)
            .user(tenant_id, user_id)
            .target(format!("user:{user_id}"))
            .detail("purpose", a.purpose)
    };
    let (method, proof) = match &submitted {
        Submitted::Totp => {
            let secret = open_secret(&st.keys, tenant_id, user_id, &a.totp.secret_sealed)?;
            let code = Zeroizing::new(a.code.to_owned());
            let at = unix_secs(now);
            let check: TotpCheck = Box::new(move |last_step| {
                totp::verify(&secret, &code, at, last_step).map_err(|e| match e {
                    TotpError::Replayed => "replayed",
                    TotpError::Invalid | TotpError::Malformed => "invalid_code",
                })
            });
            let proof = Proof::Totp {
                enrollment_id: a.totp.id.clone(),
                confirmed: a.totp.confirmed_at.is_some(),
                check,
            };
            (Method::Totp, proof)
        }
        Submitted::Backup(n) => (
            Method::BackupCode,
            Proof::BackupCode {
                code_hash: backup_code_hash(&st.keys, user_id, n),
            },
        ),
    };
    let (effect, events) = then(method);
    let attempt = SecondFactorAttempt {
        tenant_id: tenant_id.to_owned(),
        user_id: user_id.to_owned(),
        now,
        proof,
        ticket: a.ticket_id.map(|t| (t.to_owned(), TICKET_ATTEMPTS)),
        effect,
        events,
        policy: LOCKOUT,
        failure_event: event("auth.mfa")
            .outcome(Outcome::Failure)
            .detail("method", method.as_str()),
        lock_event: event("auth.mfa")
            .outcome(Outcome::Denied)
            .detail("reason", "locked")
            .detail("locked_minutes", LOCKOUT.lock_for.num_minutes()),
        locked_event: event("auth.mfa")
            .outcome(Outcome::Denied)
            .detail("reason", "locked"),
    };
    let outcome = match st.store.attempt_second_factor(attempt).await {
        Ok(o) => o,
        Err(StoreError::Conflict(Conflict::TicketSpent)) => return Err(ticket_gone()),
        Err(e) => return Err(e.into()),
    };
    match outcome {
        AttemptOutcome::Proved => Ok(method),
        AttemptOutcome::TicketGone => Err(ticket_gone()),
        AttemptOutcome::Locked(until) => {
            st.metrics.rate_limited.inc();
            Err(Error::RateLimited {
                retry_after_secs: wait_secs(until, now),
            })
        }
        AttemptOutcome::Wrong {
            locked_until: Some(until),
            ..
        } => {
            st.metrics.auth("mfa_failure");
            tracing::warn!(user_id, "too many wrong 2FA codes; 2FA attempts locked");
            send_lockout_mail(st, a.user, until).await;
            st.metrics.rate_limited.inc();
            Err(Error::RateLimited {
                retry_after_secs: wait_secs(until, now),
            })
        }
        AttemptOutcome::Wrong {
            locked_until: None, ..
        } => {
            st.metrics.auth("mfa_failure");
            Err((a.wrong)())
        }
    }
}

/// Mail that is a notice, not part of the action: a failure to send is logged, and the
/// action (already committed) stands.
async fn notify(st: &Vault, to: &str, subject: &str, body: String) {
    if let Err(e) = st
        .mailer
        .send(Mail {
            to,
            subject,
            body,
            link: None,
        })
        .await
    {
        tracing::error!(error = %format!("{e:#}"), "sending a security notice failed");
    }
}

async fn send_lockout_mail(st: &Vault, user: &UserRecord, until: DateTime<Utc>) {
    let body = format!(
        "Hello,\n\nsomeone entered more than {} wrong two-factor codes for your Keyhold account \
         ({}) within an hour. Two-factor sign-in for the account is locked until {} UTC.\n\n\
         If this was not you, your password may be known to someone else: change it once \
         the lock ends.\n",
        LOCKOUT.max_failures,
        user.email,
        until.format("%Y-%m-%d %H:%M"),
    );
    notify(
        st,
        &user.email,
        "Keyhold: two-factor sign-in locked after wrong codes",
        body,
    )
    .await;
}

async fn send_backup_code_mail(st: &Vault, user: &UserRecord, what: &str) {
    let left = st
        .store
        .mfa_state(&user.tenant_id, &user.id)
        .await
        .map(|s| s.backup_codes_remaining)
        .unwrap_or(0);
    let body = format!(
        "Hello,\n\na backup code was just used to {what} for your Keyhold account ({}). \
         You have {left} backup code{} left.\n\nIf this was not you, sign in, turn two-factor \
         authentication off and on again, and change your password.\n",
        user.email,
        if left == 1 { "" } else { "s" },
    );
    notify(st, &user.email, "Keyhold: a backup code was used", body).await;
}

fn confirmed(state: &MfaState) -> Result<&TotpRecord> {
    state
        .totp
        .as_ref()
        .filter(|t| t.confirmed_at.is_some())
        .ok_or(Error::Conflict(MFA_OFF))
}

// ---------------------------------------------------------------------------------------
// The endpoints' logic.

pub async fn start_enrollment(
    st: &Vault,
    s: &Session,
    client: &ClientInfo,
) -> Result<TotpEnrollment> {
    if s.user.mfa_enabled {
        return Err(Error::Conflict(Conflict::MfaAlreadyEnabled.message()));
    }
    let now = st.clock.now();
    let secret = TotpSecret::generate();
    let record = TotpRecord {
        id: ids::new_id(now),
        tenant_id: s.tenant_id().to_owned(),
        user_id: s.user.id.clone(),
        secret_sealed: seal_secret(&st.keys, s.tenant_id(), &s.user.id, &secret)?,
        created_at: now,
        confirmed_at: None,
        last_step: None,
    };
    let ev = NewEvent::new("mfa.enrollment_started", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("user:{}", s.user.id))
        .detail("method", "totp");
    st.store.start_totp_enrollment(record, ev).await?;
    Ok(TotpEnrollment {
        secret: secret.to_base32(),
        otpauth_uri: totp::otpauth_uri(&secret, &s.user.email),
    })
}

pub async fn confirm_enrollment(
    st: &Vault,
    s: &Session,
    code: &str,
    client: &ClientInfo,
) -> Result<BackupCodesResponse> {
    classify(code, false)?;
    let state = st.store.mfa_state(s.tenant_id(), &s.user.id).await?;
    let pending = match &state.totp {
        None => return Err(Error::Conflict(NOTHING_PENDING)),
        Some(t) if t.confirmed_at.is_some() => {
            return Err(Error::Conflict(Conflict::MfaAlreadyEnabled.message()));
        }
        Some(t) => t,
    };
    let (codes, hashes) = new_backup_codes(&st.keys, &s.user.id);
    let now = st.clock.now();
    let count = hashes.len();
    prove(
        st,
        Attempt {
            user: &s.user,
            purpose: "confirm",
            code,
            backup_allowed: false,
            totp: pending,
            ticket_id: None,
            wrong: wrong_with_session,
            client,
        },
        |method| {
            let ev = NewEvent::new("mfa.enabled", now, client)
                .user(s.tenant_id(), &s.user.id)
                .target(format!("user:{}", s.user.id))
                .detail("method", method.as_str())
                .detail("backup_codes", count);
            (
                MfaEffect::Enable {
                    backup_code_hashes: hashes,
                },
                vec![ev],
            )
        },
    )
    .await?;
    notify::account_changed(st, &s.user.email, Change::MfaEnabled, now, client).await;
    Ok(BackupCodesResponse {
        backup_codes: codes,
    })
}

pub async fn status(st: &Vault, s: &Session) -> Result<MfaStatus> {
    let state = st.store.mfa_state(s.tenant_id(), &s.user.id).await?;
    let enrolled_at = state.totp.as_ref().and_then(|t| t.confirmed_at);
    Ok(MfaStatus {
        totp_enabled: enrolled_at.is_some(),
        backup_codes_remaining: if enrolled_at.is_some() {
            state.backup_codes_remaining
        } else {
            0
        },
        enrolled_at,
    })
}

/// Regenerate (`regenerate = true`) backup codes or disable 2FA: both need the sudo window
/// (checked by the `SudoSession` guard) and a code, TOTP or backup.
async fn sudo_action(
    st: &Vault,
    s: &Session,
    code: &str,
    client: &ClientInfo,
    regenerate: bool,
) -> Result<Option<Vec<Sensitive<String>>>> {
    classify(code, true)?;
    let state = st.store.mfa_state(s.tenant_id(), &s.user.id).await?;
    let totp = confirmed(&state)?;
    let now = st.clock.now();
    let (codes, effect, action, purpose) = if regenerate {
        let (codes, hashes) = new_backup_codes(&st.keys, &s.user.id);
        (
            Some(codes),
            MfaEffect::ReplaceBackupCodes {
                backup_code_hashes: hashes,
            },
            "mfa.backup_codes",
            "backup_codes",
        )
    } else {
        (None, MfaEffect::Disable, "mfa.disabled", "disable")
    };
    let count = codes.as_ref().map_or(0, Vec::len);
    let method = prove(
        st,
        Attempt {
            user: &s.user,
            purpose,
            code,
            backup_allowed: true,
            totp,
            ticket_id: None,
            wrong: wrong_with_session,
            client,
        },
        |method| {
            let mut ev = NewEvent::new(action, now, client)
                .user(s.tenant_id(), &s.user.id)
                .target(format!("user:{}", s.user.id))
                .detail("method", method.as_str());
            if regenerate {
                ev = ev.detail("backup_codes", count);
            }
            (effect, vec![ev])
        },
    )
    .await?;
    let change = if regenerate {
        Change::BackupCodesRegenerated
    } else {
        Change::MfaDisabled
    };
    notify::account_changed(st, &s.user.email, change, now, client).await;
    if method == Method::BackupCode {
        let what = if regenerate {
            "make a new set of backup codes"
        } else {
            "turn two-factor authentication off"
        };
        send_backup_code_mail(st, &s.user, what).await;
    }
    Ok(codes)
}

pub async fn regenerate_backup_codes(
    st: &Vault,
    s: &Session,
    code: &str,
    client: &ClientInfo,
) -> Result<BackupCodesResponse> {
    let codes = sudo_action(st, s, code, client, true).await?;
    Ok(BackupCodesResponse {
        backup_codes: codes.unwrap_or_default(),
    })
}

pub async fn disable(st: &Vault, s: &Session, code: &str, client: &ClientInfo) -> Result<()> {
    sudo_action(st, s, code, client, false).await.map(|_| ())
}

/// The password was right and 2FA is on: issue the ticket for the second step.
pub async fn issue_ticket(st: &Vault, user: &UserRecord, client: &ClientInfo) -> Error {
    match try_issue_ticket(st, user, client).await {
        Ok(ticket) => Error::MfaRequired {
            ticket: Sensitive::new(ticket),
        },
        Err(e) => e,
    }
}

async fn try_issue_ticket(st: &Vault, user: &UserRecord, client: &ClientInfo) -> Result<String> {
    let now = st.clock.now();
    let ticket = Credential::generate(CredentialKind::MfaTicket);
    let record = MfaTicketRecord {
        id: ids::new_id(now),
        tenant_id: user.tenant_id.clone(),
        user_id: user.id.clone(),
        created_at: now,
        expires_at: now + TICKET_TTL,
        attempts: 0,
        used_at: None,
    };
    let ev = NewEvent::new("auth.mfa", now, client)
        .user(&user.tenant_id, &user.id)
        .target(format!("mfa_ticket:{}", record.id))
        .detail("purpose", "login")
        .detail("step", "ticket_issued");
    st.store
        .create_mfa_ticket(record, st.keys.credential_hash(ticket.expose()), ev)
        .await?;
    st.metrics.auth("mfa_required");
    Ok(ticket.expose().to_owned())
}

pub async fn login_mfa(
    st: &Vault,
    req: &LoginMfaRequest,
    client: &ClientInfo,
) -> Result<SessionResponse> {
    let now = st.clock.now();
    let cred = Credential::parse_kind(req.mfa_ticket.expose(), CredentialKind::MfaTicket)
        .map_err(|_| ticket_gone())?;
    let ticket = st
        .store
        .mfa_ticket_by_hash(&st.keys.credential_hash(cred.expose()))
        .await?
        .filter(|t| t.used_at.is_none() && now < t.expires_at && t.attempts < TICKET_ATTEMPTS)
        .ok_or_else(ticket_gone)?;
    let code = req.code.expose();
    classify(code, true)?;
    let user = st
        .store
        .user(&ticket.tenant_id, &ticket.user_id)
        .await?
        .ok_or_else(ticket_gone)?;
    let state = st.store.mfa_state(&user.tenant_id, &user.id).await?;
    let totp = confirmed(&state).map_err(|_| ticket_gone())?;

    let token = Credential::generate(CredentialKind::Session);
    let session = SessionRecord {
        id: ids::new_id(now),
        tenant_id: user.tenant_id.clone(),
        user_id: user.id.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + sessions::ABSOLUTE,
        authenticated_at: now,
    };
    let session_id = session.id.clone();
    let expires_at = session.expires_at;
    let token_hash = st.keys.credential_hash(token.expose());
    let method = prove(
        st,
        Attempt {
            user: &user,
            purpose: "login",
            code,
            backup_allowed: true,
            totp,
            ticket_id: Some(&ticket.id),
            wrong: wrong_at_login,
            client,
        },
        |method| {
            let base = |action| {
                NewEvent::new(action, now, client)
                    .user(&user.tenant_id, &user.id)
                    .detail("method", format!("password+{}", method.as_str()))
            };
            let mfa = base("auth.mfa")
                .target(format!("mfa_ticket:{}", ticket.id))
                .detail("purpose", "login");
            let login = base("auth.login").target(format!("session:{session_id}"));
            (
                MfaEffect::Login {
                    ticket_id: ticket.id.clone(),
                    session,
                    token_hash,
                },
                vec![mfa, login],
            )
        },
    )
    .await?;
    st.metrics.auth("success");
    if method == Method::BackupCode {
        send_backup_code_mail(st, &user, "sign in").await;
    }
    Ok(SessionResponse {
        session_token: token.expose().to_owned().into(),
        expires_at,
        user: user.to_api(),
    })
}

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

/// `POST /v1/auth/reauth`: a TOTP code when 2FA is on, else the password, restarts the
/// session's sudo window.
pub async fn reauth(st: &Vault, s: &Session, code: &str, client: &ClientInfo) -> Result<()> {
    let now = st.clock.now();
    let event = || {
        NewEvent::new("auth.reauth", now, client)
            .user(s.tenant_id(), &s.user.id)
            .target(format!("session:{}", s.session.id))
    };
    if s.user.mfa_enabled {
        classify(code, false)?;
        let state = st.store.mfa_state(s.tenant_id(), &s.user.id).await?;
        let totp = confirmed(&state)?;
        prove(
            st,
            Attempt {
                user: &s.user,
                purpose: "reauth",
                code,
                backup_allowed: false,
                totp,
                ticket_id: None,
                wrong: wrong_with_session,
                client,
            },
            |method| {
                (
                    MfaEffect::Reauth {
                        session_id: s.session.id.clone(),
                    },
                    vec![event().detail("method", method.as_str())],
                )
            },
        )
        .await?;
        return Ok(());
    }

    // 2FA off: the code is the password, limited like sign-in.
    let key = s.user.email.as_str();
    if let Some(wait) = throttled(st, key, client) {
        st.metrics.rate_limited.inc();
        return Err(Error::RateLimited {
            retry_after_secs: wait,
        });
    }
    let ok = code.chars().count() <= password::MAX_CHARS
        && st.hasher.verify(code, Some(&s.user.password_hash)).await?;
    if !ok {
        record_failure(st, key, client);
        st.store
            .append_event(
                event()
                    .outcome(Outcome::Failure)
                    .detail("method", "password")
                    .detail("reason", "wrong_password"),
            )
            .await?;
        return Err(Error::Forbidden("The password is incorrect."));
    }
    st.login_failures_by_account.clear(key);
    st.store
        .reauthenticate_session(
            s.tenant_id(),
            &s.session.id,
            now,
            event().detail("method", "password"),
        )
        .await?;
    Ok(())
}

/// `GET /v1/me/security`: the facts this server knows, scored by keyhold-core.
pub async fn security(st: &Vault, s: &Session) -> Result<SecurityScore> {
    let state = st.store.mfa_state(s.tenant_id(), &s.user.id).await?;
    let now = st.clock.now();
    // The caller's own live keys: their hygiene feeds the recommendations.
    let keys = st
        .store
        .list_keys(s.tenant_id(), Some(&s.user.id), None, 500)
        .await?
        .into_iter()
        .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|e| e > now))
        .map(|k| {
            KeyFacts::from_key(
                k.id,
                k.name,
                &k.scopes,
                k.created_at,
                k.expires_at,
                k.last_used_at,
                now,
            )
        })
        .collect();
    let facts = SecurityFacts {
        email_verified: s.user.email_verified_at.is_some(),
        mfa_enabled: s.user.mfa_enabled,
        password_zxcvbn: Some(s.user.password_zxcvbn),
        backup_codes_remaining: s.user.mfa_enabled.then_some(state.backup_codes_remaining),
        keys,
        pending_approvals_for_me: crate::approvals::pending_for(st, s).await?,
    };
    Ok(security_score(&facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Key32;

    fn keys() -> Keys {
        Keys::from_master(&Key32::test([9; 32])).unwrap()
    }

    #[test]
    fn sealed_secret_opens_only_for_its_owner() {
        let k = keys();
        let secret = TotpSecret::generate();
        let sealed = seal_secret(&k, "t1", "u1", &secret).unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + 20 + 16);
        assert!(
            !sealed
                .windows(secret.expose_bytes().len())
                .any(|w| w == secret.expose_bytes())
        );
        assert_eq!(open_secret(&k, "t1", "u1", &sealed).unwrap(), secret);
        assert!(open_secret(&k, "t1", "u2", &sealed).is_err());
        assert!(open_secret(&k, "t2", "u1", &sealed).is_err());
        let other = Keys::from_master(&Key32::test([8; 32])).unwrap();
        assert!(open_secret(&other, "t1", "u1", &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered[NONCE_LEN] ^= 1;
        assert!(open_secret(&k, "t1", "u1", &tampered).is_err());
        assert!(open_secret(&k, "t1", "u1", &sealed[..NONCE_LEN]).is_err());
        // A fresh nonce every time.
        assert_ne!(seal_secret(&k, "t1", "u1", &secret).unwrap(), sealed);
    }

    #[test]
    fn backup_code_hash_is_of_the_normalised_form() {
        let k = keys();
        let a = backup_codes::normalize("abcd-2345-wxyz").unwrap();
        let b = backup_codes::normalize("ABCD 2345 WXYZ").unwrap();
        assert_eq!(backup_code_hash(&k, "u", &a), backup_code_hash(&k, "u", &b));
        assert_ne!(backup_code_hash(&k, "u", &a), backup_code_hash(&k, "v", &a));
    }

    #[test]
    fn codes_are_classified_strictly() {
        assert!(matches!(classify("123456", false), Ok(Submitted::Totp)));
        assert!(matches!(
            classify("abcd-2345-wxyz", true),
            Ok(Submitted::Backup(_))
        ));
        for bad in [
            "12345",
            "1234567",
            "12345a",
            "",
            " 123456",
            "abcd-2345-wxyz",
        ] {
            assert!(classify(bad, false).is_err(), "{bad:?}");
        }
        for bad in ["12345", "1234567", "12345a", "abcd-2345-wxy0"] {
            assert!(classify(bad, true).is_err(), "{bad:?}");
        }
    }
}
