//! Several keyhold-server processes on one PostgreSQL (issue 17): nothing that must be shared
//! lives in one replica's memory. Each case starts three real server binaries on a cluster
//! of its own; they start together and migrate once (the advisory lock), hold the same
//! master key (a copy of one file, as a deployment's secret store would hand it out), and
//! each has a data dir of its own (its mail outbox).

use std::time::Duration;

use keyhold_client::Client;
use keyhold_core::Sensitive;
use keyhold_core::api::{ApprovalSettings, IssueTokenRequest, Role, SignupRequest, TenantSettings};
use keyhold_core::tier::Tier;
use keyhold_e2e::postgres::{KeyholdDb, PgCluster};
use keyhold_e2e::{
    STRONG_PASSWORD, ServerProcess, find_mailed_link_in, unique_email, write_master_key,
};
use tempfile::TempDir;

use crate::support::{key_req, p, token_req};

/// Three replicas on one database, dropped before the cluster.
pub(super) struct Replicas {
    pub(super) procs: Vec<ServerProcess>,
    dirs: Vec<TempDir>,
    db: KeyholdDb,
    _cluster: PgCluster,
}

impl Replicas {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// With `extra` in every replica's environment.
    pub(super) async fn start_with(extra: &[(&str, &str)]) -> Self {
        let cluster = PgCluster::start().await.unwrap();
        let db = cluster
            .keyhold_database("keyhold", keyhold_vault::store::postgres::ROLES_SQL)
            .await
            .unwrap();
        let dirs: Vec<TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        write_master_key(dirs[0].path());
        for d in &dirs[1..] {
            std::fs::copy(
                dirs[0].path().join("master.key"),
                d.path().join("master.key"),
            )
            .unwrap();
        }
        let mut env = vec![
            ("KEYHOLD_DATABASE_URL", db.app_url.as_str()),
            ("KEYHOLD_MIGRATE_DATABASE_URL", db.owner_url.as_str()),
        ];
        env.extend_from_slice(extra);
        // Started together: each applies missing migrations under the lock, then serves.
        let procs = std::thread::scope(|s| {
            let started: Vec<_> = dirs
                .iter()
                .map(|d| s.spawn(|| ServerProcess::spawn(d.path(), &env)))
                .collect();
            started.into_iter().map(|h| h.join().unwrap()).collect()
        });
        Self {
            procs,
            dirs,
            db,
            _cluster: cluster,
        }
    }

    fn client(&self, i: usize) -> Client {
        self.procs[i].client()
    }

    /// A signed-in owner of a new tenant, signed up on replica `i`.
    pub(super) async fn owner(&self, i: usize, tag: &str) -> (String, Client) {
        let (email, token) = self.procs[i].signed_up(tag).await;
        (email, self.client(i).with_token(token))
    }

    /// The link to `path` mailed to `to` (made on replica `i`): any replica's worker may
    /// have sent it, into its own mail folder.
    fn mailed_link(&self, i: usize, to: &str, path: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            if let Some(link) = self
                .dirs
                .iter()
                .find_map(|d| find_mailed_link_in(d.path(), &self.procs[i].url, to, path))
            {
                return link;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no {path} link mailed to {to}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Someone invited by `owner` (through replica `i`), signed
    /// up there, then signed in on replica `on`.
    async fn invited(&self, owner: &Client, i: usize, role: Role, on: usize) -> Client {
        let email = unique_email("replica-invitee");
        owner.invite(&email, role).await.unwrap();
        let link = self.mailed_link(i, &email, "/signup");
        let token = link.split("invitation=").nth(1).unwrap().to_owned();
        self.client(i)
            .signup(&SignupRequest {
                email: email.clone(),
                password: Sensitive::new(STRONG_PASSWORD.to_owned()),
                display_name: None,
                invitation: Some(Sensitive::new(token)),
            })
            .await
            .unwrap();
        login(&self.client(on), &email).await
    }
}

async fn login(c: &Client, email: &str) -> Client {
    match c.login(email, STRONG_PASSWORD).await.unwrap() {
        keyhold_client::LoginOutcome::Session(s) => c.with_token(s.session_token.expose().clone()),
        keyhold_client::LoginOutcome::MfaRequired { .. } => panic!("unexpected 2FA step"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_started_together_migrate_once_and_all_serve() {
    let r = Replicas::start().await;
    let admin = keyhold_e2e::postgres::connect(&r.db.admin_url)
        .await
        .unwrap();
    let versions: i64 = admin
        .query_one("SELECT count(*) FROM keyhold_schema", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        versions as usize,
        keyhold_vault::store::postgres::MIGRATIONS.len()
    );
    for i in 0..3 {
        r.client(i).healthz().await.unwrap();
    }
    // A secret written through one replica is read through the others.
    let (_, owner) = r.owner(0, "rep-serve").await;
    owner
        .put_secret(&p("a/K"), "SHARED", None, None)
        .await
        .unwrap();
    let k = owner
        .create_key(&key_req("agent", &["secrets:read:a/*"]))
        .await
        .unwrap();
    for i in 1..3 {
        let agent = r.client(i).with_token(k.secret.expose().clone());
        assert_eq!(
            agent
                .get_secret(&p("a/K"), None)
                .await
                .unwrap()
                .value
                .expose(),
            "SHARED"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_replica_is_refused_by_the_next_request_on_another() {
    let r = Replicas::start().await;
    let (_, owner) = r.owner(0, "rep-revoke").await;
    owner.put_secret(&p("a/K"), "v", None, None).await.unwrap();
    let k = owner
        .create_key(&key_req("agent", &["secrets:read:a/*"]))
        .await
        .unwrap();
    let key_on_b = r.client(1).with_token(k.secret.expose().clone());
    let t = key_on_b
        .issue_token(&token_req(&["secrets:read:a/K"]))
        .await
        .unwrap();
    let token_on_c = r.client(2).with_token(t.token.expose().clone());
    key_on_b.get_secret(&p("a/K"), None).await.unwrap();
    token_on_c.get_secret(&p("a/K"), None).await.unwrap();

    owner.revoke_key(&k.key.id).await.unwrap();
    for c in [&key_on_b, &token_on_c] {
        let e = c.get_secret(&p("a/K"), None).await.unwrap_err();
        assert_eq!(e.status(), Some(401), "{e:?}");
    }
    let key_on_c = r.client(2).with_token(k.secret.expose().clone());
    assert_eq!(
        key_on_c
            .get_secret(&p("a/K"), None)
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_uses_hold_exactly_across_replicas() {
    let r = Replicas::start().await;
    let (_, owner) = r.owner(0, "rep-uses").await;
    owner.put_secret(&p("a/K"), "v", None, None).await.unwrap();
    let k = owner
        .create_key(&key_req("agent", &["secrets:read:a/*"]))
        .await
        .unwrap();
    let t = r
        .client(1)
        .with_token(k.secret.expose().clone())
        .issue_token(&IssueTokenRequest {
            max_uses: Some(3),
            ..token_req(&["secrets:read:a/K"])
        })
        .await
        .unwrap();
    let clients: Vec<Client> = (0..3)
        .map(|i| r.client(i).with_token(t.token.expose().clone()))
        .collect();
    let results = futures::future::join_all((0..30).map(|n| {
        let c = clients[n % 3].clone();
        async move { c.get_secret(&p("a/K"), None).await }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(e.status(), Some(401), "{e:?}");
    }
}

/// The owner of a tenant whose sensitive secrets need two approvals, its secret `p/S`,
/// an agent key reading it (as a client of replica `agent_on`), and two approvers signed
/// in on replicas 0 and 1.
async fn two_approver_vault(r: &Replicas, agent_on: usize) -> (Client, Client, Client) {
    let (_, owner) = r.owner(0, "rep-quorum").await;
    let mut settings = owner.tenant_settings().await.unwrap();
    settings.approvals = ApprovalSettings {
        sensitive: 2,
        ..settings.approvals
    };
    let _: TenantSettings = owner.set_tenant_settings(&settings).await.unwrap();
    owner
        .put_secret(&p("p/S"), "THE-VALUE", None, Some(Tier::Sensitive))
        .await
        .unwrap();
    let k = owner
        .create_key(&key_req("agent", &["secrets:read:p/*"]))
        .await
        .unwrap();
    let agent = r.client(agent_on).with_token(k.secret.expose().clone());
    let a = r.invited(&owner, 0, Role::Approver, 0).await;
    let b = r.invited(&owner, 0, Role::Approver, 1).await;
    (agent, a, b)
}

/// The approval request the agent's read opened.
async fn asks(agent: &Client) -> String {
    let e = agent.get_secret(&p("p/S"), None).await.unwrap_err();
    assert_eq!(e.status(), Some(403), "{e:?}");
    e.extra_str("approval_id").unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_on_two_replicas_open_a_grant_a_third_serves_once() {
    let r = Replicas::start().await;
    let (agent_c, a, b) = two_approver_vault(&r, 2).await;
    let id = asks(&agent_c).await;
    a.approve(&id, None, None).await.unwrap();
    assert_eq!(
        asks(&agent_c).await,
        id,
        "one approval of two opens nothing"
    );
    b.approve(&id, None, None).await.unwrap();
    let reads = futures::future::join_all((0..10).map(|_| {
        let c = agent_c.clone();
        async move { c.get_secret(&p("p/S"), None).await }
    }))
    .await;
    let served: Vec<_> = reads.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(served.len(), 1, "{reads:?}");
    assert_eq!(served[0].value.expose(), "THE-VALUE");
    // Spent for every replica.
    for i in 0..2 {
        let agent = r.client(i).with_token(agent_c.token().unwrap().to_owned());
        let e = agent.get_secret(&p("p/S"), None).await.unwrap_err();
        assert_eq!(e.status(), Some(403), "{e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_waiting_on_one_replica_hears_an_approval_made_on_another() {
    let r = Replicas::start().await;
    let (agent_c, a, b) = two_approver_vault(&r, 2).await;
    let id = asks(&agent_c).await;
    let mut feed = agent_c.approvals_stream().await.unwrap();
    a.approve(&id, None, None).await.unwrap();
    b.approve(&id, None, None).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let ev = feed.next().await.unwrap().unwrap();
            if ev.data.contains("\"status\":\"approved\"") && ev.data.contains(&id) {
                return ev;
            }
        }
    })
    .await
    .expect("the approval reached the feed on another replica");
    assert_eq!(heard.event.as_deref(), Some("approval.approved"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_spread_over_replicas_lock_at_the_same_count() {
    let r = Replicas::start().await;
    let (email, _) = r.owner(0, "rep-lock").await;
    // The limit is 10 a minute per account, whichever replica counts.
    for n in 0..10 {
        let e = r
            .client(n % 3)
            .login(&email, "wrong password entirely")
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(401), "failure {n}: {e:?}");
    }
    for i in 0..3 {
        let e = r
            .client(i)
            .login(&email, STRONG_PASSWORD)
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(429), "replica {i}: {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_write_loses_no_acknowledged_write() {
    let mut r = Replicas::start().await;
    let (email, _) = r.owner(0, "rep-kill").await;
    let sessions: Vec<Client> = futures::future::join_all((0..3).map(|i| {
        let (c, email) = (r.client(i), email.clone());
        async move { login(&c, &email).await }
    }))
    .await;
    // Writers on every replica, each its own paths, until told to stop.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = sessions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (c, stop) = (c.clone(), stop.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let path = format!("w/r{i}-{n}");
                    if c.put_secret(&p(&path), &format!("v-{path}"), None, None)
                        .await
                        .is_ok()
                    {
                        acknowledged.push(path);
                    }
                    n += 1;
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let victim = r.procs.remove(2);
    tokio::task::spawn_blocking(move || victim.kill())
        .await
        .unwrap();
    // The others keep serving after the kill.
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for (i, w) in writers.into_iter().enumerate() {
        let mine = w.await.unwrap();
        if i < 2 {
            assert!(mine.len() > 5, "replica {i} kept writing: {}", mine.len());
        }
        acknowledged.extend(mine);
    }
    let reader = &sessions[0];
    for path in &acknowledged {
        let v = reader.get_secret(&p(path), None).await.unwrap();
        assert_eq!(v.value.expose(), &format!("v-{path}"));
    }
    let verified = reader.audit_verify().await.unwrap();
    assert!(verified.ok, "{verified:?}");
}
