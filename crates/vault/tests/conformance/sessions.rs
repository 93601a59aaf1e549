//! `SessionStore`: a session is found by its token's hash and by id, touched, and deleted
//! with its event; a person's sessions are listed, and all but one ended at once.

use keyhold_core::api::Role;
use keyhold_vault::store::SessionRecord;

use crate::fixtures::{S, actions, at, ev, member, session, tenant};

pub async fn session_found_by_hash_and_id_touched_and_deleted(s: &S) {
    let owner = tenant(s, "ta").await;
    let rec = session(s, &owner, "s1").await;
    assert_eq!(
        s.session_by_hash("hash-s1").await.unwrap(),
        Some(rec.clone())
    );
    assert_eq!(s.session("ta", "s1").await.unwrap(), Some(rec.clone()));
    assert_eq!(s.session_by_hash("hash-nope").await.unwrap(), None);
    s.touch_session("ta", "s1", at(60)).await.unwrap();
    let touched = s.session("ta", "s1").await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, at(60));
    assert_eq!(touched.created_at, rec.created_at);
    s.reauthenticate_session("ta", "s1", at(90), ev("auth.reauth", "ta"))
        .await
        .unwrap();
    assert_eq!(
        s.session("ta", "s1")
            .await
            .unwrap()
            .unwrap()
            .authenticated_at,
        at(90)
    );
    s.delete_session("ta", "s1", ev("auth.logout", "ta"))
        .await
        .unwrap();
    assert_eq!(s.session_by_hash("hash-s1").await.unwrap(), None);
    assert_eq!(
        actions(s, "ta").await,
        [
            "account.created",
            "auth.login",
            "auth.reauth",
            "auth.logout"
        ]
    );
}

/// Listing stays inside the person (not another member, not another tenant) and leaves out
/// sessions past their absolute end; ending the others keeps exactly the one named.
pub async fn sessions_listed_per_person_and_the_others_ended(s: &S) {
    let owner = tenant(s, "ta").await;
    let other = member(s, "ta", "ta-m", Role::Member).await;
    let stranger = tenant(s, "tb").await;
    let mut newer = session(s, &owner, "s1").await;
    newer.id = "s2".into();
    newer.created_at = at(10);
    s.create_session(newer.clone(), "hash-s2".into(), ev("auth.login", "ta"))
        .await
        .unwrap();
    let old = SessionRecord {
        id: "s3".into(),
        expires_at: at(5),
        ..newer.clone()
    };
    s.create_session(old, "hash-s3".into(), ev("auth.login", "ta"))
        .await
        .unwrap();
    session(s, &other, "s4").await;
    session(s, &stranger, "s5").await;
    let ids = |v: Vec<SessionRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.sessions_of("ta", &owner.id, at(6)).await.unwrap()),
        ["s2", "s1"],
        "newest first, the expired one left out"
    );
    assert!(
        s.sessions_of("tb", &owner.id, at(6))
            .await
            .unwrap()
            .is_empty()
    );
    let ended = s
        .delete_other_sessions("ta", &owner.id, "s2", ev("session.others_ended", "ta"))
        .await
        .unwrap();
    assert_eq!(ended, 2, "s1 and the expired s3");
    assert_eq!(
        ids(s.sessions_of("ta", &owner.id, at(6)).await.unwrap()),
        ["s2"]
    );
    assert!(s.session_by_hash("hash-s4").await.unwrap().is_some());
    assert!(s.session_by_hash("hash-s5").await.unwrap().is_some());
    assert_eq!(
        actions(s, "ta").await.last().map(String::as_str),
        Some("session.others_ended")
    );
}
