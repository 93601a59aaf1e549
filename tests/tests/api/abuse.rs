//! Login throttling, password policy refusals and bad input: each gets the contract's
//! error and changes nothing.

use keyhold_core::api::{AuditQuery, SignupRequest};
use keyhold_core::{ErrorBody, ErrorCode, Sensitive};
use keyhold_e2e::{STRONG_PASSWORD, TestServer, unique_email};

fn req(email: &str, password: &str) -> SignupRequest {
    SignupRequest {
        email: email.to_owned(),
        password: Sensitive::new(password.to_owned()),
        display_name: None,
        invitation: None,
    }
}

#[tokio::test]
async fn more_than_ten_failures_a_minute_is_429_and_audited() {
    let ts = TestServer::start().await;
    let p = ts.person("throttle").await;
    for i in 0..10 {
        let e = ts
            .client()
            .login(&p.email, "not the password, attempt")
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(401), "attempt {i}");
    }
    let e = ts
        .client()
        .login(&p.email, STRONG_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::RateLimited));
    match &e {
        keyhold_client::ClientError::Api { retry_after, .. } => {
            let secs = retry_after.expect("Retry-After header");
            assert!((1..=60).contains(&secs), "{secs}");
        }
        other => panic!("{other:?}"),
    }
    let denied = p
        .client
        .audit(&AuditQuery {
            action: Some("auth.login".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        denied
            .items
            .iter()
            .any(|e| e.outcome == "denied" && e.detail["reason"] == "rate_limited")
    );
    // A minute later the right password works again.
    ts.clock.advance(chrono::Duration::seconds(61));
    ts.login(&p.email, STRONG_PASSWORD)
        .await
        .me()
        .await
        .unwrap();
}

#[tokio::test]
async fn password_policy_names_its_reasons() {
    let ts = TestServer::start().await;
    let email = unique_email("policy");
    let cases: [(&str, String, &str); 4] = [
        ("14 characters", "qz7$Kp2!vW9#mR".to_owned(), "too_short"),
        ("129 characters", "x".repeat(129), "too_long"),
        (
            "common password",
            "passwordpassword".to_owned(),
            "too_guessable",
        ),
        (
            "contains the email",
            format!("{}-vault-key-2026!", email.split('@').next().unwrap()),
            "contains_email",
        ),
    ];
    for (what, pw, reason) in cases {
        let err = ts.client().signup(&req(&email, &pw)).await.unwrap_err();
        assert_eq!(err.status(), Some(422), "{what}");
        match &err {
            keyhold_client::ClientError::Api { extra, message, .. } => {
                let reasons = extra["reasons"].as_array().unwrap();
                assert!(reasons.iter().any(|r| r == reason), "{what}: {reasons:?}");
                assert!(!message.is_empty());
                assert!(!message.contains(&pw), "the password must not be echoed");
            }
            other => panic!("{other:?}"),
        }
    }
    // Nothing was created.
    assert!(ts.client().login(&email, STRONG_PASSWORD).await.is_err());
    ts.signup(&email, STRONG_PASSWORD).await;
}

/// argon2id runs so far, from the server's own metric.
pub async fn hash_runs(ts: &TestServer) -> u64 {
    let text = reqwest::get(format!("{}/metrics", ts.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("keyhold_password_hashes_total "))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("keyhold_password_hashes_total in /metrics")
}

#[tokio::test]
async fn oversize_password_is_refused_without_hashing() {
    let ts = TestServer::start().await;
    let before = hash_runs(&ts).await;
    let err = ts
        .client()
        .signup(&req(&unique_email("huge"), &"a".repeat(129)))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    let err = ts
        .client()
        .signup(&req(&unique_email("huge"), &"a".repeat(40_000)))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    let login = ts
        .client()
        .login(&unique_email("huge"), &"b".repeat(129))
        .await
        .unwrap_err();
    assert_eq!(login.status(), Some(401));
    assert_eq!(
        hash_runs(&ts).await,
        before,
        "an oversize password reached argon2"
    );
    // The counter does move for an ordinary wrong password (unknown email: dummy hash).
    let _ = ts
        .client()
        .login(&unique_email("normal"), "a normal wrong password")
        .await;
    assert_eq!(hash_runs(&ts).await, before + 1);
}

async fn raw(ts: &TestServer, content_type: Option<&str>, body: Vec<u8>) -> (u16, ErrorBody) {
    let mut rb = reqwest::Client::new().post(format!("{}/v1/auth/signup", ts.url()));
    if let Some(ct) = content_type {
        rb = rb.header("content-type", ct);
    }
    let resp = rb.body(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let body: ErrorBody = resp.json().await.expect("the contract's error body");
    (status, body)
}

#[tokio::test]
async fn bad_input_gets_the_contract_error_and_changes_nothing() {
    let ts = TestServer::start().await;
    let json = Some("application/json");
    let email = unique_email("bad");
    let ok_body = |extra: &str| {
        format!(r#"{{"email":"{email}","password":"{STRONG_PASSWORD}"{extra}}}"#).into_bytes()
    };
    let cases: Vec<(&str, Option<&str>, Vec<u8>, u16)> = vec![
        ("malformed JSON", json, b"{\"email\": ".to_vec(), 400),
        ("not JSON at all", json, b"hello".to_vec(), 400),
        ("wrong content type", Some("text/plain"), ok_body(""), 415),
        ("no content type", None, ok_body(""), 415),
        (
            "missing field",
            json,
            format!(r#"{{"email":"{email}"}}"#).into_bytes(),
            422,
        ),
        ("extra field", json, ok_body(r#","role":"admin""#), 422),
        (
            "wrong type",
            json,
            format!(r#"{{"email":"{email}","password":42}}"#).into_bytes(),
            422,
        ),
        ("10 MB body", json, vec![b' '; 10 * 1024 * 1024], 413),
        (
            "invalid email",
            json,
            format!(r#"{{"email":"not-an-email","password":"{STRONG_PASSWORD}"}}"#).into_bytes(),
            422,
        ),
        (
            "control characters",
            json,
            format!(r#"{{"email":"a\u0007b@example.com","password":"{STRONG_PASSWORD}"}}"#)
                .into_bytes(),
            422,
        ),
        (
            "control characters in name",
            json,
            ok_body(r#","display_name":"Ada\u0000""#),
            422,
        ),
    ];
    for (what, ct, body, status) in cases {
        let (got, err) = raw(&ts, ct, body).await;
        assert_eq!(got, status, "{what}: {err:?}");
        assert!(!err.error.message.is_empty(), "{what}");
        let expected_code = if status == 413 {
            ErrorCode::PayloadTooLarge
        } else {
            ErrorCode::InvalidRequest
        };
        assert_eq!(err.error.code, expected_code, "{what}");
    }
    // None of these created the account.
    let err = ts
        .client()
        .login(&email, STRONG_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));

    // Unknown routes and methods answer in the contract's shape too.
    let r = reqwest::get(format!("{}/v1/nope", ts.url())).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<ErrorBody>().await.unwrap().error.code,
        ErrorCode::NotFound
    );
    let r = reqwest::Client::new()
        .delete(format!("{}/v1/auth/login", ts.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        r.json::<ErrorBody>().await.unwrap().error.code,
        ErrorCode::InvalidRequest
    );
}

#[tokio::test]
async fn bad_credentials_in_the_header_are_401() {
    let ts = TestServer::start().await;
    let http = reqwest::Client::new();
    for auth in [
        None,
        Some("Bearer"),
        Some("Bearer khs_nope"),
        Some("Basic abc"),
        Some("Bearer \u{1}"),
    ] {
        let mut rb = http.get(format!("{}/v1/me", ts.url()));
        if let Some(a) = auth {
            rb = rb.header("authorization", a);
        }
        let Ok(resp) = rb.send().await else { continue };
        assert_eq!(resp.status(), 401, "{auth:?}");
        let body: ErrorBody = resp.json().await.unwrap();
        assert_eq!(body.error.code, ErrorCode::Unauthenticated);
    }
}

#[tokio::test]
async fn fifty_parallel_signups_all_land() {
    let ts = TestServer::start().await;
    let emails: Vec<String> = (0..50).map(|i| unique_email(&format!("par{i}"))).collect();
    let results = futures::future::join_all(emails.iter().map(|e| {
        let c = ts.client();
        let r = req(e, STRONG_PASSWORD);
        async move { c.signup(&r).await }
    }))
    .await;
    for (e, r) in emails.iter().zip(&results) {
        assert!(r.is_ok(), "{e}: {r:?}");
    }
    let db = ts.admin_db().await;
    let n = db.query_one("SELECT COUNT(*) FROM users", &[]).await[0].int();
    assert_eq!(n, 50);
}
