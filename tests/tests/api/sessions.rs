//! A person's own sessions (issue 22, item 9): listed with this one marked, and "sign out
//! everywhere else", which needs the sudo window, ends every other session at once (a
//! stolen one included), is audited and mails the person.

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_core::api::AuditQuery;
use keyhold_e2e::TestServer;

use crate::notices::notice;

#[tokio::test]
async fn sessions_are_listed_and_the_others_signed_out_in_the_sudo_window() {
    let ts = TestServer::start().await;
    let p = ts.person("sessions").await;
    let laptop = ts.login(&p.email, &p.password).await;
    let stranger = ts.person("sessions-other").await;

    let mine = p.client.sessions().await.unwrap();
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert_eq!(mine.iter().filter(|s| s.current).count(), 1);
    let from_laptop = laptop.sessions().await.unwrap();
    let current =
        |v: &[keyhold_core::api::SessionInfo]| v.iter().find(|s| s.current).map(|s| s.id.clone());
    assert_ne!(current(&mine), current(&from_laptop), "each marks its own");
    assert_eq!(stranger.client.sessions().await.unwrap().len(), 1);

    // Outside the sudo window: refused, nothing ends.
    ts.clock.advance(Duration::minutes(11));
    let late = p.client.end_other_sessions().await.unwrap_err();
    assert_eq!(late.code(), Some(ErrorCode::ReauthRequired), "{late:?}");
    assert_eq!(p.client.sessions().await.unwrap().len(), 2);
    laptop.me().await.expect("the other session still works");

    // Confirmed again: the laptop's session ends, this one and the stranger's stay.
    p.client.reauth(&p.password).await.unwrap();
    let ended = p.client.end_other_sessions().await.unwrap();
    assert_eq!(ended.ended, 1);
    let gone = laptop.me().await.unwrap_err();
    assert_eq!(gone.status(), Some(401), "{gone:?}");
    let left = p.client.sessions().await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].current);
    stranger
        .client
        .me()
        .await
        .expect("another person is untouched");

    let events = p
        .client
        .audit(&AuditQuery {
            action: Some("session.others_ended".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(events.len(), 1, "{events:?}");
    let mail = notice(&ts, &p.email, "your other sessions were signed out").await;
    assert!(!mail.contains(&p.password));
    ts.stop().await;
}
