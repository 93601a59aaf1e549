//! The Security Vault's detection types: alerts, address blocks and the live alerts feed
//! (docs/alerts.md). Owners and admins only; the server answers 403 to members.

use serde::Serialize;
use specta::Type;

/// An alert a detection rule raised (`GET /v1/alerts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Type)]
pub struct AlertView {
    pub id: String,
    /// The rule that fired: "outside_allowlist", "revoked_key_used", "read_rate"…
    pub rule: String,
    /// "info" | "warning" | "critical"
    pub severity: String,
    pub message: String,
    /// What it is about: "key:<id>", "user:<id>", "address:<ip>" or "tenant:<id>".
    pub subject: Option<String>,
    /// What the rule did besides alerting: "suspended_key", "blocked_address" or none.
    pub response: Option<String>,
    pub raised_at: String,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
}

/// An address refused for the tenant until `expires_at` (`GET /v1/blocks`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Type)]
pub struct BlockView {
    pub id: String,
    pub address: String,
    /// The rule that blocked it.
    pub rule: String,
    pub created_at: String,
    pub expires_at: String,
}

/// One message of the alerts feed, sent to the web view over a channel: a hint to reload
/// the alerts (and blocks, and keys), never the truth itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Type)]
pub struct AlertFeedEvent {
    /// "connected" (the feed is live: reload), "disconnected" (retrying), or the audit
    /// action that changed something: "alert.raised", "alert.acknowledged",
    /// "key.suspended", "key.reinstated", "address.blocked", "block.lifted".
    pub kind: String,
    /// For "alert.raised": its severity ("info" | "warning" | "critical").
    pub severity: Option<String>,
    /// For "alert.raised": what the alert says.
    pub message: Option<String>,
}
