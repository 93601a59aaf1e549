//! Tenant isolation: another tenant's key, token, secret or metadata is a 404 that cannot
//! be told apart, byte for byte, from one that does not exist.

use keyhold_core::api::MetadataQuery;
use keyhold_e2e::TestServer;

use crate::support::{as_agent, key, p, status_and_body, token};

const MISSING_ID: &str = "0190f2a4-c3b8-7e1d-9a6b-5c4d3e2f1a0b";

#[tokio::test]
async fn other_tenants_resources_are_indistinguishable_from_missing_ones() {
    let ts = TestServer::start().await;
    let alice = ts.person("iso-a").await;
    let bob = ts.person("iso-b").await;
    alice
        .client
        .put_secret(&p("prod/ALICE"), "ALICE-ONLY-VALUE", None, None)
        .await
        .unwrap();
    let ak = key(&alice, &["secrets:read:*"]).await;
    let at = token(&as_agent(&ts, ak.secret.expose()), &["secrets:read:*"]).await;
    let bk = key(
        &bob,
        &["secrets:read:*", "secrets:write:*", "secrets:delete:*"],
    )
    .await;
    let bt = token(&as_agent(&ts, bk.secret.expose()), &["secrets:read:*"]).await;

    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", ts.url());
    let bob_session = bob.client.token().unwrap().to_owned();
    let bob_creds = [
        bob_session.as_str(),
        bk.secret.expose().as_str(),
        bt.token.expose().as_str(),
    ];
    for cred in bob_creds {
        for (method, theirs, missing) in [
            ("GET", "/v1/secrets/prod/ALICE", "/v1/secrets/prod/NOBODY"),
            ("GET", "/v1/metadata/prod/ALICE", "/v1/metadata/prod/NOBODY"),
            (
                "GET",
                "/v1/secrets/prod/ALICE?version=1",
                "/v1/secrets/prod/NOBODY?version=1",
            ),
        ] {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let a = status_and_body(http.request(m.clone(), url(theirs)).bearer_auth(cred)).await;
            let b = status_and_body(http.request(m, url(missing)).bearer_auth(cred)).await;
            assert_eq!(a.0, 404, "{theirs}");
            assert_eq!(a, b, "{theirs} differs from {missing}");
            assert!(!String::from_utf8_lossy(&a.1).contains("ALICE-ONLY-VALUE"));
        }
    }
    // Deleting: the key holder with delete scope, and the session.
    for cred in [bob_session.as_str(), bk.secret.expose().as_str()] {
        let a = status_and_body(http.delete(url("/v1/secrets/prod/ALICE")).bearer_auth(cred)).await;
        let b = status_and_body(
            http.delete(url("/v1/secrets/prod/NOBODY"))
                .bearer_auth(cred),
        )
        .await;
        assert_eq!(a.0, 404);
        assert_eq!(a, b);
    }
    // Keys and tokens by id.
    let a = status_and_body(
        http.delete(url(&format!("/v1/keys/{}", ak.key.id)))
            .bearer_auth(&bob_session),
    )
    .await;
    let b = status_and_body(
        http.delete(url(&format!("/v1/keys/{MISSING_ID}")))
            .bearer_auth(&bob_session),
    )
    .await;
    assert_eq!(a.0, 404);
    assert_eq!(a, b);
    for cred in [bob_session.as_str(), bk.secret.expose().as_str()] {
        let a = status_and_body(
            http.delete(url(&format!("/v1/tokens/{}", at.id)))
                .bearer_auth(cred),
        )
        .await;
        let b = status_and_body(
            http.delete(url(&format!("/v1/tokens/{MISSING_ID}")))
                .bearer_auth(cred),
        )
        .await;
        assert_eq!(a.0, 404);
        assert_eq!(a, b);
    }
    // Bob's writes create Bob's own secret; Alice's is untouched and unlisted for Bob.
    bob.client
        .put_secret(&p("prod/ALICE"), "bob-writes-his-own", None, None)
        .await
        .unwrap();
    assert_eq!(
        alice
            .client
            .get_secret(&p("prod/ALICE"), None)
            .await
            .unwrap()
            .value
            .expose(),
        "ALICE-ONLY-VALUE"
    );
    let listed = as_agent(&ts, bt.token.expose())
        .list_metadata(&MetadataQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].current_version, 1);
    assert!(
        bob.client
            .list_keys(None, None)
            .await
            .unwrap()
            .items
            .iter()
            .all(|k| k.id != ak.key.id)
    );
    // Alice's key and token still work.
    as_agent(&ts, at.token.expose())
        .get_secret(&p("prod/ALICE"), None)
        .await
        .unwrap();
}
