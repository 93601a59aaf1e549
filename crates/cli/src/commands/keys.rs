//! `keyhold keys create|list|revoke|revoke-leaked` and `keyhold tokens issue|revoke`
//! (`keys show|update|rotate` are in `key_admin`).
//!
//! A new key's or token's secret goes to stdout alone (so `$(keyhold keys create …)`
//! captures it), with what it is and a warning on stderr.

use std::io::{BufRead, IsTerminal};

use keyhold_core::api::{AgentKey, CreateKeyRequest, IssueTokenRequest};

use crate::cli::{KeysCommand, TokensCommand};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

fn scopes_text(k: &AgentKey) -> String {
    k.scopes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

pub async fn run(ctx: &Ctx, cmd: &KeysCommand) -> CliResult<()> {
    match cmd {
        KeysCommand::Create {
            name,
            scopes,
            expires_in,
            ip_allowlist,
            ed25519,
            key_file,
            keyring,
        } => {
            let req = CreateKeyRequest {
                name: name.clone(),
                scopes: scopes.clone(),
                expires_in: expires_in.clone(),
                ip_allowlist: ip_allowlist.clone(),
                public_key: None,
            };
            if *ed25519 {
                let keep = match (key_file, keyring) {
                    (Some(path), false) => super::signing::Keep::File(path.clone()),
                    (None, true) => super::signing::Keep::Keyring,
                    _ => {
                        return Err(CliError::Usage(
                            "--ed25519 needs --key-file PATH or --keyring: where to keep the private key."
                                .into(),
                        ));
                    }
                };
                return super::signing::create(ctx, req, keep).await;
            }
            create(ctx, &req).await
        }
        KeysCommand::List => list(ctx).await,
        KeysCommand::Show { id } => super::key_admin::show(ctx, id).await,
        KeysCommand::Update {
            id,
            expires_at,
            expires_in,
            never_expires,
            ip_allowlist,
            any_address,
        } => {
            let changes = super::key_admin::Changes {
                expires_at: *expires_at,
                expires_in: expires_in.as_deref(),
                never_expires: *never_expires,
                ip_allowlist: ip_allowlist.as_deref(),
                any_address: *any_address,
            };
            super::key_admin::update(ctx, id, &changes).await
        }
        KeysCommand::Rotate { id, overlap } => {
            super::key_admin::rotate(ctx, id, overlap.as_deref()).await
        }
        KeysCommand::Revoke { id } => revoke(ctx, id).await,
        KeysCommand::Reinstate { id } => super::alerts::reinstate(ctx, id).await,
        KeysCommand::RevokeLeaked => revoke_leaked(ctx).await,
    }
}

/// Create a key: its secret alone on stdout, what it is and a warning on stderr.
async fn create(ctx: &Ctx, req: &CreateKeyRequest) -> CliResult<()> {
    if req.name.trim().is_empty() {
        return Err(CliError::Usage("--name must not be empty.".into()));
    }
    let r = ctx.authed()?.create_key(req).await?;
    if ctx.json {
        return output::json(&r);
    }
    eprintln!(
        "Created agent key {} ({}), expires {}.",
        r.key.id,
        r.key.name,
        r.key
            .expires_at
            .as_ref()
            .map_or_else(|| "never".to_owned(), output::time)
    );
    eprintln!(
        "keyhold: warning: this is the only time the key is shown; store it now \
         (e.g. as KEYHOLD_AGENT_KEY in your CI's secret store)."
    );
    println!("{}", r.secret.expose());
    Ok(())
}

/// Every key of the tenant, following the pages, as a table.
async fn list(ctx: &Ctx) -> CliResult<()> {
    let client = ctx.authed()?;
    let client = &client;
    let items =
        super::all_pages(
            |cursor| async move { client.list_keys(Some(500), cursor.as_deref()).await },
        )
        .await?;
    if ctx.json {
        return output::json(&items);
    }
    output::table(
        &[
            "id",
            "name",
            "prefix",
            "scopes",
            "expires",
            "last used",
            "revoked",
        ],
        items.iter().map(key_row).collect(),
    );
    Ok(())
}

fn key_row(k: &AgentKey) -> Vec<String> {
    vec![
        k.id.clone(),
        k.name.clone(),
        k.prefix.clone(),
        scopes_text(k),
        k.expires_at
            .as_ref()
            .map_or_else(|| "never".to_owned(), output::time),
        k.last_used_at
            .as_ref()
            .map_or_else(|| "never".to_owned(), output::time),
        match (&k.revoked_at, &k.suspended_at) {
            (Some(t), _) => output::time(t),
            (None, Some(t)) => format!("no (suspended {})", output::time(t)),
            (None, None) => "no".to_owned(),
        },
    ]
}

async fn revoke(ctx: &Ctx, id: &str) -> CliResult<()> {
    ctx.authed()?.revoke_key(id).await?;
    if !ctx.json {
        println!("Revoked key {id} and every token it issued.");
    }
    Ok(())
}

/// Kill a leaked key or token read from stdin (a prompt without echo on a terminal); no
/// sign-in needed.
async fn revoke_leaked(ctx: &Ctx) -> CliResult<()> {
    let secret = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Leaked key or token (not echoed): ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line
    };
    let secret = secret.trim();
    if secret.is_empty() {
        return Err(CliError::Usage(
            "Give the leaked key or token on stdin.".into(),
        ));
    }
    ctx.base.revoke_leaked(secret).await?;
    if !ctx.json {
        println!("Reported. If it was a live key or token, it no longer works.");
    }
    Ok(())
}

pub async fn tokens(ctx: &Ctx, cmd: &TokensCommand) -> CliResult<()> {
    match cmd {
        TokensCommand::Issue {
            scopes,
            ttl,
            ip_allowlist,
            max_uses,
        } => {
            let client = ctx.agent()?;
            let r = client
                .issue_token(&IssueTokenRequest {
                    scopes: scopes.clone(),
                    ttl: ttl.clone(),
                    ip_allowlist: ip_allowlist.clone(),
                    max_uses: *max_uses,
                })
                .await?;
            if ctx.json {
                return output::json(&r);
            }
            eprintln!(
                "Issued token {}, valid until {}.",
                r.id,
                output::time(&r.expires_at)
            );
            println!("{}", r.token.expose());
            Ok(())
        }
        TokensCommand::Revoke { id } => {
            ctx.authed()?.revoke_token(id).await?;
            if !ctx.json {
                println!("Revoked token {id}.");
            }
            Ok(())
        }
    }
}
