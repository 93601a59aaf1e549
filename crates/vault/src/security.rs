//! `GET /v1/me/security`: the facts this server knows about a person's security (email
//! verified, 2FA, backup codes left, password strength, their keys' hygiene, approvals
//! waiting for them), scored by `keyhold_core::score`.
//!
//! Its own module because it reads across areas (mfa, keys, approvals) that do not read
//! each other: assembling the facts here keeps those modules independent.

use keyhold_core::score::{KeyFacts, SecurityFacts, SecurityScore, security_score};

use crate::Vault;
use crate::auth::Session;
use crate::error::Result;

/// The caller's security score and recommendations.
pub async fn score(st: &Vault, s: &Session) -> Result<SecurityScore> {
    let state = st.store.mfa_state(s.tenant_id(), &s.user.id).await?;
    let now = st.clock.now();
    // The caller's own live keys: their hygiene feeds the recommendations.
    let all_keys = st
        .store
        .list_keys(s.tenant_id(), Some(&s.user.id), None, 500)
        .await?;
    let suspended_keys = all_keys
        .iter()
        .filter(|k| k.revoked_at.is_none() && k.suspended_at.is_some())
        .map(|k| (k.id.clone(), k.name.clone()))
        .collect();
    let open_critical_alerts = if s.user.role.is_admin() {
        st.store.open_critical_alerts(s.tenant_id()).await?
    } else {
        0
    };
    let keys = all_keys
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
        open_critical_alerts,
        suspended_keys,
    };
    Ok(security_score(&facts))
}
