//! Detection and response (issue 19, docs/alerts.md): audit severity, the tenant's alert
//! rules, alerts, and address blocks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How much an audit event or an alert matters. Ordered: `info < warning < critical`, so
/// a filter for `warning` includes `critical`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Self::Info, Self::Warning, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// The stored text back; anything else reads as `info`.
    pub fn parse(text: &str) -> Self {
        match text {
            "warning" => Self::Warning,
            "critical" => Self::Critical,
            _ => Self::Info,
        }
    }

    /// The stored texts at or above `self`, for a filter.
    pub fn at_least(self) -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|s| **s >= self)
            .map(|s| s.as_str())
            .collect()
    }
}

/// What a rule does when it fires, besides raising its alert (which every response does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleResponse {
    /// Raise an alert only.
    Alert,
    /// Also suspend the agent key involved (rules about keys only).
    SuspendKey,
    /// Also block the client's address in the tenant for `block_for` (rules that have one).
    BlockAddress,
}

/// One rule's setting. `threshold` and `window` mean "more than `threshold` in `window`"
/// except where docs/alerts.md says otherwise (read_rate: reads per minute).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub enabled: bool,
    #[schema(maximum = 10_000_000)]
    pub threshold: u32,
    /// A duration such as `"10m"`.
    #[schema(schema_with = super::schema::alert_window)]
    pub window: String,
    pub response: RuleResponse,
    /// How long a block lasts (`block_address` only), e.g. `"1h"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::schema::block_for_or_null)]
    pub block_for: Option<String>,
    /// read_rate: a minute with more than `factor` times the key's baseline fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 2, maximum = 1000)]
    pub factor: Option<u32>,
    /// read_rate: the baseline comparison needs at least this many reads in the minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 10_000_000)]
    pub floor: Option<u32>,
}

impl AlertRule {
    fn new(threshold: u32, window: &str, response: RuleResponse) -> Self {
        Self {
            enabled: true,
            threshold,
            window: window.into(),
            response,
            block_for: None,
            factor: None,
            floor: None,
        }
    }
}

/// `GET`/`PUT /v1/tenant/alert-rules`: every rule, on by default (docs/alerts.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    pub signin_failures_account: AlertRule,
    pub signin_failures_address: AlertRule,
    pub agent_failures: AlertRule,
    pub outside_allowlist: AlertRule,
    pub revoked_key_used: AlertRule,
    pub read_rate: AlertRule,
    pub mfa_lockout: AlertRule,
    pub critical_secret_read: AlertRule,
    pub audit_chain: AlertRule,
}

impl Default for AlertRules {
    fn default() -> Self {
        use RuleResponse::*;
        Self {
            signin_failures_account: AlertRule::new(10, "10m", Alert),
            signin_failures_address: AlertRule {
                block_for: Some("1h".into()),
                ..AlertRule::new(20, "10m", BlockAddress)
            },
            agent_failures: AlertRule::new(20, "5m", Alert),
            outside_allowlist: AlertRule::new(0, "1m", SuspendKey),
            revoked_key_used: AlertRule::new(0, "1h", Alert),
            read_rate: AlertRule {
                factor: Some(20),
                floor: Some(1000),
                ..AlertRule::new(10_000_000, "30m", Alert)
            },
            mfa_lockout: AlertRule::new(0, "1h", Alert),
            critical_secret_read: AlertRule::new(0, "1m", Alert),
            audit_chain: AlertRule::new(0, "1h", Alert),
        }
    }
}

/// An alert (`GET /v1/alerts`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    pub id: String,
    /// The rule that fired (a field name of [`AlertRules`]).
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// What it is about: `key:<id>`, `user:<id>`, `address:<ip>` or `tenant:<id>`.
    pub subject: Option<String>,
    /// What the rule did besides alerting: `suspended_key`, `blocked_address` or none.
    pub response: Option<String>,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
}

/// `GET /v1/alerts` filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `open` (unacknowledged, the default), `acknowledged` or `all`.
    pub status: Option<String>,
}

/// An address block (`GET /v1/blocks`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Block {
    pub id: String,
    /// An IP address (a /64 for IPv6 clients would be wider; addresses are blocked as seen).
    pub address: String,
    /// The rule that made it.
    pub rule: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
