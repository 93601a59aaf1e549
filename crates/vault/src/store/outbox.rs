//! Storage for what leaves the vault (issue 18): webhook endpoints, the outbox of messages
//! on their way out, and each person's notification choices.
//!
//! Messages are written in the transaction of the audit event they belong to, never after
//! it: either both commit or neither does, so an acknowledged action cannot lose its
//! webhook or its mail to a crash. Two ways in, both inside the event's append:
//! - every event whose type goes out ([`outgoing_type`]) is fanned out to the tenant's
//!   enabled endpoints subscribed to it, one message per endpoint;
//! - messages the domain attaches to the event ([`Outbound`]): mail, and a test event for
//!   one endpoint.
//!
//! The background worker (`crate::events`) then claims due messages with a lease, so a
//! replica that dies mid-delivery leaves them to be claimed again once the lease runs out:
//! delivery is at least once, and a retry carries the same message id.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use keyhold_core::api::EndpointKind;
use keyhold_core::tier::Tier;

use super::StoreResult;
use crate::store::event::{NewEvent, Outcome};

/// How long a message is retried before it is given up, and how long an endpoint may fail
/// before it is disabled.
pub fn retry_window() -> Duration {
    Duration::days(3)
}

/// The event types that leave the vault, in API.md's words. `key.revoked` of a leaked key
/// goes out as `key.leak_reported` ([`outgoing_type`]).
pub const EVENT_TYPES: &[&str] = &[
    "alert.raised",
    "approval.requested",
    "approval.approved",
    "approval.denied",
    "approval.expired",
    "approval.voided",
    "key.created",
    "key.revoked",
    "key.leak_reported",
    "member.invited",
    "member.joined",
    "member.role_changed",
    "member.removed",
    "member.invitation_revoked",
    "mfa.enabled",
    "mfa.disabled",
    "secret.deleted",
    "tenant.settings_changed",
];

/// The type under which `e` leaves the vault, if it does: successful events of a tenant
/// whose action is one of [`EVENT_TYPES`]. A failed or refused attempt is not an event for
/// the outside world (the audit log keeps it).
pub fn outgoing_type(e: &NewEvent) -> Option<&'static str> {
    if e.outcome != Outcome::Success || e.tenant_id.is_none() {
        return None;
    }
    if e.action == "key.revoked"
        && e.detail.get("method").and_then(|m| m.as_str()) == Some("leaked")
    {
        return Some("key.leak_reported");
    }
    if e.action == "mfa.reset" {
        return Some("mfa.disabled");
    }
    EVENT_TYPES.iter().copied().find(|t| *t == e.action)
}

/// Whether appending `e` writes to the outbox too (so it needs a transaction of its own
/// rather than the bare single-row append).
pub fn needs_outbox(e: &NewEvent) -> bool {
    !e.outbound.is_empty() || outgoing_type(e).is_some()
}

/// The Standard Webhooks body of an event: `{type, timestamp, data}`. The data is the
/// audit event's identifiers and detail, which by the audit log's own rule never carry a
/// secret value, credential or TOTP secret; client address and user agent stay out.
pub fn event_body(e: &NewEvent, event_type: &str, audit_id: i64) -> String {
    serde_json::json!({
        "type": event_type,
        "timestamp": e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {
            "audit_event_id": audit_id,
            "tenant_id": e.tenant_id,
            "actor": { "type": e.actor_kind.as_str(), "id": e.actor_id },
            "target": e.target,
            "detail": e.detail,
        }
    })
    .to_string()
}

/// A message the domain attaches to an event, written in the event's transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outbound {
    /// One mail, sealed (it may carry a link that signs someone in).
    Mail { id: String, sealed: Vec<u8> },
    /// A webhook to one endpoint only (the "send test event" button).
    Webhook {
        id: String,
        endpoint_id: String,
        event_type: String,
        body: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    Webhook,
    Mail,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Mail => "mail",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "webhook" => Some(Self::Webhook),
            "mail" => Some(Self::Mail),
            _ => None,
        }
    }
}

/// A webhook endpoint as stored. URL and secrets are sealed by the domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointRecord {
    pub id: String,
    pub tenant_id: String,
    pub kind: EndpointKind,
    pub url_sealed: Vec<u8>,
    pub url_display: String,
    /// As the admin gave them (families such as `approval.*` unexpanded).
    pub events: Vec<String>,
    pub description: Option<String>,
    pub secret_sealed: Option<Vec<u8>>,
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_until: Option<DateTime<Utc>>,
    /// Counts rotations: part of the sealed secret's AAD, so an old secret's blob cannot be
    /// put back in place of the current one.
    pub secret_version: u32,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A message in the outbox, as the delivery log shows it and the worker delivers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRecord {
    pub id: String,
    pub tenant_id: Option<String>,
    pub kind: MessageKind,
    pub endpoint_id: Option<String>,
    pub event_type: String,
    pub payload: Vec<u8>,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub give_up_at: DateTime<Utc>,
    pub next_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub last_response: Option<String>,
}

/// What came of one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// Given up: the retry window is over, or the endpoint is gone.
    Failed,
}

/// One attempt, recorded on its message (and on its endpoint's health).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub response: Option<String>,
    pub outcome: AttemptOutcome,
}

#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Save a new endpoint with the exact event types it takes (`*`: all).
    async fn create_endpoint(
        &self,
        endpoint: EndpointRecord,
        subscriptions: Vec<String>,
        event: NewEvent,
    ) -> StoreResult<()>;
    /// Oldest first.
    async fn endpoints(&self, tenant_id: &str) -> StoreResult<Vec<EndpointRecord>>;
    async fn endpoint(&self, tenant_id: &str, id: &str) -> StoreResult<Option<EndpointRecord>>;
    /// Save every field of `endpoint` but its id, tenant and creation; replace its
    /// subscriptions when given. `NotFound` when it is gone.
    async fn update_endpoint(
        &self,
        endpoint: EndpointRecord,
        subscriptions: Option<Vec<String>>,
        event: NewEvent,
    ) -> StoreResult<()>;
    /// Remove the endpoint with its subscriptions and messages. `NotFound` when it is gone.
    async fn delete_endpoint(&self, tenant_id: &str, id: &str, event: NewEvent) -> StoreResult<()>;
    /// Disable after failing too long (the reason is kept), give up its pending messages.
    async fn disable_endpoint(
        &self,
        tenant_id: &str,
        id: &str,
        reason: &str,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// An endpoint's messages, newest first, before `before` (created, id) when given.
    async fn messages(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        before: Option<(DateTime<Utc>, String)>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>>;
    async fn message(&self, tenant_id: &str, id: &str) -> StoreResult<Option<MessageRecord>>;
    /// Make a message due again now, with a fresh retry window (a manual retry).
    async fn retry_message(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<MessageRecord>;

    /// Up to `limit` pending messages due at `now` and not leased, leased until `until`.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// Pending messages due at `now`, claimed or not: what is still to go out now.
    async fn due_count(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Record an attempt on `message` and on its endpoint's health. Returns since when the
    /// endpoint has been failing (`None`: it is healthy, or there is none).
    async fn finish_attempt(
        &self,
        message: &MessageRecord,
        attempt: Attempt,
    ) -> StoreResult<Option<DateTime<Utc>>>;

    /// Whether `user_id` takes approval mail (`true` until they say otherwise).
    async fn approval_mail(&self, tenant_id: &str, user_id: &str) -> StoreResult<bool>;
    async fn set_approval_mail(
        &self,
        tenant_id: &str,
        user_id: &str,
        on: bool,
        event: NewEvent,
    ) -> StoreResult<()>;
    /// The addresses of the people who could approve a request for a secret of `tier`
    /// (as `eligible_approvers` counts them) and take approval mail.
    async fn approval_mail_recipients(
        &self,
        tenant_id: &str,
        tier: Tier,
        excluded: &str,
    ) -> StoreResult<Vec<String>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::event::ClientInfo;

    fn ev(action: &'static str) -> NewEvent {
        NewEvent::new(action, chrono::DateTime::UNIX_EPOCH, &ClientInfo::default()).tenant("t")
    }

    #[test]
    fn only_successful_tenant_events_of_the_listed_types_go_out() {
        assert_eq!(outgoing_type(&ev("key.created")), Some("key.created"));
        assert_eq!(
            outgoing_type(&ev("secret.read")),
            None,
            "the hot path stays in"
        );
        assert_eq!(
            outgoing_type(&ev("key.created").outcome(Outcome::Denied)),
            None
        );
        assert_eq!(
            outgoing_type(&ev("key.created").outcome(Outcome::Failure)),
            None
        );
        let mut no_tenant = ev("key.created");
        no_tenant.tenant_id = None;
        assert_eq!(outgoing_type(&no_tenant), None);
        let leaked = ev("key.revoked").detail("method", "leaked");
        assert_eq!(outgoing_type(&leaked), Some("key.leak_reported"));
        assert_eq!(outgoing_type(&ev("mfa.reset")), Some("mfa.disabled"));
        assert!(!needs_outbox(&ev("secret.read")));
        assert!(needs_outbox(&ev("approval.requested")));
    }
}
