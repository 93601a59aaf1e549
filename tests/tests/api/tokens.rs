//! Scoped tokens: subsets, TTL, max_uses under concurrency, IP allowlists and proxies.

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_core::api::{AuditQuery, CreateKeyRequest, IssueTokenRequest};
use keyhold_e2e::TestServer;

use crate::support::{as_agent, key, key_req, p, raw, token, token_req};

#[tokio::test]
async fn token_ttl_default_boundary_and_cap() {
    let ts = TestServer::start().await;
    let alice = ts.person("tok-ttl").await;
    alice
        .client
        .put_secret(&p("a/K"), "v", None, None)
        .await
        .unwrap();
    let k = key(&alice, &["secrets:read:a/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    let t = token(&agent, &["secrets:read:a/K"]).await;
    let tok = as_agent(&ts, t.token.expose());
    ts.clock.advance(Duration::hours(1) - Duration::seconds(1));
    tok.get_secret(&p("a/K"), None).await.unwrap();
    ts.clock.advance(Duration::seconds(1));
    let err = tok.get_secret(&p("a/K"), None).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated));

    // 24 h is the cap: allowed exactly, refused beyond.
    for ok in ["24h", "1d", "15m"] {
        agent
            .issue_token(&IssueTokenRequest {
                ttl: Some(ok.into()),
                ..token_req(&["secrets:read:a/K"])
            })
            .await
            .unwrap();
    }
    for bad in ["25h", "2d", "0m", "1.5h", "forever"] {
        let err = agent
            .issue_token(&IssueTokenRequest {
                ttl: Some(bad.into()),
                ..token_req(&["secrets:read:a/K"])
            })
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(422), "{bad}");
    }
}

#[tokio::test]
async fn token_never_outlives_its_key() {
    let ts = TestServer::start().await;
    let alice = ts.person("tok-keyexp").await;
    let k = alice
        .client
        .create_key(&CreateKeyRequest {
            expires_in: Some("30m".into()),
            ..key_req("short", &["secrets:read:*"])
        })
        .await
        .unwrap();
    let t = token(&as_agent(&ts, k.secret.expose()), &["secrets:read:*"]).await;
    assert_eq!(Some(t.expires_at), k.key.expires_at);
}

#[tokio::test]
async fn token_wider_than_its_key_is_refused() {
    let ts = TestServer::start().await;
    let alice = ts.person("tok-wide").await;
    let k = key(&alice, &["secrets:read:production/gemini/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    for wider in [
        vec!["secrets:read:production/*"],
        vec!["secrets:read:*"],
        vec!["secrets:write:production/gemini/K"],
        vec!["secrets:read:production/gemini/K", "secrets:read:staging/K"],
    ] {
        let err = agent.issue_token(&token_req(&wider)).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::Forbidden), "{wider:?}");
    }
    let err = agent.issue_token(&token_req(&[])).await.unwrap_err();
    assert_eq!(err.status(), Some(422));
    // A session or a token cannot issue tokens: only a key.
    let err = alice
        .client
        .issue_token(&token_req(&["secrets:read:production/gemini/K"]))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    let ev = alice
        .client
        .audit(&AuditQuery {
            action: Some("token.issued".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(ev.items.iter().any(|e| e.outcome == "denied"));
}

#[tokio::test]
async fn max_uses_three_with_twenty_parallel_requests() {
    let ts = TestServer::start().await;
    let alice = ts.person("tok-uses").await;
    alice
        .client
        .put_secret(&p("a/K"), "v", None, None)
        .await
        .unwrap();
    let k = key(&alice, &["secrets:read:a/*"]).await;
    let t = as_agent(&ts, k.secret.expose())
        .issue_token(&IssueTokenRequest {
            max_uses: Some(3),
            ..token_req(&["secrets:read:a/K"])
        })
        .await
        .unwrap();
    let tok = as_agent(&ts, t.token.expose());
    let results = futures::future::join_all((0..20).map(|_| {
        let tok = tok.clone();
        async move { tok.get_secret(&p("a/K"), None).await }
    }))
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 3);
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.status(), Some(401));
    }
}

#[tokio::test]
async fn max_uses_zero_negative_and_text_are_refused() {
    let ts = TestServer::start().await;
    let alice = ts.person("tok-uses-bad").await;
    let k = key(&alice, &["secrets:read:*"]).await;
    for bad in [
        serde_json::json!(0),
        serde_json::json!(-1),
        serde_json::json!("text"),
        serde_json::json!(1.5),
    ] {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/tokens", ts.url()))
            .bearer_auth(k.secret.expose())
            .json(&serde_json::json!({"scopes": ["secrets:read:*"], "max_uses": bad}))
            .send()
            .await
            .unwrap();
        assert!(
            r.status() == 400 || r.status() == 422,
            "{bad}: {}",
            r.status()
        );
        let body: keyhold_core::ErrorBody = r.json().await.unwrap();
        assert_eq!(body.error.code, ErrorCode::InvalidRequest);
    }
}

#[tokio::test]
async fn ip_allowlist_uses_the_socket_peer_not_a_forged_header() {
    let ts = TestServer::start().await;
    let alice = ts.person("tok-ip").await;
    alert_only_outside_allowlist(&alice.client).await;
    alice
        .client
        .put_secret(&p("a/K"), "v", None, None)
        .await
        .unwrap();
    let k = key(&alice, &["secrets:read:a/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    let t = agent
        .issue_token(&IssueTokenRequest {
            ip_allowlist: Some(vec!["10.0.0.0/8".into()]),
            ..token_req(&["secrets:read:a/K"])
        })
        .await
        .unwrap();
    let (status, body) = raw(&ts, "GET", "/v1/secrets/a/K", Some(t.token.expose()), &[]).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = raw(
        &ts,
        "GET",
        "/v1/secrets/a/K",
        Some(t.token.expose()),
        &[("X-Forwarded-For", "10.1.2.3")],
    )
    .await;
    assert_eq!(status, 403, "a forged X-Forwarded-For was believed");

    // The same on the key itself.
    let k2 = alice
        .client
        .create_key(&CreateKeyRequest {
            ip_allowlist: Some(vec!["10.0.0.0/8".into()]),
            ..key_req("office", &["secrets:read:*"])
        })
        .await
        .unwrap();
    let (status, _) = raw(
        &ts,
        "GET",
        "/v1/secrets/a/K",
        Some(k2.secret.expose()),
        &[("X-Forwarded-For", "10.9.9.9")],
    )
    .await;
    assert_eq!(status, 403);
    // And an allowlist that includes loopback lets the request through.
    let t2 = agent
        .issue_token(&IssueTokenRequest {
            ip_allowlist: Some(vec!["127.0.0.0/8".into()]),
            ..token_req(&["secrets:read:a/K"])
        })
        .await
        .unwrap();
    let (status, _) = raw(&ts, "GET", "/v1/secrets/a/K", Some(t2.token.expose()), &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let ts = TestServer::start_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let alice = ts.person("tok-proxy").await;
    alert_only_outside_allowlist(&alice.client).await;
    alice
        .client
        .put_secret(&p("a/K"), "v", None, None)
        .await
        .unwrap();
    let k = key(&alice, &["secrets:read:a/*"]).await;
    let t = as_agent(&ts, k.secret.expose())
        .issue_token(&IssueTokenRequest {
            ip_allowlist: Some(vec!["10.0.0.0/8".into()]),
            ..token_req(&["secrets:read:a/K"])
        })
        .await
        .unwrap();
    let tok = t.token.expose();
    let (status, _) = raw(&ts, "GET", "/v1/secrets/a/K", Some(tok), &[]).await;
    assert_eq!(status, 403, "the proxy's own address is not in 10/8");
    let xff = [("X-Forwarded-For", "10.1.2.3")];
    let (status, body) = raw(&ts, "GET", "/v1/secrets/a/K", Some(tok), &xff).await;
    assert_eq!(status, 200, "{body}");
    // Only the hop the trusted proxy saw counts: a client-supplied left part does not.
    let spoof = [("X-Forwarded-For", "10.1.2.3, 192.168.7.7")];
    let (status, _) = raw(&ts, "GET", "/v1/secrets/a/K", Some(tok), &spoof).await;
    assert_eq!(status, 403);
    // The resolved address is the one audited.
    let ev = alice
        .client
        .audit(&AuditQuery {
            action: Some("secret.read".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ev.items[0].ip.as_deref(), Some("10.1.2.3"));
}

#[tokio::test]
async fn deleting_a_token_revokes_it() {
    let ts = TestServer::start().await;
    let alice = ts.person("tok-del").await;
    let k = key(&alice, &["secrets:read:*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    let t1 = token(&agent, &["secrets:read:*"]).await;
    let t2 = token(&agent, &["secrets:read:*"]).await;
    let (c1, c2) = (
        as_agent(&ts, t1.token.expose()),
        as_agent(&ts, t2.token.expose()),
    );
    c1.list_metadata(&Default::default()).await.unwrap();
    agent.revoke_token(&t1.id).await.unwrap();
    alice.client.revoke_token(&t2.id).await.unwrap();
    for c in [&c1, &c2] {
        assert_eq!(
            c.list_metadata(&Default::default())
                .await
                .unwrap_err()
                .status(),
            Some(401)
        );
    }
    assert_eq!(
        agent.revoke_token("nope").await.unwrap_err().status(),
        Some(404)
    );
}

/// These tests use credentials from outside their allowlists on purpose and then again
/// from inside: the detection rule that would suspend the key (docs/alerts.md) only
/// alerts here, so the allowlist itself is what is tested.
async fn alert_only_outside_allowlist(c: &keyhold_client::Client) {
    let mut rules = keyhold_core::api::AlertRules::default();
    rules.outside_allowlist.response = keyhold_core::api::RuleResponse::Alert;
    c.set_alert_rules(&rules).await.unwrap();
}
