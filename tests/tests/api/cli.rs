//! The `keyhold` binary against a real server: sign-in through the OS keyring, reading,
//! exit codes by kind, and no password or token in any output.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use keyhold_e2e::{STRONG_PASSWORD, TestServer, target_bin};

pub fn keyhold(url: &str, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(target_bin("keyhold"));
    cmd.args(args)
        .env("KEYHOLD_URL", url)
        .env_remove("KEYHOLD_TOKEN")
        .env_remove("KEYHOLD_AGENT_KEY")
        .env_remove("KEYHOLD_AGENT_KEY_ID")
        .env_remove("KEYHOLD_AGENT_KEY_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        // A child that refuses its arguments exits without reading: a broken pipe then.
        let written = child.stdin.take().unwrap().write_all(input.as_bytes());
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_whoami_audit_logout_through_the_keyring() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let email = keyhold_e2e::unique_email("cli");
    ts.signup(&email, STRONG_PASSWORD).await;
    let input = format!("{STRONG_PASSWORD}\n");

    let login = keyhold(
        &url,
        &["login", "--email", &email, "--password-stdin"],
        Some(&input),
        &[],
    );
    assert!(login.status.success(), "{}", text(&login));
    assert!(text(&login).contains(&format!("Signed in as {email}")));

    // A second process finds the session in the keyring.
    let who = keyhold(&url, &["whoami"], None, &[]);
    assert!(who.status.success(), "{}", text(&who));
    let out = String::from_utf8_lossy(&who.stdout);
    assert!(out.lines().next().unwrap().starts_with("EMAIL"), "{out}");
    assert!(out.contains(&email) && out.contains("owner"));

    let who_json = keyhold(&url, &["whoami", "--json"], None, &[]);
    let v: serde_json::Value = serde_json::from_slice(&who_json.stdout).unwrap();
    assert_eq!(v["user"]["email"], email.as_str());

    let audit = keyhold(
        &url,
        &["audit", "--json", "--action", "auth.login"],
        None,
        &[],
    );
    let events: Vec<serde_json::Value> = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(events.len(), 1);
    let table = keyhold(&url, &["audit"], None, &[]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("member.joined"));

    let verify = keyhold(&url, &["audit", "verify"], None, &[]);
    assert!(verify.status.success());
    assert!(text(&verify).contains("Audit chain intact"));
    let csv = keyhold(&url, &["audit", "export", "--format", "csv"], None, &[]);
    assert!(String::from_utf8_lossy(&csv.stdout).starts_with("id,at,actor_type"));

    let all = [login, who, who_json, audit, table, verify, csv];
    for o in &all {
        assert!(!text(o).contains(STRONG_PASSWORD), "password in output");
        assert!(!text(o).contains("khs_"), "session token in output");
    }

    let out = keyhold(&url, &["logout"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let after = keyhold(&url, &["whoami"], None, &[]);
    assert_eq!(after.status.code(), Some(3), "{}", text(&after));
    assert!(text(&after).contains("keyhold login"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_from_the_environment_and_exit_codes_by_kind() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let p = ts.person("cli-env").await;
    let token = p.client.token().unwrap().to_owned();
    let who = keyhold(
        &url,
        &["whoami", "--json"],
        None,
        &[("KEYHOLD_TOKEN", &token)],
    );
    assert!(who.status.success(), "{}", text(&who));

    // Usage errors: unknown flag, bad value, a remote http:// URL.
    assert_eq!(
        keyhold(&url, &["whoami", "--frobnicate"], None, &[])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        keyhold(
            &url,
            &["audit", "--limit", "many"],
            None,
            &[("KEYHOLD_TOKEN", &token)]
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        keyhold(
            &url,
            &["audit", "--limit", "0"],
            None,
            &[("KEYHOLD_TOKEN", &token)]
        )
        .status
        .code(),
        Some(2)
    );
    let remote = keyhold("http://vault.example.com", &["whoami"], None, &[]);
    assert_eq!(remote.status.code(), Some(2));
    assert!(text(&remote).contains("https://"), "{}", text(&remote));
    // --insecure-http lifts the refusal: 0.0.0.0 is not loopback by name, yet on Linux
    // a connection to it reaches this computer's listener.
    let any = url.replace("127.0.0.1", "0.0.0.0");
    let refused = keyhold(&any, &["whoami"], None, &[("KEYHOLD_TOKEN", &token)]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let allowed = keyhold(
        &any,
        &["whoami", "--insecure-http"],
        None,
        &[("KEYHOLD_TOKEN", &token)],
    );
    assert!(allowed.status.success(), "{}", text(&allowed));
    // audit --since: a time after every event shows none; a bad time is a usage error.
    let since = |t: &str| {
        keyhold(
            &url,
            &["audit", "--json", "--since", t],
            None,
            &[("KEYHOLD_TOKEN", &token)],
        )
    };
    let all: Vec<serde_json::Value> =
        serde_json::from_slice(&since("2000-01-01T00:00:00Z").stdout).unwrap();
    assert!(!all.is_empty());
    let none: Vec<serde_json::Value> =
        serde_json::from_slice(&since("2999-01-01T00:00:00Z").stdout).unwrap();
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(since("yesterday").status.code(), Some(2));
    // Authentication: a forged token.
    let forged = keyhold(&url, &["whoami"], None, &[("KEYHOLD_TOKEN", "khs_forged")]);
    assert_eq!(forged.status.code(), Some(3));
    // Server unreachable.
    let down = keyhold(
        "http://127.0.0.1:9",
        &["whoami"],
        None,
        &[("KEYHOLD_TOKEN", &token)],
    );
    assert_eq!(down.status.code(), Some(7), "{}", text(&down));
    // Wrong password at login: refused as authentication, nothing stored.
    let bad = keyhold(
        &url,
        &["login", "--email", &p.email, "--password-stdin"],
        Some("nope nope nope nope\n"),
        &[],
    );
    assert_eq!(bad.status.code(), Some(3));
}

#[test]
fn completions_and_man_page_are_generated() {
    let bash = keyhold("http://127.0.0.1:1", &["completions", "bash"], None, &[]);
    assert!(bash.status.success());
    let bash = String::from_utf8_lossy(&bash.stdout).into_owned();
    assert!(bash.contains("keyhold"));
    for sub in ["approvals", "members", "wait", "invite", "--wait-approval"] {
        assert!(bash.contains(sub), "{sub} missing from the completions");
    }
    let man = keyhold("http://127.0.0.1:1", &["man"], None, &[]);
    let man = String::from_utf8_lossy(&man.stdout).into_owned();
    assert!(man.contains(".TH keyhold"));
    for sub in ["approvals", "members"] {
        assert!(man.contains(sub), "{sub} missing from the man page");
    }
}

/// What a CLI run shows, for a snapshot: exit code, stdout, stderr.
pub fn shown(o: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        o.status
            .code()
            .map_or_else(|| "signal".to_owned(), |c| c.to_string()),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// insta settings that blank what changes from run to run: ids, times, key and token
/// secrets and prefixes, ports, the per-run part of test email addresses, durations left.
pub fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    for (re, with) in [
        // Same width as what they replace, so that tables stay aligned.
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
        ),
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[time]",
        ),
        (
            r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
            "YYYY-MM-DD hh:mm:ss",
        ),
        (r"\bkh([astsi])_[A-Za-z0-9_\-]+", "kh${1}_[secret]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\b[0-9a-f]{64}\b", "[hash]"),
        (
            r"keyhold-client/[0-9][0-9A-Za-z.+-]*",
            "keyhold-client/[version]",
        ),
        (
            r"([a-z][a-z0-9-]*)\.\d+\.\d+@example\.com",
            "${1}@example.com",
        ),
    ] {
        s.add_filter(re, with);
    }
    s
}

/// Snapshot a CLI run under `name` (tests/tests/api/snapshots/NAME.snap).
pub fn snap(name: &str, o: &Output) {
    snap_text(name, &shown(o));
}

/// Snapshot text already made from a run (e.g. with one-time codes blanked).
pub fn snap_text(name: &str, shown: &str) {
    snapshot_settings().bind(|| insta::assert_snapshot!(name, shown));
}
