//! Deliveries as a receiver sees them, checked by PyPI's `standardwebhooks` in a real
//! HTTP receiver: signatures, the event filter, the test event, rotation with two
//! signatures, retries with the same id, timeouts, and disabling a failing endpoint.

use chrono::Duration;
use keyhold_e2e::receiver::Receiver;
use reqwest::Method;
use serde_json::json;

use super::helpers::{Api, again, create_body, server, wait_mail};
use crate::support::key;

#[tokio::test]
async fn deliveries_verify_as_standard_webhooks_and_follow_the_filter() {
    let ts = server().await;
    let rx = Receiver::start();
    let owner = ts.person("whsign").await;
    let api = Api::of(&ts, &owner);
    let (id, secret) = api.endpoint(create_body(&rx.url("hook"), &["key.*"])).await;
    let secret = secret.expect("a webhook endpoint has a signing secret");
    assert!(secret.starts_with("whsec_"));
    // The real secret and an unrelated one: only the first may verify.
    rx.set_secrets(&[&secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);

    // Not subscribed: a settings change goes nowhere.
    let settings = owner.client.tenant_settings().await.unwrap();
    owner.client.set_tenant_settings(&settings).await.unwrap();
    let k = key(&owner, &["secrets:read:p/*"]).await;
    let got = rx.wait_for(1).await;
    assert_eq!(got.len(), 1, "only key.created is subscribed: {got:?}");
    let r = &got[0];
    assert_eq!(r.verified_by, vec![0], "standardwebhooks: {:?}", r.errors);
    assert!(r.header("webhook-id").starts_with("msg_"));
    assert_eq!(r.header("content-type"), "application/json");
    let ev = r.json();
    assert_eq!(ev["type"], "key.created");
    assert_eq!(ev["data"]["tenant_id"], owner.tenant_id.as_str());
    assert_eq!(ev["data"]["actor"]["id"], owner.user_id.as_str());
    assert!(
        !r.body.contains(k.secret.expose()),
        "a key's secret left the vault"
    );

    // The delivery log says the same, under the same id.
    let d = api.wait_delivery(&id, |d| d["status"] == "delivered").await;
    assert_eq!(d["id"], r.header("webhook-id"));
    assert_eq!(
        (d["attempts"].as_u64(), d["last_status"].as_u64()),
        (Some(1), Some(200))
    );
    assert!(d["last_response"].as_str().unwrap().contains("ok"));

    // The test event reaches the endpoint whatever its filter.
    let (status, test) = api
        .post(&format!("/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, 202, "{test}");
    let got = rx.wait_for(2).await;
    assert_eq!(got[1].json()["type"], "webhook.test");
    assert_eq!(got[1].header("webhook-id"), test["id"].as_str().unwrap());
    assert_eq!(got[1].verified_by, vec![0]);

    // Neither the secret nor the URL's path is ever shown again or audited.
    let (_, listed) = api.get("/v1/webhooks").await;
    let (_, audit) = api.get("/v1/audit?action=webhook.created").await;
    for text in [listed.to_string(), audit.to_string()] {
        assert!(!text.contains(&secret) && !text.contains("/hook"), "{text}");
    }
    assert_eq!(
        listed[0]["url_display"],
        format!("http://127.0.0.1:{}/…", rx.port)
    );
}

#[tokio::test]
async fn a_rotation_signs_with_both_secrets_for_a_day() {
    let ts = server().await;
    let rx = Receiver::start();
    let owner = ts.person("whrot").await;
    let api = Api::of(&ts, &owner);
    let (id, old) = api.endpoint(create_body(&rx.url("r"), &[])).await;
    let old = old.unwrap();
    let (status, rotated) = api
        .post(&format!("/v1/webhooks/{id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    rx.set_secrets(&[&old, &new]);
    key(&owner, &["secrets:read:a/*"]).await;
    let got = rx.wait_for(1).await;
    assert_eq!(
        got[0].verified_by,
        vec![0, 1],
        "both secrets sign during the overlap"
    );
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);

    ts.clock.advance(Duration::hours(25));
    let (owner, _) = again(&ts, &owner).await;
    key(&owner, &["secrets:read:b/*"]).await;
    let got = rx.wait_for(2).await;
    assert_eq!(
        got[1].verified_by,
        vec![1],
        "after 24 h only the new secret signs"
    );
    assert_eq!(got[1].header("webhook-signature").split(' ').count(), 1);
}

#[tokio::test]
async fn failed_deliveries_are_retried_under_the_same_id() {
    let ts = server().await;
    let rx = Receiver::start();
    let owner = ts.person("whretry").await;
    let api = Api::of(&ts, &owner);
    let (id, secret) = api
        .endpoint(create_body(&rx.url("x"), &["key.created"]))
        .await;
    rx.set_secrets(&[&secret.unwrap()]);

    rx.set_mode("500");
    key(&owner, &["secrets:read:a/*"]).await;
    let first = api.wait_delivery(&id, |d| d["attempts"] == 1).await;
    assert_eq!(first["status"], "pending");
    assert_eq!(first["last_status"], 500);
    assert!(
        first["last_response"]
            .as_str()
            .unwrap()
            .contains("failing on purpose")
    );
    assert!(first["next_attempt_at"].is_string());

    // A timeout (the server waits 1 s) is a failure too.
    rx.set_mode("sleep:3");
    ts.clock.advance(Duration::minutes(1));
    let second = api.wait_delivery(&id, |d| d["attempts"] == 2).await;
    assert_eq!(second["status"], "pending");
    assert!(
        second["last_error"].as_str().unwrap().contains("timed out"),
        "{second}"
    );

    rx.set_mode("200");
    ts.clock.advance(Duration::minutes(1));
    let done = api.wait_delivery(&id, |d| d["status"] == "delivered").await;
    assert_eq!(done["attempts"], 3);
    let got = rx.received();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got.iter()
            .all(|r| r.header("webhook-id") == done["id"].as_str().unwrap())
    );
    assert!(got.iter().all(|r| r.verified_by == vec![0]));
}

#[tokio::test]
async fn a_redirect_is_a_failed_delivery_and_is_not_followed() {
    let ts = server().await;
    let rx = Receiver::start();
    rx.set_mode("redirect");
    let owner = ts.person("whredir").await;
    let api = Api::of(&ts, &owner);
    let (id, _) = api
        .endpoint(create_body(&rx.url("first"), &["key.created"]))
        .await;
    key(&owner, &["secrets:read:a/*"]).await;
    let d = api.wait_delivery(&id, |d| d["attempts"] == 1).await;
    assert_eq!(
        (d["status"].as_str(), d["last_status"].as_u64()),
        (Some("pending"), Some(302))
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let got = rx.received();
    assert_eq!(got.len(), 1, "the redirect was followed: {got:?}");
    assert_eq!(got[0].path, "/first");
}

#[tokio::test]
async fn an_endpoint_failing_for_three_days_is_disabled_and_admins_are_mailed() {
    let ts = server().await;
    let rx = Receiver::start();
    rx.set_mode("500");
    let owner = ts.person("whdead").await;
    let api = Api::of(&ts, &owner);
    let (id, _) = api
        .endpoint(create_body(&rx.url("dead"), &["key.created"]))
        .await;
    key(&owner, &["secrets:read:a/*"]).await;
    api.wait_delivery(&id, |d| d["attempts"] == 1).await;

    // Two days of failures: still enabled, still retrying.
    ts.clock.advance(Duration::days(2));
    let (_, api) = again(&ts, &owner).await;
    api.wait_delivery(&id, |d| d["attempts"] == 2).await;
    let (_, ep) = api.get(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(ep["enabled"], true);
    assert!(ep["failing_since"].is_string());

    // Past three days: the next failure gives up and disables the endpoint.
    ts.clock.advance(Duration::days(1) + Duration::hours(1));
    let (owner, api) = again(&ts, &owner).await;
    let last = api.wait_delivery(&id, |d| d["status"] == "failed").await;
    assert_eq!(last["attempts"], 3);
    // The worker disables it right after recording that attempt.
    let mut ep = api.get(&format!("/v1/webhooks/{id}")).await.1;
    for _ in 0..100 {
        if ep["enabled"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        ep = api.get(&format!("/v1/webhooks/{id}")).await.1;
    }
    assert_eq!(
        (ep["enabled"].as_bool(), ep["disabled_reason"].as_str()),
        (Some(false), Some("failing"))
    );
    let mail = wait_mail(&ts, &owner.email, "A Keyhold webhook endpoint was disabled").await;
    assert!(mail.contains(&id));
    let (_, audit) = api.get("/v1/audit?action=webhook.disabled").await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");

    // Disabled: nothing more is sent; a test event is refused until it is enabled again.
    let (status, _) = api
        .post(&format!("/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, 409);
    let (status, ep) = api
        .call(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{ep}");
    assert!(ep["failing_since"].is_null());
    rx.set_mode("200");
    let seen = rx.received().len();
    let (status, _) = api
        .post(&format!("/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, 202);
    assert_eq!(
        rx.wait_for(seen + 1).await.last().unwrap().json()["type"],
        "webhook.test"
    );
}
