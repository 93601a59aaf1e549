//! `keyhold security` and `keyhold mfa enroll|status|backup-codes|disable`.

use std::io::IsTerminal;

use keyhold_core::score::SecurityScore;

use crate::cli::MfaCommand;
use crate::commands::auth::{prompt, yes_no};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

/// The snake_case name serde gives a plain enum (`at_risk`, `high`, `password_strength`).
fn wire_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|j| j.as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

pub async fn security(ctx: &Ctx) -> CliResult<()> {
    let s: SecurityScore = ctx.authed()?.security().await?;
    if ctx.json {
        return output::json(&s);
    }
    println!(
        "Security score: {}/100 ({})",
        s.score,
        wire_name(&s.status).replace('_', " ")
    );
    println!();
    output::table(
        &["factor", "ok", "detail"],
        s.factors
            .iter()
            .map(|f| vec![wire_name(&f.id), yes_no(f.ok), f.detail.clone()])
            .collect(),
    );
    if !s.recommendations.is_empty() {
        println!();
        output::table(
            &["severity", "recommendation", "target"],
            s.recommendations
                .iter()
                .map(|r| {
                    vec![
                        wire_name(&r.severity),
                        r.message.clone(),
                        output::opt(&r.target),
                    ]
                })
                .collect(),
        );
    }
    Ok(())
}

/// A TOTP or backup code: a prompt that does not echo on a terminal (a backup code is
/// a password), a line of stdin otherwise.
pub(crate) fn code(label: &str) -> CliResult<String> {
    let c = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{label} (not echoed): "))?
            .trim()
            .to_owned()
    } else {
        prompt(label)?
    };
    if c.is_empty() {
        return Err(CliError::Usage(
            "No code given; nothing was changed.".into(),
        ));
    }
    Ok(c)
}

fn print_backup_codes(ctx: &Ctx, codes: &[keyhold_core::Sensitive<String>]) -> CliResult<()> {
    if ctx.json {
        return output::json(&serde_json::json!({ "backup_codes": codes }));
    }
    eprintln!(
        "keyhold: warning: these backup codes are shown only this once; each signs you in \
         once if you lose your authenticator. Store them somewhere safe."
    );
    for c in codes {
        println!("{}", c.expose());
    }
    Ok(())
}

pub async fn run(ctx: &Ctx, cmd: &MfaCommand) -> CliResult<()> {
    let client = ctx.authed()?;
    match cmd {
        MfaCommand::Status => {
            let s = client.mfa_status().await?;
            if ctx.json {
                return output::json(&s);
            }
            output::table(
                &["2fa", "backup codes left", "enrolled"],
                vec![vec![
                    yes_no(s.totp_enabled),
                    s.backup_codes_remaining.to_string(),
                    s.enrolled_at
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), output::time),
                ]],
            );
            Ok(())
        }
        MfaCommand::Enroll => {
            let e = client.start_totp_enrollment().await?;
            let qr = if std::io::stderr().is_terminal() {
                keyhold_core::qr::unicode_ansi(e.otpauth_uri.expose())
            } else {
                keyhold_core::qr::unicode(e.otpauth_uri.expose())
            }
            .map_err(|err| CliError::Server(format!("cannot draw the QR code: {err}")))?;
            eprintln!("Scan this code with your authenticator app:\n");
            eprintln!("{}\n", qr.expose());
            eprintln!("Or enter this key by hand: {}", e.secret.expose());
            let c = code("Code from the app")?;
            let r = client.confirm_totp(&c).await?;
            if !ctx.json {
                eprintln!("Two-factor authentication is on.");
            }
            print_backup_codes(ctx, &r.backup_codes)
        }
        MfaCommand::BackupCodes => {
            let c = code("Current code from your authenticator app")?;
            let r = client.regenerate_backup_codes(&c).await?;
            print_backup_codes(ctx, &r.backup_codes)
        }
        MfaCommand::Disable => {
            let c = code("Current code from your authenticator app (or a backup code)")?;
            client.disable_totp(&c).await?;
            if !ctx.json {
                println!("Two-factor authentication is off.");
            }
            Ok(())
        }
    }
}
