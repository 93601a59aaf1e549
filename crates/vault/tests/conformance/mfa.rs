//! `MfaStore`: enrollment refused while 2FA is on, a code or backup code spent once, the
//! lock after the policy's failures, bounded ticket attempts, and an attempt that fails
//! (a spent ticket, no event) changing nothing.

use chrono::Duration;
use keyhold_vault::store::event::NewEvent;
use keyhold_vault::store::mfa::{
    AttemptOutcome, LockoutPolicy, MfaEffect, MfaTicketRecord, Proof, SecondFactorAttempt,
    TotpRecord,
};
use keyhold_vault::store::{Conflict, SessionRecord, UserRecord};

use crate::fixtures::{S, actions, assert_conflict, at, ev, t0, tenant};

pub fn attempt(
    u: &UserRecord,
    proof: Proof,
    effect: MfaEffect,
    now_secs: i64,
) -> SecondFactorAttempt {
    SecondFactorAttempt {
        tenant_id: u.tenant_id.clone(),
        user_id: u.id.clone(),
        now: at(now_secs),
        proof,
        ticket: None,
        effect,
        events: vec![ev("mfa.proved", &u.tenant_id)],
        policy: LockoutPolicy {
            max_failures: 2,
            window: Duration::minutes(15),
            lock_for: Duration::minutes(15),
        },
        failure_event: ev("mfa.failed", &u.tenant_id),
        lock_event: ev("mfa.locked", &u.tenant_id),
        locked_event: ev("mfa.refused_locked", &u.tenant_id),
    }
}

pub fn totp(step: Option<u64>) -> Proof {
    Proof::Totp {
        enrollment_id: "e1".into(),
        confirmed: true,
        check: Box::new(move |last| match step {
            Some(st) if last.is_none_or(|l| st > l) => Ok(st),
            Some(_) => Err("replayed"),
            None => Err("invalid_code"),
        }),
    }
}

pub fn backup(code: &str) -> Proof {
    Proof::BackupCode {
        code_hash: format!("bc-{code}"),
    }
}

/// Store a pending TOTP enrollment `e1` for `u`.
pub async fn start_enrollment(s: &S, u: &UserRecord) {
    let rec = TotpRecord {
        id: "e1".into(),
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
}

/// Enroll and enable 2FA for `u`, with backup codes `bc-1`, `bc-2`.
pub async fn enable(s: &S, u: &UserRecord) {
    start_enrollment(s, u).await;
    let codes = vec!["bc-1".into(), "bc-2".into()];
    let mut a = attempt(
        u,
        totp(Some(100)),
        MfaEffect::Enable {
            backup_code_hashes: codes,
        },
        1,
    );
    if let Proof::Totp { confirmed, .. } = &mut a.proof {
        *confirmed = false;
    }
    assert_eq!(
        s.attempt_second_factor(a).await.unwrap(),
        AttemptOutcome::Proved
    );
}

/// The tenant `ta` whose owner has 2FA on.
pub async fn enabled(s: &S) -> UserRecord {
    let owner = tenant(s, "ta").await;
    enable(s, &owner).await;
    owner
}

pub async fn enrolling_with_2fa_on_is_mfa_already_enabled(s: &S) {
    let owner = enabled(s).await;
    assert!(s.user("ta", &owner.id).await.unwrap().unwrap().mfa_enabled);
    let st = s.mfa_state("ta", &owner.id).await.unwrap();
    let t = st.totp.clone().unwrap();
    assert_eq!(
        (t.confirmed_at, t.last_step, st.backup_codes_remaining),
        (Some(at(1)), Some(100), 2)
    );
    let rec = TotpRecord {
        id: "e2".into(),
        confirmed_at: None,
        last_step: None,
        ..t
    };
    let r = s.start_totp_enrollment(rec, ev("mfa.enroll", "ta")).await;
    assert_conflict(r, Conflict::MfaAlreadyEnabled);
    assert_eq!(
        s.mfa_state("ta", &owner.id).await.unwrap().totp.unwrap().id,
        "e1"
    );
    let replay = attempt(&owner, totp(Some(100)), MfaEffect::ProofOnly, 2);
    let out = s.attempt_second_factor(replay).await.unwrap();
    assert!(
        matches!(
            out,
            AttemptOutcome::Wrong {
                reason: "replayed",
                ..
            }
        ),
        "{out:?}"
    );
}

pub async fn backup_code_is_spent_once(s: &S) {
    let owner = enabled(s).await;
    let a = attempt(&owner, backup("1"), MfaEffect::ProofOnly, 2);
    assert_eq!(
        s.attempt_second_factor(a).await.unwrap(),
        AttemptOutcome::Proved
    );
    let a = attempt(&owner, backup("1"), MfaEffect::ProofOnly, 3);
    let out = s.attempt_second_factor(a).await.unwrap();
    assert!(matches!(
        out,
        AttemptOutcome::Wrong {
            reason: "invalid_backup_code",
            ..
        }
    ));
    assert_eq!(
        s.mfa_state("ta", &owner.id)
            .await
            .unwrap()
            .backup_codes_remaining,
        1
    );
}

async fn ticket(s: &S, u: &UserRecord, id: &str) {
    let rec = MfaTicketRecord {
        id: id.into(),
        tenant_id: u.tenant_id.clone(),
        user_id: u.id.clone(),
        created_at: t0(),
        expires_at: at(300),
        attempts: 0,
        used_at: None,
    };
    s.create_mfa_ticket(
        rec.clone(),
        format!("hash-{id}"),
        ev("auth.mfa_ticket", "ta"),
    )
    .await
    .unwrap();
    assert_eq!(
        s.mfa_ticket_by_hash(&format!("hash-{id}")).await.unwrap(),
        Some(rec)
    );
}

fn login(u: &UserRecord, ticket_id: &str, session_id: &str) -> MfaEffect {
    let session = SessionRecord {
        id: session_id.into(),
        tenant_id: u.tenant_id.clone(),
        user_id: u.id.clone(),
        created_at: at(2),
        last_seen_at: at(2),
        expires_at: at(86_400),
        authenticated_at: at(2),
    };
    MfaEffect::Login {
        ticket_id: ticket_id.into(),
        session,
        token_hash: format!("hash-{session_id}"),
    }
}

/// A login whose ticket was used meanwhile is `TicketSpent`, and the backup code offered
/// with it is not spent: the whole attempt rolls back, its event too.
pub async fn spent_ticket_is_ticket_spent_and_proof_unspent(s: &S) {
    let owner = enabled(s).await;
    ticket(s, &owner, "tk1").await;
    let a = attempt(&owner, backup("1"), login(&owner, "tk1", "s1"), 2);
    assert_eq!(
        s.attempt_second_factor(a).await.unwrap(),
        AttemptOutcome::Proved
    );
    assert!(s.session("ta", "s1").await.unwrap().is_some());
    assert!(
        s.mfa_ticket_by_hash("hash-tk1")
            .await
            .unwrap()
            .unwrap()
            .used_at
            .is_some()
    );
    let before = actions(s, "ta").await;
    let a = attempt(&owner, backup("2"), login(&owner, "tk1", "s2"), 3);
    assert_conflict(s.attempt_second_factor(a).await, Conflict::TicketSpent);
    assert_eq!(s.session("ta", "s2").await.unwrap(), None);
    assert_eq!(
        s.mfa_state("ta", &owner.id)
            .await
            .unwrap()
            .backup_codes_remaining,
        1
    );
    assert_eq!(actions(s, "ta").await, before);
}

/// A proved attempt that carries no audit event must not happen: refused, code unspent.
pub async fn attempt_without_event_changes_nothing(s: &S) {
    let owner = enabled(s).await;
    let mut a = attempt(&owner, backup("1"), MfaEffect::Disable, 2);
    a.events = Vec::<NewEvent>::new();
    assert!(s.attempt_second_factor(a).await.is_err());
    let st = s.mfa_state("ta", &owner.id).await.unwrap();
    assert_eq!(st.backup_codes_remaining, 2);
    assert!(st.totp.is_some());
    assert!(s.user("ta", &owner.id).await.unwrap().unwrap().mfa_enabled);
}

/// `max_failures = 2`: the third wrong code starts the lock; then nothing is checked.
pub async fn wrong_codes_lock_after_the_policy(s: &S) {
    let owner = enabled(s).await;
    for i in 0..2 {
        let a = attempt(&owner, totp(None), MfaEffect::ProofOnly, 10 + i);
        let out = s.attempt_second_factor(a).await.unwrap();
        assert_eq!(
            out,
            AttemptOutcome::Wrong {
                reason: "invalid_code",
                locked_until: None
            }
        );
    }
    let a = attempt(&owner, totp(None), MfaEffect::ProofOnly, 12);
    let until = at(12) + Duration::minutes(15);
    let out = s.attempt_second_factor(a).await.unwrap();
    assert_eq!(
        out,
        AttemptOutcome::Wrong {
            reason: "invalid_code",
            locked_until: Some(until)
        }
    );
    assert_eq!(
        s.mfa_state("ta", &owner.id).await.unwrap().locked_until,
        Some(until)
    );
    let a = attempt(&owner, totp(Some(200)), MfaEffect::ProofOnly, 13);
    assert_eq!(
        s.attempt_second_factor(a).await.unwrap(),
        AttemptOutcome::Locked(until)
    );
    let acts = actions(s, "ta").await;
    assert_eq!(
        acts[acts.len() - 3..],
        ["mfa.failed", "mfa.locked", "mfa.refused_locked"]
    );
}

pub async fn ticket_attempts_are_bounded(s: &S) {
    let owner = enabled(s).await;
    ticket(s, &owner, "tk1").await;
    let mut a = attempt(&owner, totp(None), login(&owner, "tk1", "s1"), 2);
    a.ticket = Some(("tk1".into(), 1));
    assert!(matches!(
        s.attempt_second_factor(a).await.unwrap(),
        AttemptOutcome::Wrong { .. }
    ));
    let mut a = attempt(&owner, totp(Some(300)), login(&owner, "tk1", "s1"), 3);
    a.ticket = Some(("tk1".into(), 1));
    assert_eq!(
        s.attempt_second_factor(a).await.unwrap(),
        AttemptOutcome::TicketGone
    );
    assert_eq!(
        s.mfa_ticket_by_hash("hash-tk1")
            .await
            .unwrap()
            .unwrap()
            .attempts,
        1
    );
    assert_eq!(s.session("ta", "s1").await.unwrap(), None);
}
