//! Snapshots of what every `keyhold` command prints, as text and with `--json`, against a
//! real server (approvals and members have theirs in cli_approvals.rs and
//! cli_members.rs). Ids, times, secrets, hashes and ports are blanked by the filters in
//! cli.rs; the snapshots live in tests/tests/api/snapshots/ and, with CI=true, a mismatch
//! fails the test instead of writing a new file.

use std::process::Output;

use keyhold_e2e::{STRONG_PASSWORD, TestServer};

use crate::cli::{keyhold, shown, snap, snap_text, text};
use crate::cli_approvals::owner;
use crate::mfa::{enable_2fa, next_code};

const VALUE: &str = "AIzaSy-snapshot-value-0123456789";

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", text(o));
}

/// The output with every stdout line replaced (one-time backup codes).
fn blank_stdout_lines(o: &Output) -> String {
    let n = String::from_utf8_lossy(&o.stdout).lines().count();
    let mut s = shown(o);
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        s = s.replacen(line, "[backup code]", 1);
    }
    assert_eq!(s.matches("[backup code]").count(), n);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_as_text_and_json() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    let token = boss.client.token().unwrap().to_owned();
    let k = |args: &[&str], stdin: Option<&str>| {
        keyhold(&url, args, stdin, &[("KEYHOLD_TOKEN", token.as_str())])
    };
    // Every run but `secrets get`'s, to check that none shows the value.
    let mut others: Vec<Output> = Vec::new();
    let both = |name: &str, args: &[&str], stdin: Option<&str>, others: &mut Vec<Output>| {
        let human = k(args, stdin);
        ok(&human);
        snap(name, &human);
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let json = k(&with_json, stdin);
        ok(&json);
        if !json.stdout.is_empty() {
            let _: serde_json::Value = serde_json::from_slice(&json.stdout)
                .unwrap_or_else(|e| panic!("{name} --json: {e}: {}", text(&json)));
        }
        snap(&format!("{name}_json"), &json);
        others.push(human);
        others.push(json);
    };

    both("whoami", &["whoami"], None, &mut others);
    both("security", &["security"], None, &mut others);
    both("mfa_status", &["mfa", "status"], None, &mut others);

    // Secrets: write (two versions), read, list, versions, delete.
    both(
        "secrets_set",
        &[
            "secrets",
            "set",
            "production/gemini/GEMINI_API_KEY",
            "-",
            "--type",
            "api_key",
        ],
        Some(VALUE),
        &mut others,
    );
    let get = k(
        &["secrets", "get", "production/gemini/GEMINI_API_KEY"],
        None,
    );
    ok(&get);
    snap("secrets_get", &get);
    let get = k(
        &[
            "secrets",
            "get",
            "production/gemini/GEMINI_API_KEY",
            "--json",
        ],
        None,
    );
    ok(&get);
    snap("secrets_get_json", &get);
    both(
        "secrets_list",
        &["secrets", "list", "--prefix", "production/"],
        None,
        &mut others,
    );
    both(
        "secrets_versions",
        &["secrets", "versions", "production/gemini/GEMINI_API_KEY"],
        None,
        &mut others,
    );
    ok(&k(&["secrets", "set", "scratch/A", "-"], Some("a")));
    ok(&k(&["secrets", "set", "scratch/B", "-"], Some("b")));
    let rm = k(&["secrets", "rm", "scratch/A"], None);
    ok(&rm);
    snap("secrets_rm", &rm);
    let rm = k(&["secrets", "rm", "scratch/B", "--json"], None);
    ok(&rm);
    snap("secrets_rm_json", &rm);
    others.push(rm);

    // run: keyhold itself adds nothing to the command's output.
    let run = k(
        &[
            "run",
            "--prefix",
            "production/gemini/",
            "--",
            "sh",
            "-c",
            "test -n \"$GEMINI_API_KEY\" && echo has the key",
        ],
        None,
    );
    ok(&run);
    snap("run", &run);
    others.push(run);

    // Keys and tokens. The new secrets are blanked by the filters.
    let create = k(
        &[
            "keys",
            "create",
            "--name",
            "ci",
            "--scopes",
            "secrets:read:production/*",
            "--expires-in",
            "30d",
        ],
        None,
    );
    ok(&create);
    snap("keys_create", &create);
    let agent = String::from_utf8_lossy(&create.stdout).trim().to_owned();
    let create = k(
        &[
            "keys",
            "create",
            "--name",
            "deploy",
            "--scopes",
            "secrets:read:production/*",
            "--json",
        ],
        None,
    );
    ok(&create);
    snap("keys_create_json", &create);
    let deploy: serde_json::Value = serde_json::from_slice(&create.stdout).unwrap();
    let deploy_id = deploy["key"]["id"].as_str().unwrap().to_owned();
    both("keys_list", &["keys", "list"], None, &mut others);
    let agent_env = [("KEYHOLD_AGENT_KEY", agent.as_str())];
    let issue = keyhold(
        &url,
        &[
            "tokens",
            "issue",
            "--scopes",
            "secrets:read:production/*",
            "--ttl",
            "15m",
        ],
        None,
        &agent_env,
    );
    ok(&issue);
    snap("tokens_issue", &issue);
    let issue = keyhold(
        &url,
        &[
            "tokens",
            "issue",
            "--scopes",
            "secrets:read:production/*",
            "--max-uses",
            "3",
            "--json",
        ],
        None,
        &agent_env,
    );
    ok(&issue);
    snap("tokens_issue_json", &issue);
    let tok: serde_json::Value = serde_json::from_slice(&issue.stdout).unwrap();
    let revoke = keyhold(
        &url,
        &["tokens", "revoke", tok["id"].as_str().unwrap()],
        None,
        &agent_env,
    );
    ok(&revoke);
    snap("tokens_revoke", &revoke);
    let revoke = k(&["keys", "revoke", &deploy_id], None);
    ok(&revoke);
    snap("keys_revoke", &revoke);
    let leaked = keyhold(&url, &["keys", "revoke-leaked"], Some(&agent), &[]);
    ok(&leaked);
    snap("keys_revoke_leaked", &leaked);
    others.extend([revoke, leaked]);

    // The audit log: a page, a filter, the chain check, the export.
    both(
        "audit_secret_writes",
        &["audit", "--action", "secret.write", "--limit", "5"],
        None,
        &mut others,
    );
    both("audit_verify", &["audit", "verify"], None, &mut others);
    let export = k(&["audit", "export", "--format", "csv"], None);
    ok(&export);
    snap("audit_export_csv", &export);
    let export = k(&["audit", "export", "--format", "json"], None);
    ok(&export);
    snap("audit_export_json", &export);
    others.push(export);

    // 2FA: new backup codes (blanked: they are one-time secrets), then off again.
    let totp = enable_2fa(&ts, &boss.client).await.secret;
    let kf = &k;
    let codes = kf(&["mfa", "backup-codes"], Some(&next_code(&ts, &totp)));
    ok(&codes);
    assert_eq!(String::from_utf8_lossy(&codes.stdout).lines().count(), 10);
    snap_text("mfa_backup_codes", &blank_stdout_lines(&codes));
    let off = kf(&["mfa", "disable"], Some(&next_code(&ts, &totp)));
    ok(&off);
    snap("mfa_disable", &off);
    others.push(off);

    // Sign-in through the OS keyring and out again, as text and JSON.
    let password = format!("{STRONG_PASSWORD}\n");
    for (name, json) in [("login", false), ("login_json", true)] {
        let mut args = vec!["login", "--email", "owner@example.com", "--password-stdin"];
        if json {
            args.push("--json");
        }
        let login = keyhold(&url, &args, Some(&password), &[]);
        ok(&login);
        snap(name, &login);
        let mut args = vec!["logout"];
        if json {
            args.push("--json");
        }
        let logout = keyhold(&url, &args, None, &[]);
        ok(&logout);
        snap(&name.replace("login", "logout"), &logout);
        others.extend([login, logout]);
    }
    let out = keyhold(&url, &["whoami"], None, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    snap("whoami_signed_out", &out);

    // Help text, the source of the man page and completions.
    for (name, args) in [
        ("help", vec!["--help"]),
        ("help_approvals", vec!["approvals", "--help"]),
        ("help_members", vec!["members", "--help"]),
        ("help_secrets_get", vec!["secrets", "get", "--help"]),
    ] {
        let o = keyhold(&url, &args, None, &[]);
        ok(&o);
        snap(name, &o);
    }

    for o in &others {
        assert!(!text(o).contains(VALUE), "value in output: {}", text(o));
    }
}

/// The first `n` lines `keyhold ARGS` prints, then the process is stopped.
fn first_lines(url: &str, args: &[&str], token: &str, n: usize) -> Vec<String> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(keyhold_e2e::target_bin("keyhold"))
        .args(args)
        .env("KEYHOLD_URL", url)
        .env("KEYHOLD_TOKEN", token)
        .env_remove("KEYHOLD_AGENT_KEY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let lines: Vec<String> = out.lines().take(n).map(Result::unwrap).collect();
    child.kill().unwrap();
    child.wait().unwrap();
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_tail_follows_new_events_as_text_and_json() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    let token = boss.client.token().unwrap().to_owned();
    for json in [false, true] {
        let mut args = vec!["audit", "--tail"];
        if json {
            args.push("--json");
        }
        let (u, t) = (url.clone(), token.clone());
        let tail = tokio::task::spawn_blocking(move || first_lines(&u, &args, &t, 1));
        // Write until the tail has connected and shows the event (it sees only new ones).
        let path = crate::support::p(if json { "tail/JSON" } else { "tail/TEXT" });
        let mut n = 0;
        while !tail.is_finished() {
            assert!(n < 100, "audit --tail showed nothing");
            boss.client
                .put_secret(&path, VALUE, None, None)
                .await
                .unwrap();
            n += 1;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let line = tail.await.unwrap().join("\n");
        // The event number depends on how many writes it took the tail to connect.
        assert!(line.contains("secret.write"), "{line}");
        assert!(!line.contains(VALUE), "value in the audit tail: {line}");
        if json {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["target"], format!("secret:{path}"));
            // The event id and version depend on how many writes it took the tail to
            // connect.
            let line = line
                .replacen(&format!("\"id\":{}", v["id"]), "\"id\":N", 1)
                .replace(
                    &format!("\"version\":{}", v["detail"]["version"]),
                    "\"version\":N",
                );
            snap_text("audit_tail_json", &line);
        } else {
            let seq = line.split_whitespace().next().unwrap();
            let line = format!("N{}", &line[seq.len()..]);
            snap_text("audit_tail", &line);
        }
    }
}
