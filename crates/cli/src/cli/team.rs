//! The team administration commands, as clap sees them: tenant settings, webhooks,
//! notification preferences and the password reset.

use clap::{Args, Subcommand, ValueEnum};

use super::parse_duration;

/// A duration that may also be zero (`0s`, `0m`…): the critical delay can be turned off.
fn parse_delay(s: &str) -> Result<String, String> {
    let t = s.trim();
    let zero = t
        .strip_suffix(['s', 'm', 'h', 'd'])
        .unwrap_or(t)
        .bytes()
        .all(|b| b == b'0');
    if zero && !t.is_empty() && t.starts_with('0') {
        return Ok("0s".to_owned());
    }
    parse_duration(t)
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    #[command(subcommand)]
    pub command: Option<SettingsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// The approval policy and the longest token lifetime (the default).
    Show,
    /// Change the approval policy (owners and admins; needs a sign-in from the last 10
    /// minutes). Only the values given change.
    Set(SetSettings),
}

#[derive(Debug, Args)]
#[group(required = true, multiple = true)]
pub struct SetSettings {
    /// Approvals a sensitive secret needs (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub sensitive: Option<u32>,
    /// Approvals a critical secret needs (at least 2).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub critical: Option<u32>,
    /// Wait after the last approval of a critical read, e.g. 10m (0s: none).
    #[arg(long, value_parser = parse_delay)]
    pub critical_delay: Option<String>,
    /// How long a request stays open for approvers, e.g. 24h.
    #[arg(long, value_parser = parse_duration)]
    pub request_ttl: Option<String>,
    /// How long an approved request may be used, e.g. 1h.
    #[arg(long, value_parser = parse_duration)]
    pub grant_ttl: Option<String>,
    /// The longest lifetime of a scoped token, e.g. 24h.
    #[arg(long, value_parser = parse_duration)]
    pub max_token_ttl: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Standard Webhooks JSON, signed with a `whsec_` secret.
    Webhook,
    /// A Slack incoming-webhook URL: a readable message.
    Slack,
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// The tenant's endpoints (never their secrets; URLs as scheme and host).
    List,
    /// Register an endpoint; its signing secret is printed once, on stdout (needs a
    /// sign-in from the last 10 minutes).
    Add {
        /// The endpoint's https:// URL, or `-` to read it from stdin (a Slack URL is a
        /// credential: prefer `-`).
        #[arg(value_name = "URL")]
        endpoint: String,
        #[arg(long, value_enum, default_value_t = KindArg::Webhook)]
        kind: KindArg,
        /// Comma-separated event types, e.g. approval.requested,key.* (default: all).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Change an endpoint: only the values given change (needs a sign-in from the last
    /// 10 minutes).
    Update(UpdateWebhook),
    /// Remove an endpoint (needs a sign-in from the last 10 minutes).
    Remove { id: String },
    /// A new signing secret, printed once; the old one still signs for 24 hours (needs a
    /// sign-in from the last 10 minutes).
    RotateSecret { id: String },
    /// Send a test event to the endpoint.
    Test { id: String },
    /// The endpoint's delivery log, newest first: status, attempts, last answer.
    Deliveries {
        id: String,
        /// How many deliveries (1-500).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
    },
    /// Send a delivery again now (same webhook-id).
    Retry { id: String, delivery_id: String },
}

#[derive(Debug, Args)]
pub struct UpdateWebhook {
    pub id: String,
    /// A new https:// URL for the endpoint, or `-` to read it from stdin. (`--url` is
    /// the Keyhold server's.)
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Comma-separated event types (replaces the list).
    #[arg(long, value_delimiter = ',', conflicts_with = "all_events")]
    pub events: Option<Vec<String>>,
    /// Deliver every event type.
    #[arg(long)]
    pub all_events: bool,
    #[arg(long)]
    pub description: Option<String>,
    /// Deliver again (also re-enables one disabled after failing for 3 days).
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    /// Stop delivering, keeping the endpoint.
    #[arg(long)]
    pub disable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// Your notification preferences (the default).
    Show,
    /// Turn approval mail on or off: mail when a request you may decide opens, and when
    /// one of yours is decided.
    Set {
        #[arg(long, value_enum)]
        approval_mail: OnOff,
    },
}

#[derive(Debug, Subcommand)]
pub enum PasswordResetCommand {
    /// Mail a single-use reset link (valid 1 hour) to EMAIL, if it has an account. The
    /// answer is the same either way.
    Request { email: String },
    /// Set a new password with the token from the mail (or the whole link). Reads the
    /// token, the new password and, with 2FA on, a code from prompts that do not echo, or
    /// one per line of stdin. Every session of the account ends.
    Confirm,
}
