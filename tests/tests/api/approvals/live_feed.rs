//! Explicit requests and the live feed of approvals, which ends with its credential.

use std::time::Duration as StdDuration;

use keyhold_core::api::{ApprovalStatus, Role};
use keyhold_core::tier::Tier;
use keyhold_e2e::TestServer;

use super::helpers::{asks, invited, vault};
use crate::support::{as_agent, key, p, raw, token};

#[tokio::test]
async fn explicit_requests_and_the_live_feed() {
    let ts = TestServer::start().await;
    let (owner, agent) = vault(&ts, "appr-feed", "p/S", Tier::Sensitive).await;
    let a = invited(&ts, &owner, Role::Approver).await;
    let mut feed = a.client.approvals_stream().await.unwrap();
    let mut mine = agent.approvals_stream().await.unwrap();

    let created = agent
        .request_approval(&p("p/S"), "nightly billing sync")
        .await
        .unwrap();
    assert_eq!(created.reason.as_deref(), Some("nightly billing sync"));
    let ev = tokio::time::timeout(StdDuration::from_secs(1), feed.next())
        .await
        .expect("the feed delivers within a second")
        .unwrap()
        .unwrap();
    assert_eq!(ev.event.as_deref(), Some("approval.requested"));
    assert!(ev.data.contains(&created.id));
    assert!(ev.data.contains("nightly billing sync"));

    // The read reuses the explicit request.
    let (id, _) = asks(&agent, "p/S").await;
    assert_eq!(id, created.id);
    a.client.approve(&id, None, None).await.unwrap();
    // The agent waiting on its request hears the decision.
    let mut decided = None;
    while decided.is_none() {
        let ev = tokio::time::timeout(StdDuration::from_secs(2), mine.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if ev.event.as_deref() == Some("approval.approved") {
            decided = Some(ev);
        }
    }
    assert!(decided.unwrap().data.contains("\"status\":\"approved\""));

    // Standard secrets need no request; unknown ones are 404; sessions cannot ask.
    owner
        .client
        .put_secret(&p("p/PLAIN"), "x", None, None)
        .await
        .unwrap();
    let e = agent
        .request_approval(&p("p/PLAIN"), "why")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422));
    let e = agent
        .request_approval(&p("p/NONE"), "why")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
    // People ask ahead too (the gate holds for them as for agents).
    let mine = owner
        .client
        .request_approval(&p("p/S"), "why")
        .await
        .unwrap();
    assert_eq!(mine.status, ApprovalStatus::Pending);
    let (status, _) = raw(&ts, "GET", "/v1/approvals/stream", None, &[]).await;
    assert_eq!(status, 401);
}

/// The feed is one long response: it must end when the credential it was opened with
/// stops standing (revoked key or token, signed-out session, approver demoted), as the
/// next request would be refused, while the feeds of everyone else carry on.
#[tokio::test]
async fn the_live_feed_ends_with_its_credential() {
    let ts = TestServer::start().await;
    let (owner, _) = vault(&ts, "appr-feed-end", "p/S", Tier::Sensitive).await;
    let stays = invited(&ts, &owner, Role::Approver).await;
    let leaves = invited(&ts, &owner, Role::Approver).await;
    let demoted = invited(&ts, &owner, Role::Approver).await;
    let k = key(&owner, &["secrets:read:p/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    let t = token(&agent, &["secrets:read:p/*"]).await;
    let by_token = as_agent(&ts, t.token.expose());
    let other = as_agent(
        &ts,
        key(&owner, &["secrets:read:p/*"]).await.secret.expose(),
    );

    let mut feeds = vec![
        ("key", agent.approvals_stream().await.unwrap()),
        ("token", by_token.approvals_stream().await.unwrap()),
        (
            "signed out",
            leaves.client.approvals_stream().await.unwrap(),
        ),
        ("demoted", demoted.client.approvals_stream().await.unwrap()),
    ];
    let mut watching = stays.client.approvals_stream().await.unwrap();

    owner.client.revoke_key(&k.key.id).await.unwrap();
    leaves.client.logout().await.unwrap();
    owner
        .client
        .set_role(&demoted.user_id, Role::Member)
        .await
        .unwrap();
    // News in the tenant wakes every feed.
    let created = other
        .request_approval(&p("p/S"), "after the revocations")
        .await
        .unwrap();

    for (who, feed) in &mut feeds {
        let end = tokio::time::timeout(StdDuration::from_secs(5), async {
            loop {
                match feed.next().await {
                    None => return None,
                    // Anything the feed had before the change may still arrive; nothing
                    // about the request made after it may.
                    Some(Ok(ev)) if ev.data.contains(&created.id) => return Some(ev),
                    Some(_) => {}
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the {who} feed is still open"));
        assert!(
            end.is_none(),
            "the {who} feed heard of a later request: {end:?}"
        );
    }
    let ev = tokio::time::timeout(StdDuration::from_secs(2), async {
        loop {
            let ev = watching.next().await.unwrap().unwrap();
            if ev.data.contains(&created.id) {
                return ev;
            }
        }
    })
    .await
    .expect("an approver still in office hears the request");
    assert_eq!(ev.event.as_deref(), Some("approval.requested"));
    // Reconnecting with what no longer stands is refused.
    let refused = |r: keyhold_client::Result<keyhold_client::sse::EventStream>| match r {
        Ok(_) => panic!("the feed reopened"),
        Err(e) => e.status(),
    };
    assert_eq!(refused(agent.approvals_stream().await), Some(401));
    assert_eq!(refused(by_token.approvals_stream().await), Some(401));
    assert_eq!(refused(demoted.client.approvals_stream().await), Some(403));
}
