//! `keyhold run --prefix P -- CMD ARGS…`: the secrets below P become environment
//! variables of CMD (named by their last segment). Nothing is written to disk: the values
//! go from the HTTP response into the new process's environment.
//!
//! Only safe names pass (issue 15, item 2.8): `^[A-Z_][A-Z0-9_]*$`, and none of the
//! variables that make a loader, shell or interpreter run code or look elsewhere
//! ([`DENIED_NAMES`], [`DENIED_PREFIXES`]): whoever may write a secret below the prefix
//! must not thereby choose what code the command runs (`LD_PRELOAD`, `BASH_ENV`,
//! `NODE_OPTIONS`, `PATH`…). One such name stops the command before it starts.

use std::collections::BTreeMap;
use std::process::Command;

use keyhold_core::Sensitive;

use crate::cli::RunArgs;
use crate::commands::secrets::list_all;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};

/// Credentials the child does not inherit: it gets the secrets it was run for, not the
/// power to read the rest of the vault.
const WITHHELD: [&str; 4] = [
    "KEYHOLD_TOKEN",
    "KEYHOLD_AGENT_KEY",
    "KEYHOLD_AGENT_KEY_ID",
    "KEYHOLD_AGENT_KEY_FILE",
];

/// Prefixes of the dynamic loaders' variables (glibc and musl `LD_`, macOS `DYLD_`) and of
/// bash's exported functions.
pub const DENIED_PREFIXES: &[&str] = &["LD_", "DYLD_", "BASH_FUNC_"];

/// Variables that make a shell, an interpreter or a tool run code, load code from
/// elsewhere, or find a different program or home. Documented in docs/cli.md.
pub const DENIED_NAMES: &[&str] = &[
    // Where programs and homes are found.
    "PATH",
    "HOME",
    "SHELL",
    "TMPDIR",
    "CDPATH",
    "ZDOTDIR",
    "XDG_CONFIG_HOME",
    // Shells: startup files, options, prompts and word splitting run or change code.
    "ENV",
    "BASH_ENV",
    "BASHOPTS",
    "SHELLOPTS",
    "IFS",
    "PS1",
    "PS2",
    "PS4",
    "PROMPT_COMMAND",
    "GLOBIGNORE",
    // Tools that run a command they are given.
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_EXEC_PATH",
    "GIT_CONFIG_GLOBAL",
    "SSH_ASKPASS",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "BROWSER",
    // Interpreters' startup options and module paths.
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "PYTHONINSPECT",
    "NODE_OPTIONS",
    "NODE_PATH",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "_JAVA_OPTIONS",
    "CLASSPATH",
    // glibc: character set converters and locale data loaded from a path.
    "GCONV_PATH",
    "LOCPATH",
    "NLSPATH",
    "HOSTALIASES",
    "MALLOC_CONF",
];

/// Why `name` may not become an environment variable, or `None` when it may.
pub fn unsafe_name(name: &str) -> Option<&'static str> {
    let mut chars = name.chars();
    let well_formed = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Some(
            "only names of capital letters, digits and _ (not starting with a digit) pass",
        );
    }
    if DENIED_PREFIXES.iter().any(|p| name.starts_with(p)) || DENIED_NAMES.contains(&name) {
        return Some(
            "it is a loader, shell or interpreter variable that could make the command run other code",
        );
    }
    None
}

pub async fn run(ctx: &Ctx, args: &RunArgs) -> CliResult<u8> {
    let Some((program, rest)) = args.command.split_first() else {
        return Err(CliError::Usage(
            "Give the command to run after `--`.".into(),
        ));
    };
    let client = ctx.authed()?;
    let listed = list_all(&client, &args.prefix).await?;
    // Every name is checked before any value is read or anything runs.
    for s in &listed {
        let name = s.path.last_segment();
        if let Some(why) = unsafe_name(name) {
            return Err(CliError::Refused(format!(
                "The secret {} cannot become the environment variable {name:?}: {why} \
                 (docs/cli.md). Nothing was run; rename the secret or use a narrower --prefix.",
                s.path
            )));
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_names_pass() {
        for ok in [
            "STRIPE_KEY",
            "_X",
            "A1",
            "DATABASE_URL",
            "LDAP_URL",
            "PATHS",
        ] {
            assert_eq!(unsafe_name(ok), None, "{ok}");
        }
        for bad in [
            "lower",
            "1ABC",
            "A-B",
            "A.B",
            "",
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "DYLD_INSERT_LIBRARIES",
            "PATH",
            "BASH_ENV",
            "NODE_OPTIONS",
            "IFS",
            "HOME",
            "PYTHONPATH",
        ] {
            assert!(unsafe_name(bad).is_some(), "{bad}");
        }
    }
}
