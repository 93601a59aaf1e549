//! `keyhold approvals list|show|approve|deny|wait`.

use std::io::{BufRead, IsTerminal};
use std::time::Duration;

use keyhold_client::Client;
use keyhold_core::api::{Approval, ApprovalStatus};
use keyhold_core::tier::Tier;

use crate::cli::ApprovalsCommand;
use crate::commands::wait;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

fn requester(a: &Approval) -> String {
    a.requested_by.label()
}

fn votes(a: &Approval) -> String {
    format!("{}/{}", a.approvals.len(), a.required_approvals)
}

fn opt_time(t: Option<&chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "-".to_owned(), output::time)
}

fn print_one(a: &Approval) {
    let mut rows = vec![
        ("id", a.id.clone()),
        ("path", a.path.to_string()),
        ("tier", a.tier.as_str().to_owned()),
        ("operation", a.operation.as_str().to_owned()),
        ("status", a.status.as_str().to_owned()),
        ("requested by", requester(a)),
        ("reason", output::opt(&a.reason)),
        ("requested", output::time(&a.requested_at)),
        ("expires", output::time(&a.expires_at)),
        ("approvals", votes(a)),
    ];
    for v in &a.approvals {
        rows.push((
            "  approved by",
            format!(
                "{} at {}{}",
                v.user.label(),
                output::time(&v.at),
                v.comment
                    .as_ref()
                    .map_or_else(String::new, |c| format!(": {c}"))
            ),
        ));
    }
    if a.available_at.is_some() {
        rows.push(("readable from", opt_time(a.available_at.as_ref())));
        rows.push(("readable until", opt_time(a.grant_expires_at.as_ref())));
    }
    if let Some(by) = &a.denied_by {
        rows.push(("denied by", by.label().to_owned()));
        rows.push(("deny reason", output::opt(&a.deny_reason)));
    }
    if a.used_at.is_some() {
        rows.push(("used", opt_time(a.used_at.as_ref())));
    }
    for (k, v) in rows {
        println!("{k:<15} {v}");
    }
}

/// A TOTP code from `--code` (`-`: a line of stdin) or, on a terminal, a prompt that does
/// not echo. Checked for shape here so a typo is not sent (and not counted as a failure).
fn totp_code(flag: Option<&str>) -> CliResult<String> {
    let code = match flag {
        Some("-") => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line
        }
        Some(c) => c.to_owned(),
        None if std::io::stdin().is_terminal() => {
            rpassword::prompt_password("Code from your authenticator app (not echoed): ")?
        }
        None => {
            return Err(CliError::Usage(
                "This request is critical: give the current code of your authenticator app \
                 with --code (or --code - to read it from stdin). Nothing was changed."
                    .into(),
            ));
        }
    };
    shaped(&code)
}

/// `code` without spaces when it is 6 digits: what an authenticator app shows.
fn shaped(code: &str) -> CliResult<String> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CliError::Usage(
            "The code must be the 6 digits your authenticator app shows. Nothing was changed."
                .into(),
        ));
    }
    Ok(code)
}

pub async fn run(ctx: &Ctx, cmd: &ApprovalsCommand) -> CliResult<()> {
    let client = ctx.authed()?;
    match cmd {
        ApprovalsCommand::List { status } => list(ctx, &client, *status).await,
        ApprovalsCommand::Show { id } => show(ctx, &client, id).await,
        ApprovalsCommand::Approve { id, comment, code } => {
            approve(ctx, &client, id, comment.as_deref(), code.as_deref()).await
        }
        ApprovalsCommand::Deny { id, reason } => deny(ctx, &client, id, reason).await,
        ApprovalsCommand::Wait { id, timeout } => wait_for(ctx, &client, id, *timeout).await,
    }
}

/// Every request with `status` (all of them without), following the pages, as a table.
async fn list(ctx: &Ctx, client: &Client, status: Option<ApprovalStatus>) -> CliResult<()> {
    let items = super::all_pages(|cursor| async move {
        client
            .list_approvals(status, Some(100), cursor.as_deref())
            .await
    })
    .await?;
    if ctx.json {
        return output::json(&items);
    }
    output::table(
        &[
            "id",
            "path",
            "tier",
            "status",
            "requested by",
            "approvals",
            "expires",
        ],
        items
            .iter()
            .map(|a| {
                vec![
                    a.id.clone(),
                    a.path.to_string(),
                    a.tier.as_str().to_owned(),
                    a.status.as_str().to_owned(),
                    requester(a),
                    votes(a),
                    output::time(&a.expires_at),
                ]
            })
            .collect(),
    );
    Ok(())
}

async fn show(ctx: &Ctx, client: &Client, id: &str) -> CliResult<()> {
    let a = client.approval(id).await?;
    if ctx.json {
        return output::json(&a);
    }
    print_one(&a);
    Ok(())
}

/// Vote for a request. A critical one needs a TOTP code; a code given for any other is
/// noted and not sent. A mistyped code is refused before anything is sent.
async fn approve(
    ctx: &Ctx,
    client: &Client,
    id: &str,
    comment: Option<&str>,
    code: Option<&str>,
) -> CliResult<()> {
    if let Some(c) = code.filter(|c| *c != "-") {
        shaped(c)?;
    }
    let current = client.approval(id).await?;
    let code = if current.tier == Tier::Critical {
        Some(totp_code(code)?)
    } else {
        if code.is_some() {
            eprintln!("keyhold: note: {id} is not critical; --code is not needed.");
        }
        None
    };
    let a = client.approve(id, comment, code.as_deref()).await?;
    if ctx.json {
        return output::json(&a);
    }
    match a.status {
        ApprovalStatus::Approved => print_granted(&a),
        _ => println!(
            "Your approval of {} is counted ({} approvals); waiting for more.",
            a.id,
            votes(&a)
        ),
    }
    Ok(())
}

async fn deny(ctx: &Ctx, client: &Client, id: &str, reason: &str) -> CliResult<()> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(CliError::Usage(
            "--reason must be 1 to 500 characters. Nothing was changed.".into(),
        ));
    }
    let a = client.deny(id, reason).await?;
    if ctx.json {
        return output::json(&a);
    }
    println!("Denied {} ({}).", a.id, a.path);
    Ok(())
}

/// Wait (with a spinner) until the request is decided; anything but approved is an error.
async fn wait_for(
    ctx: &Ctx,
    client: &Client,
    id: &str,
    timeout: Option<Duration>,
) -> CliResult<()> {
    let spinner = wait::Spinner::new(true);
    let result = wait::until_decided(client, id, &spinner, timeout).await;
    spinner.done();
    let a = result?;
    if ctx.json {
        output::json(&a)?;
    }
    if a.status != ApprovalStatus::Approved {
        return Err(wait::ended(&a));
    }
    if !ctx.json {
        print_granted(&a);
    }
    Ok(())
}

/// The line for a request that has all its approvals.
fn print_granted(a: &Approval) {
    println!(
        "Approved {} ({} approvals): {} may be read once from {} until {}.",
        a.id,
        votes(a),
        a.path,
        opt_time(a.available_at.as_ref()),
        opt_time(a.grant_expires_at.as_ref())
    );
}
