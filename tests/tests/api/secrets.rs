//! Secrets: versions, metadata, delete, scopes against hostile paths, tiers.

use keyhold_core::ErrorCode;
use keyhold_core::api::{AuditQuery, MetadataQuery};
use keyhold_core::tier::{SecretType, Tier};
use keyhold_e2e::TestServer;

use crate::support::{as_agent, key, p, raw, token};

#[tokio::test]
async fn versions_metadata_listing_and_delete() {
    let ts = TestServer::start().await;
    let alice = ts.person("sec-basic").await;
    let c = &alice.client;
    let w1 = c
        .put_secret(
            &p("prod/db/URL"),
            "postgres://one",
            Some(SecretType::Url),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (w1.version, w1.kind, w1.tier),
        (1, SecretType::Url, Tier::Standard)
    );
    let w2 = c
        .put_secret(&p("prod/db/URL"), "postgres://two", None, None)
        .await
        .unwrap();
    assert_eq!((w2.version, w2.kind), (2, SecretType::Url), "type is kept");
    c.put_secret(&p("prod/x_y"), "other", None, None)
        .await
        .unwrap();
    c.put_secret(&p("prodx/a"), "outside", None, None)
        .await
        .unwrap();

    let cur = c.get_secret(&p("prod/db/URL"), None).await.unwrap();
    assert_eq!(
        (cur.version, cur.value.expose().as_str()),
        (2, "postgres://two")
    );
    let old = c.get_secret(&p("prod/db/URL"), Some(1)).await.unwrap();
    assert_eq!(old.value.expose(), "postgres://one");
    assert_eq!(
        c.get_secret(&p("prod/db/URL"), Some(3))
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );

    let meta = c.secret_metadata(&p("prod/db/URL")).await.unwrap();
    assert_eq!(meta.current_version, 2);
    assert_eq!(meta.versions.len(), 2);
    assert_eq!(
        meta.versions[0].created_by,
        format!("user:{}", alice.user_id)
    );
    let raw_meta = c.get_raw("/v1/metadata/prod/db/URL").await.unwrap();
    let text = raw_meta.text().await.unwrap();
    assert!(!text.contains("postgres://"), "metadata carries a value");

    let listed = c
        .list_metadata(&MetadataQuery {
            prefix: Some("prod/".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let paths: Vec<_> = listed.items.iter().map(|s| s.path.to_string()).collect();
    assert_eq!(paths, ["prod/db/URL", "prod/x_y"]);

    // Values are never cached.
    let r = reqwest::Client::new()
        .get(format!("{}/v1/secrets/prod/db/URL", ts.url()))
        .bearer_auth(c.token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");

    c.delete_secret(&p("prod/db/URL")).await.unwrap();
    for err in [
        c.get_secret(&p("prod/db/URL"), None).await.unwrap_err(),
        c.secret_metadata(&p("prod/db/URL")).await.unwrap_err(),
        c.delete_secret(&p("prod/db/URL")).await.unwrap_err(),
    ] {
        assert_eq!(err.code(), Some(ErrorCode::NotFound));
    }
    // A new write after delete starts again.
    let w = c
        .put_secret(&p("prod/db/URL"), "postgres://three", None, None)
        .await
        .unwrap();
    assert_eq!(w.version, 1);

    let audit = c.audit_export("json").await.unwrap();
    for action in ["secret.write", "secret.read", "secret.delete"] {
        assert!(audit.contains(action), "{action} not audited");
    }
    assert!(!audit.contains("postgres://"), "audit carries a value");
}

#[tokio::test]
async fn unauthenticated_and_malformed_requests() {
    let ts = TestServer::start().await;
    let (status, _) = raw(&ts, "GET", "/v1/secrets/a/b", None, &[]).await;
    assert_eq!(status, 401);
    let (status, _) = raw(&ts, "GET", "/v1/secrets/a/b", Some("kht_garbage"), &[]).await;
    assert_eq!(status, 401);
    let alice = ts.person("sec-bad").await;
    let r = reqwest::Client::new()
        .put(format!("{}/v1/secrets/a/b", ts.url()))
        .bearer_auth(alice.client.token().unwrap())
        .json(&serde_json::json!({"value": "v", "tier": "ultra"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

/// The scope example, against every spelling of a path outside it.
#[tokio::test]
async fn gemini_scope_reads_only_gemini_and_nothing_leaks() {
    let ts = TestServer::start().await;
    let alice = ts.person("sec-scope").await;
    let others = [
        ("production/openai/K", "OPENAI-VALUE-MUST-NOT-LEAK"),
        ("production/K", "PROD-ROOT-VALUE-MUST-NOT-LEAK"),
        ("Production/gemini/K", "CASE-VARIANT-VALUE-MUST-NOT-LEAK"),
        ("production/gemini", "FOLDER-VALUE-MUST-NOT-LEAK"),
        ("staging/gemini/K", "STAGING-VALUE-MUST-NOT-LEAK"),
    ];
    for (path, value) in others {
        alice
            .client
            .put_secret(&p(path), value, None, None)
            .await
            .unwrap();
    }
    alice
        .client
        .put_secret(&p("production/gemini/K"), "gemini-value", None, None)
        .await
        .unwrap();
    let k = key(&alice, &["secrets:read:production/gemini/*"]).await;
    let t = token(
        &as_agent(&ts, k.secret.expose()),
        &["secrets:read:production/gemini/*"],
    )
    .await;
    for cred in [k.secret.expose(), t.token.expose()] {
        let (status, body) = raw(
            &ts,
            "GET",
            "/v1/secrets/production/gemini/K",
            Some(cred),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("gemini-value"));

        let refused_422 = [
            "/v1/secrets/production/gemini/../openai/K",
            "/v1/secrets/production/gemini/../../production/K",
            "/v1/secrets/production/gemini/%2e%2e/openai/K",
            "/v1/secrets/production/gemini/%2E%2E/openai/K",
            "/v1/secrets/production/gemini/.%2e/openai/K",
            "/v1/secrets/production/gemini%2F..%2Fopenai/K",
            "/v1/secrets/production/gemini/..%2Fopenai%2FK",
            "/v1/secrets/production/gemini/%252e%252e/openai/K",
            "/v1/secrets/production/gemini/%252F/K",
            "/v1/secrets/production/gemini/./K",
            "/v1/secrets/production/gemini//K",
            "/v1/secrets/production/gemini/K/",
            "/v1/secrets//production/gemini/K",
            "/v1/secrets/production/gemini/K%00",
            "/v1/secrets/production/gemini/%4B%",
            "/v1/secrets/production/gemini/K%20",
        ];
        for target in refused_422 {
            let (status, body) = raw(&ts, "GET", target, Some(cred), &[]).await;
            assert_eq!(status, 422, "{target}: {body}");
            for (_, v) in others {
                assert!(!body.contains(v), "{target} leaked {v}");
            }
        }
        let refused_403 = [
            "/v1/secrets/Production/gemini/K",
            "/v1/secrets/production/GEMINI/K",
            "/v1/secrets/PRODUCTION/GEMINI/K",
            "/v1/secrets/production/openai/K",
            "/v1/secrets/production/gemini",
            "/v1/secrets/production/K",
            "/v1/secrets/staging/gemini/K",
            "/v1/secrets/production/geminix/K",
        ];
        for target in refused_403 {
            let (status, body) = raw(&ts, "GET", target, Some(cred), &[]).await;
            assert_eq!(status, 403, "{target}: {body}");
            for (_, v) in others {
                assert!(!body.contains(v), "{target} leaked {v}");
            }
        }
        // %4B is `K`: an unnecessary escape of an allowed character decodes to the same
        // path, and the scope decides as for the plain spelling.
        let (status, body) = raw(
            &ts,
            "GET",
            "/v1/secrets/production/gemini/%4B",
            Some(cred),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        // In scope but absent.
        let (status, _) = raw(
            &ts,
            "GET",
            "/v1/secrets/production/gemini/k",
            Some(cred),
            &[],
        )
        .await;
        assert_eq!(status, 404);

        // Read scope does not write or delete.
        let agent = as_agent(&ts, cred);
        let err = agent
            .put_secret(&p("production/gemini/K"), "overwritten", None, None)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(403));
        let err = agent
            .delete_secret(&p("production/gemini/K"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(403));
        // Listing shows only what the scopes reach.
        let listed = agent
            .list_metadata(&MetadataQuery::default())
            .await
            .unwrap();
        let paths: Vec<_> = listed.items.iter().map(|s| s.path.to_string()).collect();
        assert_eq!(paths, ["production/gemini/K"]);
    }
    let unchanged = alice
        .client
        .get_secret(&p("production/gemini/K"), None)
        .await
        .unwrap();
    assert_eq!(unchanged.value.expose(), "gemini-value");
    let ev = alice
        .client
        .audit(&AuditQuery {
            action: Some("secret.read".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(ev.items.iter().any(|e| e.outcome == "denied"));
}

#[tokio::test]
async fn write_scope_writes_and_agents_cannot_change_tiers() {
    let ts = TestServer::start().await;
    let alice = ts.person("sec-write").await;
    let k = key(&alice, &["secrets:write:ci/*", "secrets:read:ci/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    let w = agent
        .put_secret(&p("ci/TOKEN"), "t1", None, None)
        .await
        .unwrap();
    assert_eq!(w.version, 1);
    let w = agent
        .put_secret(&p("ci/TOKEN"), "t2", None, None)
        .await
        .unwrap();
    assert_eq!(w.version, 2);
    let meta = alice.client.secret_metadata(&p("ci/TOKEN")).await.unwrap();
    assert_eq!(
        meta.versions[1].created_by,
        format!("agent_key:{}", k.key.id)
    );
    let err = agent
        .put_secret(&p("ci/TOKEN"), "t3", None, Some(Tier::Critical))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden));
    let err = agent
        .put_secret(&p("other/X"), "x", None, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden));
}

/// Without an approval grant a read of a sensitive or critical secret is refused (403)
/// and never carries the value: for agents, and for the owner who wrote it.
#[tokio::test]
async fn sensitive_and_critical_tiers_are_refused_to_agents() {
    let ts = TestServer::start().await;
    let alice = ts.person("sec-tier").await;
    for (path, tier) in [("p/S", Tier::Sensitive), ("p/C", Tier::Critical)] {
        alice
            .client
            .put_secret(&p(path), "TIERED-VALUE", None, Some(tier))
            .await
            .unwrap();
    }
    let k = key(&alice, &["secrets:read:p/*"]).await;
    let t = token(&as_agent(&ts, k.secret.expose()), &["secrets:read:p/*"]).await;
    for cred in [k.secret.expose(), t.token.expose()] {
        for target in ["/v1/secrets/p/S", "/v1/secrets/p/C"] {
            let (status, body) = raw(&ts, "GET", target, Some(cred), &[]).await;
            assert_eq!(status, 403, "{body}");
            assert!(body.contains("approval"), "{body}");
            assert!(!body.contains("TIERED-VALUE"));
        }
    }
    let e = alice.client.get_secret(&p("p/C"), None).await.unwrap_err();
    assert_eq!(e.code(), Some(keyhold_core::ErrorCode::ApprovalRequired));
    assert!(!format!("{e:?}").contains("TIERED-VALUE"));
}
