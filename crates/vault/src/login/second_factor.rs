//! The second step of a 2FA sign-in: the ticket the password step earns, and the code
//! that turns it into a session.

use chrono::{DateTime, Duration, Utc};
use keyhold_core::Sensitive;
use keyhold_core::api::{LoginMfaRequest, SessionResponse};
use keyhold_core::credential::{Credential, CredentialKind};

use super::new_session;
use crate::Vault;
use crate::audit::{ClientInfo, NewEvent};
use crate::error::{Error, Result};
use crate::ids;
use crate::mfa::{
    Attempt, Method, TICKET_ATTEMPTS, classify, confirmed, prove, send_backup_code_mail,
    ticket_gone, wrong_at_login,
};
use crate::store::UserRecord;
use crate::store::mfa::{MfaEffect, MfaTicketRecord};

/// How long the second step of a 2FA sign-in may take.
pub const TICKET_TTL: Duration = Duration::minutes(5);

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

/// The ticket `req` carries, if it is still good for another attempt.
async fn live_ticket(
    st: &Vault,
    req: &LoginMfaRequest,
    now: DateTime<Utc>,
) -> Result<MfaTicketRecord> {
    let cred = Credential::parse_kind(req.mfa_ticket.expose(), CredentialKind::MfaTicket)
        .map_err(|_| ticket_gone())?;
    st.store
        .mfa_ticket_by_hash(&st.keys.credential_hash(cred.expose()))
        .await?
        .filter(|t| t.used_at.is_none() && now < t.expires_at && t.attempts < TICKET_ATTEMPTS)
        .ok_or_else(ticket_gone)
}

/// `POST /v1/auth/login/mfa`: the ticket and a code (TOTP or backup) open a session.
pub async fn login_mfa(
    st: &Vault,
    req: &LoginMfaRequest,
    client: &ClientInfo,
) -> Result<SessionResponse> {
    let now = st.clock.now();
    let ticket = live_ticket(st, req, now).await?;
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
    let session = new_session(&user, now);
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
