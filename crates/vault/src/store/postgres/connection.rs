//! Connecting to PostgreSQL: the database URL (with TLS through rustls), the pool the
//! areas borrow connections from, the listener for other replicas' commits, and the checks
//! made before the first request: the schema is current, and the server's role is one that
//! row-level security binds.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client, NoTls, Notification};

use super::appender::Appender;
use super::errors::map_err;
use super::migrate::schema_status;
use super::tls::{DatabaseUrl, Tls};
use crate::store::audit_signals::AuditSignals;
use crate::store::metrics::StoreMetrics;
use crate::store::{Store, StoreResult};

/// Pool sizing and waits. The defaults suit one replica of a small team; each replica
/// holds up to `max_connections` plus one for listening.
#[derive(Clone, Debug)]
pub struct PgOptions {
    pub max_connections: usize,
    /// How long a request waits for a free connection before the store answers `Busy`.
    pub wait: Duration,
    /// Where the group commit (`appender`) reports its commits; the server passes the
    /// ones `/metrics` renders.
    pub metrics: StoreMetrics,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            wait: Duration::from_secs(5),
            metrics: StoreMetrics::new(),
        }
    }
}

/// Opens connections as the URL says, with or without TLS.
pub(crate) struct Connector {
    config: tokio_postgres::Config,
    tls: Tls,
}

/// The notifications of a listening connection; ends when the connection does.
pub(crate) type Notices = tokio::sync::mpsc::Receiver<Result<Notification, tokio_postgres::Error>>;

/// KEK rotations a slow subscriber may fall behind by before it must forget every KEK.
const KEK_NOTICES: usize = 64;

/// Notifications waiting to be handed to the signals; a listener that falls this far
/// behind blocks its own connection (PostgreSQL queues the rest) rather than grow.
const NOTICE_QUEUE: usize = 1024;

impl Connector {
    /// A connection outside the pool, driven by a task of its own that forwards its
    /// notifications (the client's own queries need the connection polled meanwhile).
    pub(crate) async fn connect_listening(&self) -> anyhow::Result<(Client, Notices)> {
        let (tx, rx) = tokio::sync::mpsc::channel(NOTICE_QUEUE);
        let client = match &self.tls {
            Tls::Off => {
                let (client, conn) = self.config.connect(NoTls).await?;
                tokio::spawn(forward(conn, tx));
                client
            }
            Tls::Verify(tls) => {
                let (client, conn) = self.config.connect(tls.clone()).await?;
                tokio::spawn(forward(conn, tx));
                client
            }
        };
        Ok((client, rx))
    }

    /// One plain client outside the pool (migrations, checks), its connection driven by a
    /// task of its own until the client is dropped.
    async fn connect_client(&self) -> anyhow::Result<Client> {
        let client = match &self.tls {
            Tls::Off => {
                let (client, conn) = self.config.connect(NoTls).await?;
                tokio::spawn(conn);
                client
            }
            Tls::Verify(tls) => {
                let (client, conn) = self.config.connect(tls.clone()).await?;
                tokio::spawn(conn);
                client
            }
        };
        Ok(client)
    }

    fn manager(&self) -> Manager {
        let cfg = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        match &self.tls {
            Tls::Off => Manager::from_config(self.config.clone(), NoTls, cfg),
            Tls::Verify(tls) => Manager::from_config(self.config.clone(), tls.clone(), cfg),
        }
    }
}

/// Drive `conn` until it ends, sending each notification (and a final error) to `tx`.
async fn forward<S>(
    mut conn: tokio_postgres::Connection<tokio_postgres::Socket, S>,
    tx: tokio::sync::mpsc::Sender<Result<Notification, tokio_postgres::Error>>,
) where
    S: tokio_postgres::tls::TlsStream + Unpin,
{
    while let Some(message) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
        let sent = match message {
            Ok(AsyncMessage::Notification(n)) => tx.send(Ok(n)).await,
            Ok(_) => Ok(()),
            Err(e) => tx.send(Err(e)).await,
        };
        if sent.is_err() {
            return;
        }
    }
}

/// The PostgreSQL store. Every area takes a pooled connection per call and acts in a
/// transaction with its tenant set (`tx`).
pub struct PostgresStore {
    pub(crate) pool: Pool,
    /// Wakes this replica's live feeds on any replica's commit (fed by `listen`).
    pub(crate) audit_signals: Arc<AuditSignals>,
    /// Tenants whose KEKs any replica rotated ("" for "maybe any": a reconnect).
    kek_rotations: broadcast::Sender<String>,
    listener: JoinHandle<()>,
    /// Group commit of the events with no write of their own (`appender`).
    pub(crate) appender: Appender,
}

impl PostgresStore {
    /// Connect as the server's role, check that the schema is current and that row-level
    /// security binds the role, and start listening for other replicas' commits.
    pub async fn connect(url: &str, options: PgOptions) -> anyhow::Result<Self> {
        Self::open(url, options, true).await
    }

    /// Connect as the schema's owner, for `migrate-store`'s check of its own copy only (the
    /// owner is bound by row-level security too: FORCE). Never used to serve.
    pub(crate) async fn connect_for_copy(url: &str) -> anyhow::Result<Self> {
        Self::open(url, PgOptions::default(), false).await
    }

    async fn open(url: &str, options: PgOptions, serving: bool) -> anyhow::Result<Self> {
        let url = DatabaseUrl::parse(url)?;
        let connector = Arc::new(Connector {
            config: url.config,
            tls: url.tls,
        });
        let pool = Pool::builder(connector.manager())
            .max_size(options.max_connections)
            .wait_timeout(Some(options.wait))
            .create_timeout(Some(options.wait))
            .runtime(Runtime::Tokio1)
            .build()
            .context("building the connection pool")?;
        let client = pool.get().await.context("connecting to the database")?;
        if serving {
            check_role(&client).await?;
        }
        let status = schema_status(&**client).await?;
        if !status.is_current() {
            bail!(
                "the database schema is not current ({status:?}): run `keyhold-server migrate` as the schema's owner first"
            );
        }
        let head = audit_head(&client).await?;
        drop(client);
        let audit_signals = Arc::new(AuditSignals::new(head));
        let (kek_rotations, _) = broadcast::channel(KEK_NOTICES);
        let (listener, listening) =
            super::listen::spawn(connector, audit_signals.clone(), kek_rotations.clone());
        if tokio::time::timeout(options.wait, listening).await.is_err() {
            listener.abort();
            bail!(
                "could not LISTEN for other replicas' commits within {:?}",
                options.wait
            );
        }
        let appender = Appender::start(pool.clone(), options.metrics);
        Ok(Self {
            pool,
            audit_signals,
            kek_rotations,
            listener,
            appender,
        })
    }
}

/// Connect to `url` (TLS as it says) for a one-off job: the migrations, or `migrate --check`.
pub async fn connect_once(url: &str) -> anyhow::Result<Client> {
    let url = DatabaseUrl::parse(url)?;
    Connector {
        config: url.config,
        tls: url.tls,
    }
    .connect_client()
    .await
    .context("connecting to the database")
}

/// Refuse a role that row-level security would not bind: a superuser, one with
/// BYPASSRLS, or one that owns any table (an owner could turn the policies off).
async fn check_role(client: &Client) -> anyhow::Result<()> {
    let row = client
        .query_one(
            "SELECT r.rolsuper OR r.rolbypassrls,
                    EXISTS (SELECT 1 FROM pg_class c
                            WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p'))
             FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .await
        .context("checking the server's database role")?;
    let (bypasses, owns): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
    if bypasses {
        bail!(
            "the database role bypasses row-level security (superuser or BYPASSRLS): connect as keyhold_app (docs/operations.md)"
        );
    }
    if owns {
        bail!(
            "the database role owns tables and could turn row-level security off: connect as keyhold_app, not the owner (docs/operations.md)"
        );
    }
    Ok(())
}

/// The newest audit event id handed out (the sequence's position: it names no tenant).
pub(crate) async fn audit_head(client: &Client) -> anyhow::Result<i64> {
    let row = client
        .query_one(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM audit_events_id_seq",
            &[],
        )
        .await
        .context("reading the audit log's head")?;
    Ok(row.try_get(0)?)
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
        self.appender.stop();
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        let conn = self.conn().await?;
        conn.simple_query("SELECT 1").await.map_err(map_err)?;
        Ok(())
    }

    async fn close(&self) -> StoreResult<()> {
        self.listener.abort();
        self.appender.stop();
        self.pool.close();
        Ok(())
    }

    fn kek_rotations(&self) -> Option<broadcast::Receiver<String>> {
        Some(self.kek_rotations.subscribe())
    }
}
