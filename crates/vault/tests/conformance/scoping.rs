//! Tenant scoping: every read or write given another tenant's id finds nothing, answers
//! `NotFound`, and leaves the owning tenant's row as it was.

use keyhold_core::api::{ApprovalOperation, AuditQuery, Role};
use keyhold_core::path::PathPrefix;
use keyhold_core::tier::Tier;
use keyhold_vault::store::AuditScope;
use keyhold_vault::store::event::ActorKind;

use crate::fixtures::{
    S, actions, assert_conflict, assert_not_found, at, ev, key, member, open, put, request,
    session, stage, tenant, token, vote,
};

pub async fn sessions_of_another_tenant_are_not_found(s: &S) {
    let owner = tenant(s, "ta").await;
    tenant(s, "tb").await;
    let rec = session(s, &owner, "s1").await;
    assert_eq!(s.session("tb", "s1").await.unwrap(), None);
    // Whether these answer `Ok` or `NotFound` is not part of the contract; that the
    // session is untouched is.
    let _ = s.touch_session("tb", "s1", at(60)).await;
    let _ = s.delete_session("tb", "s1", ev("auth.logout", "tb")).await;
    let r = s
        .reauthenticate_session("tb", "s1", at(60), ev("auth.reauth", "tb"))
        .await;
    assert_not_found(r);
    assert_eq!(s.session("ta", "s1").await.unwrap(), Some(rec));
}

pub async fn keys_and_tokens_of_another_tenant_are_not_found(s: &S) {
    let owner = tenant(s, "ta").await;
    tenant(s, "tb").await;
    let k = key(s, &owner, "k1").await;
    let t = token(s, &k, "tok1", Some(1)).await;
    assert_eq!(s.key("tb", "k1").await.unwrap(), None);
    assert!(s.list_keys("tb", None, None, 10).await.unwrap().is_empty());
    assert_eq!(s.token("tb", "tok1").await.unwrap(), None);
    assert!(!s.use_token("tb", "tok1", at(1)).await.unwrap());
    let _ = s.touch_key("tb", "k1", at(5), None).await;
    assert_not_found(
        s.revoke_key("tb", "k1", at(5), ev("key.revoked", "tb"))
            .await,
    );
    assert_not_found(
        s.revoke_token("tb", "tok1", at(5), ev("token.revoked", "tb"))
            .await,
    );
    assert_eq!(s.key("ta", "k1").await.unwrap(), Some(k));
    assert_eq!(s.token("ta", "tok1").await.unwrap(), Some(t));
}

pub async fn secrets_of_another_tenant_are_not_found(s: &S) {
    let st = stage(s, "ta", Tier::Standard).await;
    tenant(s, "tb").await;
    let p = st.secret.path.clone();
    assert_eq!(s.secret("tb", &p).await.unwrap(), None);
    assert_eq!(s.secret_version("tb", &p, None).await.unwrap(), None);
    assert!(s.secret_versions("tb", &p).await.unwrap().is_empty());
    assert!(
        s.list_secrets("tb", &PathPrefix::root(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.current_kek("tb").await.unwrap(), None);
    assert!(s.keks("tb").await.unwrap().is_empty());
    let del = keyhold_vault::store::Deletion {
        tenant_id: "tb".into(),
        path: p.clone(),
        secret_id: st.secret.id.clone(),
        grant: None,
        voided: crate::fixtures::voided_event,
    };
    assert_not_found(s.delete_secret(del, ev("secret.delete", "tb")).await);
    crate::fixtures::kek(s, "tb").await;
    let theirs = put(s, "tb", p.as_str(), Tier::Standard).await;
    assert_ne!(
        theirs.id, st.secret.id,
        "the same path in another tenant is another secret"
    );
    assert_eq!(s.secret("ta", &p).await.unwrap(), Some(st.secret));
}

pub async fn approvals_of_another_tenant_are_not_found(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    let b_owner = tenant(s, "tb").await;
    open(
        s,
        &request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 1),
    )
    .await;
    assert_eq!(s.approval("tb", "a1").await.unwrap(), None);
    assert!(
        s.list_approvals("tb", None, None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(vote(s, &b_owner, "a1", at(30)).await);
    let r = s
        .deny_approval(
            "tb",
            "a1",
            &b_owner.id,
            "x".into(),
            at(31),
            ev("approval.denied", "tb"),
        )
        .await;
    assert_not_found(r);
    assert!(
        s.expire_approvals("tb", at(99_999), crate::approvals::expiry("tb"))
            .await
            .unwrap()
            .is_empty()
    );
    vote(s, &st.approver, "a1", at(40)).await.unwrap();
    let spent = s
        .consume_grant("tb", "a1", &st.secret.id, at(41), ev("secret.read", "tb"))
        .await;
    assert!(!spent.unwrap());
    assert!(
        s.consume_grant("ta", "a1", &st.secret.id, at(41), ev("secret.read", "ta"))
            .await
            .unwrap()
    );
    assert_eq!(
        s.eligible_approvers("tb", Tier::Sensitive, "nobody")
            .await
            .unwrap(),
        1
    );
}

pub async fn members_of_another_tenant_are_not_found(s: &S) {
    let a_owner = tenant(s, "ta").await;
    tenant(s, "tb").await;
    let m = member(s, "ta", "m1", Role::Admin).await;
    assert_eq!(s.user("tb", &m.id).await.unwrap(), None);
    assert_eq!(s.members("tb").await.unwrap().len(), 1);
    assert_not_found(
        s.set_role("tb", &m.id, Role::Member, ev("member.role", "tb"))
            .await,
    );
    assert_not_found(
        s.remove_member("tb", &m.id, at(5), ev("member.removed", "tb"))
            .await,
    );
    let e = ev("auth.password_changed", "tb");
    assert_not_found(
        s.set_password("tb", &a_owner.id, "h".into(), 1, None, e)
            .await,
    );
    assert_eq!(s.user("ta", &m.id).await.unwrap(), Some(m));
    assert_eq!(
        actions(s, "tb").await,
        ["account.created"],
        "refusals wrote nothing"
    );
}

pub async fn invitations_and_2fa_of_another_tenant_are_not_found(s: &S) {
    let owner = tenant(s, "ta").await;
    tenant(s, "tb").await;
    member(s, "ta", "m1", Role::Member).await;
    let inv = crate::fixtures::invitation("ta", "i2", "joe", Role::Member);
    s.create_invitation(inv, "hash-i2".into(), ev("member.invited", "ta"))
        .await
        .unwrap();
    assert_eq!(s.invitation("tb", "i2").await.unwrap(), None);
    assert!(
        s.pending_invitations("tb", at(2), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let r = s
        .revoke_invitation("tb", "i2", at(2), ev("member.invitation_revoked", "tb"))
        .await;
    assert_not_found(r);
    let stranger = crate::fixtures::user("tb", "joe", Role::Member);
    let r = s
        .accept_invitation("i2", stranger, at(2), ev("member.joined", "tb"))
        .await;
    assert_conflict(r, keyhold_vault::store::Conflict::InvitationSpent);
    crate::mfa::enable(s, &owner).await;
    let theirs = s.mfa_state("tb", &owner.id).await.unwrap();
    assert_eq!(
        (
            theirs.totp,
            theirs.backup_codes_remaining,
            theirs.locked_until
        ),
        (None, 0, None)
    );
}

pub async fn audit_of_another_tenant_is_not_seen(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    let mine = ev("secret.read", "ta").actor(ActorKind::User, "ta-owner");
    s.append_event(mine).await.unwrap();
    let q = AuditQuery::default();
    let b = AuditScope::Tenant("tb".into());
    let page = s.audit_page(&b, &q, None, 100).await.unwrap();
    assert_eq!(page.len(), 1);
    assert!(
        page.iter()
            .all(|e| e.action == "account.created" && e.at == crate::fixtures::t0())
    );
    assert_eq!(s.audit_after(&b, 0, 100).await.unwrap().len(), 1);
    let actor = AuditScope::Actor {
        tenant_id: "tb".into(),
        actor_id: "ta-owner".into(),
    };
    assert!(
        s.audit_page(&actor, &q, None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.audit_after(&actor, 0, 100).await.unwrap().is_empty());
    assert_eq!(s.audit_replay_floor(&actor, 0).await.unwrap(), 0);
}
