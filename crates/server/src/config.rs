//! Command-line flags with environment fallbacks (see docs/configuration.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Clone, Debug, Parser)]
#[command(name = "keyhold-server", version, about = "The Keyhold secrets vault")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply the PostgreSQL schema's migrations (as the schema's owner: `--migrate-database`,
    /// else `--database`), or with `--check` only say whether the schema is current: exit
    /// status 0 when it is, 1 when it is not (for deploy pipelines).
    Migrate {
        /// Change nothing; exit 1 unless the schema is current.
        #[arg(long)]
        check: bool,
    },
    /// Copy a SQLite vault (its server stopped) into an empty PostgreSQL database, as the
    /// schema's owner: every row as it is (no re-encryption), then check that every audit
    /// chain verifies and every secret decrypts there. Refuses a target that held a vault.
    MigrateStore {
        /// The data dir of the SQLite vault (keyhold.db and, unless KEYHOLD_MASTER_KEY is
        /// set, master.key).
        #[arg(long)]
        from: std::path::PathBuf,
        /// The target database, as the schema's owner (keyhold_owner).
        #[arg(long, env = "KEYHOLD_MIGRATE_DATABASE_URL", hide_env_values = true)]
        to: SecretUrl,
    },
    /// Exit 0 when the server at `--listen` (or `--url`) answers `/healthz`, 1 otherwise:
    /// the container's HEALTHCHECK, which needs no shell or curl in the image.
    Healthcheck {
        /// The server's base URL; default: http://<--listen>, with 0.0.0.0 read as 127.0.0.1.
        #[arg(long)]
        url: Option<String>,
    },
    /// Take a consistent snapshot of the SQLite database while the server serves (the
    /// master key is not in it: keep its copy apart). Into a folder with `--keep N`, only
    /// the N newest backups stay.
    Backup {
        /// The backup file, or an existing folder for a timestamped one.
        #[arg(long)]
        to: std::path::PathBuf,
        /// With a folder: how many backups to keep.
        #[arg(long)]
        keep: Option<usize>,
    },
    /// Put a backup into an empty data dir (`--data-dir`); start the server there with the
    /// same master key.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Manage the master key, which wraps the vault's root key (docs/operations.md, "Key
    /// custody").
    MasterKey {
        #[command(subcommand)]
        action: MasterKeyCommand,
    },
    /// Manage tenant key-encryption keys.
    Kek {
        #[command(subcommand)]
        action: KekCommand,
    },
    /// What only the server's operator can do, on the server host, with the same data dir
    /// and `--database` as `serve`.
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
}

#[derive(Clone, Debug, Subcommand)]
pub enum AdminCommand {
    /// Turn off two-factor authentication for the account of EMAIL (a lone owner who lost
    /// their authenticator and backup codes): its enrollment and backup codes are removed,
    /// every session of the account ends, the change is audited (`mfa.reset`, by the
    /// System actor) and the person is mailed. Exit status 0 when done (or 2FA was already
    /// off), 1 when no account has that address or the vault cannot be opened.
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// The account's email address.
        email: String,
    },
}

#[derive(Clone, Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Re-wrap the root key under a new master key: a new key file (`--to-file`) or a key
    /// in a PKCS#11 token (`--to-pkcs11`, generated there when the label is new). The
    /// current master key is the one `serve` would use. Nothing else is re-encrypted and
    /// every password, session, key and secret keeps working; audited as
    /// `master_key.rotated`. Serving replicas keep working; each needs the new key to start.
    Rotate(RotateTo),
}

/// Where `master-key rotate` puts the new master key.
#[derive(Clone, Debug, clap::Args)]
pub struct RotateTo {
    /// A new key file, created here (mode 0600; it must not exist yet). Move it to
    /// <data dir>/master.key (or set KEYHOLD_MASTER_KEY from it) before the next start.
    #[arg(
        long,
        conflicts_with = "to_pkcs11",
        required_unless_present = "to_pkcs11"
    )]
    pub to_file: Option<PathBuf>,
    /// The PKCS#11 module of the token that is to hold the new master key.
    #[arg(long, requires = "to_key_label")]
    pub to_pkcs11: Option<PathBuf>,
    /// The token's label (default: `--pkcs11-token`).
    #[arg(long, requires = "to_pkcs11")]
    pub to_token: Option<String>,
    /// The new key's label in the token, not the current key's.
    #[arg(long, requires = "to_pkcs11")]
    pub to_key_label: Option<String>,
    /// A file holding the token's user PIN (default: the current PIN's source,
    /// `--pkcs11-pin-file` or KEYHOLD_PKCS11_PIN; or KEYHOLD_PKCS11_NEW_PIN).
    #[arg(long, requires = "to_pkcs11")]
    pub to_pin_file: Option<PathBuf>,
}

#[derive(Clone, Debug, Subcommand)]
pub enum KekCommand {
    /// Give every tenant (or one) a new KEK and re-wrap all its data keys under it.
    /// Ciphertexts are not touched; safe to run while the server is up.
    Rotate {
        /// Only this tenant id.
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// A URL that may carry a password: never printed, `Debug` included.
#[derive(Clone)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretUrl(..)")
    }
}

impl std::str::FromStr for SecretUrl {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl From<String> for SecretUrl {
    fn from(s: String) -> Self {
        Self(s)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Where the database, the master key file (if generated) and the outbox live.
    #[arg(long, env = "KEYHOLD_DATA_DIR", default_value = "./.keyhold")]
    pub data_dir: PathBuf,

    /// PostgreSQL instead of the SQLite file in the data dir, for several replicas on one
    /// database: `postgres://keyhold_app@db.example/keyhold`, TLS verified (`sslmode`:
    /// verify-full by default; `disable` only for a database on this host). Connect as a
    /// role that owns nothing and cannot bypass row-level security (docs/operations.md).
    #[arg(
        long = "database",
        env = "KEYHOLD_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<SecretUrl>,

    /// The schema owner's URL: when given, `serve` first applies missing migrations with
    /// it (replicas starting together migrate once, under a lock), and `migrate` uses it.
    #[arg(
        long = "migrate-database",
        env = "KEYHOLD_MIGRATE_DATABASE_URL",
        hide_env_values = true
    )]
    pub migrate_database_url: Option<SecretUrl>,

    /// Connections each replica keeps to PostgreSQL at most (plus one that listens).
    #[arg(long, env = "KEYHOLD_DATABASE_POOL", default_value_t = 16)]
    pub database_pool: usize,

    /// Keep the master key in the OS keyring (Secret Service, or the kernel keyutils store
    /// when headless) instead of a key file; created there on first start.
    #[arg(long, env = "KEYHOLD_MASTER_KEY_KEYRING")]
    pub master_key_keyring: bool,

    /// Keep the master key in a PKCS#11 token (an HSM) through this module, e.g.
    /// /usr/lib/softhsm/libsofthsm2.so: an AES key generated in the token on first start,
    /// non-extractable, that wraps the root key inside the token. Needs `--pkcs11-token`
    /// and the user PIN (`--pkcs11-pin-file` or KEYHOLD_PKCS11_PIN).
    #[arg(
        long,
        env = "KEYHOLD_MASTER_KEY_PKCS11",
        conflicts_with = "master_key_keyring"
    )]
    pub master_key_pkcs11: Option<PathBuf>,

    /// The label of the PKCS#11 token that holds the master key.
    #[arg(long, env = "KEYHOLD_PKCS11_TOKEN")]
    pub pkcs11_token: Option<String>,

    /// The label of the master key in the token.
    #[arg(
        long,
        env = "KEYHOLD_PKCS11_KEY_LABEL",
        default_value = "keyhold-master"
    )]
    pub pkcs11_key_label: String,

    /// A file holding the token's user PIN (trailing newline ignored); else the PIN is
    /// read from KEYHOLD_PKCS11_PIN. Never a flag's value: those show in `ps`.
    #[arg(long, env = "KEYHOLD_PKCS11_PIN_FILE")]
    pub pkcs11_pin_file: Option<PathBuf>,

    /// Rotate each tenant's KEK once its current one is this old (`90d`, `12h`; one
    /// number and a unit s/m/h/d), audited as `kek.rotated` by the System actor. Off when
    /// not given; `kek rotate` and the API work either way.
    #[arg(long, env = "KEYHOLD_KEK_ROTATE_EVERY", value_parser = parse_every)]
    pub kek_rotate_every: Option<chrono::Duration>,

    /// How often the KEK schedule looks for tenants that are due, in milliseconds (not a
    /// flag: tests shorten it).
    #[arg(skip = 3_600_000u64)]
    pub kek_rotate_check_ms: u64,

    /// Address to listen on. Plain HTTP is only for loopback addresses unless
    /// `--insecure-http`; anything else needs `--tls-cert` and `--tls-key`.
    #[arg(long, env = "KEYHOLD_LISTEN", default_value = "127.0.0.1:8270")]
    pub listen: SocketAddr,

    /// Serve HTTPS with this certificate chain (PEM, leaf first). Needs `--tls-key`. SIGHUP
    /// reloads both files (certificate renewal without a restart).
    #[arg(long, env = "KEYHOLD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) for `--tls-cert`.
    #[arg(long, env = "KEYHOLD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Allow plain HTTP on a non-loopback address, for a TLS-terminating proxy on a
    /// private network. Credentials then cross that network in clear text.
    #[arg(long, env = "KEYHOLD_INSECURE_HTTP")]
    pub insecure_http: bool,

    /// Base URL used in links sent by mail. Defaults to http://<listen>.
    #[arg(long, env = "KEYHOLD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// SMTP server for outgoing mail, e.g. smtps://user:pass@mail.example.com. Without
    /// it, every message is written to <data-dir>/outbox/ as an .eml file.
    #[arg(long, env = "KEYHOLD_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender address for outgoing mail.
    #[arg(
        long,
        env = "KEYHOLD_MAIL_FROM",
        default_value = "Keyhold <keyhold@localhost>"
    )]
    pub mail_from: String,

    /// Log format.
    #[arg(long, env = "KEYHOLD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "KEYHOLD_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,

    /// Longest a request may take, in seconds, before it is answered with 503.
    #[arg(long, env = "KEYHOLD_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// How many password hashes may run at once (each takes ~19 MiB and a core). Default:
    /// the number of CPUs minus one, at least 1.
    #[arg(long, env = "KEYHOLD_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,

    /// How many requests may wait for a password hash; beyond that, 429 at once, so a
    /// flood of sign-ins cannot build an unbounded queue.
    #[arg(long, env = "KEYHOLD_HASH_QUEUE", default_value_t = 64)]
    pub hash_queue: usize,

    /// Failed logins per minute, per account and per client address, before 429.
    #[arg(long, env = "KEYHOLD_LOGIN_FAILURES_PER_MINUTE", default_value_t = 10)]
    pub login_failures_per_minute: u32,

    /// Requests per minute per client address without a credential (sign-up, sign-in,
    /// verification links, leaked-key reports); 0 turns the limit off.
    #[arg(long, env = "KEYHOLD_RATE_LIMIT_ANONYMOUS", default_value_t = 300)]
    pub rate_limit_anonymous: u32,

    /// Sign-in attempts per minute per account, and second-factor attempts per MFA ticket;
    /// 0 turns the limit off.
    #[arg(long, env = "KEYHOLD_RATE_LIMIT_LOGIN", default_value_t = 30)]
    pub rate_limit_login: u32,

    /// Requests per minute per agent key or scoped token; 0 turns the limit off.
    #[arg(long, env = "KEYHOLD_RATE_LIMIT_AGENT", default_value_t = 12_000)]
    pub rate_limit_agent: u32,

    /// Requests per minute per signed-in session; 0 turns the limit off.
    #[arg(long, env = "KEYHOLD_RATE_LIMIT_SESSION", default_value_t = 3000)]
    pub rate_limit_session: u32,

    /// Reverse proxies (CIDRs, repeatable or comma-separated) whose X-Forwarded-For is
    /// believed. From any other peer the header is ignored and the socket address counts.
    #[arg(
        long = "trusted-proxy",
        env = "KEYHOLD_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Let webhook endpoints use `http://` and private, loopback or link-local addresses.
    /// For tests and labs only: it lets anyone who may add an endpoint make this server
    /// send requests into its own network.
    #[arg(long, env = "KEYHOLD_ALLOW_PRIVATE_WEBHOOKS")]
    pub allow_private_webhooks: bool,

    /// Longest a webhook delivery may take, in seconds, before it counts as failed.
    #[arg(long, env = "KEYHOLD_WEBHOOK_TIMEOUT", default_value_t = 10)]
    pub webhook_timeout_secs: u64,

    /// How often, in milliseconds, the delivery worker looks for retries that came due
    /// (new messages wake it at once).
    #[arg(long, env = "KEYHOLD_OUTBOX_POLL_MS", default_value_t = 1000)]
    pub outbox_poll_ms: u64,
}

/// `--kek-rotate-every`: a duration of the API's grammar, at least an hour (rotating
/// more often re-wraps every data key for nothing).
fn parse_every(text: &str) -> Result<chrono::Duration, String> {
    let d = keyhold_core::duration::parse(text).map_err(|e| e.to_string())?;
    if d < chrono::Duration::hours(1) {
        return Err("the KEK rotation interval must be at least 1h".to_owned());
    }
    Ok(d)
}

impl Config {
    /// A configuration for tests and embedding: loopback, ephemeral port, this data dir.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            database_url: None,
            migrate_database_url: None,
            database_pool: 16,
            master_key_keyring: false,
            master_key_pkcs11: None,
            pkcs11_token: None,
            pkcs11_key_label: "keyhold-master".to_owned(),
            pkcs11_pin_file: None,
            kek_rotate_every: None,
            kek_rotate_check_ms: 3_600_000,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls_cert: None,
            tls_key: None,
            insecure_http: false,
            public_url: None,
            smtp_url: None,
            mail_from: "Keyhold <keyhold@localhost>".to_owned(),
            log_format: LogFormat::Text,
            body_limit: 64 * 1024,
            request_timeout_secs: 30,
            hash_concurrency: None,
            hash_queue: 64,
            login_failures_per_minute: 10,
            rate_limit_anonymous: 300,
            rate_limit_login: 30,
            rate_limit_agent: 12_000,
            rate_limit_session: 3000,
            trusted_proxies: Vec::new(),
            allow_private_webhooks: false,
            webhook_timeout_secs: 10,
            outbox_poll_ms: 1000,
        }
    }

    /// The certificate and key files, when TLS is configured.
    pub fn tls_files(&self) -> Option<(&std::path::Path, &std::path::Path)> {
        Some((self.tls_cert.as_deref()?, self.tls_key.as_deref()?))
    }

    /// `https` with TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls_files().is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The per-class request rate limits.
    pub fn rate_limits(&self) -> crate::rate_limit::PerMinute {
        crate::rate_limit::PerMinute {
            anonymous: self.rate_limit_anonymous,
            login: self.rate_limit_login,
            agent: self.rate_limit_agent,
            session: self.rate_limit_session,
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("keyhold.db")
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
}
