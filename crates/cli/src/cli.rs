//! The command line, as clap sees it. Completions and the man page are generated from it.

use clap::{Args, Parser, Subcommand, ValueEnum};

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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in and keep the session in the OS keyring.
    Login(LoginArgs),
    /// End the session and forget it.
    Logout,
    /// Who the current credential belongs to.
    Whoami,
    /// Read the audit log.
    Audit(AuditArgs),
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
    #[arg(long)]
    pub password_stdin: bool,
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
