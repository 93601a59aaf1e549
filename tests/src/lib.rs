//! Shared harness for the end-to-end tests: a real keyhold-server on an ephemeral loopback
//! port with a real SQLite file in a temporary directory, driven over HTTP.
//!
//! [`TestServer`] runs the server in this process with a [`ManualClock`] so tests can move
//! time (session expiry, link expiry, TOTP steps); [`ServerProcess`] runs the real binary
//! for what only a process shows (signals, restarts, logs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod crash;
pub mod db;
pub mod leaks;
pub mod mailbox;
pub mod receiver;
pub mod softhsm;

/// The throwaway PostgreSQL cluster (crates/pgtest), shared with the store conformance suite.
pub use keyhold_pgtest as postgres;
pub use mailbox::{decode_quoted_printable, find_mailed_link_in, mailed_link_in, outbox_in};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use keyhold_client::{Client, LoginOutcome};
use keyhold_core::Sensitive;
use keyhold_core::api::SignupRequest;
use keyhold_server::RunningServer;
use keyhold_server::config::{Config, SecretUrl};
use keyhold_vault::clock::ManualClock;
use tempfile::TempDir;

/// A password the policy accepts (zxcvbn 4, no email parts).
pub const STRONG_PASSWORD: &str = "violet anchor quietly juggles seven kites";
/// Another accepted password, for changes.
pub const OTHER_STRONG_PASSWORD: &str = "marble otters negotiate crooked lanterns";

/// A fixed, realistic start time, so tests do not depend on the wall clock.
pub fn test_epoch() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// An email address no other test in this run uses.
pub fn unique_email(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{tag}.{n}.{}@example.com", std::process::id())
}

pub struct TestServer {
    pub server: RunningServer,
    pub clock: Arc<ManualClock>,
    pub dir: TempDir,
    /// The throwaway PostgreSQL behind the server when the suite runs on PostgreSQL
    /// ([`TEST_STORE_ENV`]); dropped after the server.
    pub pg: Option<postgres::PgCluster>,
}

/// Set to `postgres` to run the API suite on PostgreSQL: each [`TestServer`] then gets a
/// throwaway cluster of its own, migrated by the server itself (`--migrate-database`) and
/// served as the role row-level security binds. `make test` runs the suite both ways.
pub const TEST_STORE_ENV: &str = "KEYHOLD_TEST_STORE";

/// Whether this run's servers use PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(TEST_STORE_ENV).is_ok_and(|v| v == "postgres")
}

/// A throwaway cluster with a Keyhold database, and the server pointed at it; the data dir
/// gets a master key file, since the server never generates one for PostgreSQL.
async fn use_postgres(config: &mut Config) -> postgres::PgCluster {
    let cluster = postgres::PgCluster::start().await.unwrap();
    let db = cluster
        .keyhold_database(db::PG_DATABASE, keyhold_vault::store::postgres::ROLES_SQL)
        .await
        .unwrap();
    config.database_url = Some(db.app_url.into());
    config.migrate_database_url = Some(db.owner_url.into());
    write_master_key(&config.data_dir);
    cluster
}

/// A random master key file, private to its owner, as the server would generate it.
pub fn write_master_key(data_dir: &Path) {
    use base64::Engine;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let key: [u8; 32] = rand::random();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(data_dir.join("master.key"))
        .unwrap();
    writeln!(
        f,
        "{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
    .unwrap();
}

/// A signed-up, signed-in person.
pub struct Person {
    pub email: String,
    pub password: String,
    pub client: Client,
    pub user_id: String,
    pub tenant_id: String,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_at(test_epoch(), adjust).await
    }

    /// With the test clock starting at `now`: the desktop test starts it at the wall
    /// clock so that "asked 2 minutes ago" and "58m left" read as they would for people.
    pub async fn start_at(now: DateTime<Utc>, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(on_postgres(), now, adjust).await
    }

    /// On SQLite whatever [`TEST_STORE_ENV`] says: for the tests of what only SQLite has
    /// (its checkpointer), which PostgreSQL covers with tests of its own.
    pub async fn start_on_sqlite() -> Self {
        Self::start_on(false, test_epoch(), |_| {}).await
    }

    async fn start_on(
        postgres: bool,
        now: DateTime<Utc>,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_data_dir(dir.path().to_path_buf());
        let pg = if postgres {
            Some(use_postgres(&mut config).await)
        } else {
            None
        };
        adjust(&mut config);
        let clock = Arc::new(ManualClock::new(now));
        let server = RunningServer::start(config, clock.clone()).await.unwrap();
        Self {
            server,
            clock,
            dir,
            pg,
        }
    }

    /// Whole days the test clock has moved since [`test_epoch`].
    pub fn clock_elapsed_days(&self) -> i64 {
        use keyhold_vault::clock::Clock;
        (self.clock.now() - test_epoch()).num_days()
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// An unauthenticated client.
    pub fn client(&self) -> Client {
        Client::new(&self.url()).unwrap()
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("keyhold.db")
    }

    pub async fn signup(&self, email: &str, password: &str) -> keyhold_core::api::SignupResponse {
        self.client()
            .signup(&SignupRequest {
                email: email.to_owned(),
                password: Sensitive::new(password.to_owned()),
                display_name: None,
                invitation: None,
            })
            .await
            .unwrap()
    }

    /// Sign up a new person with [`STRONG_PASSWORD`] and sign them in.
    pub async fn person(&self, tag: &str) -> Person {
        let email = unique_email(tag);
        let created = self.signup(&email, STRONG_PASSWORD).await;
        let client = self.login(&email, STRONG_PASSWORD).await;
        Person {
            email,
            password: STRONG_PASSWORD.to_owned(),
            client,
            user_id: created.user.id,
            tenant_id: created.tenant.id,
        }
    }

    /// Sign in (no 2FA) and return an authenticated client.
    pub async fn login(&self, email: &str, password: &str) -> Client {
        match self.client().login(email, password).await.unwrap() {
            LoginOutcome::Session(s) => self.client().with_token(s.session_token.expose().clone()),
            LoginOutcome::MfaRequired { .. } => panic!("unexpected 2FA step for {email}"),
        }
    }

    /// Every message in the outbox folder, oldest first, as raw RFC 5322 text, once the
    /// mail due now has left the durable outbox (it is delivered in the background).
    pub async fn outbox(&self) -> Vec<String> {
        keyhold_vault::events::worker::settle(
            &self.server.state.vault,
            std::time::Duration::from_secs(10),
        )
        .await
        .unwrap();
        outbox_in(self.dir.path())
    }

    /// The newest link to `path` (e.g. `/verify-email`) mailed to `to`, with its query.
    ///
    /// Waits up to 10 s: some mail is queued off the request path (a password reset answers
    /// 202 before its link is written), so an empty outbox may only mean "not yet".
    pub async fn mailed_link(&self, to: &str, path: &str) -> Option<String> {
        let start = std::time::Instant::now();
        loop {
            let found = self.mailed_link_now(to, path).await;
            if found.is_some() || start.elapsed() > std::time::Duration::from_secs(10) {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// [`Self::mailed_link`] as the outbox stands once settled, without waiting for mail
    /// still to be queued (to check that none was sent).
    pub async fn mailed_link_now(&self, to: &str, path: &str) -> Option<String> {
        self.outbox().await;
        find_mailed_link_in(self.dir.path(), &self.url(), to, path)
    }

    /// The value of `token=` in the newest `path` link mailed to `to`.
    pub async fn mailed_token(&self, to: &str, path: &str) -> Option<String> {
        let link = self.mailed_link(to, path).await?;
        link.split("token=").nth(1).map(|t| t.to_owned())
    }

    pub async fn stop(self) {
        self.server.stop().await.unwrap();
    }

    /// The environment that points another `keyhold-server` process (`kek rotate`) at this
    /// server's database: nothing on SQLite (the data dir says it), the server's URL on
    /// PostgreSQL.
    pub fn database_env(&self) -> Vec<(&'static str, String)> {
        let url = self.server.state.config.database_url.as_ref();
        url.map(|u| ("KEYHOLD_DATABASE_URL", u.expose().to_owned()))
            .into_iter()
            .collect()
    }

    /// Stop the server and keep its data (directory, cluster) for another on it.
    pub async fn stop_keeping_data(self) -> StoppedServer {
        let config = &self.server.state.config;
        let urls = (
            config.database_url.clone(),
            config.migrate_database_url.clone(),
        );
        self.server.stop().await.unwrap();
        StoppedServer {
            dir: self.dir,
            pg: self.pg,
            urls,
        }
    }
}

/// The data a stopped [`TestServer`] leaves: its directory and, on PostgreSQL, its cluster
/// and the URLs the server used.
pub struct StoppedServer {
    pub dir: TempDir,
    pub pg: Option<postgres::PgCluster>,
    urls: (Option<SecretUrl>, Option<SecretUrl>),
}

impl StoppedServer {
    pub async fn admin_db(&self) -> db::AdminDb {
        db::AdminDb::open(self.dir.path(), self.pg.as_ref()).await
    }

    /// A new server on the same data, every cache cold, its clock at [`test_epoch`].
    pub async fn start(self, adjust: impl FnOnce(&mut Config)) -> TestServer {
        self.start_at(test_epoch(), adjust).await
    }

    /// [`Self::start`] with the clock at `now`: a restart the clients should not notice
    /// (the desktop test's server that goes away and comes back, on the same port).
    pub async fn start_at(
        self,
        now: DateTime<Utc>,
        adjust: impl FnOnce(&mut Config),
    ) -> TestServer {
        let mut config = Config::for_data_dir(self.dir.path().to_path_buf());
        (config.database_url, config.migrate_database_url) = self.urls;
        adjust(&mut config);
        let clock = Arc::new(ManualClock::new(now));
        let server = RunningServer::start(config, clock.clone()).await.unwrap();
        TestServer {
            server,
            clock,
            dir: self.dir,
            pg: self.pg,
        }
    }
}

/// The real `keyhold-server` binary in a child process.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
    pub log: Arc<std::sync::Mutex<String>>,
}

/// Where cargo put this workspace's binaries (respects `CARGO_TARGET_DIR`).
pub fn target_bin(name: &str) -> PathBuf {
    // The test binary lives in <target>/debug/deps/; binaries sit one level up.
    let exe = std::env::current_exe().unwrap();
    let debug_dir = exe.parent().and_then(Path::parent).unwrap();
    let path = debug_dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (make test does)",
        path.display()
    );
    path
}

impl ServerProcess {
    /// Start `keyhold-server --data-dir DIR --listen 127.0.0.1:0` and wait until it listens.
    pub fn spawn(data_dir: &Path, extra_env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(target_bin("keyhold-server"));
        cmd.arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env_remove("KEYHOLD_MASTER_KEY")
            .env("KEYHOLD_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let log = Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut l = log2.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("listening on ") => {
                    break l.trim_start_matches("listening on ").to_owned();
                }
                Some(_) => continue,
                None => panic!("server exited before listening: {}", log.lock().unwrap()),
            }
        };
        let log3 = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut l = log3.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        Self { child, url, log }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url).unwrap()
    }

    /// Sign up a new person with [`STRONG_PASSWORD`] (no 2FA) and sign them in: their
    /// email and session token.
    pub async fn signed_up(&self, tag: &str) -> (String, String) {
        let email = unique_email(tag);
        let c = self.client();
        c.signup(&SignupRequest {
            email: email.clone(),
            password: Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: None,
            invitation: None,
        })
        .await
        .unwrap();
        match c.login(&email, STRONG_PASSWORD).await.unwrap() {
            LoginOutcome::Session(s) => (email, s.session_token.expose().clone()),
            LoginOutcome::MfaRequired { .. } => panic!("unexpected 2FA step for {email}"),
        }
    }

    /// Send SIGTERM and wait for the exit status.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let log = self.log.lock().unwrap().clone();
        (status, log)
    }

    /// Send SIGKILL: no shutdown hook runs, in-flight requests are cut off mid-way, as in
    /// a power cut of the process. Returns the log written until then.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        self.log_text()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The code `oathtool --totp -b` (Debian package oathtool) computes for `secret` at `at`.
/// An independent RFC 6238 implementation, so tests never check the server against itself.
pub fn oathtool(secret: &str, at: DateTime<Utc>) -> String {
    let now = at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let out = Command::new("oathtool")
        .args(["--totp", "-b", "--now", &now, secret])
        .output()
        .unwrap_or_else(|e| {
            panic!("`oathtool` could not be run ({e}): install the Debian package `oathtool`")
        });
    assert!(
        out.status.success(),
        "`oathtool` failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(code.len(), 6, "oathtool printed {code:?}");
    code
}
