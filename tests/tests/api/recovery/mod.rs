//! Account recovery (issue 18, item 5) against the real server: the password reset by a
//! mailed link (`password`), with and without 2FA; the page the link opens (`page`); an
//! owner or admin resetting a member's 2FA (`member_mfa`); and the operator's
//! `keyhold-server admin reset-2fa` run as the real binary (`operator`).
//!
//! Requests go over plain HTTP (reqwest) so each test sees the exact status and error body
//! the contract names; TOTP codes come from `oathtool`, never from the server's own code.

mod member_mfa;
mod operator;
mod page;
mod password;

use std::time::Duration;

use keyhold_e2e::{TestServer, decode_quoted_printable};
use serde_json::{Value, json};

/// `POST /v1/auth/password-reset {email}`: the status.
pub async fn ask_reset(ts: &TestServer, email: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/v1/auth/password-reset", ts.url()))
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `POST /v1/auth/password-reset/confirm`: the status and the body (`null` when empty).
pub async fn confirm(
    ts: &TestServer,
    token: &str,
    password: &str,
    code: Option<&str>,
) -> (u16, Value) {
    let mut body = json!({ "token": token, "new_password": password });
    if let Some(c) = code {
        body["code"] = c.into();
    }
    post(ts, None, "/v1/auth/password-reset/confirm", body).await
}

/// A JSON POST, with a bearer token when given: the status and the body (`null` when
/// empty).
pub async fn post(ts: &TestServer, bearer: Option<&str>, path: &str, body: Value) -> (u16, Value) {
    let mut rb = reqwest::Client::new()
        .post(format!("{}{path}", ts.url()))
        .json(&body);
    if let Some(b) = bearer {
        rb = rb.bearer_auth(b);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, value)
}

/// The error code and, if any, `reason` of an error body.
pub fn code_of(body: &Value) -> (&str, &str) {
    (
        body["error"]["code"].as_str().unwrap_or_default(),
        body["error"]["reason"].as_str().unwrap_or_default(),
    )
}

/// The messages that have gone to `to` with `subject` in their subject line, once the
/// outbox has delivered what is due.
pub async fn mails_to(ts: &TestServer, to: &str, subject: &str) -> Vec<String> {
    ts.outbox()
        .await
        .into_iter()
        .map(|m| decode_quoted_printable(&m))
        .filter(|m| m.contains(&format!("To: {to}")) && m.contains(&format!("Subject: {subject}")))
        .collect()
}

pub const RESET_SUBJECT: &str = "Reset your Keyhold password";

/// Wait (the link is issued after the answer) until `n` reset mails have gone to `to`,
/// and return the token of the newest.
pub async fn nth_reset_token(ts: &TestServer, to: &str, n: usize) -> String {
    for _ in 0..200 {
        if mails_to(ts, to, RESET_SUBJECT).await.len() >= n {
            let token = ts
                .mailed_token(to, "/reset-password")
                .await
                .expect("a reset link");
            assert!(token.starts_with("khr_"), "{token}");
            return token;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no reset mail #{n} to {to}: {:#?}", ts.outbox().await);
}

/// Ask for a reset of `email` and return the mailed token.
pub async fn reset_token(ts: &TestServer, email: &str) -> String {
    let before = mails_to(ts, email, RESET_SUBJECT).await.len();
    assert_eq!(ask_reset(ts, email).await, 202);
    nth_reset_token(ts, email, before + 1).await
}

/// The newest notice to `to` whose subject contains `subject`, waiting for it a little.
pub async fn notice(ts: &TestServer, to: &str, subject: &str) -> String {
    for _ in 0..100 {
        if let Some(m) = mails_to(ts, to, &format!("Keyhold: {subject}")).await.pop() {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no notice \"{subject}\" to {to}: {:#?}", ts.outbox().await);
}

/// The status of `GET /v1/me` with a session token: 200 while the session lives.
pub async fn me_status(ts: &TestServer, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/v1/me", ts.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
