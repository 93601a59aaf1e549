//! The approval gate for every caller (issue 15, part 1): people of every role need a
//! grant to read a tiered value, to delete a tiered secret or lower its tier; agents need
//! one to overwrite a critical secret. A grant opens exactly the operation, secret and
//! tier it was asked for; raising the tier or deleting the secret voids it; votes of
//! people who can no longer approve drop out; too few approvers is said, not bypassed.

use chrono::Duration;
use keyhold_client::{Client, ClientError};
use keyhold_core::ErrorCode;
use keyhold_core::api::{
    ApprovalOperation, ApprovalStatus, CreateApprovalRequest, RequestedBy, Role,
};
use keyhold_core::tier::Tier;
use keyhold_e2e::{Person, TestServer};

use crate::approvals::{approver, invited};
use crate::mfa::next_code;
use crate::support::{as_agent, key, p, token_req};

/// The 403 `approval_required` of a gated call, with its body's fields.
struct Asked {
    id: String,
    status: String,
    operation: String,
    required: u64,
    eligible: u64,
}

fn asked(e: ClientError) -> Asked {
    assert_eq!(e.code(), Some(ErrorCode::ApprovalRequired), "{e:?}");
    assert_eq!(e.status(), Some(403));
    let num = |k: &str| {
        e.extra(k)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or_else(|| panic!("{k} missing in {e:?}"))
    };
    Asked {
        id: e.extra_str("approval_id").unwrap().to_owned(),
        status: e.extra_str("status").unwrap().to_owned(),
        operation: e.extra_str("operation").unwrap().to_owned(),
        required: num("required_approvals"),
        eligible: num("eligible_approvers"),
    }
}

async fn read_asks(c: &Client, path: &str) -> Asked {
    asked(c.get_secret(&p(path), None).await.unwrap_err())
}

async fn put(c: &Client, path: &str, value: &str, tier: Option<Tier>) -> Result<(), ClientError> {
    c.put_secret(&p(path), value, None, tier).await.map(|_| ())
}

async fn count(c: &Client, action: &str) -> usize {
    crate::approvals::events(c, action).await.len()
}

/// The owner of a vault with one secret at `path` of `tier`.
async fn owner_with(ts: &TestServer, tag: &str, path: &str, tier: Tier) -> Person {
    let owner = ts.person(tag).await;
    put(&owner.client, path, "THE-VALUE", Some(tier))
        .await
        .unwrap();
    owner
}

#[tokio::test]
async fn an_owner_reads_a_sensitive_value_only_with_someone_elses_approval() {
    let ts = TestServer::start().await;
    let owner = owner_with(&ts, "gate-own", "p/DB", Tier::Sensitive).await;

    // Alone in the tenant: the request is opened, and the answer says nobody can approve.
    let a = read_asks(&owner.client, "p/DB").await;
    assert_eq!(
        (a.status.as_str(), a.operation.as_str()),
        ("pending", "read")
    );
    assert_eq!((a.required, a.eligible), (1, 0));
    // The requester cannot approve their own request.
    let e = owner.client.approve(&a.id, None, None).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    // Metadata, listings and versions stay free.
    let meta = owner.client.secret_metadata(&p("p/DB")).await.unwrap();
    assert_eq!(meta.tier, Tier::Sensitive);

    let (bob, _) = approver(&ts, &owner).await;
    let again = read_asks(&owner.client, "p/DB").await;
    assert_eq!(again.id, a.id, "the open request is reused");
    assert_eq!(again.eligible, 1);
    let seen = bob.client.approval(&a.id).await.unwrap();
    match &seen.requested_by {
        RequestedBy::Person { user } => assert_eq!(user.id, owner.user_id),
        other => panic!("a person's request shows the person: {other:?}"),
    }
    assert_eq!(seen.operation, ApprovalOperation::Read);
    assert_eq!(seen.eligible_approvers, 1);

    bob.client.approve(&a.id, Some("ok"), None).await.unwrap();
    let v = owner.client.get_secret(&p("p/DB"), None).await.unwrap();
    assert_eq!(v.value.expose(), "THE-VALUE");
    // One read per grant.
    let next = read_asks(&owner.client, "p/DB").await;
    assert_ne!(next.id, a.id);
    let mine = owner.client.approval(&a.id).await.unwrap();
    assert_eq!(mine.status, ApprovalStatus::Used);
}

#[tokio::test]
async fn deleting_or_lowering_a_tiered_secret_needs_a_grant_for_that_operation() {
    let ts = TestServer::start().await;
    let owner = owner_with(&ts, "gate-del", "p/KEY", Tier::Sensitive).await;
    let (bob, _) = approver(&ts, &owner).await;

    // A read grant does not allow a delete.
    let r = read_asks(&owner.client, "p/KEY").await;
    bob.client.approve(&r.id, None, None).await.unwrap();
    let d = asked(owner.client.delete_secret(&p("p/KEY")).await.unwrap_err());
    assert_eq!(d.operation, "delete");
    assert_ne!(d.id, r.id);
    assert!(owner.client.secret_metadata(&p("p/KEY")).await.is_ok());

    // Lowering the tier asks too, and names the new tier; the write does not happen.
    let l = asked(
        put(&owner.client, "p/KEY", "NEW", Some(Tier::Standard))
            .await
            .unwrap_err(),
    );
    assert_eq!(l.operation, "lower_tier");
    let req = bob.client.approval(&l.id).await.unwrap();
    assert_eq!(req.to_tier, Some(Tier::Standard));
    let meta = owner.client.secret_metadata(&p("p/KEY")).await.unwrap();
    assert_eq!((meta.tier, meta.current_version), (Tier::Sensitive, 1));
    bob.client.approve(&l.id, None, None).await.unwrap();
    put(&owner.client, "p/KEY", "NEW", Some(Tier::Standard))
        .await
        .unwrap();
    let meta = owner.client.secret_metadata(&p("p/KEY")).await.unwrap();
    assert_eq!((meta.tier, meta.current_version), (Tier::Standard, 2));

    // Back up to sensitive: the raise voids the unused read grant and the pending delete
    // request, so the delete is asked again at the new tier.
    put(&owner.client, "p/KEY", "NEWER", Some(Tier::Sensitive))
        .await
        .unwrap();
    for id in [&r.id, &d.id] {
        assert_eq!(
            owner.client.approval(id).await.unwrap().status,
            ApprovalStatus::Voided
        );
    }
    let d2 = asked(owner.client.delete_secret(&p("p/KEY")).await.unwrap_err());
    assert_ne!(d2.id, d.id);
    bob.client.approve(&d2.id, None, None).await.unwrap();
    owner.client.delete_secret(&p("p/KEY")).await.unwrap();
    assert_eq!(
        owner.client.approval(&d2.id).await.unwrap().status,
        ApprovalStatus::Used
    );
    assert!(count(&owner.client, "approval.voided").await >= 1);
}

#[tokio::test]
async fn raising_the_tier_voids_an_agents_unused_grant() {
    let ts = TestServer::start().await;
    let owner = owner_with(&ts, "gate-raise", "p/S", Tier::Sensitive).await;
    let (bob, _) = approver(&ts, &owner).await;
    let k = key(&owner, &["secrets:read:p/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());

    let a = read_asks(&agent, "p/S").await;
    bob.client.approve(&a.id, None, None).await.unwrap();
    put(&owner.client, "p/S", "V2", Some(Tier::Critical))
        .await
        .unwrap();
    // The grant was for a sensitive secret: the caller asks again at the new tier.
    let b = read_asks(&agent, "p/S").await;
    assert_ne!(b.id, a.id);
    assert_eq!(b.required, 2);
    let old = bob.client.approval(&a.id).await.unwrap();
    assert_eq!(old.status, ApprovalStatus::Voided);
    assert_eq!(old.void_reason.as_deref(), Some("tier_raised"));
    let voided = crate::approvals::events(&owner.client, "approval.voided").await;
    assert!(
        voided.iter().any(
            |e| e.target.as_deref() == Some(format!("approval:{}", a.id).as_str())
                && e.detail["reason"] == "tier_raised"
        ),
        "{voided:?}"
    );
}

#[tokio::test]
async fn a_deleted_and_recreated_secret_is_not_opened_by_an_old_grant() {
    let ts = TestServer::start().await;
    let owner = owner_with(&ts, "gate-recreate", "p/R", Tier::Sensitive).await;
    let (bob, _) = approver(&ts, &owner).await;
    let k = key(&owner, &["secrets:read:p/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());

    let a = read_asks(&agent, "p/R").await;
    bob.client.approve(&a.id, None, None).await.unwrap();
    let d = asked(owner.client.delete_secret(&p("p/R")).await.unwrap_err());
    bob.client.approve(&d.id, None, None).await.unwrap();
    owner.client.delete_secret(&p("p/R")).await.unwrap();
    let old = bob.client.approval(&a.id).await.unwrap();
    assert_eq!(old.status, ApprovalStatus::Voided);
    assert_eq!(old.void_reason.as_deref(), Some("secret_deleted"));

    put(&owner.client, "p/R", "ANOTHER", Some(Tier::Sensitive))
        .await
        .unwrap();
    let b = read_asks(&agent, "p/R").await;
    assert_ne!(b.id, a.id);
}

#[tokio::test]
async fn an_agent_overwrites_a_critical_secret_only_with_a_grant() {
    let ts = TestServer::start().await;
    let owner = owner_with(&ts, "gate-aw", "p/C", Tier::Critical).await;
    let (bob, bob_totp) = approver(&ts, &owner).await;
    let (carol, carol_totp) = approver(&ts, &owner).await;
    let k = key(&owner, &["secrets:write:p/*", "secrets:read:p/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());

    let a = asked(put(&agent, "p/C", "FROM-AGENT", None).await.unwrap_err());
    assert_eq!((a.operation.as_str(), a.required), ("agent_write", 2));
    // A sensitive secret is not gated for agents' writes; a new path neither.
    put(&agent, "p/NEW", "X", None).await.unwrap();

    bob.client
        .approve(&a.id, None, Some(&next_code(&ts, &bob_totp)))
        .await
        .unwrap();
    carol
        .client
        .approve(&a.id, None, Some(&next_code(&ts, &carol_totp)))
        .await
        .unwrap();
    ts.clock.advance(Duration::minutes(11));
    put(&agent, "p/C", "FROM-AGENT", None).await.unwrap();
    let meta = owner.client.secret_metadata(&p("p/C")).await.unwrap();
    assert_eq!(meta.current_version, 2);
    // Once.
    let again = asked(put(&agent, "p/C", "AGAIN", None).await.unwrap_err());
    assert_ne!(again.id, a.id);
}

#[tokio::test]
async fn a_demoted_approvers_vote_drops_out_of_the_quorum() {
    let ts = TestServer::start().await;
    let owner = owner_with(&ts, "gate-demote", "p/Q", Tier::Critical).await;
    let (bob, bob_totp) = approver(&ts, &owner).await;
    let (carol, carol_totp) = approver(&ts, &owner).await;
    let (dave, dave_totp) = approver(&ts, &owner).await;
    let k = key(&owner, &["secrets:read:p/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());

    let a = read_asks(&agent, "p/Q").await;
    for (who, totp) in [(&bob, &bob_totp), (&carol, &carol_totp)] {
        who.client
            .approve(&a.id, None, Some(&next_code(&ts, totp)))
            .await
            .unwrap();
    }
    assert_eq!(
        owner.client.approval(&a.id).await.unwrap().status,
        ApprovalStatus::Approved
    );
    // Carol is demoted during the delay: her vote no longer counts.
    owner
        .client
        .set_role(&carol.user_id, Role::Member)
        .await
        .unwrap();
    let now = owner.client.approval(&a.id).await.unwrap();
    assert_eq!(now.status, ApprovalStatus::Pending);
    assert_eq!(now.approvals.len(), 1);
    ts.clock.advance(Duration::minutes(11));
    let still = read_asks(&agent, "p/Q").await;
    assert_eq!(
        (still.id.as_str(), still.status.as_str()),
        (a.id.as_str(), "pending")
    );

    // Someone eligible replaces it.
    dave.client
        .approve(&a.id, None, Some(&next_code(&ts, &dave_totp)))
        .await
        .unwrap();
    ts.clock.advance(Duration::minutes(11));
    let v = agent.get_secret(&p("p/Q"), None).await.unwrap();
    assert_eq!(v.value.expose(), "THE-VALUE");
}

#[tokio::test]
async fn a_person_rotating_a_tiered_secret_needs_the_sudo_window() {
    let ts = TestServer::start().await;
    let owner = owner_with(&ts, "gate-sudo", "p/T", Tier::Sensitive).await;
    put(&owner.client, "p/STD", "A", None).await.unwrap();
    ts.clock.advance(Duration::minutes(11));
    let e = put(&owner.client, "p/T", "V2", None).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::ReauthRequired), "{e:?}");
    // Standard secrets need no sudo.
    put(&owner.client, "p/STD", "B", None).await.unwrap();
    owner.client.reauth(&owner.password).await.unwrap();
    put(&owner.client, "p/T", "V2", None).await.unwrap();
    let meta = owner.client.secret_metadata(&p("p/T")).await.unwrap();
    assert_eq!(meta.current_version, 2);
}

#[tokio::test]
async fn a_single_use_token_is_not_spent_by_asking_or_polling() {
    let ts = TestServer::start().await;
    let owner = owner_with(&ts, "gate-uses", "p/U", Tier::Sensitive).await;
    let (bob, _) = approver(&ts, &owner).await;
    let k = key(&owner, &["secrets:read:p/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    let mut req = token_req(&["secrets:read:p/*"]);
    req.max_uses = Some(1);
    let t = agent.issue_token(&req).await.unwrap();
    let tok = as_agent(&ts, t.token.expose());

    let a = read_asks(&tok, "p/U").await;
    read_asks(&tok, "p/U").await;
    for _ in 0..3 {
        assert_eq!(
            tok.approval(&a.id).await.unwrap().status,
            ApprovalStatus::Pending
        );
    }
    bob.client
        .approve(&a.id, Some("private note"), None)
        .await
        .unwrap();
    // Agents see who decided, not their address or comment.
    let seen = tok.approval(&a.id).await.unwrap();
    assert!(seen.approvals.iter().all(|v| v.user.email.is_none()));
    assert!(seen.approvals.iter().all(|v| v.comment.is_none()));
    assert_eq!(seen.approvals.len(), 1);
    match &seen.requested_by {
        RequestedBy::Agent { owner, .. } => assert!(owner.email.is_none()),
        other => panic!("{other:?}"),
    }
    let v = tok.get_secret(&p("p/U"), None).await.unwrap();
    assert_eq!(v.value.expose(), "THE-VALUE");
    let e = tok.get_secret(&p("p/U"), None).await.unwrap_err();
    assert_eq!(e.status(), Some(401), "the one use is spent now: {e:?}");
}

#[tokio::test]
async fn a_person_asks_ahead_for_any_gated_operation() {
    let ts = TestServer::start().await;
    let owner = owner_with(&ts, "gate-ahead", "p/A", Tier::Critical).await;
    let member = invited(&ts, &owner, Role::Member).await;
    let req = |operation, to_tier| CreateApprovalRequest {
        path: p("p/A"),
        reason: "quarterly rotation".into(),
        operation,
        to_tier,
    };
    let r = member
        .client
        .request_approval_for(&req(Some(ApprovalOperation::Delete), None))
        .await
        .unwrap();
    assert_eq!(r.operation, ApprovalOperation::Delete);
    assert_eq!(r.required_approvals, 2);
    // The owner has no 2FA: nobody can approve a critical request yet, and it says so.
    assert_eq!(r.eligible_approvers, 0);
    // The member sees their own request, not others'.
    let mine = member
        .client
        .list_approvals(None, None, None)
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 1);
    // Lowering needs a target tier below the current one.
    let e = member
        .client
        .request_approval_for(&req(
            Some(ApprovalOperation::LowerTier),
            Some(Tier::Critical),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422));
}
