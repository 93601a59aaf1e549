//! The Settings area's webhook calls (owners and admins): endpoints listed, added,
//! changed, removed, their secret rotated, a test sent, and the delivery log. Changes need
//! the sudo window. A signing secret leaves here only in [`CreatedWebhook`], once.

use keyhold_core::Sensitive;
use keyhold_core::api::{
    CreateWebhookRequest, Delivery, EndpointKind, UpdateWebhookRequest, Webhook, WebhookWithSecret,
};

use super::Server;
use crate::error::{CommandError, CommandResult};
use crate::view::settings::{CreatedWebhook, DeliveryView, NewWebhook, WebhookChange, WebhookView};

/// How many deliveries the log shows (the newest).
const DELIVERY_PAGE: u32 = 50;

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

fn webhook_view(w: Webhook) -> WebhookView {
    WebhookView {
        id: w.id,
        kind: w.kind.as_str().to_owned(),
        url_display: w.url_display,
        events: w.events,
        description: w.description,
        enabled: w.enabled,
        disabled_reason: w.disabled_reason,
        created_at: w.created_at.to_rfc3339(),
        failing_since: time(w.failing_since),
        previous_secret_until: time(w.previous_secret_until),
    }
}

fn created_view(w: WebhookWithSecret) -> CreatedWebhook {
    CreatedWebhook {
        secret: w.secret.map(|s| s.expose().clone()),
        webhook: webhook_view(w.webhook),
    }
}

fn delivery_view(d: Delivery) -> DeliveryView {
    DeliveryView {
        id: d.id,
        event_type: d.event_type,
        status: d.status,
        attempts: d.attempts,
        created_at: d.created_at.to_rfc3339(),
        next_attempt_at: time(d.next_attempt_at),
        last_attempt_at: time(d.last_attempt_at),
        last_status: d.last_status,
        last_error: d.last_error,
        last_response: d.last_response,
    }
}

/// An endpoint or delivery id from the page: never empty.
fn id(id: &str) -> CommandResult<&str> {
    let id = id.trim();
    if id.is_empty() {
        return Err(CommandError::invalid("Choose a webhook."));
    }
    Ok(id)
}

/// Event types as typed: trimmed, blanks dropped.
fn events(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
        .collect()
}

pub async fn webhooks(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<Vec<WebhookView>> {
    server
        .authed(token)
        .webhooks()
        .await
        .map(|all| all.into_iter().map(webhook_view).collect())
        .map_err(|e| server.error(e))
}

pub async fn create_webhook(
    server: &Server,
    token: &Sensitive<String>,
    new: &NewWebhook,
) -> CommandResult<CreatedWebhook> {
    let kind = EndpointKind::parse(&new.kind)
        .ok_or_else(|| CommandError::invalid("Choose a kind: webhook or Slack."))?;
    let url = new.url.trim();
    if url.is_empty() {
        return Err(CommandError::invalid(
            "Enter the endpoint's https:// address.",
        ));
    }
    let req = CreateWebhookRequest {
        url: Sensitive::new(url.to_owned()),
        kind,
        events: events(&new.events),
        description: new.description.clone().filter(|d| !d.trim().is_empty()),
    };
    server
        .authed(token)
        .create_webhook(&req)
        .await
        .map(created_view)
        .map_err(|e| server.error(e))
}

pub async fn update_webhook(
    server: &Server,
    token: &Sensitive<String>,
    webhook: &str,
    change: &WebhookChange,
) -> CommandResult<WebhookView> {
    let req = UpdateWebhookRequest {
        url: change
            .url
            .as_deref()
            .map(|u| Sensitive::new(u.trim().to_owned())),
        events: change.events.as_deref().map(events),
        description: change.description.clone(),
        enabled: change.enabled,
    };
    server
        .authed(token)
        .update_webhook(id(webhook)?, &req)
        .await
        .map(webhook_view)
        .map_err(|e| server.error(e))
}

pub async fn delete_webhook(
    server: &Server,
    token: &Sensitive<String>,
    webhook: &str,
) -> CommandResult<()> {
    server
        .authed(token)
        .delete_webhook(id(webhook)?)
        .await
        .map_err(|e| server.error(e))
}

pub async fn rotate_webhook_secret(
    server: &Server,
    token: &Sensitive<String>,
    webhook: &str,
) -> CommandResult<CreatedWebhook> {
    server
        .authed(token)
        .rotate_webhook_secret(id(webhook)?)
        .await
        .map(created_view)
        .map_err(|e| server.error(e))
}

pub async fn test_webhook(
    server: &Server,
    token: &Sensitive<String>,
    webhook: &str,
) -> CommandResult<DeliveryView> {
    server
        .authed(token)
        .test_webhook(id(webhook)?)
        .await
        .map(delivery_view)
        .map_err(|e| server.error(e))
}

/// The newest deliveries of an endpoint.
pub async fn deliveries(
    server: &Server,
    token: &Sensitive<String>,
    webhook: &str,
) -> CommandResult<Vec<DeliveryView>> {
    server
        .authed(token)
        .webhook_deliveries(id(webhook)?, Some(DELIVERY_PAGE), None)
        .await
        .map(|page| page.items.into_iter().map(delivery_view).collect())
        .map_err(|e| server.error(e))
}

pub async fn retry_delivery(
    server: &Server,
    token: &Sensitive<String>,
    webhook: &str,
    delivery: &str,
) -> CommandResult<DeliveryView> {
    server
        .authed(token)
        .retry_delivery(id(webhook)?, id(delivery)?)
        .await
        .map(delivery_view)
        .map_err(|e| server.error(e))
}
