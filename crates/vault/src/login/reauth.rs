//! `POST /v1/auth/reauth`: restarting a session's sudo window, with a TOTP code when 2FA
//! is on, else with the password (limited like sign-in).

use chrono::{DateTime, Utc};
use keyhold_core::password;

use super::password::{record_failure, throttled};
use crate::Vault;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::Session;
use crate::error::{Error, Result};
use crate::mfa::{Attempt, classify, confirmed, prove, wrong_with_session};
use crate::store::mfa::MfaEffect;

/// A TOTP code when 2FA is on, else the password, restarts the session's sudo window.
pub async fn reauth(st: &Vault, s: &Session, code: &str, client: &ClientInfo) -> Result<()> {
    let now = st.clock.now();
    if s.user.mfa_enabled {
        with_totp(st, s, code, client, now).await
    } else {
        with_password(st, s, code, client, now).await
    }
}

fn event(s: &Session, client: &ClientInfo, now: DateTime<Utc>) -> NewEvent {
    NewEvent::new("auth.reauth", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("session:{}", s.session.id))
}

async fn with_totp(
    st: &Vault,
    s: &Session,
    code: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<()> {
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
                vec![event(s, client, now).detail("method", method.as_str())],
            )
        },
    )
    .await?;
    Ok(())
}

/// 2FA off: the code is the password, limited like sign-in.
async fn with_password(
    st: &Vault,
    s: &Session,
    code: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<()> {
    let key = s.user.email.as_str();
    if let Some(wait) = throttled(st, key, client).await {
        st.metrics.rate_limited.inc();
        return Err(Error::RateLimited {
            retry_after_secs: wait,
        });
    }
    let ok = code.chars().count() <= password::MAX_CHARS
        && st.hasher.verify(code, Some(&s.user.password_hash)).await?;
    if !ok {
        record_failure(st, key, client).await;
        st.store
            .append_event(
                event(s, client, now)
                    .outcome(Outcome::Failure)
                    .detail("method", "password")
                    .detail("reason", "wrong_password"),
            )
            .await?;
        return Err(Error::Forbidden("The password is incorrect."));
    }
    st.login_failures_by_account.clear(key).await;
    st.store
        .reauthenticate_session(
            s.tenant_id(),
            &s.session.id,
            now,
            event(s, client, now).detail("method", "password"),
        )
        .await?;
    Ok(())
}
