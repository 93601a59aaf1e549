//! `keyhold secrets …` and `keyhold run` against a real server: values in and out by every
//! route, versions, listing, deletion, `run`'s environment and exit status, and no value in
//! the output of any command but `secrets get`.

use std::process::Output;

use keyhold_e2e::TestServer;

use crate::cli::{keyhold, text};

const GEMINI: &str = "AIzaSy-gemini-value-0123456789";
const GEMINI_V2: &str = "AIzaSy-gemini-rotated-9876543210";
const MODEL: &str = "gemini-2.5-pro-secret-model-name";
const STRIPE: &str = "sk_live_stripe_value_abcdef";

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", text(o));
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_get_list_versions_rm_and_values_only_from_get() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let p = ts.person("cli-secrets").await;
    let token = p.client.token().unwrap().to_owned();
    let env = [("KEYHOLD_TOKEN", token.as_str())];
    let k = |args: &[&str], stdin: Option<&str>| keyhold(&url, args, stdin, &env);
    let mut others: Vec<Output> = Vec::new();

    // Stdin with `-` (one trailing newline dropped), a type and a tier.
    let set = k(
        &[
            "secrets",
            "set",
            "production/gemini/GEMINI_API_KEY",
            "-",
            "--type",
            "api_key",
        ],
        Some(&format!("{GEMINI}\n")),
    );
    ok(&set);
    assert_eq!(
        stdout(&set),
        "Wrote production/gemini/GEMINI_API_KEY version 1 (standard, api_key).\n"
    );
    others.push(set);
    // From a file, byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.txt");
    std::fs::write(&file, MODEL).unwrap();
    let set = k(
        &[
            "secrets",
            "set",
            "production/gemini/GEMINI_MODEL",
            "--from-file",
            file.to_str().unwrap(),
        ],
        None,
    );
    ok(&set);
    others.push(set);
    // As an argument: accepted, with a warning.
    let set = k(
        &["secrets", "set", "production/stripe/STRIPE_KEY", STRIPE],
        None,
    );
    ok(&set);
    assert!(String::from_utf8_lossy(&set.stderr).contains("warning"));
    // Its stdout is clean; the echo of argv in a warning would be the only leak.
    assert!(!stdout(&set).contains(STRIPE));
    assert!(!String::from_utf8_lossy(&set.stderr).contains(STRIPE));
    // Rotation: version 2, JSON output.
    let set = k(
        &[
            "secrets",
            "set",
            "production/gemini/GEMINI_API_KEY",
            "-",
            "--json",
        ],
        Some(GEMINI_V2),
    );
    ok(&set);
    let v: serde_json::Value = serde_json::from_slice(&set.stdout).unwrap();
    assert_eq!(v["version"], 2);
    assert_eq!(v["type"], "api_key");
    others.push(set);

    // get: the value and a newline; --silent: the value exactly; --version; --json.
    let get = k(
        &["secrets", "get", "production/gemini/GEMINI_API_KEY"],
        None,
    );
    ok(&get);
    assert_eq!(stdout(&get), format!("{GEMINI_V2}\n"));
    assert!(get.stderr.is_empty());
    let get = k(
        &[
            "secrets",
            "get",
            "production/gemini/GEMINI_MODEL",
            "--silent",
        ],
        None,
    );
    assert_eq!(stdout(&get), MODEL);
    let get = k(
        &[
            "secrets",
            "get",
            "production/gemini/GEMINI_API_KEY",
            "--version",
            "1",
        ],
        None,
    );
    assert_eq!(stdout(&get), format!("{GEMINI}\n"));
    let get = k(
        &[
            "secrets",
            "get",
            "production/gemini/GEMINI_API_KEY",
            "--json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&get.stdout).unwrap();
    assert_eq!(v["value"], GEMINI_V2);
    assert_eq!(v["version"], 2);

    // list: table and JSON, with and without a prefix.
    let list = k(&["secrets", "list", "--prefix", "production/gemini/"], None);
    ok(&list);
    let out = stdout(&list);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("PATH"), "{out}");
    assert_eq!(lines.len(), 3, "{out}");
    assert!(out.contains("production/gemini/GEMINI_API_KEY") && out.contains("api_key"));
    assert!(!out.contains("STRIPE"));
    others.push(list);
    let list = k(&["secrets", "list", "--json"], None);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(items.len(), 3);
    others.push(list);

    // versions: table and JSON.
    let versions = k(
        &["secrets", "versions", "production/gemini/GEMINI_API_KEY"],
        None,
    );
    ok(&versions);
    assert!(stdout(&versions).contains("current version 2"));
    assert!(stdout(&versions).contains("VERSION"));
    others.push(versions);
    let versions = k(
        &[
            "secrets",
            "versions",
            "production/gemini/GEMINI_API_KEY",
            "--json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&versions.stdout).unwrap();
    assert_eq!(v["versions"].as_array().unwrap().len(), 2);
    others.push(versions);

    // Wrong flags and bad values: clear errors, exit 2, nothing written.
    let bad: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (
            vec!["secrets", "set", "../etc/passwd", "-"],
            Some("x"),
            "path",
        ),
        (
            vec!["secrets", "set", "production/x/Y", "-", "--tier", "secret"],
            Some("x"),
            "standard, sensitive or critical",
        ),
        (
            vec!["secrets", "set", "production/x/Y", "-", "--type", "token"],
            Some("x"),
            "api_key",
        ),
        (
            vec![
                "secrets",
                "set",
                "production/x/Y",
                "v",
                "--from-file",
                "/etc/hostname",
            ],
            None,
            "cannot be used with",
        ),
        (
            vec![
                "secrets",
                "set",
                "production/x/Y",
                "--from-file",
                "/nonexistent/file",
            ],
            None,
            "cannot read",
        ),
        (
            vec!["secrets", "set", "production/x/Y", "-"],
            Some(""),
            "empty",
        ),
        (
            vec!["secrets", "get", "production/x/Y", "--version", "two"],
            None,
            "invalid value",
        ),
        (
            vec!["secrets", "list", "--prefix", "a//b"],
            None,
            "invalid value",
        ),
        (
            vec!["secrets", "frobnicate"],
            None,
            "unrecognized subcommand",
        ),
    ];
    for (args, stdin, says) in bad {
        let o = k(&args, stdin);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{args:?}: {}", text(&o));
        others.push(o);
    }
    let list = k(&["secrets", "list", "--json"], None);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(items.len(), 3, "a refused command wrote something");

    // Not found and unauthenticated, by exit code.
    let missing = k(&["secrets", "get", "production/nothing/HERE"], None);
    assert_eq!(missing.status.code(), Some(4), "{}", text(&missing));
    let anon = keyhold(&url, &["secrets", "list"], None, &[]);
    assert_eq!(anon.status.code(), Some(3), "{}", text(&anon));

    // rm, then it is gone.
    let rm = k(&["secrets", "rm", "production/stripe/STRIPE_KEY"], None);
    ok(&rm);
    others.push(rm);
    let gone = k(&["secrets", "get", "production/stripe/STRIPE_KEY"], None);
    assert_eq!(gone.status.code(), Some(4));
    others.push(gone);
    let rm = k(&["secrets", "rm", "production/stripe/STRIPE_KEY"], None);
    assert_eq!(rm.status.code(), Some(4));
    others.push(rm);

    // The audit log, whoami and security are "other commands" too.
    for args in [
        vec!["audit", "--limit", "500"],
        vec!["audit", "--json", "--limit", "500"],
        vec!["audit", "export", "--format", "csv"],
        vec!["whoami"],
        vec!["security", "--json"],
    ] {
        let o = k(&args, None);
        ok(&o);
        others.push(o);
    }

    for o in &others {
        let t = text(o);
        for value in [GEMINI, GEMINI_V2, MODEL, STRIPE] {
            assert!(
                !t.contains(value),
                "a secret value in the output of a command other than get: {t}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_passes_the_secrets_and_the_exit_status_and_leaves_no_file() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let p = ts.person("cli-run").await;
    let token = p.client.token().unwrap().to_owned();
    let k = |args: &[&str], stdin: Option<&str>, extra: &[(&str, &str)]| {
        let mut env = vec![("KEYHOLD_TOKEN", token.as_str())];
        env.extend_from_slice(extra);
        keyhold(&url, args, stdin, &env)
    };
    for (path, value) in [
        ("production/gemini/GEMINI_API_KEY", GEMINI),
        ("production/gemini/GEMINI_MODEL", MODEL),
        ("production/stripe/STRIPE_KEY", STRIPE),
    ] {
        ok(&k(&["secrets", "set", path, "-"], Some(value), &[]));
    }

    // A scratch HOME, TMPDIR and working directory: empty before, empty after.
    let scratch = tempfile::tempdir().unwrap();
    let s = scratch.path().to_str().unwrap();
    let script = format!(
        "cd {s}; test \"$GEMINI_API_KEY\" = '{GEMINI}' || exit 90; \
         test \"$GEMINI_MODEL\" = '{MODEL}' || exit 91; \
         test -z \"$STRIPE_KEY\" || exit 92; \
         test -z \"$KEYHOLD_TOKEN\" || exit 93; \
         echo child ran; exit 42"
    );
    let run = k(
        &[
            "run",
            "--prefix",
            "production/gemini/",
            "--",
            "sh",
            "-c",
            &script,
        ],
        None,
        &[("HOME", s), ("TMPDIR", s)],
    );
    assert_eq!(run.status.code(), Some(42), "{}", text(&run));
    assert_eq!(stdout(&run), "child ran\n");
    assert!(!text(&run).contains(GEMINI) && !text(&run).contains(MODEL));
    assert_eq!(
        std::fs::read_dir(scratch.path()).unwrap().count(),
        0,
        "keyhold run left a file behind"
    );

    // Status 0 passes through too, and the child's arguments are its own.
    let run = k(
        &[
            "run",
            "--prefix",
            "production/stripe",
            "--",
            "sh",
            "-c",
            "test -n \"$STRIPE_KEY\"",
            "--json",
        ],
        None,
        &[],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));

    // No command, a command that does not exist, a bad prefix, no credential.
    let none = k(&["run", "--prefix", "production/gemini/"], None, &[]);
    assert_eq!(none.status.code(), Some(2), "{}", text(&none));
    let missing = k(
        &[
            "run",
            "--prefix",
            "production/gemini/",
            "--",
            "/nonexistent/program",
        ],
        None,
        &[],
    );
    assert_eq!(missing.status.code(), Some(127), "{}", text(&missing));
    assert!(text(&missing).contains("cannot run /nonexistent/program"));
    let bad = k(&["run", "--prefix", "../x", "--", "true"], None, &[]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let anon = keyhold(
        &url,
        &["run", "--prefix", "production/", "--", "true"],
        None,
        &[],
    );
    assert_eq!(anon.status.code(), Some(3), "{}", text(&anon));
    // Two secrets with the same last segment under the prefix: refused before running.
    ok(&k(
        &["secrets", "set", "production/other/GEMINI_MODEL", "-"],
        Some("x"),
        &[],
    ));
    let clash = k(&["run", "--prefix", "production/", "--", "true"], None, &[]);
    assert_eq!(clash.status.code(), Some(2), "{}", text(&clash));
    assert!(text(&clash).contains("GEMINI_MODEL"));
}
