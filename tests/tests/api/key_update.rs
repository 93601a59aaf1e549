//! `PATCH /v1/keys/{id}` (issue 22): a key's expiry and allowlist changed without a new
//! secret, audited and mailed, enforced at once; bad values, a lapsed sudo window and a
//! revoked key refused with nothing changed.

use chrono::{DateTime, Duration, Utc};
use keyhold_core::ErrorCode;
use keyhold_core::api::UpdateKeyRequest;
use keyhold_e2e::{STRONG_PASSWORD, TestServer, decode_quoted_printable};
use keyhold_vault::clock::Clock;

use crate::key_admin::{code, events};
use crate::support::{as_agent, key, p};

#[tokio::test]
async fn update_changes_expiry_and_allowlist_audited_mailed_and_enforced() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-update").await;
    alice
        .client
        .put_secret(&p("prod/K"), "v1", None, None)
        .await
        .unwrap();
    let k = key(&alice, &["secrets:read:prod/*"]).await;
    let id = k.key.id.clone();
    let agent = as_agent(&ts, k.secret.expose());
    agent.get_secret(&p("prod/K"), None).await.unwrap();

    // An allowlist that leaves the agent's address out: refused from it at once.
    let req = UpdateKeyRequest {
        ip_allowlist: Some(Some(vec!["10.0.0.0/8".into()])),
        ..Default::default()
    };
    let updated = alice.client.update_key(&id, &req).await.unwrap();
    assert_eq!(updated.ip_allowlist, vec!["10.0.0.0/8".to_owned()]);
    assert_eq!(updated.expires_at, None);
    let e = agent.get_secret(&p("prod/K"), None).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    // (Detection suspends a key used from outside its allowlist: docs/alerts.md.)
    assert!(
        alice
            .client
            .key(&id)
            .await
            .unwrap()
            .key
            .suspended_at
            .is_some()
    );
    // `null` clears it; reinstated, the key works from anywhere again.
    let req = UpdateKeyRequest {
        ip_allowlist: Some(None),
        ..Default::default()
    };
    assert!(
        alice
            .client
            .update_key(&id, &req)
            .await
            .unwrap()
            .ip_allowlist
            .is_empty()
    );
    alice.client.reinstate_key(&id).await.unwrap();
    agent.get_secret(&p("prod/K"), None).await.unwrap();

    // An expiry: the key stops at that time, and the allowlist is left as it was.
    let at: DateTime<Utc> = ts.clock.now() + Duration::hours(2);
    let req = UpdateKeyRequest {
        expires_at: Some(Some(at)),
        ..Default::default()
    };
    let updated = alice.client.update_key(&id, &req).await.unwrap();
    assert_eq!(updated.expires_at, Some(at));
    assert_eq!(
        alice.client.key(&id).await.unwrap().key.expires_at,
        Some(at)
    );
    // Re-sign-in first: the sudo window would lapse in the meantime.
    ts.clock.advance(Duration::hours(2));
    assert_eq!(
        agent
            .get_secret(&p("prod/K"), None)
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
    // An expired key can be given a new expiry, and works again.
    let again = ts.login(&alice.email, STRONG_PASSWORD).await;
    let req = UpdateKeyRequest {
        expires_at: Some(None),
        ..Default::default()
    };
    assert_eq!(again.update_key(&id, &req).await.unwrap().expires_at, None);
    agent.get_secret(&p("prod/K"), None).await.unwrap();

    let ev = events(&again, "key.updated").await;
    assert_eq!(ev.len(), 4, "{ev:?}");
    assert!(
        ev.iter()
            .all(|e| e.target.as_deref() == Some(&*format!("key:{id}")))
    );
    assert_eq!(ev[0].detail["changed"], serde_json::json!(["expires_at"]));
    assert_eq!(ev[0].detail["expires_at"], serde_json::Value::Null);
    assert_eq!(ev[2].detail["changed"], serde_json::json!(["ip_allowlist"]));
    let changed = ts
        .outbox()
        .await
        .iter()
        .map(|m| decode_quoted_printable(m))
        .filter(|m| m.contains("Subject: Keyhold: an agent key was changed"))
        .collect::<Vec<_>>();
    assert_eq!(changed.len(), 4);
    assert!(
        changed.iter().any(|m| m.contains("it never expires")),
        "{changed:?}"
    );
    // Nothing to change: nothing written.
    again
        .update_key(&id, &UpdateKeyRequest::default())
        .await
        .unwrap();
    assert_eq!(events(&again, "key.updated").await.len(), 4);
}

#[tokio::test]
async fn update_refuses_bad_values_a_lapsed_sudo_window_and_a_revoked_key() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-update-bad").await;
    let k = key(&alice, &["secrets:read:prod/*"]).await;
    let id = k.key.id.clone();
    let url = format!("{}/v1/keys/{id}", ts.url());
    let patch = |body: serde_json::Value| {
        reqwest::Client::new()
            .patch(&url)
            .bearer_auth(alice.client.token().unwrap())
            .json(&body)
            .send()
    };
    let past = (ts.clock.now() - Duration::minutes(1)).to_rfc3339();
    let far = (ts.clock.now() + Duration::days(3700)).to_rfc3339();
    for (body, field) in [
        (serde_json::json!({"expires_at": past}), "expires_at"),
        (serde_json::json!({"expires_at": far}), "expires_at"),
        (
            serde_json::json!({"ip_allowlist": ["nope"]}),
            "ip_allowlist",
        ),
    ] {
        let r = patch(body.clone()).await.unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let b: serde_json::Value = r.json().await.unwrap();
        assert_eq!(b["error"]["field"], field, "{b}");
    }
    for body in [
        serde_json::json!({"expires_at": "tomorrow"}),
        serde_json::json!({"name": "renamed"}),
    ] {
        let r = patch(body.clone()).await.unwrap();
        assert!(
            r.status() == 422 || r.status() == 400,
            "{body}: {}",
            r.status()
        );
    }
    let k_now = alice.client.key(&id).await.unwrap().key;
    assert_eq!(k_now, k.key, "a refused change changed the key");
    assert!(events(&alice.client, "key.updated").await.is_empty());

    ts.clock.advance(Duration::minutes(11));
    let e = alice
        .client
        .update_key(&id, &UpdateKeyRequest::default())
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::ReauthRequired));
    let again = ts.login(&alice.email, STRONG_PASSWORD).await;
    again.revoke_key(&id).await.unwrap();
    let req = UpdateKeyRequest {
        expires_at: Some(None),
        ..Default::default()
    };
    let e = again.update_key(&id, &req).await.unwrap_err();
    assert_eq!(e.status(), Some(409));
}
