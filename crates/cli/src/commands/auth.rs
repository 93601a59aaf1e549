//! `keyhold login`, `logout`, `whoami`.

use std::io::{BufRead, IsTerminal, Write};

use keyhold_client::LoginOutcome;
use keyhold_keystore::KeyringBackend;

use crate::cli::LoginArgs;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

pub fn prompt(label: &str) -> CliResult<String> {
    eprint!("{label}: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

fn read_secret(label: &str, from_stdin: bool) -> CliResult<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    // Never echoed.
    Ok(rpassword::prompt_password(format!("{label}: "))?)
}

pub async fn login(ctx: &Ctx, args: &LoginArgs) -> CliResult<()> {
    if ctx.keystore.backend() == KeyringBackend::MemoryOnly {
        return Err(CliError::Usage(
            "No OS keyring is available to keep the session; sign in with the desktop app or \
             set KEYHOLD_TOKEN instead."
                .to_owned(),
        ));
    }
    let email = match &args.email {
        Some(e) => e.clone(),
        None => prompt("Email")?,
    };
    let password = read_secret("Password", args.password_stdin)?;
    let session = match ctx.base.login(&email, &password).await? {
        LoginOutcome::Session(s) => s,
        LoginOutcome::MfaRequired { mfa_ticket } => {
            let code = read_secret(
                "Code from your authenticator app or a backup code (not echoed)",
                args.password_stdin,
            )?;
            let code = code.trim();
            if code.is_empty() {
                return Err(CliError::Auth(
                    "No two-factor code given; not signed in.".to_owned(),
                ));
            }
            ctx.base.login_mfa(mfa_ticket.expose(), code).await?
        }
    };
    ctx.keystore
        .save(&ctx.account, &session.session_token)
        .map_err(|e| CliError::Server(e.to_string()))?;
    if ctx.json {
        output::json(&serde_json::json!({
            "user": session.user,
            "expires_at": session.expires_at,
        }))?;
    } else {
        println!(
            "Signed in as {} until {} (session kept in the OS keyring).",
            session.user.email,
            output::time(&session.expires_at)
        );
    }
    Ok(())
}

pub async fn logout(ctx: &Ctx) -> CliResult<()> {
    let client = ctx.authed()?;
    let result = client.logout().await;
    ctx.keystore
        .delete(&ctx.account)
        .map_err(|e| CliError::Server(e.to_string()))?;
    match result {
        Ok(()) => {}
        // An expired session is still "signed out" once forgotten locally.
        Err(e) if e.status() == Some(401) => {}
        Err(e) => return Err(e.into()),
    }
    if !ctx.json {
        println!("Signed out.");
    }
    Ok(())
}

pub async fn whoami(ctx: &Ctx) -> CliResult<()> {
    let me = ctx.authed()?.me().await?;
    if ctx.json {
        return output::json(&me);
    }
    output::table(
        &["email", "role", "tenant", "email verified", "2fa"],
        vec![vec![
            me.user.email.clone(),
            me.role.as_str().to_owned(),
            me.tenant.name.clone(),
            yes_no(me.user.email_verified),
            yes_no(me.user.mfa_enabled),
        ]],
    );
    Ok(())
}

pub fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}
