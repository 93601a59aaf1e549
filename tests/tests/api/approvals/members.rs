//! The team behind approvals: roles change in the sudo window and the last owner stays,
//! invitations are single-use, and removed members lose everything.

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_core::api::Role;
use keyhold_e2e::{Person, STRONG_PASSWORD, TestServer, unique_email};

use super::helpers::{events, invited};
use crate::support::{as_agent, key, p};

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
    let link = ts.mailed_link(&email, "/signup").await.unwrap();
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
        .await
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
