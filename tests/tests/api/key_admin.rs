//! An agent key after its creation (issue 22): its details with usage from the audit log,
//! changing its expiry and allowlist, rotating it with an overlap. Who may (owner, admins;
//! 404 for anyone else), the sudo window, 409 on a revoked key, the audit events and the
//! owner's mail, and what the agents see over HTTP before and after. Changing expiry and
//! allowlist is in `key_update`.

use chrono::Duration;
use keyhold_client::Client;
use keyhold_core::ErrorCode;
use keyhold_core::Sensitive;
use keyhold_core::api::{
    AuditEvent, AuditQuery, CreateKeyRequest, Role, SignupRequest, UpdateKeyRequest,
};
use keyhold_e2e::{STRONG_PASSWORD, TestServer, unique_email};
use keyhold_vault::clock::Clock;

use crate::support::{as_agent, key, key_req, p, token};

/// `by`'s invitation accepted by a new person with `role`, signed in.
async fn join(ts: &TestServer, by: &Client, role: Role) -> Client {
    let email = unique_email("keys-admin-join");
    by.invite(&email, role).await.unwrap();
    let link = ts.mailed_link(&email, "/signup").await.unwrap();
    let invitation = link.split("invitation=").nth(1).unwrap().to_owned();
    ts.client()
        .signup(&SignupRequest {
            email: email.clone(),
            password: Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: None,
            invitation: Some(Sensitive::new(invitation)),
        })
        .await
        .unwrap();
    ts.login(&email, STRONG_PASSWORD).await
}

pub(crate) async fn events(c: &Client, action: &str) -> Vec<AuditEvent> {
    c.audit(&AuditQuery {
        action: Some(action.into()),
        ..Default::default()
    })
    .await
    .unwrap()
    .items
}

pub(crate) fn code(e: &keyhold_client::ClientError) -> Option<ErrorCode> {
    e.code()
}

#[tokio::test]
async fn details_count_the_keys_and_its_tokens_requests_from_the_audit_log() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-usage").await;
    alice
        .client
        .put_secret(&p("prod/K"), "v1", None, None)
        .await
        .unwrap();
    let k = key(&alice, &["secrets:read:prod/*"]).await;
    let id = k.key.id.clone();
    let fresh = alice.client.key(&id).await.unwrap();
    assert_eq!(fresh.key, k.key);
    assert_eq!((fresh.usage.requests_24h, fresh.usage.requests_7d), (0, 0));
    assert!(fresh.usage.recent_ips.is_empty());

    let agent = as_agent(&ts, k.secret.expose());
    for _ in 0..3 {
        agent.get_secret(&p("prod/K"), None).await.unwrap();
    }
    // Refused: out of scope.
    agent.get_secret(&p("staging/K"), None).await.unwrap_err();
    // A token's requests count for the key that issued it.
    let t = token(&agent, &["secrets:read:prod/K"]).await;
    as_agent(&ts, t.token.expose())
        .get_secret(&p("prod/K"), None)
        .await
        .unwrap();
    // Another key's use is not this key's.
    let other = key(&alice, &["secrets:read:prod/*"]).await;
    as_agent(&ts, other.secret.expose())
        .get_secret(&p("prod/K"), None)
        .await
        .unwrap();

    let seen = ts.clock.now();
    let d = alice.client.key(&id).await.unwrap();
    // 3 reads, 1 refused read, 1 token issued, 1 read with the token.
    assert_eq!((d.usage.requests_24h, d.usage.requests_7d), (6, 6));
    assert_eq!(d.usage.refused_7d, 1);
    assert_eq!(d.usage.recent_ips.len(), 1);
    assert_eq!(d.usage.recent_ips[0].ip, "127.0.0.1");
    assert_eq!(d.usage.recent_ips[0].requests, 6);
    assert_eq!(d.usage.recent_ips[0].last_seen_at, seen);
    assert_eq!(d.key.last_used_ip.as_deref(), Some("127.0.0.1"));

    // A session lasts 12 idle hours: sign in again after each jump.
    let later = |days| {
        ts.clock.advance(Duration::days(days));
        ts.login(&alice.email, STRONG_PASSWORD)
    };
    let d = later(2).await.key(&id).await.unwrap();
    assert_eq!((d.usage.requests_24h, d.usage.requests_7d), (0, 6));
    let d = later(6).await.key(&id).await.unwrap();
    assert_eq!((d.usage.requests_7d, d.usage.refused_7d), (0, 0));
    assert_eq!(
        d.usage.recent_ips.len(),
        1,
        "addresses are listed for 30 days"
    );
    let d = later(23).await.key(&id).await.unwrap();
    assert!(d.usage.recent_ips.is_empty());
}

#[tokio::test]
async fn only_the_owner_and_admins_see_or_change_a_key_others_get_404() {
    let ts = TestServer::start().await;
    let owner = ts.person("keys-who").await;
    let member = join(&ts, &owner.client, Role::Member).await;
    let admin = join(&ts, &owner.client, Role::Admin).await;
    let stranger = ts.person("keys-who-other").await;
    let mine = member
        .create_key(&key_req("members", &["secrets:read:a"]))
        .await
        .unwrap();
    let owners = key(&owner, &["secrets:read:a"]).await;

    // The owner's key is not the member's business; another tenant's is nobody's here.
    let unknown = "0190f2a4-c3b8-7e1d-9a6b-5c4d3e2f1a0b".to_owned();
    for (c, id) in [
        (&member, &owners.key.id),
        (&stranger.client, &mine.key.id),
        (&member, &unknown),
    ] {
        assert_eq!(c.key(id).await.unwrap_err().status(), Some(404));
        let e = c
            .update_key(id, &UpdateKeyRequest::default())
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(404));
        assert_eq!(
            c.rotate_key(id, None).await.unwrap_err().status(),
            Some(404)
        );
    }
    // The member's own key, and an admin (or the tenant's owner) for anyone's.
    member.key(&mine.key.id).await.unwrap();
    admin.key(&mine.key.id).await.unwrap();
    owner.client.key(&mine.key.id).await.unwrap();
    let rotated = admin.rotate_key(&mine.key.id, Some("0s")).await.unwrap();
    // The rotated key stays the member's; the member is told by mail.
    assert_eq!(rotated.key.owner_id, mine.key.owner_id);
    let refused = events(&owner.client, "key.rotated").await;
    assert!(refused.iter().any(|e| e.outcome == "failure"));
}

#[tokio::test]
async fn rotation_keeps_the_old_key_for_the_overlap_then_only_the_new_one_works() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-rotate").await;
    alice
        .client
        .put_secret(&p("prod/K"), "v1", None, None)
        .await
        .unwrap();
    let old = alice
        .client
        .create_key(&CreateKeyRequest {
            expires_in: Some("30d".into()),
            ip_allowlist: Some(vec!["127.0.0.0/8".into()]),
            ..key_req("deploy", &["secrets:read:prod/*"])
        })
        .await
        .unwrap();
    let old_agent = as_agent(&ts, old.secret.expose());
    ts.clock.advance(Duration::days(3));
    let again = ts.login(&alice.email, STRONG_PASSWORD).await;
    let old_token = token(&old_agent, &["secrets:read:prod/K"]).await;
    let old_tok = as_agent(&ts, old_token.token.expose());
    let now = ts.clock.now();

    let resp = reqwest::Client::new()
        .post(format!("{}/v1/keys/{}/rotate", ts.url(), old.key.id))
        .bearer_auth(again.token().unwrap())
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let r: keyhold_core::api::RotateKeyResponse = resp.json().await.unwrap();
    // Same name, scopes, allowlist and lifetime; a new id and secret.
    assert_ne!(r.key.id, old.key.id);
    assert_ne!(r.secret.expose(), old.secret.expose());
    assert!(r.secret.expose().starts_with(&r.key.prefix));
    assert_eq!(
        (&r.key.name, &r.key.scopes, &r.key.ip_allowlist),
        (&old.key.name, &old.key.scopes, &old.key.ip_allowlist)
    );
    assert_eq!(r.key.expires_at, Some(now + Duration::days(30)));
    // The default overlap is an hour.
    assert_eq!(r.old_key_expires_at, now + Duration::hours(1));
    let mail = crate::notices::notice(&ts, &alice.email, "an agent key was rotated").await;
    assert!(
        mail.contains("\"deploy\"") && mail.contains("stops working at"),
        "{mail}"
    );
    assert!(
        !mail.contains(&r.secret.expose()[4..]),
        "the new key is in the mail"
    );
    let new_agent = as_agent(&ts, r.secret.expose());
    for c in [&new_agent, &old_agent, &old_tok] {
        c.get_secret(&p("prod/K"), None).await.unwrap();
    }
    let listed = again.list_keys(None, None).await.unwrap().items;
    let old_listed = listed.iter().find(|k| k.id == old.key.id).unwrap();
    assert_eq!(old_listed.expires_at, Some(r.old_key_expires_at));

    ts.clock.advance(Duration::hours(1));
    new_agent.get_secret(&p("prod/K"), None).await.unwrap();
    for c in [&old_agent, &old_tok] {
        let e = c.get_secret(&p("prod/K"), None).await.unwrap_err();
        assert_eq!(e.status(), Some(401));
    }

    let ev = events(&again, "key.rotated").await;
    assert_eq!(ev.len(), 1);
    assert_eq!(
        ev[0].target.as_deref(),
        Some(&*format!("key:{}", old.key.id))
    );
    assert_eq!(ev[0].detail["new_key_id"], serde_json::json!(r.key.id));
    assert_eq!(ev[0].detail["overlap"], "1h");
    let audit = again.audit_export("json").await.unwrap();
    assert!(
        !audit.contains(&r.secret.expose()[4..]),
        "audit leaks the new key"
    );
}

#[tokio::test]
async fn rotation_with_no_overlap_revokes_the_old_key_and_its_tokens_at_once() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-rotate-now").await;
    alice
        .client
        .put_secret(&p("prod/K"), "v1", None, None)
        .await
        .unwrap();
    let old = key(&alice, &["secrets:read:prod/*"]).await;
    let old_agent = as_agent(&ts, old.secret.expose());
    let t = token(&old_agent, &["secrets:read:prod/K"]).await;
    let old_tok = as_agent(&ts, t.token.expose());
    let r = alice
        .client
        .rotate_key(&old.key.id, Some("0s"))
        .await
        .unwrap();
    assert_eq!(r.old_key_expires_at, ts.clock.now());
    assert_eq!(
        r.key.expires_at, None,
        "a key that never expired still does not"
    );
    for c in [&old_agent, &old_tok] {
        assert_eq!(
            c.get_secret(&p("prod/K"), None).await.unwrap_err().status(),
            Some(401)
        );
    }
    as_agent(&ts, r.secret.expose())
        .get_secret(&p("prod/K"), None)
        .await
        .unwrap();
    let d = alice.client.key(&old.key.id).await.unwrap();
    assert_eq!(d.key.revoked_at, Some(r.old_key_expires_at));
    // Revoked is final: neither rotated nor changed again.
    let e = alice
        .client
        .rotate_key(&old.key.id, None)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409));
    // An overlap past the old key's own expiry ends it at its expiry.
    let short = alice
        .client
        .create_key(&CreateKeyRequest {
            expires_in: Some("30m".into()),
            ..key_req("short", &["secrets:read:prod/*"])
        })
        .await
        .unwrap();
    let r = alice
        .client
        .rotate_key(&short.key.id, Some("7d"))
        .await
        .unwrap();
    assert_eq!(Some(r.old_key_expires_at), short.key.expires_at);
    assert_eq!(
        r.key.expires_at,
        Some(ts.clock.now() + Duration::minutes(30))
    );
}

#[tokio::test]
async fn rotation_refuses_bad_overlaps_a_lapsed_sudo_window_and_ed25519_keys() {
    let ts = TestServer::start().await;
    let alice = ts.person("keys-rotate-bad").await;
    let k = key(&alice, &["secrets:read:prod/*"]).await;
    for bad in ["8d", "-1h", "1x", "0d0", ""] {
        let e = alice
            .client
            .rotate_key(&k.key.id, Some(bad))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(422), "{bad}");
    }
    let ed = crate::signed::ed_key(&alice, &["secrets:read:prod/*"], |_| {}).await;
    let e = alice.client.rotate_key(&ed.id, None).await.unwrap_err();
    assert_eq!(e.status(), Some(409));
    assert_eq!(
        alice
            .client
            .list_keys(None, None)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    ts.clock.advance(Duration::minutes(11));
    let e = alice.client.rotate_key(&k.key.id, None).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::ReauthRequired));
    assert_eq!(
        alice
            .client
            .list_keys(None, None)
            .await
            .unwrap()
            .items
            .len(),
        2,
        "a refused rotation made a key"
    );
}
