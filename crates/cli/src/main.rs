//! `keyhold`: the command line for agents, CI jobs and admins.
//!
//! Exit codes (docs/cli.md): 0 ok, 1 refused by the server, 2 usage, 3 authentication or
//! permission, 4 not found, 5 approval required, 6 rate limited, 7 server unreachable or
//! failing, 74 local I/O.

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

async fn run(cli: Cli) -> CliResult<()> {
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "keyhold",
                &mut std::io::stdout(),
            );
            return Ok(());
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            return Ok(());
        }
        _ => {}
    }
    let ctx = Ctx::new(&cli.global)?;
    match &cli.command {
        Command::Login(a) => commands::auth::login(&ctx, a).await,
        Command::Logout => commands::auth::logout(&ctx).await,
        Command::Whoami => commands::auth::whoami(&ctx).await,
        Command::Audit(a) => commands::audit::run(&ctx, a).await,
        Command::Completions { .. } | Command::Man => Ok(()),
    }
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
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyhold: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
