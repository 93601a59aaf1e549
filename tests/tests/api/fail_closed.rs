//! Fail-closed audit: a read of a secret whose audit event cannot be written is refused
//! with 503 and no secret bytes, writes are not acknowledged, and the server recovers by
//! itself once the fault clears.
//!
//! The fault is real, not a mock: the running server's file size limit (RLIMIT_FSIZE, set
//! from outside with util-linux `prlimit`) is dropped to zero, so every write(2) that SQLite
//! makes to its WAL fails with EFBIG — to SQLite this is the same failed write as a full
//! disk. No mount or privileges are needed, so it runs the same in CI.

use std::process::Command;
use std::time::Duration;

use keyhold_client::Client;
use keyhold_core::api::AuditQuery;
use keyhold_e2e::ServerProcess;

use crate::support::{key_req, p};

const VALUE: &str = "fail-closed-4f9c2e71-value";
const LATER: &str = "written-after-recovery-8d1b";

fn set_file_size_limit(server: &ServerProcess, limit: &str) {
    let pid = server.pid().to_string();
    let status = Command::new("prlimit")
        .args(["--pid", &pid, &format!("--fsize={limit}:unlimited")])
        .status()
        .expect("prlimit (util-linux) runs");
    assert!(status.success(), "prlimit --fsize={limit} failed");
}

async fn signed_in(server: &ServerProcess) -> Client {
    let (_, token) = server.signed_up("failclosed").await;
    server.client().with_token(token)
}

/// GET the secret with `agent_key`: status and body bytes.
async fn read(server: &ServerProcess, agent_key: &str) -> (u16, Vec<u8>) {
    let r = reqwest::Client::new()
        .get(format!("{}/v1/secrets/production/db/url", server.url))
        .bearer_auth(agent_key)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_fail_closed_while_the_audit_log_cannot_be_written_then_recover() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::spawn(dir.path(), &[]);
    let person = signed_in(&server).await;
    person
        .put_secret(&p("production/db/url"), VALUE, None, None)
        .await
        .unwrap();
    let key = person
        .create_key(&key_req("reader", &["secrets:read:production/*"]))
        .await
        .unwrap();
    let agent_key = key.secret.expose().clone();
    let (status, body) = read(&server, &agent_key).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(contains(&body, VALUE));

    set_file_size_limit(&server, "0");
    for _ in 0..5 {
        let (status, body) = read(&server, &agent_key).await;
        assert_eq!(
            status,
            503,
            "a read whose audit event cannot be written must be refused: {}",
            String::from_utf8_lossy(&body)
        );
        assert!(!contains(&body, VALUE), "secret bytes in a refused read");
        let err: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(err["error"]["code"], "unavailable", "{err}");
    }
    let refused = person
        .put_secret(&p("production/db/url"), "never-acknowledged", None, None)
        .await;
    assert!(
        refused.is_err(),
        "a write was acknowledged during the fault"
    );

    // The fault clears; no restart, no operator: the next read works.
    set_file_size_limit(&server, "unlimited");
    let (status, body) = read(&server, &agent_key).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(
        contains(&body, VALUE),
        "the refused write must not have landed"
    );
    person
        .put_secret(&p("production/later"), LATER, None, None)
        .await
        .unwrap();

    // Exactly the two answered reads were audited; the chain is intact.
    let reads = person
        .audit(&AuditQuery {
            action: Some("secret.read".into()),
            limit: Some(100),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let ok = reads
        .items
        .iter()
        .filter(|e| e.outcome == "success")
        .count();
    assert_eq!(ok, 2, "answered reads and audited reads differ");
    assert!(person.audit_verify().await.unwrap().ok);

    // Nothing acknowledged is lost across a restart either.
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(!log.contains(VALUE), "a secret value reached the log");
    let again = ServerProcess::spawn(dir.path(), &[]);
    let c = again
        .client()
        .with_token(person.token().unwrap_or_default());
    let v = c.get_secret(&p("production/later"), None).await.unwrap();
    assert_eq!(v.value.expose(), LATER);
    let v = c.get_secret(&p("production/db/url"), None).await.unwrap();
    assert_eq!(v.value.expose(), VALUE);
    assert_eq!(v.version, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_survives_many_failed_writes_and_keeps_serving_reads_of_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::spawn(dir.path(), &[]);
    let person = signed_in(&server).await;
    person
        .put_secret(&p("production/a"), VALUE, None, None)
        .await
        .unwrap();
    set_file_size_limit(&server, "0");
    // Many concurrent writes in the fault: none acknowledged, the process stays up.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let c = person.clone();
            tokio::spawn(async move {
                c.put_secret(&p(&format!("production/f{i}")), "x-value", None, None)
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert!(
            t.await.unwrap().is_err(),
            "a write was acknowledged in the fault"
        );
    }
    // Reading metadata writes nothing and still works.
    let meta = person.secret_metadata(&p("production/a")).await.unwrap();
    assert_eq!(meta.path.as_str(), "production/a");
    set_file_size_limit(&server, "unlimited");
    tokio::time::sleep(Duration::from_millis(50)).await;
    for i in 0..3 {
        person
            .put_secret(&p(&format!("production/g{i}")), "after", None, None)
            .await
            .unwrap();
    }
    let list = person.list_metadata(&Default::default()).await.unwrap();
    let paths: Vec<_> = list
        .items
        .iter()
        .map(|m| m.path.as_str().to_owned())
        .collect();
    assert!(
        paths.iter().all(|p| !p.starts_with("production/f")),
        "{paths:?}"
    );
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.starts_with("production/g"))
            .count(),
        3
    );
}
