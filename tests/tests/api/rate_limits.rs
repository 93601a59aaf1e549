//! Per-route-class rate limits against the real server: a low configured limit is
//! exceeded and answered 429 with `Retry-After` and `RateLimit-*` headers, other keys are
//! not affected, and the bucket refills as the server's clock moves.

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_e2e::{STRONG_PASSWORD, TestServer};
use reqwest::Response;

use crate::support::{as_agent, key, p};

fn header(r: &Response, name: &str) -> Option<u64> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// A 429 in the contract's shape, with its headers; returns `Retry-After`.
async fn assert_limited(r: Response, limit: u64) -> u64 {
    assert_eq!(r.status(), 429);
    let retry = header(&r, "retry-after").expect("Retry-After");
    assert!(retry >= 1, "{retry}");
    assert_eq!(header(&r, "ratelimit-limit"), Some(limit));
    assert_eq!(header(&r, "ratelimit-remaining"), Some(0));
    assert_eq!(header(&r, "ratelimit-reset"), Some(retry));
    let body: keyhold_core::ErrorBody = r.json().await.unwrap();
    assert_eq!(body.error.code, ErrorCode::RateLimited);
    retry
}

/// A request from `ip`, as told by a trusted proxy in front of the server.
fn from_ip(ts: &TestServer, ip: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{}/v1/auth/verify-email", ts.url()))
        .header("x-forwarded-for", ip)
        .json(&serde_json::json!({ "token": "khv_not-a-real-token" }))
}

#[tokio::test]
async fn anonymous_requests_are_limited_per_client_address() {
    let ts = TestServer::start_with(|c| {
        c.rate_limit_anonymous = 3;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    for left in [2, 1, 0] {
        let r = from_ip(&ts, "203.0.113.7").send().await.unwrap();
        assert_ne!(r.status(), 429);
        // Counted responses say how much is left, successful or not.
        assert_eq!(header(&r, "ratelimit-limit"), Some(3));
        assert_eq!(header(&r, "ratelimit-remaining"), Some(left));
    }
    let started = std::time::Instant::now();
    let r = from_ip(&ts, "203.0.113.7").send().await.unwrap();
    // Refusals are held back a moment, so a closed-loop flood cannot spin on them.
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(
        assert_limited(r, 3).await,
        20,
        "3 a minute: one back every 20 s"
    );

    // Another address has its own bucket; monitoring is never counted.
    let r = from_ip(&ts, "198.51.100.1").send().await.unwrap();
    assert_ne!(r.status(), 429);
    for _ in 0..5 {
        let r = reqwest::get(format!("{}/healthz", ts.url())).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("ratelimit-limit").is_none());
    }

    // The bucket refills with the server's clock.
    ts.clock.advance(Duration::seconds(19));
    let r = from_ip(&ts, "203.0.113.7").send().await.unwrap();
    assert_eq!(r.status(), 429);
    ts.clock.advance(Duration::seconds(1));
    let r = from_ip(&ts, "203.0.113.7").send().await.unwrap();
    assert_ne!(r.status(), 429);
    assert_eq!(header(&r, "ratelimit-remaining"), Some(0));
    ts.stop().await;
}

#[tokio::test]
async fn sign_ins_are_limited_per_account_before_any_password_check() {
    let ts = TestServer::start_with(|c| c.rate_limit_login = 2).await;
    let a = ts.person("limited").await; // one sign-in used
    let b = ts.person("bystander").await;
    let login = |email: &str, password: &str| {
        reqwest::Client::new()
            .post(format!("{}/v1/auth/login", ts.url()))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
    };
    let r = login(&a.email, "not the password at all").await.unwrap();
    assert_eq!(r.status(), 401);
    // The right password is refused too: the bucket is empty. Upper-case spelling of the
    // address is the same account.
    let hashes_before = ts.server.state.metrics.password_hashes.get();
    let r = login(&a.email.to_uppercase(), STRONG_PASSWORD)
        .await
        .unwrap();
    let retry = assert_limited(r, 2).await;
    assert_eq!(retry, 30);
    assert_eq!(
        ts.server.state.metrics.password_hashes.get(),
        hashes_before,
        "refused before hashing"
    );
    // Another account from the same address signs in.
    let r = login(&b.email, STRONG_PASSWORD).await.unwrap();
    assert_eq!(r.status(), 200);

    ts.clock.advance(Duration::seconds(30));
    let r = login(&a.email, STRONG_PASSWORD).await.unwrap();
    assert_eq!(r.status(), 200);
    ts.stop().await;
}

#[tokio::test]
async fn agent_requests_are_limited_per_key_and_sessions_per_session() {
    let ts = TestServer::start_with(|c| {
        c.rate_limit_agent = 3;
        c.rate_limit_session = 5;
    })
    .await;
    let owner = ts.person("agents").await;
    owner
        .client
        .put_secret(&p("prod/API_KEY"), "v1", None, None)
        .await
        .unwrap(); // session: 1 of 5
    let k1 = key(&owner, &["secrets:read:prod/*"]).await; // 2
    let k2 = key(&owner, &["secrets:read:prod/*"]).await; // 3
    let read = |secret: &str| {
        reqwest::Client::new()
            .get(format!("{}/v1/secrets/prod/API_KEY", ts.url()))
            .bearer_auth(secret)
            .send()
    };
    for _ in 0..3 {
        let r = read(k1.secret.expose()).await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = read(k1.secret.expose()).await.unwrap();
    assert_limited(r, 3).await;
    // The second key, and the agent's own client library, see their own bucket.
    let v = as_agent(&ts, k2.secret.expose())
        .get_secret(&p("prod/API_KEY"), None)
        .await
        .unwrap();
    assert_eq!(v.value.expose(), "v1");

    // Sessions: two more requests fill the owner's bucket; a second session is separate.
    owner.client.me().await.unwrap(); // 4
    owner.client.me().await.unwrap(); // 5
    let e = owner.client.me().await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::RateLimited));
    let second = ts.login(&owner.email, STRONG_PASSWORD).await;
    second.me().await.unwrap();

    ts.clock.advance(Duration::seconds(20));
    assert_eq!(read(k1.secret.expose()).await.unwrap().status(), 200);
    owner.client.me().await.unwrap();
    ts.stop().await;
}

#[tokio::test]
async fn second_factor_attempts_are_limited_per_ticket() {
    let ts = TestServer::start_with(|c| c.rate_limit_login = 3).await;
    let person = ts.person("mfa-limit").await; // sign-in 1 of 3
    crate::mfa::enable_2fa(&ts, &person.client).await;
    let ticket = match ts.client().login(&person.email, STRONG_PASSWORD).await {
        Ok(keyhold_client::LoginOutcome::MfaRequired { mfa_ticket, .. }) => mfa_ticket,
        other => panic!("{other:?}"),
    }; // sign-in 2 of 3
    let attempt = |code: &str| {
        reqwest::Client::new()
            .post(format!("{}/v1/auth/login/mfa", ts.url()))
            .json(&serde_json::json!({ "mfa_ticket": ticket.expose(), "code": code }))
            .send()
    };
    for _ in 0..3 {
        assert_ne!(attempt("000000").await.unwrap().status(), 429);
    }
    assert_limited(attempt("000000").await.unwrap(), 3).await;
    ts.stop().await;
}
