//! Events that leave the vault (API.md "Webhooks", "Notifications", "Account recovery"):
//! webhook endpoints and their deliveries, each person's notification preferences, and the
//! password reset that a forgotten password needs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Sensitive;

/// What an endpoint receives: Standard Webhooks JSON, or a readable Slack message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndpointKind {
    #[default]
    Webhook,
    /// A Slack incoming-webhook URL: the event is posted as a message, not as raw JSON.
    Slack,
}

impl EndpointKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Slack => "slack",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "webhook" => Some(Self::Webhook),
            "slack" => Some(Self::Slack),
            _ => None,
        }
    }
}

/// `POST /v1/webhooks`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// `https://` URL (Slack: the incoming-webhook URL). It is a credential for Slack, so
    /// it is shown afterwards only as scheme and host.
    #[schema(value_type = String, example = "https://203.0.113.10/keyhold")]
    pub url: Sensitive<String>,
    #[serde(default)]
    pub kind: EndpointKind,
    /// Event types to deliver (`approval.requested`, or a family such as `approval.*`);
    /// absent or empty: every event type.
    #[serde(default)]
    #[schema(schema_with = super::schema::event_filter)]
    pub events: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::description_or_null)]
    pub description: Option<String>,
}

/// `PATCH /v1/webhooks/{id}`: only the fields present change.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub url: Option<Sensitive<String>>,
    #[serde(default)]
    #[schema(schema_with = super::schema::event_filter_or_null)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    #[schema(schema_with = super::schema::description_or_null)]
    pub description: Option<String>,
    /// `true` re-enables an endpoint that was disabled after failing for 3 days.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// An endpoint as admins see it: never its signing secret, and its URL only as
/// `scheme://host/…` (a Slack URL is itself a credential).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub kind: EndpointKind,
    pub url_display: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why it is disabled (`failing` after 3 days of failed deliveries), when it is.
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Set while deliveries fail; cleared by the next success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret's signature is sent too, after a rotation.
    pub previous_secret_until: Option<DateTime<Utc>>,
}

/// `201` from `POST /v1/webhooks` and `200` from `POST /v1/webhooks/{id}/rotate-secret`:
/// the one time the `whsec_` signing secret is shown (Slack endpoints have none).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    #[schema(value_type = Option<String>)]
    pub secret: Option<Sensitive<String>>,
}

/// One message on its way to an endpoint (or a person's mailbox), with its last attempt.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct Delivery {
    /// The `webhook-id` header: the same on every retry of this message.
    pub id: String,
    pub event_type: String,
    /// `pending` (will be tried, or tried again), `delivered`, or `failed` (gave up).
    pub status: String,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last answer, if one came.
    pub last_status: Option<u16>,
    /// Why the last attempt failed (timeout, refused address, …), if it did.
    pub last_error: Option<String>,
    /// The start of the last answer's body, truncated to 1 KiB.
    pub last_response: Option<String>,
}

/// `GET /v1/me/notifications` and `PUT /v1/me/notifications`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationPrefs {
    /// Mail when an approval request opens that this person may decide, and when a request
    /// of theirs is decided. On by default.
    pub approval_mail: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        Self {
            approval_mail: true,
        }
    }
}

/// `POST /v1/auth/password-reset`: always `202`, whether or not the address has an account.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(schema_with = super::schema::email)]
    pub email: String,
}

/// `POST /v1/auth/password-reset/confirm`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The token from the mailed link.
    #[schema(value_type = String)]
    pub token: Sensitive<String>,
    #[schema(schema_with = super::schema::new_password)]
    pub new_password: Sensitive<String>,
    /// A TOTP or backup code: required when the account has 2FA on.
    #[serde(default)]
    #[schema(schema_with = super::schema::mfa_code_or_null)]
    pub code: Option<Sensitive<String>>,
}

/// `POST /v1/members/{user_id}/mfa/reset`: an owner or admin, in the sudo window, proves
/// it is them with their own current TOTP code.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetMemberMfaRequest {
    #[schema(schema_with = super::schema::totp_code)]
    pub code: Sensitive<String>,
}
