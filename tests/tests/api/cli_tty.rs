//! What `keyhold` does on a terminal: prompts for a critical approval's code, a password,
//! a 2FA code and a secret's value do not echo, and waiting shows a spinner with the
//! time left. The terminal is a real
//! pseudo-terminal made by util-linux `script`, which records everything shown on it.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration as StdDuration, Instant};

use keyhold_core::api::Role;
use keyhold_core::tier::Tier;
use keyhold_e2e::{STRONG_PASSWORD, TestServer, target_bin};

use crate::cli::{keyhold, text};
use crate::cli_approvals::{join, owner};
use crate::mfa::{enable_2fa, next_code};
use crate::support::{key, p};

/// Run `keyhold ARGS` on a pseudo-terminal. Each `(prompt, answer)` is typed once its
/// prompt has been shown, in order. Returns everything the terminal showed, and the exit
/// status.
fn on_terminal(
    url: &str,
    args: &[&str],
    env: &[(&str, &str)],
    prompts: &[(&str, &str)],
) -> (String, Option<i32>) {
    let line = std::iter::once(target_bin("keyhold").display().to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("script");
    cmd.args(["-qefc", &line, "/dev/null"])
        .env("KEYHOLD_URL", url)
        .env_remove("KEYHOLD_TOKEN")
        .env_remove("KEYHOLD_AGENT_KEY")
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut stdin = child.stdin.take();
    let mut seen = Vec::new();
    let mut answered = 0;
    let deadline = Instant::now() + StdDuration::from_secs(60);
    loop {
        match rx.recv_timeout(StdDuration::from_millis(100)) {
            Ok(chunk) => seen.extend(chunk),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Some((wanted, typed)) = prompts.get(answered)
            && String::from_utf8_lossy(&seen).matches(wanted).count()
                > answered_of(prompts, answered, wanted)
        {
            // The prompt is up, so echo is already off: type the answer now.
            std::thread::sleep(StdDuration::from_millis(200));
            let s = stdin.as_mut().unwrap();
            s.write_all(format!("{typed}\r").as_bytes()).unwrap();
            s.flush().unwrap();
            answered += 1;
        }
        assert!(
            Instant::now() < deadline,
            "no end: {}",
            String::from_utf8_lossy(&seen)
        );
    }
    drop(stdin);
    let status = child.wait().unwrap();
    (String::from_utf8_lossy(&seen).into_owned(), status.code())
}

/// How many of the prompts before `i` read `wanted` (their text is on the terminal
/// already, so the next one is the one after them).
fn answered_of(prompts: &[(&str, &str)], i: usize, wanted: &str) -> usize {
    prompts[..i].iter().filter(|(w, _)| *w == wanted).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_do_not_echo_and_waiting_shows_a_spinner() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    boss.client
        .put_secret(
            &p("p/SIGNING_KEY"),
            "the-signing-key",
            None,
            Some(Tier::Critical),
        )
        .await
        .unwrap();
    let agent = key(&boss, &["secrets:read:p/*"])
        .await
        .secret
        .expose()
        .clone();
    let a = join(&ts, &boss.client, "alice@example.com", Role::Approver).await;
    let totp = enable_2fa(&ts, &a).await.secret;
    let a_token = a.token().unwrap().to_owned();
    let agent_env = [("KEYHOLD_AGENT_KEY", agent.as_str())];
    let asks = keyhold(&url, &["secrets", "get", "p/SIGNING_KEY"], None, &agent_env);
    assert_eq!(asks.status.code(), Some(5), "{}", text(&asks));
    let id = a.list_approvals(None, None, None).await.unwrap().items[0]
        .id
        .clone();

    // Waiting on a terminal: a spinner with the votes and the time left.
    let url2 = url.clone();
    let id2 = id.clone();
    let agent2 = agent.clone();
    let (shown, code) = tokio::task::spawn_blocking(move || {
        on_terminal(
            &url2,
            &["approvals", "wait", &id2, "--timeout", "3s"],
            &[("KEYHOLD_AGENT_KEY", agent2.as_str())],
            &[],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, Some(5), "{shown}");
    assert!(
        shown.contains(&format!(
            "Waiting for approval {id} of p/SIGNING_KEY (0/2 approvals,"
        )),
        "no spinner: {shown}"
    );
    assert!(shown.contains(" left)"), "no time left: {shown}");

    // get --wait-approval on a terminal: the same spinner, until Alice says no.
    let url1 = url.clone();
    let agent1 = agent.clone();
    let getter = tokio::task::spawn_blocking(move || {
        on_terminal(
            &url1,
            &["secrets", "get", "p/SIGNING_KEY", "--wait-approval"],
            &[("KEYHOLD_AGENT_KEY", agent1.as_str())],
            &[],
        )
    });
    // Once its read has been refused (audited), give the spinner time to draw, then deny.
    let refused_reads = || async {
        boss.client
            .audit(&keyhold_core::api::AuditQuery {
                action: Some("secret.read".to_owned()),
                limit: Some(500),
                ..Default::default()
            })
            .await
            .unwrap()
            .items
            .len()
    };
    let before = refused_reads().await;
    for _ in 0..600 {
        if refused_reads().await > before {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    a.deny(&id, "not now").await.unwrap();
    let (shown, code) = getter.await.unwrap();
    assert_eq!(code, Some(8), "{shown}");
    assert!(
        shown.contains(&format!(
            "Waiting for approval {id} of p/SIGNING_KEY (0/2 approvals,"
        )),
        "no spinner: {shown}"
    );
    assert!(shown.contains("not now"), "{shown}");
    assert!(!shown.contains("the-signing-key"), "{shown}");
    let asks = keyhold(&url, &["secrets", "get", "p/SIGNING_KEY"], None, &agent_env);
    assert_eq!(asks.status.code(), Some(5), "{}", text(&asks));
    let id = a
        .list_approvals(Some(keyhold_core::api::ApprovalStatus::Pending), None, None)
        .await
        .unwrap()
        .items[0]
        .id
        .clone();

    // A critical approval on a terminal without --code asks, without echo.
    let code = next_code(&ts, &totp);
    let typed = code.clone();
    let url3 = url.clone();
    let id3 = id.clone();
    let (shown, status) = tokio::task::spawn_blocking(move || {
        on_terminal(
            &url3,
            &["approvals", "approve", &id3],
            &[("KEYHOLD_TOKEN", a_token.as_str())],
            &[("(not echoed): ", &typed)],
        )
    })
    .await
    .unwrap();
    assert_eq!(status, Some(0), "{shown}");
    assert!(shown.contains("is counted (1/2 approvals)"), "{shown}");
    assert!(!shown.contains(&code), "the code was echoed: {shown}");
    assert_eq!(a.approval(&id).await.unwrap().approvals.len(), 1);

    // Sign-in with 2FA on a terminal: neither the password nor the code shows.
    let code = next_code(&ts, &totp);
    let typed = code.clone();
    let url4 = url.clone();
    let (shown, status) = tokio::task::spawn_blocking(move || {
        on_terminal(
            &url4,
            &["login", "--email", "alice@example.com"],
            &[],
            &[("Password: ", STRONG_PASSWORD), ("(not echoed): ", &typed)],
        )
    })
    .await
    .unwrap();
    assert_eq!(status, Some(0), "{shown}");
    assert!(shown.contains("Signed in as alice@example.com"), "{shown}");
    assert!(
        !shown.contains(STRONG_PASSWORD),
        "the password was echoed: {shown}"
    );
    assert!(!shown.contains(&code), "the code was echoed: {shown}");

    // A value typed at the `secrets set` prompt does not show either.
    let url5 = url.clone();
    let boss_token = boss.client.token().unwrap().to_owned();
    let (shown, status) = tokio::task::spawn_blocking(move || {
        on_terminal(
            &url5,
            &["secrets", "set", "p/TYPED"],
            &[("KEYHOLD_TOKEN", boss_token.as_str())],
            &[("Value (not echoed): ", "typed-secret-value-42")],
        )
    })
    .await
    .unwrap();
    assert_eq!(status, Some(0), "{shown}");
    assert!(
        !shown.contains("typed-secret-value-42"),
        "the value was echoed: {shown}"
    );
    let v = boss.client.get_secret(&p("p/TYPED"), None).await.unwrap();
    assert_eq!(v.value.expose(), "typed-secret-value-42");
}
