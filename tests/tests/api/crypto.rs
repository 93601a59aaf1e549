//! Envelope encryption against the real database: rotation, tampering, moved rows.

use keyhold_core::api::AuditQuery;
use keyhold_e2e::TestServer;
use keyhold_e2e::db::AdminDb;

use crate::support::p;

type Row = (String, i64, Vec<u8>, Vec<u8>, i64);

async fn rows(ts: &TestServer, tenant: &str) -> Vec<Row> {
    ts.admin_db()
        .await
        .query(
            "SELECT path, version, ciphertext, wrapped_dek, kek_version FROM secret_versions
             WHERE tenant_id = ?1 ORDER BY path, version",
            &[&tenant],
        )
        .await
        .iter()
        .map(|r| {
            let (ct, wd) = (r[2].bytes().to_vec(), r[3].bytes().to_vec());
            (r[0].text().to_owned(), r[1].int(), ct, wd, r[4].int())
        })
        .collect()
}

#[tokio::test]
async fn kek_rotation_rewraps_every_dek_and_everything_still_reads() {
    let ts = TestServer::start().await;
    let alice = ts.person("kek-rotate").await;
    let c = &alice.client;
    for i in 0..12 {
        c.put_secret(&p(&format!("app/S{i}")), &format!("first-{i}"), None, None)
            .await
            .unwrap();
        if i % 3 == 0 {
            c.put_secret(&p(&format!("app/S{i}")), &format!("second-{i}"), None, None)
                .await
                .unwrap();
        }
    }
    let before = rows(&ts, &alice.tenant_id).await;
    assert!(before.iter().all(|r| r.4 == 1));
    let r = c.rotate_kek().await.unwrap();
    assert_eq!((r.kek_version, r.rewrapped), (2, 16));
    let after = rows(&ts, &alice.tenant_id).await;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((&b.0, b.1), (&a.0, a.1));
        assert_eq!(b.2, a.2, "a ciphertext was touched");
        assert_ne!(b.3, a.3, "a DEK was not re-wrapped");
        assert_eq!(a.4, 2);
    }
    let keks: Vec<i64> = ts
        .admin_db()
        .await
        .query(
            "SELECT version FROM tenant_keks WHERE tenant_id = ?1",
            &[&alice.tenant_id],
        )
        .await
        .iter()
        .map(|r| r[0].int())
        .collect();
    assert_eq!(keks, [2], "the old KEK is retired");
    for i in 0..12 {
        let v = c.get_secret(&p(&format!("app/S{i}")), None).await.unwrap();
        let want = if i % 3 == 0 { "second" } else { "first" };
        assert_eq!(v.value.expose(), &format!("{want}-{i}"));
        let v1 = c
            .get_secret(&p(&format!("app/S{i}")), Some(1))
            .await
            .unwrap();
        assert_eq!(v1.value.expose(), &format!("first-{i}"));
    }
    // Writes after rotation use the new KEK, and a second rotation works too.
    c.put_secret(&p("app/NEW"), "new", None, None)
        .await
        .unwrap();
    assert_eq!(c.rotate_kek().await.unwrap().kek_version, 3);
    assert_eq!(
        c.get_secret(&p("app/NEW"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "new"
    );
    let ev = c
        .audit(&AuditQuery {
            action: Some("kek.rotated".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ev.items.len(), 2);
}

#[tokio::test]
async fn kek_rotate_subcommand_runs_beside_the_server() {
    let ts = TestServer::start().await;
    let alice = ts.person("kek-cli").await;
    alice
        .client
        .put_secret(&p("a/K"), "cli-value", None, None)
        .await
        .unwrap();
    // Warm the server's KEK cache with version 1.
    alice.client.get_secret(&p("a/K"), None).await.unwrap();
    let out = std::process::Command::new(keyhold_e2e::target_bin("keyhold-server"))
        .arg("--data-dir")
        .arg(ts.data_dir())
        .args(["kek", "rotate"])
        .env_remove("KEYHOLD_MASTER_KEY")
        .envs(ts.database_env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("KEK version 2, 1 data keys re-wrapped"),
        "{stdout}"
    );
    let v = alice.client.get_secret(&p("a/K"), None).await.unwrap();
    assert_eq!(v.value.expose(), "cli-value");
    // The other process's `kek.rotated` event sits in the tenant's chain between the
    // server's own events: the server chained its next event onto it, not onto the head it
    // remembered from before.
    alice.client.get_secret(&p("a/K"), None).await.unwrap();
    let verify = alice.client.audit_verify().await.unwrap();
    assert!(verify.ok, "{verify:?}");
    let rotated = alice
        .client
        .audit(&AuditQuery {
            action: Some("kek.rotated".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rotated.items.len(), 1);
}

async fn assert_generic_failure(
    ts: &TestServer,
    client: &keyhold_client::Client,
    path: &str,
    leaked: &[&str],
) {
    let r = reqwest::Client::new()
        .get(format!("{}/v1/secrets/{path}", ts.url()))
        .bearer_auth(client.token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let body = r.text().await.unwrap();
    let parsed: keyhold_core::ErrorBody = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed.error.code, keyhold_core::ErrorCode::Internal);
    assert_eq!(parsed.error.message, "Something went wrong on the server.");
    for v in leaked {
        assert!(!body.contains(v), "the answer carries {v}");
    }
}

/// Flip one bit of `col` at byte `at` (or the last) of the secret at `path`.
async fn flip(db: &AdminDb, tenant: &str, col: &str, path: &str, at: usize) {
    let blob = db
        .query_one(
            &format!("SELECT {col} FROM secret_versions WHERE tenant_id = ?1 AND path = ?2"),
            &[&tenant, &path],
        )
        .await;
    let mut b = blob[0].bytes().to_vec();
    let i = at.min(b.len() - 1);
    b[i] ^= 0x01;
    db.execute(
        &format!("UPDATE secret_versions SET {col} = ?3 WHERE tenant_id = ?1 AND path = ?2"),
        &[&tenant, &path, &b],
    )
    .await;
}

#[tokio::test]
async fn flipped_bytes_give_a_generic_error_and_an_audit_event() {
    let ts = TestServer::start().await;
    let alice = ts.person("kek-tamper").await;
    let c = &alice.client;
    c.put_secret(&p("t/CT"), "TAMPER-CT", None, None)
        .await
        .unwrap();
    c.put_secret(&p("t/DEK"), "TAMPER-DEK", None, None)
        .await
        .unwrap();
    c.put_secret(&p("t/KEK"), "TAMPER-KEK", None, None)
        .await
        .unwrap();
    let db = ts.admin_db().await;
    flip(&db, &alice.tenant_id, "ciphertext", "t/CT", 20).await;
    flip(&db, &alice.tenant_id, "wrapped_dek", "t/DEK", 30).await;
    assert_generic_failure(&ts, c, "t/CT", &["TAMPER"]).await;
    assert_generic_failure(&ts, c, "t/DEK", &["TAMPER"]).await;
    // The untouched secret still reads.
    assert_eq!(
        c.get_secret(&p("t/KEK"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "TAMPER-KEK"
    );
    let ev = c
        .audit(&AuditQuery {
            action: Some("secret.read".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let failures: Vec<_> = ev
        .items
        .iter()
        .filter(|e| e.outcome == "failure" && e.detail["reason"] == "integrity_check_failed")
        .collect();
    assert_eq!(failures.len(), 2);
}

#[tokio::test]
async fn tampered_kek_row_fails_closed() {
    // A fresh server: its KEK cache is empty, so the KEK row is read and unwrapped.
    let ts = TestServer::start().await;
    let alice = ts.person("kek-row").await;
    alice
        .client
        .put_secret(&p("k/A"), "KEKROW-VALUE", None, None)
        .await
        .unwrap();
    let tenant = alice.tenant_id.clone();
    let email = alice.email.clone();
    // Keep the data, restart the server on it with a cold cache.
    let stopped = ts.stop_keeping_data().await;
    let db = stopped.admin_db().await;
    let kek = db
        .query_one(
            "SELECT wrapped FROM tenant_keks WHERE tenant_id = ?1",
            &[&tenant],
        )
        .await;
    let mut wrapped = kek[0].bytes().to_vec();
    wrapped[15] ^= 0x80;
    db.execute(
        "UPDATE tenant_keks SET wrapped = ?2 WHERE tenant_id = ?1",
        &[&tenant, &wrapped],
    )
    .await;
    drop(db);
    let ts2 = stopped
        .start(|config| config.login_failures_per_minute = 10)
        .await;
    let c = ts2.login(&email, keyhold_e2e::STRONG_PASSWORD).await;
    assert_generic_failure(&ts2, &c, "k/A", &["KEKROW-VALUE"]).await;
}

/// A secret version: tenant, path, version.
type At<'a> = (&'a str, &'a str, i64);

/// Copy the sealed value of `from` (ciphertext, wrapped key, KEK version) over `to`'s.
async fn copy(db: &AdminDb, from: At<'_>, to: At<'_>) {
    let found = db
        .query_one(
            "SELECT ciphertext, wrapped_dek, kek_version FROM secret_versions
             WHERE tenant_id = ?1 AND path = ?2 AND version = ?3",
            &[&from.0, &from.1, &from.2],
        )
        .await;
    let n = db
        .execute(
            "UPDATE secret_versions SET ciphertext = ?4, wrapped_dek = ?5, kek_version = ?6
             WHERE tenant_id = ?1 AND path = ?2 AND version = ?3",
            &[&to.0, &to.1, &to.2, &found[0], &found[1], &found[2]],
        )
        .await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn ciphertext_moved_to_another_path_version_or_tenant_never_decrypts() {
    let ts = TestServer::start().await;
    let alice = ts.person("kek-move-a").await;
    let bob = ts.person("kek-move-b").await;
    let a = &alice.client;
    a.put_secret(&p("m/SOURCE"), "MOVED-SOURCE-VALUE", None, None)
        .await
        .unwrap();
    a.put_secret(&p("m/TARGET"), "target-value", None, None)
        .await
        .unwrap();
    a.put_secret(&p("m/TARGET"), "target-value-2", None, None)
        .await
        .unwrap();
    bob.client
        .put_secret(&p("m/SOURCE"), "bob-value", None, None)
        .await
        .unwrap();
    let db = ts.admin_db().await;
    // Same tenant, another path.
    copy(
        &db,
        (&alice.tenant_id, "m/SOURCE", 1),
        (&alice.tenant_id, "m/TARGET", 2),
    )
    .await;
    assert_generic_failure(&ts, a, "m/TARGET", &["MOVED-SOURCE-VALUE"]).await;
    // Same path, another version.
    copy(
        &db,
        (&alice.tenant_id, "m/TARGET", 2),
        (&alice.tenant_id, "m/TARGET", 1),
    )
    .await;
    let r = reqwest::Client::new()
        .get(format!("{}/v1/secrets/m/TARGET?version=1", ts.url()))
        .bearer_auth(a.token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    // Another tenant, same path.
    copy(
        &db,
        (&alice.tenant_id, "m/SOURCE", 1),
        (&bob.tenant_id, "m/SOURCE", 1),
    )
    .await;
    assert_generic_failure(&ts, &bob.client, "m/SOURCE", &["MOVED-SOURCE-VALUE"]).await;
    // The source itself still reads for its owner.
    assert_eq!(
        a.get_secret(&p("m/SOURCE"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "MOVED-SOURCE-VALUE"
    );
    let ev = bob
        .client
        .audit(&AuditQuery {
            action: Some("secret.read".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(ev.items.iter().any(|e| e.outcome == "failure"));
}
