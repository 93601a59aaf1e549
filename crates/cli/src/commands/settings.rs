//! `keyhold settings [show|set …]` and `keyhold notifications [show|set …]`.
//!
//! Changing the settings needs a sign-in from the last 10 minutes; like `members role`,
//! the CLI does not sign in again by itself but says so (exit 3) and changes nothing.

use keyhold_core::api::{NotificationPrefs, TenantSettings};

use crate::cli::{NotificationsCommand, OnOff, SetSettings, SettingsArgs, SettingsCommand};
use crate::commands::auth::yes_no;
use crate::context::Ctx;
use crate::error::CliResult;
use crate::output;

pub async fn run(ctx: &Ctx, args: &SettingsArgs) -> CliResult<()> {
    let client = ctx.authed()?;
    match &args.command {
        None | Some(SettingsCommand::Show) => {
            let s = client.tenant_settings().await?;
            print_settings(ctx, &s)
        }
        Some(SettingsCommand::Set(set)) => {
            // Only what was given changes: start from what the server has now.
            let mut s = client.tenant_settings().await?;
            apply(&mut s, set);
            let saved = client.set_tenant_settings(&s).await?;
            if !ctx.json {
                eprintln!("Settings saved.");
            }
            print_settings(ctx, &saved)
        }
    }
}

fn apply(s: &mut TenantSettings, set: &SetSettings) {
    let a = &mut s.approvals;
    if let Some(n) = set.sensitive {
        a.sensitive = n;
    }
    if let Some(n) = set.critical {
        a.critical = n;
    }
    for (value, field) in [
        (&set.critical_delay, &mut a.critical_delay),
        (&set.request_ttl, &mut a.request_ttl),
        (&set.grant_ttl, &mut a.grant_ttl),
        (&set.max_token_ttl, &mut s.max_token_ttl),
    ] {
        if let Some(v) = value {
            field.clone_from(v);
        }
    }
}

fn print_settings(ctx: &Ctx, s: &TenantSettings) -> CliResult<()> {
    if ctx.json {
        return output::json(s);
    }
    let a = &s.approvals;
    output::table(
        &["setting", "value", "meaning"],
        vec![
            row(
                "sensitive",
                a.sensitive.to_string(),
                "approvals a sensitive secret needs",
            ),
            row(
                "critical",
                a.critical.to_string(),
                "approvals a critical secret needs",
            ),
            row(
                "critical-delay",
                a.critical_delay.clone(),
                "wait after the last approval of a critical read",
            ),
            row(
                "request-ttl",
                a.request_ttl.clone(),
                "how long a request stays open",
            ),
            row(
                "grant-ttl",
                a.grant_ttl.clone(),
                "how long an approved request may be used",
            ),
            row(
                "max-token-ttl",
                s.max_token_ttl.clone(),
                "longest lifetime of a scoped token",
            ),
        ],
    );
    Ok(())
}

fn row(name: &str, value: String, meaning: &str) -> Vec<String> {
    vec![name.to_owned(), value, meaning.to_owned()]
}

pub async fn notifications(ctx: &Ctx, cmd: &Option<NotificationsCommand>) -> CliResult<()> {
    let client = ctx.authed()?;
    let prefs = match cmd {
        None | Some(NotificationsCommand::Show) => client.notification_prefs().await?,
        Some(NotificationsCommand::Set { approval_mail }) => {
            let prefs = NotificationPrefs {
                approval_mail: *approval_mail == OnOff::On,
            };
            let saved = client.set_notification_prefs(&prefs).await?;
            if !ctx.json {
                eprintln!("Notification preferences saved.");
            }
            saved
        }
    };
    if ctx.json {
        return output::json(&prefs);
    }
    output::table(
        &["notification", "on", "what"],
        vec![vec![
            "approval-mail".to_owned(),
            yes_no(prefs.approval_mail),
            "mail when a request you may decide opens, and when yours is decided".to_owned(),
        ]],
    );
    Ok(())
}
