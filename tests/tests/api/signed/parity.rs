//! Everything a `kha_` key can do, an Ed25519 key does the same way: creation rules,
//! scoped tokens, scopes, IP allowlists, expiry, revocation, approvals.

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_core::tier::Tier;
use keyhold_e2e::TestServer;

use super::{ed_key, nonce, now, pair, py_sign, reason, send, signing_client};
use crate::approvals::approver;
use crate::support::{as_agent, key_req, p, token_req};

#[tokio::test]
async fn creating_an_ed25519_key_shows_no_secret_and_checks_its_input() {
    let ts = TestServer::start().await;
    let owner = ts.person("sig-create").await;
    let (_, public) = pair();
    let mut req = key_req("deploy", &["secrets:read:app/*"]);
    req.public_key = Some(public.clone());
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/keys", ts.url()))
        .bearer_auth(owner.client.token().unwrap())
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body.get("secret").is_none(), "{body}");
    assert!(
        body["key"]["prefix"]
            .as_str()
            .unwrap()
            .starts_with("ed25519:"),
        "{body}"
    );
    assert_eq!(
        body["key"]["public_keys"][0]["public_key"]
            .as_str()
            .unwrap()
            .trim(),
        public.trim()
    );
    let created = audit_created(&owner.client).await;
    assert_eq!(created["kind"], "ed25519");
    // Bad public keys: 422, no key made.
    let before = owner
        .client
        .list_keys(None, None)
        .await
        .unwrap()
        .items
        .len();
    let (private, _) = pair();
    for bad in [
        "",
        "nope",
        private.as_str(),
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----",
    ] {
        let mut req = key_req("bad", &["secrets:read:app/*"]);
        req.public_key = Some(bad.to_owned());
        let e = owner.client.create_signing_key(&req).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{bad}: {e:?}");
    }
    // The sudo window, as for any key.
    ts.clock.advance(Duration::minutes(11));
    let e = owner.client.create_signing_key(&req).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::ReauthRequired));
    assert_eq!(
        owner
            .client
            .list_keys(None, None)
            .await
            .unwrap()
            .items
            .len(),
        before
    );
}

async fn audit_created(c: &keyhold_client::Client) -> serde_json::Value {
    super::audit(c, "key.created").await[0].detail.clone()
}

#[tokio::test]
async fn an_ed25519_key_issues_scoped_tokens_within_its_scopes() {
    let ts = TestServer::start().await;
    let owner = ts.person("sig-tokens").await;
    owner
        .client
        .put_secret(&p("app/A"), "a", None, None)
        .await
        .unwrap();
    owner
        .client
        .put_secret(&p("other/B"), "b", None, None)
        .await
        .unwrap();
    let key = ed_key(&owner, &["secrets:read:app/*"], |_| {}).await;
    let agent = signing_client(&ts, &key);
    // Its own reads, within its scopes only.
    assert_eq!(
        agent
            .get_secret(&p("app/A"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "a"
    );
    let e = agent.get_secret(&p("other/B"), None).await.unwrap_err();
    assert_eq!(e.status(), Some(403), "{e:?}");
    // A token (signed POST with a body) within its scopes reads; beyond them is refused.
    let t = agent
        .issue_token(&token_req(&["secrets:read:app/A"]))
        .await
        .unwrap();
    let as_token = as_agent(&ts, t.token.expose());
    assert_eq!(
        as_token
            .get_secret(&p("app/A"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "a"
    );
    let e = agent
        .issue_token(&token_req(&["secrets:read:other/*"]))
        .await
        .unwrap_err();
    assert!(matches!(e.status(), Some(403 | 422)), "{e:?}");
    // Revoking the key revokes its tokens, and its signatures stop working.
    owner.client.revoke_key(&key.id).await.unwrap();
    let e = agent.get_secret(&p("app/A"), None).await.unwrap_err();
    assert_eq!(e.status(), Some(401), "{e:?}");
    assert_eq!(e.extra_str("reason"), Some("bad_signature"));
    assert_eq!(
        as_token
            .get_secret(&p("app/A"), None)
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
}

#[tokio::test]
async fn allowlist_and_expiry_hold_for_an_ed25519_key() {
    let ts = TestServer::start().await;
    let owner = ts.person("sig-allow").await;
    owner
        .client
        .put_secret(&p("app/A"), "a", None, None)
        .await
        .unwrap();
    let elsewhere = ed_key(&owner, &["secrets:read:app/*"], |r| {
        r.ip_allowlist = Some(vec!["10.0.0.0/8".to_owned()]);
    })
    .await;
    let e = signing_client(&ts, &elsewhere)
        .get_secret(&p("app/A"), None)
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(403), Some(ErrorCode::Forbidden)),
        "{e:?}"
    );
    let here = ed_key(&owner, &["secrets:read:app/*"], |r| {
        r.ip_allowlist = Some(vec!["127.0.0.1/32".to_owned(), "::1/128".to_owned()]);
        r.expires_in = Some("1h".to_owned());
    })
    .await;
    let agent = signing_client(&ts, &here);
    assert_eq!(
        agent
            .get_secret(&p("app/A"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "a"
    );
    ts.clock.advance(Duration::minutes(61));
    let url = format!("{}/v1/secrets/app/A", ts.url());
    let h = py_sign(&here, "GET", &url, None, now(&ts), &nonce());
    let (status, answer) = send(&ts, "GET", "/v1/secrets/app/A", None, &h).await;
    assert_eq!(
        (status, reason(&answer)),
        (401, "bad_signature"),
        "{answer}"
    );
    let refused = super::audit(&owner.client, "auth.agent").await;
    assert!(
        refused.iter().any(|e| e.detail["reason"] == "expired"),
        "{refused:?}"
    );
    assert!(
        refused.iter().any(|e| e.detail["reason"] == "address"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn approvals_gate_an_ed25519_key_like_any_agent() {
    let ts = TestServer::start().await;
    let owner = ts.person("sig-approve").await;
    owner
        .client
        .put_secret(&p("app/STRIPE"), "sk_live", None, Some(Tier::Sensitive))
        .await
        .unwrap();
    let (approver, _) = approver(&ts, &owner).await;
    let key = ed_key(&owner, &["secrets:read:app/*"], |_| {}).await;
    let agent = signing_client(&ts, &key);
    let e = agent.get_secret(&p("app/STRIPE"), None).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::ApprovalRequired), "{e:?}");
    let id = e.extra_str("approval_id").unwrap().to_owned();
    // The agent can see its request's status, signed.
    assert_eq!(agent.approval(&id).await.unwrap().id, id);
    approver
        .client
        .approve(&id, Some("ok"), None)
        .await
        .unwrap();
    assert_eq!(
        agent
            .get_secret(&p("app/STRIPE"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "sk_live"
    );
    // The grant was one read.
    let e = agent.get_secret(&p("app/STRIPE"), None).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::ApprovalRequired), "{e:?}");
}
