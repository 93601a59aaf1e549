//! `keyhold secrets set|get|list|versions|rm`. Only `get` ever prints a value.

use std::io::{IsTerminal, Read, Write};

use std::time::Duration;

use keyhold_client::Client;
use keyhold_core::api::{ApprovalStatus, MetadataQuery, SecretSummary, SecretValue};
use keyhold_core::path::{PathPrefix, SecretPath};
use keyhold_core::{ErrorCode, Sensitive};

use crate::cli::SecretsCommand;
use crate::commands::wait;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

/// The value to write: from the argument, stdin (`-`), a file, or a prompt without echo.
fn read_value(
    value: Option<&str>,
    from_file: Option<&std::path::Path>,
) -> CliResult<Sensitive<String>> {
    let v = match (value, from_file) {
        (Some(_), Some(_)) => {
            return Err(CliError::Usage(
                "Give the value either as an argument or with --from-file, not both.".into(),
            ));
        }
        (_, Some(file)) => {
            let bytes = std::fs::read(file)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
            String::from_utf8(bytes)
                .map_err(|_| CliError::Usage(format!("{} is not UTF-8 text.", file.display())))?
        }
        (Some("-"), None) => read_stdin()?,
        (Some(v), None) => {
            eprintln!(
                "keyhold: warning: a value on the command line is visible to other local users \
                 and in shell history; prefer `-` (stdin) or --from-file."
            );
            v.to_owned()
        }
        (None, None) if std::io::stdin().is_terminal() => {
            rpassword::prompt_password("Value (not echoed): ")?
        }
        (None, None) => read_stdin()?,
    };
    if v.is_empty() {
        return Err(CliError::Usage(
            "The value is empty; nothing was written.".into(),
        ));
    }
    Ok(Sensitive::new(v))
}

/// All of stdin, less one trailing newline (what `echo` and here-strings add).
fn read_stdin() -> CliResult<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| CliError::Usage(format!("cannot read the value from stdin: {e}")))?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}

/// Every secret below `prefix`, following cursors.
pub async fn list_all(
    client: &keyhold_client::Client,
    prefix: &PathPrefix,
) -> CliResult<Vec<SecretSummary>> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = client
            .list_metadata(&MetadataQuery {
                prefix: Some(prefix.as_string()).filter(|p| !p.is_empty()),
                limit: Some(500),
                cursor: cursor.take(),
            })
            .await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(items),
        }
    }
}

/// `get --wait-approval`: read; while the answer is `approval_required`, wait for the
/// decision on the request it names and read again. An approved critical request opens
/// only after its delay, so reads then wait for `available_at` (re-checked at least every
/// 30 s, since the server's clock decides). A grant spent by a parallel read leads to a
/// new request, which is waited for in turn.
async fn read_after_approval(
    client: &Client,
    path: &SecretPath,
    version: Option<u32>,
    silent: bool,
) -> CliResult<SecretValue> {
    let spinner = wait::Spinner::new(!silent);
    let mut announced: Option<String> = None;
    let mut approved: Option<String> = None;
    let mut last: Option<keyhold_core::api::Approval> = None;
    let result = loop {
        let e = match client.get_secret(path, version).await {
            Ok(v) => break Ok(v),
            Err(e) if e.code() == Some(ErrorCode::ApprovalRequired) => e,
            Err(e) => break Err(e.into()),
        };
        let Some(id) = e.extra_str("approval_id").map(str::to_owned) else {
            break Err(e.into());
        };
        // Approved, in its critical delay: no need to ask the server what it just said.
        if let Some(a) = &last
            && a.id == id
            && e.extra_str("status") == Some("approved")
        {
            pause_until_open(a, &spinner, &mut approved).await;
            continue;
        }
        if !silent && announced.as_deref() != Some(id.as_str()) {
            spinner.set(format!("Waiting for approval {id} of {path}"));
            if !std::io::stderr().is_terminal() {
                eprintln!("keyhold: waiting for approval {id} of {path}");
            }
            announced = Some(id.clone());
        }
        let a = match wait::until_decided(client, &id, &spinner, None).await {
            Ok(a) => a,
            Err(e) => break Err(e),
        };
        let status = a.status;
        let a = last.insert(a);
        match status {
            ApprovalStatus::Approved => pause_until_open(a, &spinner, &mut approved).await,
            // Spent by a parallel read: the next read opens (or joins) a new request.
            ApprovalStatus::Used => {}
            _ => break Err(wait::ended(a)),
        }
    };
    spinner.done();
    result
}

/// Before reading again on an approved request: at once the first time (a grant with no
/// delay is open now), then until its `available_at` by this computer's clock, capped so
/// that a clock ahead of or behind the server's costs at most 30 s (at least 2 s between
/// reads, since the server's clock decides and each early read is audited).
async fn pause_until_open(
    a: &keyhold_core::api::Approval,
    spinner: &wait::Spinner,
    seen: &mut Option<String>,
) {
    spinner.show(a);
    if seen.as_deref() != Some(a.id.as_str()) {
        *seen = Some(a.id.clone());
        return;
    }
    let pause = a
        .available_at
        .and_then(|at| (at - wait::local_now()).to_std().ok())
        .unwrap_or(Duration::ZERO)
        .clamp(Duration::from_secs(2), Duration::from_secs(30));
    tokio::time::sleep(pause).await;
}

pub async fn run(ctx: &Ctx, cmd: &SecretsCommand) -> CliResult<()> {
    match cmd {
        SecretsCommand::Set {
            path,
            value,
            from_file,
            kind,
            tier,
        } => {
            let value = read_value(value.as_deref(), from_file.as_deref())?;
            let client = ctx.authed()?;
            let w = client
                .put_secret(path, value.expose(), *kind, *tier)
                .await?;
            if ctx.json {
                return output::json(&w);
            }
            println!(
                "Wrote {} version {} ({}, {}).",
                w.path,
                w.version,
                w.tier.as_str(),
                w.kind.as_str()
            );
            Ok(())
        }
        SecretsCommand::Get {
            path,
            version,
            silent,
            wait_approval,
        } => {
            let client = ctx.authed()?;
            let s = if *wait_approval {
                read_after_approval(&client, path, *version, *silent).await?
            } else {
                client.get_secret(path, *version).await?
            };
            if ctx.json {
                return output::json(&s);
            }
            let mut out = std::io::stdout().lock();
            out.write_all(s.value.expose().as_bytes())?;
            if !silent {
                out.write_all(b"\n")?;
            }
            out.flush()?;
            Ok(())
        }
        SecretsCommand::List { prefix } => {
            let client = ctx.authed()?;
            let items = list_all(&client, &prefix.clone().unwrap_or_default()).await?;
            if ctx.json {
                return output::json(&items);
            }
            output::table(
                &["path", "type", "tier", "version", "updated"],
                items
                    .iter()
                    .map(|s| {
                        vec![
                            s.path.to_string(),
                            s.kind.as_str().to_owned(),
                            s.tier.as_str().to_owned(),
                            s.current_version.to_string(),
                            output::time(&s.updated_at),
                        ]
                    })
                    .collect(),
            );
            Ok(())
        }
        SecretsCommand::Versions { path } => {
            let m = ctx.authed()?.secret_metadata(path).await?;
            if ctx.json {
                return output::json(&m);
            }
            println!(
                "{} ({}, {}), current version {}",
                m.path,
                m.kind.as_str(),
                m.tier.as_str(),
                m.current_version
            );
            output::table(
                &["version", "created", "created by"],
                m.versions
                    .iter()
                    .map(|v| {
                        vec![
                            v.version.to_string(),
                            output::time(&v.created_at),
                            v.created_by.clone(),
                        ]
                    })
                    .collect(),
            );
            Ok(())
        }
        SecretsCommand::Rm { path } => {
            ctx.authed()?.delete_secret(path).await?;
            if !ctx.json {
                println!("Deleted {path} and all its versions.");
            }
            Ok(())
        }
    }
}
