//! Email verification: the mailed link, the page it opens, single use, 24 h expiry.

use keyhold_core::ErrorCode;
use keyhold_e2e::TestServer;

#[tokio::test]
async fn link_from_outbox_verifies_once() {
    let ts = TestServer::start().await;
    let p = ts.person("verify").await;
    assert!(!p.client.me().await.unwrap().user.email_verified);
    p.client.request_email_verification().await.unwrap();

    let mail = ts.outbox().pop().expect("a message in the outbox");
    assert!(mail.contains(&format!("To: {}", p.email)), "{mail}");
    assert!(mail.contains("Subject: Verify your email for Keyhold"));
    let token = ts.mailed_token(&p.email, "/verify-email").expect("a link");
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
    let token = ts.mailed_token(&p.email, "/verify-email").unwrap();
    ts.clock.advance(chrono::Duration::hours(24));
    let err = ts.client().verify_email(&token).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));
    assert!(err.to_string().contains("expired"));
    // Still unverified, and a fresh link works (a new session: the old one idled out).
    let c = ts.login(&p.email, &p.password).await;
    assert!(!c.me().await.unwrap().user.email_verified);
    c.request_email_verification().await.unwrap();
    let fresh = ts.mailed_token(&p.email, "/verify-email").unwrap();
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
    let link = ts.mailed_link(&p.email, "/verify-email").unwrap();
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
