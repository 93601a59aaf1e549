//! Crash safety: SIGKILL the real server while a burst of concurrent secret writes is in
//! flight, restart it on the same data directory and master key, and check that nothing
//! acknowledged was lost, nothing was half applied and the database is sound.
//!
//! Used by the short test in `make test` (tests/tests/api/crash.rs, 2 rounds) and by the
//! full run (`KEYHOLD_CRASH_ROUNDS=20`, see docs/reliability.md).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use keyhold_client::Client;
use keyhold_core::api::{AuditQuery, CreateKeyRequest, IssueTokenRequest};
use keyhold_core::path::SecretPath;
use keyhold_core::scope::Scope;
use rand::Rng;
use tempfile::TempDir;

use crate::ServerProcess;

/// How one round loads the server.
#[derive(Clone, Copy, Debug)]
pub struct CrashPlan {
    /// Concurrent writes fired at once.
    pub writes: usize,
    /// Paths that receive many writes each, so versions race on one secret.
    pub hot_paths: usize,
    /// How many of `writes` go to the hot paths.
    pub hot_writes: usize,
}

impl Default for CrashPlan {
    fn default() -> Self {
        Self {
            writes: 1000,
            hot_paths: 20,
            hot_writes: 200,
        }
    }
}

/// What one round saw. `acknowledged + refused + cut_off == writes`.
#[derive(Clone, Debug)]
pub struct RoundReport {
    pub round: usize,
    /// Acknowledgements awaited before the SIGKILL.
    pub kill_after: usize,
    /// Writes answered 2xx.
    pub acknowledged: usize,
    /// Writes answered with an error status (none expected).
    pub refused: usize,
    /// Writes whose answer never came: the kill cut them off.
    pub cut_off: usize,
    /// Versions found after the restart, each read back and checked.
    pub versions: usize,
    /// Cut-off writes that had committed before the kill (allowed: their fate is unknown
    /// to the client, but they must be whole).
    pub landed_unacknowledged: usize,
    pub elapsed: Duration,
}

impl fmt::Display for RoundReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "round {:2}: killed after {:4} acks; acknowledged {:4}, refused {}, cut off {:4}; \
             versions after restart {:4} (landed unacknowledged {:3}); {:.1}s",
            self.round,
            self.kill_after,
            self.acknowledged,
            self.refused,
            self.cut_off,
            self.versions,
            self.landed_unacknowledged,
            self.elapsed.as_secs_f64()
        )
    }
}

/// How a write ended, as the client saw it.
enum Fate {
    Acked(u32),
    Refused(u16),
    CutOff,
}

struct Write {
    path: SecretPath,
    value: String,
}

/// One data directory, one account, one agent key and token, and the server process that
/// is killed and restarted round after round.
pub struct CrashHarness {
    dir: TempDir,
    server: Option<ServerProcess>,
    /// The session survives restarts (sessions are stored), so it is signed in once.
    session: String,
    key: String,
    token: String,
    plan: CrashPlan,
    rounds_done: usize,
}

/// The burst of writes measures crash safety, not the per-key and per-session budgets.
const UNLIMITED: &[(&str, &str)] = &[
    ("KEYHOLD_RATE_LIMIT_AGENT", "0"),
    ("KEYHOLD_RATE_LIMIT_SESSION", "0"),
];

impl CrashHarness {
    pub async fn start(plan: CrashPlan) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = ServerProcess::spawn(dir.path(), UNLIMITED);
        let c = server.client();
        let (_, session) = server.signed_up("crash").await;
        let owner = c.with_token(session.clone());
        let key = owner
            .create_key(&CreateKeyRequest {
                name: "crash-writer".into(),
                scopes: vec![Scope::parse("secrets:write:crash/*").unwrap()],
                expires_in: None,
                ip_allowlist: None,
                public_key: None,
            })
            .await
            .unwrap()
            .secret
            .expose()
            .clone();
        let token = c
            .with_token(key.clone())
            .issue_token(&IssueTokenRequest {
                scopes: vec![Scope::parse("secrets:write:crash/*").unwrap()],
                ttl: Some("24h".into()),
                ip_allowlist: None,
                max_uses: None,
            })
            .await
            .unwrap()
            .token
            .expose()
            .clone();
        Self {
            dir,
            server: Some(server),
            session,
            key,
            token,
            plan,
            rounds_done: 0,
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn server(&self) -> &ServerProcess {
        self.server.as_ref().unwrap()
    }

    /// The owner's client on the running server.
    fn owner(&self) -> Client {
        self.server().client().with_token(self.session.clone())
    }

    /// Fire the plan's writes at once, SIGKILL the server after a random number of
    /// acknowledgements, check the file, restart and check every version through the API.
    pub async fn round(&mut self) -> RoundReport {
        let started = Instant::now();
        self.rounds_done += 1;
        let round = self.rounds_done;
        let writes = self.writes_for(round);
        let kill_after = {
            let mut rng = rand::thread_rng();
            rng.gen_range(self.plan.writes / 10..=self.plan.writes * 6 / 10)
                .max(1)
        };

        let fates = self.write_and_kill(&writes, kill_after).await;
        check_database_file(&self.dir.path().join("keyhold.db"));
        self.server = Some(ServerProcess::spawn(self.dir.path(), UNLIMITED));

        let mut report = RoundReport {
            round,
            kill_after,
            acknowledged: fates.iter().filter(|f| matches!(f, Fate::Acked(_))).count(),
            refused: fates
                .iter()
                .filter(|f| matches!(f, Fate::Refused(_)))
                .count(),
            cut_off: fates.iter().filter(|f| matches!(f, Fate::CutOff)).count(),
            versions: 0,
            landed_unacknowledged: 0,
            elapsed: Duration::ZERO,
        };
        assert!(
            report.acknowledged >= 1 && report.cut_off >= 1,
            "the kill must land while writes are in flight: {report}"
        );
        report.versions = self.check_versions(round, &writes, &fates).await;
        report.landed_unacknowledged = report.versions - report.acknowledged;
        self.check_audit(round, report.versions).await;
        report.elapsed = started.elapsed();
        report
    }

    /// Distinct values for distinct or shared paths; values carry characters that JSON
    /// escapes, so "byte-identical" covers the whole encode/decode path.
    fn writes_for(&self, round: usize) -> Vec<Write> {
        let mut rng = rand::thread_rng();
        let plan = self.plan;
        (0..plan.writes)
            .map(|i| {
                let path = if i < plan.hot_writes {
                    format!("crash/r{round}/hot{}", i % plan.hot_paths)
                } else {
                    format!("crash/r{round}/s{i}")
                };
                let noise: [u8; 16] = rng.r#gen();
                Write {
                    path: SecretPath::parse(&path).unwrap(),
                    value: format!(
                        "r{round}-w{i}-{}-\u{e9}\u{1f511} \"q\" \\ \n\t end",
                        hex::encode(noise)
                    ),
                }
            })
            .collect()
    }

    async fn write_and_kill(&mut self, writes: &[Write], kill_after: usize) -> Vec<Fate> {
        let base = self.server().client();
        let callers = [
            base.with_token(self.session.clone()),
            base.with_token(self.key.clone()),
            base.with_token(self.token.clone()),
        ];
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, w) in writes.iter().enumerate() {
            let c = callers[i % callers.len()].clone();
            let (path, value) = (w.path.clone(), w.value.clone());
            let tx = tx.clone();
            tasks.spawn(async move {
                let fate = match c.put_secret(&path, &value, None, None).await {
                    Ok(w) => Fate::Acked(w.version),
                    Err(e) if e.status().is_some() => Fate::Refused(e.status().unwrap_or(0)),
                    Err(_) => Fate::CutOff,
                };
                let _ = tx.send((i, fate));
            });
        }
        drop(tx);

        let mut fates: Vec<Fate> = (0..writes.len()).map(|_| Fate::CutOff).collect();
        let mut acked = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while acked < kill_after {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((i, fate))) => {
                    if matches!(fate, Fate::Acked(_)) {
                        acked += 1;
                    }
                    fates[i] = fate;
                }
                Ok(None) | Err(_) => break,
            }
        }
        let server = self.server.take().unwrap();
        tokio::task::spawn_blocking(move || server.kill())
            .await
            .unwrap();
        // Every request still open now fails: connection reset or refused.
        while let Ok(Some((i, fate))) =
            tokio::time::timeout(Duration::from_secs(30), rx.recv()).await
        {
            fates[i] = fate;
        }
        tasks.abort_all();
        fates
    }

    /// Every path of the round: versions are exactly 1..=current, each decrypts to one of
    /// the values sent to that path (no torn value, no value twice), every acknowledged
    /// write sits at the version it was told, and no refused write landed. Returns the
    /// number of versions.
    async fn check_versions(&self, round: usize, writes: &[Write], fates: &[Fate]) -> usize {
        let owner = self.owner();
        let mut sent: BTreeMap<String, HashSet<&str>> = BTreeMap::new();
        for w in writes {
            sent.entry(w.path.as_str().to_owned())
                .or_default()
                .insert(w.value.as_str());
        }
        let stored: Vec<(String, Vec<(u32, String)>)> = futures::stream::iter(sent.keys().cloned())
            .map(|path| {
                let owner = owner.clone();
                async move {
                    let versions = read_all_versions(&owner, &path).await;
                    (path, versions)
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let stored: HashMap<String, Vec<(u32, String)>> = stored.into_iter().collect();

        let mut total = 0;
        for (path, versions) in &stored {
            total += versions.len();
            let mut seen = HashSet::new();
            for (v, value) in versions {
                assert!(
                    sent[path].contains(value.as_str()),
                    "round {round}: {path} v{v} holds a value nobody sent"
                );
                assert!(
                    seen.insert(value.as_str()),
                    "round {round}: one write landed twice at {path}"
                );
            }
        }
        let mut acked_versions: HashSet<(&str, u32)> = HashSet::new();
        for (w, fate) in writes.iter().zip(fates) {
            let versions = &stored[w.path.as_str()];
            match fate {
                Fate::Acked(v) => {
                    assert!(
                        acked_versions.insert((w.path.as_str(), *v)),
                        "round {round}: two writes were acknowledged as {} v{v}",
                        w.path
                    );
                    let found = versions.iter().find(|(sv, _)| sv == v);
                    assert!(
                        found.is_some_and(|(_, value)| value.as_bytes() == w.value.as_bytes()),
                        "round {round}: acknowledged write {} v{v} is missing or differs",
                        w.path
                    );
                }
                Fate::Refused(status) => assert!(
                    !versions.iter().any(|(_, value)| *value == w.value),
                    "round {round}: a write answered {status} was stored anyway"
                ),
                Fate::CutOff => {}
            }
        }
        total
    }

    /// The hash chain verifies, and each stored version has exactly one successful
    /// `secret.write` event: the event and the row commit together or not at all.
    async fn check_audit(&self, round: usize, versions: usize) {
        let owner = self.owner();
        let verify = owner.audit_verify().await.unwrap();
        assert!(verify.ok, "round {round}: audit chain broken: {verify:?}");
        let prefix = format!("secret:crash/r{round}/");
        let mut cursor = None;
        let mut events = 0;
        loop {
            let page = owner
                .audit(&AuditQuery {
                    limit: Some(500),
                    cursor: cursor.take(),
                    action: Some("secret.write".into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            events += page
                .items
                .iter()
                .filter(|e| e.outcome == "success")
                .filter(|e| e.target.as_deref().is_some_and(|t| t.starts_with(&prefix)))
                .count();
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(
            events, versions,
            "round {round}: secret.write events and stored versions differ"
        );
    }

    /// Stop the server cleanly and hand back the data directory for a last look.
    pub fn finish(mut self) -> TempDir {
        if let Some(s) = self.server.take() {
            let (status, log) = s.terminate();
            assert!(status.success(), "{log}");
        }
        self.dir
    }
}

/// All versions of `path` with their values; empty when no write to it landed. The
/// version list of the metadata must be exactly 1..=current_version.
async fn read_all_versions(owner: &Client, path: &str) -> Vec<(u32, String)> {
    let p = SecretPath::parse(path).unwrap();
    let meta = match owner.secret_metadata(&p).await {
        Ok(m) => m,
        Err(e) if e.status() == Some(404) => return Vec::new(),
        Err(e) => panic!("metadata of {path}: {e:?}"),
    };
    let mut numbers: Vec<u32> = meta.versions.iter().map(|v| v.version).collect();
    numbers.sort_unstable();
    let expected: Vec<u32> = (1..=meta.current_version).collect();
    assert_eq!(numbers, expected, "{path}: versions have gaps or extras");
    let mut out = Vec::new();
    for v in expected {
        let got = owner
            .get_secret(&p, Some(v))
            .await
            .unwrap_or_else(|e| panic!("{path} v{v} does not read back: {e:?}"));
        assert_eq!(got.version, v);
        out.push((v, got.value.expose().clone()));
    }
    out
}

/// Open the file the killed server left (SQLite replays the WAL on open) and run SQLite's
/// own checks.
pub fn check_database_file(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(integrity, ["ok"], "PRAGMA integrity_check");
    let fk_problems = conn
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |_| Ok(()))
        .unwrap()
        .count();
    assert_eq!(fk_problems, 0, "PRAGMA foreign_key_check");
}

/// Rounds for the crash test: `KEYHOLD_CRASH_ROUNDS`, else `default`.
pub fn rounds_from_env(default: usize) -> usize {
    std::env::var("KEYHOLD_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
