//! `keyhold secrets set|get|list|versions|rm`. Only `get` ever prints a value.

use std::io::{IsTerminal, Read, Write};

use keyhold_core::Sensitive;
use keyhold_core::api::{MetadataQuery, SecretSummary};
use keyhold_core::path::{PathPrefix, SecretPath};
use keyhold_core::tier::{SecretType, Tier};

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
    let prefix = Some(prefix.as_string()).filter(|p| !p.is_empty());
    super::all_pages(|cursor| {
        let query = MetadataQuery {
            prefix: prefix.clone(),
            limit: Some(500),
            cursor,
        };
        async move { client.list_metadata(&query).await }
    })
    .await
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
            set(ctx, path, &value, *kind, *tier).await
        }
        SecretsCommand::Get {
            path,
            version,
            silent,
            wait_approval,
        } => get(ctx, path, *version, *silent, *wait_approval).await,
        SecretsCommand::List { prefix } => list(ctx, &prefix.clone().unwrap_or_default()).await,
        SecretsCommand::Versions { path } => versions(ctx, path).await,
        SecretsCommand::Rm { path } => remove(ctx, path).await,
    }
}

async fn set(
    ctx: &Ctx,
    path: &SecretPath,
    value: &Sensitive<String>,
    kind: Option<SecretType>,
    tier: Option<Tier>,
) -> CliResult<()> {
    let client = ctx.authed()?;
    let w = client.put_secret(path, value.expose(), kind, tier).await?;
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

/// The one place a value is printed: alone on stdout (`--silent`: without the newline).
/// With `--wait-approval`, a tiered secret is read once its approval is granted.
async fn get(
    ctx: &Ctx,
    path: &SecretPath,
    version: Option<u32>,
    silent: bool,
    wait_approval: bool,
) -> CliResult<()> {
    let client = ctx.authed()?;
    let s = if wait_approval {
        wait::read_when_approved(&client, path, version, silent).await?
    } else {
        client.get_secret(path, version).await?
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

/// The metadata of every secret below `prefix`, as a table.
async fn list(ctx: &Ctx, prefix: &PathPrefix) -> CliResult<()> {
    let client = ctx.authed()?;
    let items = list_all(&client, prefix).await?;
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

/// A secret's metadata and its versions, with who wrote each.
async fn versions(ctx: &Ctx, path: &SecretPath) -> CliResult<()> {
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

async fn remove(ctx: &Ctx, path: &SecretPath) -> CliResult<()> {
    ctx.authed()?.delete_secret(path).await?;
    if !ctx.json {
        println!("Deleted {path} and all its versions.");
    }
    Ok(())
}
