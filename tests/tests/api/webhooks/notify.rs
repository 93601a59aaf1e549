//! Telling people: approval mail to those who may decide (unless they opted out), the
//! decision mailed to whoever asked, notification preferences, and Slack messages.

use keyhold_core::api::Role;
use keyhold_core::tier::Tier;
use keyhold_e2e::receiver::Receiver;
use reqwest::Method;
use serde_json::json;

use super::helpers::{Api, mails, server, wait_mail};
use crate::approvals::helpers::{asks, invited, vault};

#[tokio::test]
async fn approvers_are_mailed_unless_they_opted_out_and_the_requester_hears_the_decision() {
    let ts = server().await;
    let (owner, agent) = vault(&ts, "mailappr", "p/db/URL", Tier::Sensitive).await;
    let a = invited(&ts, &owner, Role::Approver).await;
    let b = invited(&ts, &owner, Role::Admin).await;
    let bapi = Api::of(&ts, &b);
    assert_eq!(
        bapi.get("/v1/me/notifications").await.1,
        json!({"approval_mail": true})
    );
    let (status, prefs) = bapi
        .call(
            Method::PUT,
            "/v1/me/notifications",
            Some(json!({"approval_mail": false})),
        )
        .await;
    assert_eq!((status, prefs), (200, json!({"approval_mail": false})));
    let (status, _) = bapi
        .call(
            Method::PUT,
            "/v1/me/notifications",
            Some(json!({"approval_mail": "no"})),
        )
        .await;
    assert!(status == 400 || status == 422);
    assert_eq!(
        bapi.get("/v1/me/notifications").await.1,
        json!({"approval_mail": false})
    );

    let (id, _) = asks(&agent, "p/db/URL").await;
    let mail = wait_mail(&ts, &a.email, "Approval needed: p/db/URL").await;
    assert!(mail.contains("sensitive") && mail.contains(&id), "{mail}");
    assert!(!mail.contains("THE-VALUE"));
    // Asking again reuses the open request: no second mail.
    asks(&agent, "p/db/URL").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mails(&ts, &a.email, "Approval needed").await.len(), 1);
    assert!(
        mails(&ts, &b.email, "Approval needed").await.is_empty(),
        "b opted out"
    );
    assert!(
        mails(&ts, &owner.email, "Approval needed").await.is_empty(),
        "own key's request"
    );

    a.client.deny(&id, "not during the freeze").await.unwrap();
    let told = wait_mail(&ts, &owner.email, "Request denied: p/db/URL").await;
    assert!(
        told.contains("not during the freeze") && told.contains(&a.email),
        "{told}"
    );
}

#[tokio::test]
async fn slack_gets_a_readable_message_with_a_link_to_the_request() {
    let ts = server().await;
    let rx = Receiver::start();
    let (owner, agent) = vault(&ts, "slack", "p/stripe/KEY", Tier::Critical).await;
    let api = Api::of(&ts, &owner);
    let (status, made) = api
        .post(
            "/v1/webhooks",
            json!({"url": rx.url("services/T0/B0/XYZ"), "kind": "slack", "events": ["approval.requested"]}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert!(
        made["secret"].is_null(),
        "Slack endpoints have no signing secret"
    );
    assert_eq!(
        made["webhook"]["url_display"],
        format!("http://127.0.0.1:{}/…", rx.port)
    );

    let (id, _) = asks(&agent, "p/stripe/KEY").await;
    let got = rx.wait_for(1).await;
    let text = got[0].json()["text"].as_str().unwrap().to_owned();
    for needle in [
        "Approval requested",
        "`p/stripe/KEY`",
        "(critical)",
        "Approvals so far: 0 of 2",
        "Expires: ",
        &format!("keyhold://approvals/{id}"),
        "no reason given",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from {text:?}");
    }
    assert_eq!(got[0].path, "/services/T0/B0/XYZ");
    assert!(!text.contains("THE-VALUE"));
}
