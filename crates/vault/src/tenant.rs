//! The tenant's settings: the approval rules (quorum per tier, critical delay, request
//! and grant lifetimes) and the longest token lifetime, with the floors nobody can go
//! below, and their change (sudo window, audited, mailed to every owner and admin).

use chrono::Duration;
use keyhold_core::api::TenantSettings;
use keyhold_core::api::schema::settings as bounds;
use keyhold_core::duration;

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::{Session, SudoSession};
use crate::error::{Error, Result};

const ADMINS_ONLY: &str = "Only owners and admins can change the tenant's settings.";

/// The longest a request may wait, and a grant stay open, whatever the settings say.
/// The bounds live in `keyhold_core::api::schema::settings`, which the OpenAPI document
/// is built from as well.
const MAX_REQUEST_TTL: Duration = Duration::seconds(bounds::MAX_REQUEST_TTL);
const MAX_GRANT_TTL: Duration = Duration::seconds(bounds::MAX_GRANT_TTL);
const MAX_DELAY: Duration = Duration::seconds(bounds::MAX_CRITICAL_DELAY);
const MAX_TOKEN_TTL_LIMIT: Duration = Duration::seconds(bounds::MAX_MAX_TOKEN_TTL);

/// Tenant settings, parsed and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub sensitive: u32,
    pub critical: u32,
    pub critical_delay: Duration,
    pub request_ttl: Duration,
    pub grant_ttl: Duration,
    pub max_token_ttl: Duration,
}

pub(crate) fn field(name: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("field".into(), name.into());
    m
}

pub(crate) fn invalid(name: &str, message: impl Into<String>) -> Error {
    Error::Invalid {
        message: message.into(),
        extra: field(name),
    }
}

/// A duration setting between `min` and `max`; `"0s"`/`"0m"`/`"0h"` mean zero.
fn setting(name: &str, text: &str, min: Duration, max: Duration) -> Result<Duration> {
    let d = if matches!(text, "0" | "0s" | "0m" | "0h") {
        Duration::zero()
    } else {
        duration::parse(text).map_err(|e| invalid(name, format!("{name}: {e}.")))?
    };
    if d < min || d > max {
        return Err(invalid(
            name,
            format!(
                "{name} must be between {} and {}.",
                if min.is_zero() {
                    "0s".to_owned()
                } else {
                    duration::format(min)
                },
                duration::format(max)
            ),
        ));
    }
    Ok(d)
}

/// Validate settings: 1–5 approvals for sensitive and 2–5 for critical (critical at least
/// as many as sensitive; a critical secret never opens on one person's word), delay
/// 0–24 h, request TTL 5 min–7 days, grant TTL 1 min–24 h, max token TTL 1 min–30 days.
pub fn rules(s: &TenantSettings) -> Result<Rules> {
    let a = &s.approvals;
    for (name, n, range) in [
        ("approvals.sensitive", a.sensitive, bounds::SENSITIVE),
        ("approvals.critical", a.critical, bounds::CRITICAL),
    ] {
        if !range.contains(&n) {
            return Err(invalid(
                name,
                format!(
                    "{name} must be between {} and {}.",
                    range.start(),
                    range.end()
                ),
            ));
        }
    }
    if a.critical < a.sensitive {
        return Err(invalid(
            "approvals.critical",
            "approvals.critical must be at least approvals.sensitive.",
        ));
    }
    Ok(Rules {
        sensitive: a.sensitive,
        critical: a.critical,
        critical_delay: setting(
            "approvals.critical_delay",
            &a.critical_delay,
            Duration::zero(),
            MAX_DELAY,
        )?,
        request_ttl: setting(
            "approvals.request_ttl",
            &a.request_ttl,
            Duration::seconds(bounds::MIN_REQUEST_TTL),
            MAX_REQUEST_TTL,
        )?,
        grant_ttl: setting(
            "approvals.grant_ttl",
            &a.grant_ttl,
            Duration::seconds(bounds::MIN_GRANT_TTL),
            MAX_GRANT_TTL,
        )?,
        max_token_ttl: setting(
            "max_token_ttl",
            &s.max_token_ttl,
            Duration::seconds(bounds::MIN_MAX_TOKEN_TTL),
            MAX_TOKEN_TTL_LIMIT,
        )?,
    })
}

pub async fn settings(st: &Vault, tenant_id: &str) -> Result<TenantSettings> {
    Ok(st
        .store
        .tenant_settings(tenant_id)
        .await?
        .unwrap_or_default())
}

pub async fn rules_of(st: &Vault, tenant_id: &str) -> Result<Rules> {
    rules(&settings(st, tenant_id).await?)
}

/// `GET /v1/tenant/settings`: every member may read them.
pub async fn get_settings(st: &Vault, s: &Session) -> Result<TenantSettings> {
    settings(st, s.tenant_id()).await
}

/// `PUT /v1/tenant/settings` (owners and admins, sudo window checked by the guard),
/// audited as `tenant.settings_changed` and mailed to every owner and admin.
pub async fn put_settings(
    st: &Vault,
    s: &SudoSession,
    req: TenantSettings,
    client: &ClientInfo,
) -> Result<TenantSettings> {
    let now = st.clock.now();
    let base = NewEvent::new("tenant.settings_changed", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("tenant:{}", s.tenant_id()));
    if !s.user.role.is_admin() {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(Error::Forbidden(ADMINS_ONLY));
    }
    rules(&req)?;
    let before = settings(st, s.tenant_id()).await?;
    let ev = base
        .detail("before", serde_json::to_value(&before).unwrap_or_default())
        .detail("after", serde_json::to_value(&req).unwrap_or_default());
    let ev = crate::notices::settings_changed(st, s, &before, &req, ev, client).await?;
    st.store
        .put_tenant_settings(s.tenant_id(), req.clone(), now, ev)
        .await?;
    Ok(req)
}
