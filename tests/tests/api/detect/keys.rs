//! Agent keys: used from outside the allowlist (suspended at once, tokens with it,
//! reinstated by its owner), and a revoked key presented again (a leak signal).

use keyhold_core::api::{CreateKeyRequest, Severity};
use keyhold_e2e::TestServer;

use super::{alerts_of, behind_proxy, code, events, metric, read_from};
use crate::support::{p, scopes};

const INSIDE: &str = "10.1.2.3";
const OUTSIDE: &str = "203.0.113.5";

/// A scoped token issued by `key` from `ip`.
async fn token_from(ts: &TestServer, key: &str, ip: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/tokens", ts.url()))
        .bearer_auth(key)
        .header("x-forwarded-for", ip)
        .json(&serde_json::json!({"scopes": ["secrets:read:prod/*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_key_used_outside_its_allowlist_is_suspended_with_its_tokens_then_reinstated() {
    let ts = TestServer::start_with(behind_proxy).await;
    let owner = ts.person("allowlist").await;
    owner
        .client
        .put_secret(&p("prod/API_KEY"), "v1", None, None)
        .await
        .unwrap();
    let created = owner
        .client
        .create_key(&CreateKeyRequest {
            name: "deploy".into(),
            scopes: scopes(&["secrets:read:prod/*"]),
            expires_in: None,
            ip_allowlist: Some(vec!["10.0.0.0/8".into()]),
            public_key: None,
        })
        .await
        .unwrap();
    let key = created.secret.expose().clone();
    let token = token_from(&ts, &key, INSIDE).await;
    assert_eq!(
        read_from(&ts, &key, "prod/API_KEY", INSIDE).await.status(),
        200
    );
    assert_eq!(
        read_from(&ts, &token, "prod/API_KEY", INSIDE)
            .await
            .status(),
        200
    );
    owner.client.request_email_verification().await.unwrap();
    let link = ts
        .mailed_token(&owner.email, "/verify-email")
        .await
        .unwrap();
    owner.client.verify_email(&link).await.unwrap();
    let calm = owner.client.security().await.unwrap().score;
    assert_eq!(calm, 50, "email verified and a strong password");

    // Used from outside its allowlist: refused, and suspended at once.
    let r = read_from(&ts, &key, "prod/API_KEY", OUTSIDE).await;
    assert_eq!(code(r).await, (403, "forbidden".to_owned()));
    for bearer in [&key, &token] {
        let r = read_from(&ts, bearer, "prod/API_KEY", INSIDE).await;
        assert_eq!(code(r).await, (401, "key_suspended".to_owned()));
    }
    let listed = owner.client.list_keys(None, None).await.unwrap().items;
    assert!(listed[0].suspended_at.is_some());
    assert!(listed[0].revoked_at.is_none(), "between active and revoked");

    let raised = alerts_of(&owner.client, "outside_allowlist").await;
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].severity, Severity::Critical);
    assert_eq!(raised[0].response.as_deref(), Some("suspended_key"));
    let suspended = events(&owner.client, "key.suspended").await;
    assert_eq!(suspended.len(), 1);
    assert_eq!(suspended[0].severity, Severity::Critical);
    let refused = events(&owner.client, "auth.agent").await;
    assert!(refused.iter().any(|e| e.detail["reason"] == "suspended"));
    assert_eq!(metric(&ts, "keyhold_key_suspensions_total").await, 1);
    assert_eq!(
        metric(
            &ts,
            "keyhold_agent_auth_failures_total{reason=\"suspended\"}"
        )
        .await,
        2
    );

    // The score says why it dropped: the suspended key and the open critical alert.
    let score = owner.client.security().await.unwrap();
    assert_eq!(
        score.score,
        calm - 50,
        "25 for the key, 25 for the open alert"
    );
    let ids: Vec<&str> = score
        .recommendations
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        ids.contains(&"key_suspended") && ids.contains(&"acknowledge_alerts"),
        "{ids:?}"
    );

    // The owner reinstates it: key and token work again, and the owner is told.
    owner.client.reinstate_key(&created.key.id).await.unwrap();
    assert_eq!(
        read_from(&ts, &key, "prod/API_KEY", INSIDE).await.status(),
        200
    );
    assert_eq!(
        read_from(&ts, &token, "prod/API_KEY", INSIDE)
            .await
            .status(),
        200
    );
    assert_eq!(events(&owner.client, "key.reinstated").await.len(), 1);
    assert_eq!(owner.client.security().await.unwrap().score, calm - 25);
    assert!(
        ts.outbox()
            .await
            .iter()
            .any(|m| m.contains("suspended agent key was reinstated"))
    );
    // Reinstating an active key: 409 conflict, nothing changes.
    let again = owner
        .client
        .reinstate_key(&created.key.id)
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(409));

    // Acknowledged, the alert leaves the open list and the score recovers.
    let acked = owner.client.ack_alert(&raised[0].id).await.unwrap();
    assert!(acked.acknowledged_at.is_some());
    assert_eq!(owner.client.security().await.unwrap().score, calm);
    assert_eq!(events(&owner.client, "alert.acknowledged").await.len(), 1);
    ts.stop().await;
}

#[tokio::test]
async fn a_revoked_key_presented_again_raises_a_critical_alert() {
    let ts = TestServer::start_with(behind_proxy).await;
    let owner = ts.person("leak").await;
    owner
        .client
        .put_secret(&p("prod/API_KEY"), "v1", None, None)
        .await
        .unwrap();
    let created = crate::support::key(&owner, &["secrets:read:prod/*"]).await;
    let key = created.secret.expose().clone();
    owner.client.revoke_key(&created.key.id).await.unwrap();
    assert!(
        alerts_of(&owner.client, "revoked_key_used")
            .await
            .is_empty()
    );
    for _ in 0..3 {
        let r = read_from(&ts, &key, "prod/API_KEY", OUTSIDE).await;
        assert_eq!(code(r).await, (401, "unauthenticated".to_owned()));
    }
    let raised = alerts_of(&owner.client, "revoked_key_used").await;
    assert_eq!(raised.len(), 1, "one alert per key and window: {raised:?}");
    assert_eq!(raised[0].severity, Severity::Critical);
    assert!(raised[0].message.contains(OUTSIDE), "{}", raised[0].message);
    assert!(
        ts.outbox()
            .await
            .iter()
            .any(|m| m.contains(&owner.email) && m.contains("critical alert: revoked_key_used"))
    );
    ts.stop().await;
}
