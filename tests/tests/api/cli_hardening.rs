//! Issue 15, items 2.8 and 2.12, with the real `keyhold` binary: `keyhold run` passes only
//! safe variable names (a loader or shell variable, or a malformed name, stops it before
//! the command starts), and the CLI follows no redirect (a 307 would re-send a password or
//! a secret value to wherever it points).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use keyhold_e2e::{STRONG_PASSWORD, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::cli::{keyhold, text};

const VALUE: &str = "value-that-must-not-leave-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_refuses_unsafe_variable_names_before_the_command_starts() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let p = ts.person("cli-run-names").await;
    let token = p.client.token().unwrap().to_owned();
    let k = |args: &[&str], stdin: Option<&str>| {
        keyhold(&url, args, stdin, &[("KEYHOLD_TOKEN", token.as_str())])
    };
    let scratch = tempfile::tempdir().unwrap();
    for (i, name) in [
        "LD_PRELOAD",
        "lower",
        "BASH_ENV",
        "NODE_OPTIONS",
        "PATH",
        "DYLD_INSERT_LIBRARIES",
        "A-B",
    ]
    .into_iter()
    .enumerate()
    {
        let prefix = format!("app{i}/");
        for path in [format!("{prefix}GOOD_KEY"), format!("{prefix}{name}")] {
            let o = k(&["secrets", "set", &path, "-"], Some(VALUE));
            assert!(o.status.success(), "{path}: {}", text(&o));
        }
        // The child would leave a file behind if it ran.
        let marker = scratch.path().join(format!("ran-{i}"));
        let script = format!("touch {}", marker.display());
        let o = k(
            &["run", "--prefix", &prefix, "--", "sh", "-c", &script],
            None,
        );
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        assert!(
            text(&o).contains(&format!("{prefix}{name}")),
            "the error names the secret: {}",
            text(&o)
        );
        assert!(text(&o).contains("Nothing was run"), "{}", text(&o));
        assert!(!marker.exists(), "the command ran despite {name}");
        assert!(!text(&o).contains(VALUE), "a value was printed");
    }
    // With only safe names the same command runs.
    let ok = k(&["secrets", "set", "fine/GOOD_KEY", "-"], Some(VALUE));
    assert!(ok.status.success(), "{}", text(&ok));
    let marker = scratch.path().join("ran-fine");
    let script = format!(
        "test \"$GOOD_KEY\" = '{VALUE}' && touch {}",
        marker.display()
    );
    let o = k(
        &["run", "--prefix", "fine/", "--", "sh", "-c", &script],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(marker.exists(), "the command did not run");
}

/// Answers every request with a 307 to `target`; counts connections to `target`.
async fn redirector() -> (String, Arc<AtomicUsize>) {
    let second = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = format!("http://{}", second.local_addr().unwrap());
    let reached = Arc::new(AtomicUsize::new(0));
    let counted = reached.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = second.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0u8; 8192];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                .await;
        }
    });
    let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", first.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = first.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = s.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}/v1/elsewhere\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = s.write_all(answer.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (url, reached)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_follows_no_redirect() {
    let (url, reached) = redirector().await;
    let run = |args: Vec<String>, stdin: Option<String>, env: Vec<(String, String)>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            keyhold(&url, &args, stdin.as_deref(), &env)
        })
    };
    let s = |v: &[&str]| v.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    // A password (sign-in) and a secret value (write) would both go to the 307's target.
    let login = run(
        s(&[
            "login",
            "--email",
            "someone@example.com",
            "--password-stdin",
        ]),
        Some(format!("{STRONG_PASSWORD}\n")),
        Vec::new(),
    )
    .await
    .unwrap();
    let token = vec![(
        "KEYHOLD_TOKEN".to_owned(),
        "khs_not_a_real_session".to_owned(),
    )];
    let write = run(
        s(&["secrets", "set", "app/KEY", "-"]),
        Some(VALUE.to_owned()),
        token.clone(),
    )
    .await
    .unwrap();
    let read = run(s(&["whoami"]), None, token).await.unwrap();
    for o in [&login, &write, &read] {
        assert_eq!(o.status.code(), Some(7), "{}", text(o));
        assert!(text(o).contains("redirect (HTTP 307"), "{}", text(o));
        assert!(text(o).contains("follows no redirects"), "{}", text(o));
        assert!(!text(o).contains(STRONG_PASSWORD) && !text(o).contains(VALUE));
    }
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "a request followed the redirect to the second listener"
    );
}
