//! Signing in with 2FA on: the password gives a ticket, the ticket and a code a session;
//! the ticket's lifetime and attempts.

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_e2e::TestServer;
use keyhold_vault::clock::Clock;

use super::helpers::{
    all_events, assert_code, code_now, enable_2fa, events, next_code, ticket, wrong_code,
};

#[tokio::test]
async fn sign_in_with_2fa_takes_a_ticket_and_a_code() {
    let ts = TestServer::start().await;
    let p = ts.person("mfalogin").await;
    let e = enable_2fa(&ts, &p.client).await;

    let t = ticket(&ts, &p.email).await;
    assert!(t.starts_with("khm_"), "a khm_ credential");
    let s = ts
        .client()
        .login_mfa(&t, &next_code(&ts, &e.secret))
        .await
        .unwrap();
    assert_eq!(s.user.id, p.user_id);
    let c = ts.client().with_token(s.session_token.expose().clone());
    assert_eq!(c.me().await.unwrap().user.id, p.user_id);
    // The ticket is single use.
    let again = ts
        .client()
        .login_mfa(&t, &next_code(&ts, &e.secret))
        .await
        .unwrap_err();
    assert_code(&again, 401, ErrorCode::Unauthenticated);

    let mfa = events(&p.client, "auth.mfa").await;
    assert!(mfa.iter().any(|e| e.outcome == "success"
        && e.detail["method"] == "password+totp"
        && e.detail["purpose"] == "login"));
    let logins = events(&p.client, "auth.login").await;
    assert!(logins.iter().any(|e| e.detail["method"] == "password+totp"));
    // Signing in counts as proof: the sudo window is open at once.
    c.regenerate_backup_codes(&next_code(&ts, &e.secret))
        .await
        .unwrap();
    ts.stop().await;
}

#[tokio::test]
async fn mfa_ticket_lasts_five_minutes_and_five_attempts() {
    let ts = TestServer::start().await;
    let p = ts.person("ticket").await;
    let e = enable_2fa(&ts, &p.client).await;

    // Expired after 5 minutes, and the refused attempt spends nothing.
    let t = ticket(&ts, &p.email).await;
    ts.clock.advance(Duration::minutes(5));
    let code = code_now(&ts, &e.secret);
    let before = all_events(&p.client).await;
    assert_code(
        &ts.client().login_mfa(&t, &code).await.unwrap_err(),
        401,
        ErrorCode::Unauthenticated,
    );
    assert_eq!(all_events(&p.client).await, before, "nothing recorded");
    ts.client()
        .login_mfa(&ticket(&ts, &p.email).await, &code)
        .await
        .unwrap();

    // Just under 5 minutes is fine.
    let t = ticket(&ts, &p.email).await;
    ts.clock
        .advance(Duration::minutes(5) - Duration::seconds(1));
    ts.client()
        .login_mfa(&t, &code_now(&ts, &e.secret))
        .await
        .unwrap();

    // Five wrong codes use the ticket up: the right one comes too late.
    let t = ticket(&ts, &p.email).await;
    let code = next_code(&ts, &e.secret);
    let wrong = wrong_code(&e.secret, ts.clock.now());
    for _ in 0..5 {
        assert_code(
            &ts.client().login_mfa(&t, &wrong).await.unwrap_err(),
            401,
            ErrorCode::Unauthenticated,
        );
    }
    let late = ts.client().login_mfa(&t, &code).await.unwrap_err();
    assert_code(&late, 401, ErrorCode::Unauthenticated);
    assert!(late.to_string().contains("Sign in again"), "{late}");
    // The code was not spent by the refused attempt: a new ticket takes it.
    ts.client()
        .login_mfa(&ticket(&ts, &p.email).await, &code)
        .await
        .unwrap();
    ts.stop().await;
}
