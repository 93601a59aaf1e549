//! Managing endpoints: who may, what URLs are refused (server-side request forgery), bad
//! input changing nothing, tenant isolation, and removal with the delivery log.

use chrono::Duration;
use keyhold_core::api::Role;
use keyhold_e2e::TestServer;
use keyhold_e2e::receiver::Receiver;
use reqwest::Method;
use serde_json::json;

use super::helpers::{Api, again, create_body, server};
use crate::approvals::helpers::invited;
use crate::support::key;

#[tokio::test]
async fn private_and_plain_http_urls_are_refused_without_the_flag() {
    let ts = TestServer::start().await;
    let owner = ts.person("whssrf").await;
    let api = Api::of(&ts, &owner);
    for url in [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.8/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "http://example.com/hook",
        "https://user:pw@example.com/hook",
        "file:///etc/passwd",
    ] {
        let (status, body) = api.post("/v1/webhooks", create_body(url, &[])).await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["error"]["field"], "url", "{url}: {body}");
    }
    let (_, listed) = api.get("/v1/webhooks").await;
    assert_eq!(listed, json!([]), "a refused URL saved nothing");
    let (_, audit) = api.get("/v1/audit?action=webhook.created").await;
    assert_eq!(audit["items"], json!([]));
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let ts = server().await;
    let rx = Receiver::start();
    let owner = ts.person("whbad").await;
    let api = Api::of(&ts, &owner);
    let url = rx.url("h");
    let bad = [
        json!({"url": url, "events": ["no.such_event"]}),
        json!({"url": url, "events": ["nothing.*"]}),
        json!({"url": url, "description": "line\nbreak"}),
        json!({"url": url, "description": "x".repeat(201)}),
        json!({"url": url, "kind": "carrier_pigeon"}),
        json!({"url": url, "unknown": 1}),
        json!({"url": "x".repeat(3000)}),
    ];
    for body in bad {
        let (status, answer) = api.post("/v1/webhooks", body.clone()).await;
        assert!(status == 400 || status == 422, "{body}: {status} {answer}");
    }
    assert_eq!(api.get("/v1/webhooks").await.1, json!([]));

    let (id, _) = api.endpoint(create_body(&url, &["approval.*"])).await;
    let (status, _) = api
        .call(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            Some(json!({"events": ["nope"]})),
        )
        .await;
    assert_eq!(status, 422);
    let (_, ep) = api.get(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(
        ep["events"],
        json!(["approval.*"]),
        "a refused update changed nothing"
    );
    let (status, _) = api.get("/v1/webhooks/not-an-id").await;
    assert_eq!(status, 404);
    let (status, _) = api
        .get(&format!("/v1/webhooks/{id}/deliveries?limit=0"))
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .get(&format!("/v1/webhooks/{id}/deliveries?cursor=zzz"))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn only_admins_in_the_sudo_window_manage_endpoints_of_their_own_tenant() {
    let ts = server().await;
    let rx = Receiver::start();
    let owner = ts.person("whroles").await;
    let api = Api::of(&ts, &owner);
    let (id, _) = api.endpoint(create_body(&rx.url("r"), &[])).await;

    let member = invited(&ts, &owner, Role::Approver).await;
    let m = Api::of(&ts, &member);
    let (status, body) = m.post("/v1/webhooks", create_body(&rx.url("m"), &[])).await;
    assert_eq!(status, 403, "{body}");
    for path in [
        "/v1/webhooks".to_owned(),
        format!("/v1/webhooks/{id}/deliveries"),
    ] {
        assert_eq!(m.get(&path).await.0, 403, "{path}");
    }

    // Another tenant's admin cannot tell the endpoint exists.
    let other = ts.person("whother").await;
    let o = Api::of(&ts, &other);
    assert_eq!(o.get(&format!("/v1/webhooks/{id}")).await.0, 404);
    assert_eq!(
        o.call(Method::DELETE, &format!("/v1/webhooks/{id}"), None)
            .await
            .0,
        404
    );

    // Outside the sudo window a change needs the person to confirm it is them.
    ts.clock.advance(Duration::minutes(11));
    let (status, body) = api
        .call(Method::DELETE, &format!("/v1/webhooks/{id}"), None)
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "reauth_required");
    let (_, fresh) = again(&ts, &owner).await;
    assert_eq!(
        fresh
            .call(Method::DELETE, &format!("/v1/webhooks/{id}"), None)
            .await
            .0,
        204
    );
    assert_eq!(fresh.get(&format!("/v1/webhooks/{id}")).await.0, 404);
}

#[tokio::test]
async fn removing_an_endpoint_stops_its_deliveries() {
    let ts = server().await;
    let rx = Receiver::start();
    rx.set_mode("500");
    let owner = ts.person("whrm").await;
    let api = Api::of(&ts, &owner);
    let (id, _) = api
        .endpoint(create_body(&rx.url("gone"), &["key.created"]))
        .await;
    key(&owner, &["secrets:read:a/*"]).await;
    api.wait_delivery(&id, |d| d["attempts"] == 1).await;
    assert_eq!(
        api.call(Method::DELETE, &format!("/v1/webhooks/{id}"), None)
            .await
            .0,
        204
    );
    rx.set_mode("200");
    ts.clock.advance(Duration::minutes(5));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        rx.received().len(),
        1,
        "no retry after the endpoint was removed"
    );
}
