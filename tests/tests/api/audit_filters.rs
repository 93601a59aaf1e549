//! The audit screen's server side: the actions a caller's log holds, and an export that
//! takes the same filters as a page (so "export this view" is what the screen shows).

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_core::api::{AuditEvent, AuditQuery};
use keyhold_e2e::{OTHER_STRONG_PASSWORD, STRONG_PASSWORD, TestServer};

fn parse(jsonl: &str) -> Vec<AuditEvent> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn actions_list_what_the_callers_log_holds() {
    let ts = TestServer::start().await;
    let a = ts.person("actions-a").await;
    let b = ts.person("actions-b").await;
    a.client
        .change_password(STRONG_PASSWORD, OTHER_STRONG_PASSWORD)
        .await
        .unwrap();
    b.client.request_email_verification().await.unwrap();

    let of_a = a.client.audit_actions().await.unwrap().actions;
    assert!(of_a.contains(&"password.changed".to_owned()), "{of_a:?}");
    assert!(of_a.contains(&"auth.login".to_owned()), "{of_a:?}");
    // Another tenant's actions never show, and the list is sorted without repeats.
    assert!(
        !of_a.contains(&"email.verification_sent".to_owned()),
        "{of_a:?}"
    );
    assert!(of_a.windows(2).all(|w| w[0] < w[1]), "{of_a:?}");
    let of_b = b.client.audit_actions().await.unwrap().actions;
    assert!(
        of_b.contains(&"email.verification_sent".to_owned()),
        "{of_b:?}"
    );
    assert!(!of_b.contains(&"password.changed".to_owned()), "{of_b:?}");
    // Every action of the page is in the list.
    let page = a.client.audit(&AuditQuery::default()).await.unwrap();
    assert!(page.items.iter().all(|e| of_a.contains(&e.action)));

    let err = ts.client().audit_actions().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn export_takes_the_filters_of_a_page() {
    let ts = TestServer::start().await;
    let p = ts.person("export-filters").await;
    assert!(
        ts.client()
            .login(&p.email, "wrong, wrong, wrong, wrong")
            .await
            .is_err()
    );
    p.client
        .change_password(STRONG_PASSWORD, OTHER_STRONG_PASSWORD)
        .await
        .unwrap();
    let all = parse(&p.client.audit_export("json").await.unwrap());
    assert!(all.iter().any(|e| e.action == "password.changed"));

    // By action: exactly the page's events, oldest first.
    let logins = AuditQuery {
        action: Some("auth.login".into()),
        ..Default::default()
    };
    let exported = parse(
        &p.client
            .audit_export_filtered("json", &logins)
            .await
            .unwrap(),
    );
    let mut paged = p.client.audit(&logins).await.unwrap().items;
    paged.reverse();
    assert_eq!(exported, paged);
    assert!(exported.len() >= 2 && exported.iter().all(|e| e.action == "auth.login"));

    // By actor and time (the server's clock may not be this machine's: the times come
    // from the log): the person's own events from the second one on; none after the last.
    let mine = AuditQuery {
        actor: Some(p.user_id.clone()),
        since: Some(all[1].at),
        ..Default::default()
    };
    let csv = p.client.audit_export_filtered("csv", &mine).await.unwrap();
    let want = all
        .iter()
        .filter(|e| e.at >= all[1].at && e.actor.id.as_deref() == Some(p.user_id.as_str()))
        .count();
    assert!(want >= 1);
    assert_eq!(csv.lines().count() - 1, want, "{csv}");
    assert!(csv.lines().skip(1).all(|l| l.contains(&p.user_id)), "{csv}");
    let later = AuditQuery {
        since: Some(all[all.len() - 1].at + Duration::seconds(1)),
        ..Default::default()
    };
    assert_eq!(
        p.client
            .audit_export_filtered("json", &later)
            .await
            .unwrap(),
        ""
    );

    // A range that ends before it starts is refused, by the export and by a page.
    let now = all[0].at;
    let backwards = AuditQuery {
        since: Some(now),
        until: Some(now - Duration::minutes(1)),
        ..Default::default()
    };
    let err = p
        .client
        .audit_export_filtered("json", &backwards)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some(ErrorCode::InvalidRequest))
    );
    let err = p.client.audit(&backwards).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
}
