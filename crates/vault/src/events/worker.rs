//! The delivery worker: claims due messages from the outbox (with a lease, so replicas
//! share the work and a crashed one's messages come back), delivers each, and records the
//! attempt. A failure is retried with exponential backoff and jitter until the message's
//! three days are up; an endpoint that has failed for three days is disabled and its
//! tenant's owners and admins are mailed (through the outbox too).
//!
//! It wakes when any audit event is appended (the event may have queued messages) and
//! otherwise every `Courier::poll`, for retries that come due.

use std::sync::{Arc, Weak};

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::OsRng;

use super::{PostError, PostRequest, mail, slack, webhooks};
use crate::Vault;
use crate::audit::{ActorKind, ClientInfo, NewEvent};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::store::outbox::{Attempt, AttemptOutcome, MessageKind, MessageRecord, retry_window};

/// Messages claimed per pass, delivered concurrently.
const BATCH: u32 = 16;
/// After a wake-up, wait this long so a burst of events is one pass, not one each.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(50);
const USER_AGENT: &str = concat!("Keyhold-Webhooks/", env!("CARGO_PKG_VERSION"));

/// The wait before attempt `n + 1`, after `n` failed ones: 5 s doubling to at most 6 h,
/// each taken at a random 50–100 % (jitter, so receivers that fail together do not get
/// every retry at the same instant).
pub fn backoff(failed: u32) -> Duration {
    let secs = (5i64 << failed.saturating_sub(1).min(16)).min(6 * 3600);
    let percent: i64 = OsRng.gen_range(50..=100);
    Duration::milliseconds(secs * 10 * percent)
}

/// Start the worker; it ends when the vault is dropped (or the handle is aborted).
pub fn spawn(st: &Arc<Vault>) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(st);
    tokio::spawn(run(weak))
}

async fn run(weak: Weak<Vault>) {
    let Some(st) = weak.upgrade() else { return };
    let mut wake = st.store.audit_watch();
    let poll = st.courier.poll;
    drop(st);
    loop {
        let Some(st) = weak.upgrade() else { return };
        let claimed = match pass(&st).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "outbox pass failed");
                0
            }
        };
        drop(st);
        if claimed > 0 {
            continue;
        }
        tokio::select! {
            changed = wake.changed() => {
                if changed.is_err() {
                    tokio::time::sleep(poll).await;
                }
                tokio::time::sleep(COALESCE).await;
            }
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Claim what is due and deliver it; how many messages were claimed.
pub async fn pass(st: &Vault) -> Result<usize> {
    let now = st.clock.now();
    let batch = st
        .store
        .claim_due(now, now + st.courier.lease, BATCH)
        .await?;
    futures::future::join_all(batch.iter().map(|m| deliver(st, m))).await;
    Ok(batch.len())
}

/// Deliver everything due now and wait for what other workers are delivering, for at
/// most `within`: for tests and tools that must see the mail of an action they just made.
pub async fn settle(st: &Vault, within: std::time::Duration) -> Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        pass(st).await?;
        if st.store.due_count(st.clock.now()).await? == 0 || tokio::time::Instant::now() >= deadline
        {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// What one attempt came to.
struct Tried {
    status: Option<u16>,
    response: Option<String>,
    error: Option<String>,
    /// The message can never be delivered (its endpoint is gone or disabled).
    hopeless: bool,
}

impl Tried {
    fn failed(error: impl Into<String>, hopeless: bool) -> Self {
        Self {
            status: None,
            response: None,
            error: Some(error.into()),
            hopeless,
        }
    }

    fn delivered(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

async fn deliver(st: &Vault, m: &MessageRecord) {
    let tried = match m.kind {
        MessageKind::Mail => send_mail(st, m).await,
        MessageKind::Webhook => post(st, m).await,
    };
    let now = st.clock.now();
    let delivered = tried.delivered();
    let outcome = if delivered {
        AttemptOutcome::Delivered
    } else if tried.hopeless || now >= m.give_up_at {
        AttemptOutcome::Failed
    } else {
        AttemptOutcome::RetryAt(now + backoff(m.attempts + 1))
    };
    let error = match (&tried.error, tried.status) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(s)) if !delivered => Some(format!("answered {s}")),
        _ => None,
    };
    let attempt = Attempt {
        at: now,
        status: tried.status,
        error,
        response: tried.response,
        outcome,
    };
    st.metrics.outbox_attempt(m.kind.as_str(), delivered);
    match st.store.finish_attempt(m, attempt).await {
        Ok(Some(since)) if !delivered && !tried.hopeless && since <= now - retry_window() => {
            if let Err(e) = disable(st, m).await {
                tracing::warn!(error = %e, "disabling a failing webhook endpoint failed");
            }
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, message = %m.id, "recording a delivery attempt failed")
        }
    }
}

async fn send_mail(st: &Vault, m: &MessageRecord) -> Tried {
    let sealed = match mail::open(st, &m.id, &m.payload) {
        Ok(s) => s,
        Err(_) => return Tried::failed("the sealed mail could not be opened", true),
    };
    let sent = st
        .mailer
        .send(crate::mail::Mail {
            to: &sealed.to,
            subject: &sealed.subject,
            body: sealed.body,
            link: sealed.link.as_deref(),
        })
        .await;
    match sent {
        Ok(()) => Tried {
            status: Some(250),
            response: None,
            error: None,
            hopeless: false,
        },
        Err(e) => Tried::failed(format!("{e}"), false),
    }
}

async fn post(st: &Vault, m: &MessageRecord) -> Tried {
    let (Some(tenant), Some(endpoint_id)) = (&m.tenant_id, &m.endpoint_id) else {
        return Tried::failed("no endpoint", true);
    };
    let e = match st.store.endpoint(tenant, endpoint_id).await {
        Ok(Some(e)) if e.enabled => e,
        Ok(Some(_)) => return Tried::failed("endpoint disabled", true),
        Ok(None) => return Tried::failed("endpoint removed", true),
        Err(e) => return Tried::failed(format!("store: {e}"), false),
    };
    let Ok(url) = webhooks::url_of(st, &e) else {
        return Tried::failed("the endpoint's sealed URL could not be opened", true);
    };
    let (body, mut headers) = match e.kind {
        keyhold_core::api::EndpointKind::Slack => (slack::message(st, m).await, Vec::new()),
        keyhold_core::api::EndpointKind::Webhook => match signed(st, &e, m) {
            Ok(signed) => signed,
            Err(_) => {
                return Tried::failed("the endpoint's signing secret could not be opened", true);
            }
        },
    };
    headers.push(("content-type", "application/json".to_owned()));
    headers.push(("user-agent", USER_AGENT.to_owned()));
    match st
        .courier
        .poster
        .post(PostRequest { url, headers, body })
        .await
    {
        Ok(r) => Tried {
            status: Some(r.status),
            response: Some(r.body_start),
            error: None,
            hopeless: false,
        },
        Err(PostError(why)) => Tried::failed(why, false),
    }
}

type Headers = Vec<(&'static str, String)>;

/// The body and the Standard Webhooks headers. The timestamp is the wall clock's, not the
/// vault's: receivers check it against theirs (five minutes' tolerance).
fn signed(
    st: &Vault,
    e: &crate::store::outbox::EndpointRecord,
    m: &MessageRecord,
) -> Result<(Vec<u8>, Headers)> {
    let secrets = webhooks::signing_secrets(st, e)?;
    let timestamp = SystemClock.now().timestamp();
    let refs: Vec<&str> = secrets.iter().map(|s| s.as_str()).collect();
    let signature = super::sign::header(&refs, &m.id, timestamp, &m.payload);
    if signature.is_empty() {
        return Err(Error::internal(anyhow::anyhow!("no signing secret")));
    }
    Ok((
        m.payload.clone(),
        vec![
            ("webhook-id", m.id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ],
    ))
}

/// Disable the message's endpoint after three days of failures, audited as
/// `webhook.disabled` and mailed to the tenant's owners and admins.
async fn disable(st: &Vault, m: &MessageRecord) -> Result<()> {
    let (Some(tenant), Some(id)) = (&m.tenant_id, &m.endpoint_id) else {
        return Ok(());
    };
    let Some(e) = st.store.endpoint(tenant, id).await? else {
        return Ok(());
    };
    let now = st.clock.now();
    let mut ev = NewEvent::new("webhook.disabled", now, &ClientInfo::default())
        .tenant(tenant)
        .target(format!("webhook:{id}"))
        .detail("reason", "failing")
        .detail("url", e.url_display.clone())
        .detail("failing_since", failing_since(&e.failing_since));
    ev.actor_kind = ActorKind::System;
    let body = format!(
        "Hello,\n\nKeyhold disabled the webhook endpoint {} ({}) of your vault: every \
         delivery to it has failed since {}.\n\nNo events are sent to it until an owner or \
         admin enables it again (Settings > Webhooks, or `keyhold webhooks update {} \
         --enable`). Its delivery log says why the deliveries failed.\n",
        e.url_display,
        e.description.as_deref().unwrap_or("no description"),
        failing_since(&e.failing_since),
        e.id,
    );
    for admin in st
        .store
        .members(tenant)
        .await?
        .iter()
        .filter(|u| u.role.is_admin())
    {
        ev = ev.with_outbound(mail::queue(
            st,
            &admin.email,
            "A Keyhold webhook endpoint was disabled",
            body.clone(),
            None,
        )?);
    }
    st.store.disable_endpoint(tenant, id, "failing", ev).await?;
    tracing::warn!(endpoint = %id, "webhook endpoint disabled after failing for three days");
    Ok(())
}

fn failing_since(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
