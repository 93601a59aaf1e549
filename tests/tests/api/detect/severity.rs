//! Severity on every audit event: stored, filterable in `/v1/audit`, the export and the
//! live feed.

use futures::StreamExt;
use keyhold_core::api::{AuditQuery, Severity};
use keyhold_e2e::TestServer;

#[tokio::test]
async fn severity_is_stored_and_filters_the_log_the_export_and_the_live_feed() {
    let ts = TestServer::start().await;
    let owner = ts.person("severity").await;
    let feed = reqwest::Client::new()
        .get(format!("{}/v1/audit/stream?severity=warning", ts.url()))
        .bearer_auth(owner.client.token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    // An info event (a sign-in) and a warning (a wrong password for the account).
    ts.login(&owner.email, keyhold_e2e::STRONG_PASSWORD).await;
    let r = ts
        .client()
        .login(&owner.email, "wrong password for this one")
        .await;
    assert!(r.is_err());

    let all = owner
        .client
        .audit(&AuditQuery::default())
        .await
        .unwrap()
        .items;
    let login_ok = all
        .iter()
        .find(|e| e.action == "auth.login" && e.outcome == "success")
        .unwrap();
    assert_eq!(login_ok.severity, Severity::Info);
    let warned = owner
        .client
        .audit(&AuditQuery {
            severity: Some(Severity::Warning),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert_eq!(
        (warned[0].action.as_str(), warned[0].outcome.as_str()),
        ("auth.login", "failure")
    );
    let critical = owner
        .client
        .audit(&AuditQuery {
            severity: Some(Severity::Critical),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(critical.items.is_empty());

    // The export: the filter, and the column in CSV.
    let body = reqwest::Client::new()
        .get(format!(
            "{}/v1/audit/export?format=json&severity=warning",
            ts.url()
        ))
        .bearer_auth(owner.client.token().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["severity"], "warning");
    let csv = owner.client.audit_export("csv").await.unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",severity"));
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.ends_with(",info") || l.ends_with(",warning"))
    );
    // A bad severity: 400, not a silent "all".
    let bad = reqwest::Client::new()
        .get(format!("{}/v1/audit?severity=loud", ts.url()))
        .bearer_auth(owner.client.token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // The live feed sent the warning and nothing of the info events around it.
    let mut chunks = feed.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let complete = |t: &str| {
        t.split("data:")
            .nth(1)
            .is_some_and(|rest| rest.contains('\n'))
    };
    while !complete(&text) && tokio::time::Instant::now() < deadline {
        if let Ok(Some(Ok(c))) =
            tokio::time::timeout(std::time::Duration::from_secs(1), chunks.next()).await
        {
            text.push_str(&String::from_utf8_lossy(&c));
        }
    }
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .expect("one event");
    let ev: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
    assert_eq!(ev["action"], "auth.login");
    assert_eq!(ev["severity"], "warning");
    // The feed is an open request: closed before the server stops.
    drop(chunks);
    ts.stop().await;
}
