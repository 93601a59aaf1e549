//! `keyhold keys …` and `keyhold tokens …` against a real server: a key's secret printed
//! once, listing without secrets, tokens issued by KEYHOLD_AGENT_KEY, revocation (by id and
//! as leaked), and refused flags that change nothing.

use keyhold_e2e::TestServer;

use crate::cli::{keyhold, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_tokens_from_the_command_line() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let p = ts.person("cli-keys").await;
    let session = p.client.token().unwrap().to_owned();
    let as_person = |args: &[&str], stdin: Option<&str>| {
        keyhold(&url, args, stdin, &[("KEYHOLD_TOKEN", session.as_str())])
    };
    let o = as_person(
        &["secrets", "set", "ci/deploy/TOKEN", "-"],
        Some("deploy-value-123"),
    );
    assert!(o.status.success(), "{}", text(&o));

    // Create: the secret alone on stdout, the warning on stderr.
    let created = as_person(
        &[
            "keys",
            "create",
            "--name",
            "ci",
            "--scopes",
            "secrets:read:ci/*,secrets:write:ci/*",
            "--expires-in",
            "30d",
            "--ip-allowlist",
            "127.0.0.1/32,::1/128",
        ],
        None,
    );
    assert!(created.status.success(), "{}", text(&created));
    let secret = String::from_utf8(created.stdout.clone()).unwrap();
    let secret = secret.trim().to_owned();
    assert!(secret.starts_with("kha_"), "{secret}");
    let err = String::from_utf8_lossy(&created.stderr);
    assert!(
        err.contains("only time") && err.contains("Created agent key"),
        "{err}"
    );

    // List: table and JSON, never the secret.
    let list = as_person(&["keys", "list"], None);
    assert!(list.status.success(), "{}", text(&list));
    let out = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(out.starts_with("ID"), "{out}");
    assert!(out.contains("ci") && out.contains("secrets:read:ci/*") && out.contains("LAST USED"));
    let list_json = as_person(&["keys", "list", "--json"], None);
    let keys: Vec<serde_json::Value> = serde_json::from_slice(&list_json.stdout).unwrap();
    assert_eq!(keys.len(), 1);
    let key_id = keys[0]["id"].as_str().unwrap().to_owned();
    for o in [&list, &list_json] {
        assert!(!text(o).contains(&secret), "key secret in a listing");
    }

    // Bad flags and values: exit 2, no key made.
    for (args, says) in [
        (
            vec!["keys", "create", "--name", "x", "--scopes", "nope"],
            "invalid value",
        ),
        (
            vec![
                "keys",
                "create",
                "--name",
                "x",
                "--scopes",
                "secrets:read:a/*",
                "--expires-in",
                "5x",
            ],
            "duration",
        ),
        (
            vec!["keys", "create", "--scopes", "secrets:read:a/*"],
            "--name",
        ),
        (vec!["keys", "create", "--name", "x"], "--scopes"),
        (vec!["keys", "revoke"], "<ID>"),
    ] {
        let o = as_person(&args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{args:?}: {}", text(&o));
    }
    // A bad CIDR reaches the server, which refuses it (exit 1); still no key made.
    let o = as_person(
        &[
            "keys",
            "create",
            "--name",
            "x",
            "--scopes",
            "secrets:read:a/*",
            "--ip-allowlist",
            "not-a-cidr",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let again: Vec<serde_json::Value> =
        serde_json::from_slice(&as_person(&["keys", "list", "--json"], None).stdout).unwrap();
    assert_eq!(again.len(), 1);

    // Tokens: issued by the agent key from KEYHOLD_AGENT_KEY.
    let no_key = as_person(&["tokens", "issue", "--scopes", "secrets:read:ci/*"], None);
    assert_eq!(no_key.status.code(), Some(3), "{}", text(&no_key));
    assert!(text(&no_key).contains("KEYHOLD_AGENT_KEY"));
    let as_agent =
        |args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_AGENT_KEY", secret.as_str())]);
    let issued = as_agent(&[
        "tokens",
        "issue",
        "--scopes",
        "secrets:read:ci/*",
        "--ttl",
        "15m",
        "--max-uses",
        "5",
    ]);
    assert!(issued.status.success(), "{}", text(&issued));
    let tok = String::from_utf8(issued.stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    assert!(tok.starts_with("kht_"), "{tok}");
    let issued_json = as_agent(&["tokens", "issue", "--scopes", "secrets:read:ci/*", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&issued_json.stdout).unwrap();
    let tok2_id = v["id"].as_str().unwrap().to_owned();
    let tok2 = v["token"].as_str().unwrap().to_owned();
    // Wider than the key: refused by the server.
    let wide = as_agent(&["tokens", "issue", "--scopes", "secrets:read:*"]);
    assert_ne!(wide.status.code(), Some(0), "{}", text(&wide));
    let bad = as_agent(&[
        "tokens",
        "issue",
        "--scopes",
        "secrets:read:ci/*",
        "--max-uses",
        "0",
    ]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));

    // The token reads; revoked, it no longer does.
    let with_token = |t: &str, args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_TOKEN", t)]);
    let get = with_token(&tok2, &["secrets", "get", "ci/deploy/TOKEN"]);
    assert_eq!(
        String::from_utf8_lossy(&get.stdout),
        "deploy-value-123\n",
        "{}",
        text(&get)
    );
    let rv = as_agent(&["tokens", "revoke", &tok2_id]);
    assert!(rv.status.success(), "{}", text(&rv));
    let get = with_token(&tok2, &["secrets", "get", "ci/deploy/TOKEN"]);
    assert_eq!(get.status.code(), Some(3), "{}", text(&get));

    // Revoking the key ends it and the token it issued.
    let rv = as_person(&["keys", "revoke", &key_id], None);
    assert!(rv.status.success(), "{}", text(&rv));
    let get = with_token(&tok, &["secrets", "get", "ci/deploy/TOKEN"]);
    assert_eq!(get.status.code(), Some(3), "{}", text(&get));
    let listed = as_person(&["keys", "list"], None);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(!listed.lines().nth(1).unwrap().ends_with(" no"), "{listed}");
    let missing = as_person(&["keys", "revoke", "key_does_not_exist"], None);
    assert_eq!(missing.status.code(), Some(4), "{}", text(&missing));

    // revoke-leaked: from stdin, no credential at all.
    let leaked = as_person(
        &[
            "keys",
            "create",
            "--name",
            "leaky",
            "--scopes",
            "secrets:read:ci/*",
        ],
        None,
    );
    let leaked = String::from_utf8(leaked.stdout).unwrap().trim().to_owned();
    let o = keyhold(
        &url,
        &["keys", "revoke-leaked"],
        Some(&format!("{leaked}\n")),
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains(&leaked));
    let get = keyhold(
        &url,
        &["secrets", "get", "ci/deploy/TOKEN"],
        None,
        &[("KEYHOLD_AGENT_KEY", &leaked)],
    );
    assert_eq!(get.status.code(), Some(3), "{}", text(&get));
    let empty = keyhold(&url, &["keys", "revoke-leaked"], Some("\n"), &[]);
    assert_eq!(empty.status.code(), Some(2), "{}", text(&empty));
}
