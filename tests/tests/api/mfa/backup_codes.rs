//! Backup codes: each works once, and a new set voids the old one.

use keyhold_core::ErrorCode;
use keyhold_e2e::TestServer;

use super::helpers::{assert_code, enable_2fa, events, next_code, ticket};

#[tokio::test]
async fn backup_codes_work_once_and_a_new_set_voids_the_old() {
    let ts = TestServer::start().await;
    let p = ts.person("backup").await;
    let e = enable_2fa(&ts, &p.client).await;
    let codes = &e.backup_codes;

    // A backup code completes a sign-in, and the owner hears of it.
    let s = ts
        .client()
        .login_mfa(&ticket(&ts, &p.email).await, &codes[0])
        .await
        .unwrap();
    assert_eq!(s.user.id, p.user_id);
    let mail = ts.outbox().await;
    let notice = mail
        .iter()
        .find(|m| m.contains(&format!("To: {}", p.email)) && m.contains("backup code was used"))
        .expect("a mail about the backup code");
    assert!(!notice.contains(codes[0].as_str()));
    assert_eq!(
        p.client.mfa_status().await.unwrap().backup_codes_remaining,
        9
    );

    // Once only.
    assert_code(
        &ts.client()
            .login_mfa(&ticket(&ts, &p.email).await, &codes[0])
            .await
            .unwrap_err(),
        401,
        ErrorCode::Unauthenticated,
    );
    // Typed in capitals with spaces instead of dashes, another one works.
    let typed = codes[1].to_uppercase().replace('-', " ");
    ts.client()
        .login_mfa(&ticket(&ts, &p.email).await, &typed)
        .await
        .unwrap();
    assert_eq!(
        p.client.mfa_status().await.unwrap().backup_codes_remaining,
        8
    );

    // A new set: the old codes stop working, the new ones work.
    let fresh: Vec<String> = p
        .client
        .regenerate_backup_codes(&next_code(&ts, &e.secret))
        .await
        .unwrap()
        .backup_codes
        .iter()
        .map(|c| c.expose().clone())
        .collect();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !codes.contains(c)));
    assert_eq!(
        p.client.mfa_status().await.unwrap().backup_codes_remaining,
        10
    );
    assert_code(
        &ts.client()
            .login_mfa(&ticket(&ts, &p.email).await, &codes[2])
            .await
            .unwrap_err(),
        401,
        ErrorCode::Unauthenticated,
    );
    ts.client()
        .login_mfa(&ticket(&ts, &p.email).await, &fresh[0])
        .await
        .unwrap();
    assert_eq!(
        p.client.mfa_status().await.unwrap().backup_codes_remaining,
        9
    );

    let regenerated = events(&p.client, "mfa.backup_codes").await;
    assert_eq!(regenerated.len(), 1);
    assert_eq!(regenerated[0].detail["method"], "totp");
    let failures = events(&p.client, "auth.mfa").await;
    assert!(
        failures
            .iter()
            .any(|e| e.outcome == "failure" && e.detail["reason"] == "invalid_backup_code")
    );
    ts.stop().await;
}
