//! Human approval of agents' reads of sensitive and critical secrets: quorum of distinct
//! approvers, the critical delay (moved with the test clock), veto, one-time grants,
//! expiry, TOTP replay, roles and tenant isolation, the live feed and the audit trail.
//! Approvers join the tenant through mailed invitations.

use std::time::Duration as StdDuration;

use chrono::Duration;
use keyhold_client::{Client, ClientError};
use keyhold_core::ErrorCode;
use keyhold_core::api::{ApprovalStatus, AuditEvent, AuditQuery, Role, TenantSettings};
use keyhold_core::tier::Tier;
use keyhold_e2e::{Person, STRONG_PASSWORD, TestServer, unique_email};

use crate::mfa::{enable_2fa, next_code};
use crate::support::{as_agent, key, p, raw, token};

/// Someone invited into `owner`'s tenant with `role`, signed up through the mailed link
/// and signed in.
pub async fn invited(ts: &TestServer, owner: &Person, role: Role) -> Person {
    let email = unique_email("invitee");
    let inv = owner.client.invite(&email, role).await.unwrap();
    assert_eq!(inv.role, role);
    let link = ts
        .mailed_link(&email, "/signup")
        .expect("invitation mailed");
    let token = link.split("invitation=").nth(1).unwrap().to_owned();
    let created = ts
        .client()
        .signup(&keyhold_core::api::SignupRequest {
            email: email.clone(),
            password: keyhold_core::Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: None,
            invitation: Some(keyhold_core::Sensitive::new(token)),
        })
        .await
        .unwrap();
    assert_eq!(created.tenant.id, owner.tenant_id);
    assert!(created.user.email_verified);
    let client = ts.login(&email, STRONG_PASSWORD).await;
    assert_eq!(client.me().await.unwrap().role, role);
    Person {
        email,
        password: STRONG_PASSWORD.to_owned(),
        client,
        user_id: created.user.id,
        tenant_id: created.tenant.id,
    }
}

/// An approver with 2FA on, and their TOTP secret.
pub async fn approver(ts: &TestServer, owner: &Person) -> (Person, String) {
    let a = invited(ts, owner, Role::Approver).await;
    let e = enable_2fa(ts, &a.client).await;
    (a, e.secret)
}

/// The owner, an agent key of the owner reading `p/*`, and a secret `path` of `tier`.
async fn vault(ts: &TestServer, tag: &str, path: &str, tier: Tier) -> (Person, Client) {
    let owner = ts.person(tag).await;
    owner
        .client
        .put_secret(&p(path), "THE-VALUE", None, Some(tier))
        .await
        .unwrap();
    let k = key(&owner, &["secrets:read:p/*"]).await;
    let agent = as_agent(ts, k.secret.expose());
    (owner, agent)
}

fn api_code(e: &ClientError) -> Option<ErrorCode> {
    e.code()
}

/// Read as the agent and expect 403 `approval_required`: the request id and status.
async fn asks(agent: &Client, path: &str) -> (String, String) {
    let e = agent.get_secret(&p(path), None).await.unwrap_err();
    assert_eq!(api_code(&e), Some(ErrorCode::ApprovalRequired), "{e:?}");
    assert_eq!(e.status(), Some(403));
    (
        e.extra_str("approval_id").unwrap().to_owned(),
        e.extra_str("status").unwrap().to_owned(),
    )
}

pub async fn events(client: &Client, action: &str) -> Vec<AuditEvent> {
    client
        .audit(&AuditQuery {
            action: Some(action.to_owned()),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

fn about(evs: &[AuditEvent], id: &str) -> usize {
    let target = format!("approval:{id}");
    evs.iter()
        .filter(|e| e.target.as_deref() == Some(target.as_str()) && e.outcome == "success")
        .count()
}

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

    let first = a
        .client
        .approve(&id, Some("ok"), Some(&next_code(&ts, &a_secret)))
        .await
        .unwrap();
    assert_eq!(first.status, ApprovalStatus::Pending);
    assert_eq!(first.approvals.len(), 1);
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

#[tokio::test]
async fn roles_change_in_the_sudo_window_and_the_last_owner_stays() {
    let ts = TestServer::start().await;
    let owner = ts.person("appr-roles").await;
    let m = invited(&ts, &owner, Role::Member).await;
    let members = owner.client.members().await.unwrap();
    assert_eq!(members.len(), 2);
    let changed = owner
        .client
        .set_role(&m.user_id, Role::Approver)
        .await
        .unwrap();
    assert_eq!(changed.role, Role::Approver);
    let e = owner
        .client
        .set_role(&owner.user_id, Role::Admin)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409));
    // Members cannot change roles or invite.
    let e = m
        .client
        .set_role(&owner.user_id, Role::Member)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
    let e = m
        .client
        .invite(&unique_email("x"), Role::Admin)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
    // Outside the sudo window: reauth_required.
    ts.clock.advance(Duration::minutes(11));
    let e = owner
        .client
        .set_role(&m.user_id, Role::Member)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::ReauthRequired));
    assert_eq!(events(&owner.client, "member.role_changed").await.len(), 3);
}

#[tokio::test]
async fn invitations_are_single_use_bound_to_the_address_and_expire() {
    let ts = TestServer::start().await;
    let owner = ts.person("appr-inv").await;
    let signup = |email: &str, token: &str| keyhold_core::api::SignupRequest {
        email: email.to_owned(),
        password: keyhold_core::Sensitive::new(STRONG_PASSWORD.to_owned()),
        display_name: None,
        invitation: Some(keyhold_core::Sensitive::new(token.to_owned())),
    };
    let email = unique_email("inv");
    owner.client.invite(&email, Role::Approver).await.unwrap();
    let link = ts.mailed_link(&email, "/signup").unwrap();
    assert!(link.starts_with(&format!("{}/signup?invitation=khi_", ts.url())));
    let token = link.split("invitation=").nth(1).unwrap().to_owned();
    // Another address cannot use it.
    let e = ts
        .client()
        .signup(&signup(&unique_email("thief"), &token))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422));
    ts.client().signup(&signup(&email, &token)).await.unwrap();
    // Used once.
    let e = ts
        .client()
        .signup(&signup(&email, &token))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422));
    // Expired after 7 days.
    let late = unique_email("late");
    owner.client.invite(&late, Role::Member).await.unwrap();
    let token = ts
        .mailed_link(&late, "/signup")
        .unwrap()
        .split("invitation=")
        .nth(1)
        .unwrap()
        .to_owned();
    ts.clock.advance(Duration::days(7) + Duration::seconds(1));
    let e = ts
        .client()
        .signup(&signup(&late, &token))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422));
    // The invitations and the join are audited.
    let owner = Person {
        client: ts.login(&owner.email, STRONG_PASSWORD).await,
        ..owner
    };
    assert_eq!(events(&owner.client, "member.invited").await.len(), 2);
    assert_eq!(
        events(&owner.client, "member.joined")
            .await
            .iter()
            .filter(|e| e.detail["role"] == "approver")
            .count(),
        1
    );
}

#[tokio::test]
async fn removed_members_lose_sessions_keys_and_sign_in() {
    let ts = TestServer::start().await;
    let owner = ts.person("appr-remove").await;
    owner
        .client
        .put_secret(&p("p/X"), "x", None, None)
        .await
        .unwrap();
    let m = invited(&ts, &owner, Role::Member).await;
    let k = key(&m, &["secrets:read:p/*"]).await;
    let agent = as_agent(&ts, k.secret.expose());
    agent.get_secret(&p("p/X"), None).await.unwrap();
    // A member cannot remove others; the last owner cannot leave.
    let e = m.client.remove_member(&owner.user_id).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    let e = owner
        .client
        .remove_member(&owner.user_id)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409));

    owner.client.remove_member(&m.user_id).await.unwrap();
    assert_eq!(m.client.me().await.unwrap_err().status(), Some(401));
    assert_eq!(
        agent
            .get_secret(&p("p/X"), None)
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
    assert!(ts.client().login(&m.email, STRONG_PASSWORD).await.is_err());
    assert_eq!(owner.client.members().await.unwrap().len(), 1);
    let e = owner.client.remove_member(&m.user_id).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    let removed = events(&owner.client, "member.removed").await;
    assert_eq!(removed.iter().filter(|e| e.outcome == "success").count(), 1);
    assert_eq!(removed.iter().filter(|e| e.outcome == "denied").count(), 2);
}
