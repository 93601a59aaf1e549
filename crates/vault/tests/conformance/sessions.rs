//! `SessionStore`: a session is found by its token's hash and by id, touched, and deleted
//! with its event.

use crate::fixtures::{S, actions, at, ev, session, tenant};

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
