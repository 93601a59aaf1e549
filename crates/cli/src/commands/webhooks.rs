//! `keyhold webhooks list|add|update|remove|rotate-secret|test|deliveries|retry`.
//!
//! A signing secret goes to stdout alone, once (so `$(keyhold webhooks add …)` captures
//! it), with what it is and a warning on stderr. A URL may come from stdin (`-`): a Slack
//! URL is itself a credential, and the command line is visible to other local users.
//! Changes need a sign-in from the last 10 minutes (exit 3 otherwise, nothing changed).

use std::io::Read;

use keyhold_client::Client;
use keyhold_core::Sensitive;
use keyhold_core::api::{
    CreateWebhookRequest, Delivery, EndpointKind, UpdateWebhookRequest, Webhook, WebhookWithSecret,
};

use crate::cli::{KindArg, UpdateWebhook, WebhooksCommand};
use crate::commands::auth::yes_no;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

pub async fn run(ctx: &Ctx, cmd: &WebhooksCommand) -> CliResult<()> {
    let client = ctx.authed()?;
    match cmd {
        WebhooksCommand::List => list(ctx, &client).await,
        WebhooksCommand::Add {
            endpoint,
            kind,
            events,
            description,
        } => {
            let req = CreateWebhookRequest {
                url: read_url(endpoint)?,
                kind: match kind {
                    KindArg::Webhook => EndpointKind::Webhook,
                    KindArg::Slack => EndpointKind::Slack,
                },
                events: events.clone(),
                description: description.clone(),
            };
            let created = client.create_webhook(&req).await?;
            print_secret(ctx, "Added", &created)
        }
        WebhooksCommand::Update(u) => {
            let req = update_request(u)?;
            let hook = client.update_webhook(id(&u.id)?, &req).await?;
            if ctx.json {
                return output::json(&hook);
            }
            println!("Updated webhook {} ({}).", hook.id, hook.url_display);
            Ok(())
        }
        WebhooksCommand::Remove { id: raw } => {
            let id = id(raw)?;
            client.delete_webhook(id).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "removed": id }));
            }
            println!("Removed webhook {id}: nothing more is delivered to it.");
            Ok(())
        }
        WebhooksCommand::RotateSecret { id: raw } => {
            let rotated = client.rotate_webhook_secret(id(raw)?).await?;
            print_secret(ctx, "Rotated the secret of", &rotated)
        }
        WebhooksCommand::Test { id: raw } => {
            let d = client.test_webhook(id(raw)?).await?;
            if ctx.json {
                return output::json(&d);
            }
            println!(
                "Queued a test event: delivery {} ({}). See `keyhold webhooks deliveries {}`.",
                d.id,
                d.status,
                raw.trim()
            );
            Ok(())
        }
        WebhooksCommand::Deliveries { id: raw, limit } => {
            deliveries(ctx, &client, id(raw)?, *limit).await
        }
        WebhooksCommand::Retry {
            id: raw,
            delivery_id,
        } => {
            let d = client.retry_delivery(id(raw)?, id(delivery_id)?).await?;
            if ctx.json {
                return output::json(&d);
            }
            println!("Delivery {} will be sent again now ({}).", d.id, d.status);
            Ok(())
        }
    }
}

async fn list(ctx: &Ctx, client: &Client) -> CliResult<()> {
    let hooks = client.webhooks().await?;
    if ctx.json {
        return output::json(&hooks);
    }
    if hooks.is_empty() {
        println!("No webhooks.");
        return Ok(());
    }
    output::table(
        &["id", "kind", "url", "events", "enabled", "description"],
        hooks.iter().map(row).collect(),
    );
    Ok(())
}

async fn deliveries(ctx: &Ctx, client: &Client, id: &str, limit: u32) -> CliResult<()> {
    let page = client.webhook_deliveries(id, Some(limit), None).await?;
    if ctx.json {
        return output::json(&page.items);
    }
    if page.items.is_empty() {
        println!("No deliveries yet.");
        return Ok(());
    }
    output::table(
        &[
            "id", "event", "status", "attempts", "http", "last try", "next try", "error",
        ],
        page.items.iter().map(delivery_row).collect(),
    );
    Ok(())
}

fn id(raw: &str) -> CliResult<&str> {
    let id = raw.trim();
    if id.is_empty() {
        return Err(CliError::Usage(
            "Name the webhook by its id (`keyhold webhooks list`).".into(),
        ));
    }
    Ok(id)
}

/// The URL argument, or the first line of stdin for `-`.
fn read_url(arg: &str) -> CliResult<Sensitive<String>> {
    let url = if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Usage(format!("cannot read the URL from stdin: {e}")))?;
        text.lines().next().unwrap_or_default().trim().to_owned()
    } else {
        arg.trim().to_owned()
    };
    if url.is_empty() {
        return Err(CliError::Usage("No URL given; nothing was changed.".into()));
    }
    Ok(Sensitive::new(url))
}

fn update_request(u: &UpdateWebhook) -> CliResult<UpdateWebhookRequest> {
    let req = UpdateWebhookRequest {
        url: u.endpoint.as_deref().map(read_url).transpose()?,
        events: if u.all_events {
            Some(Vec::new())
        } else {
            u.events.clone()
        },
        description: u.description.clone(),
        enabled: if u.enable {
            Some(true)
        } else if u.disable {
            Some(false)
        } else {
            None
        },
    };
    let nothing = req.url.is_none()
        && req.events.is_none()
        && req.description.is_none()
        && req.enabled.is_none();
    if nothing {
        return Err(CliError::Usage(
            "Say what to change: --endpoint, --events, --all-events, --description, --enable or \
             --disable. Nothing was changed."
                .into(),
        ));
    }
    Ok(req)
}

/// The endpoint on stderr, its secret alone on stdout (once), or JSON with both.
fn print_secret(ctx: &Ctx, what: &str, w: &WebhookWithSecret) -> CliResult<()> {
    if ctx.json {
        return output::json(w);
    }
    let h = &w.webhook;
    eprintln!("{what} webhook {} ({}).", h.id, h.url_display);
    match &w.secret {
        Some(secret) => {
            eprintln!(
                "keyhold: warning: this is the only time the signing secret is shown; store \
                 it now where your receiver reads it."
            );
            if h.previous_secret_until.is_some() {
                eprintln!(
                    "keyhold: the previous secret still signs until {}.",
                    h.previous_secret_until
                        .as_ref()
                        .map_or_else(String::new, output::time)
                );
            }
            println!("{}", secret.expose());
        }
        None => eprintln!("Slack endpoints have no signing secret."),
    }
    Ok(())
}

fn row(h: &Webhook) -> Vec<String> {
    let enabled = match &h.disabled_reason {
        Some(reason) if !h.enabled => format!("no ({reason})"),
        _ => yes_no(h.enabled),
    };
    vec![
        h.id.clone(),
        h.kind.as_str().to_owned(),
        h.url_display.clone(),
        if h.events.is_empty() || h.events.iter().any(|e| e == "*") {
            "all".to_owned()
        } else {
            h.events.join(",")
        },
        enabled,
        output::opt(&h.description),
    ]
}

fn delivery_row(d: &Delivery) -> Vec<String> {
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.as_ref().map_or_else(|| "-".to_owned(), output::time)
    };
    vec![
        d.id.clone(),
        d.event_type.clone(),
        d.status.clone(),
        d.attempts.to_string(),
        d.last_status
            .map_or_else(|| "-".to_owned(), |s| s.to_string()),
        time(&d.last_attempt_at),
        time(&d.next_attempt_at),
        output::opt(&d.last_error),
    ]
}
