//! `keyhold-server migrate-store`: a SQLite vault with secrets of every tier, keys, tokens,
//! a pending approval, an invitation and its audit log, copied into PostgreSQL by the real
//! binary, then served from there by the real binary with the same master key.

use keyhold_core::api::{ApprovalStatus, AuditQuery, Role};
use keyhold_core::tier::Tier;
use keyhold_e2e::postgres::PgCluster;
use keyhold_e2e::{STRONG_PASSWORD, ServerProcess, TestServer, target_bin, unique_email};

use crate::support::{as_agent, key, p, token};

/// Run `keyhold-server migrate-store`; its exit success and output.
fn migrate_store(from: &std::path::Path, to: &str) -> (bool, String) {
    let out = std::process::Command::new(target_bin("keyhold-server"))
        .args(["migrate-store", "--from"])
        .arg(from)
        .args(["--to", to])
        .env_remove("KEYHOLD_MASTER_KEY")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_vault_moves_to_postgres_whole() {
    // The SQLite vault, through the API (forced onto SQLite whatever the run's store), on
    // the wall clock: the binary that serves the copy keeps time by it (token expiry).
    use keyhold_vault::clock::Clock;
    let ts = TestServer::start_at(keyhold_vault::clock::SystemClock.now(), |c| {
        c.database_url = None;
        c.migrate_database_url = None;
    })
    .await;
    let owner = ts.person("move-owner").await;
    for (path, tier) in [
        ("p/STD", Tier::Standard),
        ("p/SENS", Tier::Sensitive),
        ("p/CRIT", Tier::Critical),
    ] {
        owner
            .client
            .put_secret(&p(path), &format!("value of {path}"), None, Some(tier))
            .await
            .unwrap();
    }
    owner
        .client
        .put_secret(&p("p/STD"), "second version", None, None)
        .await
        .unwrap();
    let k = key(&owner, &["secrets:read:p/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    let t = token(&agent, &["secrets:read:p/STD"]).await;
    let e = agent.get_secret(&p("p/SENS"), None).await.unwrap_err();
    let pending = e.extra_str("approval_id").unwrap().to_owned();
    let invitee = unique_email("move-invitee");
    owner.client.invite(&invitee, Role::Member).await.unwrap();
    let events_before = owner
        .client
        .audit(&AuditQuery::default())
        .await
        .unwrap()
        .items
        .len();
    let dir = ts.dir.path().to_path_buf();
    let keyhold_e2e::TestServer {
        server, dir: keep, ..
    } = ts;
    server.stop().await.unwrap();

    let cluster = PgCluster::start().await.unwrap();
    let db = cluster
        .keyhold_database("keyhold", keyhold_vault::store::postgres::ROLES_SQL)
        .await
        .unwrap();
    let (ok, out) = migrate_store(&dir, &db.owner_url);
    assert!(ok, "{out}");
    assert!(out.contains("secret_versions: 4 rows"), "{out}");
    assert!(
        out.contains("3 secrets decrypt to the same values"),
        "{out}"
    );

    // Served from PostgreSQL by the real binary, with the same data dir's master key.
    let served = ServerProcess::spawn(&dir, &[("KEYHOLD_DATABASE_URL", db.app_url.as_str())]);
    let c = served.client();
    let agent = c.clone().with_token(k.secret.expose().clone());
    assert_eq!(
        agent
            .get_secret(&p("p/STD"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "second version"
    );
    let tok = c.clone().with_token(t.token.expose().clone());
    assert_eq!(
        tok.get_secret(&p("p/STD"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "second version"
    );
    // The gate still holds, on the very request it was waiting on.
    let e = agent.get_secret(&p("p/SENS"), None).await.unwrap_err();
    assert_eq!(e.extra_str("approval_id"), Some(pending.as_str()));
    let owner_c = match c.login(&owner.email, STRONG_PASSWORD).await.unwrap() {
        keyhold_client::LoginOutcome::Session(s) => {
            c.clone().with_token(s.session_token.expose().clone())
        }
        _ => panic!("unexpected 2FA step"),
    };
    let approval = owner_c.approval(&pending).await.unwrap();
    assert_eq!(approval.status, ApprovalStatus::Pending);
    let invitations = owner_c.all_pending_invitations().await.unwrap();
    assert!(invitations.iter().any(|i| i.email == invitee));
    let verified = owner_c.audit_verify().await.unwrap();
    assert!(verified.ok, "{verified:?}");
    assert!(verified.checked as usize >= events_before);
    drop(served);

    // A second copy into the same database is refused, and changes nothing.
    let (ok, out) = migrate_store(&dir, &db.owner_url);
    assert!(!ok, "{out}");
    assert!(out.contains("not empty"), "{out}");
    drop(keep);
}
