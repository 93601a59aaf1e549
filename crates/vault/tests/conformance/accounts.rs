//! `AccountStore`: accounts, the email that is unique across tenants, passwords that end
//! other sessions, and the email link that verifies once.

use keyhold_core::api::Role;
use keyhold_vault::store::{Conflict, EmailTokenRecord, TenantRecord};

use crate::fixtures::{
    S, actions, assert_conflict, assert_not_found, at, ev, session, t0, tenant, user,
};

pub async fn account_round_trips(s: &S) {
    let owner = tenant(s, "ta").await;
    assert_eq!(s.user("ta", &owner.id).await.unwrap(), Some(owner.clone()));
    assert_eq!(
        s.user_by_email(&owner.email).await.unwrap(),
        Some(owner.clone())
    );
    let t = s.tenant("ta").await.unwrap().unwrap();
    assert_eq!(
        (t.id.as_str(), t.name.as_str(), t.created_at),
        ("ta", "Tenant ta", t0())
    );
    assert_eq!(s.user_by_email("nobody@ta.test").await.unwrap(), None);
    assert_eq!(actions(s, "ta").await, ["account.created"]);
}

/// The email is unique in every tenant; the refused sign-up leaves no tenant, no user and
/// no event behind (the tenant insert and the event roll back with the user's).
pub async fn duplicate_email_is_email_taken_and_creates_nothing(s: &S) {
    let owner = tenant(s, "ta").await;
    let mut dup = user("tb", "tb-owner", Role::Owner);
    dup.email = owner.email.clone();
    let t = TenantRecord {
        id: "tb".into(),
        name: "Tenant tb".into(),
        created_at: t0(),
    };
    let r = s.create_account(t, dup, ev("account.created", "tb")).await;
    assert_conflict(r, Conflict::EmailTaken);
    assert_eq!(s.tenant("tb").await.unwrap(), None);
    assert_eq!(s.user("tb", "tb-owner").await.unwrap(), None);
    assert!(actions(s, "tb").await.is_empty());
    assert_eq!(
        s.user_by_email(&owner.email).await.unwrap().unwrap().id,
        owner.id
    );
}

pub async fn set_password_ends_the_other_sessions(s: &S) {
    let owner = tenant(s, "ta").await;
    session(s, &owner, "s1").await;
    session(s, &owner, "s2").await;
    let e = ev("auth.password_changed", "ta");
    s.set_password("ta", &owner.id, "$argon2id$new".into(), 3, Some("s1"), e)
        .await
        .unwrap();
    let u = s.user("ta", &owner.id).await.unwrap().unwrap();
    assert_eq!(
        (u.password_hash.as_str(), u.password_zxcvbn),
        ("$argon2id$new", 3)
    );
    assert!(s.session("ta", "s1").await.unwrap().is_some());
    assert_eq!(s.session("ta", "s2").await.unwrap(), None);
    let e = ev("auth.password_changed", "ta");
    s.set_password("ta", &owner.id, "$argon2id$x".into(), 3, None, e)
        .await
        .unwrap();
    assert_eq!(s.session("ta", "s1").await.unwrap(), None);
    let e = ev("auth.password_changed", "tb");
    assert_not_found(
        s.set_password("tb", &owner.id, "h".into(), 3, None, e)
            .await,
    );
}

/// The verification link works once; the second use is `LinkUsed` and writes nothing.
pub async fn email_link_is_used_once(s: &S) {
    let owner = tenant(s, "ta").await;
    let token = EmailTokenRecord {
        id: "et1".into(),
        tenant_id: "ta".into(),
        user_id: owner.id.clone(),
        purpose: "verify_email".into(),
        expires_at: at(3600),
        used_at: None,
    };
    s.create_email_token(token.clone(), "hash-et1".into(), ev("email.sent", "ta"))
        .await
        .unwrap();
    assert_eq!(
        s.email_token_by_hash("hash-et1").await.unwrap(),
        Some(token.clone())
    );
    s.consume_email_verification(&token, at(5), ev("email.verified", "ta"))
        .await
        .unwrap();
    let used = s.email_token_by_hash("hash-et1").await.unwrap().unwrap();
    assert_eq!(used.used_at, Some(at(5)));
    let u = s.user("ta", &owner.id).await.unwrap().unwrap();
    assert_eq!(u.email_verified_at, Some(at(5)));
    let again = s
        .consume_email_verification(&token, at(6), ev("email.verified", "ta"))
        .await;
    assert_conflict(again, Conflict::LinkUsed);
    let n = actions(s, "ta")
        .await
        .iter()
        .filter(|a| *a == "email.verified")
        .count();
    assert_eq!(n, 1, "the refused second use appends no event");
}
