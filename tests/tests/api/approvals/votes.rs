//! Votes on a request: two approvers open a critical read once after the delay, a veto
//! ends it, and a critical approval needs a fresh TOTP code.

use chrono::Duration;
use keyhold_core::api::{ApprovalStatus, Role, TenantSettings};
use keyhold_core::tier::Tier;
use keyhold_e2e::TestServer;

use super::helpers::{about, approver, asks, events, invited, vault};
use crate::mfa::next_code;
use crate::support::p;

#[tokio::test]
async fn two_approvers_open_a_critical_read_once_after_the_delay() {
    let ts = TestServer::start().await;
    let (owner, agent) = vault(&ts, "appr-crit", "p/STRIPE", Tier::Critical).await;
    let (a, a_secret) = approver(&ts, &owner).await;
    let (b, b_secret) = approver(&ts, &owner).await;

    let (id, status) = asks(&agent, "p/STRIPE").await;
    assert_eq!(status, "pending");
    // Repeated reads reuse the pending request.
    let (again, _) = asks(&agent, "p/STRIPE").await;
    assert_eq!(again, id);

    let inbox = a
        .client
        .list_approvals(Some(ApprovalStatus::Pending), None, None)
        .await
        .unwrap()
        .items;
    assert_eq!(inbox.len(), 1);
    let item = &inbox[0];
    assert_eq!(item.id, id);
    assert_eq!(item.tier, Tier::Critical);
    assert_eq!(item.required_approvals, 2);
    match &item.requested_by {
        keyhold_core::api::RequestedBy::Agent {
            key_name, owner: o, ..
        } => {
            assert_eq!(key_name, "agent");
            assert_eq!(o.email.as_deref(), Some(owner.email.as_str()));
        }
        other => panic!("an agent's request names the key: {other:?}"),
    }
    assert_eq!(item.path.as_str(), "p/STRIPE");
    // What a yes gives, shown before anyone votes: the default critical delay and grant TTL.
    assert_eq!((item.delay_secs, item.grant_ttl_secs), (600, 3600));

    let first = a
        .client
        .approve(&id, Some("ok"), Some(&next_code(&ts, &a_secret)))
        .await
        .unwrap();
    assert_eq!(first.status, ApprovalStatus::Pending);
    assert_eq!(first.approvals.len(), 1);
    // The next approver reads the first one's comment with the request.
    let seen_by_b = b.client.approval(&id).await.unwrap();
    assert_eq!(seen_by_b.approvals[0].comment.as_deref(), Some("ok"));
    // The same person cannot count twice.
    let twice = a
        .client
        .approve(&id, None, Some(&next_code(&ts, &a_secret)))
        .await
        .unwrap_err();
    assert_eq!(twice.status(), Some(409));

    let second = b
        .client
        .approve(&id, None, Some(&next_code(&ts, &b_secret)))
        .await
        .unwrap();
    assert_eq!(second.status, ApprovalStatus::Approved);
    let available = second.available_at.unwrap();
    use keyhold_vault::clock::Clock;
    assert_eq!(available - ts.clock.now(), Duration::minutes(10));

    // During the delay the agent still waits, on the same request.
    let (during, status) = asks(&agent, "p/STRIPE").await;
    assert_eq!(
        (during.as_str(), status.as_str()),
        (id.as_str(), "approved")
    );
    let seen = agent.approval(&id).await.unwrap();
    assert_eq!(seen.status, ApprovalStatus::Approved);
    assert_eq!(seen.available_at, Some(available));

    ts.clock.advance(Duration::minutes(10));
    let v = agent.get_secret(&p("p/STRIPE"), None).await.unwrap();
    assert_eq!(v.value.expose(), "THE-VALUE");
    // One read only: the next one asks again, with a new request.
    let (next, status) = asks(&agent, "p/STRIPE").await;
    assert_ne!(next, id);
    assert_eq!(status, "pending");
    assert_eq!(
        agent.approval(&id).await.unwrap().status,
        ApprovalStatus::Used
    );

    // Every step is in the audit log.
    assert_eq!(
        about(&events(&owner.client, "approval.requested").await, &id),
        1
    );
    assert_eq!(
        about(&events(&owner.client, "approval.approved").await, &id),
        2
    );
    let reads = events(&owner.client, "secret.read").await;
    assert_eq!(
        reads
            .iter()
            .filter(
                |e| e.outcome == "success" && e.detail["approval_id"].as_str() == Some(id.as_str())
            )
            .count(),
        1
    );
    assert!(
        reads
            .iter()
            .any(|e| e.outcome == "denied" && e.detail["reason"] == "approval_required")
    );
    let mfa = events(&owner.client, "auth.mfa").await;
    assert!(
        mfa.iter()
            .filter(|e| e.detail["purpose"] == "approval")
            .count()
            >= 2
    );
}

#[tokio::test]
async fn a_veto_during_the_delay_ends_the_request() {
    let ts = TestServer::start().await;
    let (owner, agent) = vault(&ts, "appr-veto", "p/KEY", Tier::Critical).await;
    let (a, a_secret) = approver(&ts, &owner).await;
    let (c, c_secret) = approver(&ts, &owner).await;
    let b = invited(&ts, &owner, Role::Approver).await;
    // Critical needs two approvals (the floor, issue 15); the delay stays. A change of
    // the settings is audited.
    let mut s = owner.client.tenant_settings().await.unwrap();
    assert_eq!(s, TenantSettings::default());
    s.approvals.grant_ttl = "30m".into();
    owner.client.set_tenant_settings(&s).await.unwrap();

    let (id, _) = asks(&agent, "p/KEY").await;
    let first = a
        .client
        .approve(&id, None, Some(&next_code(&ts, &a_secret)))
        .await
        .unwrap();
    assert_eq!(first.status, ApprovalStatus::Pending);
    let ok = c
        .client
        .approve(&id, None, Some(&next_code(&ts, &c_secret)))
        .await
        .unwrap();
    assert_eq!(ok.status, ApprovalStatus::Approved);
    ts.clock.advance(Duration::minutes(5));
    // A reason is required.
    let e = b.client.deny(&id, "  ").await.unwrap_err();
    assert_eq!(e.status(), Some(422));
    let denied = b.client.deny(&id, "not during the freeze").await.unwrap();
    assert_eq!(denied.status, ApprovalStatus::Denied);
    assert_eq!(denied.deny_reason.as_deref(), Some("not during the freeze"));
    ts.clock.advance(Duration::minutes(6));
    let (next, status) = asks(&agent, "p/KEY").await;
    assert_ne!(next, id);
    assert_eq!(status, "pending");
    assert_eq!(
        agent.approval(&id).await.unwrap().status,
        ApprovalStatus::Denied
    );
    assert_eq!(
        about(&events(&owner.client, "approval.denied").await, &id),
        1
    );
    assert_eq!(
        events(&owner.client, "tenant.settings_changed").await.len(),
        1
    );
}

#[tokio::test]
async fn critical_approval_needs_2fa_and_refuses_a_replayed_code() {
    let ts = TestServer::start().await;
    let (owner, agent) = vault(&ts, "appr-replay", "p/C1", Tier::Critical).await;
    owner
        .client
        .put_secret(&p("p/C2"), "v2", None, Some(Tier::Critical))
        .await
        .unwrap();
    let (a, secret) = approver(&ts, &owner).await;
    let no2fa = invited(&ts, &owner, Role::Approver).await;
    let (one, _) = asks(&agent, "p/C1").await;
    let (two, _) = asks(&agent, "p/C2").await;

    // No code: 422. No 2FA: 403.
    let e = a.client.approve(&one, None, None).await.unwrap_err();
    assert_eq!(e.status(), Some(422));
    let e = no2fa
        .client
        .approve(&one, None, Some("123456"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));

    let code = next_code(&ts, &secret);
    a.client.approve(&one, None, Some(&code)).await.unwrap();
    // The same code again, on another request: refused.
    let e = a.client.approve(&two, None, Some(&code)).await.unwrap_err();
    assert_eq!(e.status(), Some(403), "{e:?}");
    let still = a.client.approval(&two).await.unwrap();
    assert!(still.approvals.is_empty());
    let replays = events(&owner.client, "auth.mfa").await;
    assert!(
        replays
            .iter()
            .any(|e| e.detail["reason"] == "replayed" && e.detail["purpose"] == "approval")
    );
}
