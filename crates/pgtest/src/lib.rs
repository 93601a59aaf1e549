//! A throwaway PostgreSQL cluster for tests, from Debian's `postgresql` package (installed
//! by scripts/install-deps.sh, part of `make test`): `initdb` in a temporary directory,
//! started with `pg_ctl` on a free loopback port with its unix socket in that directory,
//! stopped (`-m immediate`) and removed on drop. Nothing depends on a system service: the
//! package's own cluster on 5432 is never touched.
//!
//! `initdb` refuses to run as root, so as root every PostgreSQL binary runs as the
//! `postgres` user (`runuser`) in a directory chowned to it; as anyone else, as that user.
//! The cluster runs with `fsync=off`: tests kill replicas, never the machine, and the
//! operating system keeps what PostgreSQL wrote.
//!
//! A test process killed before its drop leaves its postmaster running; the directory is
//! in the system temp dir, named `keyhold-pg-*`.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;
use tokio::process::Command;
use tokio_postgres::{Client, NoTls};

/// Where Debian installs each major version's binaries (not on PATH).
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// A running cluster of our own. Dropping it stops the server and removes its files.
pub struct PgCluster {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    /// Whether `pg_ctl start` succeeded, so drop knows there is a server to stop.
    running: bool,
    /// How long `initdb` and `pg_ctl start` took, for the record.
    pub started_in: Duration,
}

/// A database prepared for Keyhold: the roles of `roles.sql` exist and own what they
/// should; no migration has run yet.
pub struct KeyholdDb {
    pub name: String,
    /// The schema owner, who runs migrations.
    pub owner_url: String,
    /// The server's role: owns nothing, cannot bypass row-level security.
    pub app_url: String,
    /// The cluster's superuser, for checks no Keyhold role could make.
    pub admin_url: String,
}

impl PgCluster {
    /// Create and start a cluster. Tries a few ports: another process may take the free
    /// port between our probe and the server's bind.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with_tls(None).await
    }

    /// [`Self::start`], serving TLS as well with this PEM certificate chain and key (for
    /// tests of the client's verification); plain connections stay accepted.
    pub async fn start_with_tls(tls: Option<(&str, &str)>) -> anyhow::Result<Self> {
        let started = Instant::now();
        let bin = find_bin()?;
        let as_postgres = running_as_root()?;
        let dir = tempfile::Builder::new().prefix("keyhold-pg-").tempdir()?;
        if as_postgres {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()))
            .await?;
        }
        let mut cluster = Self {
            dir,
            bin,
            port: 0,
            as_postgres,
            running: false,
            started_in: Duration::ZERO,
        };
        cluster.initdb().await?;
        if let Some((cert, key)) = tls {
            cluster.install_tls(cert, key).await?;
        }
        let mut last = None;
        for _ in 0..3 {
            cluster.port = free_port()?;
            match cluster.pg_ctl_start().await {
                Ok(()) => {
                    cluster.running = true;
                    cluster.started_in = started.elapsed();
                    return Ok(cluster);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no attempt made")))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The unix socket's directory (`host=` for libpq clients).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A URL for `role` on database `db`, over loopback TCP (trust authentication).
    pub fn url(&self, role: &str, db: &str) -> String {
        format!(
            "postgres://{role}@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// Create an empty database.
    pub async fn create_database(&self, name: &str) -> anyhow::Result<()> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            bail!("database names here are lowercase letters and underscores: {name:?}");
        }
        let admin = connect(&self.url("postgres", "postgres")).await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("create database {name}"))?;
        Ok(())
    }

    /// Create a database and run Keyhold's roles script (`roles_sql`, the vault's
    /// `store::postgres::ROLES_SQL`) in it, as a superuser would.
    pub async fn keyhold_database(&self, name: &str, roles_sql: &str) -> anyhow::Result<KeyholdDb> {
        self.create_database(name).await?;
        let admin_url = self.url("postgres", name);
        connect(&admin_url)
            .await?
            .batch_execute(roles_sql)
            .await
            .context("roles.sql")?;
        Ok(KeyholdDb {
            name: name.to_owned(),
            owner_url: self.url("keyhold_owner", name),
            app_url: self.url("keyhold_app", name),
            admin_url,
        })
    }

    /// Write the certificate and key into the data directory, owned by the server's user
    /// and private to it (PostgreSQL refuses a key others can read), and turn TLS on.
    async fn install_tls(&self, cert: &str, key: &str) -> anyhow::Result<()> {
        let data = self.data();
        fs::write(data.join("server.crt"), cert)?;
        fs::write(data.join("server.key"), key)?;
        if self.as_postgres {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(data.join("server.crt"))
                .arg(data.join("server.key")))
            .await?;
        }
        run(Command::new("chmod")
            .arg("600")
            .arg(data.join("server.key")))
        .await?;
        let mut conf = fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))?;
        std::io::Write::write_all(&mut conf, b"\nssl = on\n")?;
        Ok(())
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A PostgreSQL binary, as the `postgres` user when we are root.
    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    async fn initdb(&self) -> anyhow::Result<()> {
        let mut c = self.command("initdb");
        c.arg("-D").arg(self.data()).args([
            "--auth=trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]);
        run(&mut c).await.context("initdb")
    }

    async fn pg_ctl_start(&self) -> anyhow::Result<()> {
        let log = self.dir.path().join("log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let mut c = self.command("pg_ctl");
        c.arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        if let Err(e) = run(&mut c).await {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            bail!(
                "{e:#}; server log (last lines, newest first):\n{}",
                tail.join("\n")
            );
        }
        Ok(())
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        let exe = self.bin.join("pg_ctl");
        let mut c = if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        };
        let stopped = c
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if !stopped.is_ok_and(|s| s.success()) {
            eprintln!(
                "PgCluster: pg_ctl stop failed for {}",
                self.data().display()
            );
        }
    }
}

/// Connect and drive the connection on the runtime; the client errors once it ends.
pub async fn connect(url: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .with_context(|| format!("connect to {url}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// The newest version's bin directory under /usr/lib/postgresql.
fn find_bin() -> anyhow::Result<PathBuf> {
    let newest = fs::read_dir(DEBIAN_ROOT)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((version, bin))
        })
        .max_by_key(|(v, _)| *v);
    match newest {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL under {DEBIAN_ROOT}/*/bin: run scripts/install-deps.sh \
             (it installs Debian's postgresql package)"
        ),
    }
}

/// `/proc/self` belongs to the process's effective user.
fn running_as_root() -> anyhow::Result<bool> {
    Ok(fs::metadata("/proc/self")?.uid() == 0)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn run(c: &mut Command) -> anyhow::Result<()> {
    let out = c.output().await.context("spawn")?;
    if !out.status.success() {
        bail!(
            "{:?} failed ({}): {}",
            c.as_std(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
