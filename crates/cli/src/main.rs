//! `keyhold`: the command line for agents, CI jobs and admins.
//!
//! Exit codes (docs/cli.md): 0 ok, 1 refused by the server, 2 usage, 3 authentication or
//! permission, 4 not found, 5 approval required, 6 rate limited, 7 server unreachable or
//! failing, 8 approval denied, 9 approval expired, 74 local I/O, 127 `keyhold run` could
//! not start its command. `keyhold run` otherwise exits with its command's status.

mod cli;
mod commands;
mod context;
mod error;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::context::Ctx;
use crate::error::CliResult;

/// Runs the command; `Ok(n)` is the process's exit status (0, or `keyhold run`'s child's).
async fn run(cli: Cli) -> CliResult<u8> {
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "keyhold",
                &mut std::io::stdout(),
            );
            return Ok(0);
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            return Ok(0);
        }
        _ => {}
    }
    let ctx = Ctx::new(&cli.global)?;
    match &cli.command {
        Command::Login(a) => commands::auth::login(&ctx, a).await?,
        Command::Logout => commands::auth::logout(&ctx).await?,
        Command::Whoami => commands::auth::whoami(&ctx).await?,
        Command::Security => commands::mfa::security(&ctx).await?,
        Command::Mfa(c) => commands::mfa::run(&ctx, c).await?,
        Command::Secrets(c) => commands::secrets::run(&ctx, c).await?,
        Command::Run(a) => return commands::run::run(&ctx, a).await,
        Command::Keys(c) => commands::keys::run(&ctx, c).await?,
        Command::Tokens(c) => commands::keys::tokens(&ctx, c).await?,
        Command::Audit(a) => commands::audit::run(&ctx, a).await?,
        Command::Approvals(c) => commands::approvals::run(&ctx, c).await?,
        Command::Members(c) => commands::members::run(&ctx, c).await?,
        Command::Settings(a) => commands::settings::run(&ctx, a).await?,
        Command::Webhooks(c) => commands::webhooks::run(&ctx, c).await?,
        Command::Alerts { command } => commands::alerts::alerts(&ctx, command.as_ref()).await?,
        Command::Blocks { command } => commands::alerts::blocks(&ctx, command.as_ref()).await?,
        Command::Notifications { command } => {
            commands::settings::notifications(&ctx, command).await?;
        }
        Command::PasswordReset(c) => commands::password_reset::run(&ctx, c).await?,
        Command::Completions { .. } | Command::Man => {}
    }
    Ok(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keyhold: cannot start: {e}");
            return ExitCode::from(74);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("keyhold: {e}");
            if let error::CliError::ApprovalRequired {
                approval_id: Some(id),
                ..
            } = &e
            {
                eprintln!("keyhold: approval id: {id}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
