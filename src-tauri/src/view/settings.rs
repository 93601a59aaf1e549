//! The Settings area's types: the approval policy, webhooks and their delivery log, and
//! notification preferences. A webhook's signing secret appears in [`CreatedWebhook`]
//! alone, the one time the person must see it.

use serde::{Deserialize, Serialize};
use specta::Type;

/// The tenant's approval policy (`GET`/`PUT /v1/tenant/settings`). Durations as the
/// server writes them: `"10m"`, `"24h"`, `"0s"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct TenantSettingsView {
    /// Approvals a sensitive secret needs (at least 1).
    pub sensitive: u32,
    /// Approvals a critical secret needs (at least 2).
    pub critical: u32,
    /// Wait after the last approval of a critical read.
    pub critical_delay: String,
    /// How long a request stays open.
    pub request_ttl: String,
    /// How long an approved request may be used.
    pub grant_ttl: String,
    /// The longest lifetime of a scoped token.
    pub max_token_ttl: String,
}

/// An endpoint as admins see it: never its secret, its URL as scheme and host only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Type)]
pub struct WebhookView {
    pub id: String,
    /// "webhook" | "slack"
    pub kind: String,
    pub url_display: String,
    /// Event types delivered; empty: every event type.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why it is disabled ("failing"), when it is.
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub failing_since: Option<String>,
    /// Until when the previous secret still signs, after a rotation.
    pub previous_secret_until: Option<String>,
}

/// A new endpoint, as the form fills it. No `Debug`: a Slack URL is a credential.
#[derive(Clone, Deserialize, Type)]
pub struct NewWebhook {
    pub url: String,
    /// "webhook" | "slack"
    pub kind: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// The one time a signing secret is shown (none for Slack endpoints).
#[derive(Clone, Serialize, Type)]
pub struct CreatedWebhook {
    pub webhook: WebhookView,
    pub secret: Option<String>,
}

/// A change to an endpoint: only the fields set change. No `Debug`: a Slack URL is a
/// credential.
#[derive(Clone, Default, Deserialize, Type)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// One message to an endpoint and its last attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Type)]
pub struct DeliveryView {
    pub id: String,
    pub event_type: String,
    /// "pending" | "delivered" | "failed"
    pub status: String,
    pub attempts: u32,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// The HTTP status of the last answer, if one came.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// The start of the last answer's body (at most 1 KiB).
    pub last_response: Option<String>,
}

/// The person's own notification preferences.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct NotificationPrefsView {
    /// Mail when a request they may decide opens, and when one of theirs is decided.
    pub approval_mail: bool,
}
