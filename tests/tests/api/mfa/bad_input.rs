//! Malformed requests get the contract's errors and change nothing.

use chrono::Duration;
use keyhold_client::ClientError;
use keyhold_core::ErrorCode;
use keyhold_e2e::TestServer;

use super::helpers::{all_events, assert_code, code_now, events, next_code, ticket};

#[tokio::test]
async fn bad_input_gets_the_contract_errors_and_changes_nothing() {
    let ts = TestServer::start().await;
    let p = ts.person("badinput").await;
    let c = &p.client;

    // Confirm with nothing pending.
    let err = c.confirm_totp("123456").await.unwrap_err();
    assert_code(&err, 409, ErrorCode::Conflict);
    assert!(
        err.to_string().contains("no two-factor enrollment"),
        "{err}"
    );

    // A pending enrollment, then malformed codes.
    let first = c.start_totp_enrollment().await.unwrap();
    let before = all_events(c).await;
    for bad in ["12345a", "abcdef", "12345", "1234567", "", "12 3456"] {
        let err = c.confirm_totp(bad).await.unwrap_err();
        assert_code(&err, 422, ErrorCode::InvalidRequest);
        let ClientError::Api { extra, .. } = &err else {
            panic!()
        };
        assert_eq!(extra["field"], "code");
        assert!(!err.to_string().contains(bad) || bad.is_empty());
    }
    assert_eq!(all_events(c).await, before, "nothing audited or counted");
    assert!(!c.mfa_status().await.unwrap().totp_enabled);

    // Enrolling again while pending replaces the secret: the first one no longer confirms.
    let second = c.start_totp_enrollment().await.unwrap();
    assert_ne!(first.secret.expose(), second.secret.expose());
    let old = code_now(&ts, first.secret.expose());
    if old != code_now(&ts, second.secret.expose()) {
        assert_code(
            &c.confirm_totp(&old).await.unwrap_err(),
            403,
            ErrorCode::Forbidden,
        );
    }
    c.confirm_totp(&code_now(&ts, second.secret.expose()))
        .await
        .unwrap();
    let enabled = c.mfa_status().await.unwrap();

    // Enrolling twice while on is a conflict, and nothing changes.
    assert_code(
        &c.start_totp_enrollment().await.unwrap_err(),
        409,
        ErrorCode::Conflict,
    );
    assert_code(
        &c.confirm_totp(&next_code(&ts, second.secret.expose()))
            .await
            .unwrap_err(),
        409,
        ErrorCode::Conflict,
    );
    assert_eq!(c.mfa_status().await.unwrap(), enabled);
    // The enrolled secret still works.
    c.reauth(&next_code(&ts, second.secret.expose()))
        .await
        .unwrap();

    // At sign-in: malformed codes neither use the ticket's attempts nor count as wrong.
    let t = ticket(&ts, &p.email).await;
    for bad in ["12345a", "12345", "1234567", "abcd-2345-wxy0"] {
        assert_code(
            &ts.client().login_mfa(&t, bad).await.unwrap_err(),
            422,
            ErrorCode::InvalidRequest,
        );
    }
    assert_code(
        &ts.client()
            .login_mfa("khm_not-a-ticket", "123456")
            .await
            .unwrap_err(),
        401,
        ErrorCode::Unauthenticated,
    );
    ts.client()
        .login_mfa(&t, &next_code(&ts, second.secret.expose()))
        .await
        .unwrap();
    assert!(
        !events(c, "auth.mfa")
            .await
            .iter()
            .any(|e| e.outcome == "failure" && e.detail["purpose"] == "login"),
        "malformed input is not a wrong code"
    );

    // An expired ticket: 401, and the code it carried is still good afterwards.
    let t = ticket(&ts, &p.email).await;
    ts.clock.advance(Duration::minutes(6));
    let code = code_now(&ts, second.secret.expose());
    let err = ts.client().login_mfa(&t, &code).await.unwrap_err();
    assert_code(&err, 401, ErrorCode::Unauthenticated);
    c.reauth(&code).await.unwrap();
    ts.stop().await;
}
