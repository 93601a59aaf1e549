//! `keyhold password-reset request EMAIL` and `keyhold password-reset confirm`.
//!
//! The token from the mail, the new password and the 2FA code are credentials: read from
//! prompts that do not echo on a terminal, or one per line of stdin otherwise (token, new
//! password, then the code when 2FA is on), and never printed.

use std::io::{BufRead, IsTerminal};

use keyhold_core::{ErrorCode, Sensitive};

use crate::cli::PasswordResetCommand;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

pub async fn run(ctx: &Ctx, cmd: &PasswordResetCommand) -> CliResult<()> {
    match cmd {
        PasswordResetCommand::Request { email } => {
            let email = email.trim();
            if !email.contains('@') {
                return Err(CliError::Usage(format!(
                    "{email:?} is not an email address. Nothing was sent."
                )));
            }
            ctx.base.request_password_reset(email).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "requested": email }));
            }
            println!(
                "If {email} has an account, a reset link is on its way (valid 1 hour, once). \
                 Then run `keyhold password-reset confirm` and paste the link or its token."
            );
            Ok(())
        }
        PasswordResetCommand::Confirm => confirm(ctx).await,
    }
}

async fn confirm(ctx: &Ctx) -> CliResult<()> {
    let tty = std::io::stdin().is_terminal();
    let mut lines = Lines::new(tty);
    let token = token_from(&lines.secret("Reset link or token from the mail")?);
    if token.expose().is_empty() {
        return Err(CliError::Usage(
            "No token given; nothing was changed.".into(),
        ));
    }
    let password = lines.secret("New password")?;
    if tty && lines.secret("New password again")?.expose() != password.expose() {
        return Err(CliError::Usage(
            "The two passwords differ; nothing was changed.".into(),
        ));
    }
    // Off a terminal, a third line is the code; on one, the code is asked for only when
    // the server says the account has 2FA on.
    let mut code = if tty {
        None
    } else {
        Some(lines.secret("Code")?).filter(|c| !c.expose().is_empty())
    };
    loop {
        let sent = ctx
            .base
            .confirm_password_reset(
                token.expose(),
                password.expose(),
                code.as_ref().map(|c| c.expose().as_str()),
            )
            .await;
        match sent {
            Err(e) if e.code() == Some(ErrorCode::MfaRequired) && tty && code.is_none() => {
                let c = lines.secret("Code from your authenticator app or a backup code")?;
                if c.expose().is_empty() {
                    return Err(CliError::Auth(
                        "No two-factor code given; the password is unchanged.".into(),
                    ));
                }
                code = Some(c);
            }
            Err(e) => return Err(e.into()),
            Ok(()) => break,
        }
    }
    if ctx.json {
        return output::json(&serde_json::json!({ "password_reset": true }));
    }
    println!(
        "Password changed; every session of the account has ended. Sign in with `keyhold login`."
    );
    Ok(())
}

/// The token itself, or the `token` parameter of a pasted link.
fn token_from(input: &Sensitive<String>) -> Sensitive<String> {
    Sensitive::new(keyhold_client::token_from_link(input.expose()))
}

/// Prompts without echo on a terminal, else successive lines of stdin.
struct Lines {
    tty: bool,
}

impl Lines {
    fn new(tty: bool) -> Self {
        Self { tty }
    }

    fn secret(&mut self, label: &str) -> CliResult<Sensitive<String>> {
        if self.tty {
            let text = rpassword::prompt_password(format!("{label} (not echoed): "))?;
            return Ok(Sensitive::new(
                text.trim_end_matches(['\r', '\n']).to_owned(),
            ));
        }
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(Sensitive::new(
            line.trim_end_matches(['\r', '\n']).to_owned(),
        ))
    }
}
