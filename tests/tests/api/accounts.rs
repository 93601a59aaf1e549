//! Sign-up, sign-in, sessions and password changes.

use keyhold_client::LoginOutcome;
use keyhold_core::api::SignupRequest;
use keyhold_core::{ErrorCode, Sensitive};
use keyhold_e2e::{OTHER_STRONG_PASSWORD, STRONG_PASSWORD, TestServer, unique_email};

fn signup_req(email: &str, password: &str) -> SignupRequest {
    SignupRequest {
        email: email.to_owned(),
        password: Sensitive::new(password.to_owned()),
        display_name: Some("Ada Lovelace".to_owned()),
        invitation: None,
    }
}

#[tokio::test]
async fn signup_creates_owned_tenant_and_login_works() {
    let ts = TestServer::start().await;
    let email = unique_email("ada");
    let created = ts
        .client()
        .signup(&signup_req(&email, STRONG_PASSWORD))
        .await
        .unwrap();
    assert_eq!(created.user.email, email);
    assert!(!created.user.email_verified);
    let me = ts.login(&email, STRONG_PASSWORD).await.me().await.unwrap();
    assert_eq!(me.user.id, created.user.id);
    assert_eq!(me.tenant.id, created.tenant.id);
    assert_eq!(me.role, keyhold_core::api::Role::Owner);
    ts.stop().await;
}

#[tokio::test]
async fn duplicate_email_is_a_conflict() {
    let ts = TestServer::start().await;
    let email = unique_email("dup");
    ts.signup(&email, STRONG_PASSWORD).await;
    let err = ts
        .client()
        .signup(&signup_req(&email.to_uppercase(), STRONG_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Conflict));
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_alike() {
    let ts = TestServer::start().await;
    let email = unique_email("alike");
    ts.signup(&email, STRONG_PASSWORD).await;
    let wrong = ts
        .client()
        .login(&email, OTHER_STRONG_PASSWORD)
        .await
        .unwrap_err();
    let unknown = ts
        .client()
        .login(&unique_email("nobody"), OTHER_STRONG_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(wrong.status(), Some(401));
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert_eq!(wrong.code(), unknown.code());
}

#[tokio::test]
async fn logout_ends_the_session() {
    let ts = TestServer::start().await;
    let p = ts.person("logout").await;
    p.client.logout().await.unwrap();
    let err = p.client.me().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated));
}

#[tokio::test]
async fn session_idle_and_absolute_expiry() {
    let ts = TestServer::start().await;
    let p = ts.person("expiry").await;
    // Active every 11 hours: the idle limit (12 h) never bites...
    for _ in 0..20 {
        ts.clock.advance(chrono::Duration::hours(11));
        if ts.clock_elapsed_days() >= 7 {
            break;
        }
        p.client.me().await.unwrap();
    }
    // ...but after 7 days the session ends anyway.
    let err = p.client.me().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated));

    let q = ts.login(&p.email, STRONG_PASSWORD).await;
    q.me().await.unwrap();
    ts.clock.advance(chrono::Duration::hours(12));
    assert_eq!(
        q.me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
}

#[tokio::test]
async fn password_change_ends_other_sessions() {
    let ts = TestServer::start().await;
    let p = ts.person("pwchange").await;
    let other = ts.login(&p.email, STRONG_PASSWORD).await;
    p.client
        .change_password(STRONG_PASSWORD, OTHER_STRONG_PASSWORD)
        .await
        .unwrap();
    p.client.me().await.unwrap();
    assert_eq!(
        other.me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
    assert!(ts.client().login(&p.email, STRONG_PASSWORD).await.is_err());
    assert!(matches!(
        ts.client()
            .login(&p.email, OTHER_STRONG_PASSWORD)
            .await
            .unwrap(),
        LoginOutcome::Session(_)
    ));
    let wrong = p
        .client
        .change_password("not my password at all, really", STRONG_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Some(ErrorCode::Forbidden));
}
