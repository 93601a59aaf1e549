//! `keyhold keys show|update|rotate` against a real server: a key's details and use, a
//! changed allowlist and expiry, and a rotation whose new secret alone goes to stdout.

use keyhold_e2e::TestServer;

use crate::cli::{keyhold, text};
use crate::support::{as_agent, key, p};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_update_and_rotate_a_key_from_the_command_line() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let person = ts.person("cli-key-admin").await;
    person
        .client
        .put_secret(&p("ci/deploy/TOKEN"), "deploy-value-123", None, None)
        .await
        .unwrap();
    let k = key(&person, &["secrets:read:ci/*"]).await;
    let id = k.key.id.clone();
    let agent = as_agent(&ts, k.secret.expose());
    agent.get_secret(&p("ci/deploy/TOKEN"), None).await.unwrap();
    let session = person.client.token().unwrap().to_owned();
    let run = |args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_TOKEN", session.as_str())]);

    // Show: the fields one per line, then the addresses.
    let o = run(&["keys", "show", &id]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    for line in [
        "status        active",
        "scopes        secrets:read:ci/*",
        "ip allowlist  any address",
        "expires       never",
        "requests 24h  1",
        "refused 7d    0",
        "127.0.0.1",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let o = run(&["keys", "show", &id, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["usage"]["requests_7d"], 1);

    // Update: an allowlist (the API tests show it enforced), then any address again.
    let o = run(&[
        "keys",
        "update",
        &id,
        "--ip-allowlist",
        "10.0.0.0/8,192.0.2.1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("usable from 10.0.0.0/8,192.0.2.1/32"),
        "{}",
        text(&o)
    );
    let o = run(&["keys", "show", &id, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["ip_allowlist"],
        serde_json::json!(["10.0.0.0/8", "192.0.2.1/32"])
    );
    let o = run(&[
        "keys",
        "update",
        &id,
        "--any-address",
        "--expires-at",
        "2026-03-05T00:00:00Z",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("expires 2026-03-05 00:00:00"),
        "{}",
        text(&o)
    );
    agent.get_secret(&p("ci/deploy/TOKEN"), None).await.unwrap();
    // Refused locally (exit 2) or by the server (exit 1), nothing changed either way.
    for (args, exit) in [
        (vec!["keys", "update", &id], 2),
        (
            vec![
                "keys",
                "update",
                &id,
                "--never-expires",
                "--expires-in",
                "3d",
            ],
            2,
        ),
        (
            vec![
                "keys",
                "update",
                &id,
                "--any-address",
                "--ip-allowlist",
                "10.0.0.0/8",
            ],
            2,
        ),
        (
            vec![
                "keys",
                "update",
                &id,
                "--expires-at",
                "2001-01-01T00:00:00Z",
            ],
            1,
        ),
        (vec!["keys", "rotate", &id, "--overlap", "9x"], 2),
        (vec!["keys", "rotate", &id, "--overlap", "8d"], 1),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(exit), "{args:?}: {}", text(&o));
    }
    let o = run(&["keys", "show", &id, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["expires_at"], "2026-03-05T00:00:00Z");

    // Rotate with no overlap: the new secret alone on stdout, the old key refused at once.
    let o = run(&["keys", "rotate", &id, "--overlap", "0s"]);
    assert!(o.status.success(), "{}", text(&o));
    let secret = String::from_utf8(o.stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        secret.starts_with("kha_") && !secret.contains(' '),
        "{secret}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("only time") && err.contains("stops working at"),
        "{err}"
    );
    as_agent(&ts, &secret)
        .get_secret(&p("ci/deploy/TOKEN"), None)
        .await
        .unwrap();
    assert_eq!(
        agent
            .get_secret(&p("ci/deploy/TOKEN"), None)
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
    let o = run(&["keys", "rotate", &id]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a revoked key rotated: {}",
        text(&o)
    );
}
