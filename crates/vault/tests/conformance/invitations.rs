//! `InvitationStore`: an invitation is used once, a revoked one is spent and no longer
//! pending, and a sign-up refused for its email spends nothing.

use keyhold_core::api::Role;
use keyhold_vault::store::Conflict;

use crate::fixtures::{
    S, actions, assert_conflict, assert_not_found, at, ev, invitation, tenant, user,
};

async fn invite(s: &S, id: &str, who: &str) {
    let inv = invitation("ta", id, who, Role::Member);
    s.create_invitation(inv, format!("hash-{id}"), ev("member.invited", "ta"))
        .await
        .unwrap();
}

pub async fn invitation_is_accepted_once(s: &S) {
    tenant(s, "ta").await;
    invite(s, "i1", "joe").await;
    let inv = s.invitation_by_hash("hash-i1").await.unwrap().unwrap();
    assert_eq!(inv, invitation("ta", "i1", "joe", Role::Member));
    let joe = user("ta", "joe", Role::Member);
    s.accept_invitation("i1", joe.clone(), at(5), ev("member.joined", "ta"))
        .await
        .unwrap();
    assert_eq!(s.user("ta", "joe").await.unwrap(), Some(joe));
    assert_eq!(
        s.invitation("ta", "i1").await.unwrap().unwrap().used_at,
        Some(at(5))
    );
    let mut again = user("ta", "joe2", Role::Member);
    again.email = "joe2@ta.test".into();
    let r = s
        .accept_invitation("i1", again, at(6), ev("member.joined", "ta"))
        .await;
    assert_conflict(r, Conflict::InvitationSpent);
    assert_eq!(s.user("ta", "joe2").await.unwrap(), None);
    invite(s, "i2", "late").await;
    let late = user("ta", "late", Role::Member);
    let r = s
        .accept_invitation("i2", late, at(3600), ev("member.joined", "ta"))
        .await;
    assert_conflict(r, Conflict::InvitationSpent);
}

/// Revoking works once: then accepting is `InvitationSpent` and revoking again
/// `InvitationNotPending`; an unknown id is `NotFound`.
pub async fn revoked_invitation_is_spent_and_not_pending(s: &S) {
    tenant(s, "ta").await;
    invite(s, "i1", "joe").await;
    s.revoke_invitation("ta", "i1", at(5), ev("member.invitation_revoked", "ta"))
        .await
        .unwrap();
    assert_eq!(
        s.invitation("ta", "i1").await.unwrap().unwrap().revoked_at,
        Some(at(5))
    );
    let joe = user("ta", "joe", Role::Member);
    let r = s
        .accept_invitation("i1", joe, at(6), ev("member.joined", "ta"))
        .await;
    assert_conflict(r, Conflict::InvitationSpent);
    let r = s
        .revoke_invitation("ta", "i1", at(7), ev("member.invitation_revoked", "ta"))
        .await;
    assert_conflict(r, Conflict::InvitationNotPending);
    invite(s, "i2", "old").await;
    let r = s
        .revoke_invitation("ta", "i2", at(3600), ev("member.invitation_revoked", "ta"))
        .await;
    assert_conflict(r, Conflict::InvitationNotPending);
    let r = s
        .revoke_invitation("ta", "nope", at(7), ev("member.invitation_revoked", "ta"))
        .await;
    assert_not_found(r);
    let n = actions(s, "ta")
        .await
        .iter()
        .filter(|a| *a == "member.invitation_revoked")
        .count();
    assert_eq!(n, 1);
}

/// Accepting with an email that is taken is `EmailTaken`, and the invitation stays unused.
pub async fn taken_email_on_accept_spends_nothing(s: &S) {
    let owner = tenant(s, "ta").await;
    invite(s, "i1", "joe").await;
    let mut joe = user("ta", "joe", Role::Member);
    joe.email = owner.email.clone();
    let r = s
        .accept_invitation("i1", joe, at(5), ev("member.joined", "ta"))
        .await;
    assert_conflict(r, Conflict::EmailTaken);
    assert_eq!(
        s.invitation("ta", "i1").await.unwrap().unwrap().used_at,
        None
    );
    assert!(!actions(s, "ta").await.contains(&"member.joined".to_owned()));
}

/// Pending means unused, unrevoked and unexpired at `now`; newest id first, bounded.
pub async fn pending_invitations_newest_first_and_bounded(s: &S) {
    let owner = tenant(s, "ta").await;
    for (id, who) in [("i1", "a"), ("i2", "b"), ("i3", "c"), ("i4", "d")] {
        invite(s, id, who).await;
    }
    s.revoke_invitation("ta", "i2", at(1), ev("member.invitation_revoked", "ta"))
        .await
        .unwrap();
    let ids = |v: Vec<(
        keyhold_vault::store::InvitationRecord,
        keyhold_core::api::PersonRef,
    )>| { v.into_iter().map(|(i, _)| i.id).collect::<Vec<_>>() };
    let all = s.pending_invitations("ta", at(2), None, 10).await.unwrap();
    assert_eq!(all[0].1.id, owner.id, "with who sent it");
    assert_eq!(all[0].1.email.as_deref(), Some(owner.email.as_str()));
    assert_eq!(ids(all), ["i4", "i3", "i1"]);
    let page = s
        .pending_invitations("ta", at(2), Some("i4"), 1)
        .await
        .unwrap();
    assert_eq!(ids(page), ["i3"]);
    assert!(
        s.pending_invitations("ta", at(3600), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
