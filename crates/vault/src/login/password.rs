//! The password step of sign-in, and the failure limits it shares with every other
//! password check (password change, re-authentication).

use keyhold_core::api::LoginRequest;
use keyhold_core::email::Email;
use keyhold_core::password;

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::store::UserRecord;

const BAD_CREDENTIALS: &str = "Email or password is incorrect.";

/// An email address from a request, or the 422 naming the `email` field.
pub(crate) fn parse_email(s: &str) -> Result<Email> {
    Email::parse(s).map_err(|e| Error::invalid_field(format!("Email: {e}."), "email"))
}

/// How long to wait, if the account or the client's address has failed too often.
pub(crate) async fn throttled(st: &Vault, email: &str, client: &ClientInfo) -> Option<u64> {
    let now = st.clock.now();
    let by_account = st.login_failures_by_account.check(email, now).await.err();
    let by_ip = match client.ip.as_deref() {
        Some(ip) => st.login_failures_by_ip.check(ip, now).await.err(),
        None => None,
    };
    by_account.max(by_ip)
}

fn client_ip(client: &ClientInfo) -> Option<std::net::IpAddr> {
    client.ip.as_deref().and_then(|i| i.parse().ok())
}

/// Count a wrong password against the account and the client's address.
pub(crate) async fn record_failure(st: &Vault, email: &str, client: &ClientInfo) {
    let now = st.clock.now();
    st.login_failures_by_account.record(email, now).await;
    if let Some(ip) = &client.ip {
        st.login_failures_by_ip.record(ip, now).await;
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
    if let Some(wait) = throttled(st, key, client).await {
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
            if let Err(e) = crate::detect::check_address(st, &u.tenant_id, client_ip(client)) {
                // Only the right password learns of the block: a wrong one gets the usual
                // answer, so the block reveals nothing about the account.
                st.metrics.auth("blocked");
                let ev = NewEvent::new("auth.login", now, client)
                    .user(&u.tenant_id, &u.id)
                    .outcome(Outcome::Denied)
                    .detail("reason", "address_blocked");
                st.store.append_event(ev).await?;
                return Err(e);
            }
            st.login_failures_by_account.clear(key).await;
            Ok(u)
        }
        other => {
            record_failure(st, key, client).await;
            if let Some(u) = &other {
                crate::detect::signin_failed(st, u, client).await;
            }
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
