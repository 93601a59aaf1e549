//! The security score (`GET /v1/me/security`) as a new account turns each factor green.

use keyhold_client::Client;
use keyhold_core::api::AuditQuery;
use keyhold_core::score::{FactorId, ScoreStatus, SecurityScore};
use keyhold_e2e::{STRONG_PASSWORD, TestServer, unique_email};

use crate::mfa::{enable_2fa, next_code};

/// Accepted by the policy (zxcvbn 2) but not strong (zxcvbn 3+).
const WEAK_PASSWORD: &str = "password password password";

fn factor(s: &SecurityScore, id: FactorId) -> bool {
    s.factors.iter().find(|f| f.id == id).unwrap().ok
}

fn recommends(s: &SecurityScore, id: &str) -> bool {
    s.recommendations.iter().any(|r| r.id == id)
}

async fn audited(c: &Client, action: &str) -> bool {
    c.audit(&AuditQuery {
        action: Some(action.to_owned()),
        ..Default::default()
    })
    .await
    .unwrap()
    .items
    .iter()
    .any(|e| e.outcome == "success")
}

#[tokio::test]
async fn a_new_account_moves_from_exposed_to_protected() {
    assert!(
        keyhold_core::password::check(WEAK_PASSWORD, "x@example.com")
            .strength
            .is_some_and(|s| s.score == 2)
    );
    let ts = TestServer::start().await;
    let email = unique_email("score");
    ts.signup(&email, WEAK_PASSWORD).await;
    let c = ts.login(&email, WEAK_PASSWORD).await;

    // Nothing done yet.
    let s = c.security().await.unwrap();
    assert_eq!((s.score, s.status), (0, ScoreStatus::Exposed));
    assert_eq!(
        s.factors.iter().map(|f| f.id).collect::<Vec<_>>(),
        [
            FactorId::EmailVerified,
            FactorId::Mfa,
            FactorId::PasswordStrength
        ]
    );
    assert!(s.factors.iter().all(|f| !f.ok));
    assert!(recommends(&s, "enable_mfa"));
    assert!(recommends(&s, "verify_email"));
    assert!(recommends(&s, "strengthen_password"));

    // 1. Verify the email through the mailed link.
    c.request_email_verification().await.unwrap();
    let token = ts.mailed_token(&email, "/verify-email").await.unwrap();
    ts.client().verify_email(&token).await.unwrap();
    let s = c.security().await.unwrap();
    assert_eq!((s.score, s.status), (20, ScoreStatus::Exposed));
    assert!(factor(&s, FactorId::EmailVerified));
    assert!(!recommends(&s, "verify_email"));
    assert!(audited(&c, "email.verified").await);

    // 2. Turn on 2FA.
    let enrolled = enable_2fa(&ts, &c).await;
    let s = c.security().await.unwrap();
    assert_eq!((s.score, s.status), (70, ScoreStatus::AtRisk));
    assert!(factor(&s, FactorId::Mfa));
    assert!(!recommends(&s, "enable_mfa"));
    assert!(audited(&c, "mfa.enabled").await);

    // 3. A strong password.
    c.change_password(WEAK_PASSWORD, STRONG_PASSWORD)
        .await
        .unwrap();
    let s = c.security().await.unwrap();
    assert_eq!((s.score, s.status), (100, ScoreStatus::Protected));
    assert!(s.factors.iter().all(|f| f.ok));
    assert!(s.recommendations.is_empty(), "{:?}", s.recommendations);
    assert!(audited(&c, "password.changed").await);

    // Few backup codes left: a recommendation, not a lower score.
    for code in &enrolled.backup_codes[..7] {
        let t = match ts.client().login(&email, STRONG_PASSWORD).await.unwrap() {
            keyhold_client::LoginOutcome::MfaRequired { mfa_ticket } => mfa_ticket,
            keyhold_client::LoginOutcome::Session(_) => panic!("2FA is on"),
        };
        ts.client().login_mfa(t.expose(), code).await.unwrap();
    }
    let s = c.security().await.unwrap();
    assert_eq!((s.score, s.status), (100, ScoreStatus::Protected));
    let rec = s
        .recommendations
        .iter()
        .find(|r| r.id == "regenerate_backup_codes")
        .unwrap();
    assert!(rec.message.contains("3 backup codes"), "{}", rec.message);

    // 4. Turning 2FA off drops the score again, and is audited.
    c.disable_totp(&next_code(&ts, &enrolled.secret))
        .await
        .unwrap();
    let s = c.security().await.unwrap();
    assert_eq!((s.score, s.status), (50, ScoreStatus::AtRisk));
    assert!(recommends(&s, "enable_mfa"));
    assert!(audited(&c, "mfa.disabled").await);
    ts.stop().await;
}

#[tokio::test]
async fn agent_key_hygiene_shows_in_the_recommendations() {
    let ts = TestServer::start().await;
    let p = ts.person("hygiene").await;
    let before = p.client.security().await.unwrap();
    assert!(!recommends(&before, "key_without_expiry"));

    // A key with no expiry and a scope reaching every environment.
    let broad = crate::support::key(&p, &["secrets:read:*"]).await;
    let s = p.client.security().await.unwrap();
    for id in ["key_without_expiry", "key_broad_scope"] {
        let r = s.recommendations.iter().find(|r| r.id == id);
        assert_eq!(
            r.and_then(|r| r.target.as_deref()),
            Some(broad.key.id.as_str()),
            "{id} should name the key: {:?}",
            s.recommendations
        );
    }
    // Unused for 30 days, then older than 90: each recommended; revoking clears them all.
    ts.clock.advance(chrono::Duration::days(91));
    let c = ts.login(&p.email, STRONG_PASSWORD).await;
    let s = c.security().await.unwrap();
    assert!(
        recommends(&s, "key_unused") && recommends(&s, "key_old"),
        "{:?}",
        s.recommendations
    );
    c.revoke_key(&broad.key.id).await.unwrap();
    let s = c.security().await.unwrap();
    assert!(s.recommendations.iter().all(|r| !r.id.starts_with("key_")));
}
