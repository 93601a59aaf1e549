//! Webhook endpoints, as owners and admins manage them (`/v1/webhooks`): register with an
//! event filter, change, remove, rotate the signing secret, send a test event, read the
//! delivery log and retry a delivery. Changes need the sudo window and are audited; the
//! URL and secrets are sealed at rest, the secret is shown once, and neither ever appears
//! in an audit detail, a log line or an answer.

use chrono::Duration;
use keyhold_core::Sensitive;
use keyhold_core::api::{
    CreateWebhookRequest, Delivery, EndpointKind, Page, UpdateWebhookRequest, Webhook,
    WebhookWithSecret,
};
use keyhold_core::email::clean_text;
use url::Url;
use zeroize::Zeroizing;

use super::address;
use super::mail::new_message_id;
use crate::Vault;
use crate::audit::{ClientInfo, NewEvent};
use crate::auth::{Session, SudoSession};
use crate::crypto::{open_bound, seal_bound};
use crate::error::{Error, Result};
use crate::paging;
use crate::store::outbox::{EVENT_TYPES, EndpointRecord, MessageRecord, Outbound};

const ADMINS_ONLY: &str = "Only owners and admins manage webhooks.";
/// Endpoints per tenant: enough for every integration, bounded so a tenant cannot make
/// every event fan out without limit.
pub const MAX_ENDPOINTS: usize = 20;
/// How long the previous secret still signs after a rotation.
pub fn rotation_overlap() -> Duration {
    Duration::hours(24)
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::invalid_field(message, field)
}

fn url_aad(e: &EndpointRecord) -> String {
    format!("keyhold/webhook-url/v1|{}|{}", e.tenant_id, e.id)
}

fn secret_aad(e: &EndpointRecord, version: u32) -> String {
    format!("keyhold/whsec/v1|{}|{}|{version}", e.tenant_id, e.id)
}

/// The endpoint's URL, opened.
pub(crate) fn url_of(st: &Vault, e: &EndpointRecord) -> Result<Url> {
    let text = open_bound(&st.keys.wrap, &e.url_sealed, &url_aad(e)).map_err(Error::internal)?;
    let text = std::str::from_utf8(&text).map_err(Error::internal)?;
    Url::parse(text).map_err(Error::internal)
}

/// The secrets that sign a delivery now: the current one, and the previous one while the
/// rotation's overlap lasts.
pub(crate) fn signing_secrets(st: &Vault, e: &EndpointRecord) -> Result<Vec<Zeroizing<String>>> {
    let mut out = Vec::new();
    let now = st.clock.now();
    let sealed = [
        (e.secret_sealed.as_ref(), e.secret_version),
        match e.previous_until {
            Some(until) if until > now => (
                e.previous_secret_sealed.as_ref(),
                e.secret_version.saturating_sub(1),
            ),
            _ => (None, 0),
        },
    ];
    for (blob, version) in sealed {
        if let Some(blob) = blob {
            let text = open_bound(&st.keys.wrap, blob, &secret_aad(e, version))
                .map_err(Error::internal)?;
            let text = String::from_utf8(text.to_vec()).map_err(Error::internal)?;
            out.push(Zeroizing::new(text));
        }
    }
    Ok(out)
}

fn to_api(e: &EndpointRecord) -> Webhook {
    Webhook {
        id: e.id.clone(),
        kind: e.kind,
        url_display: e.url_display.clone(),
        events: e.events.clone(),
        description: e.description.clone(),
        enabled: e.enabled,
        disabled_reason: e.disabled_reason.clone(),
        created_at: e.created_at,
        failing_since: e.failing_since,
        previous_secret_until: e.previous_until,
    }
}

/// A delivery as the log shows it.
pub fn delivery(m: &MessageRecord) -> Delivery {
    Delivery {
        id: m.id.clone(),
        event_type: m.event_type.clone(),
        status: m.status.clone(),
        attempts: m.attempts,
        created_at: m.created_at,
        next_attempt_at: m.next_at,
        last_attempt_at: m.last_attempt_at,
        last_status: m.last_status,
        last_error: m.last_error.clone(),
        last_response: m.last_response.clone(),
    }
}

/// The event filter, checked, and the exact types it subscribes to (`*`: all).
fn subscriptions(events: &[String]) -> Result<Vec<String>> {
    if events.len() > EVENT_TYPES.len() {
        return Err(invalid("events", "Too many event types."));
    }
    let mut out = Vec::new();
    for e in events {
        if e == "*" {
            out.push("*".to_owned());
        } else if let Some(family) = e.strip_suffix(".*") {
            let prefix = format!("{family}.");
            let n = out.len();
            out.extend(
                EVENT_TYPES
                    .iter()
                    .filter(|t| t.starts_with(&prefix))
                    .map(|t| (*t).to_owned()),
            );
            if out.len() == n {
                return Err(invalid("events", format!("No event type matches {e:?}.")));
            }
        } else if EVENT_TYPES.contains(&e.as_str()) {
            out.push(e.clone());
        } else {
            return Err(invalid(
                "events",
                format!("Unknown event type {e:?}; see docs/webhooks.md for the list."),
            ));
        }
    }
    if out.is_empty() {
        out.push("*".to_owned());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn description(d: Option<&str>) -> Result<Option<String>> {
    match d {
        None | Some("") => Ok(None),
        Some(d) => clean_text(d, keyhold_core::api::schema::MAX_DESCRIPTION_CHARS)
            .map(Some)
            .ok_or_else(|| {
                invalid(
                    "description",
                    "The description must be at most 200 characters, with no control characters.",
                )
            }),
    }
}

/// Parse and check a URL to save (syntax, scheme, and where its host resolves to now).
async fn checked_url(st: &Vault, text: &str) -> Result<Url> {
    let allow = st.courier.allow_private;
    let url = address::parse(text, allow).map_err(|r| invalid("url", r.0))?;
    address::resolves_publicly(&url, allow)
        .await
        .map_err(|r| invalid("url", r.0))?;
    Ok(url)
}

fn admin(s: &Session) -> Result<()> {
    if s.user.role.is_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden(ADMINS_ONLY))
    }
}

fn event(
    st: &Vault,
    s: &Session,
    action: &'static str,
    e: &EndpointRecord,
    c: &ClientInfo,
) -> NewEvent {
    NewEvent::new(action, st.clock.now(), c)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("webhook:{}", e.id))
        .detail("kind", e.kind.as_str())
        .detail("url", e.url_display.clone())
        .detail("events", e.events.clone())
}

/// A new secret for `e` at `version`, sealed; the plain secret for the one answer.
fn fresh_secret(
    st: &Vault,
    e: &EndpointRecord,
    version: u32,
) -> Result<(Vec<u8>, Zeroizing<String>)> {
    let secret = super::sign::new_secret();
    let sealed = seal_bound(&st.keys.wrap, secret.as_bytes(), &secret_aad(e, version))
        .map_err(Error::internal)?;
    Ok((sealed, secret))
}

fn shown_once(secret: Option<Zeroizing<String>>) -> Option<Sensitive<String>> {
    secret.map(|s| Sensitive::new(s.to_string()))
}

/// `POST /v1/webhooks` (sudo window).
pub async fn create(
    st: &Vault,
    s: &SudoSession,
    req: CreateWebhookRequest,
    client: &ClientInfo,
) -> Result<WebhookWithSecret> {
    admin(s)?;
    let url = checked_url(st, req.url.expose()).await?;
    let subs = subscriptions(&req.events)?;
    let description = description(req.description.as_deref())?;
    if st.store.endpoints(s.tenant_id()).await?.len() >= MAX_ENDPOINTS {
        return Err(Error::invalid(format!(
            "A tenant can have at most {MAX_ENDPOINTS} webhook endpoints."
        )));
    }
    let now = st.clock.now();
    let mut e = EndpointRecord {
        id: crate::ids::new_id(now),
        tenant_id: s.tenant_id().to_owned(),
        kind: req.kind,
        url_sealed: Vec::new(),
        url_display: address::display(&url),
        events: if req.events.is_empty() {
            vec!["*".to_owned()]
        } else {
            req.events.clone()
        },
        description,
        secret_sealed: None,
        previous_secret_sealed: None,
        previous_until: None,
        secret_version: 1,
        enabled: true,
        disabled_reason: None,
        failing_since: None,
        created_at: now,
    };
    e.url_sealed = seal_bound(&st.keys.wrap, url.as_str().as_bytes(), &url_aad(&e))
        .map_err(Error::internal)?;
    let secret = match e.kind {
        EndpointKind::Webhook => {
            let (sealed, secret) = fresh_secret(st, &e, 1)?;
            e.secret_sealed = Some(sealed);
            Some(secret)
        }
        // Slack checks no signature: its URL is the credential.
        EndpointKind::Slack => None,
    };
    let ev = event(st, s, "webhook.created", &e, client);
    st.store.create_endpoint(e.clone(), subs, ev).await?;
    Ok(WebhookWithSecret {
        webhook: to_api(&e),
        secret: shown_once(secret),
    })
}

async fn load(st: &Vault, s: &Session, id: &str) -> Result<EndpointRecord> {
    admin(s)?;
    st.store
        .endpoint(s.tenant_id(), id)
        .await?
        .ok_or(Error::NotFound)
}

/// `GET /v1/webhooks`.
pub async fn list(st: &Vault, s: &Session) -> Result<Vec<Webhook>> {
    admin(s)?;
    Ok(st
        .store
        .endpoints(s.tenant_id())
        .await?
        .iter()
        .map(to_api)
        .collect())
}

/// `GET /v1/webhooks/{id}`.
pub async fn get(st: &Vault, s: &Session, id: &str) -> Result<Webhook> {
    Ok(to_api(&load(st, s, id).await?))
}

/// `PATCH /v1/webhooks/{id}` (sudo window): only the fields present change. Re-enabling
/// clears the failure record, so the endpoint gets a fresh three days.
pub async fn update(
    st: &Vault,
    s: &SudoSession,
    id: &str,
    req: UpdateWebhookRequest,
    client: &ClientInfo,
) -> Result<Webhook> {
    let mut e = load(st, s, id).await?;
    if let Some(text) = &req.url {
        let url = checked_url(st, text.expose()).await?;
        e.url_sealed = seal_bound(&st.keys.wrap, url.as_str().as_bytes(), &url_aad(&e))
            .map_err(Error::internal)?;
        e.url_display = address::display(&url);
    }
    let subs = match &req.events {
        Some(events) => {
            let subs = subscriptions(events)?;
            e.events = if events.is_empty() {
                vec!["*".to_owned()]
            } else {
                events.clone()
            };
            Some(subs)
        }
        None => None,
    };
    if req.description.is_some() {
        e.description = description(req.description.as_deref())?;
    }
    if let Some(on) = req.enabled {
        if on && !e.enabled {
            e.failing_since = None;
            e.disabled_reason = None;
        }
        if !on {
            e.disabled_reason = Some("disabled by an admin".to_owned());
        }
        e.enabled = on;
    }
    let ev = event(st, s, "webhook.updated", &e, client).detail("enabled", e.enabled);
    st.store.update_endpoint(e.clone(), subs, ev).await?;
    Ok(to_api(&e))
}

/// `DELETE /v1/webhooks/{id}` (sudo window), with its delivery log.
pub async fn delete(st: &Vault, s: &SudoSession, id: &str, client: &ClientInfo) -> Result<()> {
    let e = load(st, s, id).await?;
    let ev = event(st, s, "webhook.deleted", &e, client);
    Ok(st.store.delete_endpoint(s.tenant_id(), id, ev).await?)
}

/// `POST /v1/webhooks/{id}/rotate-secret` (sudo window): a new secret, shown once; the
/// previous one signs too for [`rotation_overlap`]. A second rotation within the overlap
/// retires the oldest secret at once.
pub async fn rotate_secret(
    st: &Vault,
    s: &SudoSession,
    id: &str,
    client: &ClientInfo,
) -> Result<WebhookWithSecret> {
    let mut e = load(st, s, id).await?;
    if e.kind == EndpointKind::Slack {
        // The request is well formed; the endpoint's kind is what refuses it: a conflict
        // with the resource's state, not a bad request.
        return Err(Error::Conflict(
            "A Slack endpoint has no signing secret: its URL is the credential. Update the URL to rotate it.",
        ));
    }
    let version = e.secret_version + 1;
    let (sealed, secret) = fresh_secret(st, &e, version)?;
    e.previous_secret_sealed = e.secret_sealed.replace(sealed);
    e.previous_until = Some(st.clock.now() + rotation_overlap());
    e.secret_version = version;
    let ev = event(st, s, "webhook.secret_rotated", &e, client).detail("secret_version", version);
    st.store.update_endpoint(e.clone(), None, ev).await?;
    Ok(WebhookWithSecret {
        webhook: to_api(&e),
        secret: shown_once(Some(secret)),
    })
}

/// `POST /v1/webhooks/{id}/test`: a `webhook.test` event to this endpoint alone, whatever
/// its filter, through the outbox like any other.
pub async fn send_test(st: &Vault, s: &Session, id: &str, client: &ClientInfo) -> Result<Delivery> {
    let e = load(st, s, id).await?;
    if !e.enabled {
        return Err(Error::Conflict(
            "The endpoint is disabled: enable it first.",
        ));
    }
    let now = st.clock.now();
    let message = new_message_id();
    let body = serde_json::json!({
        "type": "webhook.test",
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": { "webhook_id": e.id, "tenant_id": e.tenant_id,
                  "message": "A test event from Keyhold." }
    })
    .to_string();
    let ev = event(st, s, "webhook.tested", &e, client).with_outbound(Outbound::Webhook {
        id: message.clone(),
        endpoint_id: e.id.clone(),
        event_type: "webhook.test".to_owned(),
        body,
    });
    st.store.append_event(ev).await?;
    let m = st
        .store
        .message(s.tenant_id(), &message)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(delivery(&m))
}

/// `GET /v1/webhooks/{id}/deliveries`: newest first.
pub async fn deliveries(
    st: &Vault,
    s: &Session,
    id: &str,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<Delivery>> {
    load(st, s, id).await?;
    let limit = paging::limit(limit)?;
    let before = match cursor {
        None => None,
        Some(c) => {
            let pos = paging::decode_cursor('d', c)?;
            let (us, id) = pos
                .split_once('|')
                .ok_or_else(|| Error::BadRequest("The cursor is not valid.".into()))?;
            let at = us
                .parse::<i64>()
                .ok()
                .and_then(chrono::DateTime::from_timestamp_micros)
                .ok_or_else(|| Error::BadRequest("The cursor is not valid.".into()))?;
            Some((at, id.to_owned()))
        }
    };
    let found = st.store.messages(s.tenant_id(), id, before, limit).await?;
    let next_cursor = paging::next_cursor(&found, limit, 'd', |m| {
        format!("{}|{}", m.created_at.timestamp_micros(), m.id)
    });
    Ok(Page {
        items: found.iter().map(delivery).collect(),
        next_cursor,
    })
}

/// `POST /v1/webhooks/{id}/deliveries/{delivery_id}/retry`: due again now, with the same
/// message id (so the receiver sees a retry, not a new event) and a fresh retry window.
pub async fn retry(
    st: &Vault,
    s: &Session,
    id: &str,
    delivery_id: &str,
    client: &ClientInfo,
) -> Result<Delivery> {
    let e = load(st, s, id).await?;
    let m = st
        .store
        .message(s.tenant_id(), delivery_id)
        .await?
        .filter(|m| m.endpoint_id.as_deref() == Some(id))
        .ok_or(Error::NotFound)?;
    if !e.enabled {
        return Err(Error::Conflict(
            "The endpoint is disabled: enable it first.",
        ));
    }
    let ev =
        event(st, s, "webhook.delivery_retried", &e, client).detail("delivery_id", m.id.clone());
    let m = st
        .store
        .retry_message(s.tenant_id(), &m.id, st.clock.now(), ev)
        .await?;
    Ok(delivery(&m))
}
