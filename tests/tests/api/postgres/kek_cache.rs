//! A KEK rotation on one replica reaches every other: each forgets the tenant's unwrapped
//! KEKs (`keyhold_keks` notifications, `envelope::forget_rotated_keks`), so no replica keeps
//! a retired key in memory. Two in-process servers on one database, so the test can look
//! into each one's cache.

use std::sync::Arc;
use std::time::Duration;

use keyhold_e2e::postgres::PgCluster;
use keyhold_e2e::{STRONG_PASSWORD, unique_email, write_master_key};
use keyhold_server::RunningServer;
use keyhold_server::config::Config;
use keyhold_vault::clock::{Clock, SystemClock};

use crate::support::{key_req, p};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_on_one_replica_empties_the_others_kek_cache() {
    let cluster = PgCluster::start().await.unwrap();
    let db = cluster
        .keyhold_database("keyhold", keyhold_vault::store::postgres::ROLES_SQL)
        .await
        .unwrap();
    let (da, dbir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_master_key(da.path());
    std::fs::copy(da.path().join("master.key"), dbir.path().join("master.key")).unwrap();
    let replica = |dir: &std::path::Path| {
        let mut c = Config::for_data_dir(dir.to_path_buf());
        c.database_url = Some(db.app_url.clone().into());
        c.migrate_database_url = Some(db.owner_url.clone().into());
        RunningServer::start(c, Arc::new(SystemClock) as Arc<dyn Clock>)
    };
    let a = replica(da.path()).await.unwrap();
    let b = replica(dbir.path()).await.unwrap();

    let email = unique_email("kek-cache");
    let client_a = keyhold_client::Client::new(&a.url()).unwrap();
    client_a
        .signup(&keyhold_core::api::SignupRequest {
            email: email.clone(),
            password: keyhold_core::Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: None,
            invitation: None,
        })
        .await
        .unwrap();
    let owner = match client_a.login(&email, STRONG_PASSWORD).await.unwrap() {
        keyhold_client::LoginOutcome::Session(s) => {
            client_a.with_token(s.session_token.expose().clone())
        }
        _ => panic!("unexpected 2FA step"),
    };
    owner.put_secret(&p("a/K"), "v", None, None).await.unwrap();
    let k = owner
        .create_key(&key_req("agent", &["secrets:read:a/*"]))
        .await
        .unwrap();
    let agent_b = keyhold_client::Client::new(&b.url())
        .unwrap()
        .with_token(k.secret.expose().clone());
    agent_b.get_secret(&p("a/K"), None).await.unwrap();
    assert_eq!(b.state.vault.keks.len(), 1, "B unwrapped the tenant's KEK");

    owner.rotate_kek().await.unwrap();
    let forgotten = tokio::time::timeout(Duration::from_secs(5), async {
        while !b.state.vault.keks.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(forgotten.is_ok(), "B still holds the retired KEK");
    // And B reads on, with the new one.
    assert_eq!(
        agent_b
            .get_secret(&p("a/K"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "v"
    );
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}
