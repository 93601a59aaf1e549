//! Requests and grants expire, and one grant serves exactly one read however many race.

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_core::api::{ApprovalStatus, Role};
use keyhold_core::tier::Tier;
use keyhold_e2e::{Person, STRONG_PASSWORD, TestServer};

use super::helpers::{about, asks, events, invited, vault};
use crate::support::{as_agent, p, token};

#[tokio::test]
async fn requests_and_grants_expire() {
    let ts = TestServer::start().await;
    let (owner, agent) = vault(&ts, "appr-exp", "p/S", Tier::Sensitive).await;
    let a = invited(&ts, &owner, Role::Approver).await;
    let (id, _) = asks(&agent, "p/S").await;
    ts.clock.advance(Duration::hours(24) + Duration::seconds(1));
    assert_eq!(
        agent.approval(&id).await.unwrap().status,
        ApprovalStatus::Expired
    );
    // (Sessions idle out after 12 h: sign in again.)
    let a = Person {
        client: ts.login(&a.email, STRONG_PASSWORD).await,
        ..a
    };
    let owner = Person {
        client: ts.login(&owner.email, STRONG_PASSWORD).await,
        ..owner
    };
    let e = a.client.approve(&id, None, None).await.unwrap_err();
    assert_eq!(e.status(), Some(409));
    assert_eq!(
        about(&events(&owner.client, "approval.expired").await, &id),
        1
    );

    // An approved grant not used within the grant TTL (1 h) lapses too.
    let (id2, _) = asks(&agent, "p/S").await;
    assert_ne!(id2, id);
    a.client.approve(&id2, None, None).await.unwrap();
    ts.clock.advance(Duration::minutes(61));
    let (id3, _) = asks(&agent, "p/S").await;
    assert_ne!(id3, id2);
    assert_eq!(
        agent.approval(&id2).await.unwrap().status,
        ApprovalStatus::Expired
    );
}

#[tokio::test]
async fn parallel_reads_on_one_grant_succeed_exactly_once() {
    let ts = TestServer::start().await;
    let (owner, agent) = vault(&ts, "appr-race", "p/S", Tier::Sensitive).await;
    let a = invited(&ts, &owner, Role::Approver).await;
    // Through scoped tokens of the key: the grant belongs to the key.
    let t = token(&agent, &["secrets:read:p/*"]).await;
    let tok = as_agent(&ts, t.token.expose());
    let (id, _) = asks(&tok, "p/S").await;
    a.client.approve(&id, None, None).await.unwrap();
    let reads = (0..8).map(|i| {
        let c = if i % 2 == 0 {
            agent.clone()
        } else {
            tok.clone()
        };
        async move { c.get_secret(&p("p/S"), None).await }
    });
    let results = futures::future::join_all(reads).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code(), Some(ErrorCode::ApprovalRequired));
    }
    let pending = a
        .client
        .list_approvals(Some(ApprovalStatus::Pending), None, None)
        .await
        .unwrap()
        .items;
    assert_eq!(pending.len(), 1, "the losers share one new request");
}
