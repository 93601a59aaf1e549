//! `keyhold keys create --ed25519`: the key pair made locally, the private key written
//! 0600 (never sent, never printed), the key's id on stdout; then the CLI signs requests
//! with it (KEYHOLD_AGENT_KEY_ID + KEYHOLD_AGENT_KEY_FILE). The server runs on the wall
//! clock here: the CLI signs with the system time.

use std::os::unix::fs::PermissionsExt;

use keyhold_e2e::TestServer;
use keyhold_vault::clock::Clock;

use crate::cli::{keyhold, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ed25519_key_made_by_the_cli_signs_its_requests() {
    let ts = TestServer::start_at(keyhold_vault::clock::SystemClock.now(), |_| {}).await;
    let url = ts.url();
    let p = ts.person("cli-ed25519").await;
    let session = p.client.token().unwrap().to_owned();
    let as_person = |args: &[&str], stdin: Option<&str>| {
        keyhold(&url, args, stdin, &[("KEYHOLD_TOKEN", session.as_str())])
    };
    let o = as_person(
        &["secrets", "set", "ci/TOKEN", "-"],
        Some("signed-value-42"),
    );
    assert!(o.status.success(), "{}", text(&o));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ci.pem");
    let file_s = file.to_str().unwrap();
    let created = as_person(
        &[
            "keys",
            "create",
            "--ed25519",
            "--key-file",
            file_s,
            "--name",
            "ci",
            "--scopes",
            "secrets:read:ci/*",
        ],
        None,
    );
    assert!(created.status.success(), "{}", text(&created));
    let id = String::from_utf8(created.stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    let pem = std::fs::read_to_string(&file).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // The private key is nowhere but the file: not in the output, not on the server.
    let body = pem.lines().nth(1).unwrap();
    assert!(!text(&created).contains(body));
    let listed = p.client.list_keys(None, None).await.unwrap();
    let key = listed.items.iter().find(|k| k.id == id).unwrap();
    assert_eq!(key.public_keys.len(), 1);
    assert!(!serde_json::to_string(&listed).unwrap().contains(body));

    // Signing as the key: reads within its scope, refused beyond it.
    let as_key = |args: &[&str]| {
        keyhold(
            &url,
            args,
            None,
            &[
                ("KEYHOLD_AGENT_KEY_ID", id.as_str()),
                ("KEYHOLD_AGENT_KEY_FILE", file_s),
            ],
        )
    };
    let got = as_key(&["secrets", "get", "ci/TOKEN"]);
    assert!(got.status.success(), "{}", text(&got));
    assert_eq!(
        String::from_utf8_lossy(&got.stdout).trim(),
        "signed-value-42"
    );
    let tok = as_key(&["tokens", "issue", "--scopes", "secrets:read:ci/TOKEN"]);
    assert!(tok.status.success(), "{}", text(&tok));
    assert!(String::from_utf8_lossy(&tok.stdout).starts_with("kht_"));

    // An existing file is never replaced, and no key is made then.
    let again = as_person(
        &[
            "keys",
            "create",
            "--ed25519",
            "--key-file",
            file_s,
            "--name",
            "ci2",
            "--scopes",
            "secrets:read:ci/*",
        ],
        None,
    );
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pem);
    // --ed25519 needs somewhere to keep the private key.
    let nowhere = as_person(
        &[
            "keys",
            "create",
            "--ed25519",
            "--name",
            "x",
            "--scopes",
            "secrets:read:ci/*",
        ],
        None,
    );
    assert_eq!(nowhere.status.code(), Some(2), "{}", text(&nowhere));
    assert_eq!(p.client.list_keys(None, None).await.unwrap().items.len(), 1);

    // After revocation the signatures are refused.
    p.client.revoke_key(&id).await.unwrap();
    let refused = as_key(&["secrets", "get", "ci/TOKEN"]);
    assert!(!refused.status.success());
    assert!(!String::from_utf8_lossy(&refused.stdout).contains("signed-value-42"));
}
