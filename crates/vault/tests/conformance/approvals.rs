//! `ApprovalStore`: one open request per requester, the quorum and its delay, the
//! `AlreadyVoted`, `NotPending` and `NotOpen` conflicts, expiry, listing and who counts as
//! an approver.

use keyhold_core::api::{ApprovalOperation, ApprovalStatus, Role};
use keyhold_core::tier::Tier;
use keyhold_vault::store::{Conflict, ExpiryEvent};

use crate::fixtures::{
    S, actions, assert_conflict, assert_not_found, at, ev, open, request, stage, vote,
};

pub fn expiry(t: &str) -> ExpiryEvent {
    let t = t.to_owned();
    Box::new(move |_| crate::fixtures::ev("approval.expired", &t))
}

/// Asking again for the same thing returns the open request, not a second one.
pub async fn open_request_is_reused(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    let r = request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 1);
    open(s, &r).await;
    let again = request("a2", &st.secret, &st.key.id, ApprovalOperation::Read, 1);
    let (found, inserted) = s
        .open_approval(again, expiry("ta"), ev("approval.requested", "ta"))
        .await
        .unwrap();
    assert_eq!((found, inserted), (r.clone(), false));
    let view = s.approval("ta", "a1").await.unwrap().unwrap();
    assert_eq!(view.record, r);
    assert_eq!(
        (view.key_name.as_deref(), view.owner.id.as_str()),
        (Some("key ta-k1"), "ta-owner")
    );
    assert_eq!(s.approval("ta", "a2").await.unwrap(), None);
    let n = actions(s, "ta")
        .await
        .iter()
        .filter(|a| *a == "approval.requested")
        .count();
    assert_eq!(n, 1);
}

/// Two votes meet a quorum of two: approved, its grant opening after the delay and
/// lasting its TTL from then.
pub async fn quorum_approves_after_the_delay(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    let mut r = request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 2);
    r.delay_secs = 30;
    open(s, &r).await;
    let one = vote(s, &st.approver, "a1", at(40)).await.unwrap();
    assert_eq!(one.status, ApprovalStatus::Pending);
    let two = vote(s, &st.admin, "a1", at(50)).await.unwrap();
    assert_eq!(two.status, ApprovalStatus::Approved);
    assert_eq!(
        (two.decided_at, two.available_at),
        (Some(at(50)), Some(at(80)))
    );
    assert_eq!(two.grant_expires_at, Some(at(680)));
    let view = s.approval("ta", "a1").await.unwrap().unwrap();
    let voters: Vec<_> = view
        .votes
        .iter()
        .map(|v| (v.user.id.as_str(), v.at))
        .collect();
    assert_eq!(voters, [("ta-approver", at(40)), ("ta-admin", at(50))]);
    assert_eq!(view.votes[0].comment.as_deref(), Some("ok"));
}

pub async fn second_vote_is_already_voted(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    open(
        s,
        &request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 2),
    )
    .await;
    vote(s, &st.approver, "a1", at(40)).await.unwrap();
    let before = actions(s, "ta").await;
    assert_conflict(
        vote(s, &st.approver, "a1", at(41)).await,
        Conflict::AlreadyVoted,
    );
    assert_eq!(actions(s, "ta").await, before);
    assert_eq!(
        s.approval("ta", "a1").await.unwrap().unwrap().votes.len(),
        1
    );
    assert_not_found(vote(s, &st.approver, "nope", at(41)).await);
}

/// A vote on a denied, approved or expired request is `NotPending`.
pub async fn vote_on_a_decided_request_is_not_pending(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    open(
        s,
        &request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 1),
    )
    .await;
    vote(s, &st.approver, "a1", at(40)).await.unwrap();
    assert_conflict(vote(s, &st.admin, "a1", at(41)).await, Conflict::NotPending);
    let mut late = request("a2", &st.secret, &st.key.id, ApprovalOperation::Delete, 1);
    late.expires_at = at(100);
    open(s, &late).await;
    assert_conflict(
        vote(s, &st.admin, "a2", at(100)).await,
        Conflict::NotPending,
    );
    open(
        s,
        &request(
            "a3",
            &st.secret,
            &st.key.id,
            ApprovalOperation::LowerTier,
            1,
        ),
    )
    .await;
    s.deny_approval(
        "ta",
        "a3",
        &st.owner.id,
        "no".into(),
        at(42),
        ev("approval.denied", "ta"),
    )
    .await
    .unwrap();
    assert_conflict(vote(s, &st.admin, "a3", at(43)).await, Conflict::NotPending);
}

/// Deny works on a pending request and vetoes an approved, unused one; a decided one is
/// `NotOpen`.
pub async fn deny_of_a_decided_request_is_not_open(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    open(
        s,
        &request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 1),
    )
    .await;
    vote(s, &st.approver, "a1", at(40)).await.unwrap();
    let denied = s
        .deny_approval(
            "ta",
            "a1",
            &st.owner.id,
            "veto".into(),
            at(41),
            ev("approval.denied", "ta"),
        )
        .await
        .unwrap();
    assert_eq!(denied.status, ApprovalStatus::Denied);
    assert_eq!(
        (denied.denied_by.as_deref(), denied.deny_reason.as_deref()),
        (Some("ta-owner"), Some("veto"))
    );
    let view = s.approval("ta", "a1").await.unwrap().unwrap();
    assert_eq!(view.denied_by.map(|p| p.id), Some("ta-owner".to_owned()));
    let before = actions(s, "ta").await;
    let again = s
        .deny_approval(
            "ta",
            "a1",
            &st.owner.id,
            "x".into(),
            at(42),
            ev("approval.denied", "ta"),
        )
        .await;
    assert_conflict(again, Conflict::NotOpen);
    assert_eq!(actions(s, "ta").await, before);
    let r = s
        .deny_approval(
            "ta",
            "nope",
            &st.owner.id,
            "x".into(),
            at(42),
            ev("approval.denied", "ta"),
        )
        .await;
    assert_not_found(r);
}

/// Pending past `expires_at` and approved past `grant_expires_at` expire, one event each.
pub async fn due_requests_expire_with_events(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    let mut r1 = request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 1);
    r1.expires_at = at(100);
    open(s, &r1).await;
    open(
        s,
        &request("a2", &st.secret, &st.key.id, ApprovalOperation::Delete, 1),
    )
    .await;
    vote(s, &st.approver, "a2", at(30)).await.unwrap();
    open(
        s,
        &request(
            "a3",
            &st.secret,
            &st.key.id,
            ApprovalOperation::LowerTier,
            1,
        ),
    )
    .await;
    assert!(
        s.expire_approvals("ta", at(99), expiry("ta"))
            .await
            .unwrap()
            .is_empty()
    );
    let done = s
        .expire_approvals("ta", at(630), expiry("ta"))
        .await
        .unwrap();
    let mut ids: Vec<_> = done.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["a1", "a2"]);
    assert!(done.iter().all(|r| r.status == ApprovalStatus::Expired));
    let a3 = s.approval("ta", "a3").await.unwrap().unwrap().record;
    assert_eq!(a3.status, ApprovalStatus::Pending);
    let n = actions(s, "ta")
        .await
        .iter()
        .filter(|a| *a == "approval.expired")
        .count();
    assert_eq!(n, 2);
}

pub async fn list_is_newest_first_filtered_and_bounded(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    let ops = [
        ApprovalOperation::Read,
        ApprovalOperation::Delete,
        ApprovalOperation::LowerTier,
    ];
    for (i, op) in ops.into_iter().enumerate() {
        open(s, &request(&format!("a{i}"), &st.secret, &st.key.id, op, 1)).await;
    }
    vote(s, &st.approver, "a1", at(30)).await.unwrap();
    let ids = |v: Vec<keyhold_vault::store::ApprovalView>| {
        v.into_iter().map(|v| v.record.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(s.list_approvals("ta", None, None, None, 10).await.unwrap()),
        ["a2", "a1", "a0"]
    );
    assert_eq!(
        ids(s
            .list_approvals("ta", None, None, Some("a2"), 1)
            .await
            .unwrap()),
        ["a1"]
    );
    let pending = s
        .list_approvals("ta", Some(ApprovalStatus::Pending), None, None, 10)
        .await
        .unwrap();
    assert_eq!(ids(pending), ["a2", "a0"]);
    let col = format!("key:{}", st.key.id);
    assert_eq!(
        s.list_approvals("ta", None, Some(&col), None, 10)
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        s.list_approvals("ta", None, Some("key:other"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Approvers are owners, admins and approvers, not removed, not the excluded person; for
/// critical only those with confirmed 2FA.
pub async fn eligible_approvers_count_roles_and_2fa(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    crate::fixtures::member(s, "ta", "plain", Role::Member).await;
    assert_eq!(
        s.eligible_approvers("ta", Tier::Sensitive, "nobody")
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        s.eligible_approvers("ta", Tier::Sensitive, &st.owner.id)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.eligible_approvers("ta", Tier::Critical, "nobody")
            .await
            .unwrap(),
        0
    );
    crate::mfa::start_enrollment(s, &st.admin).await;
    let critical = s
        .eligible_approvers("ta", Tier::Critical, "nobody")
        .await
        .unwrap();
    assert_eq!(critical, 0, "a pending enrollment does not count");
    crate::mfa::enable(s, &st.admin).await;
    assert_eq!(
        s.eligible_approvers("ta", Tier::Critical, "nobody")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.eligible_approvers("ta", Tier::Critical, &st.admin.id)
            .await
            .unwrap(),
        0
    );
    s.remove_member("ta", &st.approver.id, at(5), ev("member.removed", "ta"))
        .await
        .unwrap();
    assert_eq!(
        s.eligible_approvers("ta", Tier::Sensitive, "nobody")
            .await
            .unwrap(),
        2
    );
}
