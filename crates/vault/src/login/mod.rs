//! Signing in: the password step, the second factor at sign-in, and re-authentication for
//! the sudo window.
//!
//! This is where the account's password and its second factor meet: `accounts` (who the
//! person is) and `mfa` (their second factor) do not call each other; sign-in uses both.
//! A person with 2FA on gets a short-lived ticket after the password, and a session only
//! after proving the second factor with it.

mod password;
mod reauth;
mod second_factor;

use chrono::{DateTime, Utc};
use keyhold_core::api::{LoginRequest, SessionResponse};
use keyhold_core::credential::{Credential, CredentialKind};

pub use password::check_password_login;
pub(crate) use password::{parse_email, record_failure, throttled};
pub use reauth::reauth;
pub use second_factor::{TICKET_TTL, issue_ticket, login_mfa};

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent};
use crate::error::Result;
use crate::ids;
use crate::sessions;
use crate::store::{SessionRecord, UserRecord};

/// `POST /v1/auth/login`: a session, or 401 `mfa_required` with a ticket when the account
/// has 2FA on.
pub async fn login(st: &Vault, req: LoginRequest, client: &ClientInfo) -> Result<SessionResponse> {
    let user = check_password_login(st, &req, client).await?;
    if user.mfa_enabled {
        // The password alone is not enough: 401 `mfa_required` with a ticket for
        // `POST /v1/auth/login/mfa`.
        return Err(issue_ticket(st, &user, client).await);
    }
    open_session(st, &user, client, "password").await
}

/// A new session of `user`, opened and authenticated `now`.
fn new_session(user: &UserRecord, now: DateTime<Utc>) -> SessionRecord {
    SessionRecord {
        id: ids::new_id(now),
        tenant_id: user.tenant_id.clone(),
        user_id: user.id.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + sessions::ABSOLUTE,
        authenticated_at: now,
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
    let record = new_session(user, now);
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
