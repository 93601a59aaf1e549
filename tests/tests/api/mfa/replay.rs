//! Each code works once: replayed, older and far codes are refused, and parallel uses of
//! one code have exactly one winner.

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_e2e::TestServer;
use keyhold_vault::clock::Clock;

use super::helpers::{
    assert_code, code_now, enable_2fa, events, next_code, oathtool, race, ticket,
};

#[tokio::test]
async fn replayed_older_and_far_codes_are_refused() {
    let ts = TestServer::start().await;
    let p = ts.person("replay").await;
    let e = enable_2fa(&ts, &p.client).await; // step s0 spent
    let a = &p.client;

    // Step s1 signs in a second session...
    let t1 = ts.clock.now() + Duration::seconds(30);
    ts.clock.set(t1);
    let code1 = oathtool(&e.secret, t1);
    let s = ts
        .client()
        .login_mfa(&ticket(&ts, &p.email).await, &code1)
        .await
        .unwrap();
    let b = ts.client().with_token(s.session_token.expose().clone());
    // ...and is spent for every session of the account.
    assert_code(
        &a.reauth(&code1).await.unwrap_err(),
        403,
        ErrorCode::Forbidden,
    );
    assert_code(
        &ts.client()
            .login_mfa(&ticket(&ts, &p.email).await, &code1)
            .await
            .unwrap_err(),
        401,
        ErrorCode::Unauthenticated,
    );

    // The next step's code (one step of drift ahead) is accepted...
    a.reauth(&oathtool(&e.secret, t1 + Duration::seconds(30)))
        .await
        .unwrap();
    // ...after which the older step's code is refused, even when it is current.
    let t2 = t1 + Duration::seconds(30);
    ts.clock.set(t2);
    assert_code(
        &b.reauth(&oathtool(&e.secret, t1)).await.unwrap_err(),
        403,
        ErrorCode::Forbidden,
    );
    assert_code(
        &b.reauth(&oathtool(&e.secret, t2)).await.unwrap_err(),
        403,
        ErrorCode::Forbidden,
    );

    // Two steps of drift either way are refused (far from any spent step, so only the
    // drift rule can refuse them); the current step still works.
    let t3 = t2 + Duration::minutes(5);
    ts.clock.set(t3);
    for far in [-60, 60] {
        let code = oathtool(&e.secret, t3 + Duration::seconds(far));
        if code != oathtool(&e.secret, t3) {
            assert_code(
                &b.reauth(&code).await.unwrap_err(),
                403,
                ErrorCode::Forbidden,
            );
        }
    }
    b.reauth(&oathtool(&e.secret, t3)).await.unwrap();

    let failures: Vec<_> = events(a, "auth.mfa")
        .await
        .into_iter()
        .filter(|e| e.outcome == "failure")
        .collect();
    assert!(failures.iter().any(|e| e.detail["reason"] == "replayed"));
    assert!(
        failures
            .iter()
            .any(|e| e.detail["reason"] == "invalid_code")
    );
    assert!(failures.iter().any(|e| e.detail["purpose"] == "login"));
    let reauths = events(a, "auth.reauth").await;
    assert_eq!(reauths.len(), 2);
    ts.stop().await;
}

#[tokio::test]
async fn parallel_confirms_with_one_code_have_one_winner() {
    let ts = TestServer::start().await;
    let p = ts.person("raceconfirm").await;
    let e = p.client.start_totp_enrollment().await.unwrap();
    let code = code_now(&ts, e.secret.expose());
    let (ok, errs) = race(8, || p.client.confirm_totp(&code)).await;
    assert_eq!(ok, 1, "{errs:?}");
    for e in &errs {
        assert!(
            matches!(e.code(), Some(ErrorCode::Forbidden | ErrorCode::Conflict)),
            "{e:?}"
        );
    }
    let st = p.client.mfa_status().await.unwrap();
    assert!(st.totp_enabled);
    assert_eq!(st.backup_codes_remaining, 10);
    assert_eq!(events(&p.client, "mfa.enabled").await.len(), 1);
    ts.stop().await;
}

#[tokio::test]
async fn parallel_reauths_and_sign_ins_with_one_code_have_one_winner() {
    let ts = TestServer::start().await;
    let p = ts.person("racereauth").await;
    let e = enable_2fa(&ts, &p.client).await;
    let code = next_code(&ts, &e.secret);
    let (ok, errs) = race(8, || p.client.reauth(&code)).await;
    assert_eq!(ok, 1, "{errs:?}");
    assert!(
        errs.iter().all(|e| e.code() == Some(ErrorCode::Forbidden)),
        "{errs:?}"
    );
    assert_eq!(events(&p.client, "auth.reauth").await.len(), 1);

    let q = ts.person("racelogin").await;
    let e = enable_2fa(&ts, &q.client).await;
    let mut tickets = Vec::new();
    for _ in 0..8 {
        tickets.push(ticket(&ts, &q.email).await);
    }
    let code = next_code(&ts, &e.secret);
    let results = futures::future::join_all(
        tickets
            .iter()
            .map(|t| async { ts.client().login_mfa(t, &code).await }),
    )
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    ts.stop().await;
}
