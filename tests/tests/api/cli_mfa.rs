//! `keyhold mfa …`, `keyhold security` and a 2FA sign-in against a real server, with codes
//! made by `oathtool` from the key the CLI shows at enrollment.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use keyhold_e2e::{STRONG_PASSWORD, TestServer, target_bin};

use crate::cli::{keyhold, text};
use crate::mfa::{code_now, next_code};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_sign_in_with_a_code_new_backup_codes_disable() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let p = ts.person("cli-mfa").await;
    let session = p.client.token().unwrap().to_owned();
    let env = [("KEYHOLD_TOKEN", session.as_str())];

    let before = keyhold(&url, &["security", "--json"], None, &env);
    assert!(before.status.success(), "{}", text(&before));
    let v: serde_json::Value = serde_json::from_slice(&before.stdout).unwrap();
    let score_before = v["score"].as_u64().unwrap();
    let human = keyhold(&url, &["security"], None, &env);
    let out = String::from_utf8_lossy(&human.stdout).into_owned();
    assert!(out.starts_with("Security score: "), "{out}");
    assert!(out.contains("FACTOR") && out.contains("mfa"), "{out}");

    // Enroll: QR and key on stderr, a code typed in, backup codes on stdout.
    let mut child = Command::new(target_bin("keyhold"))
        .args(["mfa", "enroll"])
        .env("KEYHOLD_URL", &url)
        .env("KEYHOLD_TOKEN", &session)
        .env_remove("KEYHOLD_AGENT_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut shown = String::new();
    let key = loop {
        let mut line = String::new();
        assert_ne!(
            err.read_line(&mut line).unwrap(),
            0,
            "no key shown: {shown}"
        );
        shown.push_str(&line);
        if let Some(k) = line.trim().strip_prefix("Or enter this key by hand: ") {
            break k.to_owned();
        }
    };
    assert!(
        shown.contains('▀') || shown.contains('█'),
        "no QR drawn: {shown}"
    );
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", code_now(&ts, &key)).unwrap();
    drop(stdin);
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{shown}{rest}");
    let backup: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(backup.len(), 10, "{backup:?}");
    assert!(rest.contains("shown only this once"), "{rest}");
    // Snapshot: the QR code (its size follows the address) and the one-time key and
    // codes blanked.
    let mut stderr = String::new();
    let mut in_qr = false;
    for line in format!("{shown}{rest}").replace(&key, "[totp key]").lines() {
        let qr_line = !line.trim().is_empty() && line.chars().all(|c| " █▀▄".contains(c));
        if qr_line && !in_qr {
            stderr.push_str("[qr code]\n");
        } else if !qr_line {
            stderr.push_str(line);
            stderr.push('\n');
        }
        in_qr = qr_line;
    }
    crate::cli::snap_text(
        "mfa_enroll",
        &format!(
            "exit: 0\n--- stdout\n{}--- stderr\n{stderr}",
            "[backup code]\n".repeat(backup.len())
        ),
    );

    let status = keyhold(&url, &["mfa", "status", "--json"], None, &env);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["totp_enabled"], true);
    assert_eq!(v["backup_codes_remaining"], 10);
    let after = keyhold(&url, &["security", "--json"], None, &env);
    let v: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert!(v["score"].as_u64().unwrap() > score_before);

    // Sign in: password, then the code on the next line; the session lands in the keyring.
    let wrong = keyhold(
        &url,
        &["login", "--email", &p.email, "--password-stdin"],
        Some(&format!("{STRONG_PASSWORD}\n000000\n")),
        &[],
    );
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong));
    let none = keyhold(
        &url,
        &["login", "--email", &p.email, "--password-stdin"],
        Some(&format!("{STRONG_PASSWORD}\n")),
        &[],
    );
    assert_eq!(none.status.code(), Some(3), "{}", text(&none));
    let login = keyhold(
        &url,
        &["login", "--email", &p.email, "--password-stdin"],
        Some(&format!("{STRONG_PASSWORD}\n{}\n", next_code(&ts, &key))),
        &[],
    );
    assert!(login.status.success(), "{}", text(&login));
    assert!(text(&login).contains("Signed in as"));
    let who = keyhold(&url, &["whoami", "--json"], None, &[]);
    let v: serde_json::Value = serde_json::from_slice(&who.stdout).unwrap();
    assert_eq!(v["user"]["mfa_enabled"], true);

    // New backup codes (keyring session, fresh code): the old set is void.
    let wrong = keyhold(&url, &["mfa", "backup-codes"], Some("123\n"), &[]);
    assert_ne!(wrong.status.code(), Some(0), "{}", text(&wrong));
    let empty = keyhold(&url, &["mfa", "backup-codes"], Some("\n"), &[]);
    assert_eq!(empty.status.code(), Some(2), "{}", text(&empty));
    let fresh = keyhold(
        &url,
        &["mfa", "backup-codes", "--json"],
        Some(&format!("{}\n", next_code(&ts, &key))),
        &[],
    );
    assert!(fresh.status.success(), "{}", text(&fresh));
    let v: serde_json::Value = serde_json::from_slice(&fresh.stdout).unwrap();
    let codes: Vec<String> = v["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    let old = keyhold(
        &url,
        &["mfa", "disable"],
        Some(&format!("{}\n", backup[0])),
        &[],
    );
    assert_ne!(old.status.code(), Some(0), "an old backup code still works");

    // Disable with a new backup code.
    let off = keyhold(
        &url,
        &["mfa", "disable"],
        Some(&format!("{}\n", codes[0])),
        &[],
    );
    assert!(off.status.success(), "{}", text(&off));
    let status = keyhold(&url, &["mfa", "status"], None, &[]);
    assert!(String::from_utf8_lossy(&status.stdout).contains("no"));
    let out = keyhold(&url, &["logout"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
}
