//! Re-checks for long-lived responses (the live audit and approvals feeds).
//!
//! Why: a feed is one response that may stay open for hours, so the credential check its
//! request passed at the start would otherwise hold for as long as the connection. A
//! revoked key or token, a signed-out or expired session, a removed member or a changed
//! role must end the feed as they would refuse the next request; the client reconnects and
//! is told why. Feeds call these on every wake-up (news in the log, or their 15 s tick).

use chrono::{DateTime, Utc};

use crate::agent_keys::key_is_live;
use crate::error::ApiResult;
use crate::http::extract::{SecretsCaller, Session};
use crate::sessions;
use crate::state::AppState;
use crate::store::KeyRecord;

/// Whether a feed goes on after `check`; says why in the log when it does not.
pub async fn goes_on(feed: &'static str, check: impl Future<Output = ApiResult<bool>>) -> bool {
    match check.await {
        Ok(true) => true,
        Ok(false) => {
            tracing::info!(feed, "feed ended: its credential no longer stands");
            false
        }
        Err(e) => {
            tracing::warn!(feed, error = %e, "feed stopped: its credential could not be checked");
            false
        }
    }
}

/// The session is live and its user still in the tenant with the role the feed began with
/// (the role decides what the feed shows).
pub async fn session_stands(st: &AppState, s: &Session) -> ApiResult<bool> {
    let now = st.clock.now();
    let (tenant, id) = (&s.session.tenant_id, &s.session.id);
    let live = st
        .store
        .session(tenant, id)
        .await?
        .is_some_and(|r| sessions::is_live(&r, now));
    Ok(live
        && st
            .store
            .user(tenant, &s.user.id)
            .await?
            .is_some_and(|u| u.role == s.user.role))
}

/// Like [`session_stands`] for people; for agents, the key (and the token) is neither
/// revoked nor expired.
pub async fn caller_stands(st: &AppState, c: &SecretsCaller) -> ApiResult<bool> {
    let now = st.clock.now();
    match c {
        SecretsCaller::Session(s) => session_stands(st, s).await,
        SecretsCaller::Key(k) => key_stands(st, &k.key, now).await,
        SecretsCaller::Token(t) => {
            let token_live = st
                .store
                .token(&t.token.tenant_id, &t.token.id)
                .await?
                .is_some_and(|r| r.revoked_at.is_none() && now < r.expires_at);
            Ok(token_live && key_stands(st, &t.key, now).await?)
        }
    }
}

async fn key_stands(st: &AppState, key: &KeyRecord, now: DateTime<Utc>) -> ApiResult<bool> {
    Ok(st
        .store
        .key(&key.tenant_id, &key.id)
        .await?
        .is_some_and(|k| key_is_live(&k, now)))
}
