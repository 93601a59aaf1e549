//! keyhold-server: the vault's HTTP API over accounts, sessions, two-factor authentication,
//! the audit log and (in later modules) keys, tokens, encrypted secrets and approvals.
//!
//! `build_state` + `http::router` give the whole app, so tests can serve it on an
//! ephemeral port with their own clock; `main.rs` adds flags, logging and signals.

pub mod admin;
pub mod backup;
pub mod config;
pub mod custody;
pub mod database;
pub mod error;
pub mod health;
pub mod http;
pub mod metrics;
pub mod rate_limit;
pub mod state;
pub mod tls;
pub mod webhook_client;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use keyhold_vault::clock::Clock;
use keyhold_vault::keys::{self, Keys};
use keyhold_vault::store::postgres;
use keyhold_vault::store::sqlite::SqliteStore;
use keyhold_vault::store::{FailureStore, Store};
use keyhold_vault::{Vault, crypto, envelope, kek_rotation, live, mail, passwords};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::state::{AppState, SharedState};

/// Open the store, load keys and build everything handlers share.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<SharedState> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    if config.database_url.is_some() {
        require_master_key(&config)?;
    }
    let master = custody::configured_master(&config)?;
    let vault_metrics = keyhold_vault::metrics::VaultMetrics::new();
    let (store, shared_failures) = open_store(&config, vault_metrics.store.clone()).await?;
    let keys = custody::open_keys(&config, master, store.as_ref(), clock.now()).await?;
    // By default one core is left to everything else, so a flood of sign-ins cannot take
    // every core from agent reads (docs/PERFORMANCE.md, login flood).
    let concurrency = config.hash_concurrency.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1))
            .max(1)
    });
    let hasher = passwords::PasswordHasher::new(
        keys.pepper.clone(),
        concurrency,
        config.hash_queue,
        vault_metrics.password_hashes.clone(),
    )
    .await?;
    let mailer = mail::Mailer::new(
        &config.mail_from,
        config.smtp_url.as_deref(),
        config.outbox_dir(),
    )?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{}://{}", config.scheme(), config.listen))
        .trim_end_matches('/')
        .to_owned();
    let per_minute = config.login_failures_per_minute;
    let rate_limits = rate_limit::RateLimits::new(config.rate_limits(), clock.clone());
    let http_metrics = metrics::Metrics::new(&vault_metrics);
    let login_failures_by_account = failure_limiter(&shared_failures, &keys, "account", per_minute);
    let login_failures_by_ip = failure_limiter(&shared_failures, &keys, "ip", per_minute);
    let vault = Vault {
        store,
        keys,
        hasher,
        mailer,
        clock,
        metrics: vault_metrics,
        login_failures_by_account,
        login_failures_by_ip,
        public_url,
        keks: crypto::KekCache::default(),
        feeds: live::FeedSlots::default(),
        courier: courier(&config)?,
        detector: keyhold_vault::detect::Detector::default(),
    };
    let vault = Arc::new(vault);
    envelope::forget_rotated_keks(&vault);
    let state = Arc::new(AppState {
        config,
        vault,
        http_metrics,
        rate_limits,
    });
    spawn_rate_limit_sweeper(&state);
    Ok(state)
}

/// How webhooks and mail leave: the HTTP client with its address rules, and the worker's
/// pace. A claim's lease outlasts the longest request, so a live worker keeps its messages.
fn courier(config: &Config) -> anyhow::Result<keyhold_vault::events::Courier> {
    let timeout = std::time::Duration::from_secs(config.webhook_timeout_secs.max(1));
    let client = webhook_client::WebhookClient::new(timeout, config.allow_private_webhooks)?;
    Ok(keyhold_vault::events::Courier {
        poster: Arc::new(client),
        allow_private: config.allow_private_webhooks,
        poll: std::time::Duration::from_millis(config.outbox_poll_ms.max(10)),
        lease: chrono::Duration::from_std(timeout * 2)? + chrono::Duration::seconds(5),
    })
}

/// Failed sign-ins counted in the database when it is shared by replicas, else in memory.
fn failure_limiter(
    shared: &Option<Arc<dyn FailureStore>>,
    keys: &Keys,
    label: &'static str,
    per_minute: u32,
) -> keyhold_vault::throttle::FailureLimiter {
    match shared {
        Some(store) => keyhold_vault::throttle::FailureLimiter::shared(
            store.clone(),
            keys.clone(),
            label,
            per_minute,
            chrono::Duration::minutes(1),
        ),
        None => Vault::new_limiter(per_minute),
    }
}

/// The SQLite file in the data dir, or PostgreSQL when `--database` names it (after applying
/// missing migrations with `--migrate-database`, when given). With PostgreSQL, the failure
/// counters are the database's too (shared by every replica).
pub async fn open_store(
    config: &Config,
    observed: keyhold_vault::store::metrics::StoreMetrics,
) -> anyhow::Result<(Arc<dyn Store>, Option<Arc<dyn FailureStore>>)> {
    let Some(url) = &config.database_url else {
        let db = config.db_path();
        let store = tokio::task::spawn_blocking(move || SqliteStore::open_observed(&db, observed))
            .await??;
        return Ok((Arc::new(store), None));
    };
    if let Some(owner) = &config.migrate_database_url {
        let applied = database::migrate(owner.expose()).await?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied PostgreSQL schema migrations");
        }
    }
    let options = postgres::PgOptions {
        max_connections: config.database_pool.max(1),
        metrics: observed,
        ..postgres::PgOptions::default()
    };
    let store = Arc::new(postgres::PostgresStore::connect(url.expose(), options).await?);
    Ok((store.clone(), Some(store)))
}

/// With PostgreSQL every replica must hold the same master key, so none is ever
/// generated: it must be given (environment or key file), found in the keyring, or be in
/// the PKCS#11 token every replica reaches.
pub(crate) fn require_master_key(config: &Config) -> anyhow::Result<()> {
    if std::env::var_os(keys::MASTER_KEY_ENV).is_none()
        && !config.master_key_keyring
        && config.master_key_pkcs11.is_none()
        && !config.data_dir.join("master.key").exists()
    {
        anyhow::bail!(
            "no master key: with --database every replica needs the same one, so it is never generated; set {} or put master.key in {}",
            keys::MASTER_KEY_ENV,
            config.data_dir.display()
        );
    }
    Ok(())
}

/// Every minute, forget rate-limit keys whose buckets have refilled, so the keyed state
/// stays bounded by the last minute's distinct clients. Stops with the state.
fn spawn_rate_limit_sweeper(state: &SharedState) {
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(st) = weak.upgrade() else { break };
            let tracked = st.rate_limits.sweep();
            tracing::debug!(tracked, "rate-limit keys swept");
        }
    });
}

/// `keyhold-server kek rotate`: a new KEK for every tenant that has one (or just `tenant`),
/// re-wrapping every data key, each tenant in its own audited transaction. Works on the
/// database file directly, so it can run beside a serving server.
pub async fn rotate_keks(
    config: &Config,
    tenant: Option<String>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Vec<(String, keyhold_core::api::KekRotated)>> {
    let db = config.db_path();
    if config.database_url.is_none() && !db.exists() {
        anyhow::bail!("no database at {}", db.display());
    }
    require_master_key(config)?;
    let master = custody::configured_master(config)?;
    let (store, _) = open_store(config, Default::default()).await?;
    let keys = custody::open_keys(config, master, store.as_ref(), clock.now()).await?;
    let cache = crypto::KekCache::default();
    let vault = envelope::Envelope {
        store: store.as_ref(),
        keys: &keys,
        cache: &cache,
    };
    let tenants = match tenant {
        Some(t) => vec![t],
        None => store.kek_tenants().await?,
    };
    let mut done = Vec::new();
    for t in tenants {
        let r =
            kek_rotation::rotate_as_system(&vault, &t, clock.now(), "keyhold-server kek rotate")
                .await
                .map_err(|e| anyhow::anyhow!("tenant {t}: {e:#}"))?;
        done.push((t, r));
    }
    store.close().await?;
    Ok(done)
}

/// Plain HTTP is allowed only on loopback (security invariant 8), unless the operator
/// says `--insecure-http` (a TLS-terminating proxy on a private network).
pub fn check_listen_addr(config: &Config) -> anyhow::Result<()> {
    let addr = config.listen;
    if config.tls_files().is_some() || addr.ip().is_loopback() {
        return Ok(());
    }
    if config.insecure_http {
        tracing::warn!(%addr, "serving plain HTTP on a non-loopback address (--insecure-http): credentials cross the network unencrypted");
        return Ok(());
    }
    anyhow::bail!(
        "refusing to serve plain HTTP on {addr}: only loopback addresses may listen without TLS; \
         give --tls-cert and --tls-key to serve HTTPS, or --insecure-http if a TLS-terminating \
         proxy on a private network sits in front"
    )
}

/// Check the listen address and load the TLS files, before anything is opened.
pub fn prepare_listen(config: &Config) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    check_listen_addr(config)?;
    config
        .tls_files()
        .map(|(cert, key)| tls::server_config(cert, key))
        .transpose()
}

/// Serve until `shutdown` resolves; in-flight requests finish, then the store is closed.
/// With `tls`, connections are HTTPS (handshakes run per connection, not in the accept loop),
/// and on Unix a SIGHUP reloads the certificate and key files (`tls::reload_on_hangup`).
pub async fn serve(
    state: SharedState,
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = state.store.clone();
    // Deliveries stop with the server; what is in flight is left leased, and the next
    // start (or another replica) delivers it again once the lease runs out.
    let deliveries = keyhold_vault::events::worker::spawn(&state.vault);
    let kek_schedule = state.config.kek_rotate_every.map(|every| {
        let check = std::time::Duration::from_millis(state.config.kek_rotate_check_ms.max(10));
        kek_rotation::spawn_schedule(&state.vault, every, check)
    });
    // Refreshes rules and blocks from the store, and checks the audit chains on schedule.
    let detection = keyhold_vault::detect::schedule::spawn(&state.vault);
    let tls_files = state
        .config
        .tls_files()
        .map(|(cert, key)| (cert.to_owned(), key.to_owned()));
    let handshakes = state.http_metrics.tls_handshakes.clone();
    let app = http::router(state);
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => serve_plain(listener, make, shutdown).await?,
        Some(config) => {
            let handle = axum_server::Handle::new();
            let on_signal = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                on_signal.graceful_shutdown(Some(http::SHUTDOWN_GRACE));
            });
            let config = axum_server::tls_rustls::RustlsConfig::from_config(config);
            #[cfg(unix)]
            if let Some((cert, key)) = tls_files {
                tls::reload_on_hangup(config.clone(), cert, key)?;
            }
            #[cfg(not(unix))]
            let _ = tls_files;
            let acceptor = tls::CountedAcceptor {
                inner: axum_server::tls_rustls::RustlsAcceptor::new(config),
                handshakes,
            };
            axum_server::from_tcp(listener.into_std()?)?
                .acceptor(acceptor)
                .handle(handle)
                .serve(make)
                .await
                .context("serving HTTPS")?;
        }
    }
    deliveries.abort();
    if let Some(k) = kek_schedule {
        k.abort();
    }
    detection.abort();
    store.close().await.context("closing the store")?;
    Ok(())
}

/// Plain HTTP until `shutdown`, then in-flight requests get [`http::SHUTDOWN_GRACE`] to
/// finish, as over TLS. Without the bound a live feed (approvals, alerts: a response that
/// never ends by itself) held the shutdown open for as long as its client stayed connected.
async fn serve_plain(
    listener: TcpListener,
    make: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stopping.send(true);
    });
    let mut on_signal = stopped.clone();
    let mut for_grace = stopped;
    let serving = axum::serve(listener, make).with_graceful_shutdown(async move {
        let _ = on_signal.wait_for(|s| *s).await;
    });
    let grace = async move {
        let _ = for_grace.wait_for(|s| *s).await;
        tokio::time::sleep(http::SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = serving => served.context("serving HTTP"),
        () = grace => {
            tracing::warn!("connections still open {:?} after shutdown began; closing them", http::SHUTDOWN_GRACE);
            Ok(())
        }
    }
}

/// A server running in this process, for tests and embedding.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: SharedState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl RunningServer {
    /// Build the app from `config` (its `listen` may use port 0) and start serving.
    pub async fn start(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let tls = prepare_listen(&config)?;
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let mut config = config;
        if config.public_url.is_none() {
            config.public_url = Some(format!("{}://{addr}", config.scheme()));
        }
        let state = build_state(config, clock).await?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(state.clone(), listener, tls, async {
            let _ = rx.await;
        }));
        Ok(Self {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.state.config.scheme(), self.addr)
    }

    /// Stop accepting, let in-flight requests finish, close the store.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(t) => t.await?,
            None => Ok(()),
        }
    }
}
