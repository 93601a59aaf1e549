//! `keyhold alerts [list|ack]`, `keyhold blocks [list|lift]` and `keyhold keys reinstate`:
//! what the detection rules raised, blocked and suspended (docs/alerts.md).

use keyhold_core::api::{Alert, AlertQuery, Block};

use crate::cli::{AlertsCommand, BlocksCommand};
use crate::context::Ctx;
use crate::error::CliResult;
use crate::output;

pub async fn alerts(ctx: &Ctx, cmd: Option<&AlertsCommand>) -> CliResult<()> {
    match cmd {
        None => list(ctx, false).await,
        Some(AlertsCommand::List { all }) => list(ctx, *all).await,
        Some(AlertsCommand::Ack { id }) => ack(ctx, id).await,
    }
}

fn alert_row(a: &Alert) -> Vec<String> {
    vec![
        a.id.clone(),
        output::time(&a.raised_at),
        a.severity.as_str().to_owned(),
        a.rule.clone(),
        a.response.clone().unwrap_or_else(|| "-".to_owned()),
        a.acknowledged_at.as_ref().map_or_else(
            || "open".to_owned(),
            |t| format!("acknowledged {}", output::time(t)),
        ),
        a.message.clone(),
    ]
}

async fn list(ctx: &Ctx, all: bool) -> CliResult<()> {
    let client = ctx.authed()?;
    let client = &client;
    let status = if all { "all" } else { "open" };
    let items = super::all_pages(|cursor| async move {
        client
            .alerts(&AlertQuery {
                limit: Some(500),
                cursor,
                status: Some(status.to_owned()),
            })
            .await
    })
    .await?;
    if ctx.json {
        return output::json(&items);
    }
    output::table(
        &[
            "id", "raised", "severity", "rule", "response", "status", "message",
        ],
        items.iter().map(alert_row).collect(),
    );
    Ok(())
}

async fn ack(ctx: &Ctx, id: &str) -> CliResult<()> {
    let a = ctx.authed()?.ack_alert(id).await?;
    if ctx.json {
        return output::json(&a);
    }
    println!("Acknowledged alert {id} ({}).", a.rule);
    Ok(())
}

pub async fn blocks(ctx: &Ctx, cmd: Option<&BlocksCommand>) -> CliResult<()> {
    match cmd {
        None | Some(BlocksCommand::List) => list_blocks(ctx).await,
        Some(BlocksCommand::Lift { id }) => lift(ctx, id).await,
    }
}

fn block_row(b: &Block) -> Vec<String> {
    vec![
        b.id.clone(),
        b.address.clone(),
        b.rule.clone(),
        output::time(&b.created_at),
        output::time(&b.expires_at),
    ]
}

async fn list_blocks(ctx: &Ctx) -> CliResult<()> {
    let items = ctx.authed()?.blocks().await?;
    if ctx.json {
        return output::json(&items);
    }
    output::table(
        &["id", "address", "rule", "since", "until"],
        items.iter().map(block_row).collect(),
    );
    Ok(())
}

async fn lift(ctx: &Ctx, id: &str) -> CliResult<()> {
    ctx.authed()?.lift_block(id).await?;
    if !ctx.json {
        println!("Lifted block {id}.");
    }
    Ok(())
}

/// `keyhold keys reinstate ID`: a suspended key (and its tokens) works again.
pub async fn reinstate(ctx: &Ctx, id: &str) -> CliResult<()> {
    ctx.authed()?.reinstate_key(id).await?;
    if !ctx.json {
        println!("Reinstated key {id}: it and its tokens work again.");
    }
    Ok(())
}
