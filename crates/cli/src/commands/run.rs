//! `keyhold run --prefix P -- CMD ARGS…`: the secrets below P become environment
//! variables of CMD (named by their last segment). Nothing is written to disk: the values
//! go from the HTTP response into the new process's environment.

use std::collections::BTreeMap;
use std::process::Command;

use keyhold_core::Sensitive;

use crate::cli::RunArgs;
use crate::commands::secrets::list_all;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};

/// Credentials the child does not inherit: it gets the secrets it was run for, not the
/// power to read the rest of the vault.
const WITHHELD: [&str; 2] = ["KEYHOLD_TOKEN", "KEYHOLD_AGENT_KEY"];

pub async fn run(ctx: &Ctx, args: &RunArgs) -> CliResult<u8> {
    let Some((program, rest)) = args.command.split_first() else {
        return Err(CliError::Usage(
            "Give the command to run after `--`.".into(),
        ));
    };
    let client = ctx.authed()?;
    let listed = list_all(&client, &args.prefix).await?;
    let mut env: BTreeMap<String, (String, Sensitive<String>)> = BTreeMap::new();
    for s in listed {
        let name = s.path.last_segment().to_owned();
        if let Some((other, _)) = env.get(&name) {
            return Err(CliError::Usage(format!(
                "{} and {} would both set ${name}; use a narrower --prefix.",
                other, s.path
            )));
        }
        let v = client.get_secret(&s.path, None).await?;
        env.insert(name, (s.path.to_string(), v.value));
    }
    if env.is_empty() {
        eprintln!("keyhold: warning: no secrets below {}", args.prefix);
    }
    let mut cmd = Command::new(program);
    cmd.args(rest);
    for var in WITHHELD {
        cmd.env_remove(var);
    }
    for (name, (_, value)) in &env {
        cmd.env(name, value.expose());
    }
    exec(cmd, program)
}

/// On Unix, replace this process with the command: its exit status (or signal) is then
/// ours without translation, and signals reach it directly.
#[cfg(unix)]
fn exec(mut cmd: Command, program: &str) -> CliResult<u8> {
    use std::os::unix::process::CommandExt;
    let e = cmd.exec();
    Err(cannot_run(program, &e))
}

#[cfg(not(unix))]
fn exec(mut cmd: Command, program: &str) -> CliResult<u8> {
    let status = cmd.status().map_err(|e| cannot_run(program, &e))?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1))
}

fn cannot_run(program: &str, e: &std::io::Error) -> CliError {
    CliError::CannotRun(format!("cannot run {program}: {e}"))
}
