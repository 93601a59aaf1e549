//! The Team page's server calls (`keyhold_desktop::backend::members`) against the real
//! server on a loopback port: pending invitations listed with who sent them, revoked
//! through the sudo window, and refused to anyone but owners and admins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use keyhold_core::Sensitive;
use keyhold_core::api::{Role, SignupRequest};
use keyhold_desktop::backend::Server;
use keyhold_desktop::backend::{self, members, secrets};
use keyhold_desktop::error::ErrorKind;
use keyhold_desktop::server_url;
use keyhold_e2e::{STRONG_PASSWORD, TestServer, unique_email};

fn token_of(c: &keyhold_client::Client) -> Sensitive<String> {
    Sensitive::new(c.token().unwrap().to_owned())
}

/// Sign up through the mailed link for `email`, then sign in: the new member's token.
async fn accept(ts: &TestServer, email: &str) -> Sensitive<String> {
    let link = ts.mailed_link(email, "/signup").await.unwrap();
    let invitation = link.split("invitation=").nth(1).unwrap().to_owned();
    ts.client()
        .signup(&SignupRequest {
            email: email.to_owned(),
            password: Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: None,
            invitation: Some(Sensitive::new(invitation)),
        })
        .await
        .unwrap();
    token_of(&ts.login(email, STRONG_PASSWORD).await)
}

async fn pending(server: &Server, token: &Sensitive<String>) -> Vec<String> {
    members::invitations(server, token)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.email)
        .collect()
}

#[tokio::test]
async fn invitations_are_listed_and_revoked_through_the_sudo_window() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-team").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = token_of(&ada.client);

    assert!(
        members::invitations(&server, &token)
            .await
            .unwrap()
            .is_empty()
    );
    let carol = unique_email("desk-carol");
    let sent = secrets::invite(&server, &token, &carol, Role::Admin)
        .await
        .unwrap();
    let dave = unique_email("desk-dave");
    secrets::invite(&server, &token, &dave, Role::Member)
        .await
        .unwrap();

    // What the page shows: email, role, who sent it, when it expires.
    let listed = members::invitations(&server, &token).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let row = listed.iter().find(|i| i.email == carol).unwrap();
    assert_eq!(row.id, sent.id);
    assert_eq!(row.role, "admin");
    assert_eq!(row.invited_by, ada.email, "no display name: the email");
    assert_eq!(row.invited_by_id, ada.user_id);
    assert_eq!(row.expires_at, sent.expires_at);
    let created = chrono::DateTime::parse_from_rfc3339(&row.created_at).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(&row.expires_at).unwrap();
    assert_eq!(expires - created, Duration::days(7));

    // Dave joins as a member: his invitation is used, and he may not see or revoke others.
    let dave_token = accept(&ts, &dave).await;
    assert_eq!(pending(&server, &token).await, [carol.as_str()]);
    let refused = members::invitations(&server, &dave_token)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");
    let refused = members::revoke_invitation(&server, &dave_token, &sent.id)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");
    assert_eq!(pending(&server, &token).await, [carol.as_str()]);

    // Past the sudo window the revoke is refused until Ada proves it is her.
    ts.clock.advance(Duration::minutes(11));
    let stale = members::revoke_invitation(&server, &token, &sent.id)
        .await
        .unwrap_err();
    assert_eq!(stale.kind, ErrorKind::ReauthRequired, "{stale:?}");
    assert_eq!(pending(&server, &token).await, [carol.as_str()]);
    backend::reauth(&server, &token, &Sensitive::new(STRONG_PASSWORD.to_owned()))
        .await
        .unwrap();
    members::revoke_invitation(&server, &token, &sent.id)
        .await
        .unwrap();
    assert!(pending(&server, &token).await.is_empty());

    // Gone for good: a second revoke, an unknown id or a blank one is said, not done.
    let again = members::revoke_invitation(&server, &token, &sent.id)
        .await
        .unwrap_err();
    assert!(
        matches!(again.kind, ErrorKind::NotFound | ErrorKind::Conflict),
        "{again:?}"
    );
    let unknown = members::revoke_invitation(&server, &token, "../members/x")
        .await
        .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::NotFound, "{unknown:?}");
    let blank = members::revoke_invitation(&server, &token, "  ")
        .await
        .unwrap_err();
    assert_eq!(blank.kind, ErrorKind::InvalidRequest, "{blank:?}");

    // The revoked link no longer signs anyone up.
    let link = ts.mailed_link(&carol, "/signup").await.unwrap();
    let invitation = link.split("invitation=").nth(1).unwrap().to_owned();
    assert!(
        ts.client()
            .signup(&SignupRequest {
                email: carol.clone(),
                password: Sensitive::new(STRONG_PASSWORD.to_owned()),
                display_name: None,
                invitation: Some(Sensitive::new(invitation)),
            })
            .await
            .is_err(),
        "a revoked invitation still signed someone up"
    );
    ts.stop().await;
}

/// The members of the Team tab: listed with role and 2FA, a role changed and a member
/// removed through the sudo window, members refused, ids never leaving their route.
#[tokio::test]
async fn members_are_listed_given_roles_and_removed() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-members").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = token_of(&ada.client);
    let bob = unique_email("desk-bob");
    secrets::invite(&server, &token, &bob, Role::Member)
        .await
        .unwrap();
    let bob_token = accept(&ts, &bob).await;

    let listed = members::members(&server, &token).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let me = listed.iter().find(|m| m.id == ada.user_id).unwrap();
    assert_eq!((me.role.as_str(), me.mfa_enabled), ("owner", false));
    let row = listed.iter().find(|m| m.email == bob).unwrap().clone();
    assert_eq!(row.role, "member");
    chrono::DateTime::parse_from_rfc3339(&row.created_at).unwrap();

    // Bob (a member) may not change roles; Ada may, inside the sudo window.
    let refused = members::set_role(&server, &bob_token, &ada.user_id, Role::Member)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");
    let changed = members::set_role(&server, &token, &row.id, Role::Approver)
        .await
        .unwrap();
    assert_eq!(changed.role, "approver");
    assert_eq!(
        members::members(&server, &token)
            .await
            .unwrap()
            .iter()
            .find(|m| m.id == row.id)
            .unwrap()
            .role,
        "approver"
    );
    // An id that tries to reach another route is just an unknown member; a blank one is
    // said before anything is sent.
    let sneaky = members::set_role(&server, &token, "../tenant/settings", Role::Admin)
        .await
        .unwrap_err();
    assert_eq!(sneaky.kind, ErrorKind::NotFound, "{sneaky:?}");
    let blank = members::remove(&server, &token, " ").await.unwrap_err();
    assert_eq!(blank.kind, ErrorKind::InvalidRequest, "{blank:?}");

    // Past the sudo window the removal waits for Ada to prove it is her.
    ts.clock.advance(Duration::minutes(11));
    let stale = members::remove(&server, &token, &row.id).await.unwrap_err();
    assert_eq!(stale.kind, ErrorKind::ReauthRequired, "{stale:?}");
    assert_eq!(members::members(&server, &token).await.unwrap().len(), 2);
    backend::reauth(&server, &token, &Sensitive::new(STRONG_PASSWORD.to_owned()))
        .await
        .unwrap();
    members::remove(&server, &token, &row.id).await.unwrap();
    let left = members::members(&server, &token).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    ts.stop().await;
}
