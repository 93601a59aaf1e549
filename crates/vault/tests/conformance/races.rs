//! Races: what the traits promise when calls arrive together, as they will from several
//! request handlers (and, with a shared database, from several replicas). SQLite's single
//! writer serialises them; another backend must get the same answers from its locks.

use std::future::Future;

use keyhold_core::api::{ApprovalOperation, Role};
use keyhold_core::tier::Tier;
use keyhold_vault::store::mfa::{AttemptOutcome, MfaEffect};
use keyhold_vault::store::{Conflict, StoreError, TenantRecord};

use crate::fixtures::{S, actions, at, ev, member, open, request, stage, t0, tenant, user, vote};
use crate::mfa::{attempt, backup, enabled, totp};

/// Run `n` copies of `f` at once, each on its own task; their answers in task order.
pub async fn together<T, F, Fut>(n: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Ten sign-ups with one email at once: one account, nine `EmailTaken`.
pub async fn parallel_sign_ups_with_one_email_make_one_account(s: &S) {
    let answers = together(10, |i| {
        let s = s.clone();
        async move {
            let t = format!("t{i}");
            let mut u = user(&t, &format!("{t}-owner"), Role::Owner);
            u.email = "same@example.test".into();
            let rec = TenantRecord {
                id: t.clone(),
                name: t.clone(),
                created_at: t0(),
            };
            s.create_account(rec, u, ev("account.created", &t)).await
        }
    })
    .await;
    let ok = answers.iter().filter(|r| r.is_ok()).count();
    let taken = answers
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict(Conflict::EmailTaken))))
        .count();
    assert_eq!((ok, taken), (1, 9));
}

/// Ten identical requests at once: one is inserted, every call gets that one.
pub async fn parallel_requests_open_one(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    let answers = together(10, |i| {
        let (s, sec, key) = (s.clone(), st.secret.clone(), st.key.id.clone());
        async move {
            let r = request(&format!("a{i}"), &sec, &key, ApprovalOperation::Read, 1);
            let expired = crate::approvals::expiry("ta");
            s.open_approval(r, expired, ev("approval.requested", "ta"))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(answers.iter().filter(|(_, inserted)| *inserted).count(), 1);
    let first = &answers[0].0.id;
    assert!(answers.iter().all(|(r, _)| &r.id == first));
    assert_eq!(
        s.list_approvals("ta", None, None, None, 50)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// One person's vote sent ten times at once counts once.
pub async fn parallel_votes_of_one_person_count_once(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    open(
        s,
        &request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 2),
    )
    .await;
    let answers = together(10, |_| {
        let (s, voter) = (s.clone(), st.approver.clone());
        async move { vote(&s, &voter, "a1", crate::fixtures::at(40)).await }
    })
    .await;
    let ok = answers.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{answers:?}");
    assert_eq!(
        s.approval("ta", "a1").await.unwrap().unwrap().votes.len(),
        1
    );
}

/// One backup code offered ten times at once proves once.
pub async fn parallel_attempts_with_one_code_prove_once(s: &S) {
    let owner = enabled(s).await;
    let answers = together(10, |_| {
        let (s, owner) = (s.clone(), owner.clone());
        async move {
            let a = attempt(&owner, backup("1"), MfaEffect::ProofOnly, 5);
            s.attempt_second_factor(a).await.unwrap()
        }
    })
    .await;
    let proved = answers
        .iter()
        .filter(|o| **o == AttemptOutcome::Proved)
        .count();
    assert_eq!(proved, 1, "{answers:?}");
    assert_eq!(
        s.mfa_state("ta", &owner.id)
            .await
            .unwrap()
            .backup_codes_remaining,
        1
    );
}

/// Twenty wrong codes at once cannot outrun the lock: with `max_failures = 2`, three are
/// judged wrong (the third starting the lock, once) and the rest find the account locked.
pub async fn parallel_wrong_codes_cannot_outrun_the_lock(s: &S) {
    let owner = enabled(s).await;
    let answers = together(20, |_| {
        let (s, owner) = (s.clone(), owner.clone());
        async move {
            let a = attempt(&owner, totp(None), MfaEffect::ProofOnly, 5);
            s.attempt_second_factor(a).await.unwrap()
        }
    })
    .await;
    let wrong = answers
        .iter()
        .filter(|o| matches!(o, AttemptOutcome::Wrong { .. }))
        .count();
    let locks = answers
        .iter()
        .filter(|o| {
            matches!(
                o,
                AttemptOutcome::Wrong {
                    locked_until: Some(_),
                    ..
                }
            )
        })
        .count();
    let locked = answers
        .iter()
        .filter(|o| matches!(o, AttemptOutcome::Locked(_)))
        .count();
    assert_eq!((wrong, locks, locked), (3, 1, 17), "{answers:?}");
    let acts = actions(s, "ta").await;
    assert_eq!(acts.iter().filter(|a| *a == "mfa.locked").count(), 1);
}

/// Appends from many tasks into two chains keep both chains whole.
pub async fn parallel_appends_keep_every_chain_whole(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    together(40, |i| {
        let s = s.clone();
        async move {
            let t = if i % 2 == 0 { "ta" } else { "tb" };
            s.append_event(ev("secret.read", t)).await.unwrap();
        }
    })
    .await;
    for t in ["ta", "tb"] {
        let v = s.audit_verify(t).await.unwrap();
        assert_eq!((v.ok, v.checked), (true, 21));
    }
}

/// A tenant's two owners demoted and removed at once, each by four calls: whichever change
/// lands first, the other owner stays, and every call aimed at it is `LastOwner` (the last
/// owner check cannot be outrun by a change in flight).
pub async fn parallel_demotions_and_removals_keep_an_owner(s: &S) {
    let a = tenant(s, "ta").await;
    let b = member(s, "ta", "b", Role::Owner).await;
    let answers = together(8, |i| {
        let s = s.clone();
        let who = if i % 2 == 0 {
            a.id.clone()
        } else {
            b.id.clone()
        };
        async move {
            if i < 4 {
                s.set_role("ta", &who, Role::Member, ev("member.role", "ta"))
                    .await
            } else {
                s.remove_member("ta", &who, at(5), ev("member.removed", "ta"))
                    .await
            }
        }
    })
    .await;
    let owners = s.members("ta").await.unwrap();
    let owners = owners.iter().filter(|m| m.role == Role::Owner).count();
    let last = answers
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict(Conflict::LastOwner))))
        .count();
    assert_eq!((owners, last), (1, 4), "{answers:?}");
}
