//! Issue 15, items 2.4 and the tenant settings rules: every privileged change needs the
//! sudo window (invitations, tenant settings, KEK rotation); pending invitations are listed
//! and revoked by owners and admins, a revoked one signs no one up, and removing a member
//! voids the invitations they sent. Settings keep their floors and are mailed to every
//! owner and admin.

use chrono::Duration;
use keyhold_client::Client;
use keyhold_core::api::{AuditEvent, AuditQuery, Role, SignupRequest, TenantSettings};
use keyhold_core::{ErrorCode, Sensitive};
use keyhold_e2e::{Person, STRONG_PASSWORD, TestServer, decode_quoted_printable, unique_email};

async fn events(client: &Client, action: &str) -> Vec<AuditEvent> {
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

/// The invitation token mailed to `email` (newest).
async fn mailed_invitation(ts: &TestServer, email: &str) -> String {
    let link = ts
        .mailed_link(email, "/signup")
        .await
        .expect("invitation mailed");
    link.split("invitation=").nth(1).unwrap().to_owned()
}

fn signup_with(email: &str, token: &str) -> SignupRequest {
    SignupRequest {
        email: email.to_owned(),
        password: Sensitive::new(STRONG_PASSWORD.to_owned()),
        display_name: None,
        invitation: Some(Sensitive::new(token.to_owned())),
    }
}

/// `email` invited by `by` with `role`, joined through the link and signed in.
async fn joined(ts: &TestServer, by: &Client, role: Role) -> Person {
    let email = unique_email("joined");
    by.invite(&email, role).await.unwrap();
    let token = mailed_invitation(ts, &email).await;
    let created = ts
        .client()
        .signup(&signup_with(&email, &token))
        .await
        .unwrap();
    Person {
        client: ts.login(&email, STRONG_PASSWORD).await,
        email,
        password: STRONG_PASSWORD.to_owned(),
        user_id: created.user.id,
        tenant_id: created.tenant.id,
    }
}

fn reauth_required<T: std::fmt::Debug>(r: keyhold_client::Result<T>) {
    let e = r.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::ReauthRequired), "{e:?}");
    assert_eq!(e.status(), Some(401));
}

#[tokio::test]
async fn invitations_settings_and_kek_rotation_need_the_sudo_window() {
    let ts = TestServer::start().await;
    let owner = ts.person("sudo-priv").await;
    let pending = unique_email("pending");
    owner.client.invite(&pending, Role::Member).await.unwrap();
    let inv_id = owner
        .client
        .pending_invitations(None, None)
        .await
        .unwrap()
        .items[0]
        .id
        .clone();
    let mails = ts.outbox().await.len();

    // Eleven minutes after signing in the session is no longer proof enough.
    ts.clock.advance(Duration::minutes(11));
    let late = unique_email("late");
    reauth_required(owner.client.invite(&late, Role::Admin).await);
    let mut s = TenantSettings::default();
    s.approvals.critical = 3;
    reauth_required(owner.client.set_tenant_settings(&s).await);
    reauth_required(owner.client.rotate_kek().await);
    reauth_required(owner.client.revoke_invitation(&inv_id).await);
    // Nothing changed: no mail, no invitation, same settings, same KEK, still pending.
    assert_eq!(
        ts.outbox().await.len(),
        mails,
        "a refused change mailed someone"
    );
    assert!(ts.mailed_link_now(&late, "/signup").await.is_none());
    assert_eq!(
        owner.client.tenant_settings().await.unwrap(),
        TenantSettings::default()
    );
    assert!(events(&owner.client, "kek.rotated").await.is_empty());
    assert_eq!(
        owner
            .client
            .pending_invitations(None, None)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // Listing needs no sudo window; proving it is you again opens it for all four.
    owner.client.reauth(STRONG_PASSWORD).await.unwrap();
    owner.client.invite(&late, Role::Admin).await.unwrap();
    owner.client.set_tenant_settings(&s).await.unwrap();
    assert_eq!(owner.client.rotate_kek().await.unwrap().kek_version, 2);
    owner.client.revoke_invitation(&inv_id).await.unwrap();
}

#[tokio::test]
async fn pending_invitations_are_listed_and_revoked_by_owners_and_admins() {
    let ts = TestServer::start().await;
    let owner = ts.person("inv-list").await;
    let member = joined(&ts, &owner.client, Role::Member).await;
    let (first, second, owner_inv) = (
        unique_email("first"),
        unique_email("second"),
        unique_email("owner"),
    );
    owner.client.invite(&first, Role::Approver).await.unwrap();
    owner.client.invite(&second, Role::Member).await.unwrap();
    owner.client.invite(&owner_inv, Role::Owner).await.unwrap();

    // Newest first, paged like every list; the used invitation is not pending; no token.
    let page = owner
        .client
        .pending_invitations(Some(2), None)
        .await
        .unwrap();
    let emails: Vec<&str> = page.items.iter().map(|i| i.email.as_str()).collect();
    assert_eq!(emails, [owner_inv.as_str(), second.as_str()]);
    assert_eq!(page.items[0].invited_by.id, owner.user_id);
    assert_eq!(page.items[1].role, Role::Member);
    let rest = owner
        .client
        .pending_invitations(Some(2), page.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].email, first);
    assert!(rest.next_cursor.is_none());
    let raw = owner
        .client
        .get_raw("/v1/members/invitations")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!raw.contains("khi_"), "a token in the list: {raw}");
    assert!(!raw.contains(&mailed_invitation(&ts, &first).await));

    // Members may neither list nor revoke.
    let e = member
        .client
        .pending_invitations(None, None)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
    let first_id = rest.items[0].id.clone();
    let e = member
        .client
        .revoke_invitation(&first_id)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
    // An admin revokes others' invitations, but one for an owner only an owner.
    let admin = joined(&ts, &owner.client, Role::Admin).await;
    let owner_inv_id = page.items[0].id.clone();
    let e = admin
        .client
        .revoke_invitation(&owner_inv_id)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
    // Another tenant's owner sees none of it and cannot touch it: 404.
    let stranger = ts.person("inv-stranger").await;
    assert!(
        stranger
            .client
            .pending_invitations(None, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let e = stranger
        .client
        .revoke_invitation(&first_id)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
    // Ids that try to reach another route are just unknown ids.
    for odd in ["../../members", "x?y=1", "%2e%2e"] {
        let e = owner.client.revoke_invitation(odd).await.unwrap_err();
        assert_eq!(e.status(), Some(404), "{odd}");
    }

    // Revoked: gone from the list, audited, and its link signs no one up.
    let token = mailed_invitation(&ts, &first).await;
    admin.client.revoke_invitation(&first_id).await.unwrap();
    let left: Vec<String> = owner
        .client
        .all_pending_invitations()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.email)
        .collect();
    assert!(!left.contains(&first), "{left:?}");
    let e = ts
        .client()
        .signup(&signup_with(&first, &token))
        .await
        .unwrap_err();
    assert_eq!(
        e.status(),
        Some(422),
        "a revoked invitation signed someone up"
    );
    let e = admin.client.revoke_invitation(&first_id).await.unwrap_err();
    assert_eq!(e.status(), Some(409));
    let revoked = events(&owner.client, "member.invitation_revoked").await;
    let ok: Vec<&AuditEvent> = revoked.iter().filter(|e| e.outcome == "success").collect();
    assert_eq!(ok.len(), 1);
    assert_eq!(
        ok[0].target.as_deref(),
        Some(format!("invitation:{first_id}").as_str())
    );
    assert_eq!(ok[0].detail["email"], first.as_str());
    assert_eq!(ok[0].detail["reason"], "revoked");
    assert!(
        revoked.iter().filter(|e| e.outcome == "denied").count() >= 2,
        "refusals are audited"
    );
    // An expired invitation is no longer pending either.
    ts.clock.advance(Duration::days(7) + Duration::seconds(1));
    let fresh = ts.login(&owner.email, STRONG_PASSWORD).await;
    assert!(fresh.all_pending_invitations().await.unwrap().is_empty());
}

#[tokio::test]
async fn removing_a_member_voids_the_invitations_they_sent() {
    let ts = TestServer::start().await;
    let owner = ts.person("inv-void").await;
    let admin = joined(&ts, &owner.client, Role::Admin).await;
    let (x, y, mine) = (unique_email("x"), unique_email("y"), unique_email("mine"));
    admin.client.invite(&x, Role::Member).await.unwrap();
    admin.client.invite(&y, Role::Approver).await.unwrap();
    owner.client.invite(&mine, Role::Member).await.unwrap();
    assert_eq!(
        owner.client.all_pending_invitations().await.unwrap().len(),
        3
    );

    owner.client.remove_member(&admin.user_id).await.unwrap();
    let left = owner.client.all_pending_invitations().await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].email, mine);
    for email in [&x, &y] {
        let token = mailed_invitation(&ts, email).await;
        let e = ts
            .client()
            .signup(&signup_with(email, &token))
            .await
            .unwrap_err();
        assert_eq!(
            e.status(),
            Some(422),
            "{email} joined through a voided invitation"
        );
    }
    let voided = events(&owner.client, "member.invitation_revoked").await;
    assert_eq!(voided.len(), 2);
    for e in &voided {
        assert_eq!(e.detail["reason"], "inviter_removed");
        assert_eq!(e.actor.id.as_deref(), Some(owner.user_id.as_str()));
    }
    // In the same transaction as the removal: the same instant.
    let removed = events(&owner.client, "member.removed").await;
    assert_eq!(removed.len(), 1);
    assert!(voided.iter().all(|e| e.at == removed[0].at));
}

#[tokio::test]
async fn settings_keep_their_floors_and_every_owner_and_admin_is_mailed() {
    let ts = TestServer::start().await;
    let owner = ts.person("settings-mail").await;
    let admin = joined(&ts, &owner.client, Role::Admin).await;
    let approver = joined(&ts, &owner.client, Role::Approver).await;

    // Floors: sensitive at least 1, critical at least 2. Nothing changes, nothing is mailed.
    let mails = ts.outbox().await.len();
    for (sensitive, critical, field) in [
        (1, 1, "approvals.critical"),
        (0, 2, "approvals.sensitive"),
        (1, 0, "approvals.critical"),
    ] {
        let mut s = TenantSettings::default();
        s.approvals.sensitive = sensitive;
        s.approvals.critical = critical;
        let e = owner.client.set_tenant_settings(&s).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{sensitive}/{critical}");
        assert_eq!(e.extra_str("field"), Some(field));
    }
    assert_eq!(ts.outbox().await.len(), mails);
    assert_eq!(
        owner.client.tenant_settings().await.unwrap(),
        TenantSettings::default()
    );

    // An admin raises critical to 3: audited, and mailed to the owner and the admin.
    let mut s = TenantSettings::default();
    s.approvals.critical = 3;
    admin.client.set_tenant_settings(&s).await.unwrap();
    let changed = events(&owner.client, "tenant.settings_changed").await;
    assert_eq!(changed.len(), 1);
    let notices: Vec<String> = ts
        .outbox()
        .await
        .iter()
        .skip(mails)
        .map(|m| decode_quoted_printable(m))
        .collect();
    assert_eq!(notices.len(), 2, "{notices:#?}");
    for to in [&owner.email, &admin.email] {
        let m = notices
            .iter()
            .find(|m| m.contains(&format!("To: {to}")))
            .unwrap_or_else(|| panic!("no notice to {to}"));
        assert!(m.contains("settings changed"), "{m}");
        assert!(m.contains("approvals.critical: 2 -> 3"), "{m}");
        assert!(m.contains(&format!("By: {}", admin.email)), "{m}");
        assert!(m.contains("When: 2026-03-01T09:"), "{m}");
        assert!(m.contains("From address: 127.0.0.1"), "{m}");
        assert!(!m.contains("khs_") && !m.contains(STRONG_PASSWORD), "{m}");
    }
    assert!(
        !notices
            .iter()
            .any(|m| m.contains(&format!("To: {}", approver.email))),
        "an approver was mailed"
    );
}
