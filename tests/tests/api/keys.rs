//! Agent keys: shown once, sudo window, last use, revocation (also by leak report).

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_core::api::{AuditQuery, CreateKeyRequest};
use keyhold_core::credential::Credential;
use keyhold_e2e::{STRONG_PASSWORD, ServerProcess, TestServer};

use crate::support::{as_agent, key, key_req, p, token};

#[tokio::test]
async fn key_secret_is_shown_once_and_never_listed() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-once").await;
    let created = key(&alice, &["secrets:read:production/*"]).await;
    let secret = created.secret.expose().clone();
    assert!(secret.starts_with("kha_"));
    // The key carries its id, so a leaked key says which key it is.
    let cred = Credential::parse(&secret).unwrap();
    assert_eq!(cred.embedded_id().unwrap(), created.key.id.replace('-', ""));
    assert!(secret.starts_with(&created.key.prefix));
    let listed = alice.client.list_keys(None, None).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0], created.key);
    let raw = alice
        .client
        .get_raw("/v1/keys")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!raw.contains(&secret[4..]), "listing leaks the key");
    let audit = alice.client.audit_export("json").await.unwrap();
    assert!(audit.contains("key.created"));
    assert!(!audit.contains(&secret[4..]), "audit leaks the key");
}

#[tokio::test]
async fn create_key_response_is_not_cached_and_validated() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-validate").await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/keys", ts.url()))
        .bearer_auth(alice.client.token().unwrap())
        .json(&serde_json::json!({"name": "a", "scopes": ["secrets:read:x"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    for body in [
        serde_json::json!({"name": "a", "scopes": []}),
        serde_json::json!({"name": "a", "scopes": ["secrets:read:../x"]}),
        serde_json::json!({"name": "a", "scopes": ["admin:*"]}),
        serde_json::json!({"name": "", "scopes": ["secrets:read:x"]}),
        serde_json::json!({"name": "a", "scopes": ["secrets:read:x"], "expires_in": "-1h"}),
        serde_json::json!({"name": "a", "scopes": ["secrets:read:x"], "ip_allowlist": ["nope"]}),
    ] {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/keys", ts.url()))
            .bearer_auth(alice.client.token().unwrap())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{body}");
    }
}

#[tokio::test]
async fn creating_a_key_needs_the_sudo_window() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-sudo").await;
    ts.clock.advance(Duration::minutes(9));
    alice
        .client
        .create_key(&key_req("ok", &["secrets:read:a"]))
        .await
        .unwrap();
    ts.clock.advance(Duration::minutes(2));
    let err = alice
        .client
        .create_key(&key_req("late", &["secrets:read:a"]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ReauthRequired));
    // Signing in again opens a new window.
    let again = ts.login(&alice.email, STRONG_PASSWORD).await;
    again
        .create_key(&key_req("fresh", &["secrets:read:a"]))
        .await
        .unwrap();
}

#[tokio::test]
async fn revoked_key_and_its_tokens_fail_on_the_next_request() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-revoke").await;
    alice
        .client
        .put_secret(&p("prod/K"), "value-1", None, None)
        .await
        .unwrap();
    let k = key(&alice, &["secrets:read:prod/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    let t = token(&agent, &["secrets:read:prod/K"]).await;
    let tok = as_agent(&ts, t.token.expose());
    agent.get_secret(&p("prod/K"), None).await.unwrap();
    tok.get_secret(&p("prod/K"), None).await.unwrap();

    alice.client.revoke_key(&k.key.id).await.unwrap();
    for c in [&agent, &tok] {
        let err = c.get_secret(&p("prod/K"), None).await.unwrap_err();
        assert_eq!(err.status(), Some(401));
    }
    let err = agent
        .issue_token(&crate::support::token_req(&["secrets:read:prod/K"]))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    let listed = alice.client.list_keys(None, None).await.unwrap();
    assert!(listed.items[0].revoked_at.is_some());
    // Revoking twice is fine; a key that does not exist is a 404.
    alice.client.revoke_key(&k.key.id).await.unwrap();
    let err = alice
        .client
        .revoke_key("0190f2a4-c3b8-7e1d-9a6b-5c4d3e2f1a0b")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let ev = alice
        .client
        .audit(&AuditQuery {
            action: Some("key.revoked".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(ev.items.iter().any(|e| e.outcome == "success"));
}

#[tokio::test]
async fn revoke_leaked_answers_202_either_way_and_kills_the_key() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-leak").await;
    let k = key(&alice, &["secrets:read:*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    agent.list_metadata(&Default::default()).await.unwrap();

    let anon = ts.client();
    anon.revoke_leaked("not a key at all").await.unwrap();
    // Well-formed, right id, wrong body: no match, same answer, key untouched.
    let forged = Credential::generate_with_id(
        keyhold_core::credential::CredentialKind::AgentKey,
        &k.key.id.replace('-', ""),
    )
    .unwrap();
    anon.revoke_leaked(forged.expose()).await.unwrap();
    agent.list_metadata(&Default::default()).await.unwrap();

    anon.revoke_leaked(k.secret.expose()).await.unwrap();
    let err = agent.list_metadata(&Default::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    let ev = alice
        .client
        .audit(&AuditQuery {
            action: Some("key.revoked".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(ev.items.iter().any(|e| e.detail["method"] == "leaked"));

    // Tokens can be reported too.
    let k2 = key(&alice, &["secrets:read:*"]).await;
    let t = token(&as_agent(&ts, k2.secret.expose()), &["secrets:read:*"]).await;
    let tok = as_agent(&ts, t.token.expose());
    tok.list_metadata(&Default::default()).await.unwrap();
    anon.revoke_leaked(t.token.expose()).await.unwrap();
    assert_eq!(
        tok.list_metadata(&Default::default())
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
}

#[tokio::test]
async fn last_use_is_recorded_at_most_once_a_minute() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-lastuse").await;
    let k = key(&alice, &["secrets:read:*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    let t0 = {
        use keyhold_vault::clock::Clock;
        ts.clock.now()
    };
    agent.list_metadata(&Default::default()).await.unwrap();
    let used = |items: &[keyhold_core::api::AgentKey]| items[0].last_used_at;
    let l = alice.client.list_keys(None, None).await.unwrap();
    assert_eq!(used(&l.items), Some(t0));
    assert_eq!(l.items[0].last_used_ip.as_deref(), Some("127.0.0.1"));
    ts.clock.advance(Duration::seconds(59));
    agent.list_metadata(&Default::default()).await.unwrap();
    let l = alice.client.list_keys(None, None).await.unwrap();
    assert_eq!(used(&l.items), Some(t0), "written again within a minute");
    ts.clock.advance(Duration::seconds(1));
    agent.list_metadata(&Default::default()).await.unwrap();
    let l = alice.client.list_keys(None, None).await.unwrap();
    assert_eq!(used(&l.items), Some(t0 + Duration::seconds(60)));
}

#[tokio::test]
async fn expired_key_is_refused() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-expiry").await;
    let k = alice
        .client
        .create_key(&CreateKeyRequest {
            expires_in: Some("1h".into()),
            ..key_req("short", &["secrets:read:*"])
        })
        .await
        .unwrap();
    let agent = as_agent(&ts, k.secret.expose());
    ts.clock.advance(Duration::minutes(59));
    agent.list_metadata(&Default::default()).await.unwrap();
    ts.clock.advance(Duration::minutes(1));
    assert_eq!(
        agent
            .list_metadata(&Default::default())
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
}

#[tokio::test]
async fn key_listing_pages_with_a_cursor() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-own").await;
    key(&alice, &["secrets:read:*"]).await;
    let page = alice.client.list_keys(Some(1), None).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.next_cursor.is_some());
    let next = alice
        .client
        .list_keys(Some(1), page.next_cursor.as_deref())
        .await
        .unwrap();
    assert!(next.items.is_empty());
}

/// The raw key, token and secret values appear in their create responses and nowhere
/// else: not in the database file, not in its WAL, not in the server's log.
#[tokio::test]
async fn raw_credentials_and_values_never_reach_disk_or_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::spawn(dir.path(), &[("KEYHOLD_LOG", "debug")]);
    let (_, session) = server.signed_up("disk").await;
    let me = server.client().with_token(session);
    let mut raw_values = Vec::new();
    for i in 0..100 {
        let value = format!("sv{i:03}-{}-plaintext-marker", std::process::id());
        me.put_secret(&p(&format!("prod/app/S{i}")), &value, None, None)
            .await
            .unwrap();
        raw_values.push(value.clone());
        let k = me
            .create_key(&key_req(&format!("k{i}"), &["secrets:read:prod/*"]))
            .await
            .unwrap();
        let agent = server.client().with_token(k.secret.expose().clone());
        let t = agent
            .issue_token(&crate::support::token_req(&["secrets:read:prod/app/*"]))
            .await
            .unwrap();
        let tok = server.client().with_token(t.token.expose().clone());
        assert_eq!(
            tok.get_secret(&p(&format!("prod/app/S{i}")), None)
                .await
                .unwrap()
                .value
                .expose(),
            &value
        );
        raw_values.push(k.secret.expose().clone());
        raw_values.push(t.token.expose().clone());
    }
    let mut needles = keyhold_e2e::leaks::Needles::new();
    for v in &raw_values {
        needles.add("a raw key, token or value", v);
    }
    let scan = |label: &str| {
        for name in ["keyhold.db", "keyhold.db-wal"] {
            let bytes = std::fs::read(dir.path().join(name)).unwrap_or_default();
            needles.assert_none_in(&format!("{name} ({label})"), &bytes);
        }
    };
    scan("while serving");
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    scan("after shutdown");
    assert!(!log.is_empty());
    needles.assert_none_in("the server log", log.as_bytes());
}
