//! `RecoveryStore` and the recovery effects of a second-factor attempt: one open reset
//! link at a time, a link spent once with every session ending, a member's 2FA turned off
//! with their sessions, and nothing of it without the proof.

use keyhold_core::api::Role;
use keyhold_vault::store::mfa::{AttemptOutcome, MfaEffect, Proof, TotpRecord};
use keyhold_vault::store::recovery::RESET_PASSWORD;
use keyhold_vault::store::{Conflict, EmailTokenRecord, UserRecord};

use crate::fixtures::{
    S, actions, assert_conflict, assert_not_found, at, ev, member, session, t0, tenant,
};
use crate::mfa::{attempt, enabled, totp};

/// A reset link `id` of `u` expiring `expires` seconds after `t0`.
fn link(u: &UserRecord, id: &str, expires: i64) -> EmailTokenRecord {
    EmailTokenRecord {
        id: id.to_owned(),
        tenant_id: u.tenant_id.clone(),
        user_id: u.id.clone(),
        purpose: RESET_PASSWORD.to_owned(),
        expires_at: at(expires),
        used_at: None,
    }
}

async fn store_link(s: &S, l: &EmailTokenRecord, open_after: i64) -> Result<(), Conflict> {
    let hash = format!("hash-{}", l.id);
    match s
        .create_password_reset(
            l.clone(),
            hash,
            at(open_after),
            ev("password.reset_requested", &l.tenant_id),
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(keyhold_vault::store::StoreError::Conflict(c)) => Err(c),
        Err(e) => panic!("{e:?}"),
    }
}

fn count(actions: &[String], action: &str) -> usize {
    actions.iter().filter(|a| *a == action).count()
}

/// While a link expiring after `open_after` is open, no other is stored; an older, used
/// or another user's link does not count.
pub async fn one_recent_reset_link_at_a_time(s: &S) {
    let owner = tenant(s, "ta").await;
    let other = member(s, "ta", "ta-m", Role::Member).await;
    store_link(s, &link(&owner, "r1", 3600), 2700)
        .await
        .unwrap();
    assert_eq!(
        s.email_token_by_hash("hash-r1").await.unwrap(),
        Some(link(&owner, "r1", 3600))
    );
    // r1 expires after 2700: a new link is refused, with no event and no row.
    assert_eq!(
        store_link(s, &link(&owner, "r2", 3700), 2700).await,
        Err(Conflict::ResetRecentlySent)
    );
    assert_eq!(s.email_token_by_hash("hash-r2").await.unwrap(), None);
    assert_eq!(
        count(&actions(s, "ta").await, "password.reset_requested"),
        1
    );
    // Another user of the tenant is not held back by it.
    store_link(s, &link(&other, "r3", 3600), 2700)
        .await
        .unwrap();
    // Once r1 expires before `open_after`, a new one is stored.
    store_link(s, &link(&owner, "r4", 5400), 3600)
        .await
        .unwrap();
    assert_eq!(
        count(&actions(s, "ta").await, "password.reset_requested"),
        3
    );
}

/// A link sets the password once, ends every session and ticket, and voids the user's
/// other links; a used, expired, foreign or verification link is `LinkUsed`.
pub async fn reset_link_is_spent_once_and_ends_every_session(s: &S) {
    let owner = tenant(s, "ta").await;
    session(s, &owner, "s1").await;
    session(s, &owner, "s2").await;
    let (r1, r2) = (link(&owner, "r1", 3600), link(&owner, "r2", 3600));
    store_link(s, &r1, 0).await.unwrap();
    store_link(s, &r2, 3600).await.unwrap();
    let e = ev("password.reset", "ta");
    s.reset_password(&r1, "$argon2id$reset".into(), 4, at(60), e)
        .await
        .unwrap();
    let u = s.user("ta", &owner.id).await.unwrap().unwrap();
    assert_eq!(u.password_hash, "$argon2id$reset");
    assert_eq!(s.session("ta", "s1").await.unwrap(), None);
    assert_eq!(s.session("ta", "s2").await.unwrap(), None);
    for h in ["hash-r1", "hash-r2"] {
        let used = s.email_token_by_hash(h).await.unwrap().unwrap();
        assert_eq!(used.used_at, Some(at(60)), "{h}");
    }
    for l in [&r1, &r2] {
        let again = s
            .reset_password(l, "h".into(), 4, at(61), ev("password.reset", "ta"))
            .await;
        assert_conflict(again, Conflict::LinkUsed);
    }
    // Expired, and a verification link (another purpose), are refused alike.
    let r3 = link(&owner, "r3", 3600);
    store_link(s, &r3, 3600).await.unwrap();
    let late = s
        .reset_password(&r3, "h".into(), 4, at(3600), ev("password.reset", "ta"))
        .await;
    assert_conflict(late, Conflict::LinkUsed);
    let mut verify = link(&owner, "v1", 3600);
    verify.purpose = "verify_email".into();
    s.create_email_token(verify.clone(), "hash-v1".into(), ev("email.sent", "ta"))
        .await
        .unwrap();
    let wrong = s
        .reset_password(&verify, "h".into(), 4, at(70), ev("password.reset", "ta"))
        .await;
    assert_conflict(wrong, Conflict::LinkUsed);
    assert_eq!(
        s.user("ta", &owner.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$reset"
    );
    assert_eq!(count(&actions(s, "ta").await, "password.reset"), 1);
}

/// Enroll and enable 2FA for `u` with enrollment `e-{id}` and backup codes.
async fn enable_as(s: &S, u: &UserRecord) {
    let id = format!("e-{}", u.id);
    let rec = TotpRecord {
        id: id.clone(),
        tenant_id: u.tenant_id.clone(),
        user_id: u.id.clone(),
        secret_sealed: b"sealed".to_vec(),
        created_at: t0(),
        confirmed_at: None,
        last_step: None,
    };
    s.start_totp_enrollment(rec, ev("mfa.enroll", &u.tenant_id))
        .await
        .unwrap();
    let proof = Proof::Totp {
        enrollment_id: id,
        confirmed: false,
        check: Box::new(|_| Ok(50)),
    };
    let effect = MfaEffect::Enable {
        backup_code_hashes: vec![format!("bc-{}", u.id)],
    };
    let out = s
        .attempt_second_factor(attempt(u, proof, effect, 1))
        .await
        .unwrap();
    assert_eq!(out, AttemptOutcome::Proved);
}

/// The operator's reset: 2FA off with everything of it gone, sessions ended; only in the
/// user's own tenant.
pub async fn reset_mfa_turns_2fa_off_and_ends_sessions(s: &S) {
    let owner = enabled(s).await;
    session(s, &owner, "s1").await;
    let e = ev("mfa.reset", "tb");
    assert_not_found(s.reset_mfa("tb", &owner.id, e).await);
    s.reset_mfa("ta", &owner.id, ev("mfa.reset", "ta"))
        .await
        .unwrap();
    assert!(!s.user("ta", &owner.id).await.unwrap().unwrap().mfa_enabled);
    let st = s.mfa_state("ta", &owner.id).await.unwrap();
    assert_eq!(
        (st.totp, st.backup_codes_remaining, st.locked_until),
        (None, 0, None)
    );
    assert_eq!(s.session("ta", "s1").await.unwrap(), None);
    assert_eq!(count(&actions(s, "ta").await, "mfa.reset"), 1);
}

/// The effects run only after a proved code: a wrong one changes neither the password
/// (the link stays open) nor the member's 2FA.
pub async fn recovery_effects_need_the_proof(s: &S) {
    let owner = enabled(s).await;
    let m = member(s, "ta", "ta-m", Role::Member).await;
    enable_as(s, &m).await;
    session(s, &m, "sm").await;
    session(s, &owner, "so").await;

    let r1 = link(&owner, "r1", 3600);
    store_link(s, &r1, 0).await.unwrap();
    let reset = || MfaEffect::ResetPassword {
        token: r1.clone(),
        password_hash: "$argon2id$reset".into(),
        zxcvbn: 4,
    };
    let out = s
        .attempt_second_factor(attempt(&owner, totp(None), reset(), 10))
        .await
        .unwrap();
    assert!(matches!(out, AttemptOutcome::Wrong { .. }), "{out:?}");
    assert_eq!(
        s.email_token_by_hash("hash-r1")
            .await
            .unwrap()
            .unwrap()
            .used_at,
        None
    );
    assert!(s.session("ta", "so").await.unwrap().is_some());
    let out = s
        .attempt_second_factor(attempt(&owner, totp(Some(200)), reset(), 11))
        .await
        .unwrap();
    assert_eq!(out, AttemptOutcome::Proved);
    assert_eq!(
        s.user("ta", &owner.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$reset"
    );
    assert_eq!(s.session("ta", "so").await.unwrap(), None);
    // The spent link with a fresh code: `LinkUsed`, and the code stays unspent.
    let again = s
        .attempt_second_factor(attempt(&owner, totp(Some(201)), reset(), 12))
        .await;
    assert_conflict(again, Conflict::LinkUsed);
    assert_eq!(
        s.mfa_state("ta", &owner.id)
            .await
            .unwrap()
            .totp
            .unwrap()
            .last_step,
        Some(200)
    );

    let member_reset = || MfaEffect::ResetMember {
        user_id: m.id.clone(),
    };
    let out = s
        .attempt_second_factor(attempt(&owner, totp(None), member_reset(), 13))
        .await
        .unwrap();
    assert!(matches!(out, AttemptOutcome::Wrong { .. }), "{out:?}");
    assert!(s.user("ta", &m.id).await.unwrap().unwrap().mfa_enabled);
    let out = s
        .attempt_second_factor(attempt(&owner, totp(Some(202)), member_reset(), 14))
        .await
        .unwrap();
    assert_eq!(out, AttemptOutcome::Proved);
    assert!(!s.user("ta", &m.id).await.unwrap().unwrap().mfa_enabled);
    assert_eq!(s.mfa_state("ta", &m.id).await.unwrap().totp, None);
    assert_eq!(s.session("ta", "sm").await.unwrap(), None);
    // The prover's own 2FA stays on.
    assert!(s.user("ta", &owner.id).await.unwrap().unwrap().mfa_enabled);
}
