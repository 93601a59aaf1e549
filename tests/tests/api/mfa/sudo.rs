//! The sudo window: enrolling, disabling and regenerating need a recent sign-in or a
//! re-authentication, and a new sign-in opens the window.

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_e2e::{Person, STRONG_PASSWORD, TestServer};

use super::helpers::{assert_code, code_now, enable_2fa, events, next_code, ticket};

#[tokio::test]
async fn disable_and_regenerate_need_a_recent_sign_in_or_reauth() {
    let ts = TestServer::start().await;
    let p = ts.person("sudo").await;
    let c = &p.client;
    let e = enable_2fa(&ts, c).await;

    // The session is now older than the 10-minute window.
    ts.clock.advance(Duration::minutes(10));
    let code = code_now(&ts, &e.secret);
    assert_code(
        &c.regenerate_backup_codes(&code).await.unwrap_err(),
        401,
        ErrorCode::ReauthRequired,
    );
    assert_code(
        &c.disable_totp(&code).await.unwrap_err(),
        401,
        ErrorCode::ReauthRequired,
    );
    assert!(c.mfa_status().await.unwrap().totp_enabled);
    // A backup code or the password does not re-authenticate while 2FA is on.
    assert_code(
        &c.reauth(&e.backup_codes[0]).await.unwrap_err(),
        422,
        ErrorCode::InvalidRequest,
    );
    assert_code(
        &c.reauth(STRONG_PASSWORD).await.unwrap_err(),
        422,
        ErrorCode::InvalidRequest,
    );

    // Re-authenticate with TOTP: the window opens again.
    c.reauth(&code).await.unwrap();
    c.regenerate_backup_codes(&next_code(&ts, &e.secret))
        .await
        .unwrap();
    ts.clock.advance(Duration::minutes(8));
    // Disable with a backup code (the authenticator is lost, say).
    let fresh = c
        .regenerate_backup_codes(&next_code(&ts, &e.secret))
        .await
        .unwrap();
    c.disable_totp(fresh.backup_codes[0].expose())
        .await
        .unwrap();
    let st = c.mfa_status().await.unwrap();
    assert!(!st.totp_enabled);
    assert_eq!(st.backup_codes_remaining, 0);
    assert!(!c.me().await.unwrap().user.mfa_enabled);
    ts.login(&p.email, STRONG_PASSWORD).await; // no second step any more
    let disabled = events(c, "mfa.disabled").await;
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].detail["method"], "backup_code");

    // With 2FA off, the password re-authenticates.
    ts.clock.advance(Duration::minutes(11));
    assert_code(
        &c.regenerate_backup_codes("123456").await.unwrap_err(),
        401,
        ErrorCode::ReauthRequired,
    );
    assert_code(
        &c.reauth("not the password, clearly").await.unwrap_err(),
        403,
        ErrorCode::Forbidden,
    );
    c.reauth(STRONG_PASSWORD).await.unwrap();
    assert_code(
        &c.regenerate_backup_codes("123456").await.unwrap_err(),
        409,
        ErrorCode::Conflict,
    );
    let reauths = events(c, "auth.reauth").await;
    assert!(
        reauths
            .iter()
            .any(|e| e.outcome == "success" && e.detail["method"] == "password")
    );
    assert!(
        reauths
            .iter()
            .any(|e| e.outcome == "failure" && e.detail["method"] == "password")
    );
    assert!(
        reauths
            .iter()
            .any(|e| e.outcome == "success" && e.detail["method"] == "totp")
    );
    ts.stop().await;
}

#[tokio::test]
async fn sudo_window_for_a_new_sign_in_starts_at_login() {
    let ts = TestServer::start().await;
    let p: Person = ts.person("sudologin").await;
    let e = enable_2fa(&ts, &p.client).await;
    ts.clock.advance(Duration::minutes(30));
    let s = ts
        .client()
        .login_mfa(&ticket(&ts, &p.email).await, &code_now(&ts, &e.secret))
        .await
        .unwrap();
    let c = ts.client().with_token(s.session_token.expose().clone());
    ts.clock.advance(Duration::minutes(9));
    c.regenerate_backup_codes(&code_now(&ts, &e.secret))
        .await
        .unwrap();
    ts.clock.advance(Duration::minutes(1));
    assert_code(
        &c.disable_totp(&next_code(&ts, &e.secret))
            .await
            .unwrap_err(),
        401,
        ErrorCode::ReauthRequired,
    );
    ts.stop().await;
}

/// Issue 15, item 1: enrolling an authenticator needs the sudo window, at the start and at
/// the confirmation, so an old (or stolen) session cannot enrol its own authenticator and
/// then pass every sudo check with it.
#[tokio::test]
async fn enrolling_2fa_needs_the_sudo_window() {
    let ts = TestServer::start().await;
    let p = ts.person("sudoenrol").await;
    let c = &p.client;
    ts.clock.advance(Duration::minutes(11));
    assert_code(
        &c.start_totp_enrollment().await.unwrap_err(),
        401,
        ErrorCode::ReauthRequired,
    );
    assert!(!ts.outbox().await.iter().any(|m| m.contains("turned on")));
    c.reauth(STRONG_PASSWORD).await.unwrap();
    let secret = c
        .start_totp_enrollment()
        .await
        .unwrap()
        .secret
        .expose()
        .clone();

    // The window closes before the confirmation: refused, and 2FA stays off.
    ts.clock.advance(Duration::minutes(11));
    assert_code(
        &c.confirm_totp(&code_now(&ts, &secret)).await.unwrap_err(),
        401,
        ErrorCode::ReauthRequired,
    );
    assert!(!c.mfa_status().await.unwrap().totp_enabled);
    assert!(!c.me().await.unwrap().user.mfa_enabled);
    c.reauth(STRONG_PASSWORD).await.unwrap();
    c.confirm_totp(&code_now(&ts, &secret)).await.unwrap();
    assert!(c.mfa_status().await.unwrap().totp_enabled);
    ts.stop().await;
}
