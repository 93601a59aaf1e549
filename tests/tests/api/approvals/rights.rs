//! Who decides: tenant settings are validated and for admins only; the key's owner,
//! members and other tenants cannot approve.

use keyhold_core::ErrorCode;
use keyhold_core::api::{ApprovalStatus, Role, TenantSettings};
use keyhold_core::tier::Tier;
use keyhold_e2e::TestServer;

use super::helpers::{approver, asks, events, invited, vault};
use crate::support::{as_agent, key, p};

#[tokio::test]
async fn settings_are_validated_and_limited_to_admins() {
    let ts = TestServer::start().await;
    let owner = ts.person("appr-settings").await;
    let member = invited(&ts, &owner, Role::Member).await;
    let mut bad = TenantSettings::default();
    bad.approvals.critical = 6;
    for s in [
        bad,
        TenantSettings {
            max_token_ttl: "nope".into(),
            ..Default::default()
        },
        {
            let mut s = TenantSettings::default();
            s.approvals.critical_delay = "25h".into();
            s
        },
    ] {
        let e = owner.client.set_tenant_settings(&s).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{s:?}");
    }
    let e = member
        .client
        .set_tenant_settings(&TenantSettings::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
    let mut s = TenantSettings::default();
    s.approvals.critical_delay = "0s".into();
    s.max_token_ttl = "2h".into();
    owner.client.set_tenant_settings(&s).await.unwrap();
    assert_eq!(member.client.tenant_settings().await.unwrap(), s);
    // max_token_ttl applies to token issuing.
    let k = key(&owner, &["secrets:read:p/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    let mut req = crate::support::token_req(&["secrets:read:p/*"]);
    req.ttl = Some("3h".into());
    assert_eq!(
        agent.issue_token(&req).await.unwrap_err().status(),
        Some(422)
    );
    req.ttl = Some("2h".into());
    agent.issue_token(&req).await.unwrap();
}

#[tokio::test]
async fn owners_of_the_key_members_and_other_tenants_cannot_approve() {
    let ts = TestServer::start().await;
    let (owner, agent) = vault(&ts, "appr-who", "p/S", Tier::Sensitive).await;
    let member = invited(&ts, &owner, Role::Member).await;
    let (id, _) = asks(&agent, "p/S").await;

    // The key's owner (who created it) may not approve its request.
    let e = owner.client.approve(&id, None, None).await.unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(403), Some(ErrorCode::Forbidden))
    );
    // A member without the approver role may not approve, and sees only their own
    // requests (none), not the tenant's inbox.
    let e = member.client.approve(&id, None, None).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    let mine = member
        .client
        .list_approvals(None, None, None)
        .await
        .unwrap();
    assert!(mine.items.is_empty(), "{mine:?}");
    let e = member.client.approval(&id).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    // An approver who owns the requesting key is refused too.
    let (a, _) = approver(&ts, &owner).await;
    let own = key(&a, &["secrets:read:p/*"]).await;
    let own_agent = as_agent(&ts, own.secret.expose());
    let (own_id, _) = asks(&own_agent, "p/S").await;
    let e = a.client.approve(&own_id, None, None).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    // Another tenant sees nothing: 404.
    let stranger = ts.person("appr-stranger").await;
    for e in [
        stranger.client.approve(&id, None, None).await.unwrap_err(),
        stranger.client.deny(&id, "no").await.unwrap_err(),
        stranger.client.approval(&id).await.unwrap_err(),
    ] {
        assert_eq!(e.status(), Some(404));
    }
    assert!(
        stranger
            .client
            .list_approvals(None, None, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Another key of the same tenant sees nothing of this key's requests.
    let other = key(&owner, &["secrets:read:p/*"]).await;
    let e = as_agent(&ts, other.secret.expose())
        .approval(&id)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
    // The refusals are audited.
    let refused = events(&owner.client, "approval.approved").await;
    assert!(refused.iter().filter(|e| e.outcome == "denied").count() >= 2);
    // And the request is still pending, approvable by an approver.
    let ok = a.client.approve(&id, Some("fine"), None).await.unwrap();
    assert_eq!(ok.status, ApprovalStatus::Approved);
    let v = agent.get_secret(&p("p/S"), None).await.unwrap();
    assert_eq!(v.value.expose(), "THE-VALUE");
}
