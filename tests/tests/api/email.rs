//! Email verification: the mailed link, the page it opens, single use, 24 h expiry.

use keyhold_core::ErrorCode;
use keyhold_e2e::TestServer;

#[tokio::test]
async fn link_from_outbox_verifies_once() {
    let ts = TestServer::start().await;
    let p = ts.person("verify").await;
    assert!(!p.client.me().await.unwrap().user.email_verified);
    p.client.request_email_verification().await.unwrap();

    let mail = ts.outbox().await.pop().expect("a message in the outbox");
    assert!(mail.contains(&format!("To: {}", p.email)), "{mail}");
    assert!(mail.contains("Subject: Verify your email for Keyhold"));
    let token = ts
        .mailed_token(&p.email, "/verify-email")
        .await
        .expect("a link");
    assert!(token.starts_with("khv_"));

    // Anyone holding the link can use it (no session needed), once.
    ts.client().verify_email(&token).await.unwrap();
    assert!(p.client.me().await.unwrap().user.email_verified);
    let again = ts.client().verify_email(&token).await.unwrap_err();
    assert_eq!(again.code(), Some(ErrorCode::InvalidRequest));

    // Verified people are told so rather than mailed again.
    let dup = p.client.request_email_verification().await.unwrap_err();
    assert_eq!(dup.code(), Some(ErrorCode::Conflict));
}

#[tokio::test]
async fn link_expires_after_24_hours() {
    let ts = TestServer::start().await;
    let p = ts.person("expire").await;
    p.client.request_email_verification().await.unwrap();
    let token = ts.mailed_token(&p.email, "/verify-email").await.unwrap();
    ts.clock.advance(chrono::Duration::hours(24));
    let err = ts.client().verify_email(&token).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));
    assert!(err.to_string().contains("expired"));
    // Still unverified, and a fresh link works (a new session: the old one idled out).
    let c = ts.login(&p.email, &p.password).await;
    assert!(!c.me().await.unwrap().user.email_verified);
    c.request_email_verification().await.unwrap();
    let fresh = ts.mailed_token(&p.email, "/verify-email").await.unwrap();
    assert_ne!(fresh, token);
    ts.client().verify_email(&fresh).await.unwrap();
    assert!(c.me().await.unwrap().user.email_verified);
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    let ts = TestServer::start().await;
    for bad in [
        "",
        "khv_",
        "not-a-token",
        "khs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ] {
        let err = ts.client().verify_email(bad).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidRequest), "{bad:?}");
    }
    // A well-formed token the server never issued.
    let forged = keyhold_core::credential::Credential::generate(
        keyhold_core::credential::CredentialKind::EmailVerification,
    );
    let err = ts.client().verify_email(forged.expose()).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));
}

#[tokio::test]
async fn the_link_opens_a_page_that_confirms_with_a_button() {
    let ts = TestServer::start().await;
    let p = ts.person("page").await;
    p.client.request_email_verification().await.unwrap();
    let link = ts.mailed_link(&p.email, "/verify-email").await.unwrap();
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let http = reqwest::Client::new();

    // Opening the link changes nothing (mail scanners follow links).
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\""));
    assert!(!p.client.me().await.unwrap().user.email_verified);

    // Pressing the button posts the token.
    let done = http
        .post(format!("{}/verify-email", ts.url()))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Email verified"));
    assert!(p.client.me().await.unwrap().user.email_verified);
}

/// Ask the real server in `server` for a verification mail for a new person: their email.
async fn verification_mail_from(server: &keyhold_e2e::ServerProcess) -> String {
    let (email, token) = server.signed_up("mailmode").await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/me/email/verification", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    email
}

/// Issue 15, item 11: outbox files are created owner-only (0600, in a 0700 directory) by
/// the real binary; in outbox mode the link is logged (the terminal is how it reaches the
/// person running the server).
#[tokio::test]
async fn outbox_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let server = keyhold_e2e::ServerProcess::spawn(dir.path(), &[]);
    let email = verification_mail_from(&server).await;
    let link = keyhold_e2e::mailed_link_in(dir.path(), &server.url, &email, "/verify-email")
        .expect("the link is in the mail");
    let outbox = dir.path().join("outbox");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!files.is_empty());
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    assert_eq!(mode(&outbox), 0o700, "the outbox directory");
    let (_, log) = server.terminate();
    assert!(log.contains(&link), "outbox mode logs the link: {log}");
}

/// A minimal SMTP server on 127.0.0.1 that accepts every message: the messages it got.
fn smtp_sink() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let got2 = got.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut out) = conn else { return };
            let got = got2.clone();
            std::thread::spawn(move || {
                let mut lines = BufReader::new(out.try_clone().unwrap());
                let _ = out.write_all(b"220 sink ESMTP\r\n");
                let mut line = String::new();
                while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
                    let cmd = line.trim_end().to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n".as_slice()
                    } else if cmd == "DATA" {
                        let _ = out.write_all(b"354 go on\r\n");
                        let mut msg = String::new();
                        loop {
                            let mut l = String::new();
                            if lines.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                                break;
                            }
                            msg.push_str(&l);
                        }
                        got.lock().unwrap().push(msg);
                        b"250 queued\r\n".as_slice()
                    } else if cmd == "QUIT" {
                        let _ = out.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        b"250 ok\r\n".as_slice()
                    };
                    let _ = out.write_all(reply);
                    line.clear();
                }
            });
        }
    });
    (port, got)
}

/// Issue 15, item 11: with SMTP configured, the mailed link goes by mail alone: it is not
/// logged, and no outbox is made.
#[tokio::test]
async fn with_smtp_the_link_is_mailed_and_never_logged() {
    let (port, got) = smtp_sink();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{port}");
    let server = keyhold_e2e::ServerProcess::spawn(dir.path(), &[("KEYHOLD_SMTP_URL", &url)]);
    verification_mail_from(&server).await;
    // Sent from the durable outbox just after the answer: wait for it to arrive.
    for _ in 0..200 {
        if !got.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, log) = server.terminate();
    let mails = got.lock().unwrap().clone();
    let mail = mails
        .iter()
        .map(|m| keyhold_e2e::decode_quoted_printable(m))
        .find(|m| m.contains("/verify-email?token=khv_"))
        .unwrap_or_else(|| panic!("the link went by SMTP: {mails:?}"));
    let token = mail
        .split("token=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap();
    assert!(
        !log.contains(token),
        "the link's token is in the log: {log}"
    );
    assert!(
        !log.contains("verify-email?token"),
        "a link is in the log: {log}"
    );
    assert!(!dir.path().join("outbox").exists());
}
