//! `MemberStore` and `SettingsStore`: the last owner stays, a removal takes everything the
//! member held with it, settings round-trip.

use keyhold_core::api::{Role, TenantSettings};
use keyhold_vault::store::Conflict;

use crate::fixtures::{
    S, actions, assert_conflict, assert_not_found, at, ev, invitation, key, member, session,
    tenant, token,
};

/// Demoting the only owner is `LastOwner`; nothing changes and no event is appended. With a
/// second owner it works.
pub async fn demoting_the_last_owner_is_last_owner(s: &S) {
    let owner = tenant(s, "ta").await;
    let other = member(s, "ta", "m1", Role::Admin).await;
    let before = actions(s, "ta").await;
    let r = s
        .set_role("ta", &owner.id, Role::Admin, ev("member.role", "ta"))
        .await;
    assert_conflict(r, Conflict::LastOwner);
    assert_eq!(
        s.user("ta", &owner.id).await.unwrap().unwrap().role,
        Role::Owner
    );
    assert_eq!(actions(s, "ta").await, before);
    s.set_role("ta", &other.id, Role::Owner, ev("member.role", "ta"))
        .await
        .unwrap();
    s.set_role("ta", &owner.id, Role::Member, ev("member.role", "ta"))
        .await
        .unwrap();
    assert_eq!(
        s.user("ta", &owner.id).await.unwrap().unwrap().role,
        Role::Member
    );
    assert_not_found(
        s.set_role("ta", "nope", Role::Member, ev("member.role", "ta"))
            .await,
    );
}

pub async fn removing_the_last_owner_is_last_owner(s: &S) {
    let owner = tenant(s, "ta").await;
    session(s, &owner, "s1").await;
    let before = actions(s, "ta").await;
    let r = s
        .remove_member("ta", &owner.id, at(5), ev("member.removed", "ta"))
        .await;
    assert_conflict(r, Conflict::LastOwner);
    assert!(s.user("ta", &owner.id).await.unwrap().is_some());
    assert!(
        s.session("ta", "s1").await.unwrap().is_some(),
        "rolled back whole"
    );
    assert_eq!(actions(s, "ta").await, before);
    assert_not_found(
        s.remove_member("ta", "nope", at(5), ev("member.removed", "ta"))
            .await,
    );
}

/// A removed member's sessions end, keys and their tokens are revoked, and the pending
/// invitations they sent are void, each with its own event in the removal's transaction.
pub async fn removal_ends_sessions_keys_tokens_and_invitations(s: &S) {
    tenant(s, "ta").await;
    let admin = member(s, "ta", "adm", Role::Admin).await;
    session(s, &admin, "s1").await;
    let k = key(s, &admin, "k1").await;
    token(s, &k, "tok1", None).await;
    let mut inv = invitation("ta", "inv-x", "x", Role::Member);
    inv.invited_by = admin.id.clone();
    s.create_invitation(inv, "hash-inv-x".into(), ev("member.invited", "ta"))
        .await
        .unwrap();
    s.remove_member("ta", &admin.id, at(50), ev("member.removed", "ta"))
        .await
        .unwrap();
    assert_eq!(s.user("ta", &admin.id).await.unwrap(), None);
    assert!(
        s.members("ta")
            .await
            .unwrap()
            .iter()
            .all(|m| m.id != admin.id)
    );
    assert_eq!(s.user_by_email(&admin.email).await.unwrap(), None);
    assert_eq!(s.session_by_hash("hash-s1").await.unwrap(), None);
    assert_eq!(
        s.key("ta", "k1").await.unwrap().unwrap().revoked_at,
        Some(at(50))
    );
    assert_eq!(
        s.token("ta", "tok1").await.unwrap().unwrap().revoked_at,
        Some(at(50))
    );
    let inv = s.invitation("ta", "inv-x").await.unwrap().unwrap();
    assert_eq!(inv.revoked_at, Some(at(50)));
    let acts = actions(s, "ta").await;
    assert_eq!(
        acts[acts.len() - 2..],
        ["member.removed", "member.invitation_revoked"]
    );
    assert!(s.audit_verify("ta").await.unwrap().ok);
}

pub async fn settings_round_trip(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    assert_eq!(s.tenant_settings("ta").await.unwrap(), None);
    let mut set = TenantSettings::default();
    set.approvals.critical = 3;
    s.put_tenant_settings("ta", set.clone(), at(1), ev("tenant.settings", "ta"))
        .await
        .unwrap();
    assert_eq!(s.tenant_settings("ta").await.unwrap(), Some(set.clone()));
    set.max_token_ttl = "2h".into();
    s.put_tenant_settings("ta", set.clone(), at(2), ev("tenant.settings", "ta"))
        .await
        .unwrap();
    assert_eq!(s.tenant_settings("ta").await.unwrap(), Some(set));
    assert_eq!(s.tenant_settings("tb").await.unwrap(), None);
    let members = s.members("ta").await.unwrap();
    assert_eq!(members.len(), 1);
}
