//! Made-up credentials against the real server (issue 15, review item 3): they never get a
//! rate-limit bucket of their own, cannot drain a real key's, and every refused use of an
//! agent credential is audited and counted in /metrics by a fixed set of reasons.

use chrono::Duration;
use keyhold_core::api::{AuditEvent, AuditQuery, CreateKeyRequest};
use keyhold_core::credential::{Credential, CredentialKind};
use keyhold_e2e::TestServer;
use keyhold_vault::store::AuditScope;
use reqwest::Response;

use crate::support::{key, p, scopes};

fn remaining(r: &Response) -> Option<u64> {
    r.headers()
        .get("ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// `GET /v1/secrets/prod/API_KEY` with `bearer`, from `ip` as told by the trusted proxy.
async fn read_as(ts: &TestServer, bearer: &str, ip: &str) -> Response {
    reqwest::Client::new()
        .get(format!("{}/v1/secrets/prod/API_KEY", ts.url()))
        .bearer_auth(bearer)
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
}

/// The value of `keyhold_agent_auth_failures_total{reason="…"}`.
async fn failures(ts: &TestServer, reason: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", ts.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!("keyhold_agent_auth_failures_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .unwrap_or_else(|| panic!("no {series} in /metrics"))
        .trim()
        .parse()
        .unwrap()
}

/// A made-up key id: 32 lowercase hex digits, as a `kha_` carries one.
fn random_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// `random_id`'s hyphenated form, as key ids are shown.
fn hyphenated(id: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &id[..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..]
    )
}

/// The 32-hex key id a `kha_` carries.
fn embedded_id(secret: &str) -> String {
    Credential::parse(secret)
        .unwrap()
        .embedded_id()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn made_up_credentials_share_their_address_bucket() {
    let ts = TestServer::start_with(|c| {
        c.rate_limit_anonymous = 5;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    // Well-formed (valid checksum) and fresh each time: before the fix each got a bucket.
    let kinds = [
        CredentialKind::AgentKey,
        CredentialKind::ScopedToken,
        CredentialKind::Session,
    ];
    for (i, left) in [4, 3, 2, 1, 0].into_iter().enumerate() {
        let forged = Credential::generate(kinds[i % 3]);
        let r = read_as(&ts, forged.expose(), "203.0.113.50").await;
        assert_eq!(r.status(), 401, "forged {:?}", kinds[i % 3]);
        assert_eq!(remaining(&r), Some(left), "counted against the address");
    }
    for kind in kinds {
        let forged = Credential::generate(kind);
        let r = read_as(&ts, forged.expose(), "203.0.113.50").await;
        assert_eq!(r.status(), 429, "{kind:?}: the address's bucket is empty");
        assert!(r.headers().contains_key("retry-after"));
    }
    // One with a real-looking key id is no different.
    let forged = Credential::generate_with_id(CredentialKind::AgentKey, &random_id()).unwrap();
    assert_eq!(
        read_as(&ts, forged.expose(), "203.0.113.50").await.status(),
        429
    );
    // Another address still has its own.
    let forged = Credential::generate(CredentialKind::AgentKey);
    assert_eq!(
        read_as(&ts, forged.expose(), "198.51.100.9").await.status(),
        401
    );
    ts.stop().await;
}

#[tokio::test]
async fn a_forged_key_with_a_real_keys_id_does_not_drain_its_bucket() {
    let ts = TestServer::start_with(|c| {
        c.rate_limit_agent = 5;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let owner = ts.person("drain").await;
    owner
        .client
        .put_secret(&p("prod/API_KEY"), "v1", None, None)
        .await
        .unwrap();
    let k = key(&owner, &["secrets:read:prod/*"]).await;
    let real = k.secret.expose();
    let r = read_as(&ts, real, "203.0.113.60").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        remaining(&r),
        Some(4),
        "the key's own bucket, from its first use"
    );
    let r = read_as(&ts, real, "203.0.113.60").await;
    assert_eq!(remaining(&r), Some(3));

    // The same key id (so the same display prefix), another secret part; from the key's
    // own address and from another.
    let id = embedded_id(real);
    for ip in ["203.0.113.60", "198.51.100.61"] {
        for _ in 0..6 {
            let forged = Credential::generate_with_id(CredentialKind::AgentKey, &id).unwrap();
            assert_eq!(forged.display_prefix(), k.key.prefix);
            let r = read_as(&ts, forged.expose(), ip).await;
            assert_eq!(r.status(), 401);
        }
    }
    let r = read_as(&ts, real, "203.0.113.60").await;
    assert_eq!(r.status(), 200, "the real key is not locked out");
    assert_eq!(remaining(&r), Some(2), "forgeries took nothing from it");
    ts.stop().await;
}

/// The tenant's `auth.agent` events, newest first, as the owner reads them.
async fn owner_sees(owner: &keyhold_client::Client) -> Vec<AuditEvent> {
    owner
        .audit(&AuditQuery {
            action: Some("auth.agent".to_owned()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

fn reason(e: &AuditEvent) -> &str {
    e.detail["reason"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn refused_agent_credentials_are_audited_and_counted_by_reason() {
    let ts = TestServer::start().await;
    let owner = ts.person("refusals").await;
    owner
        .client
        .put_secret(&p("prod/API_KEY"), "v1", None, None)
        .await
        .unwrap();
    let read = |secret: String| {
        let url = format!("{}/v1/secrets/prod/API_KEY", ts.url());
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(secret)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let mut counted = Vec::new();
    for reason in [
        "malformed",
        "unknown",
        "revoked",
        "expired",
        "address",
        "scope",
    ] {
        counted.push(failures(&ts, reason).await);
    }
    assert_eq!(counted, vec![0; 6], "every reason is there from the start");

    // Malformed, and well-formed but unknown (a key and a token): the system chain.
    assert_eq!(read("kha_not-even-close".to_owned()).await, 401);
    let claimed = random_id();
    let forged = Credential::generate_with_id(CredentialKind::AgentKey, &claimed).unwrap();
    assert_eq!(read(forged.expose().to_owned()).await, 401);
    let forged_token = Credential::generate(CredentialKind::ScopedToken);
    assert_eq!(read(forged_token.expose().to_owned()).await, 401);

    // Revoked, outside the allowlist, outside its scopes, expired: the tenant's chain.
    let revoked = key(&owner, &["secrets:read:prod/*"]).await;
    owner.client.revoke_key(&revoked.key.id).await.unwrap();
    assert_eq!(read(revoked.secret.expose().to_owned()).await, 401);
    let fenced = owner
        .client
        .create_key(&CreateKeyRequest {
            name: "fenced".to_owned(),
            scopes: scopes(&["secrets:read:prod/*"]),
            expires_in: None,
            ip_allowlist: Some(vec!["10.0.0.0/8".to_owned()]),
            public_key: None,
        })
        .await
        .unwrap();
    assert_eq!(read(fenced.secret.expose().to_owned()).await, 403);
    let narrow = key(&owner, &["secrets:read:dev/*"]).await;
    assert_eq!(read(narrow.secret.expose().to_owned()).await, 403);
    let brief = owner
        .client
        .create_key(&CreateKeyRequest {
            name: "brief".to_owned(),
            scopes: scopes(&["secrets:read:prod/*"]),
            expires_in: Some("1h".to_owned()),
            ip_allowlist: None,
            public_key: None,
        })
        .await
        .unwrap();
    ts.clock.advance(Duration::hours(2));
    assert_eq!(read(brief.secret.expose().to_owned()).await, 401);

    for (reason, n) in [
        ("malformed", 1),
        ("unknown", 2),
        ("revoked", 1),
        ("expired", 1),
        ("address", 1),
        ("scope", 1),
    ] {
        assert_eq!(failures(&ts, reason).await, n, "{reason}");
    }

    // The owner reads the refusals of the tenant's keys, with key id and address.
    let seen = owner_sees(&owner.client).await;
    for (why, k) in [
        ("revoked", &revoked),
        ("address", &fenced),
        ("expired", &brief),
    ] {
        let e = seen
            .iter()
            .find(|e| reason(e) == why)
            .unwrap_or_else(|| panic!("no {why} refusal in {seen:#?}"));
        assert_eq!(e.actor.id.as_deref(), Some(k.key.id.as_str()));
        assert_eq!(e.detail["key_id"], k.key.id.as_str());
        assert_eq!(e.ip.as_deref(), Some("127.0.0.1"));
    }
    assert_eq!(
        seen.len(),
        3,
        "the unknown ones are not the tenant's: {seen:#?}"
    );
    // Scope refusals are the secrets service's own event.
    let scope = owner
        .client
        .audit(&AuditQuery {
            action: Some("secret.read".to_owned()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert!(
        scope.iter().any(|e| e.outcome == "denied"
            && reason(e) == "scope"
            && e.actor.id.as_deref() == Some(narrow.key.id.as_str())),
        "{scope:#?}"
    );

    // Unknown credentials: the system chain, with the claimed id and never a secret part.
    let system = ts
        .server
        .state
        .store
        .audit_page(
            &AuditScope::Tenant(String::new()),
            &AuditQuery::default(),
            None,
            100,
        )
        .await
        .unwrap();
    let system: Vec<_> = system.iter().filter(|e| e.action == "auth.agent").collect();
    let reasons: Vec<_> = system.iter().map(|e| reason(e)).collect();
    assert_eq!(reasons, ["unknown", "unknown", "malformed"], "{system:#?}");
    assert_eq!(system[1].detail["key_id"], hyphenated(&claimed));
    assert_eq!(system[1].ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(system[0].detail["credential"], "token");
    let all = serde_json::to_string(&system).unwrap();
    // The secret parts: after the id of the key, after the prefix of the token.
    for secret in [&forged.expose()[36..], &forged_token.expose()[4..]] {
        assert!(!all.contains(&secret[..16]), "a secret part in {all}");
    }
    ts.stop().await;
}
