//! The `keyhold-server` binary: flags, logging, signals.

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use keyhold_server::config::{AdminCommand, Cli, Command, KekCommand, LogFormat, MasterKeyCommand};
use keyhold_vault::clock::SystemClock;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc malloc. Why: the request path allocates and frees many small
/// objects across threads, where glibc's allocator showed up as about a tenth of the
/// server's CPU in profiles (docs/PERFORMANCE.md). Whether it also avoids the hundreds of
/// megabytes glibc kept after bursts of password hashing has not been re-measured.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("KEYHOLD_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    // Logs go to stderr; stdout carries only the "listening on" line for scripts.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// A write past the file size limit (RLIMIT_FSIZE) would otherwise kill the process with
/// SIGXFSZ. Caught, the write fails with EFBIG like a full disk does, the store answers
/// 503 and the server recovers once the limit is lifted: failing closed, not dying.
#[cfg(unix)]
fn survive_file_size_limit() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut xfsz = signal(SignalKind::from_raw(libc::SIGXFSZ))?;
    tokio::spawn(async move {
        while xfsz.recv().await.is_some() {
            tracing::error!("a write went past the file size limit (SIGXFSZ); it failed");
        }
    });
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => run(cli.config).await,
        Command::Migrate { check } => migrate(cli.config, check).await,
        Command::MigrateStore { from, to } => migrate_store(&from, to.expose()).await,
        Command::Kek {
            action: KekCommand::Rotate { tenant },
        } => rotate(cli.config, tenant).await,
        Command::Admin {
            action: AdminCommand::Reset2fa { email },
        } => reset_2fa(cli.config, &email).await,
        Command::MasterKey {
            action: MasterKeyCommand::Rotate(to),
        } => rotate_master_key(cli.config, to).await,
        Command::Backup { to, keep } => backup(&cli.config, &to, keep),
        Command::Restore { from } => restore(&cli.config, &from),
        Command::Healthcheck { url } => keyhold_server::health::check(&cli.config, url).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "keyhold-server stopped");
            eprintln!("keyhold-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `keyhold-server migrate [--check]`, with the owner's URL (`--migrate-database`, else
/// `--database`). `--check` prints where the schema stands and fails unless it is current.
async fn migrate(config: keyhold_server::config::Config, check: bool) -> anyhow::Result<()> {
    let Some(url) = config
        .migrate_database_url
        .as_ref()
        .or(config.database_url.as_ref())
    else {
        anyhow::bail!(
            "migrate is for PostgreSQL: give --migrate-database (the schema owner's URL) or --database"
        );
    };
    if check {
        let status = keyhold_server::database::schema_status(url.expose()).await?;
        println!("schema: {status:?}");
        if !status.is_current() {
            anyhow::bail!("the schema is not current");
        }
        return Ok(());
    }
    let applied = keyhold_server::database::migrate(url.expose()).await?;
    if applied.is_empty() {
        println!("schema: already current");
    } else {
        println!("schema: applied migrations {applied:?}");
    }
    Ok(())
}

/// `keyhold-server migrate-store --from DATA_DIR --to URL`.
async fn migrate_store(from: &std::path::Path, to: &str) -> anyhow::Result<()> {
    let (copied, verified) = keyhold_server::database::migrate_store(from, to).await?;
    for (table, rows) in &copied.tables {
        println!("{table}: {rows} rows");
    }
    println!(
        "verified: {} audit chains ({} events), {} secrets decrypt to the same values",
        verified.chains, verified.events, verified.secrets
    );
    Ok(())
}

/// `keyhold-server backup --to FILE|DIR [--keep N]`.
fn backup(
    config: &keyhold_server::config::Config,
    to: &std::path::Path,
    keep: Option<usize>,
) -> anyhow::Result<()> {
    if config.database_url.is_some() {
        anyhow::bail!(
            "backup is for the embedded SQLite store; back up PostgreSQL with its own tools (pg_dump, point-in-time recovery: docs/operations.md)"
        );
    }
    #[allow(clippy::disallowed_methods)] // names the file by the wall clock, like any backup
    let now = chrono::Utc::now();
    let (file, removed) = keyhold_server::backup::backup(&config.db_path(), to, keep, now)?;
    println!("backup written: {}", file.display());
    for r in removed {
        println!("removed old backup: {}", r.display());
    }
    println!("the master key is not in it: keep a copy of it apart from the backups");
    Ok(())
}

/// `keyhold-server restore --from FILE --data-dir DIR`.
fn restore(config: &keyhold_server::config::Config, from: &std::path::Path) -> anyhow::Result<()> {
    let db = keyhold_server::backup::restore(from, &config.data_dir)?;
    println!("restored into {}", db.display());
    println!("start the server there with the same master key (KEYHOLD_MASTER_KEY or master.key)");
    Ok(())
}

async fn rotate(
    config: keyhold_server::config::Config,
    tenant: Option<String>,
) -> anyhow::Result<()> {
    let done = keyhold_server::rotate_keks(&config, tenant, Arc::new(SystemClock)).await?;
    for (tenant, r) in &done {
        println!(
            "tenant {tenant}: KEK version {}, {} data keys re-wrapped",
            r.kek_version, r.rewrapped
        );
    }
    println!("rotated {} tenant key(s)", done.len());
    Ok(())
}

/// `keyhold-server master-key rotate --to-file NEW | --to-pkcs11 MODULE --to-key-label L`.
async fn rotate_master_key(
    config: keyhold_server::config::Config,
    to: keyhold_server::config::RotateTo,
) -> anyhow::Result<()> {
    let done = keyhold_server::custody::rotate(&config, &to, Arc::new(SystemClock)).await?;
    println!(
        "root key re-wrapped (version {}): from {} to {}; audited as master_key.rotated",
        done.version, done.from, done.to
    );
    match &to.to_file {
        Some(path) => println!(
            "the vault now opens with {} only: put it in place of master.key (or set KEYHOLD_MASTER_KEY from it) before the next start; keep the old key only as long as backups made before now need it",
            path.display()
        ),
        None => println!(
            "the vault now opens with that token key only: start with --master-key-pkcs11 and --pkcs11-key-label set to it; remove master.key (and the old token key) once no backup made before now needs it"
        ),
    }
    Ok(())
}

/// `keyhold-server admin reset-2fa EMAIL`: says on stdout what it did.
async fn reset_2fa(config: keyhold_server::config::Config, email: &str) -> anyhow::Result<()> {
    use keyhold_vault::recovery::OperatorReset;
    match keyhold_server::admin::reset_2fa(config, email, Arc::new(SystemClock)).await? {
        OperatorReset::Reset { user_id, tenant_id } => println!(
            "two-factor authentication of {email} (user {user_id}, tenant {tenant_id}) is off: \
             its authenticator and backup codes are removed, every session ended, the change \
             is audited as mfa.reset and a notice was mailed"
        ),
        OperatorReset::AlreadyOff { user_id, tenant_id } => println!(
            "two-factor authentication of {email} (user {user_id}, tenant {tenant_id}) was \
             already off: nothing changed"
        ),
    }
    Ok(())
}

async fn run(config: keyhold_server::config::Config) -> anyhow::Result<()> {
    #[cfg(unix)]
    survive_file_size_limit()?;
    let tls = keyhold_server::prepare_listen(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let scheme = config.scheme();
    let mut config = config;
    if config.public_url.is_none() {
        config.public_url = Some(format!("{scheme}://{addr}"));
    }
    let state = keyhold_server::build_state(config, Arc::new(SystemClock)).await?;
    tracing::info!(%addr, data_dir = %state.config.data_dir.display(), "keyhold-server listening");
    // Printed on stdout so scripts and tests can find the port when listening on :0.
    println!("listening on {scheme}://{addr}");
    keyhold_server::serve(state, listener, tls, shutdown_signal()).await?;
    tracing::info!("stopped cleanly");
    Ok(())
}
