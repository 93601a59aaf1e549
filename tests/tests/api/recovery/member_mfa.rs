//! An owner or admin turns off the 2FA of a member who lost their authenticator and backup
//! codes: in the sudo window, with a TOTP code of their own, never for themselves, and an
//! admin never for an owner.

use chrono::Duration;
use keyhold_client::LoginOutcome;
use keyhold_core::api::Role;
use keyhold_e2e::{Person, STRONG_PASSWORD, TestServer};
use keyhold_vault::clock::Clock;
use serde_json::json;

use super::{code_of, me_status, notice, post};
use crate::approvals::{events, invited};
use crate::mfa::{enable_2fa, next_code};

async fn reset(
    ts: &TestServer,
    by: &Person,
    user_id: &str,
    code: &str,
) -> (u16, serde_json::Value) {
    let path = format!("/v1/members/{user_id}/mfa/reset");
    post(ts, by.client.token(), &path, json!({ "code": code })).await
}

fn mfa_on(members: &[keyhold_core::api::Member], id: &str) -> bool {
    members.iter().find(|m| m.id == id).unwrap().mfa_enabled
}

#[tokio::test]
async fn an_owner_turns_a_members_2fa_off_ends_their_sessions_and_mails_them() {
    let ts = TestServer::start().await;
    let owner = ts.person("mfaowner").await;
    let owner_2fa = enable_2fa(&ts, &owner.client).await;
    let member = invited(&ts, &owner, Role::Member).await;
    enable_2fa(&ts, &member.client).await;
    assert!(mfa_on(
        &owner.client.members().await.unwrap(),
        &member.user_id
    ));

    let code = next_code(&ts, &owner_2fa.secret);
    let (status, body) = reset(&ts, &owner, &member.user_id, &code).await;
    assert_eq!(status, 204, "{body}");
    assert!(!mfa_on(
        &owner.client.members().await.unwrap(),
        &member.user_id
    ));
    assert_eq!(me_status(&ts, member.client.token().unwrap()).await, 401);
    // The password alone signs the member in again, so they can enrol a new authenticator.
    match ts
        .client()
        .login(&member.email, STRONG_PASSWORD)
        .await
        .unwrap()
    {
        LoginOutcome::Session(_) => {}
        LoginOutcome::MfaRequired { .. } => panic!("2FA is still on"),
    }
    let mail = notice(
        &ts,
        &member.email,
        "two-factor authentication was reset by an admin",
    )
    .await;
    assert!(
        mail.contains(&owner.email),
        "the notice names who did it: {mail}"
    );
    assert!(!mail.contains(&code), "{mail}");

    let evs = events(&owner.client, "mfa.reset").await;
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].actor.id.as_deref(), Some(owner.user_id.as_str()));
    assert_eq!(
        evs[0].target.as_deref(),
        Some(format!("user:{}", member.user_id).as_str())
    );
    assert_eq!(evs[0].detail["method"], "totp");
    assert!(!serde_json::to_string(&evs).unwrap().contains(&code));
    // The owner's own code was spent like any other: replaying it fails.
    let again = invited(&ts, &owner, Role::Member).await;
    enable_2fa(&ts, &again.client).await;
    let (status, _) = reset(&ts, &owner, &again.user_id, &code).await;
    assert_eq!(status, 403);
    assert!(mfa_on(
        &owner.client.members().await.unwrap(),
        &again.user_id
    ));
}

#[tokio::test]
async fn who_may_reset_whom() {
    let ts = TestServer::start().await;
    let owner = ts.person("mfarules").await;
    let owner_2fa = enable_2fa(&ts, &owner.client).await;
    let admin = invited(&ts, &owner, Role::Admin).await;
    let admin_2fa = enable_2fa(&ts, &admin.client).await;
    let member = invited(&ts, &owner, Role::Member).await;
    let member_2fa = enable_2fa(&ts, &member.client).await;
    let approver = invited(&ts, &owner, Role::Approver).await;
    enable_2fa(&ts, &approver.client).await;
    let stranger = ts.person("mfastranger").await;
    enable_2fa(&ts, &stranger.client).await;

    // Never one's own 2FA (that is DELETE /v1/me/mfa/totp, with a code).
    let (status, body) = reset(
        &ts,
        &owner,
        &owner.user_id,
        &next_code(&ts, &owner_2fa.secret),
    )
    .await;
    assert_eq!((status, code_of(&body).0), (403, "forbidden"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("your own")
    );
    // An admin cannot reset an owner; a member cannot reset anyone.
    let (status, body) = reset(
        &ts,
        &admin,
        &owner.user_id,
        &next_code(&ts, &admin_2fa.secret),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Only an owner")
    );
    let (status, _) = reset(
        &ts,
        &member,
        &approver.user_id,
        &next_code(&ts, &member_2fa.secret),
    )
    .await;
    assert_eq!(status, 403);
    // Another tenant's person is not found.
    let (status, _) = reset(
        &ts,
        &owner,
        &stranger.user_id,
        &next_code(&ts, &owner_2fa.secret),
    )
    .await;
    assert_eq!(status, 404);
    // A wrong own code, and a backup code instead of a TOTP code, are refused.
    let wrong = crate::mfa::oathtool(&owner_2fa.secret, ts.clock.now() - Duration::minutes(10));
    let (status, _) = reset(&ts, &owner, &member.user_id, &wrong).await;
    assert_eq!(status, 403);
    let (status, _) = reset(&ts, &owner, &member.user_id, &owner_2fa.backup_codes[0]).await;
    assert_eq!(status, 422);
    let members = owner.client.members().await.unwrap();
    for p in [&owner, &admin, &member, &approver] {
        assert!(mfa_on(&members, &p.user_id), "{} lost 2FA", p.email);
    }
    assert_eq!(me_status(&ts, member.client.token().unwrap()).await, 200);
    let denied = events(&owner.client, "mfa.reset").await;
    assert!(denied.iter().all(|e| e.outcome == "denied"), "{denied:?}");
    assert_eq!(
        denied.len(),
        2,
        "the two role refusals are audited: {denied:?}"
    );

    // An admin may reset an approver's 2FA.
    let (status, body) = reset(
        &ts,
        &admin,
        &approver.user_id,
        &next_code(&ts, &admin_2fa.secret),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    // Already off: said so, with nothing spent.
    let (status, _) = reset(
        &ts,
        &admin,
        &approver.user_id,
        &next_code(&ts, &admin_2fa.secret),
    )
    .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn the_resetter_needs_2fa_of_their_own_and_the_sudo_window() {
    let ts = TestServer::start().await;
    let owner = ts.person("mfanoown").await;
    let member = invited(&ts, &owner, Role::Member).await;
    enable_2fa(&ts, &member.client).await;
    let (status, body) = reset(&ts, &owner, &member.user_id, "123456").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("needs your own"),
        "{body}"
    );

    let owner_2fa = enable_2fa(&ts, &owner.client).await;
    ts.clock.advance(Duration::minutes(11));
    let (status, body) = reset(
        &ts,
        &owner,
        &member.user_id,
        &next_code(&ts, &owner_2fa.secret),
    )
    .await;
    assert_eq!(
        (status, code_of(&body).0),
        (401, "reauth_required"),
        "{body}"
    );
    owner
        .client
        .reauth(&next_code(&ts, &owner_2fa.secret))
        .await
        .unwrap();
    let (status, body) = reset(
        &ts,
        &owner,
        &member.user_id,
        &next_code(&ts, &owner_2fa.secret),
    )
    .await;
    assert_eq!(status, 204, "{body}");
}
