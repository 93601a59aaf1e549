//! The command line, as clap sees it. Completions and the man page are generated from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use keyhold_core::api::{ApprovalStatus, Role};
use keyhold_core::path::{PathPrefix, SecretPath};
use keyhold_core::scope::Scope;
use keyhold_core::tier::{SecretType, Tier};

mod team;
pub use team::*;

#[derive(Debug, Parser)]
#[command(
    name = "keyhold",
    version,
    about = "Keyhold: secrets for AI agents and CI jobs, under human control",
    after_help = "Credentials: KEYHOLD_TOKEN (a kht_ token or khs_ session), KEYHOLD_AGENT_KEY \
                  (a kha_ key), or the session `keyhold login` keeps in the OS keyring."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Keyhold server URL.
    #[arg(
        long,
        global = true,
        env = "KEYHOLD_URL",
        default_value = "http://127.0.0.1:8270"
    )]
    pub url: String,
    /// Print JSON instead of tables (on every command that reads).
    #[arg(long, global = true)]
    pub json: bool,
    /// Allow plain http:// to a host that is not this computer (credentials travel in clear).
    #[arg(long, global = true)]
    pub insecure_http: bool,
    /// Also trust the CA certificates in this PEM file (a server with a private CA).
    #[arg(long, global = true, env = "KEYHOLD_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in and keep the session in the OS keyring.
    Login(LoginArgs),
    /// End the session and forget it.
    Logout,
    /// Who the current credential belongs to.
    Whoami,
    /// The security score of your account and what to do about it.
    Security,
    /// Two-factor authentication: enroll, new backup codes, disable, status.
    #[command(subcommand)]
    Mfa(MfaCommand),
    /// Read, write, list and delete secrets.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Run a command with the secrets under a prefix as environment variables.
    Run(RunArgs),
    /// Agent keys (`kha_`): create, list, revoke.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Scoped tokens (`kht_`), issued by an agent key.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Read the audit log.
    Audit(AuditArgs),
    /// Approval requests of agents: the inbox, approve, deny, wait for a decision.
    #[command(subcommand)]
    Approvals(ApprovalsCommand),
    /// The people of your tenant: list, invite, change a role, remove.
    #[command(subcommand)]
    Members(MembersCommand),
    /// The tenant's approval policy: show it, change it.
    Settings(SettingsArgs),
    /// Webhook and Slack endpoints that hear about approvals, keys and members.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Alerts of the detection rules (owners and admins): list, acknowledge.
    Alerts {
        #[command(subcommand)]
        command: Option<AlertsCommand>,
    },
    /// Addresses blocked by a detection rule (owners and admins): list, lift.
    Blocks {
        #[command(subcommand)]
        command: Option<BlocksCommand>,
    },
    /// Your notification preferences: approval mail on or off.
    Notifications {
        #[command(subcommand)]
        command: Option<NotificationsCommand>,
    },
    /// A forgotten password: mail a reset link, then set a new password with it.
    #[command(subcommand)]
    PasswordReset(PasswordResetCommand),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Account email (asked for when missing).
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from the first line of stdin instead of prompting.
    /// (with 2FA on, the TOTP or backup code is read from the next line).
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Turn 2FA on: QR code in the terminal, confirm a code, backup codes shown once.
    Enroll,
    /// Whether 2FA is on and how many backup codes are left.
    Status,
    /// A new set of backup codes (the old set stops working); asks for a current code.
    BackupCodes,
    /// Turn 2FA off; asks for a current TOTP or backup code.
    Disable,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Write a new version of a secret. The value comes from VALUE, `-` (stdin),
    /// --from-file, or a prompt that does not echo.
    Set {
        /// The secret's path, e.g. production/stripe/STRIPE_SECRET_KEY.
        path: SecretPath,
        /// The value, or `-` to read it from stdin (one trailing newline is dropped).
        /// A value on the command line is visible to other local users and in shell
        /// history: prefer `-` or --from-file.
        value: Option<String>,
        /// Read the value from this file, byte for byte (must be UTF-8).
        #[arg(long, conflicts_with = "value")]
        from_file: Option<PathBuf>,
        /// api_key, password, url, certificate or generic.
        #[arg(long = "type")]
        kind: Option<SecretType>,
        /// standard, sensitive or critical.
        #[arg(long)]
        tier: Option<Tier>,
    },
    /// Print a secret's value (the only command that ever prints one).
    Get {
        path: SecretPath,
        /// An older version.
        #[arg(long)]
        version: Option<u32>,
        /// Print the value exactly, with no trailing newline and nothing on stderr.
        #[arg(long)]
        silent: bool,
        /// When the read needs an approval, wait for the decision (a spinner with the
        /// time left on a terminal), then read again.
        #[arg(long)]
        wait_approval: bool,
    },
    /// List secrets (metadata only, never values).
    List {
        /// Only below this folder, e.g. production/ (default: everything).
        #[arg(long)]
        prefix: Option<PathPrefix>,
    },
    /// The versions of a secret.
    Versions { path: SecretPath },
    /// Delete a secret and all its versions.
    Rm { path: SecretPath },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The folder whose secrets become environment variables, e.g. production/gemini/.
    #[arg(long)]
    pub prefix: PathPrefix,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, num_args = 1..)]
    pub command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an agent key; its secret is printed once, on stdout. With --ed25519 the key
    /// pair is made here, the private key kept (--key-file or --keyring), only the public
    /// key sent, and the key's id printed on stdout.
    Create {
        #[arg(long)]
        name: String,
        /// Comma-separated scopes, e.g. secrets:read:production/*.
        #[arg(long, value_delimiter = ',', required = true, num_args = 1..)]
        scopes: Vec<Scope>,
        /// e.g. 30d, 8h (default: never).
        #[arg(long, value_parser = parse_duration)]
        expires_in: Option<String>,
        /// Comma-separated CIDRs the key may be used from.
        #[arg(long, value_delimiter = ',')]
        ip_allowlist: Option<Vec<String>>,
        /// An Ed25519 key that signs requests (docs/credentials.md): no bearer secret.
        #[arg(long)]
        ed25519: bool,
        /// With --ed25519: write the private key (PKCS#8 PEM, mode 0600) to this new file.
        #[arg(long, requires = "ed25519", conflicts_with = "keyring")]
        key_file: Option<std::path::PathBuf>,
        /// With --ed25519: keep the private key in the OS keyring instead of a file.
        #[arg(long, requires = "ed25519")]
        keyring: bool,
    },
    /// Your agent keys (never their secrets).
    List,
    /// One key: what it may do, and its use (requests, refusals, recent addresses).
    Show { id: String },
    /// Change a key's expiry or IP allowlist (needs a recent sign-in); the secret stays.
    Update {
        id: String,
        /// The new expiry, e.g. 2027-06-30T00:00:00Z.
        #[arg(long, conflicts_with_all = ["expires_in", "never_expires"])]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        /// The new expiry counted from now (this computer's clock), e.g. 30d.
        #[arg(long, value_parser = parse_duration, conflicts_with = "never_expires")]
        expires_in: Option<String>,
        /// The key never expires.
        #[arg(long)]
        never_expires: bool,
        /// Comma-separated CIDRs the key may be used from (replaces the list).
        #[arg(long, value_delimiter = ',', conflicts_with = "any_address")]
        ip_allowlist: Option<Vec<String>>,
        /// The key may be used from any address (clears the allowlist).
        #[arg(long)]
        any_address: bool,
    },
    /// Rotate a key (needs a recent sign-in): the new secret is printed once, on stdout;
    /// the old key keeps working for --overlap.
    Rotate {
        id: String,
        /// How long the old key keeps working: 0s (revoked now, with its tokens) to 7d
        /// (server default 1h).
        #[arg(long, value_parser = parse_overlap)]
        overlap: Option<String>,
    },
    /// Revoke a key and every token it issued.
    Revoke { id: String },
    /// Reinstate a key a detection rule suspended (needs a recent sign-in).
    Reinstate { id: String },
    /// Kill a leaked key or token: reads it from stdin; no sign-in needed.
    RevokeLeaked,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Open alerts, newest first (the default); `--all` adds acknowledged ones.
    List {
        #[arg(long)]
        all: bool,
    },
    /// Acknowledge an alert once handled.
    Ack { id: String },
}

#[derive(Debug, Subcommand)]
pub enum BlocksCommand {
    /// The blocks in force (the default).
    List,
    /// Lift a block early (needs a recent sign-in).
    Lift { id: String },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issue a scoped token with the agent key in KEYHOLD_AGENT_KEY; printed on stdout.
    Issue {
        /// Comma-separated scopes, a subset of the key's.
        #[arg(long, value_delimiter = ',', required = true, num_args = 1..)]
        scopes: Vec<Scope>,
        /// e.g. 15m, 1h (server default 1h).
        #[arg(long, value_parser = parse_duration)]
        ttl: Option<String>,
        #[arg(long, value_delimiter = ',')]
        ip_allowlist: Option<Vec<String>>,
        /// How many requests the token may make.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        max_uses: Option<u32>,
    },
    /// Revoke a token.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// Approval requests: the inbox (people) or the key's own requests (agents).
    List {
        /// pending, approved, denied, expired or used (default: all).
        #[arg(long, value_parser = parse_status)]
        status: Option<ApprovalStatus>,
    },
    /// One request: who asks, for what, votes so far, when it lapses.
    Show { id: String },
    /// Say yes. A critical request needs a current TOTP code: --code, or a prompt that
    /// does not echo.
    Approve {
        id: String,
        /// A note kept with your vote.
        #[arg(long)]
        comment: Option<String>,
        /// The current code of your authenticator app (`-` reads it from stdin).
        #[arg(long)]
        code: Option<String>,
    },
    /// Say no (also during a critical request's delay).
    Deny {
        id: String,
        /// Why, for the requester and the audit log (1-500 characters).
        #[arg(long, required = true)]
        reason: String,
    },
    /// Block until the request is decided or lapses. Exit 0 approved, 8 denied,
    /// 9 expired or already used, 5 still pending at --timeout.
    Wait {
        id: String,
        /// Give up after this long, e.g. 10m (default: wait until the request lapses).
        #[arg(long, value_parser = parse_std_duration)]
        timeout: Option<std::time::Duration>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MembersCommand {
    /// Everyone in the tenant, with role and 2FA.
    List,
    /// Mail an invitation link (valid 7 days) to join with a role (needs a sign-in from
    /// the last 10 minutes).
    Invite {
        email: String,
        /// owner, admin, approver or member.
        #[arg(long, value_parser = parse_role, default_value = "member")]
        role: Role,
    },
    /// Change a member's role (needs a sign-in from the last 10 minutes).
    Role {
        /// The member's id or email.
        member: String,
        /// owner, admin, approver or member.
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Remove a member: their sessions end, their keys and tokens are revoked and the
    /// invitations they sent are voided (needs a sign-in from the last 10 minutes; your
    /// own id or email leaves the tenant).
    Remove {
        /// The member's id or email.
        member: String,
    },
    /// Turn off the 2FA of a member who lost their phone and backup codes (owners and
    /// admins, never your own; asks for your current code; needs a sign-in from the last
    /// 10 minutes).
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// The member's id or email.
        member: String,
    },
    /// Pending invitations (unused, unexpired): list, create or revoke.
    Invitations {
        #[command(subcommand)]
        command: Option<InvitationsCommand>,
    },
}

#[derive(Debug, Subcommand)]
pub enum InvitationsCommand {
    /// The pending invitations, newest first (the default).
    List,
    /// The same as `keyhold members invite`.
    Create {
        email: String,
        /// owner, admin, approver or member.
        #[arg(long, value_parser = parse_role, default_value = "member")]
        role: Role,
    },
    /// Revoke a pending invitation: its link no longer signs anyone up (needs a sign-in
    /// from the last 10 minutes).
    Revoke {
        /// The invitation's id, from `keyhold members invitations`.
        id: String,
    },
}

fn parse_status(s: &str) -> Result<ApprovalStatus, String> {
    ApprovalStatus::parse(s)
        .ok_or_else(|| "expected pending, approved, denied, expired or used".to_owned())
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "expected owner, admin, approver or member".to_owned())
}

fn parse_std_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = keyhold_core::duration::parse(s).map_err(|e| e.to_string())?;
    d.to_std().map_err(|e| e.to_string())
}

/// A rotation's overlap: a duration, or zero (`0s`) for none.
fn parse_overlap(s: &str) -> Result<String, String> {
    if matches!(s, "0" | "0s" | "0m" | "0h") {
        return Ok(s.to_owned());
    }
    parse_duration(s)
}

fn parse_duration(s: &str) -> Result<String, String> {
    keyhold_core::duration::parse(s)
        .map(|_| s.to_owned())
        .map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    /// How many events (1-500).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Only this action, or a prefix ending in `*` (`auth.*`).
    #[arg(long)]
    pub action: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Keep printing new events as they happen.
    #[arg(long)]
    pub tail: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the tenant's hash chain (owners and admins).
    Verify,
    /// Write the whole visible log to stdout.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}
