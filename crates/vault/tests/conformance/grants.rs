//! Grants: a read grant spent exactly once (also under parallel reads), a write or delete
//! grant spent in the write's transaction (`GrantGone` once spent), and grants voided by a
//! raised tier, a delete, or a voter who lost the right to approve.

use keyhold_core::api::{ApprovalOperation, ApprovalStatus, Role};
use keyhold_core::tier::Tier;
use keyhold_vault::store::{Conflict, Deletion, GrantUse};

use crate::fixtures::{
    S, actions, assert_conflict, at, ev, ev_at, open, request, sealer, stage, voided_event, vote,
    write,
};

fn count(acts: &[String], action: &str) -> usize {
    acts.iter().filter(|a| *a == action).count()
}

async fn read(s: &S, id: &str, secret_id: &str, secs: i64) -> bool {
    s.consume_grant("ta", id, secret_id, at(secs), ev("secret.read", "ta"))
        .await
        .unwrap()
}

pub async fn read_grant_is_spent_once(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    open(
        s,
        &request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 1),
    )
    .await;
    assert!(!read(s, "a1", &st.secret.id, 30).await, "not approved yet");
    vote(s, &st.approver, "a1", at(40)).await.unwrap();
    assert!(
        !read(s, "a1", "another-secret", 41).await,
        "for this secret only"
    );
    assert!(read(s, "a1", &st.secret.id, 42).await);
    assert!(!read(s, "a1", &st.secret.id, 43).await);
    let r = s.approval("ta", "a1").await.unwrap().unwrap().record;
    assert_eq!((r.status, r.used_at), (ApprovalStatus::Used, Some(at(42))));
    assert_eq!(
        count(&actions(s, "ta").await, "secret.read"),
        1,
        "only the spending read is audited"
    );
}

pub async fn parallel_reads_spend_a_grant_once(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    open(
        s,
        &request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 1),
    )
    .await;
    vote(s, &st.approver, "a1", at(40)).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (s, id) = (s.clone(), st.secret.id.clone());
            tokio::spawn(async move { read(&s, "a1", &id, 50).await })
        })
        .collect();
    let mut spent = 0;
    for t in tasks {
        spent += usize::from(t.await.unwrap());
    }
    assert_eq!(spent, 1);
    assert_eq!(count(&actions(s, "ta").await, "secret.read"), 1);
}

/// Lowering the tier spends the `lower_tier` grant with the write; a second write with
/// the spent grant is `GrantGone` and writes no version.
pub async fn spent_write_grant_is_grant_gone_and_writes_nothing(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    open(
        s,
        &request(
            "a1",
            &st.secret,
            &st.key.id,
            ApprovalOperation::LowerTier,
            1,
        ),
    )
    .await;
    vote(s, &st.approver, "a1", at(40)).await.unwrap();
    let grant = GrantUse {
        approval_id: "a1".into(),
        operation: ApprovalOperation::LowerTier,
    };
    let mut w = write(
        "ta",
        "production/db/PASSWORD",
        Some(Tier::Standard),
        Some((st.secret.id.clone(), Tier::Sensitive)),
    );
    w.grant = Some(grant.clone());
    w.now = at(50);
    let v2 = s
        .put_secret(w, sealer(), ev("secret.write", "ta"))
        .await
        .unwrap();
    assert_eq!((v2.current_version, v2.tier), (2, Tier::Standard));
    assert_eq!(
        s.approval("ta", "a1").await.unwrap().unwrap().record.status,
        ApprovalStatus::Used
    );
    let before = actions(s, "ta").await;
    let mut again = write(
        "ta",
        "production/db/PASSWORD",
        Some(Tier::Standard),
        Some((st.secret.id.clone(), Tier::Standard)),
    );
    again.grant = Some(grant);
    again.now = at(51);
    assert_conflict(
        s.put_secret(again, sealer(), ev("secret.write", "ta"))
            .await,
        Conflict::GrantGone,
    );
    let cur = s.secret("ta", &st.secret.path).await.unwrap().unwrap();
    assert_eq!(cur.current_version, 2);
    assert_eq!(actions(s, "ta").await, before);
}

/// Raising the tier voids an approved, unused grant (with its event): it reads nothing.
pub async fn raised_tier_voids_the_grant(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    open(
        s,
        &request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 1),
    )
    .await;
    vote(s, &st.approver, "a1", at(40)).await.unwrap();
    let w = write(
        "ta",
        "production/db/PASSWORD",
        Some(Tier::Critical),
        Some((st.secret.id.clone(), Tier::Sensitive)),
    );
    s.put_secret(w, sealer(), ev("secret.write", "ta"))
        .await
        .unwrap();
    let r = s.approval("ta", "a1").await.unwrap().unwrap().record;
    assert_eq!(
        (r.status, r.void_reason.as_deref()),
        (ApprovalStatus::Voided, Some("tier_raised"))
    );
    assert!(!read(s, "a1", &st.secret.id, 50).await);
    let acts = actions(s, "ta").await;
    assert_eq!(acts[acts.len() - 2..], ["secret.write", "approval.voided"]);
    assert!(s.audit_verify("ta").await.unwrap().ok);
}

fn deletion(st: &crate::fixtures::Stage, grant: Option<&str>) -> Deletion {
    Deletion {
        tenant_id: "ta".into(),
        path: st.secret.path.clone(),
        secret_id: st.secret.id.clone(),
        grant: grant.map(str::to_owned),
        voided: voided_event,
    }
}

/// A delete spends its own grant and voids every other open request on the secret; with
/// a grant that is not approved it is `GrantGone` and deletes nothing.
pub async fn delete_voids_other_requests(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    open(
        s,
        &request("del", &st.secret, &st.key.id, ApprovalOperation::Delete, 1),
    )
    .await;
    open(
        s,
        &request("rd", &st.secret, &st.key.id, ApprovalOperation::Read, 1),
    )
    .await;
    let r = s
        .delete_secret(deletion(&st, Some("del")), ev_at("secret.delete", "ta", 30))
        .await;
    assert_conflict(r, Conflict::GrantGone);
    assert!(s.secret("ta", &st.secret.path).await.unwrap().is_some());
    vote(s, &st.approver, "del", at(40)).await.unwrap();
    s.delete_secret(deletion(&st, Some("del")), ev_at("secret.delete", "ta", 50))
        .await
        .unwrap();
    let status =
        |id: &'static str| async move { s.approval("ta", id).await.unwrap().unwrap().record };
    assert_eq!(status("del").await.status, ApprovalStatus::Used);
    let rd = status("rd").await;
    assert_eq!(
        (rd.status, rd.void_reason.as_deref()),
        (ApprovalStatus::Voided, Some("secret_deleted"))
    );
    let acts = actions(s, "ta").await;
    assert_eq!(acts[acts.len() - 2..], ["secret.delete", "approval.voided"]);
}

/// A voter demoted below approver no longer counts: the approved request waits again and
/// its grant reads nothing.
pub async fn demoted_voter_sends_the_request_back(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    open(
        s,
        &request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 1),
    )
    .await;
    vote(s, &st.approver, "a1", at(40)).await.unwrap();
    s.set_role("ta", &st.approver.id, Role::Member, ev("member.role", "ta"))
        .await
        .unwrap();
    let view = s.approval("ta", "a1").await.unwrap().unwrap();
    assert_eq!(view.record.status, ApprovalStatus::Pending);
    assert_eq!(
        (view.record.available_at, view.record.grant_expires_at),
        (None, None)
    );
    assert!(view.votes.is_empty(), "the demoted vote no longer shows");
    assert!(!read(s, "a1", &st.secret.id, 50).await);
    let again = vote(s, &st.admin, "a1", at(60)).await.unwrap();
    assert_eq!(again.status, ApprovalStatus::Approved);
    assert!(read(s, "a1", &st.secret.id, 61).await);
}
