//! The page a reset link opens: a form without script under a tight CSP; opening it
//! changes nothing, posting it sets the password once.

use keyhold_e2e::{OTHER_STRONG_PASSWORD, STRONG_PASSWORD, TestServer};

use super::{RESET_SUBJECT, ask_reset, mails_to, me_status, nth_reset_token};
use crate::mfa::{enable_2fa, next_code};

async fn post_form(ts: &TestServer, fields: &[(&str, &str)]) -> (u16, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}/reset-password", ts.url()))
        .form(fields)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_link_opens_a_form_that_sets_the_password_once() {
    let ts = TestServer::start().await;
    let p = ts.person("resetpage").await;
    assert_eq!(ask_reset(&ts, &p.email).await, 202);
    nth_reset_token(&ts, &p.email, 1).await;
    let link = ts.mailed_link(&p.email, "/reset-password").await.unwrap();
    assert!(link.starts_with(&format!("{}/reset-password?token=khr_", ts.url())));
    let token = link.split("token=").nth(1).unwrap().to_owned();

    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<form method="post" action="/reset-password">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"type="password" name="new_password""#),
        "{html}"
    );
    assert!(html.contains(r#"name="code""#), "{html}");
    assert!(!html.contains("<script"), "{html}");
    // Opening the page changed nothing.
    assert_eq!(me_status(&ts, p.client.token().unwrap()).await, 200);

    // A weak password: the form again, saying why, the link still good.
    let (status, html) = post_form(
        &ts,
        &[("token", &token), ("new_password", "passwordpassword")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("Choose a different password"), "{html}");
    assert!(html.contains(&format!(r#"value="{token}""#)), "{html}");

    let (status, html) = post_form(
        &ts,
        &[
            ("token", &token),
            ("new_password", OTHER_STRONG_PASSWORD),
            ("code", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Password changed"), "{html}");
    assert_eq!(me_status(&ts, p.client.token().unwrap()).await, 401);
    ts.login(&p.email, OTHER_STRONG_PASSWORD).await;

    let (status, html) =
        post_form(&ts, &[("token", &token), ("new_password", STRONG_PASSWORD)]).await;
    assert_eq!(status, 400);
    assert!(html.contains("Link not valid"), "{html}");
    ts.login(&p.email, OTHER_STRONG_PASSWORD).await;

    // A link without its token, and markup smuggled into one, are shown as nothing more.
    let bare = reqwest::get(format!("{}/reset-password", ts.url()))
        .await
        .unwrap();
    assert!(bare.text().await.unwrap().contains("Link incomplete"));
    let evil = reqwest::get(format!(
        "{}/reset-password?token=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        ts.url()
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(!evil.contains("<script"), "{evil}");
}

#[tokio::test]
async fn with_2fa_on_the_form_asks_for_the_code() {
    let ts = TestServer::start().await;
    let p = ts.person("resetpage2fa").await;
    let e = enable_2fa(&ts, &p.client).await;
    assert_eq!(ask_reset(&ts, &p.email).await, 202);
    let token = nth_reset_token(&ts, &p.email, 1).await;
    assert_eq!(mails_to(&ts, &p.email, RESET_SUBJECT).await.len(), 1);

    let (status, html) = post_form(
        &ts,
        &[("token", &token), ("new_password", OTHER_STRONG_PASSWORD)],
    )
    .await;
    assert_eq!(status, 401);
    assert!(html.contains("two-factor authentication on"), "{html}");
    assert_eq!(me_status(&ts, p.client.token().unwrap()).await, 200);

    let code = next_code(&ts, &e.secret);
    let (status, html) = post_form(
        &ts,
        &[
            ("token", &token),
            ("new_password", OTHER_STRONG_PASSWORD),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(me_status(&ts, p.client.token().unwrap()).await, 401);
}
