//! The Settings area's server calls for the tenant's approval policy (owners and admins;
//! saving needs the sudo window) and the person's own notification preferences.

use keyhold_core::Sensitive;
use keyhold_core::api::{ApprovalSettings, NotificationPrefs, TenantSettings};

use super::Server;
use crate::error::CommandResult;
use crate::view::settings::{NotificationPrefsView, TenantSettingsView};

fn settings_view(s: TenantSettings) -> TenantSettingsView {
    let a = s.approvals;
    TenantSettingsView {
        sensitive: a.sensitive,
        critical: a.critical,
        critical_delay: a.critical_delay,
        request_ttl: a.request_ttl,
        grant_ttl: a.grant_ttl,
        max_token_ttl: s.max_token_ttl,
    }
}

pub async fn tenant_settings(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<TenantSettingsView> {
    server
        .authed(token)
        .tenant_settings()
        .await
        .map(settings_view)
        .map_err(|e| server.error(e))
}

/// Save the whole policy; the server checks its floors and durations.
pub async fn save_tenant_settings(
    server: &Server,
    token: &Sensitive<String>,
    s: &TenantSettingsView,
) -> CommandResult<TenantSettingsView> {
    let body = TenantSettings {
        approvals: ApprovalSettings {
            sensitive: s.sensitive,
            critical: s.critical,
            critical_delay: s.critical_delay.trim().to_owned(),
            request_ttl: s.request_ttl.trim().to_owned(),
            grant_ttl: s.grant_ttl.trim().to_owned(),
        },
        max_token_ttl: s.max_token_ttl.trim().to_owned(),
    };
    server
        .authed(token)
        .set_tenant_settings(&body)
        .await
        .map(settings_view)
        .map_err(|e| server.error(e))
}

pub async fn notification_prefs(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<NotificationPrefsView> {
    server
        .authed(token)
        .notification_prefs()
        .await
        .map(|p| NotificationPrefsView {
            approval_mail: p.approval_mail,
        })
        .map_err(|e| server.error(e))
}

pub async fn save_notification_prefs(
    server: &Server,
    token: &Sensitive<String>,
    prefs: &NotificationPrefsView,
) -> CommandResult<NotificationPrefsView> {
    let body = NotificationPrefs {
        approval_mail: prefs.approval_mail,
    };
    server
        .authed(token)
        .set_notification_prefs(&body)
        .await
        .map(|p| NotificationPrefsView {
            approval_mail: p.approval_mail,
        })
        .map_err(|e| server.error(e))
}
