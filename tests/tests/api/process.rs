//! The real `keyhold-server` binary: first start, restart, signals, logs.

use keyhold_core::Sensitive;
use keyhold_core::api::SignupRequest;
use keyhold_e2e::{STRONG_PASSWORD, ServerProcess, target_bin, unique_email};

#[tokio::test]
async fn first_start_makes_a_private_key_and_data_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::spawn(dir.path(), &[]);
    let key = dir.path().join("master.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let email = unique_email("restart");
    server
        .client()
        .signup(&SignupRequest {
            email: email.clone(),
            password: Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: None,
            invitation: None,
        })
        .await
        .unwrap();
    let (status, log) = server.terminate();
    assert!(
        status.success(),
        "SIGTERM should end the server cleanly: {log}"
    );
    assert!(log.contains("generated a new master key file"), "{log}");
    assert!(log.contains("stopped cleanly"), "{log}");
    assert!(!log.contains(STRONG_PASSWORD));

    let again = ServerProcess::spawn(dir.path(), &[]);
    let c = again.client();
    match c.login(&email, STRONG_PASSWORD).await.unwrap() {
        keyhold_client::LoginOutcome::Session(s) => {
            let token = s.session_token.expose().clone();
            let me = c.with_token(token.clone()).me().await.unwrap();
            assert_eq!(me.user.email, email);
            let (_, log) = again.terminate();
            assert!(!log.contains(&token), "a session token reached the log");
            assert!(
                !log.contains("generated a new master key"),
                "key must be reused"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::spawn(dir.path(), &[]);
    let c = server.client();
    // A signup spends most of its time hashing; start several and signal mid-way.
    let emails: Vec<String> = (0..4)
        .map(|i| unique_email(&format!("inflight{i}")))
        .collect();
    let tasks: Vec<_> = emails
        .iter()
        .map(|e| {
            let c = c.clone();
            let req = SignupRequest {
                email: e.clone(),
                password: Sensitive::new(STRONG_PASSWORD.to_owned()),
                display_name: None,
                invitation: None,
            };
            tokio::spawn(async move { c.signup(&req).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let (status, log) = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success(), "{log}");
    let mut landed = 0;
    for t in tasks {
        // Each request either completed (and then must be stored) or was never accepted.
        if t.await.unwrap().is_ok() {
            landed += 1;
        }
    }
    let db = rusqlite::Connection::open(dir.path().join("keyhold.db")).unwrap();
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, landed, "every acknowledged signup is stored");
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    // The store was closed cleanly: the WAL was checkpointed into the main file.
    let wal = dir.path().join("keyhold.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
}

#[test]
fn plain_http_on_a_public_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(target_bin("keyhold-server"))
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("only loopback addresses may listen without TLS"),
        "{err}"
    );
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("master.key"),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    )
    .unwrap();
    std::fs::set_permissions(
        dir.path().join("master.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = std::process::Command::new(target_bin("keyhold-server"))
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("KEYHOLD_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
}

#[tokio::test]
async fn json_logs_carry_request_ids_and_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::spawn(
        dir.path(),
        &[("KEYHOLD_LOG_FORMAT", "json"), ("KEYHOLD_LOG", "debug")],
    );
    let c = server.client();
    let (_, token) = server.signed_up("logs").await;
    c.with_token(token.clone()).me().await.unwrap();
    let (_, log) = server.terminate();
    let json_lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!json_lines.is_empty(), "{log}");
    assert!(
        json_lines
            .iter()
            .any(|l| l.to_string().contains("request_id")),
        "request spans carry the request id: {log}"
    );
    assert!(!log.contains(&token), "session token in the log");
    assert!(!log.contains(STRONG_PASSWORD), "password in the log");
}

/// Run the real binary with `--master-key-keyring` headless (no Secret Service, so the
/// kernel keyutils store is the only keyring) and return its exit status and stderr. A
/// server that starts anyway is killed after a while and reported as such.
fn start_with_keyring(data_dir: &std::path::Path, forced: Option<&str>) -> (Option<i32>, String) {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(target_bin("keyhold-server"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0", "--master-key-keyring"])
        .env_remove("KEYHOLD_MASTER_KEY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("KEYHOLD_KEYRING")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(f) = forced {
        cmd.env("KEYHOLD_KEYRING", f);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status, err)
}

/// Issue 15, item 2: the kernel keyutils store forgets everything at a reboot, so a master
/// key kept there would be lost with every secret. `--master-key-keyring` refuses it (and a
/// machine with no keyring at all), says what to use instead, and creates nothing.
#[tokio::test]
async fn master_key_keyring_refuses_a_keyring_that_forgets_at_reboot() {
    for forced in [None, Some("keyutils"), Some("none")] {
        let dir = tempfile::tempdir().unwrap();
        let (status, err) = start_with_keyring(dir.path(), forced);
        assert!(
            status.is_some_and(|c| c != 0),
            "{forced:?}: the server must exit with an error, got {status:?}: {err}"
        );
        assert!(err.contains("--master-key-keyring"), "{forced:?}: {err}");
        assert!(err.contains("reboot"), "{forced:?}: {err}");
        assert!(err.contains("KEYHOLD_MASTER_KEY"), "{forced:?}: {err}");
        assert!(err.contains("master.key"), "{forced:?}: {err}");
        for made in ["master.key", "keyhold.db", "keyhold.db-wal", "outbox"] {
            assert!(
                !dir.path().join(made).exists(),
                "{forced:?}: {made} was created"
            );
        }
    }
}

/// A delivery cut off by `kill -9` is not lost: the next start claims it again once its
/// lease runs out and delivers it under the same `webhook-id` (at least once; the
/// receiver de-duplicates on the id).
#[tokio::test]
async fn a_delivery_cut_off_by_kill_9_is_delivered_after_restart() {
    use keyhold_e2e::receiver::Receiver;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("KEYHOLD_ALLOW_PRIVATE_WEBHOOKS", "true"),
        ("KEYHOLD_WEBHOOK_TIMEOUT", "2"),
        ("KEYHOLD_OUTBOX_POLL_MS", "100"),
    ];
    let rx = Receiver::start();
    rx.set_mode("hang-first:30");
    let server = ServerProcess::spawn(dir.path(), &env);
    let (_, token) = server.signed_up("whkill").await;
    let http = reqwest::Client::new();
    let made: serde_json::Value = http
        .post(format!("{}/v1/webhooks", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"url": rx.url("k"), "events": ["key.created"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    rx.set_secrets(&[made["secret"].as_str().unwrap()]);
    let created = http
        .post(format!("{}/v1/keys", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "k", "scopes": ["secrets:read:a/*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "the action was acknowledged");
    rx.wait_for(1).await;
    server.kill();

    let again = ServerProcess::spawn(dir.path(), &env);
    let got = rx.wait_for(2).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(got[1].json()["type"], "key.created");
    assert_eq!(got[1].verified_by, vec![0], "{:?}", got[1].errors);
    drop(again);
}

/// `keyhold-server healthcheck` (the container's HEALTHCHECK): 0 while the server answers,
/// 1 once it is gone.
#[tokio::test]
async fn healthcheck_exits_zero_only_while_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::spawn(dir.path(), &[]);
    let url = server.url.clone();
    let probe = |url: String| {
        std::process::Command::new(target_bin("keyhold-server"))
            .args(["healthcheck", "--url", &url])
            .output()
            .unwrap()
    };
    let up = tokio::task::spawn_blocking({
        let url = url.clone();
        move || probe(url)
    })
    .await
    .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(String::from_utf8_lossy(&up.stdout).contains("healthy"));
    server.terminate();
    let down = tokio::task::spawn_blocking(move || probe(url))
        .await
        .unwrap();
    assert_eq!(down.status.code(), Some(1));
}
