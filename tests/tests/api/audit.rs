//! The audit log: events for actions and failures, append-only, hash-chained, filters,
//! cursor, export and the live tail.

use keyhold_core::ErrorCode;
use keyhold_core::api::AuditQuery;
use keyhold_e2e::db::Sql;
use keyhold_e2e::{OTHER_STRONG_PASSWORD, STRONG_PASSWORD, TestServer};

fn actions(page: &keyhold_core::api::Page<keyhold_core::api::AuditEvent>) -> Vec<(String, String)> {
    page.items
        .iter()
        .map(|e| (e.action.clone(), e.outcome.clone()))
        .collect()
}

#[tokio::test]
async fn every_action_and_failure_is_recorded() {
    let ts = TestServer::start().await;
    let p = ts.person("audited").await;
    // A failure, a password change, a verification, a logout from a second session.
    assert!(
        ts.client()
            .login(&p.email, "definitely not the right one")
            .await
            .is_err()
    );
    p.client
        .change_password(STRONG_PASSWORD, OTHER_STRONG_PASSWORD)
        .await
        .unwrap();
    assert!(
        p.client
            .change_password("wrong current password!!", STRONG_PASSWORD)
            .await
            .is_err()
    );
    p.client.request_email_verification().await.unwrap();
    let token = ts.mailed_token(&p.email, "/verify-email").await.unwrap();
    ts.client().verify_email(&token).await.unwrap();
    let second = ts.login(&p.email, OTHER_STRONG_PASSWORD).await;
    second.logout().await.unwrap();

    let page = p.client.audit(&AuditQuery::default()).await.unwrap();
    let got = actions(&page);
    for expected in [
        ("member.joined", "success"),
        ("auth.login", "success"),
        ("auth.login", "failure"),
        ("password.changed", "success"),
        ("password.changed", "failure"),
        ("email.verification_sent", "success"),
        ("email.verified", "success"),
        ("auth.logout", "success"),
    ] {
        assert!(
            got.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "missing {expected:?} in {got:?}"
        );
    }
    // Newest first, microsecond times, client address and agent recorded.
    assert_eq!(page.items[0].action, "auth.logout");
    let e = &page.items[0];
    assert_eq!(e.ip.as_deref(), Some("127.0.0.1"));
    assert!(
        e.user_agent
            .as_deref()
            .unwrap()
            .starts_with("keyhold-client/")
    );
    assert_eq!(e.actor.kind, "user");
    assert_eq!(e.actor.id.as_deref(), Some(p.user_id.as_str()));
    // No password ever appears in the log.
    let dump = serde_json::to_string(&page).unwrap();
    assert!(!dump.contains(STRONG_PASSWORD) && !dump.contains(OTHER_STRONG_PASSWORD));
    assert!(!dump.contains(&token));
}

#[tokio::test]
async fn filters_and_cursor_walk_the_log() {
    let ts = TestServer::start().await;
    let p = ts.person("pages").await;
    for _ in 0..7 {
        let c = ts.login(&p.email, STRONG_PASSWORD).await;
        c.logout().await.unwrap();
    }
    let logins = p
        .client
        .audit(&AuditQuery {
            action: Some("auth.login".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(logins.items.len(), 8);
    assert!(logins.items.iter().all(|e| e.action == "auth.login"));

    let prefix = p
        .client
        .audit(&AuditQuery {
            action: Some("auth.*".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(prefix.items.len(), 15);

    // Page through 3 at a time: every event exactly once, newest first.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = p
            .client
            .audit(&AuditQuery {
                limit: Some(3),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|e| e.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 16);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));

    for bad in [
        AuditQuery {
            limit: Some(0),
            ..Default::default()
        },
        AuditQuery {
            limit: Some(501),
            ..Default::default()
        },
        AuditQuery {
            cursor: Some("garbage".into()),
            ..Default::default()
        },
    ] {
        let err = p.client.audit(&bad).await.unwrap_err();
        assert_eq!(err.status(), Some(400), "{bad:?}");
    }
}

#[tokio::test]
async fn tenants_see_only_their_own_events() {
    let ts = TestServer::start().await;
    let a = ts.person("tenant-a").await;
    let b = ts.person("tenant-b").await;
    let seen = a.client.audit(&AuditQuery::default()).await.unwrap();
    assert!(
        seen.items
            .iter()
            .all(|e| e.actor.id.as_deref() != Some(b.user_id.as_str()))
    );
    let by_actor = a
        .client
        .audit(&AuditQuery {
            actor: Some(b.user_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(by_actor.items.is_empty());
}

#[tokio::test]
async fn the_database_refuses_update_and_delete_and_verify_finds_edits() {
    let ts = TestServer::start().await;
    let p = ts.person("tamper").await;
    let c2 = ts.login(&p.email, STRONG_PASSWORD).await;
    c2.logout().await.unwrap();
    let v = p.client.audit_verify().await.unwrap();
    assert!(v.ok);
    assert_eq!(v.checked, 4);

    // Even the database's administrator (PostgreSQL's superuser) is refused.
    let db = ts.admin_db().await;
    let upd = db
        .try_execute("UPDATE audit_events SET outcome = 'failure'", &[])
        .await;
    assert!(upd.unwrap_err().contains("append-only"));
    let del = db.try_execute("DELETE FROM audit_events", &[]).await;
    assert!(del.unwrap_err().contains("append-only"));

    // Someone with write access drops the trigger and edits a row behind the server's back.
    let page = p.client.audit(&AuditQuery::default()).await.unwrap();
    let victim = page
        .items
        .iter()
        .find(|e| e.action == "auth.logout")
        .unwrap()
        .id;
    db.batch(Sql::per_store(
        "DROP TRIGGER audit_events_no_update",
        "DROP TRIGGER audit_events_no_update ON audit_events",
    ))
    .await;
    let edited = db
        .execute(
            "UPDATE audit_events SET ip = '203.0.113.9' WHERE id = ?1",
            &[&victim],
        )
        .await;
    assert_eq!(edited, 1);
    let v = p.client.audit_verify().await.unwrap();
    assert!(!v.ok);
    assert_eq!(v.first_bad, Some(victim));
}

#[tokio::test]
async fn export_streams_json_lines_and_csv() {
    let ts = TestServer::start().await;
    let p = ts.person("export").await;
    assert!(
        ts.client()
            .login(&p.email, "wrong, wrong, wrong, wrong")
            .await
            .is_err()
    );
    let jsonl = p.client.audit_export("json").await.unwrap();
    let events: Vec<keyhold_core::api::AuditEvent> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 3);
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "oldest first");

    let csv = p.client.audit_export("csv").await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,at,actor_type,actor_id,action,target,outcome,ip,user_agent,detail,severity")
    );
    assert_eq!(lines.count(), 3);
    assert!(
        csv.contains("auth.login") && csv.contains("\"{\"\"reason\"\":\"\"bad_credentials\"\"}\"")
    );

    let err = p.client.audit_export("xml").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));
}

#[tokio::test]
async fn live_tail_delivers_new_events() {
    let ts = TestServer::start().await;
    let p = ts.person("tail").await;
    let mut stream = p.client.audit_stream().await.unwrap();
    let other = ts.login(&p.email, STRONG_PASSWORD).await;
    let ev = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .expect("an event within 5 s")
        .unwrap()
        .unwrap();
    assert_eq!(ev.event.as_deref(), Some("audit"));
    let e: keyhold_core::api::AuditEvent = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(e.action, "auth.login");
    other.logout().await.unwrap();
    let ev = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let e: keyhold_core::api::AuditEvent = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(e.action, "auth.logout");
    // The tail is one long response: signing out its own session ends it, and it carries
    // nothing from after that.
    p.client.logout().await.unwrap();
    let rest = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let mut rest = Vec::new();
        while let Some(ev) = stream.next().await {
            rest.push(ev.unwrap().data);
        }
        rest
    })
    .await
    .expect("the tail ends within 5 s of signing out");
    assert!(rest.is_empty(), "events after the sign-out: {rest:?}");
}
