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

/// POST /v1/auth/signup as raw HTTP: the status and the JSON body.
async fn raw_signup(ts: &TestServer, email: &str, password: &str) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/auth/signup", ts.url()))
        .json(&serde_json::json!({"email": email, "password": password, "display_name": "Ada"}))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// The shape of a JSON value: its object keys (recursively) and value kinds, not values.
fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::String(_) => "string".into(),
        Value::Number(_) => "number".into(),
        Value::Bool(_) => "bool".into(),
        Value::Null => Value::Null,
    }
}

/// Issue 15, item 10: signing up with an address that already has an account gets the
/// same status and body shape as a new address, costs the same hashing, changes nothing
/// for the existing account, and mails its owner (with the address the attempt came from).
#[tokio::test]
async fn signup_with_a_known_email_answers_as_a_new_one_and_mails_the_owner() {
    let ts = TestServer::start().await;
    let email = unique_email("known");
    let first = ts.signup(&email, STRONG_PASSWORD).await;

    let runs = crate::abuse::hash_runs(&ts).await;
    let (known_status, known) = raw_signup(&ts, &email.to_uppercase(), OTHER_STRONG_PASSWORD).await;
    let known_runs = crate::abuse::hash_runs(&ts).await - runs;
    let fresh_email = unique_email("fresh");
    let (new_status, fresh) = raw_signup(&ts, &fresh_email, OTHER_STRONG_PASSWORD).await;
    let new_runs = crate::abuse::hash_runs(&ts).await - runs - known_runs;
    assert_eq!((known_status, new_status), (201, 201), "{known} {fresh}");
    assert_eq!(shape(&known), shape(&fresh));
    assert_eq!(known["user"]["email"], email.as_str());
    assert_eq!(
        known_runs, new_runs,
        "the same password hashing on both paths"
    );
    assert_ne!(known["user"]["id"], first.user.id.as_str());
    assert_ne!(known["tenant"]["id"], first.tenant.id.as_str());

    // Nothing changed for the account: the old password signs in, the new one does not,
    // and there is still one user with the address.
    ts.login(&email, STRONG_PASSWORD).await;
    assert!(
        ts.client()
            .login(&email, OTHER_STRONG_PASSWORD)
            .await
            .is_err()
    );
    let db = ts.admin_db().await;
    let n = db
        .query_one("SELECT COUNT(*) FROM users WHERE email = ?1", &[&email])
        .await[0]
        .int();
    assert_eq!(n, 1);

    // The owner is told, in the background: wait for the mail.
    let subject = "Subject: Keyhold: someone tried to sign up with your address";
    let mut mail = None;
    for _ in 0..100 {
        mail = ts
            .outbox()
            .await
            .into_iter()
            .map(|m| keyhold_e2e::decode_quoted_printable(&m))
            .find(|m| m.contains(&format!("To: {email}")) && m.contains(subject));
        if mail.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mail = mail.expect("the owner is mailed about the attempt");
    assert!(mail.contains("From address: 127.0.0.1"), "{mail}");
    assert!(!mail.contains(OTHER_STRONG_PASSWORD), "{mail}");
    assert!(
        !ts.outbox()
            .await
            .iter()
            .any(|m| m.contains(&format!("To: {fresh_email}"))),
        "a new address gets no such mail"
    );
    ts.stop().await;
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
